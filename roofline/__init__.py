"""roofline: analytical roofline and memory-wall models of AI accelerators.

Data flows one way, through rooms you can find by name (``docs/architecture.md``): spec files →
:mod:`~roofline.hardware` → :mod:`~roofline.workloads` → :mod:`~roofline.placement` →
:mod:`~roofline.engine` → :mod:`~roofline.sweep` → :mod:`~roofline.llm` → :mod:`~roofline.validation` →
:mod:`~roofline.outputs`; the physics itself is :mod:`~roofline.formulas`.

Submodules load on first use (``roofline.llm`` works after ``import roofline``), so ``import roofline``
stays light.

>>> import roofline
>>> h100 = roofline.get_device("h100")
>>> round(h100.peak("bf16") / h100.level("hbm").bandwidth_bytes_per_s, 1)   # ridge point [FLOP/B]
295.3
"""

from __future__ import annotations

import importlib

from . import _compat
from ._version import __version__
from .errors import (
    CapacityError,
    InputError,
    RooflineError,
    SpecError,
    UnknownNameError,
)
from .hardware import (
    Device,
    Figure,
    Link,
    MemoryLevel,
    get_device,
    library,
    list_devices,
    load_spec_file,
)

_compat.install()

#: rooms and leaf modules reachable as attributes, imported on first use
_SUBMODULES = ("hardware", "workloads", "placement", "engine", "sweep", "llm", "validation", "outputs",
               "formulas", "units", "dtypes", "errors", "symbols", "vocab")
#: old flat-module names still reachable as attributes (deprecated; see roofline._compat)
_OLD = {k.rpartition(".")[2]: k for k in _compat.ALIASES}

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


def __getattr__(name: str):
    if name in _SUBMODULES or name in _OLD:
        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module 'roofline' has no attribute {name!r}")


def __dir__():
    return sorted(set(__all__) | set(_SUBMODULES))
