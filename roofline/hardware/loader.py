"""Find spec files, load them into devices, and keep a cache of validated devices.

:func:`load_specs` reads every spec on the search path (the built-in ``hardware_specs/`` folder, then
``ROOFLINE_SPEC_PATH``, then the caller's paths), refuses a key or alias used twice, builds each device's
part before the device composed of it, and returns ``{key: Device}``. :func:`load_spec_file` reads one file.

A validated device is cached as JSON (data only, never code) in the user's private cache folder, keyed by
the package's source, the file's path and bytes, and its part's key, so that a warm run parses no units
(pint is slow to import). A cached file is read only when it is a regular file owned by the current user
and writable by nobody else; it is written atomically (a temporary file beside it, then a rename). The
parsed TOML of each spec file is cached the same way, keyed by its bytes, so that a warm run reads no TOML.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Iterable, Mapping

from ..errors import SpecError, suggest
from .device import Device
from .figure import Figure
from .reader import _assemble, _build_device
from .schema import _ident, _read_toml, _str_list, _table

__all__ = ['builtin_spec_dir', 'spec_search_path', 'load_specs', 'load_spec_file', 'SpecSet']


# ----------------------------------------------------------------------------------------------------
# finding and loading spec files
# ----------------------------------------------------------------------------------------------------
def builtin_spec_dir() -> Path:
    """The spec folder shipped with the package (in a wheel) or at the top of a source checkout.

    Returns
    -------
    pathlib.Path
        The ``hardware_specs`` folder.
    """
    from .._paths import data_dir

    return data_dir("hardware_specs")


def spec_search_path(extra: Iterable[str | os.PathLike] = ()) -> list[Path]:
    """Spec files and folders, in order: the built-in library, ``ROOFLINE_SPEC_PATH``, then ``extra``.

    Parameters
    ----------
    extra : iterable of str or path-like
        More spec files or folders, searched last.

    Returns
    -------
    list of pathlib.Path
    """
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

    Parameters
    ----------
    extra : iterable of str or path-like
        More spec files or folders, after the built-in library and ``ROOFLINE_SPEC_PATH``.

    Returns
    -------
    dict of str to Device
        Every device by key, in the order the files were found.

    Raises
    ------
    SpecError
        For the first file that breaks the schema, or a key / alias used twice (naming both files).
    """
    return SpecSet(extra).all()


class SpecSet:
    """The spec files of a search path, read and checked for names used twice; devices built on demand.

    Reading every file (from the TOML cache when warm) is enough to know every key and alias; a device
    (and the part it is composed of) is built, or read from the device cache, only when asked for, so that
    a look-up of one device parses the units of one file, not of every file.

    Parameters
    ----------
    extra : iterable of str or path-like
        More spec files or folders (see :func:`load_specs`).
    index : str, optional
        The stamps of the search path (:func:`roofline.hardware.library.path_stamps`), as text: the key of a
        name index in the private cache, so that a later process with the same files knows every name
        without reading every document.

    Raises
    ------
    SpecError
        A file that cannot be read or names no device, or a key or alias used twice.
    """

    def __init__(self, extra: Iterable[str | os.PathLike] = (), index: str | None = None):
        files = _spec_files(spec_search_path(extra))
        known = _read_index(index, files)
        if known is not None:  # the names of these very files, from the cache: a document is read when asked
            self.docs, self.names = _LazyDocs(known["files"]), known["names"]
        else:
            self.docs = _read_documents(files)
            #: every key and alias, lower-cased, to its device's key
            self.names = {n.lower(): key for key, (_, doc) in self.docs.items()
                          for n in (key, *doc["device"].get("aliases", ()))}
            _store_index(index, self.docs, self.names)
        self.devices: dict[str, Device] = {}
        self._digests: dict[str, str] = {}

    def get(self, key: str) -> Device:
        """The device ``key`` (a key of :attr:`docs`), built once.

        Parameters
        ----------
        key : str

        Returns
        -------
        Device
        """
        return _load_one(key, self.docs, self.devices, self._digests, ())

    def all(self) -> dict[str, Device]:
        """Every device, in the order the files were found.

        Returns
        -------
        dict of str to Device
        """
        for key in self.docs:
            self.get(key)
        return {key: self.devices[key] for key in self.docs}


class _LazyDocs(Mapping):
    """``{key: (file, parsed TOML)}`` of a name index (:func:`_read_index`): each document read when first asked."""

    def __init__(self, files: list):
        self._files = {key: Path(f) for key, f in files}
        self._docs: dict[str, tuple[Path, dict]] = {}

    def __getitem__(self, key: str) -> tuple[Path, dict]:
        hit = self._docs.get(key)
        if hit is None:
            f = self._files[key]
            hit = self._docs[key] = (f, _read_toml_cached(f))
        return hit

    def __contains__(self, key) -> bool:
        return key in self._files

    def __iter__(self):
        return iter(self._files)

    def __len__(self) -> int:
        return len(self._files)


def _index_name(index: str) -> str:
    import hashlib

    from .._paths import package_digest

    return f"names-{hashlib.sha256(f'{package_digest()}|{index}'.encode()).hexdigest()[:32]}.json"


def _read_index(index: str | None, files: list[Path]) -> dict | None:
    """The name index stored for ``index`` (the stamps of every file and folder of the search path, which
    change with any edit, addition or removal): every key's file and every name's key, as the full read of
    those files found them (duplicates refused then); None when there is none, or it lists other files."""
    folder = _spec_cache() if index is not None else None
    if folder is None:
        return None
    doc = _read_private_json(folder / _index_name(index))
    if not isinstance(doc, dict) or sorted(f for _, f in doc.get("files", ())) != sorted(map(str, files)):
        return None
    return doc


def _store_index(index: str | None, docs: dict, names: dict) -> None:
    if index is not None and _spec_cache() is not None:
        _store_json(_index_name(index), {"files": [[key, str(f)] for key, (f, _) in docs.items()], "names": names})


def _read_documents(files: list[Path]) -> dict[str, tuple[Path, dict]]:
    """``{key: (file, parsed TOML)}``; a key or alias (case-insensitive) used twice is an error."""
    docs: dict[str, tuple[Path, dict]] = {}
    names: dict[str, Path] = {}
    for f, doc in zip(files, _parsed_all(files)):
        dev = _table(doc, "device", f, "device")
        key = _ident(dev, "key", f, "device.key", pattern="key")
        for name in [key, *_str_list(dev, "aliases", f, "device.aliases")]:
            lname = name.lower()
            if lname in names:
                raise SpecError(f, "device.key" if name == key else "device.aliases",
                                f"duplicate device key or alias {name!r}: already used by {names[lname]}")
            names[lname] = f
        docs[key] = (f, doc)
    return docs


def _parsed_all(files: list[Path]) -> list[dict]:
    """The parsed TOML of each of ``files``: from one cache entry for all their exact bytes when it exists (a
    warm run opens one entry, not one per file), else each through :func:`_read_toml_cached`, then stored as
    one entry."""
    import hashlib

    folder = _spec_cache()
    try:
        blobs = [f.read_bytes() for f in files] if folder is not None else None
    except OSError:
        blobs = None
    if blobs is None:
        return [_read_toml_cached(f) for f in files]  # no cache, or a file's own error
    h = hashlib.sha256()
    for f, b in zip(files, blobs):
        h.update(str(f).encode() + b"\0" + hashlib.sha256(b).digest())
    name = f"tomlset-{h.hexdigest()[:32]}.json"
    docs = _read_private_json(folder / name)
    if isinstance(docs, list) and len(docs) == len(files) and all(isinstance(d, dict) for d in docs):
        return docs
    docs = [parsed_toml(b, lambda f=f: _read_toml(f)) for f, b in zip(files, blobs)]
    _store_if_faithful(name, docs)
    return docs


def _load_one(key: str, docs: dict, devices: dict[str, Device], digests: dict[str, str],
              stack: tuple[str, ...]) -> Device:
    """The device ``key``, its part first; from the cache when a valid entry exists, else built and cached."""
    if key in devices:
        return devices[key]
    f, doc = docs[key]
    part = None
    pkey = _part_key(f, doc, docs, stack + (key,))
    if pkey is not None:
        part = _load_one(pkey, docs, devices, digests, stack + (key,))
    digest = _file_digest(f, digests.get(pkey, "") if pkey is not None else "")
    digests[key] = digest
    dev = _cached_device(digest)
    if dev is None:
        dev = _build_device(f, doc, part)
        _store_device(digest, dev)
    devices[key] = dev
    return dev


def _part_key(f: Path, doc: dict, docs: dict, chain: tuple[str, ...]) -> str | None:
    """The key of the part named by ``[composition]``, checked to exist and not to loop back."""
    comp = doc.get("composition")
    if not (isinstance(comp, dict) and isinstance(comp.get("part"), str)):
        return None
    pkey = comp["part"]
    if pkey not in docs:
        hint = suggest(pkey, docs)
        raise SpecError(f, "composition.part", f"unknown device {pkey!r}"
                        + (f"; did you mean {hint[0]!r}?" if hint else ""))
    if pkey in chain:
        raise SpecError(f, "composition.part", f"circular composition {' -> '.join(chain + (pkey,))}")
    return pkey


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


def _topology_json(t) -> dict | None:
    if t is None:
        return None
    return {"kind": str(t.kind), "dimensions": list(t.dimensions), "basis": t.basis, "sources": list(t.sources),
            "note": t.note}


def _spec_cache() -> Path | None:
    """The folder of cached devices (``<cache>/specs``), or None: cache off or refused."""
    from .._paths import cache_dir

    folder = cache_dir()
    return None if folder is None else folder / "specs"


def _private(st: os.stat_result, folder: bool = False) -> bool:
    """True for a regular file (or a folder, not a link) owned by this user and writable by nobody else."""
    kind_ok = stat.S_ISDIR(st.st_mode) if folder else stat.S_ISREG(st.st_mode)
    owner_ok = not hasattr(os, "getuid") or st.st_uid == os.getuid()
    return kind_ok and owner_ok and not st.st_mode & (stat.S_IWGRP | stat.S_IWOTH)


def _read_toml_cached(f: Path) -> dict:
    """The parsed TOML of spec file ``f``, from the cache when an entry for its exact bytes exists (a warm
    run parses no TOML either: reading the 25 shipped specs with ``tomllib`` costs more than the rest of a
    warm ``roofline llm``); else parsed and stored (:func:`parsed_toml`)."""
    try:
        data = f.read_bytes() if _spec_cache() is not None else None
    except OSError:
        data = None
    if data is None:
        return _read_toml(f)  # no cache, or the file's own error
    return parsed_toml(data, lambda: _read_toml(f))


def parsed_toml(data: bytes, parse) -> dict:
    """The TOML document of ``data`` from the private cache (JSON, data only, keyed by the SHA-256 of the
    bytes), else ``parse()``, stored for the next run.

    Parameters
    ----------
    data : bytes
        The file's bytes.
    parse : callable
        Parses them (and raises the caller's own error for a broken file); called only on a miss.

    Returns
    -------
    dict
    """
    import hashlib

    folder = _spec_cache()
    if folder is None:
        return parse()
    name = f"toml-{hashlib.sha256(data).hexdigest()[:32]}.json"
    doc = _read_private_json(folder / name)
    if isinstance(doc, dict):
        return doc
    doc = parse()
    _store_if_faithful(name, doc)
    return doc


def _store_if_faithful(name: str, doc) -> None:
    """Cache ``doc`` under ``name`` when JSON gives it back unchanged (dates and times do not survive JSON: such a
    document is not cached)."""
    import json

    try:
        text = json.dumps(doc)
        if json.loads(text) == doc:
            _store_json(name, doc, text)
    except (TypeError, ValueError):
        pass


def _store_device(digest: str, dev: Device) -> None:
    """Write ``dev`` as JSON under ``digest``, atomically; any failure only means no cache entry."""
    doc = {
        "key": dev.key, "name": dev.name, "vendor": dev.vendor, "kind": dev.kind, "file": dev.file,
        "aliases": list(dev.aliases), "year": dev.year, "process": dev.process, "status": dev.status,
        "summary": dev.summary, "sources": {k: dict(v) for k, v in dev.sources.items()},
        "figures": {p: _fig_json(f) for p, f in dev.figures.items()},
        "compute": {dt: list(k) for dt, k in dev.compute.items()},
        "memory": [[m.name, m.label, m.kind] for m in dev.memory],
        "interconnect": [[lk.name, lk.label, lk.duplex, _topology_json(lk.topology)] for lk in dev.interconnect],
        "composition": list(dev.composition) if dev.composition else None,
    }
    _store_json(f"{digest}.json", doc)


def _store_json(name: str, doc: dict | list, text: str | None = None) -> None:
    """Write ``doc`` (already as JSON: ``text``) as ``name`` in the spec cache, atomically; any failure only means no
    cache entry. The text is made in one piece (``json.dumps``, the C encoder): ``json.dump`` to a file runs
    the pure-Python encoder, ~5x slower, which was a third of a cold look-up of two devices."""
    import json
    import tempfile

    folder = _spec_cache()
    if folder is None:
        return
    tmp = None
    try:
        folder.mkdir(mode=0o700, exist_ok=True)
        if not _private(os.lstat(folder), folder=True):
            return
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{name}.", suffix=".tmp")  # mode 0600
        with os.fdopen(fd, "w") as fh:
            fh.write(json.dumps(doc) if text is None else text)
        os.replace(tmp, folder / name)
        tmp = None
    except OSError:
        pass
    finally:
        if tmp is not None:
            try:
                os.unlink(tmp)
            except OSError:
                pass


def _read_private_json(p: Path):
    """The JSON in ``p`` when it is a regular file owned by this user and writable by nobody else, in a
    folder that is too; else None (the file is then not opened at all)."""
    import json

    try:
        if not _private(os.lstat(p.parent), folder=True):
            return None
        st = os.lstat(p)
        if not _private(st):
            return None
        fd = os.open(p, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
        with os.fdopen(fd) as fh:
            now = os.fstat(fh.fileno())
            if (now.st_dev, now.st_ino) != (st.st_dev, st.st_ino) or not _private(now):
                return None  # replaced between the check and the open
            return json.load(fh)
    except (OSError, ValueError):
        return None


def _cached_device(digest: str) -> Device | None:
    """The cached device stored under ``digest``, or None: no entry, an unsafe file, or unreadable data."""
    folder = _spec_cache()
    if folder is None:
        return None
    d = _read_private_json(folder / f"{digest}.json")
    if d is None:
        return None
    try:
        figs = {k: _fig_from(v) for k, v in d["figures"].items()}
        identity = {k: d[k] for k in ("key", "name", "vendor", "kind", "file", "year", "process", "status", "summary")}
        identity["aliases"] = tuple(d["aliases"])
        return _assemble(identity, d["sources"], d["compute"], d["memory"], d["interconnect"], figs, d["composition"])
    except (ValueError, KeyError, TypeError, AttributeError):
        return None


def load_spec_file(path: str | os.PathLike, part: Device | None = None) -> Device:
    """Load one spec file (never from the cache).

    Parameters
    ----------
    path : str or path-like
        The spec file.
    part : Device, optional
        The device its ``[composition]`` names; looked up among :func:`load_specs` when not given.

    Returns
    -------
    Device

    Raises
    ------
    SpecError
        If the file breaks the schema, or its part is unknown.
    """
    f = Path(path)
    doc = _read_toml(f)
    comp = doc.get("composition")
    if part is None and isinstance(comp, dict) and isinstance(comp.get("part"), str):
        lib = load_specs()
        if comp["part"] not in lib:
            raise SpecError(f, "composition.part", f"unknown device {comp['part']!r}")
        part = lib[comp["part"]]
    return _build_device(f, doc, part)

