"""AMD Instinct devices of the 2026 library (MI300X, MI325X, MI355X, MI455X): headline figures against their
sources, through the public API. Every expected value is written out from the source named beside it."""

import pytest

import roofline
from roofline import UnknownNameError

REL = 1e-3


# ---------------------------------------------------------------------------------------------------
# MI300X (CDNA 3)
# ---------------------------------------------------------------------------------------------------
def test_mi300x_headline_figures():
    d = roofline.get_device("mi300x")
    assert d.status == "released"
    # AMD CDNA 3 white paper, Table 2 / endnote MI300-11: BF16 "1,307.4 TF | 2,614.9 TF" (dense | sparsity);
    # AMD prints both, so dense is the printed dense figure, not a halved one
    assert d.peak("bf16") == pytest.approx(1307.4e12, rel=REL)
    assert d.peak("bf16", sparse=True) == pytest.approx(2614.9e12, rel=REL)
    assert d.peak("fp8") == pytest.approx(2614.9e12, rel=REL)          # FP8 "2,614.9 TF | 5,229.8 TF"
    assert d.peak("tf32") == pytest.approx(653.7e12, rel=REL)          # Table 2 (Table 1's 490.3 is the MI300A)
    # white paper Table 2 and MI300X product page: 192 GB HBM3, 5.3 TB/s peak
    assert d.level("hbm").capacity_bytes == pytest.approx(192e9, rel=REL)
    assert d.level("hbm").bandwidth_bytes_per_s == pytest.approx(5.3e12, rel=REL)
    # white paper Table 2 'MAX POWER 750W'; product page 'Typical Board Power (TBP) 750W Peak'
    assert d.figure("power.tdp").value == pytest.approx(750, rel=REL)


def test_mi300x_infinity_cache_and_l2_are_levels_because_amd_publishes_capacity_and_bandwidth():
    d = roofline.get_device("mi300x")
    # white paper: "256MB of data. The peak bandwidth from the Infinity Cache is ... 17.2 TB/s"
    ic = d.level("infinity_cache")
    assert ic.kind == "cache"
    assert ic.capacity_bytes == pytest.approx(256 * 2**20, rel=REL)
    assert ic.bandwidth_bytes_per_s == pytest.approx(17.2e12, rel=REL)
    # white paper: L2 4 MB per XCD x 8, "up to 34.4 TB/s aggregate read bandwidth" (2 KB/clock/XCD x 2.1 GHz)
    assert d.level("l2").bandwidth_bytes_per_s == pytest.approx(34.4e12, rel=REL)
    assert d.figure("architecture.l2_read_from_microarchitecture").value == pytest.approx(8 * 2048 * 2.1e9, rel=REL)
    # fastest first: L2, Infinity Cache, HBM
    assert [lvl.name for lvl in d.memory] == ["l2", "infinity_cache", "hbm"]


def test_mi300x_infinity_fabric():
    d = roofline.get_device("mi300x")
    link = d.link("infinity_fabric")
    # white paper Table 2: 7 x16 links, "P2P ring peak aggregate I/O bandwidth 896 GB/s (8 GPUs)";
    # product page: "Peak Infinity Fabric Link Bandwidth 128 GB/s" (both directions; 64 GB/s each way)
    assert link.bandwidth_bytes_per_s == pytest.approx(896e9, rel=REL)
    assert link.duplex == "bidirectional-total"
    assert link.per_direction_bytes_per_s == pytest.approx(448e9, rel=REL)
    assert d.figure("architecture.infinity_fabric_link_bandwidth").value == pytest.approx(128e9, rel=REL)
    assert d.figure("architecture.infinity_fabric_links").value == 7
    # fully connected 8-GPU UBB platform
    assert link.devices_per_domain == 8
    # no vendor latency: an estimate with a range, from a measured 8-GPU all-reduce (~13.5 us over 6 steps)
    assert link.latency.basis == "estimate"
    assert link.latency.low <= link.latency.value <= link.latency.high
    assert link.latency.high <= 3e-6
    # PCIe Gen 5 x16 to the host: 1,024 GB/s total aggregate I/O minus 896 = 128 GB/s
    assert d.link("pcie").bandwidth_bytes_per_s == pytest.approx(128e9, rel=REL)


def test_mi300x_dense_bf16_agrees_with_the_microarchitecture():
    # white paper Table 1: 2,048 BF16 FLOPS/clock/CU; 304 CUs; 2,100 MHz peak engine clock
    f = roofline.get_device("mi300x").figure("architecture.dense_bf16_from_microarchitecture")
    assert f.basis == "derived"
    assert f.value == pytest.approx(304 * 2048 * 2.1e9, rel=REL)
    assert f.value == pytest.approx(1307.4e12, rel=REL)


# ---------------------------------------------------------------------------------------------------
# MI325X (CDNA 3, HBM3E)
# ---------------------------------------------------------------------------------------------------
def test_mi325x_headline_figures():
    d = roofline.get_device("mi325x")
    assert d.status == "released"
    # CDNA 3 white paper Table 2, MI325X column: same compute as the MI300X, BF16 1,307.4 TF dense
    assert d.peak("bf16") == pytest.approx(1307.4e12, rel=REL)
    assert d.peak("bf16", sparse=True) == pytest.approx(2614.9e12, rel=REL)
    # white paper Table 2 / endnote MI325-001A: 256 GB HBM3E, up to 6.0 TB/s (announced as 288 GB in 2024)
    assert d.level("hbm").capacity_bytes == pytest.approx(256e9, rel=REL)
    assert d.level("hbm").bandwidth_bytes_per_s == pytest.approx(6.0e12, rel=REL)
    # white paper Table 2: 'MAX POWER 1000W'
    assert d.figure("power.tdp").value == pytest.approx(1000, rel=REL)
    # white paper Table 2: 7 x16 Infinity Fabric links, 896 GB/s peer aggregate, 8 GPUs
    assert d.link("infinity_fabric").bandwidth_bytes_per_s == pytest.approx(896e9, rel=REL)
    assert d.link("infinity_fabric").devices_per_domain == 8
    # Infinity Cache: 256 MB at 17.2 TB/s (shared CDNA 3 memory hierarchy)
    assert d.level("infinity_cache").bandwidth_bytes_per_s == pytest.approx(17.2e12, rel=REL)


# ---------------------------------------------------------------------------------------------------
# MI355X (CDNA 4)
# ---------------------------------------------------------------------------------------------------
def test_mi355x_headline_figures():
    d = roofline.get_device("mi355x")
    assert d.status == "released"
    # CDNA 4 white paper Table 1/2: 256 CUs x 4,096 BF16 FLOPS/clock/CU x 2.4 GHz = 2,516.6 TFLOP/s, printed
    # "2.5 PF" dense ("5.0 PF" with sparsity)
    assert d.peak("bf16") == pytest.approx(256 * 4096 * 2.4e9, rel=REL)
    assert d.peak("bf16") == pytest.approx(2516.6e12, rel=REL)
    assert d.peak("bf16", sparse=True) == pytest.approx(5033.2e12, rel=REL)
    # FP8: 8,192 FLOPS/clock/CU -> 5,033.2 TFLOP/s ("5.0 PF" dense, "10 PF" sparse)
    assert d.peak("fp8") == pytest.approx(5033.2e12, rel=REL)
    # MXFP6 / MXFP4: 16,384 FLOPS/clock/CU -> 10,066.3 TFLOP/s ("10 PF" dense, "20 PF" sparse; the press's
    # "20.1 PFLOPS" FP4 is the sparse figure)
    assert d.peak("fp4") == pytest.approx(10066.3e12, rel=REL)
    assert d.peak("fp6") == pytest.approx(10066.3e12, rel=REL)
    assert d.peak("fp4", sparse=True) == pytest.approx(20132.7e12, rel=REL)
    # white paper Table 2: 288 GB HBM3E at 8.0 TB/s; 1,400 W
    assert d.level("hbm").capacity_bytes == pytest.approx(288e9, rel=REL)
    assert d.level("hbm").bandwidth_bytes_per_s == pytest.approx(8.0e12, rel=REL)
    assert d.figure("power.tdp").value == pytest.approx(1400, rel=REL)
    # TF32 moved out of hardware in CDNA 4 (emulated with BF16): no tf32 peak
    assert "tf32" not in d.compute


def test_mi355x_infinity_fabric_and_no_cache_levels_without_bandwidth():
    d = roofline.get_device("mi355x")
    link = d.link("infinity_fabric")
    # white paper endnote MI350-007: 153.6 GB/s per link (76.8 GB/s each way), 1,075.2 GB/s over 7 links
    assert link.bandwidth_bytes_per_s == pytest.approx(1075.2e9, rel=REL)
    assert link.per_direction_bytes_per_s == pytest.approx(537.6e9, rel=REL)
    assert d.figure("architecture.infinity_fabric_link_bandwidth").value == pytest.approx(153.6e9, rel=REL)
    assert link.devices_per_domain == 8
    assert link.latency.basis == "estimate"
    # AMD prints the 256 MB Infinity Cache and 4 MB/XCD L2 but no bandwidth for either: not memory levels
    assert [lvl.name for lvl in d.memory] == ["hbm"]
    with pytest.raises(UnknownNameError):
        d.level("infinity_cache")


# ---------------------------------------------------------------------------------------------------
# MI455X (CDNA 5, Helios; announced)
# ---------------------------------------------------------------------------------------------------
def test_mi455x_is_announced_and_uncertain_figures_are_estimates():
    d = roofline.get_device("mi455x")
    assert d.status == "announced"
    # AMD MI455X page: 'OCP MXFP4 Performance 40.3 PFLOPs' (dense); earlier AMD material: 40 PF
    fp4 = d.peak_figure("fp4")
    assert fp4.basis == "estimate"
    assert fp4.value == pytest.approx(40.3e15, rel=REL)
    assert fp4.low == pytest.approx(40e15, rel=REL)
    # AMD MI455X page: MXFP8/FP8 '20.1 PFLOPs' dense
    assert d.peak("fp8") == pytest.approx(20.1e15, rel=REL)
    # AMD MI455X page: BF16 '5 PFLOPs' dense (10.1 with structured sparsity); CES coverage's "10 PFLOPS FP16"
    # is the high end of the range
    bf16 = d.peak_figure("bf16")
    assert bf16.basis == "estimate"
    assert bf16.value == pytest.approx(5e15, rel=REL)
    assert bf16.high == pytest.approx(10.1e15, rel=REL)
    assert d.peak("bf16", sparse=True) == pytest.approx(10.1e15, rel=REL)


def test_mi455x_memory_and_scale_up():
    d = roofline.get_device("mi455x")
    # 432 GB HBM4 in 12 stacks (AMD page, Hugging Face blog, CES coverage all agree)
    assert d.level("hbm").capacity_bytes == pytest.approx(432e9, rel=REL)
    # AMD page and Hugging Face (July 2026): up to 23.3 TB/s; AMD's pre-launch figure 19.6 TB/s is the low end
    bw = d.level("hbm").bandwidth
    assert bw.basis == "estimate"
    assert d.level("hbm").bandwidth_bytes_per_s == pytest.approx(23.3e12, rel=REL)
    assert bw.low == pytest.approx(19.6e12, rel=REL)
    # AMD page: 'Scale-up (Peak) UALoE Bi-directional Bandwidth 3.6 TB/s'; Helios: 72 GPUs, 260 TB/s = 72 x 3.6
    up = d.link("scale_up")
    assert up.bandwidth_bytes_per_s == pytest.approx(3.6e12, rel=REL)
    assert up.per_direction_bytes_per_s == pytest.approx(1.8e12, rel=REL)
    assert up.devices_per_domain == 72
    assert up.latency.basis == "estimate"
    # AMD page: scale-out 600 GB/s bidirectional (300 GB/s each way)
    assert d.link("scale_out").per_direction_bytes_per_s == pytest.approx(300e9, rel=REL)
    # no per-GPU power figure is published
    with pytest.raises(UnknownNameError):
        d.figure("power.tdp")


def test_amd_aliases_find_the_same_devices():
    assert roofline.get_device("instinct-mi300x") is roofline.get_device("MI300X")
    assert roofline.get_device("mi355x-288gb") is roofline.get_device("mi355x")
