"""Formatting for people: SI floats back into "3.35 TB/s", and tables as text, markdown, CSV or JSON.
"""

from __future__ import annotations

import csv
import io
import json
import math
from typing import Iterable, Sequence

__all__ = ['FORMATS', 'human', 'human_range', 'to_jsonable', 'render']


FORMATS = ("table", "markdown", "csv", "json")


_PREFIXES = [(1e18, "E"), (1e15, "P"), (1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "k"), (1.0, "")]


_SMALL = [(1.0, ""), (1e-3, "m"), (1e-6, "µ"), (1e-9, "n"), (1e-12, "p")]


def human(value: float | None, unit: str = "", digits: int = 4) -> str:
    """``3.35e12, "B/s"`` → ``"3.35 TB/s"``; seconds use m/µ/n prefixes; counts get no prefix below 10^4."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    if isinstance(value, float) and math.isinf(value):
        return "∞"
    v = float(value)
    if v == 0:
        return f"0 {unit}".strip()
    if unit in ("", "1"):
        if abs(v) >= 1e4:
            return f"{v:,.0f}"
        return f"{v:.{digits}g}"
    if unit == "s" or unit.endswith("/FLOP"):
        for f, p in _SMALL:
            if abs(v) >= f or f == 1e-12:
                if abs(v) >= 1e3 and f == 1.0:
                    return f"{v:,.0f} {unit}"
                return f"{v / f:.{digits}g} {p}{unit}"
    if unit in ("FLOP/B", "B/FLOP"):
        return f"{v:.{digits}g} {unit}"
    for f, p in _PREFIXES:
        if abs(v) >= f:
            return f"{v / f:.{digits}g} {p}{unit}"
    return f"{v:.{digits}g} {unit}"


def _scale(value: float, unit: str) -> tuple[float, str]:
    """The factor and prefix :func:`human` uses for ``value``."""
    v = abs(float(value))
    if unit in ("", "1", "FLOP/B", "B/FLOP"):
        return 1.0, ""
    table = _SMALL if (unit == "s" or unit.endswith("/FLOP")) else _PREFIXES
    for f, p in table:
        if v >= f:
            return f, p
    return table[-1]


def human_range(value: float, low: float, high: float, unit: str = "", digits: int = 3,
                min_width: float = 0.01) -> str:
    """``"15.8 PFLOP/s (14.4–17.3)"``: the range in the nominal value's prefix; omitted when narrower than
    ``min_width`` (relative)."""
    text = human(value, unit, digits)
    if low is None or high is None or value in (None, 0):
        return text
    if abs(high - low) <= min_width * abs(value):
        return text
    f, _ = _scale(value, unit)
    return f"{text} ({low / f:.{digits}g}–{high / f:.{digits}g})"


def to_jsonable(x):
    """Plain JSON types: NumPy scalars to floats/ints, NaN and inf to None."""
    try:
        import numpy as np

        if isinstance(x, np.generic):
            x = x.item()
        elif isinstance(x, np.ndarray):
            return [to_jsonable(v) for v in x.tolist()]
    except ImportError:  # pragma: no cover
        pass
    if isinstance(x, float) and (math.isnan(x) or math.isinf(x)):
        return None
    if isinstance(x, dict):
        return {str(k): to_jsonable(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [to_jsonable(v) for v in x]
    return x


def render(rows: Sequence[dict] | dict, fmt: str = "table", columns: Iterable[str] | None = None,
           headers: dict | None = None, title: str | None = None, json_obj=None) -> str:
    """Render ``rows`` (a list of dicts) in ``fmt``. For ``json`` the object ``json_obj`` is used if given."""
    if fmt == "json":
        return json.dumps(to_jsonable(json_obj if json_obj is not None else rows), indent=2, ensure_ascii=False)
    if isinstance(rows, dict):
        rows = [rows]
    cols = list(columns) if columns is not None else list(dict.fromkeys(k for r in rows for k in r))
    if fmt == "csv":
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\n")
        w.writerow(cols)
        for r in rows:
            w.writerow([to_jsonable(r.get(c, "")) if r.get(c) is not None else "" for c in cols])
        return buf.getvalue().rstrip("\n")
    from tabulate import tabulate

    hdr = [(headers or {}).get(c, c) for c in cols]
    body = [[r.get(c, "") if r.get(c) is not None else "" for c in cols] for r in rows]
    if fmt == "markdown":
        text = tabulate(body, hdr, tablefmt="github", disable_numparse=True)
        return (f"**{title}**\n\n" if title else "") + text
    text = tabulate(body, hdr, tablefmt="simple", disable_numparse=True)
    return (f"{title}\n" if title else "") + text

