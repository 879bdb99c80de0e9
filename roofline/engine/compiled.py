r"""The roofline engine: time terms, bounds, binding terms, ridge points, break-even points, sensitivities.

For one op on one device the time terms are

.. math::
    t_\text{compute} = \frac{F}{P_\text{dtype}}, \qquad
    t_{\text{memory}:\ell} = \frac{Q}{BW_\ell} \;(\ell \le h), \qquad
    t_{\text{interconnect}:k} = \frac{Q_k}{BW_k^{\rightarrow}} + n_k\,\tau_k, \qquad
    t_\text{latency} = \sum \tau_\text{overheads}

where :math:`h` is the *home* level: the fastest memory level that holds the working set (data there
passes through every faster level on its way to the cores, so each of those sees the same traffic), and
:math:`BW_k^{\rightarrow}` the bandwidth of link :math:`k` in one direction. The op's time is
``max`` of the terms under full overlap (the roofline) or their sum without overlap (an upper bound). A
workload's time is the sum of its ops' times (per-operator, not one roofline over the whole workload).
``ideal=True`` drops the latency term and link latencies: the pure roofline.

Symbolic expressions come from :func:`time_expr` and friends; numbers for whole grids come from
:func:`compile_workload`, which lambdifies the same expressions into NumPy functions.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping, Sequence

import numpy as np

from ..errors import InputError
from ..hardware.device import Device
from .layout import OutputLayout
from .numpy_eval import evaluate_block
from .terms import _overlap, links_used, op_parts, term_labels

__all__ = ['CompiledWorkload', 'compile_workload', 'evaluate']


# ----------------------------------------------------------------------------------------------------
# numeric: lambdified terms over grids
# ----------------------------------------------------------------------------------------------------
@dataclass
class CompiledWorkload:
    """A workload's term expressions on one device *structure*, lambdified once, evaluated on grids.

    ``shape_names`` are the workload's free symbols (arguments, by name); ``device_paths`` the figures
    the expressions use. Call :meth:`evaluate` with shape arrays and a device's values.
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

    @property
    def n_links(self) -> int:
        """Links the workload uses [1]."""
        return self.n_terms - 3 - 2 * self.n_levels

    @property
    def layout(self) -> OutputLayout:
        """Positions in the output vector of :attr:`func`."""
        return OutputLayout(self.n_levels, self.n_links)

    def working_set(self, shapes: Mapping[str, object], device_values: Mapping[str, object]):
        """The working set [B] at ``shapes`` (decides the home level)."""
        args = [np.asarray(shapes[n], dtype=float) for n in self.shape_names]
        args += [np.asarray(device_values[p], dtype=float) for p in self.device_paths]
        return np.asarray(self.func(*args)[2], dtype=float)

    def evaluate(self, shapes: Mapping[str, object], device_values: Mapping[str, object],
                 capacities: Sequence[object], devices=1, home=None, with_bound: bool = True,
                 detail: bool = False, chunk: int = 1 << 15) -> dict:
        """Evaluate over broadcasting arrays: returns a dict of arrays (see :func:`evaluate`).

        Large grids are evaluated in blocks of ``chunk`` points (a loop over blocks, not points) so that
        temporaries stay in cache and memory stays bounded. ``detail`` adds ``term_times`` (the time each
        term binds, summed over ops) and ``term_totals`` (each term's total, binding or not).
        """
        args = [np.asarray(shapes[n], dtype=float) for n in self.shape_names]
        args += [np.asarray(device_values[p], dtype=float) for p in self.device_paths]
        caps = [np.asarray(c, dtype=float) for c in capacities]
        devs = np.asarray(devices, dtype=float)
        hm = None if home is None else np.asarray(home, dtype=np.int64)
        extra = [devs] + caps + ([hm] if hm is not None else [])
        shape = np.broadcast_shapes(*(a.shape for a in args + extra))
        n = int(np.prod(shape)) if shape else 1
        if self.fused_source and not detail and n >= _fused_min_points():
            ndev = len(self.device_paths)
            if all(a.ndim == 0 for a in args[len(args) - ndev:]) and all(c.ndim == 0 for c in caps):
                from . import fused

                if fused.available():
                    return fused.run(self, args, caps, devs, hm, n, shape)
        if n <= chunk:
            return evaluate_block(self, args, caps, devs, hm, with_bound, detail)
        flat = lambda a: np.broadcast_to(a, shape).reshape(-1) if a.ndim else a  # noqa: E731
        fargs = [flat(a) for a in args]
        fcaps = [flat(c) for c in caps]
        fdevs = flat(devs)
        fhm = None if hm is None else flat(hm)
        out: dict = {}
        for lo in range(0, n, chunk):
            sl = slice(lo, min(lo + chunk, n))
            part = evaluate_block(self, [a[sl] if a.ndim else a for a in fargs],
                                  [c[sl] if c.ndim else c for c in fcaps], fdevs[sl] if fdevs.ndim else fdevs,
                                  None if fhm is None else (fhm[sl] if fhm.ndim else fhm), with_bound, detail)
            for k, v in part.items():
                if k not in out:
                    lead = v.shape[:-1] if k.startswith("term_") else ()
                    out[k] = np.empty(lead + (n,), dtype=v.dtype)
                out[k][..., sl] = v
        return {k: v.reshape(v.shape[:-1] + shape) if k.startswith("term_") else v.reshape(shape)
                for k, v in out.items()}

def _fused_min_points() -> int:
    from .fused import MIN_POINTS

    return MIN_POINTS


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
    """
    import sympy as sp

    from . import fused

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
    fused_src = fused.generate(exprs, shape_syms, dev_args, zero_outputs, len(workload.ops), layout, mode) \
        if fused.available() else ""
    return CompiledWorkload(
        workload=workload, labels=term_labels(device, used), shape_names=tuple(s.name for s in shape_syms),
        fused_source=fused_src, device_paths=device_paths, func=_lambdify(shape_syms + dev_args, exprs),
        zero_outputs=zero_outputs, n_ops=len(workload.ops), n_terms=layout.n_terms, name=workload.name,
        dtypes=tuple(workload.dtypes), n_levels=len(device.memory), overlap=mode,
    )


def _lambdify(args, expr):
    import sympy as sp

    return sp.lambdify(args, expr, modules="numpy", cse=True)


def evaluate(workload, device: Device, shapes: Mapping[str, object] | None = None, overlap: str = "max",
             ideal: bool = False, which: str = "nominal", devices=1, level: str | None = None,
             device_values: Mapping[str, object] | None = None, links=None, sparse: bool = False,
             compiled: CompiledWorkload | None = None, detail: bool = True) -> dict:
    """Evaluate ``workload`` on ``device`` over broadcasting shape arrays.

    Returns a dict of arrays: ``time_s`` (NaN where the working set fits no level), ``flops``, ``bytes``,
    ``arithmetic_intensity``, ``attainable_flops_per_s``, ``home`` (level index), ``fits``, ``bound``
    (the binding term's label) and ``labels``.
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

