"""The fused kernel's source is printed from the point code's elimination (one ``sympy.cse`` per compile, not
two): it must be the source that an elimination of its own gives, character for character. No numba needed:
only the source is compared."""

from __future__ import annotations

import pytest

from roofline import get_device, workloads
from roofline.engine import compiled, fused
from roofline.llm import Precision, get_model, llm_workload, place
from roofline.vocab import Phase


def _workloads():
    yield workloads.gemm(64, 128, 256), get_device("h100")
    m, d = get_model("llama-3.1-8b"), get_device("h100")
    pl = place(m, d, Precision.of("bf16"), 1, 1024)
    yield llm_workload(m, Phase.DECODE, Precision.of("bf16"), pl.parallel, pl.links), d
    yield workloads.gemm(64, 128, 256), get_device("wse3")


@pytest.mark.slow  # two compiles of each workload (~3 s)
@pytest.mark.parametrize("overlap", ["max", "sum"])
def test_the_kernel_from_the_shared_elimination_is_the_kernel_of_its_own(monkeypatch, overlap):
    seen = []
    original = fused.generate

    def both(*args, eliminated=None, **kw):
        shared = original(*args, eliminated=eliminated, **kw)
        assert eliminated is not None
        seen.append(shared == original(*args, **kw))
        return shared

    monkeypatch.setattr(fused, "available", lambda: True)
    monkeypatch.setattr(fused, "generate", both)
    for wl, dev in _workloads():
        assert compiled.compile_workload(wl, dev, overlap=overlap).fused_source  # printed on first use
    assert seen == [True] * 3
