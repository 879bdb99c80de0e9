"""The device library: every known device, found by key or alias, listed, with near names for typos.

The library is loaded once per distinct search path (and reloaded when a spec file or folder on it
changes) from :func:`roofline.hardware.load_specs`.
"""

from __future__ import annotations

import os
from typing import Iterable

from ..errors import find_by_name
from .device import Device
from .loader import load_specs, spec_search_path
from .measured import DATASHEET_SUFFIX, ESTIMATE_SUFFIX, datasheet_pinned, estimate_device

__all__ = ['library', 'get_device', 'list_devices']


_cache: dict[tuple, dict[str, Device]] = {}


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
    paths = tuple(str(p) for p in spec_search_path(spec_paths))
    stamp = tuple((p, _mtime(p)) for p in paths)
    if stamp not in _cache:
        _cache.clear()
        _cache[stamp] = load_specs(spec_paths)
    return _cache[stamp]


def _mtime(p: str) -> float:
    try:
        st = os.stat(p)
        if os.path.isdir(p):
            return max([st.st_mtime] + [e.stat().st_mtime for e in os.scandir(p) if e.name.endswith(".toml")])
        return st.st_mtime
    except OSError:
        return -1.0


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
    return find_by_name("device", name, library(spec_paths).values())


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

