"""The placement room: policy, not physics — which memory level holds what, on how many devices, how split.

- :mod:`~roofline.placement.levels`: the *home* level of a working set, the fastest level whose capacity
  holds it (:func:`home_level`), or a :class:`~roofline.errors.CapacityError` that says how much is needed
  (:func:`check_fits`).
- :mod:`~roofline.placement.layout`: the parallel layout of a model: :func:`place` decides the devices and
  the layout (:class:`Parallelism`: ``tp``, ``pp``, ``dp``, ``ep``, attention tensor- or data-parallel,
  micro-batches, expert imbalance), the level holding weights and KV cache and the link each role uses
  (:func:`link_for`, :func:`links_for`), returned as a :class:`Placement`; :func:`layout_candidates` lists
  the layouts a system can express (the layout search), :class:`Pool` a group of devices serving prefill,
  decode or both. A model is anything that follows the :class:`Demand` protocol (an LLM:
  :class:`roofline.llm.ModelDemand`).

Nothing here computes a time: the engine (:mod:`roofline.engine`) times what placement decides.
"""

from __future__ import annotations

from .layout import (
    MAX_DEVICES,
    Demand,
    Parallelism,
    Placement,
    Pool,
    check_layout,
    layout_candidates,
    link_for,
    links_for,
    place,
)
from .levels import check_fits, home_level

__all__ = ["Demand", "Parallelism", "Placement", "Pool", "place", "link_for", "links_for", "layout_candidates",
           "check_layout", "MAX_DEVICES", "home_level", "check_fits"]
