"""The role of every figure a spec file can hold: its path, dimension, SymPy symbol and meaning.

A leaf module and the one table of figure roles: the spec reader takes each field's dimension and sign
from it (:mod:`roofline.hardware.reader`), :func:`roofline.symbols.symbol_name` names symbols from it, and
the nomenclature page of the documentation is generated from it. A new kind of figure is one row here.

>>> role_of("memory.hbm.bandwidth").symbol
'BW'
>>> role_of("interconnect.nvlink.domain_size").dimension
'count'
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Role", "ROLES", "role_of"]


@dataclass(frozen=True)
class Role:
    """One kind of figure.

    Parameters
    ----------
    path : str
        The figure path with placeholders in angle brackets (``memory.<level>.bandwidth``).
    symbol : str
        The prefix of its SymPy symbol (``BW``: ``BW_{hbm}``).
    dimension : str or None
        One of :data:`roofline.units.DIMENSIONS`, or None where the spec's unit decides.
    positive : bool
        Must be above zero (else at least zero).
    meaning : str
        What it is, for the nomenclature.
    unit : str
        Its SI unit, as the nomenclature prints it.
    """

    path: str
    symbol: str
    dimension: str | None
    positive: bool
    meaning: str
    unit: str

    @property
    def section(self) -> str:
        """The spec file's table the figure lives in (``memory``)."""
        return self.path.split(".")[0]

    @property
    def field(self) -> str:
        """The last part of the path (``bandwidth``), or ``<name>`` for a named figure."""
        return self.path.split(".")[-1]


#: Every figure role, in the order the nomenclature lists them.
ROLES: tuple[Role, ...] = (
    Role("compute.<dtype>.dense", "P", "flops", True, "dense peak of a data type", "FLOP/s"),
    Role("compute.<dtype>.sparse", "Psparse", "flops", True, "2:4-sparse peak, where published", "FLOP/s"),
    Role("memory.<level>.bandwidth", "BW", "bytes_per_s", True, "bandwidth of a memory level", "B/s"),
    Role("memory.<level>.capacity", "C", "bytes", True, "capacity of a memory level", "B"),
    Role("memory.<level>.latency", "taumem", "seconds", False,
         "access latency of a level (recorded, not used by the engine)", "s"),
    Role("interconnect.<link>.bandwidth", "BWlink", "bytes_per_s", True,
         "link bandwidth **as published** (see `duplex`)", "B/s"),
    Role("interconnect.<link>.latency", "tau", "seconds", False,
         "latency of one hop (one message step through a switch)", "s"),
    Role("interconnect.<link>.domain_size", "D", "count", True, "devices one link domain joins", "1"),
    Role("interconnect.<link>.ports", "ports", "count", True,
         "links per device in the domain (per-link bandwidth = bandwidth / ports)", "1"),
    Role("overheads.<name>", "tau", "seconds", False, "fixed cost per op (the latency term)", "s"),
    Role("power.<name>", "W", "watts", True, "rated power of the device (or system)", "W"),
    Role("composition.count", "composition", "count", True, "parts a composed device is built from", "1"),
    Role("architecture.<name>", "architecture", None, True, "other figures, used in derived formulas", "as stated"),
    Role("mesh.hop_latency", "tauhop", "seconds", True, "latency of one hop between neighbouring cores", "s"),
    Role("mesh.layer_locality", "lambda", "count", False,
         "1: each layer's reductions stay in its own region; 0: every layer spans its stage's region", "1"),
    Role("mesh.<name>", "mesh", None, True, "figures of an on-chip mesh, used in derived formulas", "as stated"),
)


def role_of(path: str) -> Role:
    """The role of the figure at ``path``.

    Parameters
    ----------
    path : str
        A concrete figure path (``"memory.hbm.bandwidth"``).

    Returns
    -------
    Role

    Raises
    ------
    KeyError
        When no role matches.
    """
    parts = path.split(".")
    for r in ROLES:
        pat = r.path.split(".")
        if pat[0] != parts[0]:
            continue
        if len(pat) == len(parts) and all(p.startswith("<") or p == q for p, q in zip(pat, parts)):
            return r
        if len(pat) == 2 and pat[1].startswith("<") and len(parts) >= 2:
            return r
    raise KeyError(path)
