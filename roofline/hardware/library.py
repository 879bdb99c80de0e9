"""The device library: every known device, found by key or alias, listed, with near names for typos.

The spec files are read once per distinct search path (and again when a spec file or folder on it changes)
into a :class:`~roofline.hardware.loader.SpecSet`, which builds a device only when it is asked for: a
look-up by name builds one device (and its part), :func:`library` every one. A name asked before is
answered after a stat of the files its device rests on (:func:`get_device`).
"""

from __future__ import annotations

import os
import stat
from typing import Iterable

from .. import _paths
from ..errors import find_by_name
from .device import Device
from .loader import SpecSet, spec_search_path
from .measured import DATASHEET_SUFFIX, ESTIMATE_SUFFIX, datasheet_pinned, estimate_device

__all__ = ['library', 'get_device', 'list_devices', 'file_stamp', 'path_stamps']


_cache: dict[tuple, SpecSet] = {}


def library(spec_paths: Iterable[str | os.PathLike] = ()) -> dict[str, Device]:
    """Every known device, ``{key: Device}``: the built-in specs, ``ROOFLINE_SPEC_PATH`` and ``spec_paths``.

    Loaded once per distinct search path and cached in memory until a file on the path changes.

    Parameters
    ----------
    spec_paths : iterable of str or path-like
        More spec files or folders, searched last.

    Returns
    -------
    dict of str to Device

    Raises
    ------
    SpecError
        For the first spec file that breaks the schema.
    """
    return _spec_set(tuple(str(p) for p in spec_paths) if spec_paths else ()).all()


def _spec_set(extra: tuple[str, ...]) -> SpecSet:
    """The :class:`~roofline.hardware.loader.SpecSet` of the search path, read again when a file on it changes."""
    paths = _search_path(extra)
    stamp = tuple((p, path_stamps(p)) for p in paths)
    hit = _cache.get(stamp)
    if hit is None:
        _cache.clear()
        _by_name.clear()
        hit = _cache[stamp] = SpecSet(extra, index=repr(stamp))
    return hit


def _search_path(extra: tuple[str, ...]) -> tuple[str, ...]:
    """:func:`spec_search_path` as strings, worked out once per ``ROOFLINE_SPEC_PATH`` and ``extra``."""
    key = (tuple(str(p) for p in _paths.spec_paths()), extra)
    hit = _paths_cache.get(key)
    if hit is None:
        if len(_paths_cache) >= 64:
            _paths_cache.clear()
        hit = _paths_cache[key] = tuple(str(p) for p in spec_search_path(extra))
    return hit


_paths_cache: dict[tuple, tuple[str, ...]] = {}


def file_stamp(p: str) -> tuple[int, int, int, int] | None:
    """What changes when a file or folder is edited, replaced, added to or removed from: its inode, size,
    modification and status-change times [ns] (None: missing). The status-change time cannot be set back by
    a user, so an edit within one tick of the modification time, or one that restores it, is still seen.

    Parameters
    ----------
    p : str
        A path.

    Returns
    -------
    tuple of int, or None
    """
    try:
        return _stamp_of(os.stat(p))
    except OSError:
        return None


def _stamp_of(st: os.stat_result) -> tuple[int, int, int, int]:
    return (st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)


def path_stamps(p: str, suffixes: tuple[str, ...] = (".toml",)) -> tuple:
    """The stamps (:func:`file_stamp`) of a file, or of a folder and every file in it whose name ends in one
    of ``suffixes``.

    A folder's list of files is read again only when the folder's own stamp changes (a file added, removed
    or renamed into it); every file is still looked at each time, so an edit in place is seen.

    Parameters
    ----------
    p : str
        A file or folder.
    suffixes : tuple of str
        The endings of the names of the files of a folder that count.

    Returns
    -------
    tuple
        The path's own stamp first (None: missing), then one per file of a folder.
    """
    try:
        st = os.stat(p)
    except OSError:
        return (None,)
    own = _stamp_of(st)
    if not stat.S_ISDIR(st.st_mode):
        return (own,)
    listed = _listing.get((p, suffixes))
    if listed is None or listed[0] != own:
        try:
            names = tuple(sorted(os.path.join(p, e.name) for e in os.scandir(p) if e.name.endswith(suffixes)))
        except OSError:
            names = ()
        listed = _listing[(p, suffixes)] = (own, names)
    return (own, *(file_stamp(f) for f in listed[1]))


#: the files of each folder seen (by folder and suffixes), with the folder's stamp when they were listed
_listing: dict[tuple, tuple[tuple, tuple[str, ...]]] = {}

#: ``{(name, search path): (device, ((path, stamp), ...))}``: a look-up by name answered without loading the
#: library, valid while every path it names has the same stamp (see :func:`_quick`)
_by_name: dict[tuple, tuple[Device, tuple]] = {}


def _quick(name: str, spec_paths) -> Device | None:
    """The device ``name`` from the look-up memo, or None (not asked before, or something it rests on changed).

    A device rests on its spec file, the files of its part (``[composition]``) and the folders of the search
    path; each is stat-ed (a call or two, not one per spec file). While those stamps hold, the library would
    give the same device: a key or alias used by two files is refused, so another file cannot take the name
    without a folder changing or the library refusing to load. (An in-place edit of an unrelated spec file
    is seen by the next look-up that needs it: that device's, :func:`library` or :func:`list_devices`.)"""
    hit = _by_name.get((name, spec_paths))
    if hit is None:
        return None
    for p, was in hit[1]:
        if file_stamp(p) != was:
            return None
    return hit[0]


def _remember(name: str, spec_paths, dev: Device, devices: dict[str, Device], paths: tuple[str, ...]) -> None:
    """Store ``dev`` as the answer for ``name`` in :data:`_by_name` with the stamps it rests on."""
    files = [*paths]
    part: Device | None = dev
    while part is not None and part.file not in files:
        files.append(part.file)
        part = devices.get(part.composition[0]) if part.composition else None
    if len(_by_name) >= 256:
        _by_name.clear()
    _by_name[(name, spec_paths)] = (dev, tuple((p, file_stamp(p)) for p in files))


def get_device(name: str | Device, spec_paths: Iterable[str | os.PathLike] = ()) -> Device:
    """The device whose key or alias is ``name`` (case-insensitive).

    Parameters
    ----------
    name : str or Device
        A key or alias (``"h100"``, ``"H100-SXM"``); a Device is returned as it is. A name ending in
        ``@estimate`` (``"h100@estimate"``) gives the device with the estimate's ceilings
        (:func:`roofline.hardware.measured.estimate_device`); one ending in ``@datasheet`` the device whose
        estimate reads the datasheet's rates (:func:`roofline.hardware.measured.datasheet_pinned`).
    spec_paths : iterable of str or path-like
        More spec files or folders to search.

    Returns
    -------
    Device

    Raises
    ------
    UnknownNameError
        Naming the nearest keys: ``unknown device 'h1000'; did you mean 'h100'?``
    """
    if isinstance(name, Device):
        return name
    if isinstance(name, str) and name.endswith(ESTIMATE_SUFFIX):
        return estimate_device(get_device(name[:-len(ESTIMATE_SUFFIX)], spec_paths))
    if isinstance(name, str) and name.endswith(DATASHEET_SUFFIX):
        return datasheet_pinned(get_device(name[:-len(DATASHEET_SUFFIX)], spec_paths))
    want, extra = str(name).strip().lower(), tuple(str(p) for p in spec_paths) if spec_paths else ()
    where = (extra, tuple(map(str, _paths.spec_paths())))
    hit = _quick(want, where)
    if hit is not None:
        return hit
    specs = _spec_set(extra)
    key = specs.names.get(want)
    if key is None:
        return find_by_name("device", name, specs.all().values())
    hit = specs.get(key)
    _remember(want, where, hit, specs.devices, _search_path(extra))
    return hit


def list_devices(spec_paths: Iterable[str | os.PathLike] = ()) -> list[Device]:
    """All devices, sorted by vendor then key.

    Parameters
    ----------
    spec_paths : iterable of str or path-like
        More spec files or folders to search.

    Returns
    -------
    list of Device
    """
    return sorted(library(spec_paths).values(), key=lambda d: (d.vendor.lower(), d.key))

