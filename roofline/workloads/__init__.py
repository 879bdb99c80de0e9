"""Workloads: the op IR (:class:`Tensor`, :class:`Op`, :class:`Workload`) and the kernels built on it.

No device figures live here. An :class:`Op` is one kernel; a :class:`Workload` is a list of ops, each
repeated ``count`` times, whose times are summed per operator. :class:`~roofline.workloads.recipes.Recipe`
names a kernel by kind and shape without building expressions (the cached fast path).

The IR and kernels need SymPy, so they load on first use: ``from roofline.workloads import Recipe``
does not import SymPy.
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
