"""Sweeps beyond memory: grids in chunks, and compiled functions mapped over dask arrays for a cluster.

A grid of 10^9 points does not fit in memory as a DataFrame (about 100 GB). :func:`grid_chunks` never
materialises the Cartesian product: each chunk's coordinates are computed from flat indices.
:func:`evaluate_dask` maps a :class:`~roofline.engine.CompiledWorkload` over dask arrays, block by block,
on whatever scheduler is active. The private helpers here (a point count, a Pareto filter, a progress bar)
serve the chunked LLM sweeps of :mod:`roofline.llm.sweeps` (``llm_sweep_to_parquet``, which appends each
chunk to a Parquet file, and ``llm_sweep_reduce``, which folds chunks into the best configuration per
system or the throughput–interactivity Pareto frontier).
"""

from __future__ import annotations

from typing import Iterator, Mapping, Sequence

import numpy as np

from ..errors import InputError
from ..hardware.device import Device

__all__ = ['grid_chunks', 'evaluate_dask']


def grid_chunks(axes: Mapping[str, Sequence], chunk: int = 1 << 20) -> Iterator[dict[str, np.ndarray]]:
    """The Cartesian product of ``axes`` in chunks of at most ``chunk`` points, in C order.

    The whole grid is never built: each chunk's coordinates come from ``np.unravel_index`` of a flat range,
    so memory is bounded by ``chunk`` whatever the product's size.

    Parameters
    ----------
    axes : mapping of str to sequence of float
        Axis name to its values, in the axis's unit (shape symbols [1], figure paths in SI units).
    chunk : int
        Most points per chunk [1].

    Yields
    ------
    dict of str to ndarray
        One flat float array per axis, all of the chunk's length; the last chunk may be shorter.

    Raises
    ------
    InputError
        ``chunk`` is not positive (raised when the first chunk is asked for).

    Examples
    --------
    >>> [c["b"].tolist() for c in grid_chunks({"b": [1, 2], "s": [10, 20, 30]}, chunk=4)]
    [[1.0, 1.0, 1.0, 2.0], [2.0, 2.0]]
    """
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

    Each block runs :meth:`~roofline.engine.CompiledWorkload.evaluate`, the same lambdified functions as
    in memory, on whatever scheduler is active (a local one or a distributed cluster).

    Parameters
    ----------
    compiled : CompiledWorkload
        The compiled workload.
    shapes : mapping of str to array_like
        Values of ``compiled.shape_names``: dask arrays, NumPy arrays or scalars that broadcast together [1].
    device_values : mapping of str to float
        Values of ``compiled.device_paths`` [each figure's SI unit].
    capacities : sequence of float
        Capacity of each memory level, fastest first [B].
    home : int, optional
        Forced home level index; None: the fastest level that holds the working set.
    devices : int
        Devices the working set is spread over [1].

    Returns
    -------
    dict of str to dask.array.Array
        Lazy ``time_s`` [s], ``bound_index``, ``flops`` [FLOP], ``bytes`` [B] and ``fits``.
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

