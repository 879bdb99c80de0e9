"""Bounds known without a pass (issue 13, the NumPy-only engine): the NumPy evaluator reads a term's least
and greatest values from its expression at the block's extreme arguments where the expression is monotone,
and the times and binding terms stay those of the point-by-point comparison, to the last bit."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_evaluators import CASES, _max_reference, _step

from roofline.engine import numpy_eval
from roofline.engine.pointcode import monotone_outputs

_SRC = """def f(a0, a1, d0):
    x0 = a0 - d0
    x1 = a0/d0
    x2 = d0/a0
    return [x0, x1, x2, max(a0, x1), min(a0, 1), -a0 + a1*x1, a0*a1, x1*a1, 3*d0, (a0 + 2)*x1, 0, a1/(d0*d0)]
"""


def test_which_outputs_are_monotone_by_hand():
    """By hand, with a0 and a1 arrays and d0 a number: a difference, a division by an array, ``min`` and a
    negation are not monotone (0); sums, products, ``max`` and divisions by numbers are, of one array (2:
    bounded by their extremes) or of two (1); numbers and constants read no array (2)."""
    got = monotone_outputs(_SRC, 3, 3, ("a0", "a1"))
    assert got == [0, 2, 0, 2, 0, 0, 1, 1, 2, 2, 2, 2]
    assert monotone_outputs(_SRC, 3, 3, ("a0",))[7] == 2  # x1*a1: one array where a1 is a number
    assert monotone_outputs("def f(a0):\n    'doc'\n    return [a0]\n", 0, 16, ("a0",)) is None


@pytest.mark.parametrize("model, device, devices, phase", CASES)
def test_bounds_bracket_every_point_and_exact_ones_are_reached(model, device, devices, phase):
    """Every output flagged monotone lies between its values at the block's least and greatest arguments, at
    every point of a random grid (ranges of 1-2047 batches and 1-32767 tokens); those of one array equal
    its least and greatest values."""
    cw, vals, _, _ = _step(model, device, devices, phase)
    rng = np.random.default_rng(3)
    n = 5000
    shapes = {"b": rng.integers(1, 2048, n).astype(float), "s": rng.integers(1, 32768, n).astype(float),
              "p": rng.integers(1, 32768, n).astype(float)}
    args = [shapes[k] for k in cw.shape_names] + [vals[p] for p in cw.device_paths]
    assert numpy_eval._staged(cw, args, {}) is not None  # sets the argument names
    got = numpy_eval._point_bounds(cw, args)
    assert got is not None
    mono, lo, hi = got
    assert sum(m > 0 for m in mono) > len(mono) // 2  # most outputs are sums and products
    with np.errstate(all="ignore"):
        every = cw.func(*args)
    for m, v, least, most in zip(mono, every, lo, hi, strict=True):
        v = np.broadcast_to(np.asarray(v, dtype=float), (n,))
        if not m or not np.isfinite(most):
            continue
        assert least <= v.min() and v.max() <= most
        if m == 2:
            assert least == v.min() and most == v.max()


@pytest.mark.parametrize("args", [[np.array([-1.0, 2.0]), 1.0], [np.array([1.0, np.nan]), 1.0],
                                  [np.array([1.0, np.inf]), 1.0], [np.array([1.0, 2.0]), -1.0],
                                  [np.array([1, 2]), 1.0]])
def test_no_bounds_outside_their_domain(args):
    """A negative, NaN or infinite argument, or an array not of float64: no bounds (every test by
    reductions)."""

    class _Cw:
        numpy_source = "def f(a0, d0):\n    return [a0*d0, a0, a0]\n"
        n_ops = 0

        def __init__(self):
            self._np_arg_names = ["a0", "d0"]  # set by the staged path before bounds are read

        class layout:
            per_op = 1

        @staticmethod
        def func(a0, d0):
            return [a0 * d0, a0, a0]

    assert numpy_eval._point_bounds(_Cw(), args) is None
    assert numpy_eval._point_bounds(_Cw(), [np.array([1.0, 2.0]), 1.0])[1:] == ([1.0, 1.0, 1.0], [2.0, 2.0, 2.0])


_N = (12,)
_VALUE = st.one_of(st.sampled_from([0.0, -0.0, 1.0, 2.0, 3.0, 5e-324]), st.floats(0, 10, allow_nan=False).map(float))
_ARRAY = st.lists(_VALUE, min_size=_N[0], max_size=_N[0]).map(np.array)


@st.composite
def _bounded(draw):
    """A term and bounds on it: its extremes (exact), or a looser pair."""
    x = draw(_ARRAY | _VALUE)
    if not isinstance(x, np.ndarray):
        return x, None
    lo, hi = float(x.min()), float(x.max())
    kind = draw(st.sampled_from(["none", "exact", "loose"]))
    if kind == "none":
        return x, None
    if kind == "exact":
        return x, (lo, hi, True)
    return x, (draw(st.floats(0, lo)) if lo > 0 else lo, draw(st.floats(hi, 20)), False)


@settings(max_examples=150, deadline=None)
@given(terms=st.lists(st.tuples(st.integers(0, 5), _bounded()), min_size=1, max_size=5, unique_by=lambda t: t[0]),
       cnt=st.sampled_from([1, 80.0, 0.5]), wins=st.sampled_from([None, (), tuple(range(6))]).map(lambda w: None if w is None else set(w)))
def test_the_running_maximum_with_bounds_is_the_point_by_point_one(terms, cnt, wins):
    """Exact, loose or no bounds on each term, signed zeros and ties included: the same maximum to the
    bit (a -0.0 stays a -0.0) and the same binding term at every point as the point-by-point comparison."""
    live = [(j, x) for j, (x, _) in sorted(terms, key=lambda t: t[0])]
    tb = [None] * 6
    for j, (_, b) in terms:
        tb[j] = b
    ref, idx = _max_reference(live, cnt)
    for _ in range(2):
        bufs = (np.empty(_N), np.empty(_N), np.empty(_N), np.empty(_N, dtype=np.int64), np.empty(_N, dtype=bool))
        work, single = numpy_eval._max_terms(live, cnt, True, bufs, wins, tb)
        w = np.broadcast_to(work, _N)
        assert np.array_equal(w, ref) and np.array_equal(np.signbit(w), np.signbit(ref))
        got = np.full(_N, single) if single is not None else bufs[3]
        assert np.array_equal(got, idx)


@pytest.mark.parametrize("model, device, devices, phase", CASES)
@pytest.mark.parametrize("order", ["random", "sorted"])
def test_blocks_with_bounds_equal_blocks_without(monkeypatch, model, device, devices, phase, order):
    """Blocks of 8192 points evaluated with the bounds and without them (every test by reductions, every
    compute term computed): the same times, totals, homes and binding terms, to the last bit, in every
    mode, at the placement's home and at each point's own; on random points and on a sorted grid (batch
    by batch, where the bounds decide most terms)."""
    monkeypatch.setenv("ROOFLINE_FUSED", "0")
    cw, vals, caps, home = _step(model, device, devices, phase)
    rng = np.random.default_rng(11)
    n = 3 * 8192 + 5
    b = rng.integers(1, 2048, n).astype(float)
    s = rng.integers(1, 32768, n).astype(float)
    if order == "sorted":
        b, s = np.repeat(np.arange(1.0, 201.0), 124)[:n], np.tile(np.arange(128.0, 128.0 * 125, 128.0), 200)[:n]
        n = b.size
    shapes = {"b": b, ("s" if phase == "decode" else "p"): s}
    lowest_of = (numpy_eval.BOUNDS_MIN, 10**12)
    for mode, hm in (("ideal", home), ("latency_bound", home), ("estimate", home), ("estimate", None)):
        got = {}
        for lowest in lowest_of:
            monkeypatch.setattr(numpy_eval, "BOUNDS_MIN", lowest)
            if lowest != lowest_of[0]:  # and no bounds on the binding rows either
                monkeypatch.setattr(numpy_eval, "_times_bounds", lambda ce, cnt: None)
            with np.errstate(all="ignore"):
                got[lowest] = cw.evaluate(shapes, vals, caps, home=hm, mode=mode, workers=1, chunk=8192)
        monkeypatch.undo()
        monkeypatch.setenv("ROOFLINE_FUSED", "0")
        a, z = got.values()
        for k in ("time_s", "flops", "bytes", "bound_index", "home", "fits"):
            assert np.array_equal(np.asarray(a[k]), np.asarray(z[k]), equal_nan=True), (mode, k)
        with np.errstate(all="ignore"):
            rows = cw.evaluate(shapes, vals, caps, home=hm, mode=mode, workers=1, chunk=8192, detail=True)
        tt = np.asarray(rows["term_times"])
        ok = np.isfinite(tt).all(axis=0)
        assert np.array_equal(np.asarray(a["bound_index"])[ok], np.argmax(tt, axis=0)[ok])  # the first greatest


@st.composite
def _rows(draw):
    """Work rows of a block (some never charged), each with its extremes, looser bounds or none."""
    n = 9
    rows = {}
    for j in range(4):  # OutputLayout(2, 1): compute, two levels, one link
        if draw(st.booleans()):
            x = np.array(draw(st.lists(st.sampled_from([0.0, 1.0, 2.0, 3.0, 2.5]), min_size=n, max_size=n)))
            kind = draw(st.sampled_from(["none", "exact", "loose"]))
            b = None if kind == "none" else (x.min(), x.max()) if kind == "exact" else (x.min() - 1.0, x.max() + 1.0)
            rows[j] = (x, b)
    return rows


@settings(max_examples=150, deadline=None)
@given(rows=_rows(), lat=st.sampled_from([0.0, 1.5, 2.0, 4.0]))
def test_the_binding_term_with_row_bounds_is_the_first_greatest(rows, lat):
    """Rows charged with exact, loose or no bounds, a latency the same at every point: the binding term is
    the first greatest row at every point (rows never charged are zeros), as ``argmax`` finds it."""
    from roofline.engine.layout import N_LATENCY, OutputLayout

    lay = OutputLayout(2, 1)
    n = 9
    acc = numpy_eval._Acc(lay.n_reported, n, lazy=True)
    for j, (x, b) in rows.items():
        acc.add(j, x, b)
    lat_acc = [lat] + [0.0] * (N_LATENCY - 1)
    got = numpy_eval._binding(acc, lat_acc, lay, n, (n,), False)["bound_index"]
    full = np.zeros((lay.n_reported, n))
    for j, (x, _) in rows.items():
        full[j] = x
    full[lay.term_latency(0)] = lat
    assert np.array_equal(got, np.argmax(full, axis=0))


@pytest.mark.parametrize("overlap, workers", [("sum", 1), ("max", 2), ("sum", 2)])
def test_bounds_change_nothing_without_overlap_or_on_two_threads(monkeypatch, overlap, workers):
    """The same comparison as above for a step compiled without overlap (``sum``: every term read) and for
    blocks spread over two threads: with and without the bounds, the same times, totals, homes, fits and
    binding terms, to the last bit."""
    from roofline.hardware.library import get_device
    from roofline.llm.inference import _compiled
    from roofline.llm.loader import get_model
    from roofline.llm.precision import Precision
    from roofline.llm.sizes import place

    monkeypatch.setenv("ROOFLINE_FUSED", "0")
    m, d = get_model("llama-3.1-8b"), get_device("h100")
    pl = place(m, d, Precision(), devices=1)
    cw = _compiled(m, d, "decode", Precision(), pl, False, overlap)
    vals = d.values()
    caps = [vals[f"memory.{lvl.name}.capacity"] for lvl in d.memory]
    rng = np.random.default_rng(5)
    n = (1 << 17) + 3  # above dispatch.PARALLEL_MIN: the blocks go to the threads asked for
    shapes = {"b": rng.integers(1, 2048, n).astype(float), "s": rng.integers(1, 32768, n).astype(float)}
    got = []
    for lowest in (numpy_eval.BOUNDS_MIN, 10**12):
        monkeypatch.setattr(numpy_eval, "BOUNDS_MIN", lowest)
        if got:  # the second run: no bounds on the binding rows either
            monkeypatch.setattr(numpy_eval, "_times_bounds", lambda ce, cnt: None)
        with np.errstate(all="ignore"):
            got.append(cw.evaluate(shapes, vals, caps, home=None, mode="estimate", workers=workers, chunk=8192))
    for k in ("time_s", "flops", "bytes", "bound_index", "home", "fits"):
        assert np.array_equal(np.asarray(got[0][k]), np.asarray(got[1][k]), equal_nan=True), k
