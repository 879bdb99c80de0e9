"""The closed-form engine against hand calculations (issue 3)."""

import numpy as np
import pytest
import sympy as sp

import roofline
from roofline import engine, workloads
from roofline.errors import CapacityError, InputError


@pytest.fixture(scope="module")
def h100():
    return roofline.get_device("h100")


def test_h100_bf16_ridge_point_against_hbm(h100):
    # 989.4 TFLOP/s / 3.35 TB/s = 295.3 FLOP/B
    assert engine.ridge_point(h100.peak("bf16"), h100.level("hbm").bandwidth_bytes_per_s) == pytest.approx(295.34, abs=0.01)
    rows = {(r["dtype"], r["level"]): r for r in engine.roofline_table(h100)}
    assert rows[("bf16", "hbm")]["ridge_flops_per_byte"] == pytest.approx(989.4 / 3.35)
    assert rows[("bf16", "hbm")]["bytes_per_flop"] == pytest.approx(3.35 / 989.4)


def test_sparse_peaks_only_on_request(h100):
    dense = {r["dtype"] for r in engine.roofline_table(h100)}
    sparse = {r["dtype"] for r in engine.roofline_table(h100, sparse=True)}
    assert "fp32" in dense and "fp32" not in sparse   # no sparse FP32 peak is published
    r = {(x["dtype"], x["level"]): x for x in engine.roofline_table(h100, sparse=True)}
    assert r[("bf16", "hbm")]["peak_flops_per_s"] == pytest.approx(1978.9e12)


def test_8192_cubed_bf16_gemm_on_h100_is_compute_bound(h100):
    # 2 * 8192^3 FLOP / 989.4 TFLOP/s = 1.111 ms; traffic 3 * 8192^2 * 2 B = 402.7 MB -> 120 us at 3.35 TB/s
    rec = roofline.engine.kernel_report(workloads.gemm(8192, 8192, 8192), h100, ideal=True)
    assert rec["time_s"] == pytest.approx(2 * 8192**3 / 989.4e12, rel=1e-9)
    assert rec["time_s"] == pytest.approx(1.111e-3, rel=1e-3)
    assert rec["bound"] == "compute"
    assert rec["bytes"] == 3 * 8192**2 * 2
    assert rec["arithmetic_intensity"] == pytest.approx(2 * 8192**3 / (3 * 8192**2 * 2))
    assert rec["home_level"] == "hbm"  # 403 MB does not fit the 50 MB L2


@pytest.mark.parametrize("key", ["h100", "h100-pcie", "a100", "h200", "b200", "dojo-d1", "dojo", "ai5"])
def test_gemv_is_memory_bound_on_every_device(key):
    dev = roofline.get_device(key)
    # y = W x with W 8192 x 8192 in BF16: 2 FLOP per 2-byte weight -> intensity ~1 FLOP/B, far below every ridge
    r = engine.evaluate(workloads.gemv(8192, 8192), dev, {}, ideal=True)
    assert str(r["bound"]).startswith("memory:"), (key, r["bound"])
    assert float(r["arithmetic_intensity"]) == pytest.approx(1.0, rel=1e-3)


def test_gemv_on_wse3_is_the_exception():
    # WSE-3's SRAM moves 21 PB/s against a ~16 PFLOP/s dense FP16 peak: more than one byte per FLOP, so its
    # SRAM ridge point is below 1 FLOP/B and even a GEMV (1 FLOP/B) saturates the cores. This is the
    # architecture's whole point (weights stream from SRAM at compute speed); with the 125 PFLOP/s
    # sparsity-inclusive claim the ridge would be 5.95 FLOP/B and the GEMV memory-bound.
    w = roofline.get_device("wse3")
    r = engine.evaluate(workloads.gemv(8192, 8192), w, {}, ideal=True)
    assert engine.ridge_point(w.peak("fp16"), 21e15) < 1.0
    assert r["bound"] == "compute"
    assert engine.ridge_point(w.peak("fp16", sparse=True), 21e15) == pytest.approx(125 / 21)


def test_wse3_ridge_point_from_the_peak_its_spec_uses():
    w = roofline.get_device("wse3")
    peak = w.peak("fp16")                                   # the dense, derived figure
    bw = w.level("sram").bandwidth_bytes_per_s              # 21 PB/s
    expected = peak / 21e15
    assert engine.ridge_point(peak, bw) == pytest.approx(expected)
    # the dense figure is ~16 PFLOP/s, so the SRAM ridge is below 2 FLOP/B: almost everything is compute-bound
    assert expected < 2


def test_gemm_time_hand_calculation_memory_bound(h100):
    # M = 16, N = K = 8192 BF16: bytes = (16*8192 + 8192^2 + 16*8192) * 2 = 134,742,016 B
    # at 3.35 TB/s: 40.22 us; compute 2*16*8192^2/989.4e12 = 2.17 us
    r = engine.evaluate(workloads.gemm(16, 8192, 8192), h100, {}, ideal=True)
    assert float(r["time_s"]) == pytest.approx(134_742_016 / 3.35e12)
    assert r["bound"] == "memory:hbm"


def test_working_set_in_the_fastest_level_that_holds_it(h100):
    # 1024^3 BF16 GEMM: 3 * 1024^2 * 2 B = 6.3 MB fits the 50 MB L2
    r = engine.evaluate(workloads.gemm(1024, 1024, 1024), h100, {}, ideal=True)
    assert int(r["home"]) == 0
    # forcing HBM charges HBM's bandwidth
    r2 = engine.evaluate(workloads.gemm(1, 1024, 1024), h100, {}, ideal=True, level="hbm")
    assert int(r2["home"]) == 1


def test_working_set_that_fits_nowhere_is_an_error(h100):
    big = workloads.gemm(1, 200_000, 200_000)  # 80 GB of BF16 weights + vectors > 80 GB HBM
    with pytest.raises(CapacityError, match="needs .* GB but h100's largest level"):
        roofline.engine.kernel_report(big, h100)
    r = engine.evaluate(big, h100, {})
    assert not bool(r["fits"]) and np.isnan(r["time_s"])  # never silently charged at a faster level


def test_latency_terms_add_to_the_roofline_and_are_switchable(h100):
    tiny = workloads.gemm(1, 64, 64)
    real = float(engine.evaluate(tiny, h100, {})["time_s"])
    ideal = float(engine.evaluate(tiny, h100, {}, ideal=True)["time_s"])
    bound = float(engine.evaluate(tiny, h100, {}, mode="latency_bound")["time_s"])
    # the 2.5 us launch comes on top of the kernel's own (tiny) roofline time, and names its term
    assert real == pytest.approx(ideal + h100.figure("overheads.kernel_launch").value)
    assert engine.evaluate(tiny, h100, {})["bound"] == "latency:launch"
    assert ideal < 1e-7
    # a launch is avoidable (a persistent kernel): the latency bound of one kernel is its roofline
    assert bound == ideal


def test_overlap_models(h100):
    g = workloads.gemm(4096, 4096, 4096)
    lo = float(engine.evaluate(g, h100, {}, overlap="max", ideal=True)["time_s"])
    hi = float(engine.evaluate(g, h100, {}, overlap="sum", ideal=True)["time_s"])
    # sum = compute + L2 + HBM traffic times
    q = 3 * 4096**2 * 2
    expected_sum = 2 * 4096**3 / 989.4e12 + q / 3.35e12 + q / h100.level("l2").bandwidth_bytes_per_s
    assert hi == pytest.approx(expected_sum)
    assert lo == pytest.approx(2 * 4096**3 / 989.4e12)
    with pytest.raises(InputError, match="overlap"):
        engine.evaluate(g, h100, {}, overlap="partial")


def test_symbolic_expression_prints_as_latex(h100):
    expr = engine.time_expr(workloads.gemm(), h100, ideal=True, home="hbm")
    tex = sp.latex(expr)
    assert "P_{bf16}" in tex and "BW_{hbm}" in tex and "M" in tex


def test_break_even_batch_of_a_weight_streaming_gemm(h100):
    # C[M,N] = A[M,K] W[K,N], N = K = 4096 in BF16, data in HBM:
    # 2MNK / P = 2(MK + KN + MN) / BW  ->  M* = P K N / (BW N K - P (K + N))   (per 2-byte element)
    closed, value = engine.break_even(workloads.gemm(None, 4096, 4096), h100, "M", home="hbm")
    P, BW = 989.4e12, 3.35e12
    expected = P * 4096 * 4096 / (BW * 4096 * 4096 - P * (4096 + 4096))
    assert value == pytest.approx(expected, rel=1e-9)
    assert value == pytest.approx(345.1, abs=0.1)
    assert closed.free_symbols == {h100.symbol("compute.bf16.dense"), h100.symbol("memory.hbm.bandwidth")}


def test_crossover_of_two_devices():
    # GEMV time on H100 vs A100 never crosses; a GEMM over M crosses nowhere either (H100 faster in both
    # regimes), but H100 PCIe vs A100 cross: PCIe has the higher peak (756 vs 312) but similar bandwidth
    h100p, a100 = roofline.get_device("h100-pcie"), roofline.get_device("a100")
    wl = workloads.gemm(None, 8192, 8192)
    ca = engine.compile_workload(wl, h100p, ideal=True)
    cb = engine.compile_workload(wl, a100, ideal=True)
    fa = lambda m: engine.evaluate(wl, h100p, {"M": m}, ideal=True, level="hbm", compiled=ca)["time_s"]
    fb = lambda m: engine.evaluate(wl, a100, {"M": m}, ideal=True, level="hbm", compiled=cb)["time_s"]
    xs = engine.crossover(fa, fb, np.geomspace(1, 65536, 200))
    # memory-bound at small M: A100 (2.039 TB/s) is faster than H100 PCIe (2.0 TB/s); they cross where
    # the A100 turns compute-bound: 2 M K N / 312e12 = 2(MK + KN + MN) / 2.0e12
    assert len(xs) == 1
    m = xs[0]
    t_a100 = 2 * m * 8192 * 8192 / 312e12
    t_pcie = 2 * (2 * m * 8192 + 8192**2) / 2.0e12
    assert t_a100 == pytest.approx(t_pcie, rel=1e-3)


def test_sensitivity_elasticities(h100):
    # a GEMV is HBM-bound: d ln T / d ln BW_hbm = -1, the peak does not matter
    s = engine.sensitivity(workloads.gemv(8192, 8192), h100, {}, ideal=True)
    assert s["memory.hbm.bandwidth"] == pytest.approx(-1.0)
    assert s["compute.bf16.dense"] == pytest.approx(0.0)
    g = engine.sensitivity(workloads.gemm(8192, 8192, 8192), h100, {}, ideal=True)
    assert g["compute.bf16.dense"] == pytest.approx(-1.0)


def test_kernels_flops_and_bytes():
    b, s, h, hkv, d = 4, 1024, 32, 8, 128
    dec = workloads.attention_decode(b, s, h, hkv, d).ops[0]
    assert dec.flops == 4 * b * h * s * d
    # KV read scales with the 8 KV heads (GQA), not the 32 query heads
    assert dec.bytes_by_role("kv") == 2 * b * s * hkv * d * 2
    pre = workloads.attention_prefill(1, 2048, 32, 8, 128, causal=True).ops[0]
    assert pre.flops == 4 * 32 * 2048**2 * 128 // 2
    assert workloads.elementwise(1000, inputs=2).ops[0].bytes == 3 * 1000 * 2
    assert workloads.reduction(1000, "fp32").ops[0].bytes == 4000
    bg = workloads.batched_gemm(8, 128, 128, 64).ops[0]
    assert bg.flops == 2 * 8 * 128 * 128 * 64


def test_per_operand_dtypes():
    # int4 weights with bf16 activations compute in bf16 and read half a byte per weight
    op = workloads.gemm(1, 4096, 4096, dtype="bf16", dtype_b="int4").ops[0]
    assert op.dtype == "bf16"
    assert op.bytes == 4096 * 2 + 4096 * 4096 // 2 + 4096 * 2


@pytest.mark.parametrize("bad", [0, -3, 2.5])
def test_bad_shapes_are_errors(bad):
    with pytest.raises(InputError, match="positive integer"):
        workloads.gemm(bad, 16, 16)


def test_estimate_device_gives_a_range():
    ai5 = roofline.get_device("ai5")
    rec = roofline.engine.kernel_report(workloads.gemm(8192, 8192, 8192), ai5, ideal=True)
    lo, hi = rec["time_s_range"]
    assert lo < rec["time_s"] < hi
