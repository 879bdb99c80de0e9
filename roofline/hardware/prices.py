"""Rental prices per device-hour (``prices/cloud-prices.toml``), read and checked like spec files.

The shipped table holds public on-demand cloud list prices, one accelerator for one hour, in USD: per
device a ``value`` (the median over the providers listed), ``low`` and ``high`` (the cheapest and dearest
on-demand list price found), a ``basis`` (``estimate`` when several prices stand behind it, ``datasheet``
for a single published price) and the ``source`` ids of the ``[sources]`` table, each with its URL and the
date it was read. Devices without a public per-hour price have no entry (the file's header says why):
:func:`get_price` returns None for them, and a cost figure then needs a price from the user.

A leaf of the hardware room: it needs neither SymPy nor pandas.
"""

from __future__ import annotations

import functools
import math
import os
import time
from dataclasses import dataclass, field
from typing import Mapping

__all__ = ["Price", "price_table", "get_price"]

_BASES = ("estimate", "datasheet")


@dataclass(frozen=True)
class Price:
    """The rental price of one device-hour, with its range and sources.

    Attributes
    ----------
    device : str
        The device key.
    value, low, high : float
        Representative, cheapest and dearest on-demand list price [USD/h].
    basis : str
        ``estimate`` (several prices) or ``datasheet`` (one published price).
    sources : tuple of str
        Source ids of the table's ``[sources]``.
    note : str
        What the figure rests on.
    file : str
        The table it was read from.
    references : mapping
        ``{source id: {"title", "publisher", "url", "date", ...}}`` for the sources cited.
    """

    device: str
    value: float
    low: float
    high: float
    basis: str
    sources: tuple[str, ...]
    note: str = ""
    file: str = ""
    references: Mapping[str, Mapping[str, str]] = field(default_factory=dict, compare=False)

    def describe(self) -> str:
        """Where the price comes from, in one line (the ``price_source`` of a result).

        Returns
        -------
        str
        """
        dates = sorted({str(self.references.get(s, {}).get("date", "")) for s in self.sources} - {""})
        when = f", read {dates[0]}" + (f" to {dates[-1]}" if len(dates) > 1 else "") if dates else ""
        return (f"{os.path.basename(self.file)} [device.{self.device}]: on-demand list price ({self.basis}; "
                f"{', '.join(self.sources)}{when})")


def _number(v, where: str, file: str) -> float:
    from ..errors import SpecError

    if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v) or v <= 0:
        raise SpecError(file, where, f"expected a positive number of USD per device-hour, got {v!r}")
    return float(v)


def _price(key: str, entry, sources: Mapping, file: str) -> Price:
    from ..errors import SpecError

    where = f"device.{key}.price"
    p = entry.get("price") if isinstance(entry, dict) else None
    if not isinstance(p, dict):
        raise SpecError(file, where, "missing (expected a table: value, low, high, unit, basis, source)")
    value = _number(p.get("value"), f"{where}.value", file)
    low, high = (_number(p.get(k, value), f"{where}.{k}", file) for k in ("low", "high"))
    if not low <= value <= high:
        raise SpecError(file, where, f"expected low <= value <= high, got {low} <= {value} <= {high}")
    if p.get("unit") != "USD/h":
        raise SpecError(file, f"{where}.unit", f"expected 'USD/h', got {p.get('unit')!r}")
    if p.get("basis") not in _BASES:
        raise SpecError(file, f"{where}.basis", f"expected 'estimate' or 'datasheet', got {p.get('basis')!r}")
    ids = (p.get("source"),) if isinstance(p.get("source"), str) else p.get("source")
    if not isinstance(ids, (list, tuple)) or not ids or any(i not in sources for i in ids):
        raise SpecError(file, f"{where}.source", f"expected source ids of [sources], got {p.get('source')!r}")
    return Price(key, value, low, high, p["basis"], tuple(ids), str(p.get("note", "")), file,
                 {i: dict(sources[i]) for i in ids})


_CACHE: dict[tuple, dict[str, Price]] = {}


@functools.lru_cache(maxsize=1)
def _default_table(data_dir) -> str:
    """The shipped table's path (found once: where the package lies does not change in a process)."""
    return str(data_dir("prices") / "cloud-prices.toml")


def price_table(path: str | os.PathLike | None = None) -> dict[str, Price]:
    """Every device's price in the table, ``{device key: Price}``, validated; reloaded when the file changes.

    Parameters
    ----------
    path : str or os.PathLike, optional
        A price table (default: the shipped ``prices/cloud-prices.toml``).

    Returns
    -------
    dict of str to Price

    Raises
    ------
    SpecError
        A table that cannot be read, or an entry without a positive price, a unit of USD/h, a basis, or
        known sources (naming the file and the field).
    """
    if not path:
        last = _LAST_DEFAULT
        if last and time.monotonic() < last[0]:  # checked within the last second: the same table
            return last[1]
    from .._paths import data_dir
    from ..errors import SpecError
    from .loader import parsed_toml

    p = str(path) if path else _default_table(data_dir)
    try:
        stamp = (p, os.stat(p).st_mtime_ns)
    except OSError as exc:
        raise SpecError(p, "", f"cannot read price table ({exc})") from None
    if stamp not in _CACHE:
        try:
            with open(p, "rb") as fh:
                data = fh.read()
        except OSError as exc:
            raise SpecError(p, "", f"cannot read price table ({exc})") from None
        doc = parsed_toml(data, lambda: _parse_table(data, p))  # a warm run reads it parsed, from the cache
        if doc.get("schema") != 1 or doc.get("currency") != "USD":
            raise SpecError(p, "schema", "expected schema = 1 and currency = \"USD\"")
        sources = doc.get("sources", {})
        _CACHE[stamp] = {k: _price(k, v, sources, p) for k, v in doc.get("device", {}).items()}
    if not path:
        _LAST_DEFAULT[:] = [time.monotonic() + _RECHECK_S, _CACHE[stamp]]
    return _CACHE[stamp]


#: the shipped table is looked at again (a ``stat``) at most once a second: an estimate asks for it every
#: call, and a table edited by hand is seen within a second
_RECHECK_S = 1.0
_LAST_DEFAULT: list = []


def _parse_table(data: bytes, p: str) -> dict:
    """The TOML of price table ``p`` (its bytes ``data``); an error names the file."""
    import tomllib

    from ..errors import SpecError

    try:
        return tomllib.loads(data.decode())
    except tomllib.TOMLDecodeError as exc:
        raise SpecError(p, "", f"cannot read price table ({exc})") from None


def get_price(device: str, path: str | os.PathLike | None = None) -> Price | None:
    """The price of one hour of ``device`` from the table, or None when the table has none for it.

    Parameters
    ----------
    device : str
        A device key (``"h100"``).
    path : str or os.PathLike, optional
        A price table (default: the shipped one).

    Returns
    -------
    Price or None

    Examples
    --------
    >>> p = get_price("h100")
    >>> (p.low <= p.value <= p.high, p.basis)
    (True, 'estimate')
    >>> get_price("wse3") is None          # Cerebras sells systems and tokens, not device-hours
    True
    """
    return price_table(path).get(device)
