"""Load and validate device spec files (``hardware_specs/*.toml``) into immutable :class:`Device` objects.

The spec format is described in ``docs/spec-format.md``. Units are parsed here, once, with pint (see
:mod:`roofline.units`); derived figures are computed here from their formulas; and every schema problem
raises :class:`~roofline.errors.SpecError` naming the file, the field and what was expected. Nothing
downstream of this module knows about files or units.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping

from ..dtypes import DTYPES
from ..vocab import CACHE_KINDS, Basis, DeviceKind, MemoryKind, Status
from .figure import Figure

__all__ = ['DTYPES', 'BASES', 'DEVICE_KINDS', 'MEMORY_KINDS', 'DUPLEX', 'STATUSES', 'MemoryLevel', 'Link', 'Device']


#: Data types a spec may give a peak for.


#: The bases a figure may have.
BASES = tuple(Basis)


DEVICE_KINDS = tuple(DeviceKind)


MEMORY_KINDS = tuple(MemoryKind)


DUPLEX = ("bidirectional-total", "per-direction")


STATUSES = tuple(Status)


@dataclass(frozen=True)
class MemoryLevel:
    """A level of the memory hierarchy. ``capacity_bytes`` and ``bandwidth_bytes_per_s`` are nominal."""

    name: str
    label: str
    kind: str
    capacity: Figure
    bandwidth: Figure
    latency: Figure | None = None

    @property
    def capacity_bytes(self) -> float:
        return self.capacity.value

    @property
    def bandwidth_bytes_per_s(self) -> float:
        return self.bandwidth.value


@dataclass(frozen=True)
class Link:
    """An interconnect link. ``bandwidth`` is as the source states it; see ``duplex``.

    ``per_direction_bytes_per_s`` is what one direction carries: half of a ``bidirectional-total`` figure.
    """

    name: str
    label: str
    duplex: str
    bandwidth: Figure
    latency: Figure | None = None
    domain_size: Figure | None = None

    @property
    def bandwidth_bytes_per_s(self) -> float:
        return self.bandwidth.value

    @property
    def direction_factor(self) -> float:
        return 0.5 if self.duplex == "bidirectional-total" else 1.0

    @property
    def per_direction_bytes_per_s(self) -> float:
        return self.bandwidth.value * self.direction_factor

    @property
    def devices_per_domain(self) -> int:
        return int(self.domain_size.value) if self.domain_size is not None else 1


@dataclass(frozen=True)
class Device:
    """An accelerator described by a spec file: immutable, every figure with its source.

    Use :meth:`peak`, :meth:`level` and :meth:`link` for nominal SI floats, :meth:`figure` for the full
    :class:`Figure`, and :meth:`symbol` / :meth:`subs` for SymPy.
    """

    key: str
    name: str
    vendor: str
    kind: str
    file: str
    aliases: tuple[str, ...] = ()
    year: int | None = None
    process: str = ""
    status: str = "released"
    summary: str = ""
    sources: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    compute: Mapping[str, Mapping[str, Figure]] = field(default_factory=dict)
    memory: tuple[MemoryLevel, ...] = ()
    interconnect: tuple[Link, ...] = ()
    figures: Mapping[str, Figure] = field(default_factory=dict)
    composition: tuple[str, int] | None = None

    # -- plain numbers -------------------------------------------------------------------------------
    @property
    def dtypes(self) -> tuple[str, ...]:
        return tuple(self.compute)

    def peak(self, dtype: str, sparse: bool = False, which: str = "nominal") -> float:
        """Peak compute [FLOP/s] for ``dtype`` (dense unless ``sparse``)."""
        return self.peak_figure(dtype, sparse).at(which)

    def peak_figure(self, dtype: str, sparse: bool = False) -> Figure:
        """The :class:`Figure` of the peak for ``dtype``; a clear error if the device publishes none."""
        from ..errors import InputError, UnknownNameError

        if dtype not in self.compute:
            if dtype not in DTYPES:
                raise UnknownNameError("data type", dtype, DTYPES)
            raise InputError(f"{self.key} has no published {dtype} peak; it has: {', '.join(self.compute)}")
        kinds = self.compute[dtype]
        if sparse:
            if "sparse" not in kinds:
                raise InputError(f"{self.key} has no published sparse {dtype} peak")
            return kinds["sparse"]
        return kinds["dense"]

    def level(self, name: str) -> MemoryLevel:
        """The memory level called ``name`` (``"hbm"``, ``"sram"``...); suggests names on a typo."""
        for lvl in self.memory:
            if lvl.name == name:
                return lvl
        from ..errors import UnknownNameError

        raise UnknownNameError(f"memory level of {self.key}", name, [m.name for m in self.memory])

    def link(self, name: str) -> Link:
        """The interconnect link called ``name`` (``"nvlink"``, ``"system_io"``...)."""
        for lk in self.interconnect:
            if lk.name == name:
                return lk
        from ..errors import UnknownNameError

        raise UnknownNameError(f"link of {self.key}", name, [lk.name for lk in self.interconnect])

    def figure(self, path: str) -> Figure:
        """The figure at ``path`` (``"memory.hbm.bandwidth"``), with its source, basis and range."""
        try:
            return self.figures[path]
        except KeyError:
            from ..errors import UnknownNameError

            raise UnknownNameError(f"figure of {self.key}", path, self.figures) from None

    def get(self, path: str, default=None):
        """The nominal SI value of the figure at ``path``, or ``default`` if the device has none."""
        f = self.figures.get(path)
        return default if f is None else f.value

    @property
    def resident_levels(self) -> list[int]:
        """Indices of the levels that can hold weights between steps: every level that is not a cache or a
        register file, fastest first."""
        return [i for i, lvl in enumerate(self.memory) if lvl.kind not in CACHE_KINDS]

    @property
    def main_memory_index(self) -> int:
        """Index of the main memory: the fastest level that is not a cache or a register file.

        The one rule for "main memory", used by ``list``, ``compare``, placement, kernels and validation:
        HBM on a GPU, SRAM on a wafer, a Dojo tile or a Groq chip. Weights and the KV cache live there
        unless they must be streamed from a slower level.
        """
        levels = self.resident_levels
        return levels[0] if levels else len(self.memory) - 1

    @property
    def main_memory(self) -> "MemoryLevel":
        """The main memory level (see :attr:`main_memory_index`)."""
        return self.memory[self.main_memory_index]

    @property
    def power_w(self) -> float | None:
        return self.get("power.tdp")

    @property
    def is_estimate(self) -> bool:
        """True when any figure is a range: results for this device are ranges too."""
        return any(f.is_range for f in self.figures.values())

    def values(self, which: str = "nominal") -> dict[str, float]:
        """Every figure's value at ``which`` (``nominal``, ``low``, ``high``, ``best``, ``worst``), by path."""
        return {p: f.at(which) for p, f in self.figures.items()}

    # -- SymPy ---------------------------------------------------------------------------------------
    def symbol(self, path: str):
        """The SymPy symbol of a figure (positive, real), named after its role: ``P_bf16``, ``BW_hbm``."""
        from ..symbols import figure_symbol

        self.figure(path)  # raise on unknown path
        return figure_symbol(path)

    def subs(self, which: str = "nominal") -> dict:
        """``{symbol: value}`` for every figure, to substitute into an expression."""
        from ..symbols import figure_symbol

        return {figure_symbol(p): f.at(which) for p, f in self.figures.items()}

    def __repr__(self) -> str:
        return f"Device({self.key!r}, {self.name!r})"

