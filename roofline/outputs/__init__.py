"""Outputs: text, CSV and JSON rendering, device records, comparisons, charts and the command line.

The last room: it formats what the rooms before it compute and holds no physics of its own. Submodules
load on first use so that the command line starts without matplotlib or pandas.
"""

from __future__ import annotations

import importlib

__all__ = ["format", "report", "compare", "plot", "cli"]


def __getattr__(name: str):
    if name in __all__:
        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
