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

__all__ = ["Corner", "Overlap", "Phase", "DraftKind", "TensorRole", "LinkRole", "AttentionMode", "PoolRole",
           "MemoryKind", "DeviceKind", "Basis", "Status", "TermKind", "Term", "Ranged", "RESIDENT_ROLES", "CACHE_KINDS",
           "Record", "TopologyKind", "Collective", "Latency", "Mode", "IdentityMemo"]


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
        """The overlap model for ``name`` and its synonyms (``roofline``, ``serial``, ``none``...).

        Parameters
        ----------
        name : str
            ``max``, ``roofline`` or ``overlap`` (full overlap); ``sum``, ``serial``, ``no-overlap`` or
            ``none`` (no overlap).

        Returns
        -------
        Overlap

        Raises
        ------
        InputError
            An unknown name.

        Examples
        --------
        >>> Overlap.parse("serial")
        <Overlap.SUM: 'sum'>
        """
        syn = {"max": cls.MAX, "roofline": cls.MAX, "overlap": cls.MAX, "sum": cls.SUM, "serial": cls.SUM,
               "no-overlap": cls.SUM, "none": cls.SUM}
        try:
            return syn[str(name)]
        except KeyError:
            raise InputError(f"unknown overlap model {name!r}; expected 'max' (full overlap) or 'sum' (none)") from None


class Phase(StrEnum):
    """An LLM inference phase, with the shape symbol of its length.

    ``verify`` is the target's step in speculative decoding: a decode step that scores ``q`` tokens per
    sequence (the ``γ`` drafted ones and one more) against the KV cache of ``s`` tokens.
    """

    PREFILL = "prefill"
    DECODE = "decode"
    VERIFY = "verify"

    @property
    def length_symbol(self) -> str:
        """``p`` (prompt tokens per sequence) for prefill, ``s`` (tokens in the KV cache) for decode and verify."""
        return "p" if self is Phase.PREFILL else "s"


class DraftKind(StrEnum):
    """Where the drafted tokens of speculative decoding come from.

    ``model``: a separate, smaller model run autoregressively (Leviathan et al. 2023; Chen et al. 2023);
    ``mtp``: the target's own multi-token-prediction modules (DeepSeek-V3); ``eagle``: an EAGLE-style head
    of decoder layers on the target's hidden state (Li et al. 2024); ``ideal``: a draft that costs nothing,
    the favourable end when a source does not say what drafted.
    """

    MODEL = "model"
    MTP = "mtp"
    EAGLE = "eagle"
    IDEAL = "ideal"


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
    """The traffic a link carries: tensor-parallel, pipeline, expert or data-parallel.

    ``ep_network`` is the part of the expert exchange that leaves a link domain (a node): when the devices
    of an expert-parallel group span several domains, the hidden states bound for another domain cross the
    network link, the rest stays on the domain's own link (``ep``).
    """

    TP = "tp"
    PP = "pp"
    EP = "ep"
    EP_NETWORK = "ep_network"
    DP = "dp"


class AttentionMode(StrEnum):
    """How a layout runs attention over the devices of a stage.

    ``tp``: tensor-parallel, heads split over the devices, every device holds every token of the step
    (Megatron). ``dp``: data-parallel, every device holds whole attention weights and its own sequences
    and KV cache; only the routed experts are shared across the stage (SGLang's and TensorRT-LLM's
    *attention data parallelism*, DeepSeek's "MLA/Shared Expert DP").
    """

    TP = "tp"
    DP = "dp"


class PoolRole(StrEnum):
    """What a pool of devices serves: both phases together, or one of them in a disaggregated system."""

    COLOCATED = "colocated"
    PREFILL = "prefill"
    DECODE = "decode"


class TopologyKind(StrEnum):
    """How a link domain joins its devices (or a mesh its cores).

    ``switch``: every device one switch traversal from every other (NVSwitch, an Ethernet or InfiniBand
    fabric); ``full``: every pair joined by a direct link (AMD's 8-GPU Infinity Fabric); ``ring``, ``torus``
    (TPU ICI) and ``mesh`` (a wafer's fabric, a Dojo tile, tiles in a tray): neighbours joined along each
    dimension, with (torus, ring) or without (mesh) wraparound; ``dragonfly``: groups fully connected inside,
    groups joined by global links (a Groq rack).
    """

    SWITCH = "switch"
    FULL = "full"
    RING = "ring"
    TORUS = "torus"
    MESH = "mesh"
    DRAGONFLY = "dragonfly"


class Collective(StrEnum):
    """A collective communication operation over a group of devices."""

    ALL_REDUCE = "all_reduce"
    REDUCE_SCATTER = "reduce_scatter"
    ALL_GATHER = "all_gather"
    ALL_TO_ALL = "all_to_all"
    BROADCAST = "broadcast"
    POINT_TO_POINT = "point_to_point"


class Latency(StrEnum):
    """The latency terms (the names of :attr:`TermKind.LATENCY` terms): ``fabric`` (reductions and
    broadcasts across a mesh region), ``handoff`` (from one layer or pipeline stage to the next),
    ``launch`` (a kernel's launch and synchronisation on a GPU), ``link`` (message steps of collectives over
    a link)."""

    FABRIC = "fabric"
    HANDOFF = "handoff"
    LAUNCH = "launch"
    LINK = "link"


class Mode(StrEnum):
    """What a time means: ``ideal`` (the pure roofline), ``latency_bound`` (the roofline plus the latency no
    implementation avoids: never beaten) or ``estimate`` (the roofline plus realistic latency terms)."""

    IDEAL = "ideal"
    LATENCY_BOUND = "latency_bound"
    ESTIMATE = "estimate"


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
        """The term written as ``text`` (the inverse of :func:`str`), for input at the edges.

        Parameters
        ----------
        text : str
            ``kind`` or ``kind:name`` (``"compute"``, ``"memory:hbm"``).

        Returns
        -------
        Term

        Raises
        ------
        ValueError
            ``kind`` is no :class:`TermKind`.
        """
        kind, _, name = str(text).partition(":")
        return cls(TermKind(kind), name)


@dataclass(frozen=True)
class Ranged:
    """A result at the nominal figures and at both ends of the estimated figures' ranges.

    ``best`` is the result with every estimated figure at its favourable end, ``worst`` at the other;
    for a device without estimated figures all three are equal. Ranges are written in one place, here:
    a record (JSON, a dict) carries ``<field>_range = [low, high]`` beside ``<field>`` (:meth:`to_dict`);
    a tidy frame, whose cells hold numbers only, carries the corners as columns ``<field>_best`` and
    ``<field>_worst`` (:meth:`to_columns`).

    >>> r = Ranged(2.0, 1.5, 3.0)
    >>> r.has_range, r.low, r.high
    (True, 1.5, 3.0)
    >>> r.to_dict("tpot_s")
    {'tpot_s': 2.0, 'tpot_s_range': [1.5, 3.0]}
    >>> r.to_columns("tpot_s")
    {'tpot_s': 2.0, 'tpot_s_best': 1.5, 'tpot_s_worst': 3.0}
    """

    nominal: float
    best: float
    worst: float

    @property
    def has_range(self) -> bool:
        """True when best and worst differ (beyond rounding)."""
        return abs(self.best - self.worst) > 1e-9 * max(abs(self.best), abs(self.worst), 1e-300)

    @property
    def low(self) -> float:
        """The smaller of best and worst, in the field's unit."""
        return min(self.best, self.worst)

    @property
    def high(self) -> float:
        """The larger of best and worst, in the field's unit."""
        return max(self.best, self.worst)

    def map(self, fn) -> "Ranged":
        """``fn`` applied to each corner; a decreasing ``fn`` (``1 / t``) keeps best as best.

        Parameters
        ----------
        fn : callable
            Maps one value to another (a time [s] to a rate [1/s]...).

        Returns
        -------
        Ranged

        Examples
        --------
        >>> Ranged(2.0, 1.0, 4.0).map(lambda t: 1 / t)  # a time to a rate: the best stays the best
        Ranged(nominal=0.5, best=1.0, worst=0.25)
        """
        return Ranged(fn(self.nominal), fn(self.best), fn(self.worst))

    def to_dict(self, field: str) -> dict:
        """``{field: nominal}``, plus ``field_range: [low, high]`` when there is a range.

        Parameters
        ----------
        field : str
            The name of the field, with its unit suffix (``tpot_s``).

        Returns
        -------
        dict
            For a record (JSON).
        """
        out = {field: self.nominal}
        if self.has_range:
            out[f"{field}_range"] = [self.low, self.high]
        return out

    def to_columns(self, field: str) -> dict:
        """``{field: nominal}``, plus ``field_best`` and ``field_worst`` when there is a range.

        Parameters
        ----------
        field : str
            The name of the column, with its unit suffix (``time_s``).

        Returns
        -------
        dict
            For a row of a tidy frame.
        """
        out = {field: self.nominal}
        if self.has_range:
            out[f"{field}_best"] = self.best
            out[f"{field}_worst"] = self.worst
        return out


class Record(dict):
    """The record form of a result (a plain dict: JSON, ``rec["tpot_s"]``) that still shows as its result
    in a notebook (``_repr_html_``) and turns into a one-row DataFrame (``to_frame()``).

    Parameters
    ----------
    data : mapping
        The record.
    result : object
        The result it was made from, with ``_repr_html_()`` and ``to_frame()``.
    """

    __slots__ = ("result",)

    def __init__(self, data, result=None):
        super().__init__(data)
        self.result = result

    def _repr_html_(self) -> str | None:
        """The result's HTML table (for Jupyter; it takes no parameters).

        Returns
        -------
        str or None
        """
        return self.result._repr_html_() if self.result is not None else None

    def to_frame(self):
        """The result as a one-row pandas DataFrame, its units in ``attrs`` (it takes no parameters).

        Returns
        -------
        pandas.DataFrame
        """
        if self.result is None:
            import pandas as pd

            return pd.DataFrame([dict(self)])
        return self.result.to_frame()

    def __reduce__(self):
        return (Record, (dict(self), self.result))


class IdentityMemo(dict):
    """Answers of a pure function of immutable objects, found by the objects' identity (the one pattern of
    the package's process-memory memos: devices, models, precisions, placements, prices).

    A key names its objects by ``id``; each entry holds those objects, so an ``id`` is never reused while its
    entry lives, and an entry is found only for the very objects it was stored with. At most ``limit``
    entries: a full memo starts again (a bound on memory, not a tuning knob). It is a dict: ``clear`` and
    ``len`` work as on one.

    Parameters
    ----------
    limit : int
        Entries at most [1].
    """

    __slots__ = ("limit",)

    def __init__(self, limit: int = 256):
        super().__init__()
        self.limit = limit

    def recall(self, key, held: tuple, default=None):
        """The value stored under ``key`` with the objects ``held``, or ``default``.

        Parameters
        ----------
        key : hashable
            The ids of ``held`` and any other (hashable, immutable) arguments.
        held : tuple
            The objects the key names by ``id``.
        default : object
            Returned when there is no such entry.

        Returns
        -------
        object
        """
        hit = self.get(key)
        return hit[1] if hit is not None and hit[0] == held else default  # == on tuples: identity first

    def remember(self, key, held: tuple, value):
        """Store ``value`` under ``key`` with the objects ``held`` and return it.

        Parameters
        ----------
        key : hashable
            As :meth:`recall`'s.
        held : tuple
            The objects the key names by ``id`` (held by the entry).
        value : object
            The answer.

        Returns
        -------
        object
            ``value``.
        """
        if len(self) >= self.limit:
            self.clear()
        self[key] = (held, value)
        return value
