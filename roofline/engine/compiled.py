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
from .terms import _latency_term, _link_terms, _overlap, split_bytes, term_labels

__all__ = ['CompiledWorkload', 'compile_workload', 'compile_recipe', 'evaluate']


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
                from roofline.engine import fused

                if fused.available():
                    return fused.run(self, args, caps, devs, hm, n, shape)
        if n <= chunk:
            return self._block(args, caps, devs, hm, with_bound, detail)
        flat = lambda a: np.broadcast_to(a, shape).reshape(-1) if a.ndim else a  # noqa: E731
        fargs = [flat(a) for a in args]
        fcaps = [flat(c) for c in caps]
        fdevs = flat(devs)
        fhm = None if hm is None else flat(hm)
        out: dict = {}
        for lo in range(0, n, chunk):
            sl = slice(lo, min(lo + chunk, n))
            part = self._block([a[sl] if a.ndim else a for a in fargs], [c[sl] if c.ndim else c for c in fcaps],
                               fdevs[sl] if fdevs.ndim else fdevs,
                               None if fhm is None else (fhm[sl] if fhm.ndim else fhm), with_bound, detail)
            for k, v in part.items():
                if k not in out:
                    lead = v.shape[:-1] if k.startswith("term_") else ()
                    out[k] = np.empty(lead + (n,), dtype=v.dtype)
                out[k][..., sl] = v
        return {k: v.reshape(v.shape[:-1] + shape) if k.startswith("term_") else v.reshape(shape)
                for k, v in out.items()}

    def _block(self, args, caps, devs, hm, with_bound, detail) -> dict:
        """One block of points. Written for speed: terms that are identically zero are skipped, masks that
        are the same for every point become Python branches, and the running maximum, the binding-term
        index and the totals are updated in place."""
        nl = self.n_levels
        shape = np.broadcast_shapes(*(np.shape(a) for a in list(args) + list(caps) + [devs]
                                      + ([hm] if hm is not None else [])))
        values = self.func(*args)
        flops = np.broadcast_to(np.asarray(values[0], dtype=float), shape)
        nbytes = np.broadcast_to(np.asarray(values[1], dtype=float), shape)
        if hm is None:
            ws = np.asarray(values[2], dtype=float) / devs
            h = np.full(shape, nl, dtype=np.int64)
            for i in reversed(range(nl)):
                h = np.where(ws <= caps[i], i, h)
        else:
            h = np.broadcast_to(hm, shape)
        fits = h < nl
        hc = np.minimum(h, nl - 1)
        uniform = hm is not None and np.ndim(hm) == 0
        hmin = int(hc.flat[0]) if uniform else None
        masks = [True] + [(i <= hmin) if uniform else (hc >= i) for i in range(1, nl)]
        caps0_scalar = all(np.ndim(c) == 0 for c in caps)
        nlab = len(self.labels)
        npts = int(np.prod(shape)) if shape else 1
        total = np.zeros(shape)
        single = self.n_ops == 1
        attribute = with_bound and (not single or detail)
        # attribution of each op's time to its binding term: keys (term * npts + point) and times are kept
        # per op and summed by one bincount at the end
        keys = np.empty((self.n_ops, npts), dtype=np.int64) if attribute else None
        times = np.empty((self.n_ops, npts)) if attribute else None
        sums = np.zeros((nlab,) + shape) if detail else None
        base_key = np.arange(npts) if attribute else None
        bound_index = None
        best = np.empty(shape)
        idx = np.empty(shape, dtype=np.int64) if with_bound else None
        gt = np.empty(shape, dtype=bool) if with_bound else None
        k = self.n_terms + 1
        zero = self.zero_outputs
        for o in range(self.n_ops):
            raw = values[3 + o * k: 3 + (o + 1) * k]
            z = zero[o]
            cnt = raw[-1]
            res, act, rest = raw[1:1 + nl], raw[1 + nl:1 + 2 * nl], raw[1 + 2 * nl:-2]
            zres, zact, zrest = z[1:1 + nl], z[1 + nl:1 + 2 * nl], z[1 + 2 * nl:-2]
            terms: list = [None if z[0] else raw[0]]
            for i in range(nl):
                m = masks[i]
                terms.append(None if (zres[i] or m is False) else (res[i] if m is True else np.where(m, res[i], 0.0)))
            if not all(zact):
                abytes = np.asarray(raw[-2], dtype=float)
                if uniform and caps0_scalar and abytes.max() <= caps[0]:
                    ha = 0  # every point's activations fit the fastest level
                else:
                    ha = np.full(np.shape(abytes), nl - 1, dtype=np.int64)
                    for i in reversed(range(nl)):
                        ha = np.where(abytes <= caps[i], i, ha)
                    ha = np.minimum(ha, hc)
                for i in range(nl):
                    if zact[i]:
                        continue
                    if np.ndim(ha) == 0:
                        if i > ha:
                            continue
                        a = act[i]
                    else:
                        a = act[i] if i == 0 else np.where(ha >= i, act[i], 0.0)
                    terms[1 + i] = a if terms[1 + i] is None else terms[1 + i] + a
            terms += [None if zr else x for zr, x in zip(zrest, rest)]
            live = [(j, x) for j, x in enumerate(terms) if x is not None]
            if not live:
                live = [(0, 0.0)]
            if self.overlap == "max":
                j0, x0 = live[0]
                best[...] = x0
                if with_bound:
                    idx[...] = j0
                for j, x in live[1:]:
                    if with_bound:
                        np.greater(x, best, out=gt)
                        np.copyto(idx, j, where=gt)
                    np.maximum(best, x, out=best)
                t = best * cnt if not (np.ndim(cnt) == 0 and cnt == 1) else best.copy()
            else:
                t = np.zeros(shape)
                for _, x in live:
                    t += x
                t *= cnt
                if with_bound:
                    full = [np.zeros(shape) if x is None else x for x in terms]
                    idx[...] = _argmax(full)
            total += t
            if with_bound:
                if single and not detail:
                    bound_index = idx.copy()
                else:
                    np.multiply(idx.reshape(-1), npts, out=keys[o])
                    keys[o] += base_key
                    times[o] = np.broadcast_to(t, shape).reshape(-1)
            if detail:
                for j, x in enumerate(terms):
                    if x is not None:
                        sums[j] += np.broadcast_to(np.asarray(x, dtype=float) * cnt, shape)
        out = {"time_s": np.where(fits, total, np.nan), "flops": np.array(flops), "bytes": np.array(nbytes),
               "home": np.array(hc), "fits": np.array(fits)}
        with np.errstate(divide="ignore", invalid="ignore"):
            out["arithmetic_intensity"] = out["flops"] / out["bytes"]
            out["attainable_flops_per_s"] = out["flops"] / out["time_s"]
        if with_bound:
            if bound_index is not None:
                out["bound_index"] = bound_index
            else:
                acc = np.bincount(keys.reshape(-1), weights=times.reshape(-1), minlength=nlab * npts).reshape(nlab, npts)
                bi = np.zeros(npts, dtype=np.int64)
                bv = acc[0].copy()
                g = np.empty(npts, dtype=bool)
                for j in range(1, nlab):
                    np.greater(acc[j], bv, out=g)
                    np.copyto(bi, j, where=g)
                    np.maximum(bv, acc[j], out=bv)
                out["bound_index"] = bi.reshape(shape)
                if detail:
                    out["term_times"] = acc.reshape((nlab,) + shape)
        if detail:
            out["term_totals"] = sums
        return out


def _fused_min_points() -> int:
    from .fused import MIN_POINTS

    return MIN_POINTS


def _argmax(terms):
    arrs = np.broadcast_arrays(*[np.asarray(t, dtype=float) for t in terms])
    return np.argmax(np.stack(arrs), axis=0)


def compile_workload(workload, device: Device, overlap: str = "max", ideal: bool = False,
                     links: Mapping[str, str] | None = None, sparse: bool = False) -> CompiledWorkload:
    """Lambdify ``workload``'s term expressions on ``device`` into NumPy functions (once; reuse the result)."""
    import sympy as sp

    mode = _overlap(overlap)
    used_links = []
    for op in workload.ops:
        for role in set(op.link_bytes) | set(op.link_steps):
            ln = (links or {}).get(role) or device.interconnect[0].name
            if ln not in used_links:
                used_links.append(ln)
    labels = term_labels(device, used_links, ideal)
    shape_syms = workload.symbols
    per_op = []
    for op in workload.ops:
        device.peak_figure(op.dtype, sparse)  # clear error for a missing peak
        res, act = split_bytes(op)
        bws = [device.symbol(f"memory.{m.name}.bandwidth") for m in device.memory]
        terms = {"compute": op.flops / device.symbol(f"compute.{op.dtype}.{'sparse' if sparse else 'dense'}")}
        for m, bw in zip(device.memory, bws):
            terms[f"res:{m.name}"] = res / bw
        for m, bw in zip(device.memory, bws):
            terms[f"act:{m.name}"] = act / bw
        terms.update(_link_terms(op, device, links, ideal))
        terms["latency"] = _latency_term(device, ideal)
        terms["act_bytes"] = act
        per_op.append(terms)
    dev_syms: set = set()
    for terms in per_op:
        for e in terms.values():
            dev_syms |= sp.sympify(e).free_symbols
    dev_syms -= set(shape_syms)
    from ..symbols import symbol_name

    path_of = {symbol_name(p): p for p in device.figures}
    device_paths = tuple(sorted(path_of[s.name] for s in dev_syms))
    dev_args = [device.symbol(p) for p in device_paths]
    args = list(shape_syms) + dev_args
    order = (["compute"] + [f"res:{m.name}" for m in device.memory] + [f"act:{m.name}" for m in device.memory]
             + [lbl for lbl in labels if lbl.startswith("interconnect:")] + ["latency", "act_bytes"])
    # one function for everything, so common subexpressions are computed once per block of points
    exprs = [sp.sympify(workload.flops), sp.sympify(workload.bytes), sp.sympify(workload.working_set)]
    zero_outputs = []
    for op, terms in zip(workload.ops, per_op):
        op_exprs = [sp.sympify(terms.get(lbl, 0)) for lbl in order] + [sp.sympify(op.count)]
        zero_outputs.append([e == 0 for e in op_exprs])
        exprs += op_exprs
    from roofline.engine import fused

    fused_src = ""
    if fused.available():
        fused_src = fused.generate(exprs, list(shape_syms), dev_args, zero_outputs, len(workload.ops), len(order),
                                   len(device.memory), mode)
    return CompiledWorkload(
        workload=workload, labels=labels, shape_names=tuple(s.name for s in shape_syms), fused_source=fused_src,
        device_paths=device_paths, func=_lambdify(args, exprs), zero_outputs=zero_outputs,
        n_ops=len(workload.ops), n_terms=len(order), name=workload.name, dtypes=tuple(workload.dtypes),
        n_levels=len(device.memory), overlap=mode,
    )


def compile_recipe(recipe, device: Device, overlap: str = "max", ideal: bool = False, sparse: bool = False):
    """:func:`compile_workload` for a :class:`~roofline.recipes.Recipe`, through the disk cache."""
    from .cache import cached_compile, device_signature

    mode = _overlap(overlap)
    device.peak_figure(recipe.compute_dtype, sparse)
    key = f"{recipe.key}|{device_signature(device)}|{mode}|{ideal}|{sparse}"
    return cached_compile(key, lambda: compile_workload(recipe.build(), device, mode, ideal, sparse=sparse))


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

