"""Load and validate device spec files (``hardware_specs/*.toml``) into immutable :class:`Device` objects.

The spec format is described in ``docs/spec-format.md``. Units are parsed here, once, with pint (see
:mod:`roofline.units`); derived figures are computed here from their formulas; and every schema problem
raises :class:`~roofline.errors.SpecError` naming the file, the field and what was expected. Nothing
downstream of this module knows about files or units.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Iterable

from ..errors import SpecError
from .device import Device
from .figure import Figure
from .reader import _assemble, _build_device
from .schema import _ident, _read_toml, _str_list, _table

__all__ = ['builtin_spec_dir', 'spec_search_path', 'load_specs', 'load_spec_file']


# ----------------------------------------------------------------------------------------------------
# loading
# ----------------------------------------------------------------------------------------------------
def builtin_spec_dir() -> Path:
    """The spec folder shipped with the package (in a wheel) or at the top of a source checkout."""
    from .._paths import data_dir

    return data_dir("hardware_specs")


def spec_search_path(extra: Iterable[str | os.PathLike] = ()) -> list[Path]:
    """Spec files and folders, in order: the built-in library, ``ROOFLINE_SPEC_PATH``, then ``extra``."""
    paths = [builtin_spec_dir()]
    from .._paths import spec_paths

    paths += spec_paths()
    paths += [Path(p) for p in extra]
    return paths


def _spec_files(paths: Iterable[Path]) -> list[Path]:
    files: list[Path] = []
    for p in paths:
        if p.is_dir():
            files += sorted(p.glob("*.toml"))
        elif p.is_file():
            files.append(p)
        else:
            raise SpecError(p, "", "no such spec file or folder")
    return files


def load_specs(extra: Iterable[str | os.PathLike] = ()) -> dict[str, Device]:
    """Load every spec on the search path (see :func:`spec_search_path`) into ``{key: Device}``.

    Raises
    ------
    SpecError
        For the first file that breaks the schema, or a key / alias used twice (naming both files).
    """
    files = _spec_files(spec_search_path(extra))
    raw: dict[str, tuple[Path, dict]] = {}
    names: dict[str, Path] = {}
    for f in files:
        doc = _read_toml(f)
        dev = _table(doc, "device", f, "device")
        key = _ident(dev, "key", f, "device.key", pattern="key")
        for name in [key, *_str_list(dev, "aliases", f, "device.aliases")]:
            lname = name.lower()
            if lname in names:
                raise SpecError(f, "device.key" if name == key else "device.aliases",
                                f"duplicate device key or alias {name!r}: already used by {names[lname]}")
            names[lname] = f
        raw[key] = (f, doc)
    devices: dict[str, Device] = {}
    hashes: dict[str, str] = {}

    def build(key: str, stack: tuple[str, ...] = ()) -> Device:
        if key in devices:
            return devices[key]
        f, doc = raw[key]
        part = None
        comp = doc.get("composition")
        if isinstance(comp, dict) and isinstance(comp.get("part"), str):
            pkey = comp["part"]
            if pkey not in raw:
                from ..errors import suggest

                hint = suggest(pkey, raw)
                raise SpecError(f, "composition.part", f"unknown device {pkey!r}"
                                + (f"; did you mean {hint[0]!r}?" if hint else ""))
            if pkey in stack:
                raise SpecError(f, "composition.part", f"circular composition {' -> '.join(stack + (pkey,))}")
            part = build(pkey, stack + (key,))
        digest = _file_digest(f, hashes.get(part.key, "") if part is not None else "")
        hashes[key] = digest
        dev = _cached_device(digest)
        if dev is None:
            dev = _build_device(f, doc, part)
            _store_device(digest, dev)
        devices[key] = dev
        return dev

    for key in raw:
        build(key)
    return devices


# ----------------------------------------------------------------------------------------------------
# a cache of validated devices, so that a warm run parses no units (pint is slow to import)
# ----------------------------------------------------------------------------------------------------
def _file_digest(f: Path, part_digest: str) -> str:
    import hashlib

    from .._paths import package_digest

    h = hashlib.sha256()
    h.update(package_digest().encode())
    h.update(str(f.resolve()).encode())
    h.update(f.read_bytes())
    h.update(part_digest.encode())
    return h.hexdigest()[:32]


def _fig_json(fig: Figure) -> dict:
    return dict(fig.__dict__, sources=list(fig.sources))


def _fig_from(d: dict) -> Figure:
    return Figure(**{**d, "sources": tuple(d["sources"])})


def _store_device(digest: str, dev: Device) -> None:
    import json
    import tempfile

    from .._paths import cache_dir

    folder = cache_dir()
    if folder is None:
        return
    doc = {
        "key": dev.key, "name": dev.name, "vendor": dev.vendor, "kind": dev.kind, "file": dev.file,
        "aliases": list(dev.aliases), "year": dev.year, "process": dev.process, "status": dev.status,
        "summary": dev.summary, "sources": {k: dict(v) for k, v in dev.sources.items()},
        "figures": {p: _fig_json(f) for p, f in dev.figures.items()},
        "compute": {dt: list(k) for dt, k in dev.compute.items()},
        "memory": [[m.name, m.label, m.kind] for m in dev.memory],
        "interconnect": [[lk.name, lk.label, lk.duplex] for lk in dev.interconnect],
        "composition": list(dev.composition) if dev.composition else None,
    }
    try:
        folder = folder / "specs"
        folder.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=folder, suffix=".tmp")
        with os.fdopen(fd, "w") as fh:
            json.dump(doc, fh)
        os.replace(tmp, folder / f"{digest}.json")
    except OSError:
        pass


def _cached_device(digest: str) -> Device | None:
    import json

    from .._paths import cache_dir

    folder = cache_dir()
    if folder is None:
        return None
    p = folder / "specs" / f"{digest}.json"
    if not p.exists():
        return None
    try:
        with open(p) as fh:
            d = json.load(fh)
        figs = {k: _fig_from(v) for k, v in d["figures"].items()}
        identity = {k: d[k] for k in ("key", "name", "vendor", "kind", "file", "year", "process", "status", "summary")}
        identity["aliases"] = tuple(d["aliases"])
        return _assemble(identity, d["sources"], d["compute"], d["memory"], d["interconnect"], figs, d["composition"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def load_spec_file(path: str | os.PathLike, part: Device | None = None) -> Device:
    """Load one spec file. A ``[composition]`` part is looked up in the library unless given."""
    f = Path(path)
    doc = _read_toml(f)
    comp = doc.get("composition")
    if part is None and isinstance(comp, dict) and isinstance(comp.get("part"), str):
        lib = load_specs()
        if comp["part"] not in lib:
            raise SpecError(f, "composition.part", f"unknown device {comp['part']!r}")
        part = lib[comp["part"]]
    return _build_device(f, doc, part)

