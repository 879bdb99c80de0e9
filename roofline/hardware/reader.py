"""Load and validate device spec files (``hardware_specs/*.toml``) into immutable :class:`Device` objects.

The spec format is described in ``docs/spec-format.md``. Units are parsed here, once, with pint (see
:mod:`roofline.units`); derived figures are computed here from their formulas; and every schema problem
raises :class:`~roofline.errors.SpecError` naming the file, the field and what was expected. Nothing
downstream of this module knows about files or units.
"""

from __future__ import annotations

from pathlib import Path
from types import MappingProxyType
from typing import Mapping

from ..errors import SpecError
from .device import (
    DEVICE_KINDS,
    DTYPES,
    DUPLEX,
    MEMORY_KINDS,
    STATUSES,
    Device,
    Link,
    MemoryLevel,
)
from .formula import _evaluate
from .schema import (
    _DEVICE_KEYS,
    _SOURCE_KEYS,
    _TOP_KEYS,
    _ident,
    _RawFigure,
    _str,
    _str_list,
    _table,
    _unknown,
)

__all__ = []
























def _build_device(f: Path, doc: dict, part: Device | None) -> Device:
    if not isinstance(doc, dict):
        raise SpecError(f, "", "expected a TOML document")
    _unknown(doc, _TOP_KEYS, f, "")
    schema = doc.get("schema", 1)
    if schema != 1:
        raise SpecError(f, "schema", f"expected 1, got {schema!r}")
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

    raws: list[_RawFigure] = []

    # compute
    compute_doc = _table(doc, "compute", f, "compute")
    if not compute_doc:
        raise SpecError(f, "compute", "expected at least one data type with a dense peak")
    for dt, kinds in compute_doc.items():
        if dt not in DTYPES:
            raise SpecError(f, f"compute.{dt}", f"unknown data type; expected one of: {', '.join(DTYPES)}")
        if not isinstance(kinds, dict):
            raise SpecError(f, f"compute.{dt}", "expected a table with 'dense' (and optionally 'sparse')")
        _unknown(kinds, {"dense", "sparse"}, f, f"compute.{dt}")
        if "dense" not in kinds:
            raise SpecError(f, f"compute.{dt}.dense", "missing (every data type needs its dense peak)")
        for k, spec in kinds.items():
            raws.append(_RawFigure(f"compute.{dt}.{k}", spec, "flops", True))

    # memory
    mem_doc = doc.get("memory")
    if not isinstance(mem_doc, list) or not mem_doc:
        raise SpecError(f, "memory", "expected at least one [[memory]] level, fastest first")
    mem_meta = []
    seen = set()
    for i, m in enumerate(mem_doc):
        p = f"memory[{i}]"
        if not isinstance(m, dict):
            raise SpecError(f, p, "expected a table")
        _unknown(m, {"name", "label", "kind", "capacity", "bandwidth", "latency"}, f, p)
        mname = _ident(m, "name", f, f"{p}.name")
        if mname in seen:
            raise SpecError(f, f"{p}.name", f"duplicate memory level {mname!r}")
        seen.add(mname)
        mkind = _str(m, "kind", f, f"memory.{mname}.kind", choices=MEMORY_KINDS)
        mem_meta.append((mname, m.get("label", mname), mkind))
        for fld, dim in (("capacity", "bytes"), ("bandwidth", "bytes_per_s")):
            if fld not in m:
                raise SpecError(f, f"memory.{mname}.{fld}", "missing (every memory level needs capacity and bandwidth)")
            raws.append(_RawFigure(f"memory.{mname}.{fld}", m[fld], dim, True))
        if "latency" in m:
            raws.append(_RawFigure(f"memory.{mname}.latency", m["latency"], "seconds", False))

    # interconnect
    ic_doc = doc.get("interconnect", [])
    if not isinstance(ic_doc, list):
        raise SpecError(f, "interconnect", "expected [[interconnect]] entries")
    link_meta = []
    seen = set()
    for i, lk in enumerate(ic_doc):
        p = f"interconnect[{i}]"
        if not isinstance(lk, dict):
            raise SpecError(f, p, "expected a table")
        _unknown(lk, {"name", "label", "duplex", "bandwidth", "latency", "domain_size"}, f, p)
        lname = _ident(lk, "name", f, f"{p}.name")
        if lname in seen:
            raise SpecError(f, f"{p}.name", f"duplicate link {lname!r}")
        seen.add(lname)
        duplex = _str(lk, "duplex", f, f"interconnect.{lname}.duplex", choices=DUPLEX)
        link_meta.append((lname, lk.get("label", lname), duplex))
        if "bandwidth" not in lk:
            raise SpecError(f, f"interconnect.{lname}.bandwidth", "missing")
        raws.append(_RawFigure(f"interconnect.{lname}.bandwidth", lk["bandwidth"], "bytes_per_s", True))
        if "latency" in lk:
            raws.append(_RawFigure(f"interconnect.{lname}.latency", lk["latency"], "seconds", False))
        if "domain_size" in lk:
            raws.append(_RawFigure(f"interconnect.{lname}.domain_size", lk["domain_size"], "count", True))

    # power, architecture, overheads, mesh
    power = _table(doc, "power", f, "power", required=False)
    for k, spec in power.items():
        raws.append(_RawFigure(f"power.{k}", spec, "watts", True))
    for sect, dim in (("architecture", None), ("overheads", "seconds"), ("mesh", None)):
        for k, spec in _table(doc, sect, f, sect, required=False).items():
            if not isinstance(k, str) or not k.isidentifier():
                raise SpecError(f, f"{sect}.{k}", "expected an identifier as the figure name")
            raws.append(_RawFigure(f"{sect}.{k}", spec, dim, sect != "overheads"))

    composition = None
    comp = _table(doc, "composition", f, "composition", required=False)
    if comp:
        _unknown(comp, {"part", "count"}, f, "composition")
        pkey = _str(comp, "part", f, "composition.part")
        if part is None or part.key != pkey:
            raise SpecError(f, "composition.part", f"unknown device {pkey!r}")
        if "count" not in comp:
            raise SpecError(f, "composition.count", "missing")
        raws.append(_RawFigure("composition.count", comp["count"], "count", True))

    figures = _evaluate(f, raws, sources, part)

    if comp:
        composition = (comp["part"], int(figures["composition.count"].value))
    identity = dict(key=key, name=name, vendor=vendor, kind=kind, file=str(f),
                    aliases=tuple(_str_list(dev, "aliases", f, "device.aliases")), year=year,
                    process=dev.get("process", ""), status=status, summary=dev.get("summary", ""))
    return _assemble(identity, sources, {dt: list(kinds) for dt, kinds in compute_doc.items()}, mem_meta, link_meta,
                     figures, composition)


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

