"""Data types: storage size per element and the type a kernel computes in. No SymPy here: the CLI's fast
path uses this without building expressions."""

from __future__ import annotations

from .errors import UnknownNameError

__all__ = ["BYTES_PER_ELEMENT", "bytes_per_element", "compute_dtype"]

#: Storage size of one element [B]. Sub-byte types pack (fp4/int4: two per byte; fp6: four per three bytes).
BYTES_PER_ELEMENT: dict[str, float] = {
    "fp64": 8, "fp64_tensor": 8, "fp32": 4, "tf32": 4, "bf16": 2, "fp16": 2,
    "fp8": 1, "cfp8": 1, "int8": 1, "fp6": 0.75, "fp4": 0.5, "int4": 0.5,
}
_WIDTH_ORDER = ["fp4", "int4", "fp6", "fp8", "cfp8", "int8", "fp16", "bf16", "tf32", "fp32", "fp64"]


def bytes_per_element(dtype: str) -> float:
    """Bytes per element of ``dtype``; raises :class:`UnknownNameError` with suggestions."""
    try:
        return BYTES_PER_ELEMENT[dtype]
    except KeyError:
        raise UnknownNameError("data type", dtype, BYTES_PER_ELEMENT) from None


def compute_dtype(*dtypes: str) -> str:
    """The data type a kernel over operands of ``dtypes`` computes in: the widest of them.

    Weight-only quantisation (int4 or fp8 weights, bf16 activations) computes in bf16 after dequantising.
    """
    for d in dtypes:
        bytes_per_element(d)
    widest = max(dtypes, key=lambda d: _WIDTH_ORDER.index(d) if d in _WIDTH_ORDER else 0)
    return widest


