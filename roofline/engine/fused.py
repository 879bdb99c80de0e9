"""A fused evaluator: the same expressions as the NumPy path, compiled by numba into one loop per grid.

NumPy evaluates a workload one element-wise step at a time, one pass over memory each; a decode step of
a dozen operators needs about a hundred passes per point. Here the expressions (after common-subexpression
elimination) are printed as scalar code inside a single loop over points that also keeps the running
maximum per operator, the binding term and the totals, and numba compiles it. Positions in the output
vector come from :class:`~roofline.engine.layout.OutputLayout`, as in the NumPy evaluator.

Where the code runs from (the threat model is in ``docs/security.md``): the source is generated in this
process. With the disk cache on, it is written to the per-user cache folder (mode 0700, owned by the
user: :func:`roofline._paths.secure_cache_dir`) so that numba's own cache can keep the machine code for a
later process, and a file there is loaded only after checking that this user owns it, nobody else can
write it and its text is exactly the source this process generated. With the cache off nothing is written
or read: the kernel is compiled in memory.

numba is optional (``pip install 'roofline[fast]'``). Without it, or with ``ROOFLINE_FUSED=0``, the NumPy
path runs; the tests check that both give the same numbers.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import stat
import sys
import threading
import time
from functools import lru_cache
from pathlib import Path

import numpy as np

from .._paths import cache_dir, fused_enabled
from .pointcode import PointCode, body_lines

__all__ = ["available", "generate", "generate_corners", "run", "run_corners", "load", "setup_seconds", "compile_in_background", "forget", "numba_imported",
           "import_numba"]


def available() -> bool:
    """True when numba is installed and not turned off with ``ROOFLINE_FUSED=0``.

    Returns
    -------
    bool
    """
    return fused_enabled() and _installed()


@lru_cache(maxsize=1)
def _installed() -> bool:
    return importlib.util.find_spec("numba") is not None


def _kernel_lines(pc: PointCode, cache: bool) -> list[str]:
    nl, na, nd = pc.layout.n_levels, pc.na, pc.nd
    args = ", ".join([f"A{i}" for i in range(na)] + [f"d{i}" for i in range(nd)])
    lines = ["import math", "import numpy as np", "from numba import njit", "",
             f"@njit(cache={cache}, fastmath=False, nogil=True)",
             f"def kernel({args}{', ' if args else ''}caps, devs, home, nlab, out_time, out_bound, out_flops, "
             "out_bytes, out_home, out_fits):",
             "    n = out_time.shape[0]", "    acc = np.zeros(nlab)"]
    lines += [f"    c{lv} = caps[{lv}]" for lv in range(nl)]
    lines += ["    for i in range(n):"] + [f"        a{j} = A{j}[i]" for j in range(na)]
    lines += ["        dv = devs[i]", "        hm = home[i]", "        for q in range(nlab):", "            acc[q] = 0.0"]
    lines += ["        " + line for line in body_lines(pc)]
    lines += ["        bi = 0", "        bv = acc[0]", "        for q in range(1, nlab):",
              "            if acc[q] > bv:", "                bv = acc[q]", "                bi = q",
              "        out_time[i] = total if fits else np.nan", "        out_bound[i] = bi",
              "        out_flops[i] = flops", "        out_bytes[i] = nbytes",
              "        out_home[i] = hc", "        out_fits[i] = fits"]
    return lines


def _corners_lines(pc: PointCode, cache: bool) -> list[str]:
    """A kernel evaluating every point at several corners (rows of ``D`` and ``CAPS``) in one pass."""
    nl, na, nd = pc.layout.n_levels, pc.na, pc.nd
    args = "".join(f"A{i}, " for i in range(na))
    lines = ["import math", "import numpy as np", "from numba import njit", "",
             f"@njit(cache={cache}, fastmath=False, nogil=True)",
             f"def kernel({args}D, CAPS, devs, sd, home, sh, nlab, out_time, out_bound):",
             "    n = out_time.shape[0]", "    nc = out_time.shape[1]", "    acc = np.zeros(nlab)",
             "    for i in range(n):"] + [f"        a{j} = A{j}[i]" for j in range(na)]
    lines += ["        dv = devs[i * sd]", "        hm = home[i * sh]", "        for k in range(nc):"]
    lines += [f"            d{j} = D[k, {j}]" for j in range(nd)] + [f"            c{lv} = CAPS[k, {lv}]"
                                                                      for lv in range(nl)]
    lines += ["            for q in range(nlab):", "                acc[q] = 0.0"]
    lines += ["            " + line for line in body_lines(pc)]
    lines += ["            out_time[i, k] = total if fits else np.nan", "            if k == 0:",
              "                bi = 0", "                bv = acc[0]", "                for q in range(1, nlab):",
              "                    if acc[q] > bv:", "                        bv = acc[q]",
              "                        bi = q", "                out_bound[i] = bi"]
    return lines


def generate_corners(pc: PointCode, cache: bool = True) -> str:
    """Python source of a numba kernel evaluating the expressions of ``pc`` at several corners per point.

    A device with estimated figures is evaluated at its nominal, best and worst figures; one pass over the
    points computes all three (the subexpressions of the shapes alone are shared), with the binding term of
    the first corner.

    Parameters
    ----------
    pc : PointCode
        The compiled workload's expressions (:mod:`roofline.engine.pointcode`).
    cache : bool
        Let numba cache the machine code next to the source file.

    Returns
    -------
    str
        A module defining ``kernel(*shapes, D, CAPS, devs, sd, home, sh, nlab, out_time, out_bound)``: ``D``
        and ``CAPS`` hold one row of figures and capacities per corner, ``devs`` and ``home`` are read at
        ``i * sd`` and ``i * sh`` (a stride of 0 for one value), ``out_time`` has one row per point and one
        column per corner (so that a span of points is contiguous).
    """
    return "\n".join(_corners_lines(pc, cache)) + "\n"


def generate(pc: PointCode, cache: bool = True) -> str:
    """Python source of a numba kernel evaluating the expressions of ``pc`` for every point.

    Parameters
    ----------
    pc : PointCode
        The compiled workload's expressions, printed once (:mod:`roofline.engine.pointcode`).
    cache : bool
        Let numba cache the machine code next to the source file.

    Returns
    -------
    str
        A module defining ``kernel(*shapes, *figures, caps, devs, home, nlab, out_time, out_bound, out_flops,
        out_bytes, out_home, out_fits)``, which fills the ``out_*`` arrays in place.
    """
    return "\n".join(_kernel_lines(pc, cache)) + "\n"


def _trusted(path: Path, source: str) -> bool:
    """True when ``path`` is a regular file of this user that nobody else can write, holding ``source``."""
    try:
        st = os.lstat(path)
    except OSError:
        return False
    if not stat.S_ISREG(st.st_mode) or (hasattr(os, "getuid") and st.st_uid != os.getuid()):
        return False
    if st.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
        return False
    try:
        return path.read_text() == source
    except (OSError, UnicodeDecodeError):
        return False


def _write(path: Path, source: str) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(source)
    os.replace(tmp, path)


def _from_file(name: str, path: Path):
    spec = importlib.util.spec_from_file_location(name, path)
    mod = importlib.util.module_from_spec(spec)
    sys.modules[name] = mod
    spec.loader.exec_module(mod)
    return mod.kernel


def _in_memory(source: str):
    ns: dict = {}
    exec(compile(source.replace("cache=True", "cache=False"), "<roofline fused kernel>", "exec"), ns)  # noqa: S102 - generated in this process
    return ns["kernel"]


def _name(source: str) -> str:
    return "roofline_fused_" + hashlib.sha256(source.encode()).hexdigest()[:24]


def _folder() -> Path | None:
    """The kernels' folder inside the per-user cache (mode 0700), or None with the cache off."""
    folder = cache_dir()
    if folder is None:
        return None
    folder = folder / "fused"
    try:
        folder.mkdir(mode=0o700, exist_ok=True)
    except OSError:
        return None
    return folder


def _source_file(source: str) -> Path | None:
    """The kernel's file in the cache folder, written when missing or different; None when it cannot be."""
    folder = _folder()
    if folder is None:
        return None
    path = folder / f"{_name(source)}.py"
    try:
        if not _trusted(path, source):
            _write(path, source)
    except OSError:
        return None
    return path if _trusted(path, source) else None


@lru_cache(maxsize=64)
def _kernel(source: str):
    name = _name(source)
    if name in sys.modules:
        return sys.modules[name].kernel
    path = _source_file(source)
    return _from_file(name, path) if path is not None else _in_memory(source)


# ------------------------------------------------------------------------------------------------------
# what the fused path still costs now: the measured break-even of roofline.engine.dispatch
# ------------------------------------------------------------------------------------------------------
#: seconds to import numba in a fresh process (benchmark suite, 2-core reference machine; measured again
#: whenever this process imports it)
IMPORT_S = [0.25]
#: seconds to load one kernel whose machine code numba has cached on disk
LOAD_S = [0.05]
#: seconds to compile a kernel, per op of its workload, and fixed
COMPILE_S_PER_OP, COMPILE_S = [0.12], [0.8]
#: start a separate compiling process for a kernel never compiled (off in tests that must not spawn one)
BACKGROUND = True

_READY: dict[str, object] = {}
_LOCK = threading.RLock()
_SPAWNED: set[str] = set()
_CHILDREN: list = []  # compiling processes started by this one


def forget() -> None:
    """Forget the kernels loaded in this process (their files and numba's disk cache stay)."""
    _READY.clear()
    _SPAWNED.clear()
    _kernel.cache_clear()


def _marker(source: str, kind: str) -> Path | None:
    folder = cache_dir()
    return None if folder is None else folder / "fused" / f"{_name(source)}.{kind}"


def setup_seconds(source: str, n_ops: int) -> float | None:
    """Seconds this process would spend before the kernel of ``source`` can run, or None when it was never
    compiled and the disk cache can hold it (then :func:`compile_in_background` compiles it).

    Parameters
    ----------
    source : str
        From :func:`generate`.
    n_ops : int
        Ops of its workload [1] (a compilation's cost grows with them).

    Returns
    -------
    float or None
        [s]: 0 for a loaded kernel, importing numba (when not yet imported) plus loading a kernel numba has
        cached, or compiling one when the disk cache is off.
    """
    if source in _READY:
        return 0.0
    imp = 0.0 if "numba" in sys.modules else IMPORT_S[0]
    ready = _marker(source, "ready")
    if ready is None:
        return imp + COMPILE_S[0] + COMPILE_S_PER_OP[0] * n_ops
    return imp + LOAD_S[0] if ready.exists() else None


def _dummy_call(kernel, source: str, na: int, nd: int, nl: int) -> None:
    """Call ``kernel`` on an empty grid: numba compiles it, or loads its cached machine code."""
    z, zi = np.empty(0), np.empty(0, dtype=np.int64)
    if "CAPS" in source:  # the corners kernel
        kernel(*([z] * na), np.ones((1, nd)), np.ones((1, nl)), np.ones(1), 0, np.zeros(1, dtype=np.int64), 0,
               nl + 3, np.empty((0, 1)), zi)
        return
    kernel(*([z] * na), *([1.0] * nd), np.ones(nl), z, zi, nl + 3, z, zi, z, z, zi, np.empty(0, dtype=np.bool_))


def load(source: str, na: int, nd: int, nl: int):
    """The kernel of ``source``, ready to run: numba imported, machine code loaded or compiled (timed).

    Parameters
    ----------
    source : str
        From :func:`generate`.
    na, nd, nl : int
        Shape arguments, figure arguments and memory levels of its workload [1].

    Returns
    -------
    callable
    """
    hit = _READY.get(source)
    if hit is not None:
        return hit
    with _LOCK:  # one thread loads; the others wait for it
        return _READY.get(source) or _load(source, na, nd, nl)


def numba_imported() -> bool:
    """True once this process has imported numba.

    Returns
    -------
    bool
    """
    return "numba" in sys.modules


def import_numba() -> None:
    """Import numba now, timing it (:data:`IMPORT_S`)."""
    if "numba" not in sys.modules:
        t0 = time.perf_counter()
        import numba  # noqa: F401

        IMPORT_S[0] = time.perf_counter() - t0


def _load(source: str, na: int, nd: int, nl: int):
    import_numba()
    t1 = time.perf_counter()
    kernel = _kernel(source)
    _dummy_call(kernel, source, na, nd, nl)
    ready = _marker(source, "ready")
    if ready is not None and ready.exists():
        took = time.perf_counter() - t1
        if _READY:  # a later kernel: what loading one costs
            LOAD_S[0] = 0.5 * LOAD_S[0] + 0.5 * took
        else:  # the first one also sets numba up in this process, once: counted with the import
            IMPORT_S[0] += max(0.0, took - LOAD_S[0])
    elif ready is not None:
        _touch(ready)
    _READY[source] = kernel
    return kernel


def _touch(path: Path) -> None:
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600))
    except OSError:
        pass


def compile_in_background(source: str, na: int, nd: int, nl: int) -> bool:
    """Compile the kernel of ``source`` in a separate process, which leaves its machine code in numba's disk
    cache (and a ``.ready`` marker) for this process and later ones; this process carries on with NumPy.

    Once per kernel and process, and only with the disk cache on: a ``.compiling`` file keeps two processes
    from compiling the same kernel (one older than ten minutes is taken as abandoned).

    Parameters
    ----------
    source : str
        From :func:`generate`.
    na, nd, nl : int
        Shape arguments, figure arguments and memory levels of its workload [1].

    Returns
    -------
    bool
        True when a process was started.
    """
    if not BACKGROUND or source in _SPAWNED or any(p.poll() is None for p in _CHILDREN):
        return False  # one compiling process at a time: the others wait for a later call
    _SPAWNED.add(source)
    path = _source_file(source)
    lock = _marker(source, "compiling")
    if path is None or lock is None:
        return False
    try:
        fd = os.open(lock, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        if time.time() - lock.stat().st_mtime < 600:
            return False
        fd = os.open(lock, os.O_WRONLY | os.O_TRUNC, 0o600)
    os.close(fd)
    import subprocess

    digest = hashlib.sha256(source.encode()).hexdigest()
    root = str(Path(__file__).resolve().parents[2])
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([root] + [p for p in [os.environ.get("PYTHONPATH")] if p]))
    _CHILDREN.append(subprocess.Popen(
        [sys.executable, "-m", "roofline.engine.fused", str(path), digest, str(na), str(nd), str(nl)],
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
        env=env, cwd=str(path.parent)))
    return True


def _compile_main(argv: list[str]) -> int:
    """The compiling process: check the kernel file is this user's and holds the source whose hash it was
    given, compile it (numba caches the machine code), mark it ready."""
    path, digest = Path(argv[0]), argv[1]
    na, nd, nl = (int(x) for x in argv[2:5])
    lock = path.with_suffix(".compiling")
    try:
        source = path.read_text()
        if hashlib.sha256(source.encode()).hexdigest() != digest or not _trusted(path, source):
            return 1
        _dummy_call(_from_file(_name(source), path), source, na, nd, nl)
        _touch(path.with_suffix(".ready"))
        return 0
    finally:
        try:
            lock.unlink()
        except OSError:
            pass


def run(cw, args, caps, devs, hm, n: int, shape, parallel=None) -> dict:
    """Evaluate ``cw`` with its fused kernel over ``n`` points; returns the arrays the NumPy path returns.

    Parameters
    ----------
    cw : roofline.engine.compiled.CompiledWorkload
        With a ``fused_source``.
    args : list of ndarray
        Shape values [1], then (scalar) figure values [each figure's SI unit].
    caps : list of float
        Capacity of each memory level, fastest first [B].
    devs : ndarray
        Devices the working set is spread over [1].
    hm : ndarray or None
        Forced home level index per point; None: the fastest level that holds the working set.
    n : int
        Points of the grid [1].
    shape : tuple
        The broadcast shape of the grid.
    parallel : callable, optional
        ``parallel(fn)`` calls ``fn(lo, hi)`` over spans covering ``range(n)`` (on threads: the kernel
        releases the GIL); default one call over everything.

    Returns
    -------
    dict of ndarray
        ``time_s`` [s], ``bound_index``, ``flops`` [FLOP], ``bytes`` [B], ``home``, ``fits``,
        ``arithmetic_intensity`` [FLOP/B] and ``attainable_flops_per_s`` [FLOP/s], each of ``shape``.
    """
    na = len(cw.shape_names)
    kernel = load(cw.fused_source, na, len(args) - na, len(caps))
    flat = [np.ascontiguousarray(np.broadcast_to(a, shape).reshape(-1), dtype=np.float64) for a in args[:na]]
    devvals = [float(np.asarray(a)) for a in args[na:]]
    capsf = np.asarray([float(np.asarray(c)) for c in caps], dtype=np.float64)
    devs_f = np.ascontiguousarray(np.broadcast_to(np.asarray(devs, dtype=float), shape).reshape(-1))
    home = (np.full(n, -1, dtype=np.int64) if hm is None
            else np.ascontiguousarray(np.broadcast_to(hm, shape).reshape(-1), dtype=np.int64))
    out = {"time_s": np.empty(n), "bound_index": np.empty(n, dtype=np.int64), "flops": np.empty(n),
           "bytes": np.empty(n), "home": np.empty(n, dtype=np.int64), "fits": np.empty(n, dtype=np.bool_)}
    keys = ("time_s", "bound_index", "flops", "bytes", "home", "fits")

    def span(lo: int, hi: int) -> None:
        kernel(*[f[lo:hi] for f in flat], *devvals, capsf, devs_f[lo:hi], home[lo:hi], len(cw.labels),
               *[out[k][lo:hi] for k in keys])

    (parallel or (lambda fn: fn(0, n)))(span)
    out = {k: v.reshape(shape) for k, v in out.items()}
    with np.errstate(divide="ignore", invalid="ignore"):
        out["arithmetic_intensity"] = out["flops"] / out["bytes"]
        out["attainable_flops_per_s"] = out["flops"] / out["time_s"]
    return out


def run_corners(cw, shape_args, figs, caps, devs: float, home: int | None, n: int, parallel=None):
    """Evaluate ``cw`` at several corners in one pass of its corners kernel.

    Parameters
    ----------
    cw : roofline.engine.compiled.CompiledWorkload
        With a ``fused_corners_source``.
    shape_args : list of ndarray
        Shape values, flat, of ``n`` points each [1].
    figs : list of list of float
        Per corner, the figure values in ``cw.device_paths`` order [each figure's SI unit].
    caps : list of list of float
        Per corner, the capacity of each level [B].
    devs : float
        Devices the working set is spread over [1].
    home : int or None
        Forced home level.
    n : int
        Points [1].
    parallel : callable, optional
        ``parallel(fn)`` calls ``fn(lo, hi)`` over spans covering ``range(n)``.

    Returns
    -------
    tuple of ndarray
        The time at each corner, shape ``(corners, n)`` [s] (NaN where nothing holds the working set), and
        the binding term of the first corner, shape ``(n,)``.
    """
    na = len(cw.shape_names)
    kernel = load(cw.fused_corners_source, na, len(cw.device_paths), cw.n_levels)
    flat = [np.ascontiguousarray(a, dtype=np.float64) for a in shape_args]
    D, C = np.asarray(figs, dtype=np.float64), np.asarray(caps, dtype=np.float64)
    dv, hm = np.asarray([float(devs)]), np.asarray([-1 if home is None else int(home)], dtype=np.int64)
    t, b = np.empty((n, len(figs))), np.empty(n, dtype=np.int64)

    def span(lo: int, hi: int) -> None:  # every argument C-contiguous: the one signature numba compiled
        kernel(*[f[lo:hi] for f in flat], D, C, dv, 0, hm, 0, len(cw.labels), t[lo:hi], b[lo:hi])

    (parallel or (lambda fn: fn(0, n)))(span)
    return t.T, b


if __name__ == "__main__":
    sys.exit(_compile_main(sys.argv[1:]))
