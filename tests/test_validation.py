"""Validation against published measurements (issue 7)."""

import json

import pytest

from roofline.outputs.cli import main
from roofline.validation import load_measurements, validate


@pytest.fixture(scope="module")
def results():
    return validate()


def test_data_set_is_sourced_and_large_enough():
    rows = load_measurements()
    assert len(rows) >= 25
    cats = {r["category"] for r in rows}
    assert {"membw", "gemm", "llm-decode", "llm-throughput", "wafer-inference"} <= cats
    for r in rows:
        assert r["source_url"].startswith("http") and r["source_title"], r["id"]
        assert r["device"] and r["metric"] and r["value"] > 0, r["id"]
    assert len({r["id"] for r in rows}) == len(rows)


def test_no_measurement_beats_its_ideal_bound(results):
    # a violation is a bug in the model or a spec; speculative rows are compared against a speculative bound
    bad = [(r["id"], r.get("efficiency_ideal")) for r in results if r.get("violation")]
    assert bad == []
    for r in results:
        assert "error" not in r, (r["id"], r.get("error"))
        assert r["efficiency_ideal"] <= 1.0, r["id"]


def test_speculative_rows_are_flagged(results):
    spec = {r["id"] for r in results if r["speculative"]}
    assert "wse3-llama3.1-70b-2100-speculative-oct2024" in spec
    assert "h200x8-llama-3.1-70b-medusa-speculative-nvidia" in spec


def _gpu_decode(results):
    return [r for r in results if r["category"] == "llm-decode" and r["metric"] == "tokens_per_s_per_user"
            and r["device"] in ("a100", "h100", "h200", "b200") and not r["speculative"] and (r["batch"] or 1) <= 4]


def test_gpu_small_batch_decode_efficiency_band(results):
    # Documented band (docs/validation.md): bandwidth-bound GPU decode reaches 15-85 % of the ideal bound;
    # unquantised single-GPU runs (gpt-fast / torchao BF16) reach 50-80 %, like the model-bandwidth
    # utilisation figures engineering blogs report.
    rows = _gpu_decode(results)
    assert len(rows) >= 8
    for r in rows:
        assert 0.15 <= r["efficiency_ideal"] <= 0.85, (r["id"], r["efficiency_ideal"])
        assert r["bound_term"] == "memory:hbm", r["id"]
    bf16 = [r for r in rows if r["weight_dtype"] in ("", "bf16", "fp16") and (r["device_count"] or 1) == 1]
    assert len(bf16) >= 3
    for r in bf16:
        assert 0.5 <= r["efficiency_ideal"] <= 0.8, (r["id"], r["efficiency_ideal"])


def test_latency_terms_close_part_of_the_gap(results):
    for r in _gpu_decode(results):
        # the latency bound lies between the roofline and the estimate, in speed
        assert r["efficiency_ideal"] - 1e-12 <= r["efficiency_latency"] <= r["ratio_estimate"] + 1e-12, r["id"]
    # for a 70B model on 8 GPUs with tensor parallelism, the all-reduce and launch latencies matter most
    tp8 = next(r for r in results if r["id"] == "a100x8-llama2-70b-tp8-base-gptfast")
    assert tp8["ratio_estimate"] > 1.2 * tp8["efficiency_ideal"]


def test_hbm_bandwidth_microbenchmarks_below_datasheet(results):
    for r in results:
        if r["category"] == "membw":
            assert 0.75 <= r["efficiency_ideal"] <= 1.0, r["id"]


def test_cli_validate(capsys):
    assert main(["validate", "--category", "membw"]) == 0
    out = capsys.readouterr().out
    assert "h100-hbm-copy-azure-benchguide" in out and "0 beat their ideal bound" in out
    assert main(["validate", "--format", "json", "--category", "gemm"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert rows and all(r["category"] == "gemm" for r in rows)
    assert {"bound_ideal", "bound", "efficiency_ideal", "efficiency"} <= set(rows[0])


def test_bad_measurement_file_is_a_user_error(tmp_path, capsys):
    p = tmp_path / "m.csv"
    p.write_text("id,value\nx,1\n")
    assert main(["validate", "--data", str(p)]) == 2
    assert "missing column" in capsys.readouterr().err
