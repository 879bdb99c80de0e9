"""SymPy symbols for device figures and workload shapes (imported only when expressions are built).

Device symbols are named after the figure's role, not the device, so one expression serves every device
and is substituted with a device's numbers (:meth:`roofline.specs.Device.subs`):

==============================  ==================  ===========================================
figure path                     symbol              meaning
==============================  ==================  ===========================================
``compute.bf16.dense``          ``P_bf16``          dense peak [FLOP/s]
``compute.bf16.sparse``         ``Psparse_bf16``    2:4-sparse peak [FLOP/s]
``memory.hbm.bandwidth``        ``BW_hbm``          level bandwidth [B/s]
``memory.hbm.capacity``         ``C_hbm``           level capacity [B]
``interconnect.nvlink.bandwidth`` ``BWlink_nvlink`` link bandwidth as published [B/s]
``interconnect.nvlink.latency`` ``tau_nvlink``      link latency [s]
``overheads.kernel_launch``     ``tau_kernel_launch`` fixed cost per kernel [s]
``power.tdp``                   ``W_tdp``           power [W]
==============================  ==================  ===========================================
"""

from __future__ import annotations

from functools import lru_cache

import sympy as sp

__all__ = ["figure_symbol", "symbol_name", "shape_symbol"]


def symbol_name(path: str) -> str:
    parts = path.split(".")
    head = parts[0]
    if head == "compute" and len(parts) == 3:
        return ("P_" if parts[2] == "dense" else "Psparse_") + parts[1]
    if head == "memory" and len(parts) == 3:
        return {"bandwidth": "BW_", "capacity": "C_", "latency": "taumem_"}[parts[2]] + parts[1]
    if head == "interconnect" and len(parts) == 3:
        return {"bandwidth": "BWlink_", "latency": "tau_", "domain_size": "D_"}[parts[2]] + parts[1]
    if head == "overheads":
        return "tau_" + "_".join(parts[1:])
    if head == "power":
        return "W_" + "_".join(parts[1:])
    return "_".join(parts)


@lru_cache(maxsize=None)
def figure_symbol(path: str) -> sp.Symbol:
    """The positive real SymPy symbol for the figure at ``path``."""
    return sp.Symbol(symbol_name(path), positive=True)


@lru_cache(maxsize=None)
def shape_symbol(name: str, integer: bool = False) -> sp.Symbol:
    """A positive shape symbol (``M``, ``N``, ``K``, ``b``, ``s``...)."""
    return sp.Symbol(name, positive=True, integer=integer) if integer else sp.Symbol(name, positive=True)
