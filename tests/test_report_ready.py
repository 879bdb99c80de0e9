"""Report-ready outputs (issue 19): tables machines can read, charts that cannot mislead, the Python API
and the command-line conventions. Each test names the finding it guards."""

import io
import json
import re

import numpy as np
import pandas as pd
import pytest

from roofline.outputs.cli import main
from roofline.outputs.format import human, human_range, render

# a number followed by a unit prefix or unit, as people write it: "40.07 µs", "15.8 PFLOP/s", "3,000×"
_HUMAN = re.compile(r"\d\s*(?:[kMGTPEmµnp]?(?:s|B/s|FLOP/s|B|W|J)\b|×)|\d,\d{3}")


def _csv(capsys, argv):
    assert main([*argv, "--format", "csv"]) == 0
    text = capsys.readouterr().out
    return pd.read_csv(io.StringIO(text)), text


# ---------------------------------------------------------------------------------------------------
# machine-readable formats
# ---------------------------------------------------------------------------------------------------
_NUMERIC = {
    ("show", "h100"): ["value", "low", "high"],
    ("llm", "--model", "llama-3.1-8b", "--device", "ai5"): ["tpot_s", "tpot_s_low", "tpot_s_high", "ttft_s",
                                                            "tokens_per_s_per_user", "weights_bytes"],
    ("gemm", "--device", "h100", "--m", "4096", "--n", "4096", "--k", "4096"): ["time_s", "flops", "bytes",
                                                                                "attainable_flops_per_s"],
    ("compare", "wse3", "ai5", "--model", "llama-3.1-8b"): ["value", "low", "high", "ratio_vs_first"],
    ("validate",): ["value", "bound_ideal", "efficiency_ideal"],
    ("list",): ["bf16_dense_flops_per_s", "main_memory_bandwidth_bytes_per_s"],
    ("models",): ["params", "active_params"],
}


@pytest.mark.parametrize("argv", list(_NUMERIC), ids=lambda a: a[0])
def test_every_commands_csv_reads_into_numbers(capsys, argv):
    # finding: --format csv of show, llm, gemm, compare and validate held "40.07 µs", "15.8 PFLOP/s (14.4–17.3)"
    df, text = _csv(capsys, list(argv))
    for col in _NUMERIC[argv]:
        assert pd.api.types.is_numeric_dtype(df[col]), (argv, col, df[col].head().tolist())
    # every column whose name says a unit holds numbers (or nothing)
    unit_cols = [c for c in df.columns if re.search(r"(_s|_bytes|_per_s|_j|_w|flops|_low|_high)$", c)
                 and not c.startswith(("source", "links"))]
    for col in unit_cols:
        assert pd.api.types.is_numeric_dtype(df[col]) or df[col].isna().all(), (argv, col)
    assert not any(_HUMAN.search(str(v)) for c in unit_cols for v in df[c].dropna())


def test_show_csv_holds_si_numbers_by_hand(capsys):
    df, _ = _csv(capsys, ["show", "h100"])
    hbm = df[df.figure == "memory.hbm.bandwidth"].iloc[0]
    assert hbm.value == 3.35e12 and hbm.unit == "B/s"   # NVIDIA H100 SXM datasheet: 3.35 TB/s


def test_llm_csv_value_matches_its_json(capsys):
    df, _ = _csv(capsys, ["llm", "--model", "llama-3.1-8b", "--device", "h100"])
    assert main(["llm", "--model", "llama-3.1-8b", "--device", "h100", "--format", "json"]) == 0
    rec = json.loads(capsys.readouterr().out)
    assert df.tpot_s.iloc[0] == pytest.approx(rec["tpot_s"])
    assert df["decode_terms_s.memory:hbm"].iloc[0] == pytest.approx(rec["decode_terms_s"]["memory:hbm"])


def test_compare_csv_is_one_table_and_table_option(capsys):
    # finding: compare --format csv wrote two tables into one stream
    df, text = _csv(capsys, ["compare", "wse3", "h100", "--model", "llama-3.1-70b"])
    assert "\n\n" not in text.strip()
    assert set(df.table) == {"specs", "workloads"}
    row = df[(df.quantity == "llama-3.1-70b tokens/s/user") & (df.device == "wse3")].iloc[0]
    assert row.devices_used == 4   # 140 GB of BF16 weights over 44 GB of SRAM per wafer: 4 wafers
    spec, _ = _csv(capsys, ["compare", "wse3", "h100", "--table", "specs"])
    assert set(spec.table) == {"specs"}
    h = spec[(spec.quantity == "main memory BW") & (spec.device == "h100")].iloc[0]
    assert h.value == 3.35e12 and h.unit == "B/s"
    assert main(["compare", "wse3", "h100", "--table", "workloads", "--format", "markdown"]) == 0
    out = capsys.readouterr().out
    assert "GEMM" in out and "BF16 dense" not in out


def test_validate_ids_are_never_cut(capsys):
    # finding: validate cut ids at 44 characters
    from roofline.validation.bounds import validate

    longest = max((r["id"] for r in validate()), key=len)
    assert len(longest) > 44
    df, _ = _csv(capsys, ["validate"])
    assert longest in set(df.id)
    assert main(["validate"]) == 0
    assert longest in capsys.readouterr().out


def test_ranges_keep_one_prefix_and_bytes_per_flop_has_none():
    # finding: "1.9 mB/FLOP (0.00072–0.0092)": the value in milli, its range in units, and mB reads as megabytes
    text = human_range(0.0019, 0.00072, 0.0092, "B/FLOP")
    assert text == "0.0019 B/FLOP (0.00072–0.0092)"
    assert human(3.39e-3, "B/FLOP") == "0.00339 B/FLOP"
    # a range end past 1000 of the value's prefix is written out, not as 1.21e+03
    assert human_range(0.316, 0.254, 1.21, "s") == "316 ms (254–1,210)"
    assert human_range(15.84e15, 14.4e15, 17.28e15, "FLOP/s") == "15.8 PFLOP/s (14.4–17.3)"


def test_latex_format(capsys):
    assert main(["compare", "wse3", "h100", "--format", "latex"]) == 0
    out = capsys.readouterr().out
    assert r"\begin{tabular}" in out and r"\toprule" in out and "wse3" in out
    assert render([{"a_b": "50%"}], "latex").count(r"\%") == 1   # special characters escaped
