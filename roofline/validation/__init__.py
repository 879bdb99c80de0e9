"""Validation: published measurements set against the bounds roofline computes for them.

The data (``measurements/measurements.csv``) holds one sourced measurement per row with its configuration
in columns (device, count, model, precision, batch, lengths, layout, GEMM shape, speculative or not);
:func:`validate` computes the ideal bound and the latency-inclusive figure of each and their efficiency;
:func:`regime_summary` judges the estimate on measured ceilings per regime (:mod:`.regimes`).
"""

from __future__ import annotations

from .bounds import FIELDS, default_path, load_measurements, validate, validation_frame
from .regimes import REGIMES, estimate_rows, regime_of, regime_summary

__all__ = ["FIELDS", "REGIMES", "default_path", "estimate_rows", "load_measurements", "regime_of", "regime_summary",
           "validate", "validation_frame"]
