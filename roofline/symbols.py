"""SymPy symbols for device figures and workload shapes (imported only when expressions are built).

Device symbols are named after the figure's role, not the device, so one expression serves every device
and is substituted with a device's numbers (:meth:`roofline.hardware.Device.subs`). The prefixes come from
the one role table, :data:`roofline.roles.ROLES` (``memory.hbm.bandwidth`` → ``BW_{hbm}``); the
nomenclature page lists them all.
"""

from __future__ import annotations

from functools import lru_cache

import sympy as sp

from .roles import role_of

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
    try:
        role = role_of(path)
    except KeyError:
        return _subscripted(parts[0], *parts[1:])
    pat = role.path.split(".")
    # the subscript: the path's placeholders (dtype, level, link) or, for a named figure, its name
    sub = [q for p, q in zip(pat, parts) if p.startswith("<")] + parts[len(pat):]
    return _subscripted(role.symbol, *(sub or parts[1:]))


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
