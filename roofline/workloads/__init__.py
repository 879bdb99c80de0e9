"""The workloads room: what runs, as operators with FLOPs and bytes; no device figures live here.

- :mod:`~roofline.workloads.ir`: the op IR. A :class:`Tensor` is what an op moves, an :class:`Op` is one
  kernel, a :class:`Workload` is a list of ops, each repeated ``count`` times, whose times are summed per
  operator.
- :mod:`~roofline.workloads.kernels`: GEMM, batched GEMM, GEMV, elementwise, reduction and attention
  (prefill and decode), each counting its compulsory traffic.
- :mod:`~roofline.workloads.recipes`: :class:`Recipe` names a kernel by kind and shape without building
  expressions (the cached fast path).

An LLM is a workload family of its own (:mod:`roofline.llm`). The IR and kernels need SymPy, so they load
on first use: ``from roofline.workloads import Recipe`` does not import SymPy.
"""

from __future__ import annotations

import importlib

from .recipes import KINDS, Recipe

_LAZY = {
    "Tensor": "ir", "Op": "ir", "Workload": "ir",
    "gemm": "kernels", "batched_gemm": "kernels", "gemv": "kernels", "elementwise": "kernels",
    "reduction": "kernels", "attention_prefill": "kernels", "attention_decode": "kernels",
}
#: Old spellings that lived in this module (data types now have one home: :mod:`roofline.dtypes`).
_DTYPES = ("BYTES_PER_ELEMENT", "bytes_per_element", "compute_dtype")

__all__ = ["Recipe", "KINDS", *_LAZY]


def __getattr__(name: str):
    if name in _LAZY:
        return getattr(importlib.import_module(f"{__name__}.{_LAZY[name]}"), name)
    if name in _DTYPES:
        return getattr(importlib.import_module("roofline.dtypes"), name)
    if name in ("ir", "kernels"):
        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
