"""The device library: figures against their sources, and every schema error (issue 2)."""

import dataclasses

import pytest

import roofline
from roofline.errors import SpecError, UnknownNameError
from roofline.hardware import load_spec_file, load_specs


# ---------------------------------------------------------------------------------------------------
# figures against their published sources
# ---------------------------------------------------------------------------------------------------
def test_h100_sxm_figures_match_the_datasheet():
    h100 = roofline.get_device("h100")
    # NVIDIA H100 datasheet: BF16 1,979 TFLOP/s "with sparsity", "1/2 lower without" -> 989.4 dense
    assert h100.peak("bf16") == pytest.approx(989.4e12)
    assert h100.peak("bf16", sparse=True) == pytest.approx(1978.9e12)
    assert h100.level("hbm").bandwidth_bytes_per_s == pytest.approx(3.35e12)  # 3,350 GB/s
    assert h100.level("hbm").capacity_bytes == pytest.approx(80e9)           # 80 GB
    assert h100.level("l2").capacity_bytes == pytest.approx(50e6)            # 50 MB
    assert h100.power_w == pytest.approx(700)
    # NVLink 4: 900 GB/s total, i.e. 450 GB/s each way
    assert h100.link("nvlink").per_direction_bytes_per_s == pytest.approx(450e9)


def test_h100_alias_finds_the_same_device():
    assert roofline.get_device("h100-sxm") is roofline.get_device("H100")


def test_h100_dense_peak_agrees_with_its_microarchitecture():
    # Hopper whitepaper: 132 SMs x 4 tensor cores x 512 FMA/clk x 2 FLOP x 1.83 GHz = 989.4 TFLOP/s
    f = roofline.get_device("h100").figure("architecture.dense_bf16_from_microarchitecture")
    assert f.basis == "derived"
    assert f.value == pytest.approx(132 * 4 * 512 * 2 * 1.83e9)
    assert f.value == pytest.approx(989.4e12, rel=1e-4)


def test_h100_pcie_is_a_different_part():
    p = roofline.get_device("h100-pcie")
    assert p.peak("bf16") == pytest.approx(756e12, rel=0.001)   # datasheet 1,513 sparse / 2
    assert p.level("hbm").bandwidth_bytes_per_s == pytest.approx(2.0e12)


def test_a100_h200_b200_context_devices():
    a100 = roofline.get_device("a100")
    assert a100.peak("bf16") == pytest.approx(312e12)
    assert a100.level("hbm").bandwidth_bytes_per_s == pytest.approx(2.039e12, rel=1e-3)
    h200 = roofline.get_device("h200")
    assert h200.peak("bf16") == pytest.approx(989.4e12, rel=1e-3)
    assert h200.level("hbm").bandwidth_bytes_per_s == pytest.approx(4.8e12)
    assert h200.level("hbm").capacity_bytes == pytest.approx(141e9)
    b200 = roofline.get_device("b200")
    assert b200.peak("bf16") == pytest.approx(2.25e15, rel=1e-3)
    # current B200 datasheet, per-GPU row: 180 GB HBM3e at 7.7 TB/s (the 2024 launch material said 192 GB, 8 TB/s)
    assert b200.level("hbm").bandwidth_bytes_per_s == pytest.approx(7.7e12)
    assert b200.level("hbm").capacity_bytes == pytest.approx(180e9)


def test_wse3_sram_and_fabric():
    w = roofline.get_device("wse3")
    sram = w.level("sram")
    assert sram.capacity_bytes == pytest.approx(44e9)        # 44 GB
    assert sram.bandwidth_bytes_per_s == pytest.approx(21e15)  # 21 PB/s
    fabric = w.link("fabric")
    assert fabric.bandwidth_bytes_per_s == pytest.approx(214e15 / 8)  # 214 Pb/s = 26.75 PB/s
    # the dense peak the spec uses is derived from the microarchitecture, far below the 125 PFLOP/s claim
    dense = w.peak("fp16")
    assert w.figure("compute.fp16.dense").basis == "derived"
    assert 5e15 < dense < 40e15
    assert w.figure("compute.fp16.dense").formula
    assert w.power_w == pytest.approx(23e3, rel=0.2)


def test_wse3_125_pflops_is_recorded_as_the_sparse_claim():
    w = roofline.get_device("wse3")
    assert w.peak("fp16", sparse=True) == pytest.approx(125e15)


def test_dojo_d1():
    d1 = roofline.get_device("dojo-d1")
    assert d1.peak("bf16") == pytest.approx(362e12)            # AI Day 2021
    assert d1.peak("fp32") == pytest.approx(22.6e12)
    assert d1.power_w == pytest.approx(400)


def test_dojo_tile_is_the_sum_of_its_25_chips():
    d1, tile = roofline.get_device("dojo-d1"), roofline.get_device("dojo")
    assert tile.composition == ("dojo-d1", 25)
    # 25 x 362 TFLOP/s = 9.05 PFLOP/s; Hot Chips 34 prints 9 PFLOP/s
    assert tile.peak("bf16") == pytest.approx(25 * d1.peak("bf16"))
    assert tile.peak("bf16") == pytest.approx(9e15, rel=0.02)
    # SRAM: 25 x 354 nodes x 1.25 MB = 11.06 GB; Hot Chips 34 prints 11 GB
    assert tile.level("sram").capacity_bytes == pytest.approx(25 * d1.level("sram").capacity_bytes)
    assert tile.level("sram").capacity_bytes == pytest.approx(11e9, rel=0.03)
    assert tile.power_w == pytest.approx(15e3)
    assert "hbm" in [m.name for m in tile.memory]


def test_ai5_is_estimates_only():
    ai5 = roofline.get_device("ai5")
    assert ai5.status == "unreleased"
    for path, f in ai5.figures.items():
        assert f.basis in ("estimate", "derived"), path
        assert f.low < f.high or f.basis == "derived", path
        assert f.note, path
    # "Hopper-class": the BF16 range brackets H100's 989 TFLOP/s
    bf16 = ai5.peak_figure("bf16")
    assert bf16.low <= 989.4e12 <= bf16.high


def test_every_figure_has_a_known_source_and_a_basis():
    for dev in roofline.list_devices():
        for path, f in dev.figures.items():
            assert f.sources and all(s in dev.sources for s in f.sources), (dev.key, path)
            assert f.basis in ("datasheet", "measured", "derived", "estimate"), (dev.key, path)
            if f.basis == "estimate":
                assert f.low <= f.value <= f.high and f.note, (dev.key, path)


def test_memory_levels_are_fastest_first():
    for dev in roofline.list_devices():
        bws = [m.bandwidth_bytes_per_s for m in dev.memory]
        assert bws == sorted(bws, reverse=True), dev.key


def test_the_required_devices_exist():
    keys = {d.key for d in roofline.list_devices()}
    assert {"wse3", "dojo-d1", "dojo", "h100", "h100-pcie", "ai5", "a100", "h200", "b200"} <= keys


def test_devices_are_immutable():
    h100 = roofline.get_device("h100")
    with pytest.raises(dataclasses.FrozenInstanceError):
        h100.key = "x"
    with pytest.raises(TypeError):
        h100.figures["power.tdp"] = None


def test_figures_are_sympy_symbols_bound_to_values():
    h100 = roofline.get_device("h100")
    sym = h100.symbol("memory.hbm.bandwidth")
    assert sym.name == "BW_{hbm}" and sym.is_positive
    assert h100.subs()[sym] == pytest.approx(3.35e12)
    ai5 = roofline.get_device("ai5")
    s = ai5.symbol("compute.bf16.dense")
    assert ai5.subs("low")[s] < ai5.subs()[s] < ai5.subs("high")[s]


def test_unknown_device_suggests_nearest():
    with pytest.raises(UnknownNameError, match=r"unknown device 'h1000'; did you mean 'h100'"):
        roofline.get_device("h1000")


# ---------------------------------------------------------------------------------------------------
# schema errors: each names the file, the field and what was expected
# ---------------------------------------------------------------------------------------------------
def test_minimal_spec_loads(write_spec, minimal_spec_text):
    dev = load_spec_file(write_spec(minimal_spec_text))
    assert dev.key == "toy"
    assert dev.level("dram").capacity_bytes == 64 * 2**30
    assert dev.link("link").per_direction_bytes_per_s == 100e9


@pytest.mark.parametrize(
    "old, new, field, message",
    [
        ('name = "Toy accelerator"\n', "", "device.name", "missing"),
        ('kind = "chip"', 'kind = "toaster"', "device.kind", "expected one of"),
        ('value = "1 GB"', 'value = "1 GQ"', "memory.sram.capacity.value", "cannot parse"),
        ('value = "1 GB"', 'value = "1 GB/s"', "memory.sram.capacity", "expected [information]"),
        ('value = "1 GB"', 'value = "-1 GB"', "memory.sram.capacity", "expected a positive value"),
        ('value = "1 GB"', 'value = "0 GB"', "memory.sram.capacity", "expected a positive value"),
        ('value = "100 TFLOP/s", basis = "datasheet"', 'value = "100 TFLOP/s", low = "120 TFLOP/s", high = "90 TFLOP/s", basis = "estimate", note = "x"',
         "compute.bf16.dense.low", "above high"),
        ('value = "100 TFLOP/s", basis = "datasheet"', 'value = "100 TFLOP/s", basis = "estimate", note = "x"',
         "compute.bf16.dense.low", "range"),
        ('value = "100 TFLOP/s", basis = "datasheet", source = "s1"', 'value = "100 TFLOP/s", basis = "datasheet", source = "s9"',
         "compute.bf16.dense.source", "unknown source id 's9'"),
        ('value = "100 TFLOP/s", basis = "datasheet", source = "s1"', 'value = "100 TFLOP/s", basis = "datasheet"',
         "compute.bf16.dense.source", "missing"),
        ('value = "100 TFLOP/s", basis = "datasheet"', 'value = "100 TFLOP/s", basis = "guess"',
         "compute.bf16.dense.basis", "expected one of"),
        ('value = "100 TFLOP/s", basis = "datasheet"', 'basis = "derived"', "compute.bf16.dense.formula", "missing"),
        ('value = "100 TFLOP/s", basis = "datasheet"', 'basis = "derived", formula = "architecture.nope * 2"',
         "compute.bf16.dense.formula", "unknown figure"),
        ("[compute.bf16]", "[compute.bf17]", "compute.bf17", "unknown data type"),
        ('duplex = "per-direction"', 'duplex = "both"', "interconnect.link.duplex", "expected one of"),
        ("[power]", "[powr]", "powr", "unknown field"),
        ('bandwidth = { value = "10 TB/s", basis = "datasheet", source = "s1" }\n', "", "memory.sram.bandwidth", "missing"),
    ],
)
def test_schema_errors_name_file_and_field(write_spec, minimal_spec_text, old, new, field, message):
    assert old in minimal_spec_text
    path = write_spec(minimal_spec_text.replace(old, new, 1))
    with pytest.raises(SpecError) as info:
        load_spec_file(path)
    text = str(info.value)
    assert str(path) in text
    assert field in text
    assert message in text


def test_not_toml_is_a_spec_error(write_spec):
    path = write_spec("this is = = not toml")
    with pytest.raises(SpecError, match="not valid TOML"):
        load_spec_file(path)


def test_duplicate_key_names_both_files(tmp_path, minimal_spec_text):
    (tmp_path / "a.toml").write_text(minimal_spec_text)
    (tmp_path / "b.toml").write_text(minimal_spec_text)
    with pytest.raises(SpecError, match="duplicate device key or alias 'toy'") as info:
        load_specs([tmp_path])
    assert "a.toml" in str(info.value) and "b.toml" in str(info.value)


def test_duplicate_of_a_builtin_alias_is_rejected(write_spec, minimal_spec_text):
    path = write_spec(minimal_spec_text.replace('key = "toy"', 'key = "h100-sxm"'))
    with pytest.raises(SpecError, match="duplicate"):
        load_specs([path])


def test_derived_figure_checks_the_published_value(write_spec, minimal_spec_text):
    text = minimal_spec_text.replace(
        'dense = { value = "100 TFLOP/s", basis = "datasheet", source = "s1" }',
        'dense = { basis = "derived", formula = "architecture.cores * architecture.per_core", '
        'published = "150 TFLOP/s", source = "s1" }',
    ) + '\n[architecture]\ncores = { value = 1000, basis = "datasheet", source = "s1" }\n' \
        'per_core = { value = "100 GFLOP/s", basis = "datasheet", source = "s1" }\n'
    with pytest.raises(SpecError, match="published figure"):
        load_spec_file(write_spec(text))
    ok = load_spec_file(write_spec(text.replace("150 TFLOP/s", "100 TFLOP/s")))
    assert ok.peak("bf16") == pytest.approx(100e12)


def test_estimates_propagate_through_formulas(write_spec, minimal_spec_text):
    text = minimal_spec_text.replace(
        'dense = { value = "100 TFLOP/s", basis = "datasheet", source = "s1" }',
        'dense = { basis = "derived", formula = "architecture.cores * architecture.per_core", source = "s1" }',
    ) + '\n[architecture]\ncores = { value = 1000, basis = "datasheet", source = "s1" }\n' \
        'per_core = { value = "100 GFLOP/s", low = "80 GFLOP/s", high = "120 GFLOP/s", basis = "estimate", source = "s1", note = "guess" }\n'
    dev = load_spec_file(write_spec(text))
    f = dev.peak_figure("bf16")
    assert (f.low, f.value, f.high) == pytest.approx((80e12, 100e12, 120e12))
    assert f.is_range


def test_user_spec_folder_via_environment(tmp_path, monkeypatch, minimal_spec_text):
    (tmp_path / "toy.toml").write_text(minimal_spec_text)
    monkeypatch.setenv("ROOFLINE_SPEC_PATH", str(tmp_path))
    assert roofline.get_device("toy").name == "Toy accelerator"


def test_user_spec_file_given_directly(write_spec, minimal_spec_text):
    p = write_spec(minimal_spec_text)
    assert roofline.get_device("toy", spec_paths=[p]).vendor == "Test"


def test_missing_spec_path_is_an_error(tmp_path):
    with pytest.raises(SpecError, match="no such spec file"):
        load_specs([tmp_path / "nope.toml"])
