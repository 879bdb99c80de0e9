"""A disk cache of compiled (lambdified) workloads, so that a second run needs neither SymPy nor lambdify.

Each entry is the generated NumPy source of a :class:`~roofline.engine.CompiledWorkload` plus its metadata,
stored as JSON under ``$ROOFLINE_CACHE_DIR`` (default ``$XDG_CACHE_HOME/roofline`` or
``~/.cache/roofline``). The key names everything the expressions depend on — the workload recipe, the
device's *structure* (levels, links, overheads; not its numbers, which stay arguments), the options —
and a hash of the source of the modules that build expressions, so editing the model invalidates it.
``ROOFLINE_CACHE=0`` turns the disk cache off; an unreadable or foreign entry is ignored and rebuilt.
Numbers never come from the cache: only the functions that compute them.
"""

from __future__ import annotations

import builtins
import functools
import hashlib
import inspect
import json
import os
import tempfile
from functools import lru_cache
from pathlib import Path
from typing import Callable

from .._paths import cache_dir

__all__ = ['cache_dir', 'device_signature', 'cached_compile', 'clear_memory']


_MEM: dict[str, object] = {}




@lru_cache(maxsize=1)
def _code_hash() -> str:
    from .._paths import package_digest

    return package_digest()[:16]


def device_signature(device) -> str:
    """What of a device shapes its expressions: level names and kinds, links, overheads, data types."""
    return json.dumps({
        "levels": [(m.name, m.kind) for m in device.memory],
        "links": [(lk.name, lk.duplex, lk.latency is not None) for lk in device.interconnect],
        "overheads": sorted(p for p in device.figures if p.startswith("overheads.")),
        "compute": {dt: sorted(k) for dt, k in device.compute.items()},
    }, sort_keys=True)


def _namespace(names) -> dict:
    """What the generated code needs: NumPy functions by name (looked up one by one, so that NumPy's lazily
    imported submodules stay unimported) and ``reduce``."""
    import numpy as np

    ns = {"reduce": functools.reduce, "numpy": np, "builtins": builtins, "range": range}
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


def _save(path: Path, cw) -> None:
    src = inspect.getsource(cw.func)
    used = sorted(_names(cw.func.__code__))
    doc = {
        "source": src, "names": used, "labels": list(cw.labels), "shape_names": list(cw.shape_names),
        "device_paths": list(cw.device_paths), "zero_outputs": [[bool(z) for z in zs] for zs in cw.zero_outputs],
        "n_ops": cw.n_ops, "n_terms": cw.n_terms, "n_levels": cw.n_levels, "overlap": cw.overlap,
        "name": cw.name, "dtypes": list(cw.dtypes), "fused_source": cw.fused_source,
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
    with os.fdopen(fd, "w") as fh:
        json.dump(doc, fh)
    os.replace(tmp, path)


def _load(path: Path):
    from .compiled import CompiledWorkload

    with open(path) as fh:
        doc = json.load(fh)
    ns = _namespace(doc["names"])
    missing = [n for n in doc["names"] if n not in ns and n not in doc["shape_names"]]
    if missing:
        return None
    exec(compile(doc["source"], str(path), "exec"), ns)  # noqa: S102 - our own generated code
    return CompiledWorkload(
        workload=None, labels=tuple(doc["labels"]), shape_names=tuple(doc["shape_names"]),
        device_paths=tuple(doc["device_paths"]), func=ns["_lambdifygenerated"], zero_outputs=doc["zero_outputs"],
        n_ops=doc["n_ops"], n_terms=doc["n_terms"], n_levels=doc["n_levels"], overlap=doc["overlap"],
        name=doc.get("name", ""), dtypes=tuple(doc.get("dtypes", ())), fused_source=doc.get("fused_source", ""),
    )


def cached_compile(key: str, build: Callable[[], object]):
    """The compiled workload for ``key``: from memory, from disk, or built by ``build()`` and stored."""
    full = f"{_code_hash()}|{key}"
    hit = _MEM.get(full)
    if hit is not None:
        return hit
    folder = cache_dir()
    path = folder / (hashlib.sha256(full.encode()).hexdigest()[:32] + ".json") if folder else None
    cw = None
    if path is not None and path.exists():
        try:
            cw = _load(path)
        except (OSError, ValueError, KeyError, SyntaxError, TypeError):
            cw = None
    if cw is None:
        cw = build()
        if path is not None:
            try:
                _save(path, cw)
            except (OSError, TypeError):
                pass  # a read-only home or an unprintable function: run without the disk cache
    _MEM[full] = cw
    return cw


def clear_memory() -> None:
    """Forget the in-process entries (the disk cache stays)."""
    _MEM.clear()

