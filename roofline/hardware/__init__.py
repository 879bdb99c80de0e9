"""hardware: spec files in, validated and immutable :class:`Device` objects out.

A device is described once, in a TOML spec file (``hardware_specs/*.toml``, ``ROOFLINE_SPEC_PATH`` or a
path given by the caller); every number carries its unit, source and basis, and derived numbers carry the
formula that computes them. This room reads those files and nothing downstream of it knows about files or
units:

========================  ===========================================================================
module                    holds
========================  ===========================================================================
:mod:`.schema`            the keys each table may hold, typed field readers, cross-section rules
                          (memory levels fastest first)
:mod:`.reader`            one reader per spec section, driven by a table; assembles the Device
:mod:`.formula`           the bounded formula interpreter: plain figures, derived figures in
                          dependency order (interval arithmetic for ranges), published cross-checks
:mod:`.figure`            :class:`Figure`: one SI number with its provenance and range
:mod:`.device`            :class:`Device`, :class:`MemoryLevel`, :class:`Link`
:mod:`.loader`            the search path, loading every spec, the private on-disk cache
:mod:`.library`           look-up by key or alias, listing, suggestions for typos
========================  ===========================================================================

Every schema problem raises :class:`~roofline.errors.SpecError` naming the file, the field and what was
expected. Two definitions live here and nowhere else: **main memory** is the fastest memory level that is
not a cache or a register file (:attr:`Device.main_memory`: HBM on a GPU, SRAM on a wafer or a Groq
chip), and a device **has ranges** when any figure is a range (:attr:`Device.is_estimate`, from
:attr:`Figure.is_range`).
"""

from __future__ import annotations

from .device import (
    BASES,
    DEVICE_KINDS,
    DTYPES,
    DUPLEX,
    MEMORY_KINDS,
    STATUSES,
    Device,
    Link,
    MemoryLevel,
)
from .figure import Figure
from .library import get_device, library, list_devices
from .loader import builtin_spec_dir, load_spec_file, load_specs, spec_search_path

__all__ = ['Figure', 'DTYPES', 'BASES', 'DEVICE_KINDS', 'MEMORY_KINDS', 'DUPLEX', 'STATUSES', 'MemoryLevel', 'Link', 'Device', 'builtin_spec_dir', 'spec_search_path', 'load_specs', 'load_spec_file', 'library', 'get_device', 'list_devices']
