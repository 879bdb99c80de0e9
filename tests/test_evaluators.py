"""The evaluators agree: the NumPy path, the fused path and the chunked, multi-core paths give the same
numbers (issue 13).

A grid runs on the NumPy evaluator or the fused one, a large grid in blocks on several threads, a sweep in
chunks, to memory, to a file or folded. All of them print or lambdify the same expressions; these tests
evaluate random grids every way and require the same times to the last bit (every path performs the same
IEEE operations in the same order: the same common-subexpression elimination, each op's latencies summed
before they are added to its work), the same binding term, the same home level and the same verdict on
fitting.
"""

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from roofline import engine, get_device, llm, workloads
from roofline.engine import dispatch, fused, numpy_eval
from roofline.engine.layout import OutputLayout
from roofline.engine.pointcode import staged_source
from roofline.errors import CapacityError, InputError
from roofline.llm import Precision, get_model, place
from roofline.llm.inference import _compiled
from roofline.vocab import Mode

CASES = [("llama-3.1-70b", "h100", 8, "decode"), ("llama-3.1-70b", "wse3", None, "prefill"),
         ("mixtral-8x7b", "h100", None, "decode"), ("gpt-oss-120b", "wse3", None, "decode")]


#: how far the fused kernel may differ from NumPy where a workload raises to an inexact power: NumPy's
#: ``power`` (SVML's on a CPU with AVX-512) and C's ``pow``, which numba calls, differ in the last bit for
#: about one argument in twenty; a difference of terms (a MoE's expected experts) can amplify that ulp
POW_RTOL = 1e-13


def _pow_free(cw) -> bool:
    """``cw`` raises nothing to an inexact power (the point code prints those as ``_pow``): its fused kernel
    and its NumPy function perform the same IEEE operations, with the same results."""
    return "_pow(" not in (cw.numpy_source or "_pow(")


def _same(a, b, keys=("time_s", "flops", "bytes"), rtol=0.0):
    for k in keys:
        x, y = np.asarray(a[k], dtype=float), np.asarray(b[k], dtype=float)
        if rtol == 0.0:
            np.testing.assert_array_equal(x, y, err_msg=k)  # to the last bit, NaN where NaN
        else:
            assert np.array_equal(np.isnan(x), np.isnan(y)), k
            np.testing.assert_allclose(x[~np.isnan(x)], y[~np.isnan(x)], rtol=rtol, err_msg=k)
    ok = ~np.isnan(np.asarray(a["time_s"], dtype=float))
    for k in ("bound_index", "home", "fits"):
        if k in a and k in b:
            assert np.array_equal(np.asarray(a[k])[ok], np.asarray(b[k])[ok]), k


def _step(model, device, devices, phase, corner="nominal"):
    """The compiled step, its figures at ``corner``, the capacities and the placement's home level."""
    m, d = get_model(model), get_device(device)
    pl = place(m, d, Precision(), devices=devices)
    cw = _compiled(m, d, phase, Precision(), pl, False, "max")
    vals = d.values(corner)
    return cw, vals, [vals[f"memory.{lvl.name}.capacity"] for lvl in d.memory], pl.home


def _grid(seed, n, phase):
    rng = np.random.default_rng(seed)
    b = rng.integers(1, 2048, n).astype(float)
    s = rng.integers(1, 32768, n).astype(float)
    return {"b": b, ("s" if phase == "decode" else "p"): s}


@pytest.mark.parametrize("model, device, devices, phase", CASES)
@pytest.mark.parametrize("mode", ["ideal", "latency_bound", "estimate"])
def test_blocks_and_threads_equal_one_block(monkeypatch, model, device, devices, phase, mode):
    """Small blocks spread over two threads give the NumPy evaluator's one-block result, in every mode."""
    monkeypatch.setenv("ROOFLINE_FUSED", "0")
    monkeypatch.setattr(dispatch, "PARALLEL_MIN", 1)
    cw, vals, caps, home = _step(model, device, devices, phase)
    shapes = _grid(3, 5000, phase)
    whole = cw.evaluate(shapes, vals, caps, home=home, mode=mode, workers=1, chunk=1 << 20)
    parts = cw.evaluate(shapes, vals, caps, home=home, mode=mode, workers=2, chunk=333)
    _same(parts, whole)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(1, 400), chunk=st.integers(1, 97),
       workers=st.integers(1, 3), overlap=st.sampled_from(["max", "sum"]),
       device=st.sampled_from(["h100", "wse3", "mi300x"]))
def test_random_gemm_grids_agree_in_blocks_and_threads(monkeypatch, seed, n, chunk, workers, overlap, device):
    """A random GEMM grid, fitting a level or none: any blocks on any threads give the one-block answer,
    binding terms and home levels included."""
    monkeypatch.setenv("ROOFLINE_FUSED", "0")
    monkeypatch.setattr(dispatch, "PARALLEL_MIN", 1)
    dev = get_device(device)
    cw = engine.compile_workload(workloads.gemm(), dev, overlap=overlap)
    vals = dev.values()
    caps = [vals[f"memory.{m.name}.capacity"] for m in dev.memory]
    rng = np.random.default_rng(seed)
    shapes = {k: rng.integers(1, 400_000, n).astype(float) for k in "MNK"}
    _same(cw.evaluate(shapes, vals, caps, chunk=chunk, workers=workers),
          cw.evaluate(shapes, vals, caps, chunk=1 << 20, workers=1))


# ------------------------------------------------------------------------------------------------------
# the NumPy evaluator's own machinery: the staged function, pooled buffers, the running maximum
# ------------------------------------------------------------------------------------------------------
def _flat_outputs(cw, args, staged):
    """Every output of ``cw`` at ``args``, through ``cw.func`` (``staged`` None) or the staged generator
    (each stage copied before the next one reuses its buffers)."""
    if staged is None:
        return [np.array(np.broadcast_to(v, np.shape(args[0])), dtype=float) for v in cw.func(*args)]
    out = []
    for s, stage in enumerate(staged):
        stage = list(stage)
        for group in (True, 2):  # the deferred outputs, sent for: the slower levels' transients, the compute term
            missing = [t for t, v in enumerate(stage) if v is None and (group == 2) == (s > 0 and t == OutputLayout.COMPUTE)]
            if missing:
                for t, v in zip(missing, staged.send(group), strict=True):
                    stage[t] = v
        out += [np.array(np.broadcast_to(v, np.shape(args[0])), dtype=float) for v in stage]
    return out


@pytest.mark.parametrize("model, device, devices, phase", CASES)
def test_the_staged_function_computes_every_output_exactly(model, device, devices, phase):
    """The generator of one op's outputs at a time, with and without pooled buffers, gives every output of
    the compiled NumPy function to the last bit (the same ufuncs on the same operands, only ``out=`` differs)."""
    cw, vals, _, _ = _step(model, device, devices, phase)
    shapes = _grid(5, 777, phase)
    args = [shapes[n] for n in cw.shape_names] + [np.asarray(vals[p], dtype=float) for p in cw.device_paths]
    ref = _flat_outputs(cw, args, None)
    mine = {"flops": np.full(777, -1.0), "bytes": np.full(777, -1.0)}  # a caller's arrays: totals written there
    pooled = numpy_eval._staged(cw, args, mine)
    assert pooled is not None  # the workloads above are printed by pointcode: the staged path applies
    plain = numpy_eval._staged(cw, [a[:1].reshape(()) if i < len(cw.shape_names) else a for i, a in enumerate(args)],
                               {})
    assert plain is not None
    got = _flat_outputs(cw, args, pooled)
    for a, b in zip(ref, got, strict=True):
        assert np.array_equal(a, b, equal_nan=True)
    for k in ("flops", "bytes"):  # still the totals once every op is evaluated
        assert np.array_equal(mine[k], ref[0 if k == "flops" else 1])
    lay = cw.layout
    src = staged_source(cw.numpy_source, cw.n_ops, lay.per_op, deferred=[lay.transient(1)] if lay.n_levels > 1 else [])
    ns = dict(cw.func.__globals__)
    exec(compile(src, "<test>", "exec"), ns)  # noqa: S102
    for a, b in zip(ref, _flat_outputs(cw, args, ns["_staged"](*args)), strict=True):
        assert np.array_equal(a, b, equal_nan=True)


@pytest.mark.parametrize("model, device, devices, phase", CASES)
@pytest.mark.parametrize("sign", [1.0, -1.0])
def test_rows_never_charged_do_not_change_the_binding_term(model, device, devices, phase, sign):
    """Without ``detail`` the evaluator skips the terms no op charged; the binding term is the one found over
    every row of zeros included (``detail``), in every mode, negative what-if figures included."""
    cw, vals, caps, home = _step(model, device, devices, phase)
    vals = {k: (sign * v if k in cw.device_paths[:2] else v) for k, v in vals.items()}
    shapes = _grid(9, 3000, phase)
    args = [shapes[n] for n in cw.shape_names] + [np.asarray(vals[p], dtype=float) for p in cw.device_paths]
    c = [np.asarray(x, dtype=float) for x in caps]
    for mode in ("ideal", "latency_bound", "estimate"):
        with np.errstate(all="ignore"):
            lean = numpy_eval.evaluate_block(cw, args, c, np.asarray(1.0), np.asarray(home), True, False, Mode(mode))
            full = numpy_eval.evaluate_block(cw, args, c, np.asarray(1.0), np.asarray(home), True, True, Mode(mode))
        assert np.array_equal(lean["bound_index"], full["bound_index"])
        assert np.array_equal(lean["time_s"], full["time_s"], equal_nan=True)


def test_a_source_not_of_the_staged_form_falls_back_to_the_whole_function():
    """SymPy's printer with a docstring or a tuple return is not rewritten: None, and the caller runs the
    whole function."""
    assert staged_source("def f(a0):\n    'doc'\n    return [a0, a0, a0]\n", 0, 16) is None
    assert staged_source("def f(a0):\n    return (a0, a0, a0)\n", 0, 16) is None
    assert staged_source("def f(a0:\n", 0, 16) is None


def _max_reference(live, cnt):
    """The running maximum as first written: the first term, then each later one where strictly greater."""
    best = np.array(np.broadcast_to(live[0][1], _N), dtype=float)
    idx = np.full(best.shape, live[0][0])
    for j, x in live[1:]:
        gt = np.greater(x, best)
        idx[gt] = j
        best = np.maximum(best, x)
    return best * cnt, idx


_N = (12,)
_VALUE = st.one_of(st.sampled_from([0.0, 1.0, 2.0, 3.0, np.nan, np.inf]),
                   st.floats(0, 10, allow_nan=False).map(float))
_TERM = st.one_of(_VALUE, st.lists(_VALUE, min_size=_N[0], max_size=_N[0]).map(np.array))


@settings(max_examples=80, deadline=None)
@given(terms=st.lists(st.tuples(st.integers(0, 5), _TERM), min_size=1, max_size=5, unique_by=lambda t: t[0]),
       cnt=st.sampled_from([1, 80.0, 0.5]), wins=st.sampled_from([None, (), tuple(range(6))]).map(lambda w: None if w is None else set(w)))
def test_the_running_maximum_keeps_its_ties_and_nans(terms, cnt, wins):
    """Scalar terms compared by their extremes, terms that win everywhere, mixed blocks: the same maximum
    and the same binding term at every point as the point-by-point comparison (ties to the first, NaN
    never wins), whichever terms the previous block says won everywhere (none, every one, or those found
    by the first call, read by the second)."""
    live = sorted(terms)
    with np.errstate(invalid="ignore"):
        ref, idx = _max_reference(live, cnt)
    for _ in range(2):
        bufs = (np.empty(_N), np.empty(_N), np.empty(_N), np.empty(_N, dtype=np.int64), np.empty(_N, dtype=bool))
        with np.errstate(invalid="ignore"):
            work, single = numpy_eval._max_terms(live, cnt, True, bufs, wins)
        assert np.array_equal(np.broadcast_to(work, _N), ref, equal_nan=True)  # one number where every term is
        got = np.full(_N, single) if single is not None else bufs[3]
        assert np.array_equal(got, idx)


@pytest.mark.slow  # numba compiles a kernel per case
@pytest.mark.skipif(not fused.available(), reason="numba is not installed")
@pytest.mark.parametrize("model, device, devices, phase", CASES)
def test_fused_on_threads_equals_numpy(monkeypatch, model, device, devices, phase):
    """The fused kernel, over spans on two threads, equals the NumPy evaluator in every mode; its corners pass
    equals one NumPy evaluation per corner."""
    monkeypatch.setattr(dispatch, "PARALLEL_MIN", 1)
    monkeypatch.setattr(fused, "BACKGROUND", False)
    cw, vals, caps, home = _step(model, device, devices, phase, "best")
    rtol = 0.0 if _pow_free(cw) else POW_RTOL
    shapes = _grid(11, 3000, phase)
    for mode in ("ideal", "latency_bound", "estimate"):
        monkeypatch.setenv("ROOFLINE_FUSED", "0")
        ref = cw.evaluate(shapes, vals, caps, home=home, mode=mode)
        monkeypatch.setenv("ROOFLINE_FUSED", "always")
        _same(cw.evaluate(shapes, vals, caps, home=home, mode=mode, workers=2), ref, rtol=rtol)
    d = get_device(device)
    figs, capss = [], []
    for corner in ("nominal", "best", "worst"):
        v = d.values(corner)
        figs.append([v[p] for p in cw.device_paths])
        capss.append([v[f"memory.{lvl.name}.capacity"] for lvl in d.memory])
    t, first = dispatch.corners_call(cw, shapes, figs, capss, 1.0, home, "estimate", workers=2)
    monkeypatch.setenv("ROOFLINE_FUSED", "0")
    for j, corner in enumerate(("nominal", "best", "worst")):
        v = d.values(corner)
        one = cw.evaluate(shapes, v, capss[j], home=home, mode="estimate")
        _same({"time_s": t[j], **(first if j == 0 else {})}, one, keys=("time_s",), rtol=rtol)


# ------------------------------------------------------------------------------------------------------
# sweeps: one entry point, chunks, threads, files, folds
# ------------------------------------------------------------------------------------------------------
def _frames_equal(a, b):
    assert list(a.columns) == list(b.columns)
    for c in a.columns:
        x, y = a[c], b[c]
        if x.dtype.kind == "f":
            np.testing.assert_array_equal(x.to_numpy(), y.to_numpy(), err_msg=c)  # to the last bit
        else:
            assert (x.astype(str).to_numpy() == y.astype(str).to_numpy()).all(), c


def test_sweep_in_chunks_on_threads_equals_one_chunk(monkeypatch):
    """decode_sweep in chunks of 37 rows on two threads equals the one-chunk, one-thread sweep, and a point
    evaluated alone equals its row (binding term included)."""
    from roofline.sweep import chunks

    monkeypatch.setattr(chunks, "PARALLEL_MIN", 1)
    B, S = np.arange(1, 60), [256, 4096, 70000]
    args = ("llama-3.1-70b", ["h100", "wse3"], B, S)
    one = llm.decode_sweep(*args, device_counts=[4, 8], workers=1, chunk=1 << 20)
    many = llm.decode_sweep(*args, device_counts=[4, 8], workers=2, chunk=37)
    _frames_equal(one, many)
    assert (~one.fits).any() and (one.bound == "capacity").sum() == (~one.fits).sum()
    row = one[(one.device == "wse3") & (one.devices == 8) & (one.batch == 17) & (one.context == 4096)].iloc[0]
    alone = llm.estimate("llama-3.1-70b", "wse3", batch=17, context=4096, devices=8)
    assert alone["tpot_s"] == row.time_s  # the scalar path: the same operations, to the last bit
    assert alone["bound"] == row.bound


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(batches=st.lists(st.integers(1, 5000), min_size=1, max_size=30, unique=True),
       contexts=st.lists(st.integers(1, 200_000), min_size=1, max_size=5, unique=True),
       chunk=st.integers(1, 64), ideal=st.booleans())
def test_random_sweeps_agree_chunked_and_threaded(monkeypatch, batches, contexts, chunk, ideal):
    """Any grid, in any chunks on two threads, gives the one-chunk frame (times, rates, binding terms)."""
    from roofline.sweep import chunks

    monkeypatch.setattr(chunks, "PARALLEL_MIN", 1)
    args = ("llama-3.1-8b", ["h100", "wse3"], batches, contexts)
    _frames_equal(llm.decode_sweep(*args, ideal=ideal, workers=1, chunk=1 << 20),
                  llm.decode_sweep(*args, ideal=ideal, workers=2, chunk=chunk))


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_sweep_to_a_file_equals_the_frame(tmp_path, suffix):
    """decode_sweep(out=...) writes, chunk by chunk, exactly the rows of the in-memory frame."""
    pytest.importorskip("pyarrow")
    B, S = np.arange(1, 50), [512, 8192]
    df = llm.decode_sweep("llama-3.1-8b", ["h100", "ai5"], B, S)
    path = tmp_path / f"grid{suffix}"
    n = llm.decode_sweep("llama-3.1-8b", ["h100", "ai5"], B, S, out=path, chunk=17)
    assert n == len(df)
    back = pd.read_csv(path) if suffix == ".csv" else pd.read_parquet(path)
    _frames_equal(df, back[df.columns])


def test_reductions_equal_the_brute_force_over_the_frame(monkeypatch):
    from roofline.sweep import chunks

    monkeypatch.setattr(chunks, "PARALLEL_MIN", 1)
    B, S = np.arange(1, 300), [1024, 8192]
    df = llm.decode_sweep("llama-3.1-70b", "h100", B, S, device_counts=[4, 8])
    best = llm.decode_sweep("llama-3.1-70b", "h100", B, S, device_counts=[4, 8], reduce="best",
                            min_tokens_per_s_per_user=25, chunk=41, workers=2)
    ok = df[df.fits & (df.tokens_per_s_per_user >= 25)]
    for n in (4, 8):
        want = ok[ok.devices == n].loc[(ok[ok.devices == n].tokens_per_s / n).idxmax()]
        got = best[best.devices == n].iloc[0]
        assert (got.batch, got.context) == (want.batch, want.context)
    front = llm.decode_sweep("llama-3.1-70b", "h100", B, S, device_counts=[8], reduce="pareto", chunk=29)
    u, d = front.tokens_per_s_per_user.to_numpy(), front.tokens_per_s_per_device.to_numpy()
    f8 = df[(df.devices == 8) & df.fits]
    for i in range(len(front)):  # nothing in the frame dominates a frontier point
        assert not ((f8.tokens_per_s_per_user > u[i]) & (f8.tokens_per_s / 8 > d[i])).any()


def test_a_grid_beyond_the_memory_budget_asks_for_a_file_or_a_fold(monkeypatch, tmp_path):
    """Above ROOFLINE_MEMORY_BUDGET the in-memory frame is refused; the same call with out= or reduce= runs
    in chunks."""
    monkeypatch.setenv("ROOFLINE_MEMORY_BUDGET", "10kB")
    B, S = np.arange(1, 101), np.arange(128, 128 * 11, 128)  # 1,000 rows, about 100 kB in memory
    with pytest.raises(CapacityError, match="out='grid.parquet'"):
        llm.decode_sweep("llama-3.1-8b", "h100", B, S)
    assert llm.decode_sweep("llama-3.1-8b", "h100", B, S, out=tmp_path / "g.csv", chunk=64) == 1000
    assert len(llm.decode_sweep("llama-3.1-8b", "h100", B, S, reduce="best", chunk=64)) == 1


def test_tidy_frames_carry_categories_and_metadata():
    """Binding terms, models, devices, levels and layouts are categorical; the units, the constants common
    to every row and each system's constants are in ``attrs``; a row costs about a hundred bytes."""
    df = llm.decode_sweep("llama-3.1-70b", ["h100", "wse3"], [1, 8, 64], [2048], device_counts=[8])
    for c in ("model", "device", "bound", "level", "layout"):
        assert isinstance(df[c].dtype, pd.CategoricalDtype), c
    assert df.attrs["units"]["time_s"] == "s" and df.attrs["units"]["tokens_per_s"] == "1/s"
    assert df.attrs["constants"]["model"] == "llama-3.1-70b" and df.attrs["constants"]["devices"] == 8
    sys_ = {s["device"]: s for s in df.attrs["systems"]}
    assert sys_["wse3"]["level"] == "sram" and sys_["h100"]["tp"] == 8
    big = llm.decode_sweep("llama-3.1-70b", ["h100", "wse3"], np.arange(1, 2001), [2048], device_counts=[8])
    # time, two rates and two cost columns, the time at two corners: 7 floats (8 B); batch and context
    # (8 B); devices, tp, pp (4 B); bound, fits, model, device, level, layout (1 B): 90 B, and the index
    assert big.memory_usage(deep=True).sum() / len(big) < 7 * 8 + 2 * 8 + 3 * 4 + 6 + 1
    f = llm.frontier("llama-3.1-70b", "h100", devices=8, batches=[1, 2, 4])
    assert isinstance(f.bound.dtype, pd.CategoricalDtype) and f.attrs["constants"]["devices"] == 8
    for chunk in llm.llm_sweep_chunks("llama-3.1-8b", "h100", [1, 2], [512]):
        assert isinstance(chunk.bound.dtype, pd.CategoricalDtype) and chunk.attrs["constants"]["model"]


# ------------------------------------------------------------------------------------------------------
# the numba policy
# ------------------------------------------------------------------------------------------------------
def test_numba_is_taken_only_when_it_pays_for_this_call(monkeypatch):
    """With numba still to import and the kernel to load, a small grid stays on NumPy; a loaded kernel is
    used; per-term output (detail) always runs on NumPy; a never-compiled kernel is compiled elsewhere,
    and only for a grid worth it."""
    cw = _step("llama-3.1-70b", "h100", 8, "decode")[0]
    if not cw.fused_source:
        pytest.skip("numba is not installed")
    spawned = []
    monkeypatch.setattr(dispatch, "_COSTS", {})                          # no time spent on NumPy yet
    monkeypatch.setattr(fused, "compile_in_background", lambda *a: spawned.append(a) or True)
    monkeypatch.setattr(fused, "available", lambda: True)
    monkeypatch.delenv("ROOFLINE_FUSED", raising=False)
    monkeypatch.setattr(fused, "numba_imported", lambda: False)
    monkeypatch.setattr(fused, "setup_seconds", lambda src, n, fn="kernel": 0.3)        # import + load still to pay
    assert dispatch.choose(cw, 10_000, False, True) == "numpy"
    assert dispatch.choose(cw, 50_000_000, False, True) == "fused"
    monkeypatch.setattr(fused, "numba_imported", lambda: True)
    monkeypatch.setattr(fused, "setup_seconds", lambda src, n, fn="kernel": 0.0)        # loaded
    assert dispatch.choose(cw, 10_000, False, True) == "fused"
    assert dispatch.choose(cw, 10_000, True, True) == "numpy"              # detail: NumPy only
    monkeypatch.setattr(fused, "numba_imported", lambda: False)
    monkeypatch.setattr(fused, "setup_seconds", lambda src, n, fn="kernel": None)       # never compiled
    assert dispatch.choose(cw, 1_000, False, True) == "numpy" and not spawned
    assert dispatch.choose(cw, 10_000_000, False, True) == "numpy" and len(spawned) == 1


def test_measured_costs_replace_the_starting_figures():
    c = dispatch.Costs(n_ops=12)
    start = c.numpy_point
    for _ in range(20):
        c.record("numpy", 1_000_000, 1.0)          # 1 us per point, measured
    assert c.numpy_point == pytest.approx(1e-6, rel=0.01) and c.numpy_point != start
    assert c.expected("numpy", 2_000_000) == pytest.approx(c.numpy_call + 2.0, rel=0.01)


def test_the_sweep_functions_keep_their_own_cost_per_point():
    """The ``sweep`` and ``chunk`` functions share the shapes' work between corners and write times only: their
    cost per corner-point (kind ``sweep``) starts at a quarter of ``kernel``'s and is measured apart from it."""
    c = dispatch.Costs(n_ops=13)
    assert c.sweep_point == pytest.approx(13e-9) and c.fused_point == pytest.approx(2e-9 + 52e-9)
    kernel_start = c.fused_point
    for _ in range(20):
        c.record("sweep", 1_000_000, 0.01)            # 10 ns a corner-point, measured
    assert c.sweep_point == pytest.approx(1e-8, rel=0.01) and c.fused_point == kernel_start
    assert c.expected("sweep", 10**6) < c.expected("fused", 10**6)


def test_a_workload_asked_again_and_again_loads_its_kernel_once_numpy_has_cost_the_setup(monkeypatch):
    """Ski rental: a run too short to pay the kernel's load alone still loads it once this workload has spent
    that long on NumPy in the process (a notebook's repeated sweeps), and never where the kernel would not
    be faster per point."""
    cw = _step("llama-3.1-70b", "h100", 8, "decode")[0]
    if not cw.fused_source:
        pytest.skip("numba is not installed")
    loaded = []
    monkeypatch.setattr(fused, "available", lambda: True)
    monkeypatch.setattr(fused, "setup_seconds", lambda src, n, fn="kernel": 0.05)
    monkeypatch.setattr(fused, "load", lambda *a, **k: loaded.append(a[-1] if len(a) > 4 else "kernel"))
    monkeypatch.setattr(dispatch, "_COSTS", {})
    c = dispatch.costs_of(cw)
    n = 100_000                                         # saves ~10 ms on NumPy: less than the 50 ms load
    assert 0 < c.expected("numpy", n) - c.expected("sweep", n) < 0.05
    assert dispatch.prepare(cw, n, fn="chunk") == "numpy" and not loaded
    c.numpy_seconds = 0.06                              # NumPy has cost more than the load already
    assert dispatch.prepare(cw, n, fn="chunk") == "loaded" and loaded
    c.sweep_point = 10 * c.numpy_point                  # a kernel slower per point is never loaded
    loaded.clear()
    assert dispatch.prepare(cw, n, fn="chunk") == "numpy" and not loaded


@pytest.mark.slow
@pytest.mark.skipif(not fused.available(), reason="numba is not installed")
def test_a_new_kernel_is_compiled_in_another_process(tmp_path, monkeypatch):
    """The first time a workload meets a big grid, NumPy answers and a separate process compiles the kernel
    into numba's disk cache; afterwards loading it is all that remains to pay."""
    import time

    monkeypatch.setenv("ROOFLINE_CACHE_DIR", str(tmp_path))
    monkeypatch.delenv("ROOFLINE_FUSED", raising=False)
    dev = get_device("h100")
    cw = engine.compile_workload(workloads.gemm(dtype="fp8"), dev, overlap="sum")
    fused.forget()
    for child in fused._CHILDREN:  # one compiling process at a time: let an earlier test's finish
        child.wait(timeout=300)
    assert fused.setup_seconds(cw.fused_source, cw.n_ops) is None
    assert fused.compile_in_background(cw.fused_source, 3, len(cw.device_paths), cw.n_levels)
    ready = tmp_path / "fused" / f"{fused._name(cw.fused_source)}.ready"
    t = time.time()
    while not ready.exists() and time.time() - t < 120:
        time.sleep(0.2)
    assert ready.exists()
    assert 0 < fused.setup_seconds(cw.fused_source, cw.n_ops) < 1
    vals = dev.values()
    caps = [vals[f"memory.{m.name}.capacity"] for m in dev.memory]
    monkeypatch.setenv("ROOFLINE_FUSED", "always")
    got = cw.evaluate({"M": np.arange(1.0, 5000.0), "N": 4096.0, "K": 4096.0}, vals, caps)
    monkeypatch.setenv("ROOFLINE_FUSED", "0")
    _same(got, cw.evaluate({"M": np.arange(1.0, 5000.0), "N": 4096.0, "K": 4096.0}, vals, caps))
    fused.forget()


@pytest.mark.slow  # numba compiles the kernels
@pytest.mark.skipif(not fused.available(), reason="numba is not installed")
def test_a_fused_sweep_equals_the_numpy_sweep(monkeypatch):
    """A sweep of estimate-based devices evaluates nominal, best and worst in one pass of the fused kernel
    per chunk, on two threads; it gives the NumPy path's frame, binding terms included."""
    from roofline.sweep import chunks

    monkeypatch.setattr(chunks, "PARALLEL_MIN", 1)
    monkeypatch.setattr(fused, "BACKGROUND", False)
    args = ("llama-3.1-70b", ["h100", "wse3"], np.arange(1, 80), [512, 8192, 60000])
    monkeypatch.setenv("ROOFLINE_FUSED", "0")
    ref = llm.decode_sweep(*args, device_counts=[8])
    monkeypatch.setenv("ROOFLINE_FUSED", "always")
    got = llm.decode_sweep(*args, device_counts=[8], chunk=50, workers=2)
    assert got.time_s_best.notna().any() and (~got.fits).any()
    _frames_equal(ref, got)


@settings(max_examples=80, deadline=None)
@given(r=st.floats(-1e300, 1e300), a=st.lists(_VALUE | st.floats(-1e308, 1e308) | st.just(-np.inf), min_size=1,
                                               max_size=12).map(np.array))
def test_a_pending_sum_has_the_greatest_value_of_the_sum(r, a):
    """A finite number plus an array, left unadded until read: its greatest value taken as the number plus the
    array's greatest is the greatest of the sum to the last bit (rounding is monotone; a NaN stays a NaN),
    and read, it is the sum."""
    with np.errstate(over="ignore", invalid="ignore"):
        pending = numpy_eval._Sum.of(r, a, np.empty(a.shape))
        ref = r + a
        assert np.array_equal(pending.max(), ref.max(), equal_nan=True)
        assert np.array_equal(pending.get(), ref, equal_nan=True)


def test_the_rates_at_the_corners_are_derived_from_their_times():
    """A sweep stores the time at the best and worst corners; the rates there are tokens per step over that
    time and batch times that, stored with ranges="rates" or added by with_corner_rates, alike."""
    from roofline.llm.sweeps import CORNER_RATES, with_corner_rates

    args = ("llama-3.1-8b", ["ai5", "h100"], [1, 8, 64, 4096], [512, 200_000])
    df = llm.decode_sweep(*args)
    assert "time_s_best" in df.columns and not any(f"{f}_best" in df.columns for f in CORNER_RATES)
    full = llm.decode_sweep(*args, ranges="rates")
    got = with_corner_rates(df)
    assert list(got.columns) == list(full.columns)
    _frames_equal(full, got)
    assert got.attrs["units"]["tokens_per_s_best"] == "1/s" and "tokens_per_s_best" not in df.attrs["units"]
    # batch 8 at the worst corner: 8 tokens a step, one step in time_s_worst
    row = got[(got.device == "ai5") & (got.batch == 8) & (got.context == 512)].iloc[0]
    assert row.tokens_per_s_worst == pytest.approx(8 / row.time_s_worst, rel=1e-15)
    assert row.tokens_per_s_per_user_best == pytest.approx(1 / row.time_s_best, rel=1e-15)
    assert got.tokens_per_s_best[~got.fits].isna().all()
    assert with_corner_rates(full) is full and with_corner_rates(llm.decode_sweep(*args, ranges=False)).shape[1] == \
        df.shape[1] - 2
    with pytest.raises(InputError, match="ranges"):
        llm.decode_sweep(*args, ranges="all")


@settings(max_examples=5, deadline=None)
@given(batches=st.lists(st.integers(1, 4096), min_size=1, max_size=12, unique=True),
       contexts=st.lists(st.integers(1, 300_000), min_size=1, max_size=4, unique=True))
def test_the_corner_rates_bracket_the_nominal_rates(batches, contexts):
    """Law: where a point fits, the best corner is no slower than the nominal one and the worst no faster,
    so the derived rates bracket the stored nominal rates; where it does not fit, every rate is NaN."""
    from roofline.llm.sweeps import with_corner_rates

    df = with_corner_rates(llm.decode_sweep("llama-3.1-8b", ["ai5"], batches, contexts, chunk=7))
    ok = df[df.fits]
    for f in ("tokens_per_s_per_user", "tokens_per_s"):
        assert (ok[f"{f}_worst"] <= ok[f] * (1 + 1e-12)).all() and (ok[f] <= ok[f"{f}_best"] * (1 + 1e-12)).all()
        assert df[~df.fits][[f, f"{f}_best", f"{f}_worst"]].isna().all().all()
