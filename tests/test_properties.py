"""Laws of the model, checked with hypothesis (issue 3)."""

import numpy as np
import pytest
import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st

import roofline
from roofline import engine, workloads

pos = st.floats(min_value=1e-3, max_value=1e18, allow_nan=False, allow_infinity=False)
dims = st.integers(min_value=1, max_value=1 << 16)

H100 = roofline.get_device("h100")
GEMM = workloads.gemm()
CW_MAX = engine.compile_workload(GEMM, H100, overlap="max", ideal=False)
CW_SUM = engine.compile_workload(GEMM, H100, overlap="sum", ideal=False)


@given(intensity=pos, peak=pos, bw=pos)
def test_attainable_is_at_most_peak_and_bandwidth_times_intensity(intensity, peak, bw):
    a = engine.attainable_performance(intensity, peak, bw)
    assert a <= peak
    assert a <= bw * intensity * (1 + 1e-12)


@given(i1=pos, i2=pos, peak=pos, bw=pos)
def test_attainable_is_monotone_in_intensity(i1, i2, peak, bw):
    lo, hi = sorted((i1, i2))
    assert engine.attainable_performance(lo, peak, bw) <= engine.attainable_performance(hi, peak, bw)


def _time(m, n, k, cw=CW_MAX, **overrides):
    return float(engine.evaluate(GEMM, H100, {"M": m, "N": n, "K": k}, level="hbm", compiled=cw,
                                 device_values=overrides)["time_s"])


@settings(max_examples=60, deadline=None)
@given(m=dims, n=dims, k=dims, f=st.floats(min_value=1.0, max_value=100.0))
def test_time_is_non_increasing_in_bandwidth_and_peak(m, n, k, f):
    base = _time(m, n, k)
    assert _time(m, n, k, **{"memory.hbm.bandwidth": 3.35e12 * f}) <= base
    assert _time(m, n, k, **{"compute.bf16.dense": 989.4e12 * f}) <= base
    assert _time(m, n, k, **{"memory.l2.bandwidth": 7e12 * f}) <= base


@settings(max_examples=60, deadline=None)
@given(m=dims, n=dims, k=dims)
def test_upper_bound_is_at_least_lower_bound(m, n, k):
    assert _time(m, n, k, cw=CW_SUM) >= _time(m, n, k, cw=CW_MAX)


@settings(max_examples=40, deadline=None)
@given(m=dims, n=dims, k=dims, ideal=st.booleans(), overlap=st.sampled_from(["max", "sum"]))
def test_symbolic_and_lambdified_agree(m, n, k, ideal, overlap):
    expr = engine.time_expr(GEMM, H100, overlap=overlap, ideal=ideal, home="hbm")
    subs = {sp.Symbol("M", positive=True): m, sp.Symbol("N", positive=True): n, sp.Symbol("K", positive=True): k}
    subs.update(H100.subs())
    symbolic = float(expr.subs(subs))
    cw = engine.compile_workload(GEMM, H100, overlap=overlap, ideal=ideal)
    numeric = _time(m, n, k, cw=cw)
    assert numeric == pytest.approx(symbolic, rel=1e-12)


@settings(max_examples=60, deadline=None)
@given(m=dims, n=dims, k=dims)
def test_no_nan_or_inf_for_valid_input(m, n, k):
    r = engine.evaluate(GEMM, H100, {"M": m, "N": n, "K": k}, compiled=CW_MAX)
    for key in ("time_s", "flops", "bytes", "arithmetic_intensity", "attainable_flops_per_s"):
        assert np.all(np.isfinite(r[key])), key
    assert float(r["attainable_flops_per_s"]) <= H100.peak("bf16") * (1 + 1e-12)


@settings(max_examples=30, deadline=None)
@given(ms=st.lists(dims, min_size=1, max_size=50))
def test_vectorised_equals_pointwise(ms):
    arr = np.array(ms)
    vec = engine.evaluate(GEMM, H100, {"M": arr, "N": 4096, "K": 4096}, compiled=CW_MAX)["time_s"]
    for i, m in enumerate(ms):
        one = engine.evaluate(GEMM, H100, {"M": m, "N": 4096, "K": 4096}, compiled=CW_MAX)["time_s"]
        assert vec[i] == pytest.approx(float(one), rel=1e-12)
