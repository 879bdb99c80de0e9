"""``roofline calibrate`` on the CPU with small sizes: it measures, writes a spec that loads, and compares."""

from __future__ import annotations

import json

import pytest

from roofline.hardware.calibrate import calibrate, comparison, spec_text
from roofline.hardware.library import get_device
from roofline.hardware.loader import load_spec_file
from roofline.hardware.measured import ceilings, measured
from roofline.outputs.cli import main

SMALL = dict(array_bytes=2 * 2**20, matmul_n=64, repeats=3, prefer_gpu=False)


@pytest.fixture(scope="module")
def cal():
    return calibrate(**SMALL)


def test_calibration_measures_every_kernel_with_its_repeats(cal):
    assert cal.backend == "numpy"
    assert set(cal.memory) == {"copy", "triad"} and {"fp64", "fp32"} <= set(cal.matmul)
    assert all(len(v) == 3 and all(x > 0 for x in v) for v in [*cal.memory.values(), *cal.matmul.values()])
    assert cal.versions["numpy"] and cal.date


def test_host_spec_loads_with_measured_figures(cal, tmp_path):
    p = tmp_path / "host.toml"
    p.write_text(spec_text(cal, key="host-ci"))
    dev = load_spec_file(p)
    assert dev.key == "host-ci"
    m = measured(dev)
    assert m["memory.dram.bandwidth"].basis == "measured" and m["memory.dram.bandwidth"].date == cal.date
    assert "numpy" in m["compute.fp64.dense"].software
    # the estimate uses the measured rate (at most the spec's own figure)
    assert ceilings(dev)["memory.dram.bandwidth"].value <= dev.main_memory.bandwidth_bytes_per_s


def test_overlay_of_a_known_device_keeps_its_datasheet(cal, tmp_path):
    h100 = get_device("h100")
    p = tmp_path / "h100c.toml"
    p.write_text(spec_text(cal, h100))
    dev = load_spec_file(p)
    assert dev.key == "h100-calibrated"
    assert dev.peak("bf16") == h100.peak("bf16")  # datasheet figures untouched
    assert measured(dev)["memory.hbm.bandwidth"].sources == ("calibrate",)  # the published ones replaced


def test_comparison_sets_medians_against_the_datasheet(cal):
    rows = {r["measurement"]: r for r in comparison(cal, get_device("h100"))}
    assert rows["memory copy"]["datasheet"] == 3.35e12  # H100 SXM datasheet: 3.35 TB/s
    assert rows["matmul fp64"]["datasheet"] == 34e12    # H100 SXM datasheet: 34 TFLOP/s FP64


def test_cli_calibrate_writes_a_spec_that_compare_reads(tmp_path, capsys):
    out = tmp_path / "h100c.toml"
    code = main(["calibrate", "--device", "h100", "--out", str(out), "--size-mib", "2", "--matmul-n", "64",
                 "--repeats", "3", "--cpu"])
    text = capsys.readouterr().out
    assert code == 0 and "memory triad" in text and out.exists()
    code = main(["compare", "h100", "h100-calibrated", "--spec", str(out), "--format", "json"])
    assert code == 0 and json.loads(capsys.readouterr().out)


def test_cli_calibrate_refuses_bad_sizes(capsys):
    assert main(["calibrate", "--repeats", "0"]) == 2
    assert "positive" in capsys.readouterr().err
