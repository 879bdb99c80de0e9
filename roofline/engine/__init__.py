"""The engine room: time terms and bounds, from SymPy expressions to NumPy and numba over whole grids.

Given a :class:`~roofline.workloads.Workload` and a :class:`~roofline.hardware.Device`, the engine turns each
op into time terms (compute, one per memory level, one per link used, latency), combines them by the
overlap model (``max``: the roofline; ``sum``: no overlap) and sums the ops:

.. math:: T = \\sum_i c_i \\max\\big(t_{\\text{compute},i},\\; t_{\\text{memory},i},\\;
          t_{\\text{interconnect},i},\\; t_{\\text{latency},i}\\big)

Modules, in the order data flows through them:

- :mod:`~roofline.engine.terms`: the one term builder, for the symbolic and the numeric path
  (:func:`time_expr`, :func:`op_terms`, :func:`split_bytes`, :func:`default_home`).
- :mod:`~roofline.engine.compiled`: the terms lambdified into one NumPy function
  (:class:`CompiledWorkload`, :func:`compile_workload`) and :func:`evaluate` over broadcasting grids.
- :mod:`~roofline.engine.layout`: the output layout that both evaluators read.
- :mod:`~roofline.engine.numpy_eval` and :mod:`~roofline.engine.fused`: the NumPy evaluator and the
  optional numba one.
- :mod:`~roofline.engine.cache`: compiled functions kept in memory and on disk.
- :mod:`~roofline.engine.corners`: nominal, best and worst corners of estimated figures.
- :mod:`~roofline.engine.kernel`: one kernel on one device (:func:`kernel_report`).
- :mod:`~roofline.engine.ceilings`: the classic roofline of a device (:func:`roofline_table`).
- :mod:`~roofline.engine.analysis`: break-even, crossover and sensitivity.

The engine holds no CLI and no pandas; sweeps over devices and tidy tables are in :mod:`roofline.sweep`.
"""

from __future__ import annotations

import importlib

from . import fused
from .cache import (
    cache_dir,
    cached_compile,
    clear_memory,
    compile_recipe,
    device_signature,
)
from .compiled import CompiledWorkload, compile_workload, evaluate
from .terms import (
    OVERLAP_MODELS,
    RESIDENT_ROLES,
    default_home,
    op_terms,
    split_bytes,
    term_labels,
    time_expr,
)

__all__ = ['attainable_performance', 'ridge_point', 'roofline_table', 'CompiledWorkload', 'compile_workload', 'compile_recipe', 'evaluate', 'break_even', 'crossover', 'sensitivity', 'OVERLAP_MODELS', 'term_labels', 'RESIDENT_ROLES', 'split_bytes', 'op_terms', 'default_home', 'time_expr', 'cache_dir', 'device_signature', 'cached_compile', 'clear_memory', 'fused', 'kernel_report', 'kernel_result', 'KernelReport']

#: names imported from their module on first use: a single-point command never loads kernel reports, the
#: roofline table or the analyses
_LAZY = {"break_even": "analysis", "crossover": "analysis", "sensitivity": "analysis",
         "attainable_performance": "ceilings", "ridge_point": "ceilings", "roofline_table": "ceilings",
         "KernelReport": "kernel", "kernel_report": "kernel", "kernel_result": "kernel"}


def __getattr__(name: str):
    if name in _LAZY:
        return getattr(importlib.import_module(f"{__name__}.{_LAZY[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
