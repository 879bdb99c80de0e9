"""Outputs: what the rooms before it compute, rendered for people: text, CSV and JSON, records, comparisons,
charts and the command line.

The last room; it holds no physics of its own (main memory is :attr:`~roofline.hardware.Device.main_memory`,
"has ranges" :attr:`~roofline.hardware.Device.is_estimate`, derived figures come from
:mod:`roofline.formulas` evaluated at the corners of :mod:`roofline.engine.corners`).

==================  ===================================================================================
module              holds
==================  ===================================================================================
``format``          SI floats as text (``"3.35 TB/s"``), rows as a table, Markdown, CSV or JSON
``report``          device, model and roofline-point records (``list``, ``show``, ``models``)
``compare``         devices side by side: figures, balance and workloads (``compare``)
``plot``            charts, the only module that imports matplotlib
``html``            the report: one self-contained HTML file (or PDF, or Markdown) (``report``)
``trends``          the memory-wall data file, read into SI floats
``cli``             the command line, one module per command (``cli/commands/``)
==================  ===================================================================================

Submodules load on first use, so that the command line starts without matplotlib or pandas.
"""

from __future__ import annotations

import importlib

__all__ = ["format", "report", "compare", "plot", "html", "trends", "cli"]


def __getattr__(name: str):
    if name in __all__:
        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
