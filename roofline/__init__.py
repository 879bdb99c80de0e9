"""roofline: analytical roofline and memory-wall models of AI accelerators.

Data flows one way: spec files → :mod:`~roofline.devices` → :mod:`~roofline.workloads` →
:mod:`~roofline.engine` → :mod:`~roofline.sweep` → tables, charts, CLI, notebooks.

>>> import roofline
>>> h100 = roofline.get_device("h100")
>>> h100.peak("bf16") / h100.level("hbm").bandwidth_bytes_per_s   # ridge point [FLOP/B]
295.34328358208955
"""

from __future__ import annotations

__version__ = "0.1.0"

from .devices import get_device, library, list_devices
from .errors import CapacityError, InputError, RooflineError, SpecError, UnknownNameError
from .specs import Device, Figure, Link, MemoryLevel, load_spec_file
from . import report  # noqa: E402  (plain dicts for notebooks and the CLI)

__all__ = [
    "__version__",
    "get_device",
    "list_devices",
    "library",
    "load_spec_file",
    "Device",
    "Figure",
    "MemoryLevel",
    "Link",
    "RooflineError",
    "SpecError",
    "UnknownNameError",
    "InputError",
    "CapacityError",
]
