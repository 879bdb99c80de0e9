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

per operator, never one roofline over the whole workload (under full overlap, each op's latency terms add to
the maximum of its other terms). The function carries the latency terms of the estimate and of the bound;
the :class:`~roofline.vocab.Mode` passed to :meth:`CompiledWorkload.evaluate` picks one set, or none for the
pure roofline. Blocks of points go to the NumPy evaluator
(:mod:`roofline.engine.numpy_eval`) or, for large grids with numba installed, the fused one
(:mod:`roofline.engine.fused`). Compiled functions are cached by :mod:`roofline.engine.cache`.
"""

from __future__ import annotations

import math
import sys
from dataclasses import dataclass, field
from typing import Mapping, Sequence

from ..errors import InputError
from ..hardware.device import Device
from ..vocab import Mode
from .layout import N_LATENCY, OutputLayout
from .scalar import Point, load as scalar_load
from .terms import Region, _overlap, links_used, mode_of, op_parts, term_labels

__all__ = ['CompiledWorkload', 'compile_workload', 'evaluate']


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
    fused_source : str or callable
        Source of the numba kernel of the same expressions (:mod:`roofline.engine.fused`); empty without
        numba. A callable (taking nothing, returning that source) makes it on first use: a process that
        never runs the fused path never prints the kernel.
    default_mode : str
        The :class:`~roofline.vocab.Mode` :meth:`evaluate` uses when none is given.
    scalar_source : str
        Source of the scalar evaluator of the same expressions (:mod:`roofline.engine.scalar`); empty for
        an entry made before it existed (one configuration then runs the NumPy path).
    numpy_source : str
        Source of :attr:`func` when it runs the scalar evaluator's lines on arrays
        (:meth:`roofline.engine.pointcode.PointCode.numpy_source`); empty where SymPy printed it.
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
    fused_source: str = field(default="", repr=False, compare=False)  # a numba kernel (roofline.fused): lazy
    default_mode: str = "estimate"
    scalar_source: str = ""  # the same expressions as one Python function of floats (roofline.engine.scalar)
    numpy_source: str = ""  # the source of ``func`` where it is not SymPy's (roofline.engine.pointcode)
    _point: object = field(default=None, repr=False, compare=False)

    @property
    def fused_ready(self) -> str | None:
        """:attr:`fused_source` when it exists already (made or read), None when it would still be made."""
        return self.__dict__.get("_fused")

    @property
    def n_links(self) -> int:
        """Links the workload uses [1]."""
        return self.n_terms - 2 - 2 * self.n_levels - 2 * N_LATENCY

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
        import numpy as np

        args = [np.asarray(shapes[n], dtype=float) for n in self.shape_names]
        args += [np.asarray(device_values[p], dtype=float) for p in self.device_paths]
        return np.asarray(self.func(*args)[2], dtype=float)

    def point(self, shape_values: Sequence[float], figures: Sequence[float], capacities: Sequence[float],
              devices: float = 1.0, home: int | None = None) -> Point | None:
        """One configuration through the scalar evaluator (:mod:`roofline.engine.scalar`): every mode at once.

        Parameters
        ----------
        shape_values : sequence of float
            Values of :attr:`shape_names`, in order [1].
        figures : sequence of float
            Values of :attr:`device_paths`, in order [each figure's SI unit].
        capacities : sequence of float
            Capacity of each memory level, fastest first [B].
        devices : float
            Devices the working set is spread over [1].
        home : int, optional
            Forced home level index; None: the fastest level that holds the working set.

        Returns
        -------
        Point or None
            None where plain arithmetic would part from NumPy's (a value that is not finite, a zero
            divisor) or the entry has no scalar evaluator: the caller then runs :meth:`evaluate`.
        """
        fn = self._point
        if fn is None:
            if not self.scalar_source:
                return None
            where = f"<roofline scalar: {self.name}>"
            fn = self._point = scalar_load(self.scalar_source, where)  # its code object kept (engine.codecache)
        if not math.isfinite(math.fsum(shape_values) + math.fsum(figures) + math.fsum(capacities) + devices):
            return None
        try:
            raw = fn(*shape_values, *figures, *capacities, devices, -1 if home is None else home)
        except (ZeroDivisionError, OverflowError, ValueError, TypeError):
            return None
        return Point(raw, self.layout, self.labels)

    def evaluate(self, shapes: Mapping[str, object], device_values: Mapping[str, object],
                 capacities: Sequence[object], devices=1, home=None, with_bound: bool = True,
                 detail: bool = False, chunk: int = 1 << 15, mode: Mode | str | None = None,
                 workers: int | None = None) -> dict:
        """Evaluate over broadcasting arrays, in blocks of ``chunk`` points (the outputs of :func:`evaluate`).

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
            Points per block (a loop over blocks, not points: temporaries stay in cache) [1].
        mode : Mode or str, optional
            Which latency terms to add: none (``ideal``), the bound's or the estimate's; default
            :attr:`default_mode`.
        workers : int, optional
            Threads a large grid is spread over (:mod:`roofline.engine.dispatch`); default every core this
            process may use (``ROOFLINE_THREADS`` caps it) [1].

        Returns
        -------
        dict of ndarray
            ``time_s`` [s], ``flops`` [FLOP], ``bytes`` [B], ``home``, ``fits``, ``bound_index``...
        """
        mode = Mode(mode or self.default_mode)
        one = self._one(shapes, device_values, capacities, devices, home, mode, detail)
        if one is not None:
            return one
        from . import dispatch  # grids only: one configuration never loads the grid machinery

        return dispatch.grid_call(self, shapes, device_values, capacities, devices, home, with_bound, detail, chunk,
                                  workers, mode)

    def _one(self, shapes, device_values, capacities, devices, home, mode: Mode, detail: bool) -> dict | None:
        """:meth:`evaluate` at one configuration (every value a scalar) through :meth:`point`, with NumPy's
        types (0-d values, arrays of terms); None where the scalar path does not apply."""
        if not self.scalar_source:
            return None
        vals = [_scalar(shapes[n]) for n in self.shape_names]
        vals += [_scalar(device_values[p]) for p in self.device_paths]
        caps = [_scalar(c) for c in capacities]
        dv, hm = _scalar(devices), None if home is None else _scalar(home)
        if None in vals or None in caps or dv is None or (home is not None and (hm is None or hm != int(hm))):
            return None
        ns = len(self.shape_names)
        pt = self.point(vals[:ns], vals[ns:], caps, dv, None if hm is None else int(hm))
        if pt is None:
            return None
        rec = pt.mode(mode, detail)
        del rec["labels"], rec["bound"]
        import numpy as np  # the array path's types, as its callers expect

        out = {k: np.float64(v) for k, v in rec.items() if not k.startswith("term_")}
        out.update(home=np.int64(rec["home"]), fits=np.bool_(rec["fits"]), bound_index=np.int64(rec["bound_index"]))
        if detail:
            out["term_times"], out["term_totals"] = np.array(rec["term_times"]), np.array(rec["term_totals"])
        return out


def _get_fused(self) -> str:
    src = self.__dict__.get("_fused")
    if src is None:
        make = self.__dict__.pop("_fused_make", None)
        src = self.__dict__["_fused"] = make() if make is not None else ""
    return src


def _set_fused(self, value) -> None:
    if callable(value):
        self.__dict__.pop("_fused", None)
        self.__dict__["_fused_make"] = value
    else:
        self.__dict__.pop("_fused_make", None)
        self.__dict__["_fused"] = value or ""


# the dataclass field stays a constructor argument; reading it makes a lazy source once
CompiledWorkload.fused_source = property(_get_fused, _set_fused, doc="The numba kernel's source (made on first use).")


def _scalar(v) -> float | None:
    """``v`` as a float when it is one number (a Python or NumPy scalar, or a 0-d array), else None."""
    t = type(v)
    if t is float or t is int:
        return float(v)
    np = sys.modules.get("numpy")  # a NumPy value means NumPy is loaded; never loaded for a Python number
    if np is None:
        return None
    if isinstance(v, np.generic) or (isinstance(v, np.ndarray) and v.ndim == 0):
        return float(v) if v.dtype.kind in "fiu" else None
    return None


def _op_exprs(op, device: Device, links, ideal: bool, sparse: bool, used_links: list[str], region: Region) -> list:
    """One op's outputs in :class:`~roofline.engine.layout.OutputLayout` order, from the one term builder."""

    parts = op_parts(op, device, links, ideal, sparse, region)
    return ([parts.compute, *parts.resident, *parts.transient]
            + [parts.links.get(ln, 0) for ln in used_links]
            + list(parts.latencies(Mode.ESTIMATE)) + list(parts.latencies(Mode.LATENCY_BOUND))
            + [parts.act_bytes, op.count])


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
        Make the pure roofline the default mode of the result (both latency sets are compiled either way).
    links : mapping of str to str, optional
        Link role to link name.
    sparse : bool
        Use the 2:4-sparse peaks.

    Returns
    -------
    CompiledWorkload
        With a numba kernel of the same expressions when numba is available, printed on first use.
    """
    import sympy as sp

    from . import fused, scalar
    from .pointcode import PointCode

    mode = _overlap(overlap)
    used = links_used(workload, device, links)
    shape_syms = list(workload.symbols)
    exprs = [sp.sympify(workload.flops), sp.sympify(workload.bytes), sp.sympify(workload.working_set)]
    zero_outputs = []
    region = Region(workload.resident, workload.layer_bytes)
    for op in workload.ops:
        op_exprs = [sp.sympify(e) for e in _op_exprs(op, device, links, ideal, sparse, used, region)]
        zero_outputs.append([e == 0 for e in op_exprs])
        exprs += op_exprs
    device_paths, dev_args = _device_args(exprs, shape_syms, device)
    layout = OutputLayout(len(device.memory), len(used))
    pc = PointCode(exprs, shape_syms, dev_args, zero_outputs, len(workload.ops), layout, mode)
    fused_src = (lambda: fused.generate(exprs, shape_syms, dev_args, zero_outputs, len(workload.ops), layout, mode,
                                        eliminated=pc)) if fused.available() else ""
    func, numpy_src = _numpy_function(pc, workload.name)
    return CompiledWorkload(
        workload=workload, labels=term_labels(device, used), shape_names=tuple(s.name for s in shape_syms),
        fused_source=fused_src, device_paths=device_paths, func=func, scalar_source=scalar.generate(pc),
        numpy_source=numpy_src,
        zero_outputs=zero_outputs, n_ops=len(workload.ops), n_terms=layout.n_terms, name=workload.name,
        dtypes=tuple(workload.dtypes), n_levels=len(device.memory), overlap=mode,
        default_mode=str(ideal) if isinstance(ideal, str) else str(mode_of(None, ideal)),
    )


def _numpy_function(pc, name: str) -> tuple[object, str]:
    """The NumPy function of ``pc``'s outputs (a :class:`~roofline.engine.pointcode.PointCode`) and its
    source: the scalar evaluator's own lines run on arrays
    (:meth:`PointCode.numpy_source`), else SymPy's NumPy printer over the same elimination."""
    from .pointcode import numpy_namespace

    src = pc.numpy_source()
    if src is None:
        import sympy as sp

        return sp.lambdify(pc.args, pc.cse()[1], modules="numpy", cse=pc.cse), ""
    return _Deferred(src, f"<roofline: {name}>", numpy_namespace()), src


class _Deferred:
    """The NumPy function of a compiled workload, compiled from its source (generated in this process, or a
    signed disk-cache entry's) on the first call: a process that asks only single points (the scalar path)
    never compiles it.

    Parameters
    ----------
    source : str
        The entry's source, defining ``_lambdifygenerated``.
    filename : str
        Shown in tracebacks.
    ns : dict
        The namespace it runs in (:func:`_namespace`).
    """

    __slots__ = ("_source", "_filename", "_ns", "_func")

    def __init__(self, source: str, filename: str, ns: dict):
        self._source, self._filename, self._ns, self._func = source, filename, ns, None

    @property
    def __signature__(self):
        """The generated function's parameters (``a0, ..., d0, ...``), read from its first line without compiling
        it: the NumPy evaluator names its array arguments by them."""
        import inspect

        head = self._source.split("(", 1)[1].split(")", 1)[0]
        return inspect.Signature([inspect.Parameter(n.strip(), inspect.Parameter.POSITIONAL_OR_KEYWORD)
                                  for n in head.split(",") if n.strip()])

    @property
    def __globals__(self) -> dict:
        """The namespace the function runs in (what a plain function's ``__globals__`` is), without compiling it."""
        return self._ns

    def __call__(self, *args):
        func = self._func
        if func is None:
            exec(compile(self._source, self._filename, "exec"), self._ns)  # noqa: S102 - our own signed entry, in our own 0700 folder
            func = self._func = self._ns["_lambdifygenerated"]
        return func(*args)


def evaluate(workload, device: Device, shapes: Mapping[str, object] | None = None, overlap: str = "max",
             ideal: bool = False, which: str = "nominal", devices=1, level: str | None = None,
             device_values: Mapping[str, object] | None = None, links=None, sparse: bool = False,
             compiled: CompiledWorkload | None = None, detail: bool = True, mode: Mode | str | None = None) -> dict:
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
        Drop latencies (the old flag).
    which : Corner or str
        Corner of the device's figures (``nominal``, ``best``, ``worst``).
    devices : int or array_like
        Devices the working set is spread over [1].
    level : str, optional
        Force the memory level the working set lives in (no capacity check).
    device_values : mapping of str to array_like, optional
        What-if figure values by path, replacing the device's [each figure's SI unit].
    links, sparse : mapping of str to str, bool
        Link role (``tp``, ``pp``, ``ep``) to link name; use the 2:4-sparse peaks.
    compiled, detail : CompiledWorkload or None, bool
        Reuse this instead of compiling ``workload``; add ``term_times`` and ``term_totals``.
    mode : Mode or str, optional
        ``ideal``, ``latency_bound`` or ``estimate`` (default: from ``ideal``, or ``compiled``'s own).

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
    # a compiled function passed in keeps the mode it was compiled for unless one is asked for
    use = cw.default_mode if (compiled is not None and mode is None and not ideal) else mode_of(mode, ideal)
    out = cw.evaluate(shapes or {}, vals, caps, devices=devices, home=home, detail=detail, mode=use)
    out["labels"] = cw.labels
    out["bound"] = _labels_at(cw.labels, out["bound_index"])
    return out


def _labels_at(labels, index):
    """``labels[index]`` for an index or an array of indices (an array of labels)."""
    import numpy as np

    return np.asarray(labels, dtype=object)[index]

