"""Every folder roofline reads or writes, and every ``ROOFLINE_*`` environment variable: read here only.

A leaf module: it imports nothing of the package. It also holds the one way a file the user asked for is
written (:func:`atomic_output`: beside the target, then renamed into place).

=========================  ==========================================================================
variable                   meaning
=========================  ==========================================================================
``ROOFLINE_SPEC_PATH``     extra device spec files or folders (``os.pathsep``-separated)
``ROOFLINE_MODEL_PATH``    extra model config files or folders
``ROOFLINE_CACHE``         ``0`` turns the disk cache off (nothing is then written or read from disk)
``ROOFLINE_CACHE_DIR``     the cache folder (default ``$XDG_CACHE_HOME/roofline`` or ``~/.cache/roofline``)
``ROOFLINE_FUSED``         ``0`` turns the numba evaluator off; ``always`` uses it for every grid
``ROOFLINE_THREADS``       the most threads a large grid is spread over (default: every core allowed)
``ROOFLINE_MEMORY_BUDGET`` bytes an in-memory sweep may hold (``4e9``, ``4GB``, ``512MiB``; default a
                           quarter of the machine's memory); a larger one must go to a file or a reduction
=========================  ==========================================================================

The data shipped with the package lives in five top-level folders of a source checkout — the device
specs (``hardware_specs/``), model configs (``model_configs/``), trends (``trends/``), published
measurements (``measurements/``) and rental prices (``prices/``) — and inside the wheel under ``roofline/_data/``. :func:`data_dir` finds
either, so every caller uses one look-up.
"""

from __future__ import annotations

import os
import stat
from contextlib import contextmanager
from pathlib import Path

__all__ = ["DATA_KINDS", "data_dir", "spec_paths", "model_paths", "cache_enabled", "cache_root",
           "secure_cache_dir", "fused_enabled", "fused_always", "thread_count", "memory_budget",
           "CacheRefused", "package_digest", "cache_dir", "atomic_output", "no_blas_threads"]

#: The data folders shipped with the package, by kind.
DATA_KINDS = ("hardware_specs", "model_configs", "trends", "measurements", "prices")

_OFF = ("0", "false", "no", "off")
_HERE = Path(__file__).resolve().parent


def data_dir(kind: str) -> Path:
    """The folder of shipped data of ``kind`` (one of :data:`DATA_KINDS`): inside the wheel, or at the top
    of a source checkout.

    Parameters
    ----------
    kind : str
        ``"hardware_specs"``, ``"model_configs"``, ``"trends"``, ``"measurements"`` or ``"prices"``.

    Returns
    -------
    pathlib.Path
        The folder (it exists in an installed wheel and in a checkout).

    Raises
    ------
    ValueError
        ``kind`` is not one of :data:`DATA_KINDS`.

    Examples
    --------
    >>> data_dir("hardware_specs").name
    'hardware_specs'
    """
    if kind not in DATA_KINDS:
        raise ValueError(f"unknown data kind {kind!r}; expected one of {', '.join(DATA_KINDS)}")
    packaged = _HERE / "_data" / kind
    return packaged if packaged.is_dir() else _HERE.parent / kind


def _env_paths(name: str) -> list[Path]:
    return [Path(p) for p in os.environ.get(name, "").split(os.pathsep) if p.strip()]


def spec_paths() -> list[Path]:
    """Extra spec files and folders from ``ROOFLINE_SPEC_PATH``, in order.

    Returns
    -------
    list of pathlib.Path
    """
    return _env_paths("ROOFLINE_SPEC_PATH")


def model_paths() -> list[Path]:
    """Extra model config files and folders from ``ROOFLINE_MODEL_PATH``, in order.

    Returns
    -------
    list of pathlib.Path
    """
    return _env_paths("ROOFLINE_MODEL_PATH")


def cache_enabled() -> bool:
    """False when ``ROOFLINE_CACHE`` is ``0``/``false``/``no``/``off``.

    Returns
    -------
    bool
    """
    return os.environ.get("ROOFLINE_CACHE", "1").strip().lower() not in _OFF


def fused_enabled() -> bool:
    """False when ``ROOFLINE_FUSED`` turns the numba evaluator off.

    Returns
    -------
    bool
    """
    return os.environ.get("ROOFLINE_FUSED", "1").strip().lower() not in _OFF


def fused_always() -> bool:
    """True when ``ROOFLINE_FUSED=always``: the numba evaluator runs every grid, whatever it costs (for
    benchmarks and tests).

    Returns
    -------
    bool
    """
    return os.environ.get("ROOFLINE_FUSED", "").strip().lower() == "always"


def thread_count() -> int:
    """The most threads a large grid is spread over: ``ROOFLINE_THREADS``, else every core this process
    may run on.

    Returns
    -------
    int
        At least 1.

    Raises
    ------
    ValueError
        ``ROOFLINE_THREADS`` is not a positive integer.
    """
    raw = os.environ.get("ROOFLINE_THREADS", "").strip()
    if raw:
        if not raw.isdigit() or int(raw) < 1:
            raise ValueError(f"ROOFLINE_THREADS must be a positive integer, got {raw!r}")
        return int(raw)
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


_SIZES = {"": 1, "B": 1, "KB": 1e3, "MB": 1e6, "GB": 1e9, "TB": 1e12, "KIB": 2**10, "MIB": 2**20, "GIB": 2**30,
          "TIB": 2**40}


def memory_budget() -> float:
    """Bytes an in-memory sweep may hold: ``ROOFLINE_MEMORY_BUDGET`` (``4e9``, ``4GB``, ``512MiB``), else a
    quarter of the machine's physical memory (2 GB where it cannot be read).

    Returns
    -------
    float
        [B]

    Raises
    ------
    ValueError
        The variable is not a positive size.

    Examples
    --------
    >>> import os
    >>> os.environ["ROOFLINE_MEMORY_BUDGET"] = "512MiB"
    >>> memory_budget()
    536870912.0
    >>> del os.environ["ROOFLINE_MEMORY_BUDGET"]
    """
    raw = os.environ.get("ROOFLINE_MEMORY_BUDGET", "").strip().upper().replace(" ", "")
    if raw:
        num = raw.rstrip("KMGTIB")
        unit = raw[len(num):]
        try:
            value = float(num) * _SIZES[unit]
        except (ValueError, KeyError):
            value = -1.0
        if value <= 0:
            raise ValueError(f"ROOFLINE_MEMORY_BUDGET must be a size such as 4GB or 4e9, got {raw!r}")
        return value
    try:
        return os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE") / 4
    except (AttributeError, ValueError, OSError):
        return 2e9


def cache_root() -> Path | None:
    """The cache folder the user asked for (not yet checked), or None with the cache off.

    Returns
    -------
    pathlib.Path or None
    """
    if not cache_enabled():
        return None
    base = os.environ.get("ROOFLINE_CACHE_DIR")
    if base:
        return Path(base)
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg) if xdg else Path.home() / ".cache") / "roofline"


class CacheRefused(Exception):
    """The cache folder is not safe to use; the message says why in one line."""


def secure_cache_dir() -> Path | None:
    """The cache folder, created with mode 0700 and checked: owned by this user, writable by nobody else.

    The threat: anyone who can write the cache folder could plant an entry. roofline therefore uses the
    folder only when it belongs to the current user and neither its group nor others can write it (the
    folder is created 0700 when missing). Entries hold data only (never code that is executed or unpickled).

    Returns
    -------
    pathlib.Path or None
        None when the cache is off (``ROOFLINE_CACHE=0``).

    Raises
    ------
    CacheRefused
        The folder is owned by another user, writable by group or others, not a folder, or cannot be
        created; the caller says so in one line and carries on without the disk cache.
    """
    root = cache_root()
    if root is None:
        return None
    try:
        root.mkdir(mode=0o700, parents=True, exist_ok=True)
        st = os.lstat(root)
    except OSError as exc:
        raise CacheRefused(f"cannot create the cache folder {root} ({exc.strerror or exc})") from None
    if not stat.S_ISDIR(st.st_mode):
        raise CacheRefused(f"the cache folder {root} is not a folder (a link or a file)")
    if hasattr(os, "getuid") and st.st_uid != os.getuid():
        raise CacheRefused(f"the cache folder {root} belongs to another user (uid {st.st_uid})")
    if st.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
        raise CacheRefused(f"the cache folder {root} is writable by other users (mode {stat.S_IMODE(st.st_mode):o})")
    return root


_DIGEST: list[str] = []


def package_digest() -> str:
    """A hash of every source file of the installed package (``*.py`` and the unit definitions).

    Every disk-cache key includes it, so editing any module of roofline — not a hand-typed list of them —
    invalidates every cached entry. Computed once per process (about a millisecond).

    Returns
    -------
    str
        32 hexadecimal digits.
    """
    if not _DIGEST:
        import hashlib

        h = hashlib.sha256()
        for rel in _source_files():
            h.update(rel.encode())
            with open(os.path.join(_HERE, rel), "rb") as fh:
                h.update(fh.read())
        _DIGEST.append(h.hexdigest()[:32])
    return _DIGEST[0]


def _source_files() -> list[str]:
    """The package's ``*.py`` and ``*.txt`` files relative to it, sorted by their path's parts (as
    :class:`pathlib.Path` sorts), leaving out ``__pycache__`` and ``_data`` (a walk of the names only: a
    ``Path`` per file of the tree costs more than hashing the files)."""
    out = []
    for root, dirs, files in os.walk(_HERE):
        dirs[:] = [d for d in dirs if d not in ("__pycache__", "_data")]
        rel = os.path.relpath(root, _HERE)
        out += [f if rel == "." else os.path.join(rel, f) for f in files if f.endswith((".py", ".txt"))]
    return sorted(out, key=lambda r: r.split(os.sep))


_REFUSED: list[str] = []


def cache_dir() -> Path | None:
    """The disk-cache folder to use now, or None: cache off, or refused as unsafe.

    A refused folder (see :func:`secure_cache_dir`) is reported once per process, in one line on
    standard error, and roofline carries on without the disk cache.

    Returns
    -------
    pathlib.Path or None
    """
    try:
        return secure_cache_dir()
    except CacheRefused as exc:
        if not _REFUSED:
            import sys

            _REFUSED.append(str(exc))
            print(f"roofline: not using the disk cache: {exc}", file=sys.stderr)
        return None



@contextmanager
def atomic_output(path: str | os.PathLike):
    """Write a file so that it is either complete or not there: into a temporary file beside ``path``,
    renamed over it only when the block finishes.

    An interruption (Ctrl-C, a full disk, a size limit, an exception) leaves any earlier file at ``path``
    untouched and removes the temporary one.

    Parameters
    ----------
    path : path-like
        The file to write. Its folder must exist.

    Yields
    ------
    pathlib.Path
        The temporary path to write to (same folder and suffix, so writers that look at the suffix work).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> target = pathlib.Path(tempfile.mkdtemp()) / "out.csv"
    >>> with atomic_output(target) as tmp:
    ...     _ = tmp.write_text("a,b\\n1,2\\n")
    >>> target.read_text()
    'a,b\\n1,2\\n'
    """
    import tempfile

    target = Path(path)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.stem}.", suffix=f".partial{target.suffix}")
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        if target.exists():
            try:
                os.chmod(tmp_path, stat.S_IMODE(os.stat(target).st_mode))
            except OSError:
                pass
        else:
            os.chmod(tmp_path, 0o666 & ~_umask())
        os.replace(tmp_path, target)
    except BaseException:
        try:
            tmp_path.unlink()
        except OSError:
            pass
        raise


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def no_blas_threads() -> None:
    """Have NumPy's BLAS start no pool of threads in this process: for a command that multiplies no matrices.

    OpenBLAS (NumPy's wheels) starts a thread per core when NumPy loads, and each spins ~0.1 s waiting for
    work: ~60 ms of wall time and of CPU on a 2-core machine, a third of a warm ``roofline compare``, spent
    beside no BLAS call at all. The pool's size is read once, when NumPy loads, so this is done only while
    NumPy is not loaded, and never over the user's own ``OPENBLAS_NUM_THREADS`` (the only variable of
    another package set here). Every command but ``roofline calibrate``, which times matrix products, calls it
    (:func:`roofline.outputs.cli.main`)."""
    import sys

    if "numpy" not in sys.modules:
        os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
