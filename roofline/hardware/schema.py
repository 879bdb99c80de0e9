"""The schema of a spec file: which keys each table may hold, and typed readers that name the file and
field on every error."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from ..errors import SpecError

_TOP_KEYS = {"schema", "device", "sources", "compute", "memory", "interconnect", "power", "architecture",
             "overheads", "mesh", "composition"}


_DEVICE_KEYS = {"key", "aliases", "name", "vendor", "kind", "year", "process", "status", "summary"}


_FIGURE_KEYS = {"value", "basis", "source", "locator", "low", "high", "formula", "published", "tolerance", "note"}


_SOURCE_KEYS = {"title", "publisher", "url", "date", "authors", "locator", "note"}


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

