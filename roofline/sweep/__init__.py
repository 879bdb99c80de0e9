"""sweep"""

from __future__ import annotations

from .chunks import evaluate_dask, grid_chunks
from .grid import grid, sweep

__all__ = ['grid', 'sweep', 'grid_chunks', 'evaluate_dask']
