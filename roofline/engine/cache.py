"""A disk cache of compiled (lambdified) workloads, so that a second run needs neither SymPy nor lambdify.

Each entry is the generated NumPy source of a :class:`~roofline.engine.compiled.CompiledWorkload`, the
source of its scalar evaluator (:mod:`roofline.engine.scalar`) and its metadata, stored as JSON in the per-user cache folder (:func:`roofline._paths.cache_dir`: mode 0700, owned
by the user, refused otherwise). The key names everything the expressions depend on — the workload recipe
or model (every field of its config), the device's *structure* (levels, links, overheads; not its numbers,
which stay arguments), the options, the evaluators (scalar and NumPy, with or without the numba kernel: :func:`evaluators`) — and a hash of every source
file of the package (:func:`roofline._paths.package_digest`), so editing any module invalidates it.

An entry is code, so it is trusted only as far as its folder: it is loaded only when the file is a regular
file of this user that nobody else can write, and when it carries a valid HMAC-SHA256 made with a secret
key kept in the same folder (mode 0600). A broken or foreign entry is ignored and rebuilt.
The compiled code of a scalar evaluator is kept in the same folder (:func:`roofline.engine.codecache.cached_code`:
``marshal``, unmarshalled only from a private file whose HMAC, same key, covers it; named by the hash of the
source and the interpreter's bytecode magic), so a warm process compiles nothing. An entry built by a process that never ran
the fused path has no kernel source (printing it costs a sixth of a build); the first process that needs
it builds the workload again, prints it and rewrites the entry.
``ROOFLINE_CACHE=0`` turns the disk cache off: nothing is then written or read. Numbers never come from
the cache, only the functions that compute them. The threat model is in ``docs/security.md``.
"""

from __future__ import annotations

import builtins
import functools
import hashlib
import hmac
import inspect
import json
import os
import tempfile
from functools import lru_cache
from pathlib import Path
from typing import Callable

from .._paths import cache_dir
from ..dtypes import peak_dtype
from .codecache import _owned, _secret
from .compiled import CompiledWorkload, _Deferred as _Fresh, compile_workload
from .terms import _overlap

__all__ = ['cache_dir', 'device_signature', 'cached_compile', 'compile_recipe', 'clear_memory', 'evaluators']


_MEM: dict[str, object] = {}




@lru_cache(maxsize=1)
def _code_hash() -> str:
    from .._paths import package_digest

    return package_digest()[:16]


def evaluators() -> str:
    """The evaluators a compiled workload is built with in this process, as they enter the cache key.

    Every entry carries the scalar and the NumPy evaluator; the fused kernel only where numba is installed
    and not turned off (``ROOFLINE_FUSED=0``). An entry built without numba thus never pins the NumPy path
    once numba is installed, and one built with it is not reused without it.

    Returns
    -------
    str
        ``scalar+numpy`` or ``scalar+numpy+numba``.
    """
    from . import fused

    return "scalar+numpy+numba" if fused.available() else "scalar+numpy"


def device_signature(device) -> str:
    """What of a device shapes its expressions: level names and kinds, links, overheads, data types.

    Two devices with the same signature compile to the same function (their numbers are arguments), so the
    signature, not the device's key, goes into the cache key.

    Parameters
    ----------
    device : Device

    Returns
    -------
    str
        A JSON text with sorted keys: ``levels``, ``links`` (with their topologies), ``overheads``, ``mesh``,
        ``main`` (the main memory) and ``compute``.
    """
    return json.dumps({
        "levels": [(m.name, m.kind) for m in device.memory],
        "links": [(lk.name, lk.duplex, lk.latency is not None, lk.topology and (str(lk.topology.kind),
                   list(lk.topology.dimensions)), lk.ports is not None and lk.ports.value) for lk in device.interconnect],
        "mesh": sorted(p for p in device.figures if p.startswith("mesh.")),
        "main": device.main_memory.name,
        "overheads": sorted(p for p in device.figures if p.startswith("overheads.")),
        "compute": {dt: sorted(k) for dt, k in device.compute.items()},
    }, sort_keys=True)


def _namespace(names) -> dict:
    """What the generated code needs: NumPy functions by name (looked up one by one, so that NumPy's lazily
    imported submodules stay unimported) and ``reduce``."""
    import numpy as np

    from .pointcode import numpy_namespace

    ns = {"reduce": functools.reduce, "numpy": np, "builtins": builtins, "range": range, **numpy_namespace()}
    for n in names:
        if n not in ns and not n.startswith("_") and hasattr(np, n) and n not in ("f2py", "testing", "distutils"):
            ns[n] = getattr(np, n)
    return ns


def _names(code) -> set:
    out = set(code.co_names)
    for c in code.co_consts:
        if hasattr(c, "co_names"):
            out |= _names(c)
    return out


def _mac(key: bytes, doc: dict) -> str:
    body = json.dumps({k: v for k, v in doc.items() if k != "mac"}, sort_keys=True).encode()
    return hmac.new(key, body, hashlib.sha256).hexdigest()


def _save(path: Path, cw) -> None:
    src = cw.numpy_source or inspect.getsource(cw.func)
    code = getattr(cw.func, "__code__", None)
    if code is not None:
        used = sorted(_names(code))
    else:  # not compiled yet: the globals of its namespace that the source names (what a load must provide)
        import re

        used = sorted(set(re.findall(r"[A-Za-z_]\w*", src)) & set(cw.func.__globals__))
    doc = {
        "source": src, "names": used, "labels": list(cw.labels), "shape_names": list(cw.shape_names),
        "device_paths": list(cw.device_paths), "zero_outputs": [[bool(z) for z in zs] for zs in cw.zero_outputs],
        "n_ops": cw.n_ops, "n_terms": cw.n_terms, "n_levels": cw.n_levels, "overlap": cw.overlap,
        "name": cw.name, "dtypes": list(cw.dtypes), "fused_source": cw.fused_ready,
        "default_mode": cw.default_mode, "scalar_source": cw.scalar_source,
    }
    doc["mac"] = _mac(_secret(path.parent), doc)
    text = json.dumps(doc)  # in one piece: C's encoder (``json.dump`` to a file runs the Python one)
    fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
    with os.fdopen(fd, "w") as fh:
        fh.write(text)
    os.replace(tmp, path)


def _load(path: Path, build: Callable[[], object] | None = None):
    """The entry at ``path`` (None when foreign or unsigned); a kernel source never printed is made by
    ``build`` on first use, and the entry rewritten with it."""
    if not _owned(path):
        return None
    with open(path) as fh:
        doc = json.load(fh)
    if not hmac.compare_digest(str(doc.get("mac", "")), _mac(_secret(path.parent), doc)):
        return None
    func = _Deferred(doc["source"], str(path), doc["names"], doc["shape_names"], lambda: build().func)
    return CompiledWorkload(
        workload=None, labels=tuple(doc["labels"]), shape_names=tuple(doc["shape_names"]),
        device_paths=tuple(doc["device_paths"]), func=func,
        zero_outputs=doc["zero_outputs"],
        n_ops=doc["n_ops"], n_terms=doc["n_terms"], n_levels=doc["n_levels"], overlap=doc["overlap"],
        name=doc.get("name", ""), dtypes=tuple(doc.get("dtypes", ())), fused_source=_fused_of(doc, path, build),
        default_mode=doc.get("default_mode", "estimate"), scalar_source=doc.get("scalar_source", ""),
        numpy_source=doc["source"],
    )


class _Deferred(_Fresh):
    """The NumPy function of a disk-cache entry, compiled from its (signed) source on the first call, in a
    namespace built on first use: a process that asks only single points (the scalar path) never compiles it
    and never imports NumPy.

    Parameters
    ----------
    source, filename : str
        As for :class:`roofline.engine.compiled._Deferred`.
    names : list of str
        The global names the source reads, looked up in :func:`_namespace`.
    shape_names : list of str
        Names the function takes as arguments (not looked up).
    rebuild : callable
        Builds the function afresh where this NumPy lacks a name the entry reads (one written under another).
    """

    __slots__ = ("_names", "_shape_names", "_rebuild")

    def __init__(self, source: str, filename: str, names, shape_names, rebuild: Callable[[], object]):
        super().__init__(source, filename, None)
        self._names, self._shape_names, self._rebuild = names, shape_names, rebuild

    @property
    def __globals__(self) -> dict:
        """The namespace the function runs in (what a plain function's ``__globals__`` is), without compiling it."""
        if self._ns is None:
            ns = _namespace(self._names)
            if any(n not in ns and n not in self._shape_names for n in self._names):
                self._func = self._rebuild()
                ns = self._func.__globals__
            self._ns = ns
        return self._ns

    def __call__(self, *args):
        func = self._func
        if func is None:
            ns = self.__globals__
            func = self._func
            if func is None:
                exec(compile(self._source, self._filename, "exec"), ns)  # noqa: S102 - our own signed entry, in our own 0700 folder
                func = self._func = ns["_lambdifygenerated"]
        return func(*args)


def _save_when_printed(cw, path: Path) -> None:
    """Have ``cw``'s lazy kernel source, once printed, rewrite its entry with it (a later process then finds
    it there instead of building the workload again)."""
    make = cw.__dict__.get("_fused_make")
    if make is None:
        return

    def made() -> str:
        cw.__dict__["_fused"] = text = make()
        try:
            _save(path, cw)
        except (OSError, TypeError):
            pass
        return text

    cw.fused_source = made


def _fused_of(doc: dict, path: Path, build):
    """An entry's numba kernel source, or where it was never printed (the process that built the entry never
    ran the fused path) a callable that builds the workload again, prints it and rewrites the entry."""
    src = doc.get("fused_source", "")
    if src is not None or build is None:
        return src or ""

    def make() -> str:
        cw = build()
        text = cw.fused_source
        try:
            _save(path, cw)
        except (OSError, TypeError):
            pass
        return text

    return make


def cached_compile(key: str, build: Callable[[], object]):
    """The compiled workload for ``key``: from memory, from disk, or built by ``build()`` and stored.

    The full key adds the hash of the package's source files and whether the numba evaluator is on. A disk
    entry that is broken, foreign or unsigned is ignored and rebuilt; one that cannot be written is skipped.

    Parameters
    ----------
    key : str
        Everything the expressions depend on besides the code: recipe or model, device signature, options.
    build : callable
        Builds the :class:`~roofline.engine.compiled.CompiledWorkload` when it is not cached.

    Returns
    -------
    CompiledWorkload
    """
    full = f"{_code_hash()}|evaluators={evaluators()}|{key}"
    hit = _MEM.get(full)
    if hit is not None:
        return hit
    folder = cache_dir()
    path = folder / (hashlib.sha256(full.encode()).hexdigest()[:32] + ".json") if folder else None
    cw = None
    if path is not None and path.exists():
        try:
            cw = _load(path, build)
        except (OSError, ValueError, KeyError, SyntaxError, TypeError, NameError):
            cw = None  # broken, foreign or from another version: rebuilt and overwritten below
    if cw is None:
        cw = build()
        if path is not None:
            try:
                _save(path, cw)
            except (OSError, TypeError):
                pass  # a read-only home or an unprintable function: run without the disk cache
            _save_when_printed(cw, path)
    _MEM[full] = cw
    return cw


def compile_recipe(recipe, device, overlap: str = "max", ideal: bool = False, sparse: bool = False):
    """:func:`~roofline.engine.compiled.compile_workload` for a :class:`~roofline.workloads.Recipe`,
    through the cache.

    Parameters
    ----------
    recipe : roofline.workloads.Recipe
    device : Device
    overlap : str
        ``max`` or ``sum``.
    ideal : bool
        Drop latencies.
    sparse : bool
        Use the 2:4-sparse peaks.

    Returns
    -------
    CompiledWorkload
        Cached under the recipe's key, the device's signature and the options.

    Raises
    ------
    InputError
        ``device`` publishes no peak for the recipe's compute data type (or no sparse one with ``sparse``).
    """
    mode = _overlap(overlap)
    device.peak_figure(peak_dtype(recipe.compute_dtype, device.compute) or recipe.compute_dtype, sparse)
    key = f"{recipe.key}|{device_signature(device)}|{mode}|{ideal}|{sparse}"
    return cached_compile(key, lambda: compile_workload(recipe.build(), device, mode, ideal, sparse=sparse))


def clear_memory() -> None:
    """Forget the in-process entries (the disk cache stays), and every memo registered with
    :func:`on_clear_memory` (the LLM layer's hot compiled workloads among them)."""
    _MEM.clear()
    for forget in _ON_CLEAR:
        forget()


def on_clear_memory(forget: Callable[[], None]) -> None:
    """Have :func:`clear_memory` call ``forget`` too: for a later room's memo of compiled workloads.

    Parameters
    ----------
    forget : callable
        Takes no argument; clears that memo.
    """
    if forget not in _ON_CLEAR:
        _ON_CLEAR.append(forget)


#: What :func:`clear_memory` calls besides clearing its own entries.
_ON_CLEAR: list[Callable[[], None]] = []

