"""engine"""

from __future__ import annotations

from . import fused
from .analysis import break_even, crossover, sensitivity
from .cache import (
    cache_dir,
    cached_compile,
    clear_memory,
    compile_recipe,
    device_signature,
)
from .ceilings import attainable_performance, ridge_point, roofline_table
from .compiled import CompiledWorkload, compile_workload, evaluate
from .kernel import KernelReport, kernel_report, kernel_result
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
