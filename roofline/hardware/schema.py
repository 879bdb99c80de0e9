"""The schema of a spec file: the keys each table may hold, typed readers for its fields, and the rules
that span sections (memory levels fastest first).

Every reader takes the file and the dotted field it reads, so each error names both and says what was
expected (``h100.toml: memory.hbm.kind: expected one of dram, hbm, ...``). Nothing here evaluates a figure;
see :mod:`.formula`.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path
from typing import Any, Mapping

from ..errors import SpecError
from ..roles import role_of
from .figure import Figure

_TOP_KEYS = {"schema", "device", "sources", "compute", "memory", "interconnect", "power", "architecture",
             "overheads", "mesh", "composition", "measured"}


_DEVICE_KEYS = {"key", "aliases", "name", "vendor", "kind", "year", "process", "status", "summary"}


_FIGURE_KEYS = {"value", "basis", "source", "locator", "low", "high", "formula", "published", "tolerance", "note"}


#: The extra keys of a figure in ``[measured]``: the benchmark it was measured with, the software (library
#: versions) and the date of the measurement.
_MEASURED_KEYS = {"benchmark", "software", "date"}


_SOURCE_KEYS = {"title", "publisher", "url", "date", "authors", "locator", "note"}


_MEMORY_KEYS = {"name", "label", "kind", "capacity", "bandwidth", "latency"}


_LINK_KEYS = {"name", "label", "duplex", "bandwidth", "latency", "domain_size"}


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
