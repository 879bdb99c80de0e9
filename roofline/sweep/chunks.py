"""Sweeps beyond memory: grids evaluated in chunks, written incrementally or reduced on the fly, and the
same compiled functions mapped over dask arrays for a cluster.

A grid of 10^9 points does not fit in memory as a DataFrame (about 100 GB). Here the Cartesian product
is never materialised: each chunk's coordinates are computed from flat indices, evaluated by the same
lambdified functions as :mod:`roofline.sweep`, then either appended to a Parquet file
(:func:`llm_sweep_to_parquet`) or folded into a small running result (:func:`llm_sweep_reduce`: the best
configuration per system, or the throughput–interactivity Pareto frontier).
"""

from __future__ import annotations

from typing import Iterator, Mapping, Sequence

import numpy as np

from ..errors import InputError
from ..hardware.device import Device

__all__ = ['grid_chunks', 'evaluate_dask']


def grid_chunks(axes: Mapping[str, Sequence], chunk: int = 1 << 20) -> Iterator[dict[str, np.ndarray]]:
    """The Cartesian product of ``axes`` in chunks of at most ``chunk`` points, in C order, without ever
    building the whole grid: each chunk's coordinates come from ``np.unravel_index`` of a flat range."""
    names = list(axes)
    vals = [np.atleast_1d(np.asarray(v, dtype=float)) for v in axes.values()]
    dims = tuple(len(v) for v in vals)
    total = int(np.prod(dims)) if dims else 0
    if chunk <= 0:
        raise InputError(f"chunk must be positive, got {chunk}")
    for lo in range(0, total, chunk):
        flat = np.arange(lo, min(lo + chunk, total))
        idx = np.unravel_index(flat, dims)
        yield {n: v[i] for n, v, i in zip(names, vals, idx)}


def _n_points(batch, context, devices, device_counts) -> int:
    nd = len([devices] if isinstance(devices, (str, Device)) else devices)
    return int(np.size(batch) * np.size(context) * nd * (len(device_counts) if device_counts else 1))


def _pareto(df):
    """Rows not dominated in (tokens_per_s_per_user, tokens_per_s_per_device), both to maximise."""
    d = df.sort_values(["tokens_per_s_per_user", "tokens_per_s_per_device"], ascending=[False, False])
    best = np.maximum.accumulate(d.tokens_per_s_per_device.to_numpy())
    prev = np.concatenate([[-np.inf], best[:-1]])
    return d[d.tokens_per_s_per_device.to_numpy() > prev]


class _NoBar:
    def update(self, n):
        pass

    def close(self):
        pass


def _bar(total: int, progress: bool):
    if not progress:
        return _NoBar()
    try:
        from tqdm import tqdm
    except ImportError:  # progress is a nicety, never a requirement
        return _NoBar()
    return tqdm(total=total, unit="pt", unit_scale=True, leave=False)


def evaluate_dask(compiled, shapes: Mapping[str, object], device_values: Mapping[str, float], capacities,
                  home=None, devices=1) -> dict:
    """Map a :class:`~roofline.engine.CompiledWorkload` over dask arrays, block by block.

    ``shapes`` maps shape names to dask arrays (or NumPy arrays / scalars) that broadcast together; the
    result maps ``time_s``, ``bound_index``, ``flops``, ``bytes`` and ``fits`` to lazy dask arrays that
    run the same lambdified functions on each block, on whatever scheduler is active (a local one or a
    distributed cluster).
    """
    import dask.array as da

    names = list(compiled.shape_names)
    arrays = [da.asarray(shapes[n]) for n in names]
    arrays = list(da.broadcast_arrays(*arrays)) if arrays else arrays
    outs = {}
    for key, dtype in (("time_s", float), ("bound_index", np.int64), ("flops", float), ("bytes", float),
                       ("fits", bool)):
        def block(*blocks, _key=key):
            r = compiled.evaluate(dict(zip(names, blocks)), device_values, capacities, devices=devices, home=home)
            return np.broadcast_to(r[_key], np.broadcast_shapes(*(np.shape(b) for b in blocks))).copy()

        outs[key] = da.map_blocks(block, *arrays, dtype=dtype)
    return outs

