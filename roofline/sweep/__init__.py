"""The sweep room: compiled workloads evaluated over whole grids of shapes and device figures.

- :mod:`~roofline.sweep.grid`: :func:`grid` (a Cartesian product as flat arrays) and :func:`sweep` (a
  workload on one or more devices over a grid, returned as a tidy pandas DataFrame, one row per point).
- :mod:`~roofline.sweep.chunks`: grids too large for memory, in chunks (:func:`grid_chunks`), how a sweep
  runs chunk by chunk on every core within the memory budget, and the same compiled functions mapped over
  dask arrays (:func:`evaluate_dask`).
- :mod:`~roofline.sweep.writer`: tidy tables written to CSV or Parquet chunk by chunk with pyarrow's writers,
  atomically (:class:`FrameWriter`, :func:`write_frame`).

The physics is the engine's (:mod:`roofline.engine`); this room only lays out points and columns. The loop
is over devices, whose structure changes the expressions, never over grid points. LLM sweeps (decode,
frontier, chunked Parquet and reductions) are in :mod:`roofline.llm.sweeps`.
"""

from __future__ import annotations

from .chunks import evaluate_dask, grid_chunks
from .grid import grid, sweep
from .writer import FrameWriter, write_frame

__all__ = ['grid', 'sweep', 'grid_chunks', 'evaluate_dask', 'FrameWriter', 'write_frame']
