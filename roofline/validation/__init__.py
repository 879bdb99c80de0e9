"""Validation: published measurements set against the bounds roofline computes for them.

The data (``measurements/measurements.csv``) holds one sourced measurement per row with its configuration
in columns (device, count, model, precision, batch, lengths, layout, GEMM shape, speculative or not);
:func:`validate` computes the ideal bound, the latency bound and the estimate of each, and how the measurement
compares with them; :func:`category_summary` the distribution of measured / estimated speed per category;
:func:`regime_summary` judges the estimate on measured ceilings per regime (:mod:`.regimes`).
"""

from __future__ import annotations

from .bounds import FIELDS, category_summary, default_path, load_measurements, validate, validation_frame
from .regimes import REGIMES, TARGETS, estimate_rows, misses, regime_of, regime_summary, target_check

__all__ = ["FIELDS", "REGIMES", "TARGETS", "category_summary", "default_path", "estimate_rows", "load_measurements",
           "misses", "regime_of", "regime_summary", "target_check", "validate", "validation_frame"]
