"""Google Cloud TPUs in the device library (v5e, v5p, v6e, TPU7x Ironwood): headline figures against their sources."""

import pytest

import roofline

GiB = 2**30
MiB = 2**20


def test_tpu_v5e_headline_figures():
    d = roofline.get_device("tpu-v5e")
    assert d.kind == "tpu" and d.status == "released"
    # Cloud TPU v5e page: "Peak compute per chip (bf16) 197 TFLOPs", "Peak compute per chip (Int8) 393 TOPs"
    assert d.peak("bf16") == pytest.approx(197e12, rel=1e-3)
    assert d.peak("int8") == pytest.approx(393e12, rel=1e-3)
    # v5e page "16 GB"; JAX tpu_info: 17.2e9 bytes = 16 GiB (used); "HBM2 ... 819 GBps"
    assert d.level("hbm").capacity_bytes == pytest.approx(16 * GiB, rel=1e-3)
    assert d.level("hbm").bandwidth_bytes_per_s == pytest.approx(819e9, rel=1e-3)
    # "Bidirectional inter-chip interconnect (ICI) bandwidth (per chip) 400 GBps", 4 ports, 2-D torus
    ici = d.link("ici")
    assert ici.duplex == "bidirectional-total"
    assert ici.bandwidth_bytes_per_s == pytest.approx(400e9, rel=1e-3)
    assert ici.per_direction_bytes_per_s == pytest.approx(200e9, rel=1e-3)
    # "TPU Pod size 256 chips"
    assert d.figure("interconnect.ici.domain_size").value == 256
    assert d.figure("architecture.ici_ports").value == 4
    # "2 x 100 Gbps NIC" per 8-chip host = 25 Gb/s per chip
    assert d.link("dcn").bandwidth_bytes_per_s == pytest.approx(25e9 / 8, rel=1e-3)


def test_tpu_v5e_bf16_agrees_with_its_microarchitecture():
    # scaling book: 4 MXUs of 128x128 at 1.5 GHz -> 1 x 4 x 32,768 FLOP x 1.5e9 = 196.6 TFLOP/s against 197 printed
    f = roofline.get_device("tpu-v5e").figure("architecture.bf16_from_microarchitecture")
    assert f.basis == "derived"
    assert f.value == pytest.approx(4 * 128 * 128 * 2 * 1.5e9, rel=1e-3)


def test_tpu_v5p_headline_figures():
    d = roofline.get_device("tpu-v5p")
    assert d.kind == "tpu" and d.status == "released"
    # Cloud TPU v5p page: "Peak compute per chip (BF16) (TFLOPs) 459", "(FP8) 459"
    assert d.peak("bf16") == pytest.approx(459e12, rel=1e-3)
    assert d.peak("fp8") == pytest.approx(459e12, rel=1e-3)
    # JAX tpu_info / scaling book: INT8 9.18e14
    assert d.peak("int8") == pytest.approx(918e12, rel=1e-3)
    # "HBM capacity per chip (GiB) 95" (96 GiB physical), "HBM bandwidth per chip (GBps) 2765"
    assert d.level("hbm").capacity_bytes == pytest.approx(95 * GiB, rel=1e-3)
    assert d.level("hbm").bandwidth_bytes_per_s == pytest.approx(2765e9, rel=1e-3)
    # "Bidirectional inter-chip interconnect (ICI) bandwidth per chip (GBps) 1200", 3-D torus
    assert d.link("ici").bandwidth_bytes_per_s == pytest.approx(1200e9, rel=1e-3)
    assert d.link("ici").per_direction_bytes_per_s == pytest.approx(600e9, rel=1e-3)
    # "Number of chips per pod 8960"; largest slice 6144 (16x16x24)
    assert d.figure("interconnect.ici.domain_size").value == 8960
    assert d.figure("architecture.max_slice_chips").value == 6144
    # "Data center network (DCN) bandwidth per chip (Gbps) 50"; Multislice up to 18432 chips
    assert d.link("dcn").bandwidth_bytes_per_s == pytest.approx(50e9 / 8, rel=1e-3)
    assert d.figure("interconnect.dcn.domain_size").value == 18432


def test_tpu_v5p_bf16_agrees_with_its_microarchitecture():
    # scaling book: 2 TensorCores x 4 MXUs of 128x128 at ~1.75 GHz = 458.8 TFLOP/s against 459 printed
    f = roofline.get_device("tpu-v5p").figure("architecture.bf16_from_microarchitecture")
    assert f.value == pytest.approx(2 * 4 * 128 * 128 * 2 * 1.75e9, rel=1e-3)


def test_tpu_v6e_headline_figures():
    d = roofline.get_device("tpu-v6e")
    assert roofline.get_device("trillium") is d
    assert d.kind == "tpu" and d.status == "released"
    # Cloud TPU v6e page: "Peak compute per chip (bf16) 918 TFLOPs", "(Int8) 1836 TOPs"; TPU7x page: FP8 918
    assert d.peak("bf16") == pytest.approx(918e12, rel=1e-3)
    assert d.peak("int8") == pytest.approx(1836e12, rel=1e-3)
    assert d.peak("fp8") == pytest.approx(918e12, rel=1e-3)
    # TPU7x page: v6e "HBM capacity per chip (GiB) 32"; v6e page: "HBM bandwidth per chip 1638 GBps"
    assert d.level("hbm").capacity_bytes == pytest.approx(32 * GiB, rel=1e-3)
    assert d.level("hbm").bandwidth_bytes_per_s == pytest.approx(1638e9, rel=1e-3)
    # "Bidirectional ... ICI bandwidth (per chip) 800 GBps", "ICI ports per chip 4", "TPU Pod size 256 chips"
    assert d.link("ici").bandwidth_bytes_per_s == pytest.approx(800e9, rel=1e-3)
    assert d.figure("interconnect.ici.domain_size").value == 256
    # DCN 100 Gb/s per chip
    assert d.link("dcn").bandwidth_bytes_per_s == pytest.approx(100e9 / 8, rel=1e-3)


def test_tpu_v7_ironwood_headline_figures():
    d = roofline.get_device("tpu-v7")
    assert roofline.get_device("ironwood") is d and roofline.get_device("tpu7x") is d
    # TPU7x docs call it "the latest TPU available on Google Cloud" (GA announced 2025-11-06)
    assert d.kind == "tpu" and d.status == "released"
    # TPU7x page: "Peak compute per chip (FP8) (TFLOPs) 4614", "(BF16) 2307"
    assert d.peak("fp8") == pytest.approx(4614e12, rel=1e-3)
    assert d.peak("bf16") == pytest.approx(2307e12, rel=1e-3)
    # "HBM capacity per chip (GiB) 192", "HBM bandwidth per chip (GBps) 7380"
    assert d.level("hbm").capacity_bytes == pytest.approx(192 * GiB, rel=1e-3)
    assert d.level("hbm").bandwidth_bytes_per_s == pytest.approx(7380e9, rel=1e-3)
    # "Bidirectional inter-chip interconnect (ICI) bandwidth per chip (GBps) 1200"; "Number of chips per pod 9216"
    assert d.link("ici").duplex == "bidirectional-total"
    assert d.link("ici").bandwidth_bytes_per_s == pytest.approx(1200e9, rel=1e-3)
    assert d.figure("interconnect.ici.domain_size").value == 9216
    # "Data center network (DCN) bandwidth per chip (Gbps) 100"
    assert d.link("dcn").bandwidth_bytes_per_s == pytest.approx(100e9 / 8, rel=1e-3)
    # JAX lists no INT8 rate for TPU7x, and the file gives none
    assert "int8" not in d.compute


@pytest.mark.parametrize("key,vmem_mib,cores", [("tpu-v5e", 128, 1), ("tpu-v5p", 64, 2),
                                                ("tpu-v6e", 128, 1), ("tpu-v7", 64, 2)])
def test_tpu_vmem_is_the_fastest_level_and_hbm_the_main_memory(key, vmem_mib, cores):
    d = roofline.get_device(key)
    # JAX tpu_info: VMEM per TensorCore (128 MiB on v5e/v6e, 64 MiB on v5p/TPU7x)
    assert [m.name for m in d.memory] == ["vmem", "hbm"]
    assert d.level("vmem").capacity_bytes == pytest.approx(cores * vmem_mib * MiB, rel=1e-3)
    # VMEM bandwidth is an estimate (~22x HBM, scaling book); HBM holds the weights
    assert d.figure("memory.vmem.bandwidth").is_range
    assert d.main_memory.name == "hbm"


@pytest.mark.parametrize("key", ["tpu-v5e", "tpu-v5p", "tpu-v6e", "tpu-v7"])
def test_tpu_ici_latency_is_an_estimate_around_one_microsecond(key):
    # scaling book: each ICI hop's intrinsic overhead "is typically around 1us"
    f = roofline.get_device(key).figure("interconnect.ici.latency")
    assert f.basis == "estimate"
    assert f.value == pytest.approx(1e-6, rel=1e-3)
    assert f.low <= 1e-6 <= f.high


@pytest.mark.parametrize("key", ["tpu-v5e", "tpu-v5p", "tpu-v6e", "tpu-v7"])
def test_tpus_print_no_sparse_peaks(key):
    d = roofline.get_device(key)
    for kinds in d.compute.values():
        assert "sparse" not in kinds
