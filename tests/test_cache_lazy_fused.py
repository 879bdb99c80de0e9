"""The numba kernel's source is printed only when something asks for it (a process that answers single
configurations never does); the disk entry then gains it, and an entry saved without it still yields the
very source a fresh build prints. No numba needed: only the source is compared."""

from __future__ import annotations

import json

import pytest

from roofline import get_device
from roofline.engine import cache, fused
from roofline.workloads import Recipe


def _entry(tmp_path) -> dict:
    (path,) = (tmp_path / "cache").glob("*.json")
    return json.loads(path.read_text())


@pytest.mark.slow  # compiles a workload with an empty cache, twice (~2 s)
def test_the_kernel_source_is_printed_on_first_use_and_kept(tmp_path, monkeypatch):
    monkeypatch.setenv("ROOFLINE_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setattr(fused, "available", lambda: True)
    printed = []
    original = fused.generate
    monkeypatch.setattr(fused, "generate", lambda *a, **k: printed.append(1) or original(*a, **k))
    recipe, dev = Recipe("gemm", m=64, n=128, k=256), get_device("h100")
    cache.clear_memory()
    built = cache.compile_recipe(recipe, dev)
    assert printed == [] and built.fused_ready is None and _entry(tmp_path)["fused_source"] is None
    source = built.fused_source
    assert source.startswith("import math") and printed == [1] and built.fused_source == source
    assert _entry(tmp_path)["fused_source"] == source  # the entry was rewritten with it
    cache.clear_memory()
    assert cache.compile_recipe(recipe, dev).fused_ready == source
    cache.clear_memory()


@pytest.mark.slow  # compiles a workload with an empty cache, twice (~2 s)
def test_an_entry_saved_without_the_kernel_source_builds_it_when_asked(tmp_path, monkeypatch):
    monkeypatch.setenv("ROOFLINE_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setattr(fused, "available", lambda: True)
    recipe, dev = Recipe("gemv", n=256, k=512), get_device("wse3")
    cache.clear_memory()
    cache.compile_recipe(recipe, dev)  # saved without the kernel
    cache.clear_memory()
    loaded = cache.compile_recipe(recipe, dev)
    assert loaded.fused_ready is None
    source = loaded.fused_source  # built again, printed, and the entry rewritten
    assert _entry(tmp_path)["fused_source"] == source
    cache.clear_memory()
    monkeypatch.setenv("ROOFLINE_CACHE", "0")  # a fresh build in memory prints the same kernel
    assert cache.compile_recipe(recipe, dev).fused_source == source
    cache.clear_memory()
