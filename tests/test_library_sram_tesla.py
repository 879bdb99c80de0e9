"""The 2026 device library: SRAM-centred devices (Groq LPU v1, SambaNova SN40L, Cerebras WSE-2) and the Tesla
refresh (AI5 ranges). Every expected value is written out from its source."""

import pytest

import roofline


# ---------------------------------------------------------------------------------------------------
# Groq LPU v1 (GroqChip 1 / TSP)
# ---------------------------------------------------------------------------------------------------
def test_groq_lpu_headline_figures():
    d = roofline.get_device("groq-lpu")
    assert d.status == "released"
    # Groq product brief (via TechPowerUp 2024): 188 TFLOPS FP16, 750 TOPS INT8, dense (no sparsity mode)
    assert d.peak("fp16") == pytest.approx(188e12, rel=1e-3)
    assert d.peak("int8") == pytest.approx(750e12, rel=1e-3)
    # ISCA 2020/2022: 220 MiB of on-die SRAM (= the brief's "230 MB"); no DRAM at all
    assert d.level("sram").capacity_bytes == pytest.approx(220 * 2**20, rel=1e-3)
    assert d.level("sram").capacity_bytes == pytest.approx(230.7e6, rel=1e-3)
    assert [m.kind for m in d.memory] == ["sram"]
    # Groq: "80 TB/s" (estimate, down to the ISCA 2020 microarchitecture's ~50.7 TB/s at 900 MHz)
    sram_bw = d.figure("memory.sram.bandwidth")
    assert d.level("sram").bandwidth_bytes_per_s == pytest.approx(80e12, rel=1e-3)
    assert sram_bw.low == pytest.approx(50e12, rel=1e-3) and sram_bw.high == pytest.approx(80e12, rel=1e-3)
    # TechSpot 2020: "demands 300W" (estimate)
    assert d.figure("power.tdp").value == pytest.approx(300, rel=1e-3)


def test_groq_lpu_c2c_links():
    d = roofline.get_device("groq-lpu")
    # Linley 2020 (Abts): 16 C2C links x 4 lanes x 30 Gb/s = 480 GB/s total, 240 GB/s each way
    c2c = d.link("c2c")
    assert c2c.bandwidth_bytes_per_s == pytest.approx(480e9, rel=1e-3)
    assert c2c.per_direction_bytes_per_s == pytest.approx(240e9, rel=1e-3)
    # ISCA 2022: 722 ns pipelined latency per hop; a rack = 9 nodes x 8 TSPs = 72
    assert d.figure("interconnect.c2c.latency").value == pytest.approx(722e-9, rel=1e-3)
    assert c2c.devices_per_domain == 72
    # ISCA 2022: 144 inter-rack ports per 72-TSP rack = 2 x4 links per TSP = 30 GB/s each way; up to 10,440 TSPs
    df = d.link("dragonfly")
    assert df.bandwidth_bytes_per_s == pytest.approx(30e9, rel=1e-3)
    assert df.devices_per_domain == 10440


def test_groq_lpu_peaks_agree_with_the_microarchitecture():
    d = roofline.get_device("groq-lpu")
    # 4 x 320 x 320 MACs x 2 OP x 900 MHz = 737 TOPS; FP16 at a quarter of that = 184 TFLOP/s
    assert d.figure("architecture.int8_from_microarchitecture").value == pytest.approx(4 * 320 * 320 * 2 * 0.9e9)
    assert d.figure("architecture.fp16_from_microarchitecture").value == pytest.approx(2 * 160 * 320 * 2 * 0.9e9)
    # ISCA 2020: 2 hemispheres x 44 slices x 2 banks x 320 B per cycle, at 900 MHz
    assert d.figure("architecture.sram_bandwidth_from_microarchitecture").value == pytest.approx(88 * 2 * 320 * 0.9e9)


def test_groq_lpu_has_no_bf16_peak():
    with pytest.raises(roofline.errors.InputError):
        roofline.get_device("groq-lpu").peak("bf16")


# ---------------------------------------------------------------------------------------------------
# SambaNova SN40L
# ---------------------------------------------------------------------------------------------------
def test_sn40l_headline_figures():
    d = roofline.get_device("sn40l")
    assert d.status == "released"
    # arXiv 2405.07518 / Hot Chips 2024: 638 TFLOPS BF16
    assert d.peak("bf16") == pytest.approx(638e12, rel=1e-3)
    # three tiers, fastest first: 520 MiB SRAM, 64 GiB HBM, up to 1.5 TiB DDR
    assert [m.name for m in d.memory] == ["sram", "hbm", "ddr"]
    assert d.level("sram").capacity_bytes == pytest.approx(520 * 2**20, rel=1e-3)
    assert d.level("hbm").capacity_bytes == pytest.approx(64 * 2**30, rel=1e-3)
    assert d.level("ddr").capacity_bytes == pytest.approx(1.5 * 2**40, rel=1e-3)
    # paper: ~1.8 TB/s HBM, ~200 GB/s DDR; Hot Chips 2024 (16 sockets: 25.6 TB/s, 1,600 GB/s) gives the low ends
    hbm, ddr = d.figure("memory.hbm.bandwidth"), d.figure("memory.ddr.bandwidth")
    assert d.level("hbm").bandwidth_bytes_per_s == pytest.approx(1.8e12, rel=1e-3)
    assert hbm.low == pytest.approx(25.6e12 / 16, rel=1e-3)
    assert d.level("ddr").bandwidth_bytes_per_s == pytest.approx(200e9, rel=1e-3)
    assert ddr.low == pytest.approx(1600e9 / 16, rel=1e-3)
    # the HBM, not the 520 MiB scratchpad, is where weights live between steps
    assert d.main_memory.name == "hbm"


def test_sn40l_system_sizes():
    d = roofline.get_device("sn40l")
    # paper: 8-socket SN40L Node; SambaNova docs: SambaRack SN40L-16 = 16 RDUs in 8 XRDU modules
    assert d.figure("architecture.sockets_per_node").value == 8
    assert d.figure("architecture.sockets_per_rack").value == 16
    assert d.figure("architecture.pcus").value == 1040 and d.figure("architecture.pmus").value == 1040


# ---------------------------------------------------------------------------------------------------
# Cerebras WSE-2 (CS-2)
# ---------------------------------------------------------------------------------------------------
def test_wse2_headline_figures():
    d = roofline.get_device("wse2")
    assert d.status == "released"
    # AnandTech / eeNews (Cerebras, April 2021): 850,000 cores, 40 GB SRAM, 20 PB/s, 220 Pb/s fabric, 2.6 T transistors
    assert d.figure("architecture.cores").value == 850_000
    assert d.level("sram").capacity_bytes == pytest.approx(40e9, rel=1e-3)
    assert d.level("sram").bandwidth_bytes_per_s == pytest.approx(20e15, rel=1e-3)
    assert d.link("fabric").bandwidth_bytes_per_s == pytest.approx(220e15 / 8, rel=1e-3)
    assert d.figure("architecture.transistors").value == pytest.approx(2.6e12, rel=1e-3)
    # dense FP16 derived like wse3: 850,000 cores x 8 FLOP/cycle (4-wide FMA) x 1.1 GHz = 7.48 PFLOP/s
    assert d.peak("fp16") == pytest.approx(850_000 * 8 * 1.1e9, rel=1e-3)
    assert d.figure("compute.fp16.dense").basis == "derived"
    # Golem.de (Cerebras): CS-2 draws up to 23 kW; 12 x 100 GbE = 1.2 Tb/s; clusters of up to 192 CS-2s
    assert d.figure("power.tdp").value == pytest.approx(23e3, rel=1e-3)
    assert d.link("system_io").bandwidth_bytes_per_s == pytest.approx(150e9, rel=1e-3)
    assert d.link("system_io").devices_per_domain == 192


def test_wse2_is_half_a_wse3():
    w2, w3 = roofline.get_device("wse2"), roofline.get_device("wse3")
    # the WSE-3 doubled the SIMD width (4 -> 8 FP16 lanes) on 900k vs 850k cores at about the same clock
    assert w3.peak("fp16") / w2.peak("fp16") == pytest.approx(2 * 900_000 / 850_000, rel=1e-3)


# ---------------------------------------------------------------------------------------------------
# Tesla AI5 and Dojo refresh
# ---------------------------------------------------------------------------------------------------
AI5_RANGED = ["compute.int8.dense", "compute.fp8.dense", "compute.bf16.dense", "memory.dram.capacity",
              "memory.dram.bandwidth", "power.tdp", "architecture.die_area"]


@pytest.mark.parametrize("path", AI5_RANGED)
def test_ai5_figures_are_ranges(path):
    f = roofline.get_device("ai5").figure(path)
    assert f.basis == "estimate"
    assert f.low < f.high
    assert f.low <= f.value <= f.high


def test_ai5_ranges_hold_the_published_claims():
    d = roofline.get_device("ai5")
    assert d.status == "unreleased"
    # Q3-2025 call: ~9x AI4's 16 GB per SoC = 144 GB; tape-out coverage (April 2026): "up to 192 GB" = the high end
    cap = d.figure("memory.dram.capacity")
    assert cap.value == pytest.approx(144e9, rel=1e-3)
    assert cap.high == pytest.approx(192e9, rel=1e-3)
    # ~5x AI4's ~384 GB/s = ~1.9 TB/s
    assert d.level("dram").bandwidth_bytes_per_s == pytest.approx(1.9e12, rel=1e-3)
    # "Hopper-class": ~2,000 TOPS INT8 nominal
    assert d.peak("int8") == pytest.approx(2000e12, rel=1e-3)


def test_dojo_figures_unchanged_by_the_status_notes():
    d = roofline.get_device("dojo")
    assert d.status == "discontinued"
    assert d.peak("bf16") == pytest.approx(25 * 362e12, rel=1e-3)   # 25 x D1, Tesla prints 9 PFLOPS
    assert d.figure("power.tdp").value == pytest.approx(15e3, rel=1e-3)
    assert "Dojo 2" in d.summary and "Dojo 3" in d.summary
