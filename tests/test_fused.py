"""The fused (numba) evaluator gives the same numbers as the NumPy path."""

import os
import sys
from pathlib import Path

import numpy as np
import pytest

from roofline import engine, get_device, workloads
from roofline.engine import fused
from roofline.llm import Precision, place
from roofline.llm.inference import _run
from roofline.llm import get_model

pytestmark = pytest.mark.skipif(not fused.available(), reason="numba is not installed")


@pytest.fixture
def force_fused(monkeypatch):
    """The fused evaluator for every grid (``ROOFLINE_FUSED=always``), whatever the break-even says."""
    monkeypatch.setenv("ROOFLINE_FUSED", "always")
    monkeypatch.setattr(fused, "BACKGROUND", False)


def _both(monkeypatch, fn):
    monkeypatch.setenv("ROOFLINE_FUSED", "always")
    a = fn()
    monkeypatch.setenv("ROOFLINE_FUSED", "0")
    b = fn()
    return a, b


@pytest.mark.parametrize("overlap", ["max", "sum"])
def test_gemm_fused_equals_numpy(monkeypatch, force_fused, overlap):
    dev = get_device("h100")
    cw = engine.compile_workload(workloads.gemm(), dev, overlap=overlap)
    assert cw.fused_source
    rng = np.random.default_rng(1)
    shapes = {k: rng.integers(1, 300_000, 5000).astype(float) for k in "MNK"}  # some fit nowhere
    vals = dev.values()
    caps = [vals[f"memory.{m.name}.capacity"] for m in dev.memory]
    a, b = _both(monkeypatch, lambda: cw.evaluate(shapes, vals, caps))
    assert np.array_equal(np.isnan(a["time_s"]), np.isnan(b["time_s"])) and np.isnan(a["time_s"]).any()
    np.testing.assert_allclose(a["time_s"], b["time_s"], rtol=1e-12)
    ok = ~np.isnan(a["time_s"])
    assert (a["bound_index"][ok] == b["bound_index"][ok]).all()
    assert (a["home"] == b["home"]).all()


@pytest.mark.parametrize("model, device, phase", [("llama-3.1-70b", "h100", "decode"),
                                                  ("mixtral-8x7b", "h100", "prefill"),
                                                  ("gpt-oss-120b", "wse3", "decode")])
def test_llm_fused_equals_numpy(monkeypatch, force_fused, model, device, phase):
    m, d = get_model(model), get_device(device)
    pl = place(m, d)
    b = np.repeat(np.arange(1, 41.0), 50)
    s = np.tile(np.arange(64, 64 * 51.0, 64), 40)
    key = "s" if phase == "decode" else "p"
    a, c = _both(monkeypatch, lambda: _run(m, d, phase, Precision(), pl, {"b": b, key: s}, False, "max", "nominal"))
    np.testing.assert_allclose(a["time_s"], c["time_s"], rtol=1e-12)
    assert (a["bound_index"] == c["bound_index"]).all()


def test_kernel_files_in_a_shared_folder_are_never_imported(tmp_path, monkeypatch, force_fused):
    """With the cache off the kernel is compiled in memory: a file planted in the temporary folder (the old
    fixed path) or anywhere else is never imported; and in the cache folder a kernel file whose text is
    not exactly the generated source is rewritten, never run."""
    import hashlib
    import tempfile

    marker = tmp_path / "pwned"
    dev = get_device("h100")
    cw = engine.compile_workload(workloads.gemv(), dev)
    name = "roofline_fused_" + hashlib.sha256(cw.fused_source.encode()).hexdigest()[:24]
    payload = f"open({str(marker)!r}, 'w').write('x')\n" + cw.fused_source
    shared = Path(tempfile.gettempdir()) / "roofline-fused" / "fused"
    shared.mkdir(parents=True, exist_ok=True)
    (shared / f"{name}.py").write_text(payload)
    fused.forget()
    sys.modules.pop(name, None)
    monkeypatch.setenv("ROOFLINE_CACHE", "0")
    vals = dev.values()
    caps = [vals[f"memory.{m.name}.capacity"] for m in dev.memory]
    cw.evaluate({"N": np.arange(1.0, 2000.0), "K": 4096.0}, vals, caps)
    assert not marker.exists()

    monkeypatch.setenv("ROOFLINE_CACHE", "1")
    monkeypatch.setenv("ROOFLINE_CACHE_DIR", str(tmp_path / "cache"))
    (tmp_path / "cache" / "fused").mkdir(parents=True)
    os.chmod(tmp_path / "cache", 0o700)
    planted = tmp_path / "cache" / "fused" / f"{name}.py"
    planted.write_text(payload)
    os.chmod(planted, 0o600)
    fused.forget()
    sys.modules.pop(name, None)
    cw.evaluate({"N": np.arange(1.0, 2000.0), "K": 4096.0}, vals, caps)
    assert not marker.exists()
    assert planted.read_text() == cw.fused_source
    fused.forget()


def _corners_of(dev, cw):
    """Nominal, best and worst figures and capacities of ``dev`` in ``cw``'s order; the worst corner's
    capacities halved, so that a corner's capacities can differ from the first's."""
    figs, caps = [], []
    for corner in ("nominal", "best", "worst"):
        v = dev.values(corner)
        figs.append([float(v[p]) for p in cw.device_paths])
        caps.append([float(v[f"memory.{m.name}.capacity"]) * (0.5 if corner == "worst" else 1.0)
                     for m in dev.memory])
    return figs, caps


@pytest.mark.parametrize("overlap", ["max", "sum"])
@pytest.mark.parametrize("home", [None, 0])
def test_the_sweep_function_writes_what_the_kernel_computes(force_fused, overlap, home):
    """``sweep`` (what a sweep reads, written in place) gives ``kernel``'s times at one, two and three
    corners exactly, and its first corner's binding term through the code table; NaN and the capacity code
    where the caller says a point does not fit; in every mode."""
    dev = get_device("h100")
    cw = engine.compile_workload(workloads.gemm(), dev, overlap=overlap)
    rng = np.random.default_rng(7)
    n = 3000
    shapes = [np.ascontiguousarray(rng.integers(1, 300_000, n).astype(float)) for _ in cw.shape_names]
    figs, caps = _corners_of(dev, cw)
    lut = rng.permutation(100).astype(np.int8)[:len(cw.labels)]
    ok = rng.random(n) < 0.8
    for mode in ("ideal", "latency_bound", "estimate"):
        for nc in (1, 2, 3):
            t, first = fused.run_corners(cw, shapes, figs[:nc], caps[:nc], 1.0, home, n, mode)
            times, codes = [np.full(n, -1.0) for _ in range(nc)], np.full(n, -1, dtype=np.int8)
            fused.run_sweep(cw, shapes, figs[:nc], caps[:nc], 1.0, home, n, mode, times, codes, lut, ok, 120)
            for j in range(nc):
                assert np.array_equal(times[j], np.where(ok, t[j], np.nan), equal_nan=True)
            assert np.isnan(t[0]).any() or home is not None
            assert (codes == np.where(ok, lut[first["bound_index"]], 120)).all()


@pytest.mark.parametrize("ideal", [True, "latency_bound", False])
@pytest.mark.parametrize("phase", ["decode", "prefill"])
def test_a_fused_sweep_equals_the_numpy_sweep_in_every_mode(monkeypatch, ideal, phase):
    """The sweep's fused function gives the NumPy sweep's frame (times at every corner within 1e-12, as the
    kernel does: the two evaluators order a few operations differently; binding terms and the points that do
    not fit exactly) in every mode and phase."""
    from roofline import llm

    monkeypatch.setattr(fused, "BACKGROUND", False)
    args = ("llama-3.1-8b", ["h100", "mi300x"], np.arange(1, 300, 7), [128, 4096, 131072, 10**6])
    frames = []
    for how in ("0", "always"):
        monkeypatch.setenv("ROOFLINE_FUSED", how)
        frames.append(llm.decode_sweep(*args, device_counts=[1, 2], ideal=ideal, phase=phase, chunk=100))
    ref, got = frames
    assert list(ref.columns) == list(got.columns) and (~got.fits).any()
    for c in ref.columns:
        a, b = ref[c].to_numpy(), got[c].to_numpy()
        if a.dtype.kind == "f":
            np.testing.assert_allclose(b, a, rtol=1e-12, equal_nan=True, err_msg=c)
        else:
            assert (a == b).all(), c
