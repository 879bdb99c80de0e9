"""Vectorised sweeps: a workload's lambdified expressions evaluated over whole grids, returned tidy.

:func:`sweep` takes a workload, one or more devices, a grid of shape values and optionally a grid of
device figures (what-if studies: "what if HBM were 6 TB/s?") and returns a pandas DataFrame with one row
per point. The loop is over devices (whose structure changes the expressions), never over grid points.
"""

from __future__ import annotations

from typing import Mapping, Sequence

import numpy as np

from ..errors import InputError
from ..units import as_si, unit_of_column
from ..hardware.device import Device
from ..hardware.library import get_device
from ..hardware.measured import device_for
from ..vocab import Corner

__all__ = ['grid', 'sweep']


def grid(**axes) -> dict[str, np.ndarray]:
    """The Cartesian product of ``axes`` as flat arrays of equal length.

    Parameters
    ----------
    **axes : sequence of float
        Axis name to its values (shape symbols or figure paths, in their units).

    Returns
    -------
    dict of str to ndarray
        One flat array per axis, all of the product's length.

    Examples
    --------
    >>> {k: v.tolist() for k, v in grid(b=[1, 2], s=[10, 20]).items()}
    {'b': [1.0, 1.0, 2.0, 2.0], 's': [10.0, 20.0, 10.0, 20.0]}
    """
    names = list(axes)
    arrays = [np.atleast_1d(np.asarray(v, dtype=float)) for v in axes.values()]
    for n, a in zip(names, arrays):
        if a.ndim != 1 or a.size == 0:
            raise InputError(f"{n}: expected a non-empty list of values")
    mesh = np.meshgrid(*arrays, indexing="ij") if arrays else []
    return {n: m.ravel() for n, m in zip(names, mesh)}


def sweep(workload, devices: Sequence[str | Device] | str | Device, shapes: Mapping[str, Sequence] | None = None,
          figures: Mapping[str, Sequence] | None = None, overlap: str = "max", ideal: bool = False,
          level: str | None = None, ranges: bool = True, sparse: bool = False):
    """Evaluate ``workload`` over the grid ``shapes × figures`` on each device.

    Parameters
    ----------
    workload : Workload or mapping of label to Workload
        For several data types or variants, a mapping ``{"bf16": gemm(dtype="bf16"), "fp8": ...}``.
    devices : str, Device or sequence of them
        Device keys (``"h100"``) or devices.
    shapes : mapping of str to sequence of float
        Shape symbol name to its values [1]; every free symbol of the workload needs values (``M``, ``N``,
        ``K`` for a GEMM).
    figures : mapping of str to sequence, optional
        What-if values for device figures, e.g. ``{"memory.hbm.bandwidth": [3.35e12, 6e12]}`` [SI units],
        or as strings (``["3.35 TB/s", "6 TB/s"]``) or pint quantities, whose dimension must be the
        figure's (:func:`roofline.units.as_si`).
    overlap : str
        ``"max"`` (full overlap, the roofline) or ``"sum"`` (no overlap).
    ideal : bool
        Drop latency terms and read the datasheet peaks (else the estimate: measured ceilings).
    level : str, optional
        Force the memory level the working set lives in.
    sparse : bool
        Use 2:4-sparse peaks.
    ranges : bool
        For a device with estimated figures, add ``time_s_best`` and ``time_s_worst``.

    Returns
    -------
    pandas.DataFrame
        One row per (device, workload, grid point): the grid columns, ``time_s`` [s] (NaN where the working
        set fits no level), ``flops`` [FLOP], ``bytes`` [B], ``arithmetic_intensity`` [FLOP/B],
        ``attainable_flops_per_s`` [FLOP/s], ``bound``, ``level``, ``fits`` and, with ``ranges`` on a device
        with estimated figures, ``time_s_best`` and ``time_s_worst`` [s].
    """
    import pandas as pd

    wls = dict(workload) if isinstance(workload, Mapping) else {workload.name: workload}
    devs = [device_for(get_device(d), ideal) for d in ([devices] if isinstance(devices, (str, Device)) else devices)]
    axes = dict(shapes or {})
    # what-if figures may be SI floats, strings ("6 TB/s") or pint quantities: each in the figure's own unit
    fig_axes = {f: as_si(v, devs[0].figure(f).unit) if devs else v for f, v in (figures or {}).items()}
    g = grid(**axes, **fig_axes)
    frames = []
    for dev in devs:
        for f in fig_axes:
            dev.figure(f)  # clear error for an unknown figure path
        for label, wl in wls.items():
            missing = [s.name for s in wl.symbols if s.name not in axes]
            if missing:
                raise InputError(f"{wl.name}: the sweep needs values for {', '.join(missing)}")
            results, labels = _evaluate_corners(wl, dev, g, axes, fig_axes, overlap, ideal, level, ranges, sparse)
            frames.append(pd.DataFrame(_columns(dev, label, g, axes, fig_axes, results, labels)))
    df = pd.concat(frames, ignore_index=True)
    units = {c: unit_of_column(c) for c in df.columns if unit_of_column(c)}
    units.update({f: devs[0].figure(f).unit for f in fig_axes})
    df.attrs.update(devices=[d.key for d in devs], workloads=list(wls), units=units, ideal=ideal, overlap=overlap)
    return df


def _evaluate_corners(wl, dev: Device, g, axes, fig_axes, overlap, ideal, level, ranges, sparse):
    """The workload on ``dev`` over the grid, at every corner of the device's ranges (when ``ranges``)."""
    from ..engine.compiled import compile_workload
    from ..engine.corners import corners_of

    cw = compile_workload(wl, dev, overlap, ideal, sparse=sparse)
    home = None if level is None else [m.name for m in dev.memory].index(dev.level(level).name)
    results = {}
    for which in (corners_of(dev) if ranges else (Corner.NOMINAL,)):
        vals = dev.values(which)
        vals.update({f: g[f] for f in fig_axes})
        caps = [vals[f"memory.{m.name}.capacity"] for m in dev.memory]
        results[which] = cw.evaluate({k: g[k] for k in axes}, vals, caps, home=home)
    return results, cw.labels


def _columns(dev: Device, label: str, g, axes, fig_axes, results, labels) -> dict:
    """The tidy columns of one (device, workload): the grid, then the results (see :func:`sweep`)."""
    import pandas as pd

    n = len(next(iter(g.values()))) if g else 1
    r = results[Corner.NOMINAL]
    full = lambda a: np.broadcast_to(a, (n,))  # noqa: E731
    levels = np.asarray([m.name for m in dev.memory], dtype=object)
    cols = {"device": dev.key, "workload": label, **{k: g[k] for k in axes}, **{k: g[k] for k in fig_axes}}
    cols.update({k: full(r[k]) for k in ("time_s", "flops", "bytes", "arithmetic_intensity", "attainable_flops_per_s")})
    cols["bound"] = pd.Categorical.from_codes(full(r["bound_index"]).astype(np.int64), categories=list(labels))
    cols["level"] = pd.Categorical(levels[full(r["home"])])
    cols["fits"] = full(r["fits"])
    for which in (Corner.BEST, Corner.WORST):
        if which in results:
            cols[f"time_s_{which}"] = full(results[which]["time_s"])
    return cols
