"""Placement: policy, not physics — which memory level holds what, how many devices, which parallel layout.

:mod:`~roofline.placement.levels` finds the level a working set lives in; :mod:`~roofline.placement.layout`
decides the parallel layout of a model (tensor and pipeline parallelism over a device's links).
"""

from __future__ import annotations

from .layout import MAX_DEVICES, Demand, Parallelism, Placement, link_for, place
from .levels import check_fits, home_level

__all__ = ["Demand", "Parallelism", "Placement", "place", "link_for", "MAX_DEVICES", "home_level", "check_fits"]
