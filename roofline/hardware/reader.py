"""Read one parsed spec document into a :class:`Device`: one reader per section, driven by a table.

Each reader checks its section against the schema, records the device's layout (identity, sources, data
types, memory levels, links, composition) on a :class:`_Draft` and queues the section's figures as raw
figures. The formula interpreter (:mod:`.formula`) then turns every raw figure into a :class:`Figure`, the
schema's cross-section rules are checked (memory levels fastest first), and :func:`_assemble` builds the
immutable device. :func:`_assemble` also rebuilds a device from the loader's cache.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from types import MappingProxyType
from typing import Callable, Mapping

from ..errors import SpecError
from ..roles import role_of
from .device import DEVICE_KINDS, DTYPES, DUPLEX, MEMORY_KINDS, STATUSES, Device, Link, MemoryLevel
from .formula import _evaluate
from .schema import (
    _DEVICE_KEYS,
    _LINK_KEYS,
    _MEMORY_KEYS,
    _SOURCE_KEYS,
    _TOP_KEYS,
    _check_fastest_first,
    _check_schema_version,
    _check_whole_counts,
    _ident,
    _RawFigure,
    _str,
    _str_list,
    _table,
    _unknown,
)

__all__: list[str] = []


@dataclass
class _Draft:
    """What the section readers learn about a device before its figures are evaluated."""

    part: Device | None
    identity: dict = field(default_factory=dict)
    sources: dict = field(default_factory=dict)
    compute_kinds: dict[str, list[str]] = field(default_factory=dict)
    memory: list[tuple[str, str, str]] = field(default_factory=list)        # (name, label, kind)
    links: list[tuple[str, str, str]] = field(default_factory=list)         # (name, label, duplex)
    part_key: str | None = None
    raws: list[_RawFigure] = field(default_factory=list)

    def role_figure(self, path: str, spec) -> None:
        """Queue the raw figure at ``path`` with the dimension and sign of its role.

        Parameters
        ----------
        path : str
            The figure's path; its role (:func:`roofline.roles.role_of`) gives the dimension and sign.
        spec : object
            Its inline table as read from the file.
        """
        role = role_of(path)
        self.figure(path, spec, role.dimension, role.positive)

    def figure(self, path: str, spec, dimension: str | None, positive: bool) -> None:
        """Queue the raw figure at ``path`` for evaluation.

        Parameters
        ----------
        path : str
            The figure's path (``"memory.hbm.bandwidth"``).
        spec : object
            Its inline table as read from the file (checked later).
        dimension : str or None
            The dimension it must have (:data:`roofline.units.DIMENSIONS`), or None for any.
        positive : bool
            Whether zero is refused as well as negative values.

        Returns
        -------
        None
        """
        self.raws.append(_RawFigure(path, spec, dimension, positive))


# ----------------------------------------------------------------------------------------------------
# one reader per section
# ----------------------------------------------------------------------------------------------------
def _read_identity(f: Path, doc: dict, d: _Draft) -> None:
    """``[device]``: key, name, vendor, kind, status, year and the free-text fields."""
    dev = _table(doc, "device", f, "device")
    _unknown(dev, _DEVICE_KEYS, f, "device")
    key = _ident(dev, "key", f, "device.key", pattern="key")
    name = _str(dev, "name", f, "device.name")
    vendor = _str(dev, "vendor", f, "device.vendor")
    kind = _str(dev, "kind", f, "device.kind", choices=DEVICE_KINDS)
    status = _str(dev, "status", f, "device.status", required=False, choices=STATUSES) or "released"
    year = dev.get("year")
    if year is not None and (not isinstance(year, int) or isinstance(year, bool) or not 1950 < year < 2100):
        raise SpecError(f, "device.year", f"expected a year such as 2024, got {year!r}")
    d.identity = dict(key=key, name=name, vendor=vendor, kind=kind, file=str(f),
                      aliases=tuple(_str_list(dev, "aliases", f, "device.aliases")), year=year,
                      process=dev.get("process", ""), status=status, summary=dev.get("summary", ""))


def _read_sources(f: Path, doc: dict, d: _Draft) -> None:
    """``[sources.<id>]``: at least one, each with a title, a url or publisher, and a date."""
    sources = _table(doc, "sources", f, "sources")
    if not sources:
        raise SpecError(f, "sources", "expected at least one source")
    for sid, s in sources.items():
        if not isinstance(s, dict):
            raise SpecError(f, f"sources.{sid}", "expected a table with title, url, date")
        _unknown(s, _SOURCE_KEYS, f, f"sources.{sid}")
        _str(s, "title", f, f"sources.{sid}.title")
        if "url" not in s and "publisher" not in s:
            raise SpecError(f, f"sources.{sid}", "expected a url or a publisher")
        _str(s, "date", f, f"sources.{sid}.date")
    d.sources = sources


def _read_compute(f: Path, doc: dict, d: _Draft) -> None:
    """``[compute.<dtype>]``: a dense peak for every data type, and a sparse one where published."""
    compute = _table(doc, "compute", f, "compute")
    if not compute:
        raise SpecError(f, "compute", "expected at least one data type with a dense peak")
    for dt, kinds in compute.items():
        if dt not in DTYPES:
            raise SpecError(f, f"compute.{dt}", f"unknown data type; expected one of: {', '.join(DTYPES)}")
        if not isinstance(kinds, dict):
            raise SpecError(f, f"compute.{dt}", "expected a table with 'dense' (and optionally 'sparse')")
        _unknown(kinds, {"dense", "sparse"}, f, f"compute.{dt}")
        if "dense" not in kinds:
            raise SpecError(f, f"compute.{dt}.dense", "missing (every data type needs its dense peak)")
        for k, spec in kinds.items():
            d.role_figure(f"compute.{dt}.{k}", spec)
        d.compute_kinds[dt] = list(kinds)


def _read_memory(f: Path, doc: dict, d: _Draft) -> None:
    """``[[memory]]``: the levels, fastest first, each with a capacity, a bandwidth and maybe a latency."""
    levels = doc.get("memory")
    if not isinstance(levels, list) or not levels:
        raise SpecError(f, "memory", "expected at least one [[memory]] level, fastest first")
    seen: set[str] = set()
    for i, m in enumerate(levels):
        name = _entry_name(f, m, f"memory[{i}]", _MEMORY_KEYS, seen, "memory level")
        kind = _str(m, "kind", f, f"memory.{name}.kind", choices=MEMORY_KINDS)
        d.memory.append((name, m.get("label", name), kind))
        for fld in ("capacity", "bandwidth"):
            if fld not in m:
                raise SpecError(f, f"memory.{name}.{fld}", "missing (every memory level needs capacity and bandwidth)")
            d.role_figure(f"memory.{name}.{fld}", m[fld])
        if "latency" in m:
            d.role_figure(f"memory.{name}.latency", m["latency"])


def _read_interconnect(f: Path, doc: dict, d: _Draft) -> None:
    """``[[interconnect]]``: the links, each with a duplex, a bandwidth, maybe a latency and a domain size."""
    links = doc.get("interconnect", [])
    if not isinstance(links, list):
        raise SpecError(f, "interconnect", "expected [[interconnect]] entries")
    seen: set[str] = set()
    for i, lk in enumerate(links):
        name = _entry_name(f, lk, f"interconnect[{i}]", _LINK_KEYS, seen, "link")
        duplex = _str(lk, "duplex", f, f"interconnect.{name}.duplex", choices=DUPLEX)
        d.links.append((name, lk.get("label", name), duplex))
        if "bandwidth" not in lk:
            raise SpecError(f, f"interconnect.{name}.bandwidth", "missing")
        for fld in ("bandwidth", "latency", "domain_size"):
            if fld in lk:
                d.role_figure(f"interconnect.{name}.{fld}", lk[fld])


#: The datasheet figures a ``[measured]`` figure may stand beside: its path is ``measured.`` + one of these.
_MEASURABLE = (("memory", "bandwidth"), ("compute", "dense"), ("compute", "sparse"), ("interconnect", "bandwidth"))


def _read_measured(f: Path, doc: dict, d: _Draft) -> None:
    """``[measured]``: achievable rates from microbenchmarks, each beside the datasheet figure it measures
    (``[measured.memory.hbm]`` ``bandwidth = {...}`` measures ``memory.hbm.bandwidth``)."""
    measured = _table(doc, "measured", f, "measured", required=False)
    known = {r.path for r in d.raws}
    for section, tables in measured.items():
        if not isinstance(tables, dict):
            raise SpecError(f, f"measured.{section}", "expected tables such as [measured.memory.hbm]")
        for name, fields in tables.items():
            if not isinstance(fields, dict):
                raise SpecError(f, f"measured.{section}.{name}", "expected a table of measured figures")
            for fld, spec in fields.items():
                path = f"{section}.{name}.{fld}"
                if (section, fld) not in _MEASURABLE or path not in known:
                    raise SpecError(f, f"measured.{path}", "expected the path of a datasheet figure of this file "
                                    "(memory.<level>.bandwidth, compute.<dtype>.dense|sparse, "
                                    "interconnect.<link>.bandwidth)")
                if not isinstance(spec, dict) or spec.get("basis") != "measured":
                    raise SpecError(f, f"measured.{path}.basis", "expected basis = \"measured\"")
                role = role_of(path)
                d.figure(f"measured.{path}", spec, role.dimension, role.positive)


def _entry_name(f: Path, entry, where: str, allowed: set, seen: set[str], what: str) -> str:
    """The checked, unique name of one ``[[memory]]`` or ``[[interconnect]]`` entry."""
    if not isinstance(entry, dict):
        raise SpecError(f, where, "expected a table")
    _unknown(entry, allowed, f, where)
    name = _ident(entry, "name", f, f"{where}.name")
    if name in seen:
        raise SpecError(f, f"{where}.name", f"duplicate {what} {name!r}")
    seen.add(name)
    return name


def _read_figure_table(f: Path, doc: dict, d: _Draft, *, section: str, identifiers: bool) -> None:
    """``[power]``, ``[architecture]``, ``[overheads]``, ``[mesh]``: a table of named figures, each with the
    dimension and sign of its role (:data:`roofline.roles.ROLES`)."""
    for k, spec in _table(doc, section, f, section, required=False).items():
        if identifiers and (not isinstance(k, str) or not k.isidentifier()):
            raise SpecError(f, f"{section}.{k}", "expected an identifier as the figure name")
        d.role_figure(f"{section}.{k}", spec)


def _read_composition(f: Path, doc: dict, d: _Draft) -> None:
    """``[composition]``: the part a device is built from and how many of it."""
    comp = _table(doc, "composition", f, "composition", required=False)
    if not comp:
        return
    _unknown(comp, {"part", "count"}, f, "composition")
    pkey = _str(comp, "part", f, "composition.part")
    if d.part is None or d.part.key != pkey:
        raise SpecError(f, "composition.part", f"unknown device {pkey!r}")
    if "count" not in comp:
        raise SpecError(f, "composition.count", "missing")
    d.part_key = pkey
    d.role_figure("composition.count", comp["count"])


#: The section readers, in the order the figures of a device are listed.
_SECTIONS: tuple[tuple[str, Callable[[Path, dict, _Draft], None]], ...] = (
    ("device", _read_identity),
    ("sources", _read_sources),
    ("compute", _read_compute),
    ("memory", _read_memory),
    ("interconnect", _read_interconnect),
    ("power", partial(_read_figure_table, section="power", identifiers=False)),
    ("architecture", partial(_read_figure_table, section="architecture", identifiers=True)),
    ("overheads", partial(_read_figure_table, section="overheads", identifiers=True)),
    ("mesh", partial(_read_figure_table, section="mesh", identifiers=True)),
    ("composition", _read_composition),
    ("measured", _read_measured),
)


# ----------------------------------------------------------------------------------------------------
# the whole document
# ----------------------------------------------------------------------------------------------------
def _build_device(f: Path, doc: dict, part: Device | None) -> Device:
    """Read, evaluate and check one spec document; ``part`` is the device a ``[composition]`` names."""
    if not isinstance(doc, dict):
        raise SpecError(f, "", "expected a TOML document")
    _unknown(doc, _TOP_KEYS, f, "")
    _check_schema_version(doc, f)
    draft = _Draft(part=part)
    for _section, read in _SECTIONS:
        read(f, doc, draft)
    figures = _evaluate(f, draft.raws, draft.sources, part)
    _check_fastest_first(f, [name for name, _, _ in draft.memory], figures)
    _check_whole_counts(f, figures)
    composition = None
    if draft.part_key is not None:
        composition = (draft.part_key, int(figures["composition.count"].value))
    return _assemble(draft.identity, draft.sources, draft.compute_kinds, draft.memory, draft.links, figures,
                     composition)


def _assemble(identity: dict, sources: Mapping, compute_kinds: Mapping, mem_meta, link_meta,
              figures: dict, composition) -> Device:
    """Build the immutable Device from its identity, layout (levels, links, data types) and figures."""
    compute = {dt: MappingProxyType({k: figures[f"compute.{dt}.{k}"] for k in kinds})
               for dt, kinds in compute_kinds.items()}
    memory = tuple(MemoryLevel(n, lbl, mk, figures[f"memory.{n}.capacity"], figures[f"memory.{n}.bandwidth"],
                               figures.get(f"memory.{n}.latency")) for n, lbl, mk in mem_meta)
    links = tuple(Link(n, lbl, dx, figures[f"interconnect.{n}.bandwidth"], figures.get(f"interconnect.{n}.latency"),
                       figures.get(f"interconnect.{n}.domain_size")) for n, lbl, dx in link_meta)
    return Device(**identity, sources=MappingProxyType({k: MappingProxyType(dict(v)) for k, v in sources.items()}),
                  compute=MappingProxyType(compute), memory=memory, interconnect=links,
                  figures=MappingProxyType(figures), composition=tuple(composition) if composition else None)
