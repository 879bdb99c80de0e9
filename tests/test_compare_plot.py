"""compare, sweep and charts (issue 5)."""

import json
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

import roofline
from roofline import llm
from roofline.outputs.cli import main
from roofline.outputs.compare import compare, comparison_rows


@pytest.fixture(scope="module")
def wse3_h100():
    return compare(["wse3", "h100"])


def _row(rows, name):
    return next(r for r in rows if r.get("quantity", r.get("workload")) == name)


def test_compare_figures_and_ratio(wse3_h100):
    bf16 = _row(wse3_h100["specs"], "BF16 dense")
    w, h = bf16["values"]["wse3"]["value"], bf16["values"]["h100"]["value"]
    assert h == 989.4e12
    assert bf16["ratio_vs_first"]["h100"] == pytest.approx(w / h)
    ridge = _row(wse3_h100["specs"], "ridge point (BF16, main)")
    assert ridge["values"]["h100"]["value"] == pytest.approx(989.4 / 3.35)
    eff = _row(wse3_h100["specs"], "BF16 per watt")
    assert eff["values"]["h100"]["value"] == pytest.approx(989.4e12 / 700)   # 1.41 TFLOP/s per W
    link = _row(wse3_h100["specs"], "link to other devices")
    assert link["values"]["h100"]["value"] == 450e9 and link["values"]["wse3"]["value"] == 150e9


def test_compare_default_workloads(wse3_h100):
    names = [r["workload"] for r in wse3_h100["workloads"]]
    assert names[:2] == ["GEMM 8192³ time", "GEMV 8192² time"]
    assert "llama-3.1-8b tokens/s/user" in names and "llama-3.1-70b first token" in names
    gemm = _row(wse3_h100["workloads"], "GEMM 8192³ time")
    # the estimate: 2 x 8192^3 FLOP at the H100's measured BF16 ceiling (794.5 TFLOP/s, stas00 MAMF table),
    # plus one 2.5 us kernel launch on top
    assert gemm["values"]["h100"]["value"] == pytest.approx(2 * 8192**3 / 794.5e12 + 2.5e-6, rel=1e-6)
    assert gemm["values"]["h100"]["bound"] == "compute"
    dec = _row(wse3_h100["workloads"], "llama-3.1-70b tokens/s/user")
    assert dec["values"]["wse3"]["devices_used"] == 4 and dec["values"]["h100"]["devices_used"] == 2
    # time rows: ratio = other's time / first's time
    assert gemm["ratio_vs_first"]["h100"] == pytest.approx(gemm["values"]["h100"]["value"] / gemm["values"]["wse3"]["value"])


def test_compare_estimate_device_shows_ranges():
    res = compare(["ai5", "h100"], models=["llama-3.1-8b"])
    dec = _row(res["workloads"], "llama-3.1-8b tokens/s/user")
    lo, hi = dec["values"]["ai5"]["range"]
    assert lo < dec["values"]["ai5"]["value"] < hi
    specs, loads = comparison_rows(res)
    assert "–" in _row([{"quantity": r["figure"], **r} for r in specs], "BF16 dense")["ai5"]


def test_compare_table_fits_100_columns(capsys):
    assert main(["compare", "wse3", "h100"]) == 0
    out = capsys.readouterr().out
    assert max(len(line) for line in out.splitlines()) <= 100
    assert "wse3" in out and "h100" in out and "ratio" in out


@pytest.mark.parametrize("fmt", ["markdown", "csv", "json"])
def test_compare_formats(capsys, fmt):
    assert main(["compare", "wse3", "h100", "--model", "llama-2-7b", "--batch", "4", "--context", "1024",
                 "--format", fmt]) == 0
    out = capsys.readouterr().out
    if fmt == "json":
        d = json.loads(out)
        assert [x["key"] for x in d["devices"]] == ["wse3", "h100"] and d["batch"] == 4
        assert any("llama-2-7b" in r["workload"] for r in d["workloads"])
    else:
        assert "llama-2-7b" in out


@pytest.mark.parametrize("argv, message", [
    (["compare", "wse3"], "at least two devices"),
    (["compare", "wse3", "h1000"], "did you mean 'h100'"),
    (["compare", "wse3", "h100", "--dtype", "fp64"], "publish no fp64 peak"),
    (["compare", "wse3", "h100", "--plot", "chart.gif"], ".png, .svg or .pdf"),
    (["compare", "wse3", "h100", "--model", "llama-9"], "unknown model"),
])
def test_compare_errors(capsys, argv, message):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1


def test_compare_does_not_import_matplotlib():
    code = ("import sys; from roofline.outputs.cli import main; main(['compare', 'wse3', 'h100', '--format', 'json']); "
            "print('MPL' if 'matplotlib' in sys.modules else 'NOMPL', file=sys.stderr)")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert r.returncode == 0 and r.stderr.strip().endswith("NOMPL")


@pytest.mark.parametrize("ext", ["png", "svg", "pdf"])
def test_compare_plot_files(tmp_path, capsys, ext):
    out = tmp_path / f"c.{ext}"
    assert main(["compare", "wse3", "h100", "--plot", str(out)]) == 0
    assert out.stat().st_size > 1000


# ---------------------------------------------------------------------------------------------------
# charts: inspect the Figure's artists
# ---------------------------------------------------------------------------------------------------
def test_roofline_chart_series_and_labels():
    from roofline.outputs import plot

    pts = [{"intensity": 1.0, "flops_per_s": 3.35e12, "label": "GEMV", "device": "h100", "bound": "memory:hbm"}]
    fig = plot.roofline_chart(["wse3", "h100"], dtypes=["bf16"], points=pts)
    ax = fig.axes[0]
    labels = [line.get_label() for line in ax.lines]
    assert "h100 bf16 · hbm" in labels and "h100 bf16 · l2" in labels and "wse3 bf16 · sram" in labels
    assert ax.get_xscale() == "log" and ax.get_yscale() == "log"
    assert "[FLOP/B]" in ax.get_xlabel() and "[FLOP/s]" in ax.get_ylabel()
    assert any("GEMV" in t.get_text() and "hbm" in t.get_text() for t in ax.texts)
    # the same device has the same colour on every chart
    hbm = next(line for line in ax.lines if line.get_label() == "h100 bf16 · hbm")
    assert hbm.get_color() == plot.device_color("h100")
    # the H100 HBM ceiling: min(989.4e12, 3.35e12 x I)
    x, y = hbm.get_data()
    assert y[np.argmin(abs(x - 1.0))] == pytest.approx(3.35e12 * x[np.argmin(abs(x - 1.0))])
    assert y.max() == pytest.approx(989.4e12)


def test_compare_chart_bars(wse3_h100):
    from roofline.outputs import plot

    fig = plot.compare_chart(wse3_h100)
    ax = fig.axes[0]
    ticks = [t.get_text() for t in ax.get_yticklabels()]
    assert "BF16 dense" in ticks and "GEMM 8192³ time" in ticks
    assert ax.get_xscale() == "log"
    assert any(p.get_facecolor()[:3] == pytest.approx(tuple(int(plot.device_color("h100")[i:i + 2], 16) / 255
                                                          for i in (1, 3, 5))) for p in ax.patches)


def test_sweep_and_frontier_charts():
    from roofline.outputs import plot

    df = llm.decode_sweep("llama-3.1-8b", ["h100", "b200"], batch=[1, 4, 16, 64], context=[2048])
    fig = plot.sweep_chart(df)
    ax = fig.axes[0]
    # a system is named with its device count (issue 19: 2 × H200 against 1 × B200 must not look like chips)
    assert {line.get_label() for line in ax.lines} == {"1 × h100", "1 × b200"}
    assert ax.get_ylabel() == "tokens/s per user"
    fr = [llm.frontier("llama-3.1-70b", "h100", devices=8), llm.frontier("llama-3.1-70b", "wse3")]
    fig = plot.frontier_chart(fr)
    assert [line.get_label() for line in fig.axes[0].lines] == ["8 × h100 · llama-3.1-70b", "4 × wse3 · llama-3.1-70b"]
    with pytest.raises(roofline.InputError, match="no column"):
        plot.sweep_chart(df, y="nope")


def test_growth_per_two_years_hand_check():
    from roofline.formulas import growth_per_two_years

    # values tripling every two years: 1, 3, 9 at 2016, 2018, 2020
    assert growth_per_two_years([2016, 2018, 2020], [1, 3, 9]) == pytest.approx(3.0)
    # doubling every year = 4x per two years
    assert growth_per_two_years([2000, 2001, 2002, 2003], [1, 2, 4, 8]) == pytest.approx(4.0)


def test_memory_wall_chart_from_the_sourced_file():
    from roofline.outputs import plot

    data = plot.load_trends()
    assert data["reference"]["compute_growth_per_2y"] == 3.0
    assert data["reference"]["dram_bandwidth_growth_per_2y"] == 1.6
    assert data["reference"]["interconnect_bandwidth_growth_per_2y"] == 1.4
    h100 = next(p for p in data["points"] if "H100" in p["device"])
    assert h100["peak_flops_per_s"] == pytest.approx(989.4e12, rel=0.01)   # dense, not sparse
    assert h100["dram_bandwidth_bytes_per_s"] == pytest.approx(3.35e12)
    fig = plot.memory_wall_chart()
    labels = [line.get_label() for line in fig.axes[0].lines if not line.get_label().startswith("_")]
    assert any("Gholami et al.: 3.0×" in s for s in labels)
    assert any("DRAM bandwidth" in s and "1.6×" in s for s in labels)


@pytest.mark.parametrize("argv", [
    ["roofline", "wse3", "h100", "--model", "llama-3.1-8b"],
    ["compare", "wse3", "h100"],
    ["sweep", "--model", "llama-3.1-8b", "--device", "h100", "wse3", "--batch", "1:16"],
    ["frontier", "wse3", "8xh100", "--model", "llama-3.1-70b"],
    ["memory-wall"],
])
@pytest.mark.parametrize("ext", ["png", "svg", "pdf"])
def test_plot_command_writes_each_format(tmp_path, capsys, argv, ext):
    out = tmp_path / f"chart.{ext}"
    assert main(["plot", *argv, "--out", str(out)]) == 0
    head = out.read_bytes()[:8]
    assert {"png": b"\x89PNG", "svg": b"<?xml", "pdf": b"%PDF"}[ext] in head or (ext == "svg" and b"<svg" in out.read_bytes()[:400])


# ---------------------------------------------------------------------------------------------------
# sweep command
# ---------------------------------------------------------------------------------------------------
def test_sweep_command_csv_and_parquet(tmp_path, capsys):
    csv = tmp_path / "s.csv"
    assert main(["sweep", "--model", "llama-3.1-8b", "--device", "h100", "wse3", "--batch", "1:64",
                 "--context", "1024,8192", "--dtype", "bf16,fp8", "--out", str(csv)]) == 2  # wse3 has no fp8
    assert "no published fp8 peak" in capsys.readouterr().err
    assert main(["sweep", "--model", "llama-3.1-8b", "--device", "h100", "wse3", "--batch", "1:64",
                 "--context", "1024,8192", "--out", str(csv), "--plot", str(tmp_path / "s.png")]) == 0
    df = pd.read_csv(csv)
    # batch 1:64 -> 1, 2, 4, ..., 64 (7 values) x 2 contexts x 2 devices
    assert len(df) == 7 * 2 * 2
    assert sorted(df.batch.unique()) == [1, 2, 4, 8, 16, 32, 64]
    assert (tmp_path / "s.png").exists()
    pq = tmp_path / "s.parquet"
    assert main(["sweep", "--model", "llama-3.1-70b", "--device", "h100", "--batch", "1:1024:5", "--devices", "4,8",
                 "--dtype", "bf16,fp8", "--out", str(pq)]) == 0
    df = pd.read_parquet(pq)
    assert set(df.devices) == {4, 8} and set(df.dtype) == {"bf16", "fp8"} and df.batch.nunique() == 5


@pytest.mark.parametrize("spec, expected", [
    ("1:1024", [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024]),
    ("3:20", [3, 4, 8, 16, 20]),
    ("1:64:+16", [1, 17, 33, 49]),
    ("1,8,64", [1, 8, 64]),
    ("1:100:3", [1, 10, 100]),
])
def test_grid_syntax(spec, expected):
    from roofline.outputs.cli.args import int_grid

    assert int_grid(spec) == expected


@pytest.mark.parametrize("spec", ["0:10", "10:1", "a:b", "1.5", "1,-2", ""])
def test_bad_grid_syntax(capsys, spec):
    assert main(["sweep", "--model", "llama-3.1-8b", "--device", "h100", "--batch", spec]) == 2
    assert "positive integers" in capsys.readouterr().err
