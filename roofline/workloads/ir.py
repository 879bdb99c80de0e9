"""Workloads: operators with FLOPs, bytes per tensor and bytes over links, as SymPy expressions of shapes.

No device figures live here. An :class:`Op` is one kernel; a :class:`Workload` is a list of ops, each
repeated ``count`` times (layers), whose times are summed per operator, never one roofline over the whole.

Kernels (:func:`gemm`, :func:`batched_gemm`, :func:`gemv`, :func:`elementwise`, :func:`reduction`,
:func:`attention_prefill`, :func:`attention_decode`) count compulsory traffic: each operand read once and
each result written once, which is the least any schedule can move and so keeps the roofline a bound.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping

import sympy as sp

from ..dtypes import bytes_per_element
from ..errors import InputError
from ..symbols import shape_symbol

__all__ = ['Tensor', 'Op', 'Workload']


@dataclass(frozen=True)
class Tensor:
    """A tensor an op reads or writes: ``elements`` of ``dtype``, with a ``role``.

    Roles: ``weight``, ``kv`` (KV cache), ``activation``, ``input``, ``output``.
    """

    name: str
    elements: sp.Expr
    dtype: str
    role: str = "activation"

    @property
    def bytes(self) -> sp.Expr:
        return self.elements * sp.nsimplify(bytes_per_element(self.dtype))


@dataclass(frozen=True)
class Op:
    """One kernel: FLOPs in one compute data type, tensors moved through memory, bytes over links.

    Parameters
    ----------
    name : str
    flops : sympy expression [FLOP]
        Arithmetic work (a multiply-add is 2 FLOP).
    dtype : str
        The data type whose peak applies.
    tensors : tuple of Tensor
        What the op reads and writes (compulsory traffic).
    link_bytes : mapping of link role to expression [B]
        Bytes one device sends over each link role (``tp``, ``pp``, ``ep``) for this op.
    link_steps : mapping of link role to expression [1]
        Latency-bearing message steps per link role (an all-reduce over n devices: 2(n-1) steps).
    count : expression [1]
        How many times the op runs (layers).
    """

    name: str
    flops: sp.Expr
    dtype: str
    tensors: tuple[Tensor, ...]
    link_bytes: Mapping[str, sp.Expr] = field(default_factory=dict)
    link_steps: Mapping[str, sp.Expr] = field(default_factory=dict)
    count: sp.Expr = sp.Integer(1)
    kind: str = ""

    @property
    def bytes(self) -> sp.Expr:
        """Total bytes moved through memory [B]."""
        return sp.Add(*[t.bytes for t in self.tensors])

    def bytes_by_role(self, role: str) -> sp.Expr:
        return sp.Add(*[t.bytes for t in self.tensors if t.role == role])

    @property
    def intensity(self) -> sp.Expr:
        """Arithmetic intensity [FLOP/B]."""
        return self.flops / self.bytes

    def free_symbols(self) -> set:
        s = set(self.flops.free_symbols) | set(self.count.free_symbols)
        for t in self.tensors:
            s |= t.elements.free_symbols
        for e in list(self.link_bytes.values()) + list(self.link_steps.values()):
            s |= sp.sympify(e).free_symbols
        return s


@dataclass(frozen=True)
class Workload:
    """A named list of ops; its shape symbols are the free symbols of its ops.

    ``resident`` is the expression of bytes that must stay in memory between ops (weights and KV cache
    of a model); for a single kernel it is the op's own working set.
    """

    name: str
    ops: tuple[Op, ...]
    resident: sp.Expr | None = None
    meta: Mapping[str, object] = field(default_factory=dict)

    @property
    def symbols(self) -> tuple[sp.Symbol, ...]:
        s: set = set()
        for op in self.ops:
            s |= op.free_symbols()
        if self.resident is not None:
            s |= self.resident.free_symbols
        return tuple(sorted(s, key=lambda x: x.name))

    @property
    def flops(self) -> sp.Expr:
        return sp.Add(*[op.count * op.flops for op in self.ops])

    @property
    def bytes(self) -> sp.Expr:
        return sp.Add(*[op.count * op.bytes for op in self.ops])

    @property
    def working_set(self) -> sp.Expr:
        """Bytes that must be held in one memory level (decides where the data lives)."""
        if self.resident is not None:
            return self.resident
        return sp.Max(*[op.bytes for op in self.ops]) if len(self.ops) > 1 else self.ops[0].bytes

    @property
    def dtypes(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(op.dtype for op in self.ops))


def _sym(x, name: str):
    """A shape given as a number stays a number; None or a string becomes a symbol."""
    if x is None:
        return shape_symbol(name)
    if isinstance(x, str):
        return shape_symbol(x)
    if isinstance(x, sp.Basic):
        return x
    if isinstance(x, bool) or not isinstance(x, (int, float)) or x <= 0 or float(x) != int(x):
        raise InputError(f"{name} must be a positive integer, got {x!r}")
    return sp.Integer(int(x))

