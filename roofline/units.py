"""Parse quantities written the way datasheets write them, once, at load time.

``"3.35 TB/s"`` → ``3.35e12`` bytes per second; ``"214 Pb/s"`` → ``2.675e16`` bytes per second;
``"80 GiB"`` → ``85899345920`` bytes. Decimal prefixes (k, M, G, T, P, E) are powers of ten and binary
prefixes (Ki, Mi, Gi, Ti, Pi, Ei) powers of two; ``B`` is a byte and ``b`` a bit.

Inside the package every quantity is a plain float in SI base units: bytes, bytes/s, FLOP/s, seconds,
watts, hertz. Nothing downstream of the spec loader sees a unit.
"""

from __future__ import annotations

from functools import lru_cache
from importlib import resources

__all__ = ["UnitError", "DIMENSIONS", "parse_quantity", "registry"]


class UnitError(ValueError):
    """A quantity string that cannot be parsed or has the wrong dimension."""


#: The dimensions a spec figure may have, by name, with the SI unit its float is expressed in.
DIMENSIONS: dict[str, tuple[str, str]] = {
    # name: (pint dimensionality string, SI unit of the float)
    "flops": ("[compute] / [time]", "FLOP/s"),
    "bytes": ("[information]", "B"),
    "bytes_per_s": ("[information] / [time]", "B/s"),
    "seconds": ("[time]", "s"),
    "watts": ("[power]", "W"),
    "hertz": ("1 / [time]", "Hz"),
    "count": ("", "1"),
    "flop": ("[compute]", "FLOP"),
    "meters": ("[length]", "m"),
    "area": ("[length] ** 2", "m^2"),
}


@lru_cache(maxsize=1)
def registry():
    """The package's pint UnitRegistry, built from ``units_defs.txt`` (imported lazily)."""
    import pint

    path = resources.files("roofline").joinpath("units_defs.txt")
    with resources.as_file(path) as p:
        return pint.UnitRegistry(filename=str(p), autoconvert_offset_to_baseunit=False)


def to_quantity(text: str | int | float):
    """Parse ``text`` into a pint Quantity; a bare number is dimensionless."""
    ureg = registry()
    if isinstance(text, bool):
        raise UnitError(f"expected a number or a quantity string, got {text!r}")
    if isinstance(text, (int, float)):
        return ureg.Quantity(float(text))
    if not isinstance(text, str) or not text.strip():
        raise UnitError(f"expected a quantity string such as '3.35 TB/s', got {text!r}")
    s = text.strip().replace(",", "").replace("×", "*").replace("²", "**2")
    try:
        q = ureg.Quantity(s)
    except Exception as exc:  # pint raises several types; all mean "not a quantity we know"
        raise UnitError(f"cannot parse {text!r} as a quantity ({type(exc).__name__}: {exc})") from None
    if not hasattr(q, "magnitude") or not hasattr(q, "dimensionality"):
        raise UnitError(f"cannot parse {text!r} as a quantity")
    return q if isinstance(q, ureg.Quantity) else ureg.Quantity(q)


def parse_quantity(text: str | int | float, dimension: str) -> float:
    """Parse ``text`` and return its value in the SI unit of ``dimension``.

    Parameters
    ----------
    text : str or number
        A quantity as a person writes it: ``"3.35 TB/s"``, ``"44 GB"``, ``"989.4 TFLOP/s"``,
        ``"700 W"``, ``"1.5 us"``. A bare number is dimensionless (``dimension="count"``).
    dimension : str
        One of :data:`DIMENSIONS` (``"flops"``, ``"bytes"``, ``"bytes_per_s"``, ``"seconds"``,
        ``"watts"``, ``"hertz"``, ``"count"``, ...).

    Returns
    -------
    float
        The value in bytes, bytes/s, FLOP/s, s, W, Hz or 1.

    Raises
    ------
    UnitError
        If the text is no quantity, the unit is unknown, or its dimension is not ``dimension``.

    Examples
    --------
    >>> parse_quantity("214 Pb/s", "bytes_per_s")
    2.675e+16
    >>> parse_quantity("80 GiB", "bytes") == 80 * 2**30
    True
    """
    q = to_quantity(text)
    return quantity_in(q, dimension, text)


def quantity_in(q, dimension: str, text=None) -> float:
    """Convert a pint Quantity to the SI float of ``dimension`` (see :func:`parse_quantity`)."""
    if dimension not in DIMENSIONS:
        raise KeyError(f"unknown dimension {dimension!r}")
    ureg = registry()
    want, unit = DIMENSIONS[dimension]
    want_dim = ureg.get_dimensionality(want) if want else ureg.Quantity(1).dimensionality
    if q.dimensionality != want_dim:
        shown = text if text is not None else f"{q:~}"
        raise UnitError(
            f"{shown!r} has dimension {_dim_words(q.dimensionality)}, expected {_dim_words(want_dim)}"
            f" (a quantity in {unit})"
        )
    base = {"FLOP/s": "flop / second", "B": "byte", "B/s": "byte / second", "s": "second",
            "W": "watt", "Hz": "hertz", "1": "", "FLOP": "flop", "m": "meter", "m^2": "meter ** 2"}[unit]
    value = q.to(base).magnitude if base else q.to("").magnitude
    return float(value)


def _dim_words(dim) -> str:
    s = str(dim)
    return "dimensionless" if s in ("", "dimensionless") else s
