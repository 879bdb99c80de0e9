"""Sweeps beyond memory: grids in chunks, and compiled functions mapped over dask arrays for a cluster.

A grid of 10^9 points does not fit in memory as a DataFrame (about 100 GB). :func:`spans`,
:func:`pipeline`, :func:`sweep_workers` and :func:`check_budget` are how a sweep runs in chunks, on every
core, within the memory budget (``ROOFLINE_MEMORY_BUDGET``). :func:`grid_chunks` never
materialises the Cartesian product: each chunk's coordinates are computed from flat indices.
:func:`evaluate_dask` maps a :class:`~roofline.engine.CompiledWorkload` over dask arrays, block by block,
on whatever scheduler is active. The private helpers here (a point count, a Pareto filter, a progress bar)
serve the chunked LLM sweeps of :mod:`roofline.llm.sweeps` (``llm_sweep_to_parquet``, which appends each
chunk to a Parquet file, and ``llm_sweep_reduce``, which folds chunks into the best configuration per
system or the throughput–interactivity Pareto frontier).
"""

from __future__ import annotations

from collections import deque
from typing import Callable, Iterable, Iterator, Mapping, Sequence

import numpy as np

from .._paths import memory_budget, thread_count
from ..errors import CapacityError, InputError
from ..hardware.device import Device

__all__ = ['grid_chunks', 'evaluate_dask', 'spans', 'pipeline', 'sweep_workers', 'check_budget', 'PARALLEL_MIN']

#: points from which a sweep's chunks run on several threads [1]
PARALLEL_MIN = 1 << 17


def spans(n: int, chunk: int) -> list[tuple[int, int]]:
    """``range(n)`` cut into consecutive ``(lo, hi)`` spans of at most ``chunk``.

    Parameters
    ----------
    n : int
        Points [1].
    chunk : int
        Most points per span [1].

    Returns
    -------
    list of tuple of int

    Examples
    --------
    >>> spans(5, 2)
    [(0, 2), (2, 4), (4, 5)]
    """
    if chunk <= 0:
        raise InputError(f"chunk must be positive, got {chunk}")
    return [(lo, min(lo + chunk, n)) for lo in range(0, n, chunk)]


def sweep_workers(n: int, workers: int | None = None) -> int:
    """Threads for a sweep of ``n`` points: one below :data:`PARALLEL_MIN`, else ``workers`` or every core.

    Parameters
    ----------
    n : int
        Points [1].
    workers : int, optional
        Asked for [1]; default every core this process may use (``ROOFLINE_THREADS`` caps it).

    Returns
    -------
    int
    """
    if n < PARALLEL_MIN:
        return 1
    return max(1, int(workers)) if workers is not None else thread_count()


def check_budget(n_points: int, bytes_per_point: float, what: str) -> None:
    """Refuse an in-memory result larger than the memory budget (``ROOFLINE_MEMORY_BUDGET``).

    Parameters
    ----------
    n_points : int
        Rows of the result [1].
    bytes_per_point : float
        Bytes each row holds [B].
    what : str
        The sweep, for the message.

    Raises
    ------
    CapacityError
        Saying how much the grid needs and how to run it chunk by chunk instead.
    """
    need, budget = n_points * bytes_per_point, memory_budget()
    if need > budget:
        raise CapacityError(f"{what}: {n_points:,} points need about {need / 1e9:,.1f} GB in memory, more than "
                            f"the budget of {budget / 1e9:,.1f} GB (ROOFLINE_MEMORY_BUDGET); write them chunk by "
                            "chunk with out='grid.parquet' (or .csv), or fold them with reduce='best' or 'pareto'")


def pipeline(tasks: Iterable, fn: Callable, workers: int, consume: Callable | None = None) -> None:
    """``fn(task)`` for every task on ``workers`` threads; ``consume(result)`` in the tasks' order.

    At most ``2 * workers`` results wait at once, so memory stays bounded whatever the number of tasks;
    ``fn`` must release the GIL for most of its time (NumPy, numba and pyarrow do) for threads to help.

    Parameters
    ----------
    tasks : iterable
        Arguments of ``fn``, one per task.
    fn : callable
        Runs one task.
    workers : int
        Threads [1]; 1 runs everything in this thread.
    consume : callable, optional
        Receives each result, in order, in this thread.
    """
    consume = consume or (lambda r: None)
    if workers <= 1:
        for t in tasks:
            consume(fn(t))
        return
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="roofline-sweep") as pool:
        waiting: deque = deque()
        for t in tasks:
            waiting.append(pool.submit(fn, t))
            if len(waiting) >= 2 * workers:
                consume(waiting.popleft().result())
        while waiting:
            consume(waiting.popleft().result())


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

