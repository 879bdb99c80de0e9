"""The internal vocabulary: enumerations and the time-term type. A leaf module (imports nothing of roofline).

Inside the package these are types, not strings; their text form (``"memory:hbm"``, ``"best"``) appears
only at the edges (JSON, CSV, DataFrame columns, the command line). Each enumeration is a
:class:`enum.StrEnum`, so a member compares equal to its text and prints as it.

>>> Term.parse("memory:hbm")
Term(kind=<TermKind.MEMORY: 'memory'>, name='hbm')
>>> str(Term(TermKind.INTERCONNECT, "nvlink"))
'interconnect:nvlink'
>>> Corner.BEST == "best"
True
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from .errors import InputError

__all__ = ["Corner", "Overlap", "Phase", "TensorRole", "LinkRole", "MemoryKind", "DeviceKind", "Basis", "Status",
           "TermKind", "Term", "RESIDENT_ROLES", "CACHE_KINDS"]


class Corner(StrEnum):
    """Where in the ranges of estimated figures a result is evaluated.

    ``nominal`` takes each figure's stated value; ``best`` the end of each range that makes the device
    faster (highest peak and bandwidth, lowest latency); ``worst`` the other end; ``low``/``high`` the
    plain ends of a figure's range.
    """

    NOMINAL = "nominal"
    BEST = "best"
    WORST = "worst"
    LOW = "low"
    HIGH = "high"


class Overlap(StrEnum):
    """How an op's time terms combine: ``max`` (full overlap: the roofline) or ``sum`` (none)."""

    MAX = "max"
    SUM = "sum"

    @classmethod
    def parse(cls, name: str) -> "Overlap":
        """The overlap model for ``name`` and its synonyms (``roofline``, ``serial``, ``none``...)."""
        syn = {"max": cls.MAX, "roofline": cls.MAX, "overlap": cls.MAX, "sum": cls.SUM, "serial": cls.SUM,
               "no-overlap": cls.SUM, "none": cls.SUM}
        try:
            return syn[str(name)]
        except KeyError:
            raise InputError(f"unknown overlap model {name!r}; expected 'max' (full overlap) or 'sum' (none)") from None


class Phase(StrEnum):
    """An LLM inference phase, with the shape symbol of its length."""

    PREFILL = "prefill"
    DECODE = "decode"

    @property
    def length_symbol(self) -> str:
        """``p`` (prompt tokens per sequence) for prefill, ``s`` (tokens in the KV cache) for decode."""
        return "p" if self is Phase.PREFILL else "s"


class TensorRole(StrEnum):
    """What a tensor is to the op that moves it; decides where it lives (see :data:`RESIDENT_ROLES`)."""

    WEIGHT = "weight"
    KV = "kv"
    ACTIVATION = "activation"
    INPUT = "input"
    OUTPUT = "output"


#: Roles that stay resident between ops (weights, KV cache, a kernel's own operands) and live at the home
#: level; the rest (activations) are transient and live in the fastest level that holds them.
RESIDENT_ROLES = frozenset({TensorRole.WEIGHT, TensorRole.KV, TensorRole.INPUT, TensorRole.OUTPUT})


class LinkRole(StrEnum):
    """The traffic a link carries: tensor-parallel, pipeline, expert or data-parallel."""

    TP = "tp"
    PP = "pp"
    EP = "ep"
    DP = "dp"


class MemoryKind(StrEnum):
    """The kind of a memory level."""

    REGISTER = "register"
    SRAM = "sram"
    CACHE = "cache"
    HBM = "hbm"
    DRAM = "dram"
    EXTERNAL = "external"


#: Memory kinds that cannot hold weights between steps (they stage data for a slower level).
CACHE_KINDS = frozenset({MemoryKind.REGISTER, MemoryKind.CACHE})


class DeviceKind(StrEnum):
    """The kind of a device."""

    GPU = "gpu"
    WAFER = "wafer"
    TILE = "tile"
    CHIP = "chip"
    SOC = "soc"
    TPU = "tpu"
    OTHER = "other"


class Basis(StrEnum):
    """Where a figure comes from."""

    DATASHEET = "datasheet"
    MEASURED = "measured"
    DERIVED = "derived"
    ESTIMATE = "estimate"


class Status(StrEnum):
    """Whether a device can be bought."""

    RELEASED = "released"
    ANNOUNCED = "announced"
    UNRELEASED = "unreleased"
    DISCONTINUED = "discontinued"


class TermKind(StrEnum):
    """The kind of a time term."""

    COMPUTE = "compute"
    MEMORY = "memory"
    INTERCONNECT = "interconnect"
    LATENCY = "latency"
    CAPACITY = "capacity"


@dataclass(frozen=True)
class Term:
    """A time term: its kind and, for memory and interconnect, the level or link it charges.

    The text form ``kind:name`` (``"memory:hbm"``, ``"compute"``) is for the edges only.
    """

    kind: TermKind
    name: str = ""

    def __str__(self) -> str:
        return f"{self.kind}:{self.name}" if self.name else str(self.kind)

    @classmethod
    def parse(cls, text: str) -> "Term":
        """The term written as ``text`` (the inverse of :func:`str`), for input at the edges."""
        kind, _, name = str(text).partition(":")
        return cls(TermKind(kind), name)
