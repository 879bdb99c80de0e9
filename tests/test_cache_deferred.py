"""A compiled workload read from the disk cache compiles its NumPy function only when it is first called
(a warm single-point question runs the scalar path and never needs it); called, it gives what the freshly
built function gives."""

from __future__ import annotations

import numpy as np
import pytest

from roofline import get_device
from roofline.engine import cache
from roofline.workloads import Recipe


@pytest.mark.slow  # compiles a workload with an empty cache (~2 s)
def test_a_disk_entry_compiles_its_numpy_function_on_first_call(tmp_path, monkeypatch):
    monkeypatch.setenv("ROOFLINE_CACHE_DIR", str(tmp_path / "cache"))
    cache.clear_memory()
    recipe, dev = Recipe("gemm", m=64, n=128, k=256), get_device("h100")
    built = cache.compile_recipe(recipe, dev)
    cache.clear_memory()
    loaded = cache.compile_recipe(recipe, dev)
    assert loaded is not built and isinstance(loaded.func, cache._Deferred) and loaded.func._func is None
    n = len(built.shape_names) + len(built.device_paths)
    args = [np.linspace(1.0, 2.0, 5) * (i + 1) for i in range(n)]
    for got, want in zip(loaded.func(*args), built.func(*args)):
        np.testing.assert_array_equal(np.broadcast_to(got, (5,)), np.broadcast_to(want, (5,)))
    assert loaded.func._func is not None
    cache.clear_memory()


@pytest.mark.slow  # compiles an LLM workload with an empty cache (~3 s)
def test_a_disk_entry_evaluates_a_grid_through_the_staged_numpy_path(tmp_path, monkeypatch):
    # found in the merge: the staged NumPy evaluator read the loaded function's __globals__, which the
    # deferred function of a disk entry did not have; a sweep through disk entries equals the fresh one
    from roofline import llm

    monkeypatch.setenv("ROOFLINE_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("ROOFLINE_FUSED", "0")
    grid = ("llama-3.1-8b", "h100", [1, 2, 4, 8, 16, 32, 64, 128], [512, 1024, 2048, 4096])
    cache.clear_memory()
    fresh = llm.decode_sweep(*grid)
    cache.clear_memory()
    loaded = llm.decode_sweep(*grid)
    assert loaded.equals(fresh)
    cache.clear_memory()




@pytest.mark.parametrize("numpy_lacks_it", [False, True])
def test_a_deferred_entry_builds_its_namespace_on_first_use(monkeypatch, numpy_lacks_it):
    # a disk entry no longer imports NumPy when it is read (a warm `roofline llm` never needs it), so the check
    # that NumPy has every name the entry reads moved to its first use: an entry that reads a name this NumPy
    # lacks (one written under another NumPy) is built afresh instead of run
    source = "def _lambdifygenerated(b):\n    return maximum(b, 2.0)\n"
    rebuilt = []

    def rebuild():
        rebuilt.append(1)
        return lambda b: np.maximum(b, 2.0) + 0.0

    if numpy_lacks_it:
        full = cache._namespace
        monkeypatch.setattr(cache, "_namespace", lambda names: {k: v for k, v in full(names).items() if k != "maximum"})
    f = cache._Deferred(source, "<test>", ["maximum"], ["b"], rebuild)
    assert f._ns is None and f._func is None  # nothing built, nothing imported, until it is used
    np.testing.assert_array_equal(f(np.array([1.0, 3.0])), [2.0, 3.0])
    assert rebuilt == ([1] if numpy_lacks_it else [])
    np.testing.assert_array_equal(f(np.array([0.0])), [2.0])
    assert len(rebuilt) == (1 if numpy_lacks_it else 0)  # built once
