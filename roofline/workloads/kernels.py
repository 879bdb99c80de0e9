"""Kernels as workloads of one op: GEMM, batched GEMM, GEMV, elementwise, reduction and attention.

Each kernel counts its FLOPs (a multiply-add is 2 FLOP) and its *compulsory* traffic: each operand read
once and each result written once, the least any schedule can move, so the roofline stays a bound
(Williams et al. 2009). A shape given as a number stays a number; one left as None (or named by a
string) becomes a shape symbol (``M``, ``N``, ``K``, ``b``, ``S``, ``s``...; see the nomenclature).
:math:`s_X` below is the bytes per element of a data type (:func:`roofline.dtypes.bytes_per_element`).

The op IR they build is in :mod:`roofline.workloads.ir`; :class:`~roofline.workloads.recipes.Recipe` names
a kernel without building it.
"""

from __future__ import annotations

import sympy as sp

from ..dtypes import compute_dtype
from .ir import Op, Tensor, Workload, _sym

__all__ = ['gemm', 'batched_gemm', 'gemv', 'elementwise', 'reduction', 'attention_prefill', 'attention_decode']


def gemm(m=None, n=None, k=None, dtype: str = "bf16", dtype_a: str | None = None, dtype_b: str | None = None,
         dtype_c: str | None = None, name: str = "gemm", b_role: str = "input") -> Workload:
    """GEMM: C[M,N] = A[M,K] · B[K,N], each operand read or written once.

    .. math:: F = 2MNK, \\qquad Q = MK\\,s_A + KN\\,s_B + MN\\,s_C

    with :math:`s_X` the bytes per element of each operand's data type; the op computes in the wider of A's
    and B's types (:func:`roofline.dtypes.compute_dtype`).

    Parameters
    ----------
    m, n, k : int, str or None
        Rows of A and C (``m``), columns of B and C (``n``), the reduced dimension (``k``) [1]; None: the
        symbols ``M``, ``N``, ``K``.
    dtype : str
        Data type of every operand not given its own.
    dtype_a, dtype_b, dtype_c : str, optional
        Data type of A, B or C; None: ``dtype`` (weight-only quantisation: ``dtype_b="int4"``).
    name : str
        Name of the workload and of its op.
    b_role : TensorRole or str
        Role of B: ``input`` for a kernel, ``weight`` for a layer's weights.

    Returns
    -------
    Workload
        One op of kind ``gemm``.

    Raises
    ------
    InputError
        A shape that is not a positive integer.

    References
    ----------
    S. Williams, A. Waterman, D. Patterson, "Roofline: an insightful visual performance model for
    multicore architectures", CACM 52(4), 2009.

    Examples
    --------
    >>> wl = gemm(4096, 4096, 4096)  # 2·4096³ FLOP; 3·4096² elements of 2 B
    >>> int(wl.flops), int(wl.bytes)
    (137438953472, 100663296)
    >>> gemm(n=4096, k=4096).flops  # M left symbolic
    33554432*M
    """
    M, N, K = _sym(m, "M"), _sym(n, "N"), _sym(k, "K")
    da, db, dc = dtype_a or dtype, dtype_b or dtype, dtype_c or dtype
    op = Op(name, 2 * M * N * K, compute_dtype(da, db),
            (Tensor("A", M * K, da, "input"), Tensor("B", K * N, db, b_role), Tensor("C", M * N, dc, "output")),
            kind="gemm", reductions=(1, 1))  # on a mesh: one reduction over the cores that hold the operands
    return Workload(name, (op,))


def batched_gemm(batch=None, m=None, n=None, k=None, dtype: str = "bf16", name: str = "batched_gemm") -> Workload:
    """``batch`` independent GEMMs of one shape: C_i[M,N] = A_i[M,K] · B_i[K,N].

    .. math:: F = 2\\,b\\,MNK, \\qquad Q = b\\,(MK + KN + MN)\\,s

    Parameters
    ----------
    batch : int, str or None
        Independent GEMMs :math:`b` [1]; None: the symbol ``batch``.
    m, n, k : int, str or None
        Shape of each GEMM, as for :func:`gemm` [1]; None: ``M``, ``N``, ``K``.
    dtype : str
        Data type of every operand.
    name : str
        Name of the workload and of its op.

    Returns
    -------
    Workload
        One op of kind ``gemm`` whose operands all have role ``input``.

    Examples
    --------
    >>> int(batched_gemm(8, 64, 64, 64).flops)  # 8 · 2 · 64³
    4194304
    """
    B = _sym(batch, "batch")
    M, N, K = _sym(m, "M"), _sym(n, "N"), _sym(k, "K")
    op = Op(name, 2 * B * M * N * K, compute_dtype(dtype),
            (Tensor("A", B * M * K, dtype, "input"), Tensor("B", B * K * N, dtype, "input"),
             Tensor("C", B * M * N, dtype, "output")), kind="gemm", reductions=(1, 1))
    return Workload(name, (op,))


def gemv(n=None, k=None, dtype: str = "bf16", name: str = "gemv") -> Workload:
    """GEMV: y[N] = W[N,K] · x[K], a :func:`gemm` with M = 1.

    .. math:: F = 2NK, \\qquad Q = (K + NK + N)\\,s, \\qquad I = \\frac{F}{Q} \\approx \\frac{2}{s}

    About 1 FLOP per byte in bf16: far below any accelerator's ridge point, so memory-bound.

    Parameters
    ----------
    n, k : int, str or None
        Output and input lengths [1]; None: the symbols ``N``, ``K``.
    dtype : str
        Data type of every operand.
    name : str
        Name of the workload and of its op.

    Returns
    -------
    Workload
        One op of kind ``gemm`` (the matrix is its B operand).

    Examples
    --------
    >>> wl = gemv(8192, 8192)
    >>> round(float(wl.flops / wl.bytes), 4)  # 2·8192² / ((8192 + 8192² + 8192) · 2)
    0.9998
    """
    return gemm(1, n, k, dtype=dtype, name=name)


def elementwise(n=None, dtype: str = "bf16", inputs: int = 2, flops_per_element: int = 1,
                name: str = "elementwise") -> Workload:
    """y = f(x_1, ..., x_i) over ``n`` elements: every input read once, the output written once.

    .. math:: F = f\\,n, \\qquad Q = (i + 1)\\,n\\,s

    Parameters
    ----------
    n : int, str or None
        Elements [1]; None: the symbol ``n``.
    dtype : str
        Data type of the inputs and the output.
    inputs : int
        Input tensors :math:`i` [1].
    flops_per_element : int
        Work per output element :math:`f` [FLOP].
    name : str
        Name of the workload and of its op.

    Returns
    -------
    Workload
        One op of kind ``elementwise``.

    Examples
    --------
    >>> int(elementwise(1000).bytes)  # two bf16 inputs and one output: 3 · 1000 · 2 B
    6000
    """
    Nn = _sym(n, "n")
    ts = tuple(Tensor(f"x{i}", Nn, dtype, "input") for i in range(inputs)) + (Tensor("y", Nn, dtype, "output"),)
    op = Op(name, flops_per_element * Nn, compute_dtype(dtype), ts, kind="elementwise")
    return Workload(name, (op,))


def reduction(n=None, dtype: str = "bf16", name: str = "reduction") -> Workload:
    """A sum over ``n`` elements (the scalar result's traffic is neglected).

    .. math:: F = n, \\qquad Q = n\\,s

    Parameters
    ----------
    n : int, str or None
        Elements [1]; None: the symbol ``n``.
    dtype : str
        Data type of the input.
    name : str
        Name of the workload and of its op.

    Returns
    -------
    Workload
        One op of kind ``reduction``.

    Examples
    --------
    >>> int(reduction(1000, dtype="fp32").bytes)
    4000
    """
    Nn = _sym(n, "n")
    op = Op(name, Nn, compute_dtype(dtype), (Tensor("x", Nn, dtype, "input"),), kind="reduction", reductions=(1, 1))
    return Workload(name, (op,))


def attention_prefill(batch=None, seq=None, heads=None, kv_heads=None, head_dim=None, dtype: str = "bf16",
                      kv_dtype: str | None = None, causal: bool = True, name: str = "attention_prefill") -> Workload:
    """FlashAttention-style prefill over ``seq`` tokens: no score matrix is written to memory.

    .. math::
        F = 4\\,b\\,h\\,S^2 d\\;(\\times \\tfrac12 \\text{ if causal}), \\qquad
        Q = b\\,S\\,d\\,(2 h\\,s_a + 2 h_{kv}\\,s_{kv})

    (QK^T and PV are 2·S²·d each per head; Q in and O out in the activation type, K and V in the KV type.)

    Parameters
    ----------
    batch : int, str or None
        Sequences :math:`b` [1]; None: the symbol ``b``.
    seq : int, str or None
        Tokens per sequence :math:`S` [1]; None: ``S``.
    heads : int, str or None
        Query heads :math:`h` [1]; None: ``h``.
    kv_heads : int, str or None
        Key/value heads :math:`h_{kv}` [1]; None: as ``heads`` (the symbol ``h_kv`` when both are None).
    head_dim : int, str or None
        Head dimension :math:`d` [1]; None: ``d``.
    dtype : str
        Activation data type (Q and O), which the op computes in.
    kv_dtype : str, optional
        Data type of K and V; None: ``dtype``.
    causal : bool
        Causal mask: half the score matrix is computed.
    name : str
        Name of the workload and of its op.

    Returns
    -------
    Workload
        One op of kind ``attention``; K and V have role ``kv``, Q and O ``activation``.

    References
    ----------
    T. Dao, D. Y. Fu, S. Ermon, A. Rudra, C. Ré, "FlashAttention: fast and memory-efficient exact
    attention with IO-awareness", NeurIPS 2022.

    Examples
    --------
    >>> wl = attention_prefill(1, 4096, 32, 8, 128)  # F = 4·32·4096²·128 / 2; Q = 4096·128·(2·32 + 2·8)·2 B
    >>> int(wl.flops), int(wl.bytes)
    (137438953472, 83886080)
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

    Parameters
    ----------
    batch : int, str or None
        Sequences :math:`b` [1]; None: the symbol ``b``.
    context : int, str or None
        Tokens already in the KV cache :math:`S` [1]; None: the symbol ``s``.
    heads : int, str or None
        Query heads :math:`h` [1]; None: ``h``.
    kv_heads : int, str or None
        Key/value heads :math:`h_{kv}` [1]; None: as ``heads`` (the symbol ``h_kv`` when both are None).
    head_dim : int, str or None
        Head dimension :math:`d` [1]; None: ``d``.
    dtype : str
        Activation data type (q and o), which the op computes in.
    kv_dtype : str, optional
        Data type of the KV cache; None: ``dtype``.
    name : str
        Name of the workload and of its op.

    Returns
    -------
    Workload
        One op of kind ``attention``; K and V have role ``kv``, q and o ``activation``.

    References
    ----------
    J. Ainslie et al., "GQA: training generalized multi-query transformer models from multi-head
    checkpoints", EMNLP 2023.

    Examples
    --------
    >>> wl = attention_decode(1, 8192, 64, 8, 128)  # Q = 2·8192·8·128·2 + 2·64·128·2 B
    >>> int(wl.flops), int(wl.bytes)
    (268435456, 33587200)
    """
    B, S = _sym(batch, "b"), _sym(context, "s")
    H, Hkv, D = _sym(heads, "h"), _sym(kv_heads if kv_heads is not None else heads, "h_kv"), _sym(head_dim, "d")
    kvd = kv_dtype or dtype
    ts = (Tensor("q", B * H * D, dtype, "activation"), Tensor("K", B * S * Hkv * D, kvd, "kv"),
          Tensor("V", B * S * Hkv * D, kvd, "kv"), Tensor("o", B * H * D, dtype, "activation"))
    return Workload(name, (Op(name, 4 * B * H * S * D, compute_dtype(dtype), ts, kind="attention"),))

