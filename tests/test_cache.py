"""The disk cache of compiled expressions and validated specs: a warm run needs neither SymPy nor pint."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest

from roofline import engine, get_device, llm
from roofline.engine import cache
from roofline.workloads.recipes import Recipe
from roofline.engine import kernel_report

PROBE = ("import sys, json; from roofline.outputs.cli import main; main(['compare', 'wse3', 'h100', '--format', 'json']); "
         "print(json.dumps({m: m in sys.modules for m in ('sympy', 'pint', 'matplotlib', 'pandas')}), file=sys.stderr)")


def _run(env):
    r = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, env=env)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stderr.strip().splitlines()[-1]), json.loads(r.stdout)


def test_second_run_needs_no_sympy_and_no_pint(tmp_path):
    env = dict(os.environ, ROOFLINE_CACHE_DIR=str(tmp_path))
    cold_mods, cold = _run(env)
    warm_mods, warm = _run(env)
    assert cold_mods["sympy"] and cold_mods["pint"]          # the first run builds and parses
    assert not warm_mods["sympy"] and not warm_mods["pint"]  # the second reads the cache
    assert not warm_mods["matplotlib"]
    assert warm == cold                                      # and gets the same numbers


def test_cache_off(tmp_path):
    env = dict(os.environ, ROOFLINE_CACHE_DIR=str(tmp_path), ROOFLINE_CACHE="0")
    _run(env)
    mods, _ = _run(env)
    assert mods["sympy"] and not any(tmp_path.iterdir())


def test_cached_function_equals_fresh_compile(tmp_path, monkeypatch):
    monkeypatch.setenv("ROOFLINE_CACHE_DIR", str(tmp_path))
    cache.clear_memory()
    dev = get_device("h100")
    r = Recipe("gemm", m=4096, n=4096, k=4096, dtype="bf16")
    first = kernel_report(r, dev)
    cache.clear_memory()                       # force a read from disk
    again = kernel_report(r, dev)
    assert again == first
    fresh = engine.evaluate(r.build(), dev, {})
    assert first["time_s"] == pytest.approx(float(fresh["time_s"]), rel=1e-15)


def test_corrupt_entry_is_rebuilt(tmp_path, monkeypatch):
    monkeypatch.setenv("ROOFLINE_CACHE_DIR", str(tmp_path))
    cache.clear_memory()
    dev = get_device("a100")
    r = Recipe("gemv", n=1024, k=1024, dtype="bf16")
    t = kernel_report(r, dev)["time_s"]
    for f in tmp_path.glob("*.json"):
        f.write_text("{not json")
    cache.clear_memory()
    assert kernel_report(r, dev)["time_s"] == t


def test_llm_results_identical_from_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("ROOFLINE_CACHE_DIR", str(tmp_path))
    cache.clear_memory()
    a = llm.estimate("llama-3.1-8b", "h100", batch=8, context=4096)
    cache.clear_memory()
    b = llm.estimate("llama-3.1-8b", "h100", batch=8, context=4096)
    assert a["tpot_s"] == b["tpot_s"] and a["ttft_s"] == b["ttft_s"] and a["bound"] == b["bound"]
    assert np.isfinite(a["tpot_s"])


@pytest.mark.parametrize("kind, params, message", [
    ("gemm", {"m": 0, "n": 1, "k": 1}, "positive integer"),
    ("gemm", {"m": 1, "n": 1, "k": 1, "dtype": "fp5"}, "unknown data type"),
    ("conv", {}, "unknown kernel"),
    ("gemv", {"n": 1, "k": 1, "m": 3}, "takes no parameter"),
])
def test_recipe_validation(kind, params, message):
    with pytest.raises(Exception, match=message):
        Recipe(kind, **params)
