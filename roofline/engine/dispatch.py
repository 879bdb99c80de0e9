"""Which evaluator runs a grid, and on how many cores: NumPy or fused, chosen by measured costs.

Two evaluators compute the same numbers from the same expressions:

- the **NumPy** one (:mod:`roofline.engine.numpy_eval`), in blocks of points: a fixed cost per block of
  about a hundred array calls, then a few nanoseconds per point and operator;
- the **fused** one (:mod:`roofline.engine.fused`, with numba): a loop over points, several times faster
  per point, but the process must first import numba and load the kernel (tenths of a second) or, the
  first time a workload is seen, compile it (seconds).

For a grid, :func:`choose` compares the expected time
of the NumPy path with that of the fused path *including* whatever the fused path still has to pay now
(importing numba, loading or compiling the kernel), and runs the cheaper: the fused path is never taken
when it would make this call slower than NumPy. The costs per point and per call start from the figures
the benchmark suite measured and are replaced, workload by workload, by what this process measures. A
kernel never compiled is compiled in a separate process (:func:`roofline.engine.fused.compile_in_background`)
while NumPy answers; a later call (or process) loads it from the disk cache.

Grids of :data:`PARALLEL_MIN` points or more are split over threads (both evaluators release the GIL in
their inner loops); ``ROOFLINE_THREADS`` caps the number.
"""

from __future__ import annotations

import threading
import time
from contextlib import contextmanager
from functools import lru_cache

import numpy as np

from .._paths import fused_always, thread_count
from ..vocab import Mode
from . import fused
from .numpy_eval import evaluate_block

__all__ = ["PARALLEL_MIN", "Costs", "choose", "corners_call", "sweep_call", "chunk_call", "no_background_compile",
           "prepare", "prepare_all", "grid_call", "costs_of", "run_parallel", "workers_for"]

#: points from which a grid is split over threads [1]
PARALLEL_MIN = 1 << 17
#: a grid whose NumPy evaluation is expected to take this long is worth compiling a kernel for [s]
COMPILE_WORTH_S = 0.05


class Costs:
    """Expected cost of a call on each evaluator for one compiled workload, updated from measurements.

    ``numpy_call`` and ``fused_call`` are fixed costs per call [s]; ``numpy_point`` and ``fused_point``
    costs per point [s], and ``sweep_point`` that of a point at one corner in the fused ``sweep`` and
    ``chunk`` functions (kind ``sweep``: the corners share the shapes' work and only times are written, about
    a quarter of ``kernel``'s). The starting values scale with the number of ops (figures of the benchmark
    suite on the 2-core reference machine, ``python benchmarks/run.py engine`` and ``sweep``: the sweep
    function ~78 M corner-points/s for 13 ops on one core, 2026-11-30); each measured call replaces them by
    a running average.

    Parameters
    ----------
    n_ops : int
        Ops in the workload [1].
    """

    def __init__(self, n_ops: int):
        self.numpy_call = 40e-6 + 20e-6 * n_ops
        self.numpy_point = 4e-9 + 18e-9 * n_ops
        self.fused_call = 15e-6
        self.fused_point = 2e-9 + 4e-9 * n_ops
        self.sweep_point = 1e-9 * n_ops
        self.numpy_seconds = 0.0  # spent on the NumPy path in this process

    def expected(self, kind: str, n: int) -> float:
        """Expected seconds of a call of ``n`` points on ``kind`` (``numpy`` or ``fused``), setup excluded.

        Parameters
        ----------
        kind : str
            ``numpy``, ``fused`` or ``sweep``.
        n : int
            Points [1] (for ``sweep``: points times corners).

        Returns
        -------
        float
            [s]
        """
        if kind == "numpy":
            return self.numpy_call + n * self.numpy_point
        return self.fused_call + n * (self.sweep_point if kind == "sweep" else self.fused_point)

    def record(self, kind: str, n: int, seconds: float, workers: int = 1) -> None:
        """Fold a measured call into the running averages.

        Parameters
        ----------
        kind : str
            ``numpy``, ``fused`` or ``sweep``.
        n : int
            Points [1].
        seconds : float
            Wall time of the call [s].
        workers : int
            Threads it ran on [1] (the per-point cost is kept per thread).
        """
        if kind == "numpy":
            self.numpy_seconds += seconds
        if seconds > 10 * self.expected(kind, n / workers) + 0.01:
            return  # an outlier (a compilation, a stolen core): not what a call costs
        call, point = {"numpy": ("numpy_call", "numpy_point"), "fused": ("fused_call", "fused_point"),
                       "sweep": ("fused_call", "sweep_point")}[kind]
        fixed = getattr(self, call)
        if n >= 4096:  # large enough that the per-point part dominates
            per = max((seconds - fixed) * workers / n, 1e-12)
            setattr(self, point, 0.7 * getattr(self, point) + 0.3 * per)
        elif n <= 64:
            setattr(self, call, 0.7 * fixed + 0.3 * max(seconds - n * getattr(self, point), 1e-7))


_COSTS: dict[int, tuple[object, Costs]] = {}


def costs_of(cw) -> Costs:
    """The cost record of compiled workload ``cw`` (one per workload object in this process).

    Parameters
    ----------
    cw : CompiledWorkload

    Returns
    -------
    Costs
    """
    hit = _COSTS.get(id(cw))
    if hit is None or hit[0] is not cw:
        hit = (cw, Costs(cw.n_ops))
        _COSTS[id(cw)] = hit
    return hit[1]


def choose(cw, n: int, detail: bool, fused_ok: bool) -> str:
    """``numpy`` or ``fused`` for a grid call of ``n`` points: the cheaper, counting the fused setup.

    Parameters
    ----------
    cw : CompiledWorkload
        With a ``fused_source`` when numba is installed.
    n : int
        Points [1].
    detail : bool
        Per-term outputs are asked for (only the NumPy path gives them).
    fused_ok : bool
        The call's figures are scalars (the fused kernel takes a grid of shapes only).

    Returns
    -------
    str
    """
    if detail or not fused_ok or _small(cw, n) or not fused.available() or not cw.fused_source:
        return "numpy"
    if fused_always():
        return "fused"
    return _decide(cw, cw.fused_source, n)


def _small(cw, n: int) -> bool:
    """A call too small for numba to pay in this process, decided before anything about numba is looked up
    (finding it on the path costs milliseconds): numba not imported, the call's NumPy time below what is
    worth a compilation, and this workload's NumPy time so far too."""
    if fused_always() or fused.numba_imported():
        return False
    c = costs_of(cw)
    return c.expected("numpy", n) < COMPILE_WORTH_S and c.numpy_seconds < COMPILE_WORTH_S


def _decide(cw, source: str, n: int, fn: str = "kernel") -> str:
    """``fused`` when function ``fn`` of kernel ``source`` makes ``n`` points cheaper now than NumPy, its setup
    included."""
    c = costs_of(cw)
    t_np = c.expected("numpy", n)
    setup = fused.setup_seconds(source, cw.n_ops, fn)
    if setup is None:  # never compiled: NumPy now, the kernel compiled elsewhere when it will pay
        if (t_np >= COMPILE_WORTH_S or c.numpy_seconds >= COMPILE_WORTH_S) and not getattr(_LOCAL, "quiet", False):
            fused.compile_in_background(source, len(cw.shape_names), len(cw.device_paths), cw.n_levels)
        return "numpy"
    return "fused" if setup + c.expected(_KIND[fn], n) < t_np else "numpy"


#: the cost record (:class:`Costs`) of each fused function's points
_KIND = {"kernel": "fused", "sweep": "sweep", "chunk": "sweep"}


_LOCAL = threading.local()


@contextmanager
def no_background_compile():
    """Within the block, this thread starts no kernel compilation (a caller that has a better kernel
    coming, such as the corners kernel of a sweep, evaluates meanwhile on NumPy)."""
    old = getattr(_LOCAL, "quiet", False)
    _LOCAL.quiet = True
    try:
        yield
    finally:
        _LOCAL.quiet = old


def corners_call(cw, shapes, figs, caps, devices, home, mode, workers: int | None = None):
    """Evaluate a grid at several corners in one pass of the fused kernel, when that pays now.

    Parameters
    ----------
    cw : CompiledWorkload
        With a ``fused_source`` when numba is installed.
    shapes : mapping of str to ndarray
        Flat shape arrays of one length [1].
    figs : list of list of float
        Per corner, the values of ``cw.device_paths`` [each figure's SI unit].
    caps : list of list of float
        Per corner, the capacity of each level, fastest first [B].
    devices : float
        Devices the working set is spread over [1].
    home : int or None
        Forced home level index.
    mode : Mode
        Which latency terms to add.
    workers : int, optional
        Threads [1].

    Returns
    -------
    tuple or None
        The time at each corner, shape ``(corners, n)`` [s], and the first corner's ``bound_index`` and
        the rest (:func:`roofline.engine.fused.run_corners`); None when the corners are better evaluated
        one by one on NumPy (no numba, a kernel not ready or not worth loading).
    """
    ready = _fused_ready(cw, shapes, len(figs), "kernel", workers)
    if ready is None:
        return None
    args, n, w = ready
    t0 = time.perf_counter()
    out = fused.run_corners(cw, args, figs, caps, devices, home, n, mode, lambda fn: run_parallel(fn, n, w))
    costs_of(cw).record("fused", n * len(figs), time.perf_counter() - t0, w)
    return out


def _fused_ready(cw, shapes, corners: int, fn: str, workers: int | None, out=()):
    """``(flat shape arrays, points, threads)`` with the fused function ``fn`` loaded, when evaluating the
    grid's ``corners`` on it pays now; None when not (no numba, arrays of other lengths, ``out`` buffers not
    C-contiguous, a kernel not ready or not worth loading)."""
    if not fused.available() or not cw.fused_source:
        return None
    args = [np.ascontiguousarray(shapes[k], dtype=float) for k in cw.shape_names]
    n = args[0].size if args else 1
    if any(a.shape != (n,) for a in args) or not all(t.flags.c_contiguous for t in out):
        return None
    if not fused_always() and _decide(cw, cw.fused_source, n * corners, fn) != "fused":
        return None
    fused.load(cw.fused_source, len(cw.shape_names), len(cw.device_paths), cw.n_levels, fn)
    return args, n, workers_for(n, workers)


def sweep_call(cw, shapes, figs, caps, devices, home, mode, times, bound, lut, fits, cap: int,
               workers: int | None = None) -> bool:
    """Evaluate a sweep's grid at its corners with the fused ``sweep`` function, in place, when that pays now.

    Parameters
    ----------
    cw : CompiledWorkload
        With a ``fused_source`` when numba is installed.
    shapes : mapping of str to ndarray
        Flat shape arrays of one length ``n`` [1].
    figs, caps : list of list of float
        Per corner (one to three), the values of ``cw.device_paths`` [each figure's SI unit] and the capacity
        of each level [B].
    devices : float
        Devices the working set is spread over [1].
    home : int or None
        Forced home level index.
    mode : Mode
        Which latency terms to add.
    times : list of ndarray
        Per corner, ``n`` float64 values to write the time into [s] (:func:`roofline.engine.fused.run_sweep`).
    bound : ndarray of int8
        ``n`` values to write the first corner's binding-term code into.
    lut : ndarray of int8
        Each label's code.
    fits : ndarray of bool
        ``n`` values: where False, the times are NaN and the code is ``cap``.
    cap : int
        The code of a point that does not fit.
    workers : int, optional
        Threads [1].

    Returns
    -------
    bool
        True when done; False when the corners are better evaluated one by one on NumPy (nothing written).
    """
    ready = _fused_ready(cw, shapes, len(figs), "sweep", workers, (*times, bound, fits))
    if ready is None:
        return False
    args, n, w = ready
    t0 = time.perf_counter()
    fused.run_sweep(cw, args, figs, caps, devices, home, n, mode, times, bound, lut, fits, cap,
                    lambda fn: run_parallel(fn, n, w))
    costs_of(cw).record("sweep", n * len(figs), time.perf_counter() - t0, w)
    return True


def chunk_call(cw, grid, shape_args, figs, caps, devices, home, mode, times, bound, lut, fits, cap: int,
               post=None) -> bool:
    """:func:`sweep_call` over a span of a row-major grid with the coordinates, the fit test and the rates
    in the same call (:func:`roofline.engine.fused.run_chunk`: one call that holds no lock), when that pays now.

    Parameters
    ----------
    cw : CompiledWorkload
    grid : tuple
        ``(R, C, TH, lo, AX, DIV, RV, CV)`` as :func:`roofline.engine.fused.run_chunk` reads it.
    shape_args : list of ndarray
        One float64 array of ``n`` values per ``cw.shape_names``, written with the shapes [1].
    figs, caps, devices, home, mode, times, bound, lut, fits, cap, post
        As :func:`sweep_call` and :func:`roofline.engine.fused.run_chunk`.

    Returns
    -------
    bool
        True when done; False when not (no numba, a buffer not C-contiguous, not worth it now): nothing written.
    """
    n = times[0].size
    out = (*times, bound, fits, *grid[6:], *shape_args, *(post[i] for i in (0, 1, 3, 5) if post is not None))
    if not fused.available() or not cw.fused_source or not all(a.flags.c_contiguous and a.size == n for a in out):
        return False
    if not fused_always() and _decide(cw, cw.fused_source, n * len(figs), "chunk") != "fused":
        return False
    t0 = time.perf_counter()
    fused.run_chunk(cw, grid, shape_args, figs, caps, devices, home, mode, times, bound, lut, fits, cap, post)
    costs_of(cw).record("sweep", n * len(figs), time.perf_counter() - t0, 1)
    return True


def prepare(cw, n_points: int, source: str | None = None, fn: str = "kernel") -> str:
    """Get the fused kernel of ``cw`` ready when a run of ``n_points`` in all (a sweep in chunks) pays for it.

    Loads it now when importing numba and loading the kernel cost less than the NumPy time it saves over
    the run, or (a process that asks again and again, a notebook's or a service's) once this workload has
    spent as long on NumPy in this process as the setup costs, the kernel being faster per point: the
    ski-rental rule, which never spends more than twice what knowing the future would; starts its
    compilation in another process when it was never compiled and the run is worth it.

    Parameters
    ----------
    cw : CompiledWorkload
    n_points : int
        Points the caller is about to evaluate with ``cw``, in as many calls as it likes [1].
    source : str, optional
        The kernel to prepare: ``cw.fused_source`` (default).
    fn : str
        Its function that will run: ``kernel``, ``sweep`` (:func:`sweep_call`) or ``chunk`` (:func:`chunk_call`).

    Returns
    -------
    str
        ``ready``, ``loaded``, ``compiling`` or ``numpy`` (the NumPy path will run).
    """
    source = cw.fused_source if source is None else source
    if not source or not fused.available():
        return "numpy"
    c = costs_of(cw)
    saved = c.expected("numpy", n_points) - c.expected(_KIND[fn], n_points)
    setup = fused.setup_seconds(source, cw.n_ops, fn)
    if setup == 0.0:
        return "ready"
    if setup is None:
        if c.expected("numpy", n_points) >= COMPILE_WORTH_S and fused.compile_in_background(
                source, len(cw.shape_names), len(cw.device_paths), cw.n_levels):
            return "compiling"
        return "numpy"
    if fused_always() or setup < saved or (saved > 0 and c.numpy_seconds >= setup):
        fused.load(source, len(cw.shape_names), len(cw.device_paths), cw.n_levels, fn)
        return "loaded"
    return "numpy"


def prepare_all(runs, fn: str = "kernel") -> None:
    """:func:`prepare` for several kernels about to run together: importing numba is paid once for all.

    Parameters
    ----------
    runs : iterable of (CompiledWorkload, int, str)
        Each workload, the points it still has to evaluate [1] and the kernel (its source).
    fn : str
        The kernels' function that will run: ``kernel``, ``sweep`` or ``chunk``.
    """
    runs = [(cw, n, src) for cw, n, src in runs if n > 0 and src]
    if runs and fused.available() and not fused.numba_imported():
        gain = 0.0
        for cw, n, src in runs:
            setup = fused.setup_seconds(src, cw.n_ops, fn)
            if setup:  # loadable from the disk cache: the import is shared, the load is not
                c = costs_of(cw)
                gain += max(0.0, c.expected("numpy", n) - c.expected(_KIND[fn], n) - fused.LOAD_S[0])
        if gain > fused.IMPORT_S[0]:
            fused.import_numba()
    for cw, n, src in sorted(runs, key=lambda r: -r[1]):
        prepare(cw, n, src, fn)


# ------------------------------------------------------------------------------------------------------
# grids
# ------------------------------------------------------------------------------------------------------
@lru_cache(maxsize=4)
def _pool(workers: int):
    from concurrent.futures import ThreadPoolExecutor

    return ThreadPoolExecutor(max_workers=workers, thread_name_prefix="roofline")


def workers_for(n: int, workers: int | None = None) -> int:
    """Threads a grid of ``n`` points is spread over: 1 below :data:`PARALLEL_MIN`, else ``workers`` or
    every core this process may use (``ROOFLINE_THREADS`` caps it).

    Parameters
    ----------
    n : int
        Points [1].
    workers : int, optional
        Threads asked for [1].

    Returns
    -------
    int
    """
    w = thread_count() if workers is None else max(1, int(workers))
    return 1 if n < PARALLEL_MIN else min(w, max(1, n // max(1, PARALLEL_MIN // 2)))


def _spans(n: int, parts: int, align: int = 1):
    step = -(-n // parts)
    step = -(-step // align) * align
    return [(lo, min(lo + step, n)) for lo in range(0, n, step)]


def run_parallel(fn, n: int, workers: int, align: int = 1) -> None:
    """Call ``fn(lo, hi)`` over ``workers`` contiguous spans of ``range(n)``, on threads when more than one.

    Parameters
    ----------
    fn : callable
        Works on the points ``lo:hi`` and writes its own slice of the outputs.
    n : int
        Points [1].
    workers : int
        Threads [1].
    align : int
        Span boundaries fall on multiples of this [1].
    """
    spans = _spans(n, workers, align)
    if len(spans) == 1:
        fn(*spans[0])
        return
    for f in [_pool(workers).submit(fn, lo, hi) for lo, hi in spans]:
        f.result()


def grid_call(cw, shapes, device_values, capacities, devices, home, with_bound: bool, detail: bool,
              chunk: int, workers: int | None, mode: Mode = Mode.ESTIMATE) -> dict:
    """Evaluate a grid on the NumPy or the fused evaluator (:func:`choose`), on threads when it is large.

    Parameters
    ----------
    cw : CompiledWorkload
    shapes, device_values : mapping of str to array_like
        [1] and [each figure's SI unit]; they broadcast together.
    capacities : sequence of array_like
        [B], fastest level first.
    devices : array_like
        [1].
    home : array_like of int or None
        Forced home level per point.
    with_bound, detail : bool
        Find the binding term; add the per-term outputs.
    chunk : int
        Points per NumPy block [1].
    workers : int or None
        Threads; None: every core this process may use.
    mode : Mode
        Which latency terms to add.

    Returns
    -------
    dict of ndarray
        Each of the grid's broadcast shape (the per-term ones with one leading axis per label).
    """
    args = [np.asarray(shapes[n], dtype=float) for n in cw.shape_names]
    args += [np.asarray(device_values[p], dtype=float) for p in cw.device_paths]
    caps = [np.asarray(c, dtype=float) for c in capacities]
    devs = np.asarray(devices, dtype=float)
    hm = None if home is None else np.asarray(home, dtype=np.int64)
    shape = np.broadcast_shapes(*(a.shape for a in args + caps + [devs] + ([hm] if hm is not None else [])))
    n = int(np.prod(shape)) if shape else 1
    ndev = len(cw.device_paths)
    fused_ok = all(a.ndim == 0 for a in args[len(args) - ndev:]) and all(c.ndim == 0 for c in caps)
    kind = choose(cw, n, detail, fused_ok)
    w = workers_for(n, workers)
    if kind == "fused":  # a set-up (import, load, compile) is paid once, not a cost of the call
        fused.load(cw.fused_source, len(cw.shape_names), len(cw.device_paths), cw.n_levels)
    t0 = time.perf_counter()
    if kind == "fused":
        out = fused.run(cw, args, caps, devs, hm, n, shape, mode, lambda fn: run_parallel(fn, n, w))
    elif n <= chunk:
        out = evaluate_block(cw, args, caps, devs, hm, with_bound, detail, mode)
    else:
        out = _numpy_blocks(cw, args, caps, devs, hm, shape, n, (with_bound, detail, mode), chunk, w)
    costs_of(cw).record(kind, n, time.perf_counter() - t0, w)
    return out


def _numpy_blocks(cw, args, caps, devs, hm, shape, n: int, opts: tuple, chunk: int, workers: int) -> dict:
    """The NumPy evaluator over blocks of ``chunk`` points, the blocks spread over ``workers`` threads."""
    flat = lambda a: np.broadcast_to(a, shape).reshape(-1) if a.ndim else a  # noqa: E731
    fargs, fcaps, fdevs = [flat(a) for a in args], [flat(c) for c in caps], flat(devs)
    fhm = None if hm is None else flat(hm)
    with_bound, detail, _ = opts
    nlab = len(cw.labels)
    out = {k: np.empty(n, dtype=dt) for k, dt in (("time_s", float), ("flops", float), ("bytes", float),
                                                   ("home", np.int64), ("fits", bool),
                                                   ("arithmetic_intensity", float),
                                                   ("attainable_flops_per_s", float))}
    if with_bound:
        out["bound_index"] = np.empty(n, dtype=np.int64)
    if detail:
        out["term_times"] = np.empty((nlab, n))
        out["term_totals"] = np.empty((nlab, n))
    cut = lambda a, sl: a[sl] if a.ndim else a  # noqa: E731

    def span(lo: int, hi: int) -> None:
        for b in range(lo, hi, chunk):
            sl = slice(b, min(b + chunk, hi))
            into = {k: v[sl] for k, v in out.items() if v.ndim == 1}  # written in place by the evaluator
            part = evaluate_block(cw, [cut(a, sl) for a in fargs], [cut(c, sl) for c in fcaps], cut(fdevs, sl),
                                  None if fhm is None else cut(fhm, sl), *opts, out=into)
            for k, v in part.items():
                if v is not into.get(k):
                    out[k][..., sl] = v

    run_parallel(span, n, workers, align=chunk)
    return {k: v.reshape(v.shape[:-1] + shape) if k.startswith("term_") else v.reshape(shape)
            for k, v in out.items()}
