"""The device data model: :class:`Device`, its :class:`MemoryLevel` hierarchy and :class:`Link` list.

A device is immutable and holds every figure with its source (:class:`~roofline.hardware.Figure`). It
answers in nominal SI floats (:meth:`Device.peak`, :meth:`Device.level`, :meth:`Device.link`), at a corner
of the estimated ranges (``which``), or as SymPy symbols (:meth:`Device.symbol`, :meth:`Device.subs`). It
holds the one rule for main memory (:attr:`Device.main_memory`) and the one test of whether results are
ranges (:attr:`Device.is_estimate`). The vocabularies a spec may use (bases, kinds, duplex conventions)
are listed here for the schema.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping

from ..dtypes import DTYPES
from ..errors import InputError, UnknownNameError
from ..vocab import CACHE_KINDS, Basis, Corner, DeviceKind, MemoryKind, Status
from .figure import Figure
from .topology import SWITCH, Topology

__all__ = ['DTYPES', 'BASES', 'DEVICE_KINDS', 'MEMORY_KINDS', 'DUPLEX', 'STATUSES', 'MemoryLevel', 'Link', 'Device']

#: The bases a figure may have.
BASES = tuple(Basis)

#: The kinds of device a spec may describe.
DEVICE_KINDS = tuple(DeviceKind)

#: The kinds of memory level.
MEMORY_KINDS = tuple(MemoryKind)

#: How a link's bandwidth is stated: the sum of both directions, or one direction.
DUPLEX = ("bidirectional-total", "per-direction")

#: The release status of a device.
STATUSES = tuple(Status)


@dataclass(frozen=True)
class MemoryLevel:
    """A level of the memory hierarchy.

    Attributes
    ----------
    name, label : str
        The level's identifier in figure paths (``"hbm"``) and its display label.
    kind : str
        A :class:`roofline.vocab.MemoryKind` (``"hbm"``, ``"sram"``, ``"cache"``...).
    capacity, bandwidth : Figure
        Capacity [B] and bandwidth [B/s].
    latency : Figure or None
        Access latency [s], where published.
    """

    name: str
    label: str
    kind: str
    capacity: Figure
    bandwidth: Figure
    latency: Figure | None = None

    @property
    def capacity_bytes(self) -> float:
        """Nominal capacity.

        Returns
        -------
        float
            Capacity [B].
        """
        return self.capacity.value

    @property
    def bandwidth_bytes_per_s(self) -> float:
        """Nominal bandwidth.

        Returns
        -------
        float
            Bandwidth [B/s].
        """
        return self.bandwidth.value


@dataclass(frozen=True)
class Link:
    """An interconnect link. ``bandwidth`` is as the source states it; see ``duplex``.

    ``per_direction_bytes_per_s`` is what one direction carries: half of a ``bidirectional-total`` figure.

    Attributes
    ----------
    name, label : str
        The link's identifier in figure paths (``"nvlink"``) and its display label.
    duplex : str
        ``"bidirectional-total"`` or ``"per-direction"`` (see :data:`DUPLEX`).
    bandwidth : Figure
        Bandwidth as published [B/s].
    latency : Figure or None
        Latency per transfer [s], where published.
    domain_size : Figure or None
        Devices one link domain joins [1].
    topology : Topology or None
        How the domain joins its devices (see :mod:`roofline.hardware.topology`); None for a link that
        joins no devices (a host link).
    ports : Figure or None
        Links per device in the domain [1], where published.
    """

    name: str
    label: str
    duplex: str
    bandwidth: Figure
    latency: Figure | None = None
    domain_size: Figure | None = None
    topology: Topology | None = None
    ports: Figure | None = None

    @property
    def shape(self) -> Topology:
        """The topology, or a switch (one step between any two devices) for a link that states none.

        Returns
        -------
        Topology
        """
        return self.topology or SWITCH

    @property
    def per_link_bytes_per_s(self) -> float:
        """Nominal bandwidth of one link in one direction: the per-direction bandwidth over the ports.

        .. math:: BW_{link} = \\frac{f_{dir} \\cdot BW_{published}}{n_{ports}}

        Returns
        -------
        float
            Bandwidth [B/s]; the whole per-direction figure when the ports are not stated.
        """
        return self.per_direction_bytes_per_s / (self.ports.value if self.ports is not None else 1.0)

    def collective_share(self, devices: int) -> float:
        """The share of the per-direction bandwidth a collective over ``devices`` devices can use.

        Parameters
        ----------
        devices : int
            Devices in the group [1].

        Returns
        -------
        float
            [1] (see :meth:`Topology.link_share`).
        """
        return self.shape.link_share(devices, int(self.ports.value) if self.ports is not None else None)

    @property
    def bandwidth_bytes_per_s(self) -> float:
        """Nominal bandwidth as published (see :attr:`duplex`).

        Returns
        -------
        float
            Bandwidth [B/s].
        """
        return self.bandwidth.value

    @property
    def direction_factor(self) -> float:
        """The share of the published bandwidth that one direction carries.

        Returns
        -------
        float
            0.5 for a ``bidirectional-total`` figure, 1 for a ``per-direction`` one [1].
        """
        return 0.5 if self.duplex == "bidirectional-total" else 1.0

    def per_direction(self, which: Corner | str = Corner.NOMINAL) -> float:
        """What one direction carries at corner ``which`` [B/s]: half of a ``bidirectional-total`` figure.

        Parameters
        ----------
        which : Corner or str
            Where in the bandwidth's range to read it.

        Returns
        -------
        float
        """
        return self.bandwidth.at(which) * self.direction_factor

    @property
    def per_direction_bytes_per_s(self) -> float:
        """Nominal bandwidth of one direction.

        .. math:: BW_{dir} = f_{dir} \\cdot BW_{published}

        Returns
        -------
        float
            Bandwidth [B/s].
        """
        return self.bandwidth.value * self.direction_factor

    @property
    def devices_per_domain(self) -> int:
        """Devices one link domain joins (1 when the spec states no domain size).

        Returns
        -------
        int
            Devices [1].
        """
        return int(self.domain_size.value) if self.domain_size is not None else 1


@dataclass(frozen=True)
class Device:
    """An accelerator described by a spec file: immutable, every figure with its source.

    Use :meth:`peak`, :meth:`level` and :meth:`link` for nominal SI floats, :meth:`figure` for the full
    :class:`Figure`, and :meth:`symbol` / :meth:`subs` for SymPy.

    Attributes
    ----------
    key, name, vendor : str
        The library key (``"h100"``), the full name and the vendor.
    kind : str
        A :class:`roofline.vocab.DeviceKind` (``"gpu"``, ``"wafer"``...).
    file : str
        The spec file it was read from.
    aliases : tuple of str
        Other names it is found by.
    year : int or None
        Year of announcement.
    process, status, summary : str
        Process node, :class:`roofline.vocab.Status` and a one-line summary.
    sources : mapping
        ``{source id: {"title": ..., "url": ..., "date": ...}}``.
    compute : mapping
        ``{dtype: {"dense": Figure, "sparse": Figure}}``, peaks [FLOP/s].
    memory : tuple of MemoryLevel
        The memory hierarchy, fastest first (the schema enforces it).
    interconnect : tuple of Link
        The links.
    figures : mapping
        Every figure by path.
    composition : tuple of (str, int) or None
        ``(part key, count)`` for a device built from copies of another.
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
        """The data types the device publishes a peak for, in spec order.

        Returns
        -------
        tuple of str
        """
        return tuple(self.compute)

    def peak(self, dtype: str, sparse: bool = False, which: Corner | str = Corner.NOMINAL) -> float:
        """Peak compute for ``dtype``, dense unless ``sparse``.

        Parameters
        ----------
        dtype : str
            A data type of :data:`roofline.dtypes.DTYPES` (``"bf16"``).
        sparse : bool
            The 2:4-sparse peak instead of the dense one.
        which : Corner or str
            The corner of the figure's range (see :meth:`Figure.at`).

        Returns
        -------
        float
            Peak [FLOP/s].
        """
        return self.peak_figure(dtype, sparse).at(which)

    def peak_figure(self, dtype: str, sparse: bool = False) -> Figure:
        """The :class:`Figure` of the peak for ``dtype``; a clear error if the device publishes none.

        Parameters
        ----------
        dtype : str
            A data type (``"bf16"``).
        sparse : bool
            The sparse peak instead of the dense one.

        Returns
        -------
        Figure
            The peak [FLOP/s] with its source and range.

        Raises
        ------
        UnknownNameError
            If ``dtype`` is no data type at all.
        InputError
            If the device publishes no (sparse) peak for it.
        """
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
        """The memory level called ``name``; suggests names on a typo.

        Parameters
        ----------
        name : str
            ``"hbm"``, ``"sram"``, ``"l2"``...

        Returns
        -------
        MemoryLevel

        Raises
        ------
        UnknownNameError
            Naming the nearest level names.
        """
        return _named(self.memory, name, f"memory level of {self.key}")

    def link(self, name: str) -> Link:
        """The interconnect link called ``name``; suggests names on a typo.

        Parameters
        ----------
        name : str
            ``"nvlink"``, ``"system_io"``...

        Returns
        -------
        Link

        Raises
        ------
        UnknownNameError
            Naming the nearest link names.
        """
        return _named(self.interconnect, name, f"link of {self.key}")

    def figure(self, path: str) -> Figure:
        """The figure at ``path``, with its source, basis and range.

        Parameters
        ----------
        path : str
            A figure path (``"memory.hbm.bandwidth"``).

        Returns
        -------
        Figure

        Raises
        ------
        UnknownNameError
            Naming the nearest figure paths.
        """
        try:
            return self.figures[path]
        except KeyError:
            raise UnknownNameError(f"figure of {self.key}", path, self.figures) from None

    def get(self, path: str, default=None):
        """The nominal value of the figure at ``path``, or ``default`` if the device has none.

        Parameters
        ----------
        path : str
            A figure path (``"power.tdp"``).
        default : object
            Returned when there is no such figure.

        Returns
        -------
        float or object
            The value in the figure's SI unit, or ``default``.
        """
        f = self.figures.get(path)
        return default if f is None else f.value

    @property
    def resident_levels(self) -> list[int]:
        """Indices of the levels that can hold weights between steps: every level that is not a cache or a
        register file, fastest first.

        Returns
        -------
        list of int
        """
        return [i for i, lvl in enumerate(self.memory) if lvl.kind not in CACHE_KINDS]

    @property
    def main_memory_index(self) -> int:
        """Index of the main memory: the fastest level that is not a cache or a register file.

        The one rule for "main memory", used by ``list``, ``compare``, placement, kernels and validation:
        HBM on a GPU, SRAM on a wafer, a Dojo tile or a Groq chip. Weights and the KV cache live there
        unless they must be streamed from a slower level.

        Returns
        -------
        int
            An index into :attr:`memory` (the last level when every level is a cache).
        """
        levels = self.resident_levels
        return levels[0] if levels else len(self.memory) - 1

    @property
    def main_memory(self) -> "MemoryLevel":
        """The main memory level (see :attr:`main_memory_index`).

        Returns
        -------
        MemoryLevel
        """
        return self.memory[self.main_memory_index]

    @property
    def power_w(self) -> float | None:
        """The power the device draws at full load (``power.tdp``), if published.

        Returns
        -------
        float or None
            Power [W].
        """
        return self.get("power.tdp")

    @property
    def is_estimate(self) -> bool:
        """Whether any figure is a range (:attr:`Figure.is_range`): results for this device are ranges too.

        The one definition of "has ranges" for a device; the corners (nominal, best, worst) are evaluated
        for such a device only. The figures of ``[measured]`` (the ceilings of the ``estimate`` mode,
        :mod:`roofline.hardware.measured`) do not count: the bounds never read them.

        Returns
        -------
        bool
        """
        return any(f.is_range for p, f in self.figures.items() if not p.startswith("measured."))

    def values(self, which: Corner | str = Corner.NOMINAL) -> dict[str, float]:
        """Every figure's value at a corner, by path.

        Parameters
        ----------
        which : Corner or str
            ``nominal``, ``low``, ``high``, ``best`` or ``worst`` (see :meth:`Figure.at`).

        Returns
        -------
        dict of str to float
            Values in each figure's SI unit.
        """
        return {p: f.at(which) for p, f in self.figures.items()}

    # -- SymPy ---------------------------------------------------------------------------------------
    def symbol(self, path: str):
        """The SymPy symbol of a figure (positive, real), named after its role: ``P_{bf16}``, ``BW_{hbm}``.

        Parameters
        ----------
        path : str
            A figure path of this device.

        Returns
        -------
        sympy.Symbol
            See :func:`roofline.symbols.figure_symbol`.

        Raises
        ------
        UnknownNameError
            If the device has no figure at ``path``.
        """
        from ..symbols import figure_symbol

        self.figure(path)  # raise on unknown path
        return figure_symbol(path)

    def subs(self, which: Corner | str = Corner.NOMINAL) -> dict:
        """``{symbol: value}`` for every figure, to substitute into an expression.

        Parameters
        ----------
        which : Corner or str
            The corner of each figure's range (see :meth:`Figure.at`).

        Returns
        -------
        dict of sympy.Symbol to float
            Values in each figure's SI unit.
        """
        from ..symbols import figure_symbol

        return {figure_symbol(p): f.at(which) for p, f in self.figures.items() if not p.startswith("measured.")}

    def __repr__(self) -> str:
        return f"Device({self.key!r}, {self.name!r})"

    def _repr_html_(self) -> str:
        """The device as an HTML table for notebooks: every figure with its unit, range, basis and source
        (it takes no parameters).

        Returns
        -------
        str
            An HTML ``<table>``.
        """
        import html

        def cell(x) -> str:
            return html.escape(str(x))

        rows = []
        for path, f in self.figures.items():
            rng = f"{f.low:.4g} – {f.high:.4g}" if f.is_range else ""
            src = "; ".join(self.sources.get(s, {}).get("title", s) for s in f.sources)
            rows.append(f"<tr><td>{cell(path)}</td><td>{f.value:.4g} {cell(f.unit)}</td><td>{cell(rng)}</td>"
                        f"<td>{cell(f.basis)}</td><td>{cell(src)}</td></tr>")
        cap = cell(f"{self.name} ({self.key}): {self.vendor} {self.kind}, {self.year or ''} [{self.status}]")
        return (f"<table><caption>{cap}</caption><thead><tr><th>figure</th><th>value [SI]</th><th>range</th>"
                f"<th>basis</th><th>source</th></tr></thead><tbody>{''.join(rows)}</tbody></table>")


def _named(items, name: str, what: str):
    """The item of ``items`` whose ``name`` is ``name``, else :class:`UnknownNameError` naming the nearest."""
    for it in items:
        if it.name == name:
            return it
    raise UnknownNameError(what, name, [it.name for it in items])
