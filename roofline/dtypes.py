"""Data types: one table of storage size, width, weight-only use, compute type and compute fallback. A leaf
module.

Every other room asks this table; no data type is listed anywhere else. No SymPy here: the command
line's fast path uses it without building expressions.

>>> bytes_per_element("fp4")
0.5
>>> bytes_per_element("mxfp4") * 8   # 32 E2M1 elements share one 8-bit E8M0 scale
4.25
>>> compute_dtype("int4", "bf16")     # weight-only int4 computes in bf16 after dequantising
'bf16'
>>> peak_dtype("bf16", ["fp16", "int8"])   # Groq's LPU has no bf16 unit: bf16 runs at its fp16 peak
'fp16'
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable

from .errors import UnknownNameError

__all__ = ["DType", "TABLE", "DTYPES", "BYTES_PER_ELEMENT", "WEIGHT_ONLY", "bytes_per_element", "compute_dtype",
           "activation_dtype", "elementwise_dtype", "peak_dtype"]


@dataclass(frozen=True)
class DType:
    """One data type.

    Parameters
    ----------
    name : str
        As spec files and the command line spell it.
    bytes : float
        Storage per element [B]; sub-byte types pack (fp4/int4: two per byte; fp6: four per three bytes).
    rank : int
        Width order [1]: a kernel over operands of several types computes in the one of highest rank.
    weight_only : bool
        Used for weights only: activations and the KV cache stay in ``bf16`` beside it.
    fallback : str
        The type of the same width a device computes this one at when it publishes no peak for it
        (``""``: none). bf16 falls back to fp16: a 16-bit multiplier without a bf16 mode (Groq's LPU)
        converts bf16 operands to fp16 and runs at its fp16 peak; results note it. A block-scaled type
        falls back to its element type (``mxfp4`` to ``fp4``).
    source : str
        Where a storage size that is not the element width alone comes from (block-scaled types: the
        element's bits plus the shared scale's bits over the block).
    """

    name: str
    bytes: float
    rank: int
    weight_only: bool = False
    fallback: str = ""
    source: str = ""


#: OCP Microscaling Formats (MX) Specification v1.0 (Sept 2023), section 5: an MXFP4 block is 32 E2M1 elements
#: (4 bits) sharing one E8M0 scale (8 bits): (32 x 4 + 8) / 32 = 4.25 bits an element.
_MXFP4 = ("OCP Microscaling Formats (MX) Specification v1.0, 2023, sections 5.1-5.2: 32 FP4 (E2M1) elements share "
          "one 8-bit E8M0 scale: 4 + 8/32 = 4.25 bits an element; gpt-oss's MoE weights (model card, arXiv 2508.10925)")
#: Kimi K2 Thinking / K2.5 / K2.6: routed experts in INT4, compressed-tensors pack-quantized, symmetric (no zero
#: point), group size 32 along the input dimension, one scale per group stored in the checkpoint's bf16.
_INT4_G32 = ("moonshotai/Kimi-K2-Thinking (and K2.5, K2.6) config.json quantization_config: compressed-tensors, "
             "weights num_bits 4, type int, symmetric, strategy group, group_size 32; the per-group weight_scale is "
             "stored in bf16: 4 + 16/32 = 4.5 bits an element")
#: The table, in the order spec files list peaks.
TABLE: dict[str, DType] = {d.name: d for d in (
    DType("fp64", 8, 10), DType("fp64_tensor", 8, 10), DType("fp32", 4, 9), DType("tf32", 4, 8),
    DType("bf16", 2, 7, fallback="fp16"), DType("fp16", 2, 6), DType("fp8", 1, 3), DType("cfp8", 1, 4), DType("int8", 1, 5),
    DType("fp6", 0.75, 2, weight_only=True), DType("fp4", 0.5, 0, weight_only=True),
    DType("int4", 0.5, 1, weight_only=True),
    DType("mxfp4", 4.25 / 8, 0, weight_only=True, fallback="fp4", source=_MXFP4),
    DType("int4_g32", 4.5 / 8, 1, weight_only=True, fallback="int4", source=_INT4_G32),
)}
#: Data types a spec may give a peak for.
DTYPES: tuple[str, ...] = tuple(TABLE)
#: Storage size of one element [B], by name.
BYTES_PER_ELEMENT: dict[str, float] = {n: d.bytes for n, d in TABLE.items()}
#: Types used for weights only (activations and the KV cache then stay in bf16).
WEIGHT_ONLY: frozenset[str] = frozenset(n for n, d in TABLE.items() if d.weight_only)
#: Types an elementwise kernel computes in natively; others compute in bf16.
_ELEMENTWISE = frozenset({"bf16", "fp16", "fp32"})


def _get(dtype: str) -> DType:
    try:
        return TABLE[dtype]
    except (KeyError, TypeError):
        raise UnknownNameError("data type", str(dtype), TABLE) from None


def bytes_per_element(dtype: str) -> float:
    """Storage per element of ``dtype``.

    Parameters
    ----------
    dtype : str
        A name from :data:`TABLE`.

    Returns
    -------
    float
        [B] per element.

    Raises
    ------
    UnknownNameError
        With the nearest known names.
    """
    return _get(dtype).bytes


def compute_dtype(*dtypes: str) -> str:
    """The data type a kernel over operands of ``dtypes`` computes in: the widest of them.

    Weight-only quantisation (int4 or fp8 weights, bf16 activations) computes in bf16 after dequantising.

    Parameters
    ----------
    *dtypes : str
        Operand data types, names from :data:`TABLE`.

    Returns
    -------
    str
        The one of highest width rank.

    Raises
    ------
    UnknownNameError
        An unknown data type.
    """
    return max((_get(d) for d in dtypes), key=lambda d: d.rank).name


def activation_dtype(dtype: str) -> str:
    """The activation (and KV-cache) data type that goes with weights in ``dtype``.

    Parameters
    ----------
    dtype : str
        The weights' data type, a name from :data:`TABLE`.

    Returns
    -------
    str
        ``dtype`` itself, or ``bf16`` for a weight-only type.

    Examples
    --------
    >>> activation_dtype("fp8"), activation_dtype("int4")
    ('fp8', 'bf16')
    """
    return "bf16" if _get(dtype).weight_only else dtype


def elementwise_dtype(dtype: str) -> str:
    """The type an elementwise kernel (norm, activation, residual add) over ``dtype`` computes in.

    Parameters
    ----------
    dtype : str
        The data type of the tensors, a name from :data:`TABLE`.

    Returns
    -------
    str
        ``dtype`` for bf16, fp16 and fp32; ``bf16`` otherwise.

    Raises
    ------
    UnknownNameError
        An unknown data type.
    """
    _get(dtype)
    return dtype if dtype in _ELEMENTWISE else "bf16"


def peak_dtype(dtype: str, published: Iterable[str]) -> str | None:
    """The data type whose peak a device computes ``dtype`` at: ``dtype`` itself when the device publishes
    a peak for it, else its same-width fallback (:attr:`DType.fallback`) when it publishes that one.

    Parameters
    ----------
    dtype : str
        The data type a kernel computes in, a name from :data:`TABLE`.
    published : iterable of str
        The data types the device publishes a peak for (``Device.compute``).

    Returns
    -------
    str or None
        ``dtype``, its fallback, or None when the device has neither (the caller's error names ``dtype``).

    Raises
    ------
    UnknownNameError
        An unknown data type.

    Examples
    --------
    >>> peak_dtype("bf16", ["bf16", "fp16"]), peak_dtype("fp8", ["bf16"])
    ('bf16', None)
    """
    have = set(published)
    d = _get(dtype)
    if d.name in have:
        return d.name
    return d.fallback if d.fallback and d.fallback in have else None
