"""NVIDIA 2025-26 devices of the 2026 device library: B300 (HGX), GB200 NVL72, GB300 NVL72, Rubin, Rubin CPX.

Each expected value is written out from its source; dense figures follow the files' conventions (half of a
printed 2:4-sparse figure where NVIDIA's footnote says "Dense is 1/2 sparse", the printed dense figure where
NVIDIA prints one).
"""

import pytest

import roofline
from roofline.errors import InputError

REL = 1e-3


# ---------------------------------------------------------------------------------------------------
# B300 (Blackwell Ultra) in HGX B300
# ---------------------------------------------------------------------------------------------------
def test_b300_headline_figures():
    d = roofline.get_device("b300")
    assert d.status == "released"
    # NVIDIA HGX page, HGX B300: FP4 "144 PFLOPS | 108 PFLOPS" (sparse | dense) for 8 GPUs -> 18 | 13.5 per GPU
    assert d.peak("fp4") == pytest.approx(13.5e15, rel=REL)
    assert d.peak("fp4", sparse=True) == pytest.approx(18e15, rel=REL)
    # HGX page: FP16/BF16 36 PFLOPS, FP8/FP6 72 PFLOPS for 8 GPUs with sparsity; dense is 1/2
    assert d.peak("bf16") == pytest.approx(2.25e15, rel=REL)
    assert d.peak("fp8") == pytest.approx(4.5e15, rel=REL)
    # 288 GB HBM3e (blog; NIM SKU B300-SXM6-AC; nvidia-smi 275,040 MiB); datasheet HGX column 7.7 TB/s
    assert d.level("hbm").capacity_bytes == pytest.approx(288e9, rel=REL)
    assert d.level("hbm").bandwidth_bytes_per_s == pytest.approx(7.7e12, rel=REL)
    # NVLink 5: 1.8 TB/s bidirectional (18 links x 100 GB/s), 8 GPUs per HGX board
    assert d.link("nvlink").bandwidth_bytes_per_s == pytest.approx(1.8e12, rel=REL)
    assert d.link("nvlink").per_direction_bytes_per_s == pytest.approx(0.9e12, rel=REL)
    assert d.link("nvlink").devices_per_domain == 8
    # PCIe Gen6 x16: 256 GB/s bidirectional (blog)
    assert d.link("pcie").bandwidth_bytes_per_s == pytest.approx(256e9, rel=REL)
    # Blackwell Ultra datasheet, HGX B300 column: "Configurable up to 1,100 W"
    assert d.figure("power.tdp").value == pytest.approx(1100, rel=REL)


def test_b300_fp4_is_not_half_of_sparse():
    # Blackwell Ultra: dense NVFP4 is 3/4 of the 2:4-sparse rate (108 / 144), unlike Blackwell (72 / 144)
    d = roofline.get_device("b300")
    assert d.peak("fp4") / d.peak("fp4", sparse=True) == pytest.approx(0.75, rel=REL)
    assert roofline.get_device("b200").peak("fp4") / roofline.get_device("b200").peak("fp4", sparse=True) \
        == pytest.approx(0.5, rel=REL)


# ---------------------------------------------------------------------------------------------------
# B200 in GB200 NVL72
# ---------------------------------------------------------------------------------------------------
def test_gb200_nvl72_headline_figures():
    d = roofline.get_device("gb200-nvl72")
    assert d.status == "released"
    # GB200 NVL72 page: NVFP4 "1,440 | 720 PFLOPS" (sparse | dense) per rack of 72 GPUs -> 20 | 10 per GPU
    assert d.peak("fp4") == pytest.approx(10e15, rel=REL)
    assert d.peak("fp4", sparse=True) == pytest.approx(20e15, rel=REL)
    # FP16/BF16 360 PFLOPS, FP8/FP6 720 PFLOPS per rack with sparsity; dense is 1/2 -> 2.5 and 5 per GPU
    assert d.peak("bf16") == pytest.approx(2.5e15, rel=REL)
    assert d.peak("fp8") == pytest.approx(5e15, rel=REL)
    # 13.4 TB HBM3E | 576 TB/s per rack; 372 GB | 16 TB/s per superchip -> 186 GB, 8 TB/s per GPU
    assert d.level("hbm").capacity_bytes == pytest.approx(186e9, rel=REL)
    assert d.level("hbm").bandwidth_bytes_per_s == pytest.approx(8e12, rel=REL)
    # NVLink 130 TB/s per rack -> 1.8 TB/s per GPU; 72 GPUs in one NVLink domain
    assert d.link("nvlink").bandwidth_bytes_per_s == pytest.approx(1.8e12, rel=REL)
    assert d.link("nvlink").devices_per_domain == 72
    # Blackwell datasheet: GB200 GPU configurable up to 1,200 W
    assert d.figure("power.tdp").value == pytest.approx(1200, rel=REL)


def test_gb200_grace_memory_is_an_external_level_after_hbm():
    d = roofline.get_device("gb200-nvl72")
    names = [m.name for m in d.memory]
    assert names.index("hbm") < names.index("grace")
    grace = d.level("grace")
    assert grace.kind == "external"
    # "Up to 480 GB LPDDR5X | Up to 512 GB/s" per superchip (1 Grace, 2 GPUs) -> 240 GB per GPU
    assert grace.capacity.basis == "derived"
    assert grace.capacity_bytes == pytest.approx(240e9, rel=REL)
    # per-GPU bandwidth is an estimate: half of 512 GB/s, within 190-450 GB/s
    assert grace.bandwidth.basis == "estimate"
    assert grace.bandwidth_bytes_per_s == pytest.approx(256e9, rel=REL)
    assert grace.bandwidth.low <= grace.bandwidth.value <= grace.bandwidth.high


# ---------------------------------------------------------------------------------------------------
# Blackwell Ultra in GB300 NVL72
# ---------------------------------------------------------------------------------------------------
def test_gb300_nvl72_headline_figures():
    d = roofline.get_device("gb300-nvl72")
    assert d.status == "released"
    # GB300 NVL72 page: FP4 "1,440 | 1,080 PFLOPS" (1,080 "Without sparsity") per 72 GPUs -> 20 | 15 per GPU;
    # Blackwell Ultra blog: "15 PetaFLOPS dense NVFP4"
    assert d.peak("fp4") == pytest.approx(15e15, rel=REL)
    assert d.peak("fp4", sparse=True) == pytest.approx(20e15, rel=REL)
    # FP16/BF16 360, FP8/FP6 720 PFLOPS per rack with sparsity -> 2.5 and 5 PFLOP/s dense per GPU
    assert d.peak("bf16") == pytest.approx(2.5e15, rel=REL)
    assert d.peak("fp8") == pytest.approx(5e15, rel=REL)
    # Blackwell Ultra datasheet, GB300 NVL72 column: "279 GB HBM3E | 8 TB/s" (rack 20 TB | 576 TB/s)
    assert d.level("hbm").capacity_bytes == pytest.approx(279e9, rel=REL)
    assert d.level("hbm").bandwidth_bytes_per_s == pytest.approx(8e12, rel=REL)
    assert d.link("nvlink").bandwidth_bytes_per_s == pytest.approx(1.8e12, rel=REL)
    assert d.link("nvlink").devices_per_domain == 72
    # datasheet GB300 column: max TDP up to 1,400 W
    assert d.figure("power.tdp").value == pytest.approx(1400, rel=REL)
    # fast memory 37 TB = 20 TB HBM3e + 17 TB LPDDR5X -> 17 TB / 72 GPUs
    assert d.level("grace").kind == "external"
    assert d.level("grace").capacity_bytes == pytest.approx(17e12 / 72, rel=REL)


def test_hgx_b300_runs_at_nine_tenths_of_gb300():
    # datasheet: HGX B300 column is 0.9x the GB300 column on every tensor row (FP8 9 vs 10, BF16 4.5 vs 5 sparse)
    hgx, gb = roofline.get_device("b300"), roofline.get_device("gb300-nvl72")
    for dt in ("fp4", "fp8", "bf16"):
        assert hgx.peak(dt) / gb.peak(dt) == pytest.approx(0.9, rel=REL)


# ---------------------------------------------------------------------------------------------------
# Rubin (announced)
# ---------------------------------------------------------------------------------------------------
def test_rubin_headline_figures():
    d = roofline.get_device("rubin")
    assert d.status == "announced"
    # Vera Rubin datasheet: "NVFP4 Inference 50 PFLOPS" ("NVFP4 Inference specification is sparse");
    # "NVFP4 Training 35 PFLOPS" ("Dense specification") -> dense 35, an estimate between 25 and 50
    fp4 = d.peak_figure("fp4")
    assert fp4.basis == "estimate"
    assert fp4.value == pytest.approx(35e15, rel=REL)
    assert fp4.low == pytest.approx(25e15, rel=REL)
    assert fp4.high == pytest.approx(50e15, rel=REL)
    assert d.peak("fp4", sparse=True) == pytest.approx(50e15, rel=REL)
    # "FP8/FP6 Training 17.5 PFLOPS" (dense); "FP16/BF16 4 PFLOPS" (dense)
    assert d.peak("fp8") == pytest.approx(17.5e15, rel=REL)
    assert d.peak("bf16") == pytest.approx(4e15, rel=REL)
    # "288 GB HBM4 | 22 TB/s" (up to; GTC 2025 said ~13 TB/s)
    hbm = d.level("hbm")
    assert hbm.capacity_bytes == pytest.approx(288e9, rel=REL)
    assert hbm.bandwidth_bytes_per_s == pytest.approx(22e12, rel=REL)
    assert hbm.bandwidth.basis == "estimate"
    assert hbm.bandwidth.low == pytest.approx(13e12, rel=REL)
    # NVLink 6: 3.6 TB/s per GPU, 72 GPUs per domain (260 TB/s per rack)
    assert d.link("nvlink").bandwidth_bytes_per_s == pytest.approx(3.6e12, rel=REL)
    assert d.link("nvlink").devices_per_domain == 72
    # TDP unpublished: an estimate of 2 kW in 1.8-2.3 kW (secondary coverage)
    tdp = d.figure("power.tdp")
    assert tdp.basis == "estimate"
    assert tdp.value == pytest.approx(2000, rel=REL)
    assert tdp.low == pytest.approx(1800, rel=REL) and tdp.high == pytest.approx(2300, rel=REL)


# ---------------------------------------------------------------------------------------------------
# Rubin CPX (announced)
# ---------------------------------------------------------------------------------------------------
def test_rubin_cpx_headline_figures():
    d = roofline.get_device("rubin-cpx")
    assert d.status == "announced"
    # NVIDIA: "30 petaFLOPs" NVFP4, convention unstated -> dense estimate 21 (= 30 x 35/50), range 15-30
    fp4 = d.peak_figure("fp4")
    assert fp4.basis == "estimate"
    assert fp4.value == pytest.approx(21e15, rel=REL)
    assert fp4.low == pytest.approx(15e15, rel=REL) and fp4.high == pytest.approx(30e15, rel=REL)
    # NVIDIA: "128 GB" of GDDR7; bandwidth unpublished, estimated ~2 TB/s
    mem = d.level("gddr7")
    assert mem.capacity_bytes == pytest.approx(128e9, rel=REL)
    assert mem.bandwidth.basis == "estimate"
    assert mem.bandwidth_bytes_per_s == pytest.approx(2e12, rel=REL)
    # no BF16 rate is published: asking for one is a clear error, not a guess
    with pytest.raises(InputError):
        d.peak("bf16")


def test_announced_rubin_parts_are_estimates_where_uncertain():
    for key in ("rubin", "rubin-cpx"):
        d = roofline.get_device(key)
        assert d.peak_figure("fp4").basis == "estimate"
        f = d.peak_figure("fp4")
        assert f.low < f.value < f.high


def test_all_five_devices_are_in_the_library():
    keys = {d.key for d in roofline.list_devices()}
    assert {"b300", "gb200-nvl72", "gb300-nvl72", "rubin", "rubin-cpx"} <= keys
