"""How a sweep runs on threads and where its frame's memory comes from (issue 13, both cores): the
thread pipeline, equal spans, and columns in memory that dropped frames held, reused only when nothing can
reach it any more."""

import gc
import threading
import time
import tracemalloc

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from roofline import llm
from roofline.sweep import chunks
from roofline.sweep.chunks import columns, pipeline, spans


@pytest.fixture
def pool():
    chunks._POOL.clear()
    gc.collect()
    yield chunks._POOL
    chunks._POOL.clear()


def _address(a) -> int:
    return a.__array_interface__["data"][0]


# ------------------------------------------------------------------------------------------------------
# columns: memory of dropped frames, reused only when nothing reaches it
# ------------------------------------------------------------------------------------------------------
def test_a_column_is_reused_only_once_every_view_of_it_is_gone(pool):
    a = columns(1000, {"x": np.float64})["x"]
    a[:] = np.arange(1000.0)
    where = _address(a)
    views = [a[10:20], a.view(np.int64), pd.Series(a), pd.DataFrame({"x": a}, copy=False)["x"].to_numpy()]
    del a
    gc.collect()
    b = columns(1000, {"x": np.float64})["x"]  # the first block is still reachable: a new one
    assert _address(b) != where
    b[:] = -1.0
    assert views[0][0] == 10.0 and views[2].iloc[999] == 999.0 and views[3][5] == 5.0
    del views
    gc.collect()
    c = columns(1000, {"x": np.float64})["x"]  # nothing reaches the first block now: it is reused
    assert _address(c) == where


def test_categorical_codes_keep_their_block(pool):
    codes = columns(500, {"c": np.int8})["c"]
    codes[:] = 1
    where = _address(codes)
    cat = pd.Categorical.from_codes(codes, dtype=pd.CategoricalDtype(["a", "b"]), validate=False)
    del codes
    gc.collect()
    other = columns(500, {"c": np.int8})["c"]
    other[:] = 0
    assert _address(other) != where and (cat == "b").all()


def test_a_block_is_reused_for_a_column_of_up_to_twice_its_size_only(pool):
    a = columns(1000, {"x": np.float64})["x"]
    where = _address(a)
    del a
    assert _address(columns(3000, {"x": np.int8})["x"]) != where  # 8,000 B for 3,000: more than twice
    assert _address(columns(5000, {"x": np.int8})["x"]) == where


def test_the_pool_keeps_at_most_an_eighth_of_the_memory_budget(pool, monkeypatch):
    monkeypatch.setenv("ROOFLINE_MEMORY_BUDGET", "8MB")  # keeps 1 MB
    cols = columns(100_000, {"a": np.float64, "b": np.float64})  # 800 kB each
    del cols
    gc.collect()
    assert pool.held == 800_000 and len(pool.free) == 1


def test_while_tracemalloc_traces_every_column_is_new_and_counted(pool):
    a = columns(100_000, {"x": np.float64})["x"]
    where = _address(a)
    del a
    tracemalloc.start()
    try:
        b = columns(100_000, {"x": np.float64})["x"]
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert _address(b) != where and peak >= 800_000


def test_a_sweep_in_reused_memory_equals_one_in_new_memory(pool, monkeypatch):
    monkeypatch.setattr(chunks, "PARALLEL_MIN", 1)
    args = ("llama-3.1-70b", ["h100", "wse3"], np.arange(1, 40), [256, 4096, 70000])
    first = llm.decode_sweep(*args, device_counts=[8], workers=2, chunk=7)
    kept = first.copy(deep=True)
    where = {_address(first[c].to_numpy()) for c in first.columns if first[c].dtype == float}
    del first
    gc.collect()
    again = llm.decode_sweep(*args, device_counts=[8], workers=2, chunk=7)
    assert _address(again["time_s"].to_numpy()) in where  # a dropped column's memory
    pd.testing.assert_frame_equal(again, kept)
    other = llm.decode_sweep(*args, device_counts=[8], workers=1)  # while `again` lives: new memory
    assert not where & {_address(other[c].to_numpy()) for c in other.columns if other[c].dtype == float}
    pd.testing.assert_frame_equal(other, kept)


# ------------------------------------------------------------------------------------------------------
# the pipeline
# ------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("workers", [1, 2, 3])
def test_results_come_in_the_tasks_order_and_meanwhile_runs_once(workers):
    got, calls = [], []

    def fn(t):
        time.sleep(0.002 * (t % 3))
        return t * t

    pipeline(range(12), fn, workers, got.append, meanwhile=lambda: calls.append(len(got)))
    assert got == [t * t for t in range(12)] and len(calls) == 1


@pytest.mark.parametrize("workers", [1, 2])
def test_without_consume_every_task_runs_and_meanwhile_runs_once(workers):
    done, calls = set(), []
    pipeline(range(20), done.add, workers, meanwhile=lambda: calls.append(1))
    assert done == set(range(20)) and calls == [1]


def test_an_error_stops_the_pipeline_and_leaves_no_task_running():
    started = []

    def fn(t):
        started.append(t)
        time.sleep(0.01)
        if t == 1:
            raise ValueError("task 1")

    with pytest.raises(ValueError, match="task 1"):
        pipeline(range(50), fn, 2)
    seen = len(started)
    time.sleep(0.05)
    assert len(started) == seen < 50  # nothing of this call ran after it returned


def test_a_pipeline_inside_a_task_runs_in_that_thread():
    """A task that sweeps (a pipeline in a pipeline's thread) would wait for threads busy with its caller:
    it runs in its own thread instead."""
    inner = []

    def fn(t):
        pipeline(range(3), lambda u: inner.append((threading.current_thread().name, u)), 2)
        return t

    out = []
    pipeline(range(4), fn, 2, out.append)
    assert out == [0, 1, 2, 3] and len(inner) == 12
    assert all(name.startswith("roofline-sweep") for name, _ in inner)


# ------------------------------------------------------------------------------------------------------
# spans
# ------------------------------------------------------------------------------------------------------
@settings(max_examples=200, deadline=None)
@given(n=st.integers(0, 10_000), chunk=st.integers(1, 3000))
def test_even_spans_cover_the_range_in_as_many_spans_of_lengths_one_apart(n, chunk):
    plain, even = spans(n, chunk), spans(n, chunk, even=True)
    assert len(even) == len(plain)
    if n == 0:
        assert even == []
        return
    assert [lo for lo, _ in even] == [0] + [hi for _, hi in even[:-1]] and even[-1][1] == n
    lengths = [hi - lo for lo, hi in even]
    assert all(0 < x <= chunk for x in lengths) and max(lengths) - min(lengths) <= 1


def test_on_two_threads_each_system_has_an_even_number_of_equal_spans():
    from roofline.llm.sweeps import _plan, _tasks

    plan = _plan("llama-3.1-8b", ["h100", "h200"], np.arange(1, 1001), np.arange(1, 301))  # 300,000 each
    tasks = _tasks(plan, 1 << 17, 2)
    assert len(tasks) == 8 and {hi - lo for _, lo, hi in tasks} == {75_000}  # 3 spans of 2^17 -> 4
    assert [(lo, hi) for k, lo, hi in tasks if k == 1][-1] == (225_000, 300_000)
    assert {hi - lo for _, lo, hi in _tasks(plan, 1 << 17)} == {1 << 17, 300_000 - 2 * (1 << 17)}


def test_clear_memory_frees_the_kept_frame_memory():
    """A dropped result's blocks are kept for the next sweep; ``roofline.engine.clear_memory`` frees them."""
    import gc

    from roofline import engine
    from roofline.sweep import chunks

    cols = chunks.columns(1000, {"a": "float64"})
    del cols
    gc.collect()
    assert not tracemalloc.is_tracing() and chunks._POOL.held >= 8000
    engine.clear_memory()
    assert chunks._POOL.held == 0 and not chunks._POOL.free


# ------------------------------------------------------------------------------------------------------
# the fit test of a fused chunk: a context threshold per batch, the direct test's answer at every point
# ------------------------------------------------------------------------------------------------------
_SYSTEMS = [("llama-3.1-70b", "h100", 8, "bf16"), ("llama-3.1-70b", "h200", 2, "bf16"),
            ("gpt-oss-120b", "h100", 4, "bf16"),  # sliding-window layers: min(s, window)
            ("llama-4-scout", "h100", 4, "bf16"),  # chunked-attention layers: min(s, chunk)
            ("deepseek-v3", "b200", 8, "fp8")]  # multi-head latent attention


@settings(max_examples=60, deadline=None)
@given(system=st.sampled_from(_SYSTEMS),
       B=st.lists(st.floats(1, 5000) | st.integers(1, 5000).map(float), min_size=1, max_size=12),
       S=st.lists(st.floats(1, 4e5) | st.integers(1, 400_000).map(float), min_size=1, max_size=12))
def test_the_context_thresholds_give_the_direct_fit_test_at_every_point(system, B, S):
    """``context <= threshold of its batch`` (bisection over the sorted contexts) is exactly the resident-set
    test of every point, for unsorted axes with repeats: the resident set never shrinks as the context grows."""
    from roofline.llm import sweeps

    model, device, n, dtype = system
    plan = sweeps._plan(model, [device], B, S, device_counts=[n], dtype=dtype, ranges=False)
    sy = plan.systems[0]
    b, s = np.repeat(plan.B, plan.S.size), np.tile(plan.S, plan.B.size)
    direct = np.empty(b.size, dtype=bool)
    sweeps._fits(plan, sy, b, s, direct)
    th = sweeps._thresholds(plan, sy, 0, plan.B.size - 1)
    np.testing.assert_array_equal(s <= np.repeat(th, plan.S.size), direct)


@pytest.mark.parametrize("chunk", [0, -5, 2.5, True, "big"])
def test_a_chunk_that_is_not_a_positive_number_of_points_is_refused(chunk):
    from roofline.errors import InputError

    with pytest.raises(InputError, match="chunk must be a positive number of points"):
        llm.decode_sweep("llama-3.1-8b", "h100", [1, 2], [128], chunk=chunk)


@pytest.mark.parametrize("numba_there, expected", [(True, "CHUNK"), (False, "CHUNK_NUMPY")])
def test_an_in_memory_sweep_without_numba_takes_the_smaller_chunk(monkeypatch, numba_there, expected):
    """Without numba each thread holds a NumPy chunk's outputs and block temporaries: half as many points a
    chunk keep the peak of a 4e6-point sweep with ranges under 100 B a point (97.6 against 100.8, measured);
    an explicit chunk is kept."""
    from roofline.engine import fused
    from roofline.llm import sweeps

    seen = []
    monkeypatch.setattr(fused, "available", lambda: numba_there)
    monkeypatch.setattr(sweeps, "_in_memory", lambda plan, chunk, workers, tag: seen.append(chunk))
    llm.decode_sweep("llama-3.1-8b", "h100", [1, 2], [128])
    llm.decode_sweep("llama-3.1-8b", "h100", [1, 2], [128], chunk=1000)
    assert seen == [getattr(sweeps, expected), 1000] and sweeps.CHUNK_NUMPY < sweeps.CHUNK
