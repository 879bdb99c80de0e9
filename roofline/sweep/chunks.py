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

import os
import threading
import weakref
from collections import deque
from functools import lru_cache
from typing import Callable, Iterable, Iterator, Mapping, Sequence

import numpy as np

from .._paths import memory_budget, thread_count
from ..engine.cache import on_clear_memory
from ..errors import CapacityError, InputError
from ..hardware.device import Device

__all__ = ['grid_chunks', 'evaluate_dask', 'spans', 'pipeline', 'sweep_workers', 'check_budget', 'columns',
           'PARALLEL_MIN']

#: points from which a sweep's chunks run on several threads [1]
PARALLEL_MIN = 1 << 17


def spans(n: int, chunk: int, even: bool = False) -> list[tuple[int, int]]:
    """``range(n)`` cut into consecutive ``(lo, hi)`` spans of at most ``chunk``.

    Parameters
    ----------
    n : int
        Points [1].
    chunk : int
        Most points per span [1].
    even : bool
        As many spans, of lengths that differ by one at most (threads that share them finish together),
        instead of ``chunk`` each but the last.

    Returns
    -------
    list of tuple of int

    Examples
    --------
    >>> spans(5, 2)
    [(0, 2), (2, 4), (4, 5)]
    >>> spans(10, 4, even=True)
    [(0, 3), (3, 6), (6, 10)]
    """
    if chunk <= 0:
        raise InputError(f"chunk must be positive, got {chunk}")
    if not even:
        return [(lo, min(lo + chunk, n)) for lo in range(0, n, chunk)]
    parts = -(-n // chunk)
    cuts = [n * i // parts for i in range(parts + 1)] if parts else [0]
    return list(zip(cuts[:-1], cuts[1:]))


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


def columns(n: int, dtypes: Mapping[str, object]) -> dict[str, np.ndarray]:
    """Uninitialised arrays of ``n`` values for a result's columns, in memory that earlier results no longer
    use where there is some (:class:`_Pool`), else new.

    A new frame's memory is mapped page by page as it is first written: for a 10^6-row sweep of 90 B a row,
    thousands of page faults that cost as much as the sweep's arithmetic on the 2-core reference machine
    and scale badly when two threads fault at once (two threads filling fresh arrays took longer there than
    one thread filling both in turn). Memory that a dropped frame held is already mapped: a sweep that
    reuses it faults no page.

    Parameters
    ----------
    n : int
        Values per column [1].
    dtypes : mapping of str to dtype
        Each column's type.

    Returns
    -------
    dict of str to ndarray
        Writable, C-contiguous and uninitialised, each column in a block of its own (a column the caller
        keeps keeps only its own memory).
    """
    _POOL.cap = memory_budget() / 8
    return {c: _POOL.take(n, np.dtype(t)) for c, t in dtypes.items()}


class _Pool:
    """Blocks of memory that dropped results held, kept for the next one: at most an eighth of the memory
    budget (``ROOFLINE_MEMORY_BUDGET``), the oldest freed first beyond it;
    :func:`roofline.engine.clear_memory` frees them all.

    Each array :meth:`take` returns is made from a ``memoryview`` of its block, not from the block itself,
    so that every view of it, however derived (slices, ``.view``, pandas columns, categorical codes), has
    that array as its base (NumPy collapses a view's base to the first owner of the data or the first
    object of another type; here the ``memoryview``): the array dies exactly when nothing can reach the
    memory any more, and a weak-reference callback then puts the block back. While :mod:`tracemalloc`
    traces, every array is new and is not kept, so that a traced peak counts every column.
    """

    def __init__(self):
        self.lock = threading.Lock()
        self.free: deque = deque()  # blocks (uint8 arrays), oldest first
        self.held = 0  # bytes of the blocks in free [B]
        self.cap = 0.0  # most bytes kept: an eighth of the memory budget, set by columns [B]

    def take(self, n: int, dtype: np.dtype) -> np.ndarray:
        """``n`` values of ``dtype`` in a reused block (the smallest free one of at least the size and at
        most twice it) or a new one."""
        import tracemalloc

        if tracemalloc.is_tracing():
            return np.empty(n, dtype=dtype)
        need, block = n * dtype.itemsize, None
        with self.lock:
            fits = [(b.size, i) for i, b in enumerate(self.free) if need <= b.size <= 2 * need]
            if fits:
                block = self.free[min(fits)[1]]
                del self.free[min(fits)[1]]
                self.held -= block.size
        if block is None:
            block = np.empty(need, dtype=np.uint8)
        out = np.frombuffer(memoryview(block), dtype=dtype, count=n)
        weakref.finalize(out, self.put, block).atexit = False
        return out

    def put(self, block: np.ndarray) -> None:
        """Keep ``block``, unless another thread holds the pool now or this one does (a frame dropped
        while :meth:`take` runs): then it is simply freed."""
        if not self.lock.acquire(blocking=False):
            return
        try:
            self.free.append(block)
            self.held += block.size
            while self.held > self.cap and self.free:
                self.held -= self.free.popleft().size
        finally:
            self.lock.release()

    def clear(self) -> None:
        """Free every kept block."""
        with self.lock:
            self.free.clear()
            self.held = 0


_POOL = _Pool()
on_clear_memory(_POOL.clear)


def pipeline(tasks: Iterable, fn: Callable, workers: int, consume: Callable | None = None,
             meanwhile: Callable | None = None) -> None:
    """``fn(task)`` for every task on ``workers`` threads; ``consume(result)`` in the tasks' order.

    At most ``2 * workers`` results wait at once, so memory stays bounded whatever the number of tasks
    (without ``consume``, whose results no one reads, every task is submitted at once and this thread waits
    for them all); ``fn`` must release the GIL for most of its time (NumPy, numba and pyarrow do) for
    threads to help: each time a thread takes the GIL back from another one, it may wait for that thread to
    be woken. The threads are kept between calls (starting two threads cost the reference machine up to
    3 ms of a 30 ms sweep); a call from one of them (a task that sweeps) runs in its own thread.

    Parameters
    ----------
    tasks : iterable
        Arguments of ``fn``, one per task.
    fn : callable
        Runs one task.
    workers : int
        Threads [1]; 1 runs everything in this thread.
    consume : callable, optional
        Receives each result, in order, in this thread; without it the results are dropped.
    meanwhile : callable, optional
        Called once in this thread while the first tasks run (after them with one thread): work that
        does not need the results, taken off the serial part of the call.
    """
    keep = 2 * workers if consume is not None else None  # results no one reads: every task at once
    consume = consume or (lambda r: None)
    if workers <= 1 or threading.current_thread().name.startswith(_THREAD_PREFIX):
        for t in tasks:
            consume(fn(t))
        if meanwhile is not None:
            meanwhile()
        return
    from concurrent.futures import FIRST_EXCEPTION, wait

    pool, waiting = _threads(workers, os.getpid()), deque()
    try:
        for t in tasks:
            waiting.append(pool.submit(fn, t))
            if keep is not None and len(waiting) >= keep:
                consume(waiting.popleft().result())
            if meanwhile is not None and keep is not None and len(waiting) >= workers:
                meanwhile, run = None, meanwhile
                run()
        if meanwhile is not None:
            meanwhile()
        if keep is None:  # one wake-up of this thread at the end (or at the first error), not one per task
            wait(waiting, return_when=FIRST_EXCEPTION)
        while waiting:
            consume(waiting.popleft().result())
    finally:  # on an error, no task of this call is left running
        for f in waiting:
            f.cancel()
        wait(waiting)


_THREAD_PREFIX = "roofline-sweep"


@lru_cache(maxsize=4)
def _threads(workers: int, pid: int):
    """The threads of :func:`pipeline` calls on ``workers`` threads in process ``pid``, started on first use
    and kept (a child made by ``fork`` has none of its parent's threads: it makes its own)."""
    from concurrent.futures import ThreadPoolExecutor

    return ThreadPoolExecutor(max_workers=workers, thread_name_prefix=_THREAD_PREFIX)


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

