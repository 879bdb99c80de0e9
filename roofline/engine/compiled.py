r"""Compiled workloads: a workload's time terms on one device structure, lambdified once, evaluated on grids.

:func:`compile_workload` takes the term pieces of every op from the one term builder
(:func:`roofline.engine.terms.op_parts`) and lambdifies them, with the workload's totals, into one NumPy
function whose flat output follows :class:`~roofline.engine.layout.OutputLayout`. Only the device's
*structure* (levels, links, overheads) is fixed at compile time; its figures are arguments, so one
:class:`CompiledWorkload` serves every device of that structure and every what-if value.

:meth:`CompiledWorkload.evaluate` and :func:`evaluate` then compute, point by point over broadcasting
arrays, the home level :math:`h` (the fastest level whose capacity holds the working set per device), each
op's terms, and the time

.. math:: T = \sum_i c_i \max_j t_{ij} \quad\text{(overlap max)}, \qquad
          T = \sum_i c_i \sum_j t_{ij} \quad\text{(overlap sum)}

per operator, never one roofline over the whole workload. Blocks of points go to the NumPy evaluator
(:mod:`roofline.engine.numpy_eval`) or, for large grids with numba installed, the fused one
(:mod:`roofline.engine.fused`). Compiled functions are cached by :mod:`roofline.engine.cache`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping, Sequence

import numpy as np

from ..errors import InputError
from ..hardware.device import Device
from . import dispatch
from .dispatch import _scalar
from .layout import OutputLayout
from .scalar import load as scalar_load
from .scalar import run as scalar_run
from .terms import _overlap, links_used, op_parts, term_labels

__all__ = ['CompiledWorkload', 'BoundWorkload', 'compile_workload', 'evaluate']


# ----------------------------------------------------------------------------------------------------
# numeric: lambdified terms over grids
# ----------------------------------------------------------------------------------------------------
@dataclass
class CompiledWorkload:
    """A workload's term expressions on one device *structure*, lambdified once, evaluated on grids.

    Built by :func:`compile_workload` (or loaded from the cache, then without ``workload``). Call
    :meth:`evaluate` with shape arrays and a device's values.

    Parameters
    ----------
    workload : roofline.workloads.Workload or None
        What was compiled; None for an entry loaded from the disk cache.
    labels : tuple of str
        Text forms of the reported terms (``compute``, ``memory:hbm``..., ``latency``).
    shape_names : tuple of str
        The workload's free shape symbols, in argument order.
    device_paths : tuple of str
        Figure paths the expressions use (``memory.hbm.bandwidth``...), in argument order after the shapes.
    func : callable
        ``func(*shapes, *figures)``: the flat outputs of :class:`~roofline.engine.layout.OutputLayout`.
    zero_outputs : list of list of bool
        Per op, which of its outputs are identically zero (skipped when evaluating).
    n_ops : int
        Ops in the workload [1].
    n_terms : int
        Outputs per op before its count [1].
    n_levels : int
        Memory levels of the device [1].
    overlap : str
        ``max`` or ``sum``.
    name : str
        The workload's name.
    dtypes : tuple of str
        The compute data types of its ops, in first-use order.
    fused_source : str
        Source of the numba kernel of the same expressions (:mod:`roofline.engine.fused`); empty without
        numba.
    scalar_source : str
        Source of the scalar evaluator of the same expressions (:mod:`roofline.engine.scalar`).
    numpy_source : str
        Source of ``func`` (:func:`roofline.engine.numpy_eval.generate`).
    fused_corners_source : str
        Source of the numba kernel that evaluates several corners per pass
        (:func:`roofline.engine.fused.generate_corners`); empty without numba.
    """

    workload: object
    labels: tuple[str, ...]
    shape_names: tuple[str, ...]
    device_paths: tuple[str, ...]
    func: object  # f(*shapes, *device) -> [flops, bytes, working set, per op: terms..., count]
    zero_outputs: list  # per op: which of its outputs are identically zero (skipped when evaluating)
    n_ops: int
    n_terms: int
    n_levels: int
    overlap: str
    name: str = ""
    dtypes: tuple = ()
    fused_source: str = ""  # a numba kernel of the same expressions (roofline.fused), when numba is installed
    scalar_source: str = ""  # the same expressions as one Python function of floats (roofline.engine.scalar)
    numpy_source: str = ""  # the source of ``func``
    fused_corners_source: str = ""  # a numba kernel of the same expressions at several corners per pass
    _point: object = field(default=None, repr=False, compare=False)

    @property
    def n_links(self) -> int:
        """Links the workload uses [1]."""
        return self.n_terms - 3 - 2 * self.n_levels

    @property
    def layout(self) -> OutputLayout:
        """Positions in the output vector of :attr:`func`."""
        return OutputLayout(self.n_levels, self.n_links)

    def working_set(self, shapes: Mapping[str, object], device_values: Mapping[str, object]):
        """The working set at ``shapes``: the bytes one memory level must hold (decides the home level).

        Parameters
        ----------
        shapes : mapping of str to array_like
            Values of :attr:`shape_names` [1].
        device_values : mapping of str to float
            Values of :attr:`device_paths`, in each figure's SI unit.

        Returns
        -------
        ndarray
            Working set of the whole workload, before it is spread over devices [B].
        """
        args = [np.asarray(shapes[n], dtype=float) for n in self.shape_names]
        args += [np.asarray(device_values[p], dtype=float) for p in self.device_paths]
        return np.asarray(self.func(*args)[2], dtype=float)

    def point_function(self):
        """The scalar evaluator of :mod:`roofline.engine.scalar` for this workload (built once), or None.

        Returns
        -------
        callable or None
        """
        if self._point is None and self.scalar_source:
            self._point = scalar_load(self.scalar_source, f"<roofline scalar: {self.name}>")
        return self._point

    def bind(self, device_values: Mapping[str, object], capacities: Sequence[object], devices=1,
             home=None) -> "BoundWorkload":
        """This workload with its device figures fixed: repeated evaluations skip looking them up.

        Parameters
        ----------
        device_values : mapping of str to float
            Values of :attr:`device_paths` [each figure's SI unit] (others are ignored).
        capacities : sequence of float
            Capacity of each memory level, fastest first [B].
        devices : float
            Devices the working set is spread over [1].
        home : int, optional
            Forced home level index; None: the fastest level that holds the working set.

        Returns
        -------
        BoundWorkload
        """
        return BoundWorkload(self, {p: device_values[p] for p in self.device_paths}, list(capacities), devices, home)

    def evaluate(self, shapes: Mapping[str, object], device_values: Mapping[str, object],
                 capacities: Sequence[object], devices=1, home=None, with_bound: bool = True,
                 detail: bool = False, chunk: int = 1 << 15, workers: int | None = None) -> dict:
        """Evaluate over broadcasting arrays (the outputs of :func:`evaluate`).

        One configuration (every value a scalar) runs the scalar evaluator (:mod:`roofline.engine.scalar`)
        and returns Python scalars; a grid runs the NumPy evaluator in blocks of ``chunk`` points or, where
        the measured break-even says it pays, the fused one (:mod:`roofline.engine.dispatch`), on several
        cores above a size threshold.

        Parameters
        ----------
        shapes, device_values : mapping of str to array_like
            Values of :attr:`shape_names` [1] and of :attr:`device_paths` [each figure's SI unit].
        capacities : sequence of array_like
            Capacity of each memory level, fastest first [B].
        devices : array_like
            Devices the working set is spread over [1].
        home : array_like of int, optional
            Forced home level index per point; None: the fastest level that holds the working set.
        with_bound, detail : bool
            Find the binding term; add ``term_times`` (time each term binds) and ``term_totals`` [s].
        chunk : int
            Points per block of the NumPy evaluator (a loop over blocks, not points) [1].
        workers : int, optional
            Threads to spread a large grid over; default every core this process may use
            (``ROOFLINE_THREADS`` caps it) [1].

        Returns
        -------
        dict of ndarray
            ``time_s`` [s], ``flops`` [FLOP], ``bytes`` [B], ``home``, ``fits``, ``bound_index``...
        """
        point = dispatch.scalar_call(self, shapes, device_values, capacities, devices, home, detail)
        if point is not None:
            return point
        return dispatch.grid_call(self, shapes, device_values, capacities, devices, home, with_bound, detail,
                                  chunk, workers)


class BoundWorkload:
    """A :class:`CompiledWorkload` with its device figures, capacities, devices and home level fixed.

    :meth:`evaluate` takes shapes only. One configuration (every shape a scalar) goes straight to the scalar
    evaluator with the figures already in argument order, which is what an estimate at one batch and
    context, an optimiser or a layout search asks for again and again.

    Parameters
    ----------
    cw : CompiledWorkload
        The compiled workload.
    device_values : mapping of str to float
        Values of ``cw.device_paths`` [each figure's SI unit].
    capacities : list of float
        Capacity of each memory level, fastest first [B].
    devices : float
        Devices the working set is spread over [1].
    home : int or None
        Forced home level index.
    """

    def __init__(self, cw: CompiledWorkload, device_values: Mapping[str, object], capacities: list, devices=1,
                 home=None):
        self.cw, self.device_values, self.capacities, self.devices, self.home = (
            cw, device_values, capacities, devices, home)
        figs = [_scalar(device_values[p]) for p in cw.device_paths]
        caps = [_scalar(c) for c in capacities]
        dv = _scalar(devices)
        hm = None if home is None else _scalar(home)
        ok = None not in figs and None not in caps and dv is not None and (home is None or hm is not None)
        self._point = cw.point_function() if ok else None
        self._figs, self._caps, self._dv = figs, caps, dv
        self._hm = None if hm is None else int(hm)

    def evaluate(self, shapes: Mapping[str, object], detail: bool = False, with_bound: bool = True,
                 workers: int | None = None) -> dict:
        """:meth:`CompiledWorkload.evaluate` at ``shapes`` with the bound figures.

        Parameters
        ----------
        shapes : mapping of str to array_like
            Values of the shape symbols [1].
        detail, with_bound : bool
            As in :meth:`CompiledWorkload.evaluate`.
        workers : int, optional
            Threads for a large grid [1].

        Returns
        -------
        dict
            Python scalars for one configuration, arrays for a grid.
        """
        if self._point is not None:
            vals = [_scalar(shapes[n]) for n in self.cw.shape_names]
            if None not in vals:
                try:
                    return scalar_run(self._point, vals + self._figs, self._caps, self._dv, self._hm, detail)
                except (ZeroDivisionError, OverflowError, ValueError):
                    pass  # NumPy's rules for a zero or infinite figure
        return self.cw.evaluate(shapes, self.device_values, self.capacities, self.devices, self.home,
                                with_bound, detail, workers=workers)


def _op_exprs(op, device: Device, links, ideal: bool, sparse: bool, used_links: list[str]) -> list:
    """One op's outputs in :class:`~roofline.engine.layout.OutputLayout` order, from the one term builder."""

    parts = op_parts(op, device, links, ideal, sparse)
    return ([parts.compute, *parts.resident, *parts.transient]
            + [parts.links.get(ln, 0) for ln in used_links]
            + [parts.latency, parts.act_bytes, op.count])


def _device_args(exprs, shape_syms, device: Device):
    """The figure paths the expressions use, sorted, and their symbols."""
    import sympy as sp

    from ..symbols import symbol_name

    dev_syms: set = set()
    for e in exprs:
        dev_syms |= sp.sympify(e).free_symbols
    dev_syms -= set(shape_syms)
    path_of = {symbol_name(p): p for p in device.figures}
    paths = tuple(sorted(path_of[s.name] for s in dev_syms))
    return paths, [device.symbol(p) for p in paths]


def compile_workload(workload, device: Device, overlap: str = "max", ideal: bool = False,
                     links: Mapping[str, str] | None = None, sparse: bool = False) -> CompiledWorkload:
    """Lambdify ``workload``'s term expressions on ``device`` into one NumPy function (once; reuse the result).

    Parameters
    ----------
    workload : roofline.workloads.Workload
    device : Device
        Only its structure matters (levels, links, overheads): its numbers are arguments.
    overlap : str
        ``max`` or ``sum``.
    ideal : bool
        Drop latencies.
    links : mapping of str to str, optional
        Link role to link name.
    sparse : bool
        Use the 2:4-sparse peaks.

    Returns
    -------
    CompiledWorkload
        With a numba kernel of the same expressions when numba is available.
    """
    import sympy as sp

    from . import fused, numpy_eval, scalar
    from .pointcode import PointCode

    mode = _overlap(overlap)
    used = links_used(workload, device, links)
    shape_syms = list(workload.symbols)
    exprs = [sp.sympify(workload.flops), sp.sympify(workload.bytes), sp.sympify(workload.working_set)]
    zero_outputs = []
    for op in workload.ops:
        op_exprs = [sp.sympify(e) for e in _op_exprs(op, device, links, ideal, sparse, used)]
        zero_outputs.append([e == 0 for e in op_exprs])
        exprs += op_exprs
    device_paths, dev_args = _device_args(exprs, shape_syms, device)
    layout = OutputLayout(len(device.memory), len(used))
    pc = PointCode(exprs, shape_syms, dev_args, zero_outputs, len(workload.ops), layout, mode)
    src = numpy_eval.generate(pc, len(exprs))
    return CompiledWorkload(
        workload=workload, labels=term_labels(device, used), shape_names=tuple(s.name for s in shape_syms),
        fused_source=fused.generate(pc) if fused.available() else "", scalar_source=scalar.generate(pc),
        fused_corners_source=fused.generate_corners(pc) if fused.available() else "",
        numpy_source=src, device_paths=device_paths, func=numpy_eval.load(src, f"<roofline: {workload.name}>"),
        zero_outputs=zero_outputs, n_ops=len(workload.ops), n_terms=layout.n_terms, name=workload.name,
        dtypes=tuple(workload.dtypes), n_levels=len(device.memory), overlap=mode,
    )


def evaluate(workload, device: Device, shapes: Mapping[str, object] | None = None, overlap: str = "max",
             ideal: bool = False, which: str = "nominal", devices=1, level: str | None = None,
             device_values: Mapping[str, object] | None = None, links=None, sparse: bool = False,
             compiled: CompiledWorkload | None = None, detail: bool = True) -> dict:
    """Evaluate ``workload`` on ``device`` over broadcasting shape arrays.

    .. math:: T = \\sum_i c_i \\max_j t_{ij}, \\qquad I = F / Q, \\qquad P_\\text{att} = F / T

    Parameters
    ----------
    workload : roofline.workloads.Workload or None
        None when ``compiled`` is given.
    device : Device
    shapes : mapping of str to array_like
        Values of the workload's shape symbols, by name; they broadcast together [1].
    overlap : str
        ``max`` (the roofline) or ``sum`` (no overlap).
    ideal : bool
        Drop latencies.
    which : Corner or str
        Corner of the device's figures (``nominal``, ``best``, ``worst``).
    devices : int or array_like
        Devices the working set is spread over [1].
    level : str, optional
        Force the memory level the working set lives in (no capacity check).
    device_values : mapping of str to array_like, optional
        What-if figure values by path, replacing the device's [each figure's SI unit].
    links : mapping of str to str, optional
        Link role (``tp``, ``pp``, ``ep``) to link name.
    sparse : bool
        Use the 2:4-sparse peaks.
    compiled : CompiledWorkload, optional
        Reuse this instead of compiling ``workload``.
    detail : bool
        Add ``term_times`` and ``term_totals``.

    Returns
    -------
    dict
        ``time_s`` [s] (NaN where the working set fits no level), ``flops`` [FLOP], ``bytes`` [B],
        ``arithmetic_intensity`` [FLOP/B], ``attainable_flops_per_s`` [FLOP/s], ``home`` (level index),
        ``fits``, ``bound`` (the binding term's label), ``bound_index``, ``labels`` and, with ``detail``,
        ``term_times`` and ``term_totals`` [s] (one row per label).
    """
    cw = compiled or compile_workload(workload, device, overlap, ideal, links, sparse)
    vals = device.values(which)
    if device_values:
        vals.update(device_values)
    missing = [n for n in cw.shape_names if shapes is None or n not in shapes]
    if missing:
        raise InputError(f"{cw.name}: missing shape value(s) for {', '.join(missing)}")
    caps = [vals[f"memory.{m.name}.capacity"] for m in device.memory]
    home = None
    if level is not None:
        home = [m.name for m in device.memory].index(device.level(level).name)
    out = cw.evaluate(shapes or {}, vals, caps, devices=devices, home=home, detail=detail)
    out["labels"] = cw.labels
    out["bound"] = np.asarray(cw.labels, dtype=object)[out["bound_index"]]
    return out

