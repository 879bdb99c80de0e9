"""hardware"""

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
