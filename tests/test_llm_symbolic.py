"""Symbolic forms at the LLM level (roofline.llm.symbolic): closed forms of the mesh model checked against
hand calculations, and the engine's decode expression checked against the numeric path."""

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from roofline.llm import estimate
from roofline.llm import symbolic as S


def _at(expr, **v):
    return float(expr.subs({s: v[str(s)] for s in expr.free_symbols}))


def test_mesh_token_latency_by_hand():
    # One Llama-3.1-8B layer (0.5 GB) on a 762 x 1172 mesh of 44 GB: A = 0.5e9 * 762 * 1172 / 44e9 = 10148.2
    # cores, a band 762 wide and 10148.2 / 762 = 13.32 deep: 762 + 13.32 = 775.32 hops per crossing.
    # 32 layers x 8 crossings x 775.32 hops x 1 ns = 198.48 us; 3 hand-offs of 5 us between 4 wafers: + 15 us.
    t = S.mesh_token_latency()
    v = dict(W=762, H=1172, tau=1e-9, L=32, kappa=8, Q_l=0.5e9, C=44e9, n_w=4, tau_h=5e-6)
    assert _at(t, **v) == pytest.approx(32 * 8 * (762 + 10148.18 / 762) * 1e-9 + 3 * 5e-6, rel=1e-5)


def test_mesh_token_latency_region_wider_than_the_short_side_is_capped_by_the_long_side():
    # A layer holding the whole mesh (Q_l = C): A = W H, a band of the whole mesh, W + H hops per crossing.
    t = S.mesh_token_latency()
    v = dict(W=100, H=200, tau=2e-9, L=1, kappa=1, Q_l=10.0, C=10.0, n_w=1, tau_h=1.0)
    assert _at(t, **v) == pytest.approx((100 + 200) * 2e-9)


def test_mesh_token_latency_grows_by_one_band_per_layer():
    import sympy as sp

    t = S.mesh_token_latency()
    layers = next(s for s in t.free_symbols if s.name == "L")
    d = sp.diff(t, layers)  # d t / d L = kappa * h_band * tau: no L left in it
    assert layers not in d.free_symbols


def test_latency_compute_batch_by_hand():
    # Llama-3.1-8B on one WSE-3: 180 us of latency, 16 GFLOP per token, 15.84 PFLOP/s: b* = 180e-6 * 15.84e15 / 16e9
    b = S.latency_compute_batch()
    assert _at(b, t_lat=180e-6, P=15.84e15, F=16e9) == pytest.approx(178.2)


def test_handoff_dominant_stages_by_hand():
    # 80 layers of 7 us and 5 us per hand-off: the hand-offs (n - 1) * 5 us pass 560 us at n = 113.
    assert S.handoff_stages(80, 7e-6, 5e-6) == pytest.approx(113.0)
    n = S.handoff_dominant_stages()
    assert _at(n, L=126, t_layer=2e-6, tau_h=4e-6) == pytest.approx(1 + 126 * 2 / 4)


_T = S.mesh_token_latency()


@settings(max_examples=30, deadline=None)
@given(tau=st.floats(1e-10, 1e-8), k=st.floats(1.01, 4.0), n_w=st.integers(1, 20))
def test_mesh_token_latency_monotone_in_hop_latency_and_wafers(tau, k, n_w):
    v = dict(W=762, H=1172, tau=tau, L=32, kappa=8, Q_l=0.5e9, C=44e9, n_w=n_w, tau_h=5e-6)
    base = _at(_T, **v)
    assert _at(_T, **{**v, "tau": tau * k}) > base
    assert _at(_T, **{**v, "n_w": n_w + 1}) == pytest.approx(base + 5e-6)


@pytest.mark.slow  # builds the 8B decode expression (about 1 s)
@pytest.mark.parametrize("mode", ["estimate", "latency_bound", "ideal"])
def test_decode_expr_matches_the_numeric_path(mode):
    expr, values = S.decode_time_expr("llama-3.1-8b", "wse3", mode=mode)
    sym = S.evaluate_expr(expr, values, b=1, s=2048)
    num = estimate("llama-3.1-8b", "wse3")["modes"][mode]["tpot_s"]
    assert sym == pytest.approx(num, rel=1e-9)


def test_crossover_batch_is_where_compute_overtakes_latency():
    # Work of one Llama-3.1-8B token at context 2048 (embedding is a look-up, not FLOPs):
    # 2 x (8.030e9 - 128256 x 4096) + 4 x 32 layers x 2048 x 4096 = 15.01e9 + 1.07e9 = 16.08e9 FLOP.
    f, p = S._flops_per_step("llama-3.1-8b", "wse3", "bf16", None, 2048)
    assert f == pytest.approx(2 * (8.030e9 - 128256 * 4096) + 4 * 32 * 2048 * 4096, rel=0.01)
    b = S.crossover_batch("llama-3.1-8b", "wse3")
    assert b == pytest.approx(S.decode_latency_s("llama-3.1-8b", "wse3") * p / f)
    # the numeric path: latency binds the step below b*, compute above it
    lo, hi = estimate("llama-3.1-8b", "wse3", batch=math.floor(b / 2)), estimate("llama-3.1-8b", "wse3", batch=math.ceil(2 * b))
    assert str(lo["bound"]).startswith("latency") and hi["bound"] == "compute"
