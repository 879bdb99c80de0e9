"""The device library: every known device, found by key or alias, listed, with near names for typos.

The library is loaded once per distinct search path (and reloaded when a spec file or folder on it
changes) from :func:`roofline.hardware.load_specs`.
"""

from __future__ import annotations

import os
import stat
from typing import Iterable

from ..errors import find_by_name
from .device import Device
from .loader import load_specs, spec_search_path
from .measured import DATASHEET_SUFFIX, ESTIMATE_SUFFIX, datasheet_pinned, estimate_device

__all__ = ['library', 'get_device', 'list_devices']


_cache: dict[tuple, tuple[dict[str, Device], dict[str, Device]]] = {}


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
    return _library_and_index(spec_paths)[0]


def _library_and_index(spec_paths: Iterable[str | os.PathLike] = ()) -> tuple[dict[str, Device], dict[str, Device]]:
    """The library and an index of it by lower-case key and alias (see :func:`library`)."""
    paths = _search_path(tuple(str(p) for p in spec_paths))
    stamp = tuple((p, _mtime(p)) for p in paths)
    hit = _cache.get(stamp)
    if hit is None:
        _cache.clear()
        devices = load_specs(spec_paths)
        index: dict[str, Device] = {}
        for dev in reversed(list(devices.values())):  # the first device that has a name wins, as in find_by_name
            for name in (dev.key, *dev.aliases):
                index[name.lower()] = dev
        hit = _cache[stamp] = (devices, index)
    return hit


def _search_path(extra: tuple[str, ...]) -> tuple[str, ...]:
    """:func:`spec_search_path` as strings, worked out once per ``ROOFLINE_SPEC_PATH`` and ``extra``."""
    from .._paths import spec_paths

    key = (tuple(str(p) for p in spec_paths()), extra)
    hit = _paths_cache.get(key)
    if hit is None:
        if len(_paths_cache) >= 64:
            _paths_cache.clear()
        hit = _paths_cache[key] = tuple(str(p) for p in spec_search_path(extra))
    return hit


_paths_cache: dict[tuple, tuple[str, ...]] = {}


def _mtime(p: str) -> float:
    """The latest modification time of a spec file, or of a folder and the spec files in it (-1: missing).

    A folder's list of spec files is read again only when the folder's own time changes (a file added,
    removed or renamed into it); every file is still looked at each time, so an edit in place is seen."""
    try:
        st = os.stat(p)
        if not stat.S_ISDIR(st.st_mode):
            return st.st_mtime
        listed = _listing.get(p)
        if listed is None or listed[0] != st.st_mtime_ns:
            names = tuple(os.path.join(p, e.name) for e in os.scandir(p) if e.name.endswith(".toml"))
            listed = _listing[p] = (st.st_mtime_ns, names)
        return max([st.st_mtime] + [os.stat(f).st_mtime for f in listed[1]])
    except OSError:
        return -1.0


#: spec files of each folder seen, with the folder's time when they were listed
_listing: dict[str, tuple[int, tuple[str, ...]]] = {}


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
    devices, index = _library_and_index(spec_paths)
    hit = index.get(str(name).strip().lower())
    return hit if hit is not None else find_by_name("device", name, devices.values())


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

