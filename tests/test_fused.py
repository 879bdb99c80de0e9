"""The fused (numba) evaluator gives the same numbers as the NumPy path."""

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
    monkeypatch.setattr(fused, "MIN_POINTS", 1)


def _both(monkeypatch, fn):
    monkeypatch.setenv("ROOFLINE_FUSED", "1")
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
