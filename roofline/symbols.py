"""SymPy symbols for device figures and workload shapes (imported only when expressions are built).

Device symbols are named after the figure's role, not the device, so one expression serves every device
and is substituted with a device's numbers (:meth:`roofline.hardware.Device.subs`):

=================================  ========================  =========================================
figure path                        symbol                    meaning
=================================  ========================  =========================================
``compute.bf16.dense``             ``P_{bf16}``              dense peak [FLOP/s]
``compute.bf16.sparse``            ``Psparse_{bf16}``        2:4-sparse peak [FLOP/s]
``memory.hbm.bandwidth``           ``BW_{hbm}``              level bandwidth [B/s]
``memory.hbm.capacity``            ``C_{hbm}``               level capacity [B]
``interconnect.nvlink.bandwidth``  ``BWlink_{nvlink}``       link bandwidth as published [B/s]
``interconnect.nvlink.latency``    ``tau_{nvlink}``          link latency [s]
``overheads.kernel_launch``        ``tau_{kernel-launch}``   fixed cost per kernel [s]
``power.tdp``                      ``W_{tdp}``               power [W]
=================================  ========================  =========================================
"""

from __future__ import annotations

from functools import lru_cache

import sympy as sp

__all__ = ["figure_symbol", "symbol_name", "shape_symbol"]


def symbol_name(path: str) -> str:
    """The symbol name for a figure path: ``compute.bf16.dense`` → ``P_{bf16}``.

    Subscripts are braced so that SymPy prints them verbatim in LaTeX (``BW_hbm`` would otherwise be read
    as a bold ``h``); underscores inside a subscript become hyphens.

    Parameters
    ----------
    path : str
        A figure path (``"memory.hbm.bandwidth"``).

    Returns
    -------
    str
        The symbol's name (``"BW_{hbm}"``); see the table in the module docstring.

    Examples
    --------
    >>> symbol_name("overheads.kernel_launch")
    'tau_{kernel-launch}'
    """
    parts = path.split(".")
    head = parts[0]
    sub = _subscripted
    if head == "compute" and len(parts) == 3:
        return sub("P", parts[1]) if parts[2] == "dense" else sub("Psparse", parts[1])
    if head == "memory" and len(parts) == 3:
        return sub({"bandwidth": "BW", "capacity": "C", "latency": "taumem"}[parts[2]], parts[1])
    if head == "interconnect" and len(parts) == 3:
        return sub({"bandwidth": "BWlink", "latency": "tau", "domain_size": "D"}[parts[2]], parts[1])
    if head == "overheads":
        return sub("tau", *parts[1:])
    if head == "power":
        return sub("W", *parts[1:])
    return sub(head, *parts[1:])


def _subscripted(prefix: str, *rest: str) -> str:
    """``prefix_{a-b}``: the parts joined by hyphens, underscores inside them made hyphens too."""
    return prefix + "_{" + "-".join(x.replace("_", "-") for x in rest) + "}"


@lru_cache(maxsize=None)
def figure_symbol(path: str) -> sp.Symbol:
    """The positive real SymPy symbol for the figure at ``path``.

    Parameters
    ----------
    path : str
        A figure path (``"compute.bf16.dense"``).

    Returns
    -------
    sympy.Symbol
        Named by :func:`symbol_name`; the same object for the same path.
    """
    return sp.Symbol(symbol_name(path), positive=True)


@lru_cache(maxsize=None)
def shape_symbol(name: str, integer: bool = False) -> sp.Symbol:
    """A positive shape symbol (``M``, ``N``, ``K``, ``b``, ``s``...).

    Parameters
    ----------
    name : str
        The symbol's name.
    integer : bool
        Declare it an integer too.

    Returns
    -------
    sympy.Symbol
        The same object for the same arguments.
    """
    return sp.Symbol(name, positive=True, integer=integer) if integer else sp.Symbol(name, positive=True)
