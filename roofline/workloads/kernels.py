"""Workloads: operators with FLOPs, bytes per tensor and bytes over links, as SymPy expressions of shapes.

No device figures live here. An :class:`Op` is one kernel; a :class:`Workload` is a list of ops, each
repeated ``count`` times (layers), whose times are summed per operator, never one roofline over the whole.

Kernels (:func:`gemm`, :func:`batched_gemm`, :func:`gemv`, :func:`elementwise`, :func:`reduction`,
:func:`attention_prefill`, :func:`attention_decode`) count compulsory traffic: each operand read once and
each result written once, which is the least any schedule can move and so keeps the roofline a bound.
"""

from __future__ import annotations

import sympy as sp

from ..dtypes import compute_dtype
from .ir import Op, Tensor, Workload, _sym

__all__ = ['gemm', 'batched_gemm', 'gemv', 'elementwise', 'reduction', 'attention_prefill', 'attention_decode']


def gemm(m=None, n=None, k=None, dtype: str = "bf16", dtype_a: str | None = None, dtype_b: str | None = None,
         dtype_c: str | None = None, name: str = "gemm", b_role: str = "input") -> Workload:
    """C[M,N] = A[M,K] · B[K,N].

    .. math:: F = 2MNK, \\qquad Q = MK\\,s_A + KN\\,s_B + MN\\,s_C

    with :math:`s_X` the bytes per element of each operand's data type. Shapes default to symbols.
    """
    M, N, K = _sym(m, "M"), _sym(n, "N"), _sym(k, "K")
    da, db, dc = dtype_a or dtype, dtype_b or dtype, dtype_c or dtype
    op = Op(name, 2 * M * N * K, compute_dtype(da, db),
            (Tensor("A", M * K, da, "input"), Tensor("B", K * N, db, b_role), Tensor("C", M * N, dc, "output")),
            kind="gemm")
    return Workload(name, (op,))


def batched_gemm(batch=None, m=None, n=None, k=None, dtype: str = "bf16", name: str = "batched_gemm") -> Workload:
    """``batch`` independent GEMMs: :math:`F = 2\\,b\\,MNK`, :math:`Q = b\\,(MK + KN + MN)\\,s`."""
    B = _sym(batch, "batch")
    M, N, K = _sym(m, "M"), _sym(n, "N"), _sym(k, "K")
    op = Op(name, 2 * B * M * N * K, compute_dtype(dtype),
            (Tensor("A", B * M * K, dtype, "input"), Tensor("B", B * K * N, dtype, "input"),
             Tensor("C", B * M * N, dtype, "output")), kind="gemm")
    return Workload(name, (op,))


def gemv(n=None, k=None, dtype: str = "bf16", name: str = "gemv") -> Workload:
    """y[N] = W[N,K] · x[K]: a GEMM with M = 1, :math:`F = 2NK`, intensity about 1 FLOP per weight byte."""
    return gemm(1, n, k, dtype=dtype, name=name)


def elementwise(n=None, dtype: str = "bf16", inputs: int = 2, flops_per_element: int = 1,
                name: str = "elementwise") -> Workload:
    """y = f(x_1, ..., x_i) over ``n`` elements: :math:`F = f n`, :math:`Q = (i + 1)\\,n\\,s`."""
    Nn = _sym(n, "n")
    ts = tuple(Tensor(f"x{i}", Nn, dtype, "input") for i in range(inputs)) + (Tensor("y", Nn, dtype, "output"),)
    op = Op(name, flops_per_element * Nn, compute_dtype(dtype), ts, kind="elementwise")
    return Workload(name, (op,))


def reduction(n=None, dtype: str = "bf16", name: str = "reduction") -> Workload:
    """A sum over ``n`` elements: :math:`F = n`, :math:`Q = n\\,s` (the scalar result is negligible)."""
    Nn = _sym(n, "n")
    op = Op(name, Nn, compute_dtype(dtype), (Tensor("x", Nn, dtype, "input"),), kind="reduction")
    return Workload(name, (op,))


def attention_prefill(batch=None, seq=None, heads=None, kv_heads=None, head_dim=None, dtype: str = "bf16",
                      kv_dtype: str | None = None, causal: bool = True, name: str = "attention_prefill") -> Workload:
    """FlashAttention-style prefill over ``seq`` tokens: no score matrix is written to memory.

    .. math::
        F = 4\\,b\\,h\\,S^2 d\\;(\\times \\tfrac12 \\text{ if causal}), \\qquad
        Q = b\\,S\\,d\\,(2 h\\,s_a + 2 h_{kv}\\,s_{kv})

    (QK^T and PV are 2·S²·d each per head; Q in and O out in the activation type, K and V in the KV type.)
    """
    B, S = _sym(batch, "b"), _sym(seq, "S")
    H, Hkv, D = _sym(heads, "h"), _sym(kv_heads if kv_heads is not None else heads, "h_kv"), _sym(head_dim, "d")
    kvd = kv_dtype or dtype
    flops = 4 * B * H * S * S * D * (sp.Rational(1, 2) if causal else 1)
    ts = (Tensor("Q", B * S * H * D, dtype, "activation"), Tensor("K", B * S * Hkv * D, kvd, "kv"),
          Tensor("V", B * S * Hkv * D, kvd, "kv"), Tensor("O", B * S * H * D, dtype, "activation"))
    return Workload(name, (Op(name, flops, compute_dtype(dtype), ts, kind="attention"),))


def attention_decode(batch=None, context=None, heads=None, kv_heads=None, head_dim=None, dtype: str = "bf16",
                     kv_dtype: str | None = None, name: str = "attention_decode") -> Workload:
    """One new token per sequence attending to a KV cache of ``context`` tokens.

    .. math:: F = 4\\,b\\,h\\,S\\,d, \\qquad Q = 2\\,b\\,S\\,h_{kv}\\,d\\,s_{kv} + 2\\,b\\,h\\,d\\,s_a

    The KV cache read dominates: it scales with the *KV* heads (grouped-query attention), not the query heads.
    """
    B, S = _sym(batch, "b"), _sym(context, "s")
    H, Hkv, D = _sym(heads, "h"), _sym(kv_heads if kv_heads is not None else heads, "h_kv"), _sym(head_dim, "d")
    kvd = kv_dtype or dtype
    ts = (Tensor("q", B * H * D, dtype, "activation"), Tensor("K", B * S * Hkv * D, kvd, "kv"),
          Tensor("V", B * S * Hkv * D, kvd, "kv"), Tensor("o", B * H * D, dtype, "activation"))
    return Workload(name, (Op(name, 4 * B * H * S * D, compute_dtype(dtype), ts, kind="attention"),))

