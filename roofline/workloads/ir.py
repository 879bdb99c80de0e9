"""The op IR: tensors, operators and workloads, with FLOPs and bytes as SymPy expressions of shapes.

No device figures live here. A :class:`Tensor` is what an op moves through memory (``elements`` of a data
type, with a role that decides where it lives); an :class:`Op` is one kernel: its FLOPs in one compute data
type, its tensors and the bytes it sends over each link role; a :class:`Workload` is a list of ops, each
repeated ``count`` times (layers), whose times the engine sums per operator, never one roofline over the
whole. Shapes are SymPy symbols (see the nomenclature's shape symbols) or integers.

The kernels built on this IR are in :mod:`roofline.workloads.kernels`; an LLM's per-block ops in
:mod:`roofline.llm.blocks`.
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

    Parameters
    ----------
    name : str
        A label (``"A"``, ``"K"``...).
    elements : sympy.Expr
        Elements moved [1].
    dtype : str
        Its data type (:mod:`roofline.dtypes`).
    role : TensorRole or str
        ``weight``, ``kv`` (KV cache), ``activation``, ``input`` or ``output``: every role but
        ``activation`` is resident (:data:`roofline.vocab.RESIDENT_ROLES`) and lives at the home level.

    Examples
    --------
    >>> Tensor("x", sp.Integer(1024), "fp8").bytes
    1024
    """

    name: str
    elements: sp.Expr
    dtype: str
    role: str = "activation"

    @property
    def bytes(self) -> sp.Expr:
        """Bytes moved [B]: elements times the data type's bytes per element."""
        return self.elements * sp.nsimplify(bytes_per_element(self.dtype))


@dataclass(frozen=True)
class Op:
    """One kernel: FLOPs in one compute data type, tensors moved through memory, bytes over links.

    Parameters
    ----------
    name : str
        A label, unique in its workload.
    flops : sympy.Expr
        Arithmetic work, a multiply-add counting 2 [FLOP].
    dtype : str
        The data type whose peak applies.
    tensors : tuple of Tensor
        What the op reads and writes (compulsory traffic).
    link_bytes : mapping of str to sympy.Expr
        Bytes one device sends over each link role (``tp``, ``pp``, ``ep``) for this op [B].
    link_steps : mapping of str to sympy.Expr
        Latency-bearing message steps per link role [1], for an op whose steps do not depend on the link's
        topology (most ops name a ``collective`` instead).
    count : sympy.Expr
        How many times the op runs (layers) [1].
    kind : str
        What kind of kernel it is (``gemm``, ``attention``, ``collective``, ``handoff``...), for reports; a
        ``handoff`` is no kernel (it pays no launch).
    collectives : mapping of str to tuple
        Per link role, ``(collective, devices)``: the :class:`~roofline.vocab.Collective` the op runs and
        the devices of its group, from which the link's topology gives the hops
        (:meth:`roofline.hardware.topology.Topology.hops`).
    reductions : tuple of int
        Dependent reductions or broadcasts across the op's region of a mesh (a wafer, a tile): as an
        implementation runs them, and the fewest the op's data dependencies allow (norms fused into the
        neighbouring reduction, online softmax) [1].
    region : str or tuple
        The mesh region those reductions span: ``layer`` (the region of the op's layer) or ``own`` (the
        cores that hold the op's own resident data); for routed experts ``(experts, piece)`` [B]: the bytes
        of the layer's experts region, which dispatch and combine cross, and of one expert, over whose cores
        each chosen expert's matrix-vector products reduce, side by side with the others.
    handoffs : int
        Hand-offs of the hidden state from one layer's region to the next that the op stands for [1].
    """

    name: str
    flops: sp.Expr
    dtype: str
    tensors: tuple[Tensor, ...]
    link_bytes: Mapping[str, sp.Expr] = field(default_factory=dict)
    link_steps: Mapping[str, sp.Expr] = field(default_factory=dict)
    count: sp.Expr = sp.Integer(1)
    kind: str = ""
    collectives: Mapping[str, tuple] = field(default_factory=dict)
    reductions: tuple[int, int] = (0, 0)
    region: str | tuple = "own"
    handoffs: int = 0

    @property
    def bytes(self) -> sp.Expr:
        """Total bytes moved through memory [B]."""
        return sp.Add(*[t.bytes for t in self.tensors])

    def bytes_by_role(self, role: str) -> sp.Expr:
        """Bytes of the op's tensors of one role.

        Parameters
        ----------
        role : TensorRole or str
            ``weight``, ``kv``, ``activation``, ``input`` or ``output``.

        Returns
        -------
        sympy.Expr
            Bytes [B]; 0 when no tensor has that role.
        """
        return sp.Add(*[t.bytes for t in self.tensors if t.role == role])

    @property
    def intensity(self) -> sp.Expr:
        """Arithmetic intensity [FLOP/B]."""
        return self.flops / self.bytes

    def free_symbols(self) -> set:
        """The shape symbols the op's FLOPs, count, tensors and link traffic depend on.

        Returns
        -------
        set of sympy.Symbol
        """
        s = set(self.flops.free_symbols) | set(self.count.free_symbols)
        for t in self.tensors:
            s |= t.elements.free_symbols
        for e in list(self.link_bytes.values()) + list(self.link_steps.values()):
            s |= sp.sympify(e).free_symbols
        return s


@dataclass(frozen=True)
class Workload:
    """A named list of ops; its shape symbols are the free symbols of its ops.

    Parameters
    ----------
    name : str
        The workload's name.
    ops : tuple of Op
        Its operators, in execution order.
    resident : sympy.Expr, optional
        Bytes that must stay in memory between ops (a model's weights and KV cache) [B]; None: the working
        set is the largest op's bytes (for a single kernel, the op's own operands).
    meta : mapping of str to object
        Free-form facts for reports (the model, the phase...).
    layer_bytes : sympy.Expr, optional
        Bytes one layer holds on its device (weights and KV cache) [B]: sizes the mesh region of ops whose
        ``region`` is ``layer``; None outside a layered model.

    Examples
    --------
    >>> from roofline.workloads.kernels import gemm
    >>> wl = gemm(128, 256, 512)  # 2·128·256·512 FLOP; (128·512 + 512·256 + 128·256) · 2 B
    >>> int(wl.flops), int(wl.bytes), wl.dtypes
    (33554432, 458752, ('bf16',))
    """

    name: str
    ops: tuple[Op, ...]
    resident: sp.Expr | None = None
    meta: Mapping[str, object] = field(default_factory=dict)
    layer_bytes: sp.Expr | None = None

    @property
    def symbols(self) -> tuple[sp.Symbol, ...]:
        """The free shape symbols of the ops and of ``resident``, sorted by name."""
        s: set = set()
        for op in self.ops:
            s |= op.free_symbols()
        for extra in (self.resident, self.layer_bytes):
            if extra is not None:
                s |= sp.sympify(extra).free_symbols
        return tuple(sorted(s, key=lambda x: x.name))

    @property
    def flops(self) -> sp.Expr:
        """Total work, each op times its count [FLOP]."""
        return sp.Add(*[op.count * op.flops for op in self.ops])

    @property
    def bytes(self) -> sp.Expr:
        """Total memory traffic, each op times its count [B]."""
        return sp.Add(*[op.count * op.bytes for op in self.ops])

    @property
    def working_set(self) -> sp.Expr:
        """Bytes that must be held in one memory level (decides where the data lives) [B]."""
        if self.resident is not None:
            return self.resident
        return sp.Max(*[op.bytes for op in self.ops]) if len(self.ops) > 1 else self.ops[0].bytes

    @property
    def dtypes(self) -> tuple[str, ...]:
        """The compute data types of the ops, each once, in first-use order."""
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

