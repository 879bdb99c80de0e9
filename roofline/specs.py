"""Load and validate device spec files (``hardware_specs/*.toml``) into immutable :class:`Device` objects.

The spec format is described in ``docs/spec-format.md``. Units are parsed here, once, with pint (see
:mod:`roofline.units`); derived figures are computed here from their formulas; and every schema problem
raises :class:`~roofline.errors.SpecError` naming the file, the field and what was expected. Nothing
downstream of this module knows about files or units.
"""

from __future__ import annotations

import ast
import itertools
import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any, Iterable, Mapping

from .errors import SpecError
from .units import DIMENSIONS, UnitError, quantity_in, to_quantity

__all__ = [
    "Figure",
    "MemoryLevel",
    "Link",
    "Device",
    "DTYPES",
    "BASES",
    "load_spec_file",
    "load_specs",
    "spec_search_path",
    "builtin_spec_dir",
]

#: Data types a spec may give a peak for.
DTYPES = ("fp64", "fp64_tensor", "fp32", "tf32", "bf16", "fp16", "fp8", "cfp8", "int8", "fp6", "fp4", "int4")
#: The bases a figure may have.
BASES = ("datasheet", "measured", "derived", "estimate")
DEVICE_KINDS = ("gpu", "wafer", "tile", "chip", "soc", "tpu", "other")
MEMORY_KINDS = ("register", "sram", "cache", "hbm", "dram", "external")
DUPLEX = ("bidirectional-total", "per-direction")
STATUSES = ("released", "announced", "unreleased", "discontinued")

_TOP_KEYS = {"schema", "device", "sources", "compute", "memory", "interconnect", "power", "architecture",
             "overheads", "mesh", "composition"}
_DEVICE_KEYS = {"key", "aliases", "name", "vendor", "kind", "year", "process", "status", "summary"}
_FIGURE_KEYS = {"value", "basis", "source", "locator", "low", "high", "formula", "published", "tolerance", "note"}
_SOURCE_KEYS = {"title", "publisher", "url", "date", "authors", "locator", "note"}


@dataclass(frozen=True)
class Figure:
    """One number of a device, with its provenance.

    ``value``, ``low`` and ``high`` are SI floats (bytes, bytes/s, FLOP/s, s, W, Hz, or a count); ``low``
    and ``high`` equal ``value`` unless the figure is an estimate (or derived from one).
    """

    path: str
    value: float
    dimension: str
    basis: str
    sources: tuple[str, ...]
    low: float
    high: float
    text: str = ""
    note: str = ""
    locator: str = ""
    formula: str = ""
    published: float | None = None

    @property
    def is_range(self) -> bool:
        """True when the figure is known only as a range (an estimate, or derived from one)."""
        return self.low != self.value or self.high != self.value or self.basis == "estimate"

    def at(self, which: str = "nominal") -> float:
        """The value at ``which``: ``"nominal"``, ``"low"``, ``"high"``, or the end of the range that makes
        the device faster (``"best"``) or slower (``"worst"``): for a time (a latency) ``best`` is ``low``;
        for everything else (peaks, bandwidths, capacities) ``best`` is ``high``."""
        if which == "best":
            which = "low" if self.dimension == "seconds" else "high"
        elif which == "worst":
            which = "high" if self.dimension == "seconds" else "low"
        return {"nominal": self.value, "low": self.low, "high": self.high}[which]

    @property
    def unit(self) -> str:
        return DIMENSIONS[self.dimension][1]


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
        from .errors import InputError, UnknownNameError

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
        from .errors import UnknownNameError

        raise UnknownNameError(f"memory level of {self.key}", name, [m.name for m in self.memory])

    def link(self, name: str) -> Link:
        """The interconnect link called ``name`` (``"nvlink"``, ``"system_io"``...)."""
        for lk in self.interconnect:
            if lk.name == name:
                return lk
        from .errors import UnknownNameError

        raise UnknownNameError(f"link of {self.key}", name, [lk.name for lk in self.interconnect])

    def figure(self, path: str) -> Figure:
        """The figure at ``path`` (``"memory.hbm.bandwidth"``), with its source, basis and range."""
        try:
            return self.figures[path]
        except KeyError:
            from .errors import UnknownNameError

            raise UnknownNameError(f"figure of {self.key}", path, self.figures) from None

    def get(self, path: str, default=None):
        """The nominal SI value of the figure at ``path``, or ``default`` if the device has none."""
        f = self.figures.get(path)
        return default if f is None else f.value

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
        from .symbols import figure_symbol

        self.figure(path)  # raise on unknown path
        return figure_symbol(path)

    def subs(self, which: str = "nominal") -> dict:
        """``{symbol: value}`` for every figure, to substitute into an expression."""
        from .symbols import figure_symbol

        return {figure_symbol(p): f.at(which) for p, f in self.figures.items()}

    def __repr__(self) -> str:
        return f"Device({self.key!r}, {self.name!r})"


# ----------------------------------------------------------------------------------------------------
# loading
# ----------------------------------------------------------------------------------------------------
def builtin_spec_dir() -> Path:
    """The spec folder shipped with the package (in a wheel) or at the top of a source checkout."""
    from ._paths import data_dir

    return data_dir("hardware_specs")


def spec_search_path(extra: Iterable[str | os.PathLike] = ()) -> list[Path]:
    """Spec files and folders, in order: the built-in library, ``ROOFLINE_SPEC_PATH``, then ``extra``."""
    paths = [builtin_spec_dir()]
    from ._paths import spec_paths

    paths += spec_paths()
    paths += [Path(p) for p in extra]
    return paths


def _spec_files(paths: Iterable[Path]) -> list[Path]:
    files: list[Path] = []
    for p in paths:
        if p.is_dir():
            files += sorted(p.glob("*.toml"))
        elif p.is_file():
            files.append(p)
        else:
            raise SpecError(p, "", "no such spec file or folder")
    return files


def load_specs(extra: Iterable[str | os.PathLike] = ()) -> dict[str, Device]:
    """Load every spec on the search path (see :func:`spec_search_path`) into ``{key: Device}``.

    Raises
    ------
    SpecError
        For the first file that breaks the schema, or a key / alias used twice (naming both files).
    """
    files = _spec_files(spec_search_path(extra))
    raw: dict[str, tuple[Path, dict]] = {}
    names: dict[str, Path] = {}
    for f in files:
        doc = _read_toml(f)
        dev = _table(doc, "device", f, "device")
        key = _ident(dev, "key", f, "device.key", pattern="key")
        for name in [key, *_str_list(dev, "aliases", f, "device.aliases")]:
            lname = name.lower()
            if lname in names:
                raise SpecError(f, "device.key" if name == key else "device.aliases",
                                f"duplicate device key or alias {name!r}: already used by {names[lname]}")
            names[lname] = f
        raw[key] = (f, doc)
    devices: dict[str, Device] = {}
    hashes: dict[str, str] = {}

    def build(key: str, stack: tuple[str, ...] = ()) -> Device:
        if key in devices:
            return devices[key]
        f, doc = raw[key]
        part = None
        comp = doc.get("composition")
        if isinstance(comp, dict) and isinstance(comp.get("part"), str):
            pkey = comp["part"]
            if pkey not in raw:
                from .errors import suggest

                hint = suggest(pkey, raw)
                raise SpecError(f, "composition.part", f"unknown device {pkey!r}"
                                + (f"; did you mean {hint[0]!r}?" if hint else ""))
            if pkey in stack:
                raise SpecError(f, "composition.part", f"circular composition {' -> '.join(stack + (pkey,))}")
            part = build(pkey, stack + (key,))
        digest = _file_digest(f, hashes.get(part.key, "") if part is not None else "")
        hashes[key] = digest
        dev = _cached_device(digest)
        if dev is None:
            dev = _build_device(f, doc, part)
            _store_device(digest, dev)
        devices[key] = dev
        return dev

    for key in raw:
        build(key)
    return devices


# ----------------------------------------------------------------------------------------------------
# a cache of validated devices, so that a warm run parses no units (pint is slow to import)
# ----------------------------------------------------------------------------------------------------
def _file_digest(f: Path, part_digest: str) -> str:
    import hashlib

    here = Path(__file__).resolve().parent
    h = hashlib.sha256()
    for p in (here / "specs.py", here / "units.py", here / "units_defs.txt"):
        h.update(p.read_bytes())
    h.update(str(f.resolve()).encode())
    h.update(f.read_bytes())
    h.update(part_digest.encode())
    return h.hexdigest()[:32]


def _fig_json(fig: Figure) -> dict:
    return dict(fig.__dict__, sources=list(fig.sources))


def _fig_from(d: dict) -> Figure:
    return Figure(**{**d, "sources": tuple(d["sources"])})


def _store_device(digest: str, dev: Device) -> None:
    import json
    import tempfile

    from .cache import cache_dir

    folder = cache_dir()
    if folder is None:
        return
    doc = {
        "key": dev.key, "name": dev.name, "vendor": dev.vendor, "kind": dev.kind, "file": dev.file,
        "aliases": list(dev.aliases), "year": dev.year, "process": dev.process, "status": dev.status,
        "summary": dev.summary, "sources": {k: dict(v) for k, v in dev.sources.items()},
        "figures": {p: _fig_json(f) for p, f in dev.figures.items()},
        "compute": {dt: list(k) for dt, k in dev.compute.items()},
        "memory": [[m.name, m.label, m.kind] for m in dev.memory],
        "interconnect": [[lk.name, lk.label, lk.duplex] for lk in dev.interconnect],
        "composition": list(dev.composition) if dev.composition else None,
    }
    try:
        folder = folder / "specs"
        folder.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=folder, suffix=".tmp")
        with os.fdopen(fd, "w") as fh:
            json.dump(doc, fh)
        os.replace(tmp, folder / f"{digest}.json")
    except OSError:
        pass


def _cached_device(digest: str) -> Device | None:
    import json

    from .cache import cache_dir

    folder = cache_dir()
    if folder is None:
        return None
    p = folder / "specs" / f"{digest}.json"
    if not p.exists():
        return None
    try:
        with open(p) as fh:
            d = json.load(fh)
        figs = {k: _fig_from(v) for k, v in d["figures"].items()}
        identity = {k: d[k] for k in ("key", "name", "vendor", "kind", "file", "year", "process", "status", "summary")}
        identity["aliases"] = tuple(d["aliases"])
        return _assemble(identity, d["sources"], d["compute"], d["memory"], d["interconnect"], figs, d["composition"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def load_spec_file(path: str | os.PathLike, part: Device | None = None) -> Device:
    """Load one spec file. A ``[composition]`` part is looked up in the library unless given."""
    f = Path(path)
    doc = _read_toml(f)
    comp = doc.get("composition")
    if part is None and isinstance(comp, dict) and isinstance(comp.get("part"), str):
        lib = load_specs()
        if comp["part"] not in lib:
            raise SpecError(f, "composition.part", f"unknown device {comp['part']!r}")
        part = lib[comp["part"]]
    return _build_device(f, doc, part)


def _read_toml(f: Path) -> dict:
    try:
        with open(f, "rb") as fh:
            return tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        raise SpecError(f, "", f"not valid TOML ({exc})") from None
    except OSError as exc:
        raise SpecError(f, "", f"cannot read ({exc.strerror})") from None


# ----------------------------------------------------------------------------------------------------
# schema checks
# ----------------------------------------------------------------------------------------------------
def _table(doc: dict, key: str, f: Path, path: str, required: bool = True) -> dict:
    if key not in doc:
        if required:
            raise SpecError(f, path, "missing (expected a table)")
        return {}
    v = doc[key]
    if not isinstance(v, dict):
        raise SpecError(f, path, f"expected a table, got {type(v).__name__}")
    return v


def _str(d: dict, key: str, f: Path, path: str, required: bool = True, choices=None) -> str:
    if key not in d:
        if required:
            raise SpecError(f, path, "missing (expected a string)")
        return ""
    v = d[key]
    if not isinstance(v, str) or not v.strip():
        raise SpecError(f, path, f"expected a non-empty string, got {v!r}")
    if choices is not None and v not in choices:
        raise SpecError(f, path, f"expected one of {', '.join(choices)}; got {v!r}")
    return v


def _str_list(d: dict, key: str, f: Path, path: str) -> list[str]:
    v = d.get(key, [])
    if isinstance(v, str):
        v = [v]
    if not isinstance(v, list) or not all(isinstance(x, str) and x for x in v):
        raise SpecError(f, path, f"expected a list of strings, got {v!r}")
    return v


def _ident(d: dict, key: str, f: Path, path: str, pattern: str = "name") -> str:
    import re

    v = _str(d, key, f, path)
    rx = r"^[a-z0-9][a-z0-9.\-]*$" if pattern == "key" else r"^[a-z][a-z0-9_]*$"
    if not re.match(rx, v):
        what = ("lower-case letters, digits, '-' and '.'" if pattern == "key"
                else "an identifier: lower-case letters, digits and '_', starting with a letter")
        raise SpecError(f, path, f"expected {what}; got {v!r}")
    return v


def _unknown(d: dict, allowed: set, f: Path, path: str) -> None:
    extra = sorted(set(d) - allowed)
    if extra:
        raise SpecError(f, f"{path}.{extra[0]}" if path else extra[0],
                        f"unknown field; expected one of: {', '.join(sorted(allowed))}")


class _RawFigure:
    """A figure read from the file but not yet evaluated (derived figures need the others first)."""

    def __init__(self, path: str, spec: Any, dimension: str | None, positive: bool):
        self.path, self.spec, self.dimension, self.positive = path, spec, dimension, positive


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


# ----------------------------------------------------------------------------------------------------
# figures: parse plain ones, then evaluate derived ones in dependency order
# ----------------------------------------------------------------------------------------------------
def _dimension_of(q, f: Path, path: str) -> str:
    for name in DIMENSIONS:
        try:
            quantity_in(q, name)
            return name
        except UnitError:
            continue
    raise SpecError(f, path, f"unsupported dimension {q.dimensionality}")


def _evaluate(f: Path, raws: list[_RawFigure], sources: dict, part: Device | None) -> dict[str, Figure]:
    figures: dict[str, Figure] = {}
    pending: dict[str, tuple[_RawFigure, ast.Expression]] = {}
    quantities: dict[str, tuple[Any, Any, Any]] = {}  # path -> (nominal, low, high) pint quantities

    for r in raws:
        spec, path = r.spec, r.path
        if not isinstance(spec, dict):
            raise SpecError(f, path, "expected an inline table such as "
                            "{ value = \"3.35 TB/s\", basis = \"datasheet\", source = \"...\" }")
        _unknown(spec, _FIGURE_KEYS, f, path)
        basis = _str(spec, "basis", f, f"{path}.basis", choices=BASES)
        src = spec.get("source")
        ids = [src] if isinstance(src, str) else src
        if not ids or not isinstance(ids, list) or not all(isinstance(s, str) for s in ids):
            raise SpecError(f, f"{path}.source", "missing (expected the id of a [sources] entry, or a list of ids)")
        for s in ids:
            if s not in sources:
                raise SpecError(f, f"{path}.source", f"unknown source id {s!r}; [sources] has: {', '.join(sources)}")
        if basis == "derived":
            if "formula" not in spec:
                raise SpecError(f, f"{path}.formula", "missing (a derived figure states the formula it is computed by)")
            try:
                tree = ast.parse(str(spec["formula"]), mode="eval")
            except SyntaxError:
                raise SpecError(f, f"{path}.formula", f"not an arithmetic expression: {spec['formula']!r}") from None
            pending[path] = (r, tree)
            continue
        if "formula" in spec or "published" in spec:
            raise SpecError(f, f"{path}.formula", "only a figure with basis = \"derived\" has a formula")
        if "value" not in spec:
            raise SpecError(f, f"{path}.value", "missing (expected a quantity such as \"3.35 TB/s\")")
        q = _parse(spec["value"], f, f"{path}.value")
        if basis == "estimate":
            for b in ("low", "high"):
                if b not in spec:
                    raise SpecError(f, f"{path}.{b}", "missing (an estimate states its range: low and high)")
            if not spec.get("note"):
                raise SpecError(f, f"{path}.note", "missing (an estimate says what it rests on)")
        elif "low" in spec or "high" in spec:
            raise SpecError(f, f"{path}.low", "only an estimate has a range; set basis = \"estimate\"")
        ql = _parse(spec["low"], f, f"{path}.low") if "low" in spec else q
        qh = _parse(spec["high"], f, f"{path}.high") if "high" in spec else q
        quantities[path] = (q, ql, qh)
        figures[path] = _make_figure(f, r, spec, basis, ids, q, ql, qh)

    # derived figures: evaluate in dependency order
    def names_in(tree) -> list[str]:
        out = []
        for node in ast.walk(tree):
            if isinstance(node, (ast.Name, ast.Attribute)):
                dotted = _dotted(node)
                if dotted is not None and not any(o.startswith(dotted + ".") for o in out):
                    out.append(dotted)
        return [n for n in out if not any(m != n and m.startswith(n + ".") for m in out)]

    part_q = {}
    if part is not None:
        for p, fig in part.figures.items():
            unit = DIMENSIONS[fig.dimension][1]
            part_q["part." + p] = tuple(
                to_quantity(f"{v} {_pint_unit(unit)}") if unit != "1" else to_quantity(v)
                for v in (fig.value, fig.low, fig.high))

    remaining = dict(pending)
    while remaining:
        progressed = False
        for path, (r, tree) in list(remaining.items()):
            deps = names_in(tree)
            unknown = [d for d in deps if d not in quantities and d not in part_q and d not in remaining]
            if unknown:
                known = list(quantities) + list(part_q) + list(remaining)
                from .errors import suggest

                hint = suggest(unknown[0], known)
                raise SpecError(f, f"{path}.formula", f"unknown figure {unknown[0]!r}"
                                + (f"; did you mean {hint[0]!r}?" if hint else ""))
            if any(d in remaining for d in deps):
                continue
            env = {**quantities, **part_q}
            q, ql, qh = _eval_formula(f, path, tree, deps, env)
            spec = r.spec
            ids = [spec["source"]] if isinstance(spec["source"], str) else spec["source"]
            quantities[path] = (q, ql, qh)
            fig = _make_figure(f, r, spec, "derived", ids, q, ql, qh)
            if "published" in spec:
                pub = quantity_in(_parse(spec["published"], f, f"{path}.published"), fig.dimension)
                tol = spec.get("tolerance", 0.02)
                if not isinstance(tol, (int, float)) or not 0 <= tol < 1:
                    raise SpecError(f, f"{path}.tolerance", f"expected a fraction such as 0.02, got {tol!r}")
                if abs(fig.value - pub) > tol * abs(pub):
                    raise SpecError(f, f"{path}.published",
                                    f"formula gives {fig.value:.6g} {fig.unit} but the published figure is "
                                    f"{pub:.6g} {fig.unit} (more than {tol:.0%} apart)")
                fig = Figure(**{**fig.__dict__, "published": pub})
            figures[path] = fig
            del remaining[path]
            progressed = True
        if not progressed:
            raise SpecError(f, f"{next(iter(remaining))}.formula",
                            "circular formula: " + ", ".join(remaining))
    # keep file order
    return {r.path: figures[r.path] for r in raws}


def _pint_unit(unit: str) -> str:
    return {"FLOP/s": "FLOP/s", "B": "B", "B/s": "B/s", "s": "s", "W": "W", "Hz": "Hz", "FLOP": "FLOP",
            "m": "m", "m^2": "m**2"}[unit]


def _parse(text, f: Path, path: str):
    try:
        return to_quantity(text)
    except UnitError as exc:
        raise SpecError(f, path, str(exc)) from None


def _make_figure(f, r: _RawFigure, spec, basis, ids, q, ql, qh) -> Figure:
    path = r.path
    dim = r.dimension or _dimension_of(q, f, path)
    try:
        v = quantity_in(q, dim)
        lo = quantity_in(ql, dim)
        hi = quantity_in(qh, dim)
    except UnitError as exc:
        raise SpecError(f, path, str(exc)) from None
    if r.positive:
        if v <= 0:
            raise SpecError(f, path, f"expected a positive value, got {v:g} {DIMENSIONS[dim][1]}")
        if lo <= 0:
            raise SpecError(f, f"{path}.low", f"expected a positive value, got {lo:g} {DIMENSIONS[dim][1]}")
    elif v < 0 or lo < 0:
        raise SpecError(f, path, f"expected a value >= 0, got {min(v, lo):g} {DIMENSIONS[dim][1]}")
    if lo > hi:
        raise SpecError(f, f"{path}.low", f"low ({lo:g}) is above high ({hi:g})")
    if not lo <= v <= hi:
        raise SpecError(f, f"{path}.value", f"value {v:g} lies outside its range [{lo:g}, {hi:g}]")
    text = spec.get("value", spec.get("formula", ""))
    return Figure(path=path, value=v, dimension=dim, basis=basis, sources=tuple(ids), low=lo, high=hi,
                  text=str(text), note=str(spec.get("note", "")), locator=str(spec.get("locator", "")),
                  formula=str(spec.get("formula", "")))


def _dotted(node) -> str | None:
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        parts.append(node.id)
        return ".".join(reversed(parts))
    return None


def _eval_formula(f: Path, path: str, tree, deps: list[str], env: dict):
    """Evaluate at nominal, and over every corner of the inputs' ranges for low/high (monotone model)."""

    def ev(node, values):
        if isinstance(node, ast.Expression):
            return ev(node.body, values)
        if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)) and not isinstance(node.value, bool):
            return node.value
        if isinstance(node, (ast.Name, ast.Attribute)):
            return values[_dotted(node)]
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
            v = ev(node.operand, values)
            return -v if isinstance(node.op, ast.USub) else v
        if isinstance(node, ast.BinOp):
            a, b = ev(node.left, values), ev(node.right, values)
            op = node.op
            if isinstance(op, ast.Add):
                return a + b
            if isinstance(op, ast.Sub):
                return a - b
            if isinstance(op, ast.Mult):
                return a * b
            if isinstance(op, ast.Div):
                return a / b
            if isinstance(op, ast.Pow):
                return a ** b
        raise SpecError(f, f"{path}.formula", f"unsupported syntax {ast.unparse(node)!r}: "
                        "use numbers, figure paths, + - * / ** and parentheses")

    try:
        nominal = ev(tree, {d: env[d][0] for d in deps})
        ranged = [d for d in deps if env[d][1] is not env[d][0] or env[d][2] is not env[d][0]]
        corners = []
        for combo in itertools.product((1, 2), repeat=len(ranged)):
            vals = {d: env[d][0] for d in deps}
            vals.update({d: env[d][c] for d, c in zip(ranged, combo)})
            corners.append(ev(tree, vals))
    except SpecError:
        raise
    except Exception as exc:
        raise SpecError(f, f"{path}.formula", f"cannot evaluate ({type(exc).__name__}: {exc})") from None
    nominal = _as_q(nominal)
    corners = [_as_q(c) for c in corners] or [nominal]
    try:
        mags = [c.to(nominal.units).magnitude for c in corners]
    except Exception as exc:
        raise SpecError(f, f"{path}.formula", f"inconsistent units ({exc})") from None
    lo = corners[mags.index(min(mags))]
    hi = corners[mags.index(max(mags))]
    return nominal, lo, hi


def _as_q(v):
    return v if hasattr(v, "units") else to_quantity(float(v))
