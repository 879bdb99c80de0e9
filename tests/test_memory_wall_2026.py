"""The memory wall through 2026 (issue 14): the new devices' datasheet points, announced parts marked and kept
out of the fit, labelled points, and the SRAM machines' on-chip bytes per FLOP beside the DRAM one."""

import pytest

from roofline.errors import SpecError
from roofline.hardware.trends import load_trends


def _by_label(points):
    return {p["label"]: p for p in points}


def test_the_new_accelerators_are_datasheet_points_from_their_specs():
    pts = _by_label(load_trends()["points"])
    assert {"B300", "MI325X", "MI355X", "TPU v7", "Rubin", "MI455X"} <= set(pts)
    # NVIDIA HGX B300: 2.25 PFLOP/s dense BF16 (4.5 sparse), 7.7 TB/s HBM3e (hardware_specs/b300.toml)
    assert pts["B300"]["peak_flops_per_s"] == pytest.approx(2.25e15)
    assert pts["B300"]["dram_bandwidth_bytes_per_s"] == pytest.approx(7.7e12)
    # AMD CDNA 4 white paper, Table 2: MI355X 8.0 TB/s HBM3E
    assert pts["MI355X"]["dram_bandwidth_bytes_per_s"] == pytest.approx(8.0e12)
    # AMD MI325X: the MI300X's 1,307.4 TFLOP/s dense BF16 with 6 TB/s HBM3E
    assert pts["MI325X"]["peak_flops_per_s"] == pytest.approx(1307.4e12)
    assert pts["MI325X"]["dram_bandwidth_bytes_per_s"] == pytest.approx(6.0e12)
    assert all("hardware_specs/" in pts[k]["source"] for k in ("B300", "MI355X", "TPU v7"))


def test_announced_parts_are_marked_and_left_out_of_the_growth_fit(tmp_path):
    pts = _by_label(load_trends()["points"])
    assert pts["Rubin"]["status"] == pts["MI455X"]["status"] == "announced"
    assert pts["B300"]["status"] == "released"
    from roofline.outputs import plot

    # values tripling every two years, and an announced part far above the line: the fit stays 3.00x
    wall = tmp_path / "wall.toml"
    wall.write_text('schema = 1\n[reference]\ncompute_growth_per_2y = 3.0\n' + "".join(
        f'[[point]]\ndevice = "d{i}"\nyear = {2016 + 2 * i}\npeak_flops = "{3**i} TFLOP/s"\n' for i in range(3))
        + '[[point]]\ndevice = "future"\nstatus = "announced"\nyear = 2022\npeak_flops = "1000 TFLOP/s"\n')
    ax = plot.memory_wall_chart(str(wall)).axes[0]
    fit = next(line for line in ax.lines if line.get_label().startswith("peak compute"))
    assert "fitted 3.00× / 2 yr" in fit.get_label()
    hollow = [line for line in ax.lines if line.get_markerfacecolor() == "none"]
    assert len(hollow) == 1 and list(hollow[0].get_xdata()) == [2022]


def test_the_sram_machines_answer_with_on_chip_bandwidth():
    data = load_trends()
    sram = _by_label(data["sram_points"])
    assert set(sram) == {"WSE-2", "WSE-3", "Groq LPU", "Dojo D1"}
    # WSE-3: 21 PB/s of SRAM over a dense 16-bit peak of 15.84 PFLOP/s (hardware_specs/wse3.toml): 1.33 B/FLOP
    assert sram["WSE-3"]["bytes_per_flop"] == pytest.approx(21e15 / 15.84e15, rel=1e-6)
    # Groq LPU: 80 TB/s of SRAM (Groq's figure; 50 TB/s at the low end) over 188 TFLOP/s FP16 (it has no bf16)
    assert sram["Groq LPU"]["bytes_per_flop"] == pytest.approx(80e12 / 188e12)
    assert sram["Groq LPU"]["bytes_per_flop_range"] == pytest.approx((50e12 / 188e12, 80e12 / 188e12))
    # the two answers are two orders of magnitude apart: every SRAM machine above 0.1 B/FLOP, every
    # accelerator's DRAM below 0.04 (P100: 732 GB/s over 21.2 TFLOP/s = 0.035)
    assert min(p["bytes_per_flop"] for p in data["sram_points"]) > 0.1
    assert max(p["bytes_per_flop"] for p in data["points"]) == pytest.approx(0.732 / 21.2, rel=1e-6)
    # the SRAM machines stay out of the DRAM growth series
    assert not {"WSE-3", "Groq LPU"} & set(_by_label(data["points"]))


def test_the_chart_labels_every_point_and_draws_both_answers():
    from roofline.outputs import plot

    fig = plot.memory_wall_chart()
    top, below = fig.axes[:2]
    texts = {t.get_text() for t in top.texts}
    assert {"B300", "MI355X", "Rubin (announced)", "H100 SXM5", "P100 SXM2"} <= texts
    legend = [t.get_text() for t in below.get_legend().get_texts()]
    assert any("SRAM" in s for s in legend) and any("DRAM" in s for s in legend)
    assert {"WSE-3", "Groq LPU", "Dojo D1", "WSE-2", "TPU v7"} <= {t.get_text() for t in below.texts}
    assert below.get_yscale() == "log"


@pytest.mark.parametrize("point, message", [
    ('spec = "rubin-cpx"', "no 16-bit peak"),
    ('spec = "h100"\nseries = "sram"', "not SRAM"),
    ('spec = "nope-9000"', "unknown device"),
])
def test_a_spec_point_that_cannot_be_drawn_is_refused(tmp_path, point, message):
    wall = tmp_path / "wall.toml"
    wall.write_text("schema = 1\n[[point]]\n" + point + "\n")
    with pytest.raises(SpecError, match=message) as info:
        load_trends(str(wall))
    assert info.value.field == "point[0]"
