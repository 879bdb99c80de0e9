"""The schema of a spec file: the keys each table may hold, typed readers for its fields, and the rules
that span sections (memory levels fastest first).

Every reader takes the file and the dotted field it reads, so each error names both and says what was
expected (``h100.toml: memory.hbm.kind: expected one of dram, hbm, ...``). Nothing here evaluates a figure;
see :mod:`.formula`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path
from typing import Any, Mapping

from ..errors import SpecError
from ..roles import role_of
from ..vocab import Basis, TopologyKind
from .figure import Figure
from .topology import Topology

_TOP_KEYS = {"schema", "device", "sources", "compute", "memory", "interconnect", "power", "architecture",
             "overheads", "mesh", "composition", "measured"}


_DEVICE_KEYS = {"key", "aliases", "name", "vendor", "kind", "year", "process", "status", "summary"}


_FIGURE_KEYS = {"value", "basis", "source", "locator", "low", "high", "formula", "published", "tolerance", "note"}


#: The extra keys of a figure in ``[measured]``: the benchmark it was measured with, the software (library
#: versions) and the date of the measurement.
_MEASURED_KEYS = {"benchmark", "software", "date"}


_SOURCE_KEYS = {"title", "publisher", "url", "date", "authors", "locator", "note"}


_MEMORY_KEYS = {"name", "label", "kind", "capacity", "bandwidth", "latency"}


_LINK_KEYS = {"name", "label", "duplex", "bandwidth", "latency", "domain_size", "topology", "ports"}


_TOPOLOGY_KEYS = {"kind", "dimensions", "basis", "source", "note"}


def _read_toml(f: Path) -> dict:
    import tomllib  # a warm run reads its specs from the cache, parsed

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
    if not v.isprintable():  # an ANSI escape in a name would reach the terminal
        raise SpecError(f, path, f"expected printable text (no control characters), got {v!r}")
    if choices is not None and v not in choices:
        raise SpecError(f, path, f"expected one of {', '.join(choices)}; got {v!r}")
    return v


def _str_list(d: dict, key: str, f: Path, path: str) -> list[str]:
    v = d.get(key, [])
    if isinstance(v, str):
        v = [v]
    if not isinstance(v, list) or not all(isinstance(x, str) and x for x in v):
        raise SpecError(f, path, f"expected a list of strings, got {v!r}")
    if not all(x.isprintable() for x in v):
        raise SpecError(f, path, f"expected printable text (no control characters), got {v!r}")
    return v


def _ident(d: dict, key: str, f: Path, path: str, pattern: str = "name") -> str:
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


@dataclass(frozen=True)
class _RawFigure:
    """A figure read from the file but not yet evaluated (derived figures need the others first).

    ``dimension`` is the one the field must have (None: any of :data:`roofline.units.DIMENSIONS`);
    ``positive`` says whether zero is refused too.
    """

    path: str
    spec: Any
    dimension: str | None
    positive: bool


def _check_schema_version(doc: dict, f: Path) -> None:
    """``schema = 1`` (or no ``schema`` key): the integer 1, not ``true`` or ``1.0``."""
    v = doc.get("schema", 1)
    if type(v) is not int or v != 1:
        raise SpecError(f, "schema", f"expected 1 (the spec-file schema version), got {v!r}")


# ----------------------------------------------------------------------------------------------------
# rules that span sections
# ----------------------------------------------------------------------------------------------------
def _check_whole_counts(f: Path, figures: Mapping[str, Figure]) -> None:
    """Counts (devices in a link domain, parts of a composed device) are whole numbers, at every corner of
    their range: ``domain_size = 8.5`` is refused rather than truncated to 8."""
    for path, fig in figures.items():
        try:
            counted = role_of(path).dimension == "count"
        except KeyError:
            continue
        bad = [x for x in (fig.value, fig.low, fig.high) if not float(x).is_integer()]
        if counted and bad:
            raise SpecError(f, path, f"expected a whole number (a count), got {bad[0]:g}")


def _check_fastest_first(f: Path, levels: list[str], figures: Mapping[str, Figure]) -> None:
    """The ``[[memory]]`` levels are listed fastest first: no level has a higher nominal bandwidth than the
    level above it (equal is allowed). The engine takes the first level that holds a tensor as its home.
    """
    for upper, lower in pairwise(levels):
        bw_upper = figures[f"memory.{upper}.bandwidth"].value
        bw_lower = figures[f"memory.{lower}.bandwidth"].value
        if bw_lower > bw_upper:
            raise SpecError(f, f"memory.{lower}.bandwidth",
                            f"level {lower!r} ({bw_lower:.6g} B/s) is faster than the level above it, {upper!r} "
                            f"({bw_upper:.6g} B/s); list [[memory]] levels fastest first (bandwidth must not "
                            "increase from one level to the next)")


def _topology(lk: dict, f: Path, path: str, sources: Mapping) -> Topology | None:
    """The ``topology`` table of a link: its kind, dimensions (ring, torus, mesh, dragonfly), basis and
    source, checked; None when the link states none."""
    if "topology" not in lk:
        return None
    t = lk["topology"]
    if not isinstance(t, dict):
        raise SpecError(f, path, "expected a table such as { kind = \"switch\", basis = \"datasheet\", source = \"...\" }")
    _unknown(t, _TOPOLOGY_KEYS, f, path)
    kind = TopologyKind(_str(t, "kind", f, f"{path}.kind", choices=tuple(TopologyKind)))
    basis = _str(t, "basis", f, f"{path}.basis", choices=tuple(Basis))
    srcs = _str_list(t, "source", f, f"{path}.source")
    if not srcs:
        raise SpecError(f, f"{path}.source", "missing (every topology needs a source)")
    for sid in srcs:
        if sid not in sources:
            raise SpecError(f, f"{path}.source", f"unknown source {sid!r}; expected one of: {', '.join(sources)}")
    dims = t.get("dimensions", [])
    if not isinstance(dims, list) or not all(isinstance(k, int) and not isinstance(k, bool) and k > 0 for k in dims):
        raise SpecError(f, f"{path}.dimensions", f"expected a list of positive integers, got {dims!r}")
    need = {TopologyKind.TORUS: "devices along each axis", TopologyKind.MESH: "devices along each axis",
            TopologyKind.DRAGONFLY: "[devices per group, groups]"}
    if kind in need and not dims:
        raise SpecError(f, f"{path}.dimensions", f"missing: a {kind} needs its dimensions ({need[kind]})")
    if kind is TopologyKind.DRAGONFLY and len(dims) != 2:
        raise SpecError(f, f"{path}.dimensions", f"expected [devices per group, groups], got {dims!r}")
    return Topology(kind, tuple(dims), basis, tuple(srcs), str(t.get("note", "")))


def _check_link_domains(f: Path, links, figures: Mapping[str, Figure]) -> None:
    """A link that joins more than one device states its latency and its topology, and a topology's
    dimensions hold exactly the domain's devices."""
    for name, _label, _duplex, topo in links:
        dom = figures.get(f"interconnect.{name}.domain_size")
        if dom is None or dom.value <= 1:
            continue
        for fld, missing in (("latency", f"interconnect.{name}.latency" not in figures), ("topology", topo is None)):
            if missing:
                raise SpecError(f, f"interconnect.{name}.{fld}",
                                f"missing: a link domain of {dom.value:g} devices needs its {fld} "
                                "(a sourced figure, or an estimate with a range)")
        if topo.dimensions and topo.kind is not TopologyKind.RING:
            n = 1
            for k in topo.dimensions:
                n *= k
            if n != round(dom.value):
                raise SpecError(f, f"interconnect.{name}.topology.dimensions",
                                f"{list(topo.dimensions)} hold {n} devices, but the domain joins {dom.value:g}")
