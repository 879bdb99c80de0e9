"""The disk cache of compiled expressions and validated specs: a warm run needs neither SymPy nor pint."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest

from roofline import engine, get_device, llm
from roofline.engine import cache
from roofline.hardware.measured import estimate_device
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
    assert cold_mods["sympy"] and not cold_mods["pint"]      # the first run builds; shipped units need no pint
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
    fresh = engine.evaluate(r.build(), estimate_device(dev), {})  # the report's estimate: measured ceilings
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


def test_editing_any_source_file_changes_every_cache_key(tmp_path, monkeypatch):
    """The key covers every .py file of the package (not a hand-typed list): copy the package, edit one
    module no expression is built in, and the digest changes."""
    import shutil

    import roofline
    from roofline import _paths

    pkg = tmp_path / "roofline"
    shutil.copytree(os.path.dirname(roofline.__file__), pkg, ignore=shutil.ignore_patterns("__pycache__", "_data"))
    monkeypatch.setattr(_paths, "_HERE", pkg)
    monkeypatch.setattr(_paths, "_DIGEST", [])
    before = _paths.package_digest()
    for rel in ("llm/loader.py", "hardware/reader.py", "outputs/format.py", "units_defs.txt"):
        f = pkg / rel
        f.write_text(f.read_text() + "\n# an edit\n")
        monkeypatch.setattr(_paths, "_DIGEST", [])
        after = _paths.package_digest()
        assert after != before, rel
        before = after


def test_a_new_source_file_changes_every_cache_key(tmp_path, monkeypatch):
    """The key covers every source file there is, not those of a list made earlier: a module added anywhere
    (the top, a room, a new sub-package) or a new unit-definition file changes the digest; a compiled file in
    ``__pycache__`` does not (it is no source)."""
    import shutil

    import roofline
    from roofline import _paths

    pkg = tmp_path / "roofline"
    shutil.copytree(os.path.dirname(roofline.__file__), pkg, ignore=shutil.ignore_patterns("__pycache__", "_data"))
    monkeypatch.setattr(_paths, "_HERE", pkg)

    def digest():
        monkeypatch.setattr(_paths, "_DIGEST", [])
        return _paths.package_digest()

    before = digest()
    (pkg / "engine" / "__pycache__").mkdir()
    (pkg / "engine" / "__pycache__" / "x.cpython-311.pyc").write_bytes(b"\0")
    assert digest() == before
    for rel in ("extra.py", "engine/extra.py", "newroom/__init__.py", "more_units.txt"):
        (pkg / rel).parent.mkdir(exist_ok=True)
        (pkg / rel).write_text("")  # even an empty file
        after = digest()
        assert after != before, rel
        before = after


def test_the_evaluator_is_part_of_the_key(monkeypatch, tmp_path):
    """A cache entry built without numba is not used once numba is on (and the other way round)."""
    monkeypatch.setenv("ROOFLINE_CACHE_DIR", str(tmp_path))
    built = []

    def build():
        built.append(1)
        return engine.compile_workload(Recipe("gemv", n=64, k=64).build(), get_device("h100"))

    monkeypatch.setattr(engine.fused, "available", lambda: False)
    cache.clear_memory()
    cache.cached_compile("probe-key", build)
    monkeypatch.setattr(engine.fused, "available", lambda: True)
    cache.clear_memory()
    cache.cached_compile("probe-key", build)
    assert len(built) == 2


def test_a_planted_cache_entry_is_never_executed(tmp_path, monkeypatch):
    """An entry written by someone else (no valid signature) is ignored and rebuilt, never run."""
    import hashlib
    import json as _json

    monkeypatch.setenv("ROOFLINE_CACHE_DIR", str(tmp_path))
    marker = tmp_path / "pwned"
    cache.clear_memory()
    key = "planted-key"
    full = f"{cache._code_hash()}|fused={engine.fused.available()}|{key}"
    path = tmp_path / (hashlib.sha256(full.encode()).hexdigest()[:32] + ".json")
    payload = f"open({str(marker)!r}, 'w').write('x')\ndef _lambdifygenerated(*a):\n    return [0]\n"
    path.write_text(_json.dumps({"source": payload, "names": ["open"], "labels": [], "shape_names": [],
                                 "device_paths": [], "zero_outputs": [], "n_ops": 0, "n_terms": 3, "n_levels": 0,
                                 "overlap": "max", "mac": "0" * 64}))
    os.chmod(path, 0o600)
    cw = cache.cached_compile(key, lambda: engine.compile_workload(Recipe("gemv", n=64, k=64).build(),
                                                                   get_device("h100")))
    assert not marker.exists()
    assert cw.n_ops == 1


def test_a_cache_folder_others_can_write_is_refused(tmp_path, monkeypatch, capsys):
    from roofline import _paths

    folder = tmp_path / "shared"
    folder.mkdir()
    os.chmod(folder, 0o777)
    monkeypatch.setenv("ROOFLINE_CACHE_DIR", str(folder))
    monkeypatch.setattr(_paths, "_REFUSED", [])
    assert _paths.cache_dir() is None
    assert "writable by other users" in capsys.readouterr().err


def test_with_the_cache_off_nothing_is_written(tmp_path, monkeypatch):
    monkeypatch.setenv("ROOFLINE_CACHE", "0")
    monkeypatch.setenv("ROOFLINE_CACHE_DIR", str(tmp_path / "never"))
    monkeypatch.setenv("TMPDIR", str(tmp_path / "tmp"))
    cache.clear_memory()
    engine.kernel_report(Recipe("gemm", m=64, n=64, k=64), get_device("h100"))
    assert not (tmp_path / "never").exists()


def test_editing_a_data_file_is_seen_by_a_warm_cache(tmp_path, monkeypatch, minimal_spec_text):
    """Spec files and model files are part of what the caches key on: an edit is never answered from cache."""
    import roofline
    from roofline.llm import get_model

    monkeypatch.setenv("ROOFLINE_CACHE_DIR", str(tmp_path / "cache"))
    spec = tmp_path / "specs" / "toy.toml"
    spec.parent.mkdir()
    spec.write_text(minimal_spec_text)
    assert roofline.get_device("toy", [spec.parent]).level("dram").bandwidth_bytes_per_s == 1e12
    spec.write_text(minimal_spec_text.replace('"1 TB/s"', '"2 TB/s"'))
    os.utime(spec, (os.stat(spec).st_atime, os.stat(spec).st_mtime + 5))
    assert roofline.get_device("toy", [spec.parent]).level("dram").bandwidth_bytes_per_s == 2e12

    src = get_model("llama-3.1-8b").file
    mfile = tmp_path / "m.toml"
    text = open(src).read().replace('key = "llama-3.1-8b"', 'key = "my-llama"').replace("n_layers = 32", "n_layers = 16")
    mfile.write_text(text)
    dev = roofline.get_device("h100")
    a = llm.estimate(str(mfile), dev, batch=1, context=1024)["tpot_s"]
    mfile.write_text(text.replace("n_layers = 16", "n_layers = 24"))
    b = llm.estimate(str(mfile), dev, batch=1, context=1024)["tpot_s"]
    assert b > a
