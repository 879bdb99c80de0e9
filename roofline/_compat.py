"""Old import paths, kept working for one release with a :class:`DeprecationWarning`.

Before 0.2 the package was 23 flat modules; they now live in rooms (see ``docs/architecture.md``). An
import of an old path (``roofline.specs``, ``roofline.plot``...) returns the module that holds those names
now. ``roofline.engine``, ``roofline.llm``, ``roofline.workloads`` and ``roofline.sweep`` kept their names
(they are packages now) and need no alias.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.util
import sys
import warnings

__all__ = ["ALIASES", "install"]

#: old module -> the module that holds its public names now
ALIASES = {
    "roofline.specs": "roofline.hardware",
    "roofline.devices": "roofline.hardware",
    "roofline.models": "roofline.llm",
    "roofline.recipes": "roofline.workloads.recipes",
    "roofline.cache": "roofline.engine.cache",
    "roofline.fused": "roofline.engine.fused",
    "roofline.bigsweep": "roofline.llm.sweeps",
    "roofline.validate": "roofline.validation",
    "roofline.format": "roofline.outputs.format",
    "roofline.report": "roofline.outputs.report",
    "roofline.compare": "roofline.outputs.compare",
    "roofline.plot": "roofline.outputs.plot",
    "roofline.cli": "roofline.outputs.cli",
}


class _AliasLoader(importlib.abc.Loader):
    def __init__(self, target: str):
        self.target = target

    def create_module(self, spec):
        return importlib.import_module(self.target)

    def exec_module(self, module):  # the target module is already executed
        return None


class _AliasFinder(importlib.abc.MetaPathFinder):
    def find_spec(self, fullname, path=None, target=None):
        new = ALIASES.get(fullname)
        if new is None:
            return None
        warnings.warn(f"{fullname} is deprecated; import {new} instead (the old path goes in roofline 0.3)",
                      DeprecationWarning, stacklevel=3)
        return importlib.util.spec_from_loader(fullname, _AliasLoader(new))


def install() -> None:
    """Put the alias finder on ``sys.meta_path`` (once)."""
    if not any(isinstance(f, _AliasFinder) for f in sys.meta_path):
        sys.meta_path.insert(0, _AliasFinder())
