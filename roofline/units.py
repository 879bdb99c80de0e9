"""Parse quantities written the way datasheets write them, once, at load time.

``"3.35 TB/s"`` → ``3.35e12`` bytes per second; ``"214 Pb/s"`` → ``2.675e16`` bytes per second;
``"80 GiB"`` → ``85899345920`` bytes. Decimal prefixes (k, M, G, T, P, E) are powers of ten and binary
prefixes (Ki, Mi, Gi, Ti, Pi, Ei) powers of two; ``B`` is a byte and ``b`` a bit.

Inside the package every quantity is a plain float in SI base units: bytes, bytes/s, FLOP/s, seconds,
watts, hertz. Nothing downstream of the spec loader sees a unit.

pint parses and converts; the spec loader first tries :class:`FastQuantity`, which reproduces pint's
arithmetic and values for the forms datasheets use without importing pint (~0.5 s), and falls back to pint
for anything else.
"""

from __future__ import annotations

import math
import re
from functools import lru_cache
from importlib import resources

__all__ = ["UnitError", "DIMENSIONS", "parse_quantity", "registry", "to_quantity", "quantity_in", "as_si",
           "unit_of_column", "NotFast", "FastQuantity", "fast_quantity", "fast_in", "fast_si"]


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


#: The longest quantity string accepted: a number, a unit and a few powers need far fewer characters.
_MAX_TEXT = 200

# What a quantity needs, and nothing more: a number (optionally times a power of ten), then a unit made of
# names joined by ``*``, ``/`` or a space, each name raised at most to a small constant power. pint would
# evaluate any arithmetic in the string (``"9**9**9 W"`` never returns), so nothing else reaches it.
_NUMBER = r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d{1,3})?"
_TEN_TO = r"(?:\s*\*\s*10\s*(?:\*\*|\^)\s*[+-]?\d{1,2})?"
_TERM = r"[^\W\d]\w*(?:\s*(?:\*\*|\^)\s*[+-]?[1-4])?"
_UNIT = rf"(?:/\s*)?{_TERM}(?:\s*[*/]\s*{_TERM}|\s+{_TERM})*"
_QUANTITY = rf"{_NUMBER}{_TEN_TO}(?:\s*{_UNIT})?"  # compiled on first use (re caches it): a warm run parses no units


@lru_cache(maxsize=1)
def registry():
    """The package's pint unit registry, built from ``units_defs.txt`` (pint is imported lazily).

    Returns
    -------
    pint.UnitRegistry
        Decimal prefixes are powers of ten and binary prefixes powers of two; ``B`` is a byte, ``b`` a bit.
    """
    import pint

    path = resources.files("roofline").joinpath("units_defs.txt")
    with resources.as_file(path) as p:
        return pint.UnitRegistry(filename=str(p), autoconvert_offset_to_baseunit=False)


def to_quantity(text: str | int | float):
    """Parse ``text`` into a pint Quantity; a bare number is dimensionless.

    Only what a quantity needs is accepted: a finite number (optionally ``× 10^n``) and a unit whose names
    are joined by ``*``, ``/`` or a space and raised at most to the 4th power. Any other arithmetic is
    refused before pint sees it, so that no string can make the parser run for ever (``"9**9**9 W"``).

    Parameters
    ----------
    text : str or int or float
        ``"3.35 TB/s"``, ``"80 GiB"``, ``"1,979 TFLOP/s"``, ``"814 mm²"``, or a bare number [1].

    Returns
    -------
    pint.Quantity
        The quantity in the units written (not yet converted).

    Raises
    ------
    UnitError
        If ``text`` is no quantity, holds arithmetic beyond unit powers, names an unknown unit, or its
        value is not finite (``inf``, ``nan``, ``1e999``).

    Examples
    --------
    >>> to_quantity("3.35 TB/s").to("B/s").magnitude
    3350000000000.0
    """
    ureg = registry()
    if isinstance(text, bool):
        raise UnitError(f"expected a number or a quantity string, got {text!r}")
    if isinstance(text, (int, float)):
        if not _finite(text):
            raise UnitError(f"expected a finite number, got {text!r}")
        return ureg.Quantity(float(text))
    if not isinstance(text, str) or not text.strip():
        raise UnitError(f"expected a quantity string such as '3.35 TB/s', got {text!r}")
    s = text.strip().replace(",", "").replace("×", "*").replace("²", "**2")
    if re.match(r"[+-]?(?:inf|nan)", s, re.IGNORECASE):
        raise UnitError(f"{text!r} is not a finite quantity")
    if len(s) > _MAX_TEXT or not re.fullmatch(_QUANTITY, s):
        raise UnitError(f"cannot parse {text!r} as a quantity: expected a number and a unit such as "
                        "'3.35 TB/s' (no arithmetic beyond a unit raised to a power of at most 4)")
    try:
        q = ureg.Quantity(s)
    except Exception as exc:  # pint raises several types; all mean "not a quantity we know"
        raise UnitError(f"cannot parse {text!r} as a quantity ({type(exc).__name__}: {exc})") from None
    if not hasattr(q, "magnitude") or not hasattr(q, "dimensionality"):
        raise UnitError(f"cannot parse {text!r} as a quantity")
    if not _finite(q.magnitude):
        raise UnitError(f"{text!r} is not a finite quantity")
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
    """Convert a pint Quantity to the SI float of ``dimension`` (see :func:`parse_quantity`).

    Parameters
    ----------
    q : pint.Quantity
        A quantity in any unit of ``dimension``.
    dimension : str
        One of :data:`DIMENSIONS`.
    text : str, optional
        The text ``q`` was parsed from, shown in the error message.

    Returns
    -------
    float
        The value in the SI unit of ``dimension`` (bytes, B/s, FLOP/s, s, W, Hz, 1, FLOP, m, m²).

    Raises
    ------
    UnitError
        If ``q`` has another dimension.
    KeyError
        If ``dimension`` is not one of :data:`DIMENSIONS`.
    """
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


def as_si(value, unit: str):
    """A quantity as the API takes it, turned into the SI float (or array) of ``unit``, its dimension checked.

    A number or an array is taken to be in ``unit`` already; a string (``"3.35 TB/s"``) is parsed; a pint
    Quantity (a scalar or an array) is converted, and refused when its dimension is not ``unit``'s; a list
    or tuple is converted item by item into an array.

    Parameters
    ----------
    value : float, array_like, str, pint.Quantity or sequence of them
        The quantity [unit, when a bare number].
    unit : str
        The SI unit the library works in: one of the units of :data:`DIMENSIONS` (``"B/s"``, ``"FLOP/s"``,
        ``"B"``, ``"s"``, ``"W"``, ``"Hz"``, ``"1"``...).

    Returns
    -------
    float or numpy.ndarray
        The value in ``unit``.

    Raises
    ------
    UnitError
        A string that is no quantity, or a quantity of another dimension.
    KeyError
        ``unit`` is not one of the units of :data:`DIMENSIONS`.

    Examples
    --------
    >>> as_si("3.35 TB/s", "B/s"), as_si(["1 TB/s", 2e12], "B/s").tolist()
    (3350000000000.0, [1000000000000.0, 2000000000000.0])
    """
    import numpy as np

    dim = {u: name for name, (_, u) in DIMENSIONS.items()}[unit]
    if isinstance(value, str):
        return parse_quantity(value, dim)
    if hasattr(value, "dimensionality") and hasattr(value, "magnitude"):
        mags = np.asarray(value.magnitude, dtype=float)
        if mags.ndim == 0:
            return quantity_in(value, dim)
        return np.asarray([quantity_in(registry().Quantity(float(m), value.units), dim) for m in mags.ravel()]).reshape(mags.shape)
    if isinstance(value, (list, tuple)):
        return np.asarray([as_si(v, unit) for v in value], dtype=float)
    return value


#: Column-name endings and the SI unit they say, most specific first (the package's naming convention:
#: units in names, ``time_s``, ``bandwidth_bytes_per_s``, ``tokens_per_s_per_kw``).
_NAME_UNITS = (("tokens_per_s_per_kw", "1/(s kW)"), ("flops_per_s", "FLOP/s"), ("bytes_per_s", "B/s"),
               ("tokens_per_s", "1/s"), ("tokens_per_s_per_user", "1/s"), ("tokens_per_s_per_device", "1/s"),
               ("flops_per_byte", "FLOP/B"),
               ("arithmetic_intensity", "FLOP/B"), ("flops", "FLOP"), ("bytes", "B"), ("bytes_per_device", "B"),
               ("_j", "J"), ("_w", "W"), ("_s", "s"))


def unit_of_column(name: str) -> str:
    """The SI unit a column's name says (``""`` for a label, a flag or a count without one).

    Parameters
    ----------
    name : str
        A column name: ``time_s``, ``tokens_per_s_per_user_best``, ``decode_terms_s.memory:hbm``...

    Returns
    -------
    str
        ``"s"``, ``"B"``, ``"B/s"``, ``"FLOP"``, ``"FLOP/s"``, ``"FLOP/B"``, ``"1/s"``, ``"J"``, ``"W"`` or ``""``.

    Examples
    --------
    >>> unit_of_column("tpot_s_best"), unit_of_column("decode_terms_s.memory:hbm"), unit_of_column("batch")
    ('s', 's', '')
    """
    base = re.sub(r"_(best|worst|low|high)$", "", name.split(".")[0])
    for end, unit in sorted(_NAME_UNITS, key=lambda e: -len(e[0])):
        if base.endswith(end):
            return unit
    return ""


def _finite(x) -> bool:
    try:
        return math.isfinite(x)
    except (OverflowError, TypeError):  # an int too large for a float, or no number at all
        return False


def _dim_words(dim) -> str:
    s = str(dim)
    return "dimensionless" if s in ("", "dimensionless") else s


# ----------------------------------------------------------------------------------------------------------
# pint's arithmetic, without pint, for the forms datasheets use
# ----------------------------------------------------------------------------------------------------------
class NotFast(UnitError):
    """A quantity or an operation outside what :class:`FastQuantity` reproduces: the caller uses pint."""


#: Each unit symbol the fast parser reads: (pint's name of the unit, its scale as pint holds it, the scale of
#: the unit it refers to, its dimension as ``{base dimension: exponent}``). A prefixed unit's scale is its
#: prefix's (pint reads ``1e12`` as a float and ``2**30`` as an int); ``bit = byte / 8`` has scale 0.125.
_PREFIXES = {"p": 1e-12, "n": 1e-9, "u": 1e-6, "µ": 1e-6, "μ": 1e-6, "m": 1e-3, "k": 1e3, "M": 1e6, "G": 1e9,
             "T": 1e12, "P": 1e15, "E": 1e18, "Z": 1e21, "Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40,
             "Pi": 2**50, "Ei": 2**60}
_PREFIX_NAMES = {"p": "pico", "n": "nano", "u": "micro", "µ": "micro", "μ": "micro", "m": "milli", "k": "kilo",
                 "M": "mega", "G": "giga", "T": "tera", "P": "peta", "E": "exa", "Z": "zetta", "Ki": "kibi",
                 "Mi": "mebi", "Gi": "gibi", "Ti": "tebi", "Pi": "pebi", "Ei": "exbi"}
_BASES = {  # symbol: (name, own scale or None for a base unit, dimension)
    "B": ("byte", None, {"information": 1}), "b": ("bit", 0.125, {"information": 1}),
    "FLOP": ("flop", None, {"compute": 1}), "OP": ("flop", None, {"compute": 1}),
    "FLOPS": ("flops", 1, {"compute": 1, "time": -1}), "OPS": ("ops", 1, {"compute": 1, "time": -1}),
    "s": ("second", None, {"time": 1}), "Hz": ("hertz", 1, {"time": -1}), "W": ("watt", None, {"power": 1}),
    "m": ("meter", None, {"length": 1}),
}
_FAST_TEXT = (r"([+-]?(?:\d+\.\d*|\.\d+|\d+)(?:[eE][+-]?\d{1,3})?)\s*"  # compiled on first use, like _QUANTITY
              r"(?:(Ki|Mi|Gi|Ti|Pi|Ei|[pnuµμmkMGTPEZ])?(FLOPS|FLOP|OPS|OP|B|b|W|Hz|s|m)(²)?"
              r"(?:/(?:(Ki|Mi|Gi|Ti|Pi|Ei|[pnuµμmkMGTPEZ])?(s)))?)?")


class FastQuantity:
    """A number and its units as pint holds them (the magnitude in the units written, the units by name with
    exponents), with pint's arithmetic: the same operations on the magnitudes in the same order, and the same
    conversion factor (:func:`_root_factor`), so that every value equals pint's to the last bit. What it does
    not reproduce (sums of different units, unknown units) raises :class:`NotFast`.

    Parameters
    ----------
    magnitude : int or float
        In the units written [1].
    units : dict of str to int
        pint's unit names and their exponents.
    """

    __slots__ = ("magnitude", "units")

    def __init__(self, magnitude, units: dict):
        self.magnitude, self.units = magnitude, {u: e for u, e in units.items() if e != 0}

    def _join(self, other, sign: int) -> dict:
        out = dict(self.units)
        for u, e in other.units.items():
            out[u] = out.get(u, 0) + sign * e
        return out

    def __mul__(self, other):
        if isinstance(other, FastQuantity):
            return FastQuantity(self.magnitude * other.magnitude, self._join(other, 1))
        if type(other) in (int, float):
            return FastQuantity(self.magnitude * other, self.units)
        raise NotFast("not a number")

    def __rmul__(self, other):
        if type(other) in (int, float):
            return FastQuantity(other * self.magnitude, self.units)
        raise NotFast("not a number")

    def __truediv__(self, other):
        if isinstance(other, FastQuantity):
            return FastQuantity(self.magnitude / other.magnitude, self._join(other, -1))
        if type(other) in (int, float):
            return FastQuantity(self.magnitude / other, self.units)
        raise NotFast("not a number")

    def __rtruediv__(self, other):
        if type(other) in (int, float):
            return FastQuantity(other / self.magnitude, {u: -e for u, e in self.units.items()})
        raise NotFast("not a number")

    def __pow__(self, n: int):
        return FastQuantity(self.magnitude ** n, {u: e * n for u, e in self.units.items()})

    def __neg__(self):
        return FastQuantity(-self.magnitude, self.units)

    def __pos__(self):
        return self

    def _same(self, other):
        """The other operand's magnitude, when pint would use it as it is (the same units)."""
        if isinstance(other, FastQuantity) and other.units == self.units:
            return other.magnitude
        if type(other) in (int, float) and (not self.units or other == 0):
            return other
        raise NotFast("operands in different units")

    def _converted(self, other):
        """The other operand's magnitude in this one's units, as pint's sum converts it: times the factor of
        its units over these (an operand in the same units, or a number, as it is)."""
        if isinstance(other, FastQuantity) and other.units != self.units:
            if other.dimension() != self.dimension():
                raise NotFast("operands of different dimensions")
            return other.magnitude * _root_factor(other._join(self, -1))
        return self._same(other)

    def __add__(self, other):
        return FastQuantity(self.magnitude + self._converted(other), self.units)

    def __radd__(self, other):
        return FastQuantity(self._same(other) + self.magnitude, self.units)

    def __sub__(self, other):
        return FastQuantity(self.magnitude - self._converted(other), self.units)

    def __rsub__(self, other):
        return FastQuantity(self._same(other) - self.magnitude, self.units)

    def __lt__(self, other):
        return self.magnitude < self._same(other)

    def __le__(self, other):
        return self.magnitude <= self._same(other)

    def __gt__(self, other):
        return self.magnitude > self._same(other)

    def __ge__(self, other):
        return self.magnitude >= self._same(other)

    def dimension(self) -> dict:
        """The base dimensions and their exponents.

        Returns
        -------
        dict of str to int
        """
        out: dict[str, int] = {}
        for u, e in self.units.items():
            for d, k in _UNIT_TABLE[u][2].items():
                out[d] = out.get(d, 0) + k * e
        return {d: k for d, k in out.items() if k}


#: pint's name of each unit the fast parser knows: (its scale or None for a base unit, the name it refers to or
#: None, its dimension)
_UNIT_TABLE: dict[str, tuple] = {}
for _sym, (_name, _scale, _dim) in _BASES.items():
    _UNIT_TABLE[_name] = (_scale, None, _dim)
    for _p, _v in _PREFIXES.items():
        _UNIT_TABLE[_PREFIX_NAMES[_p] + _name] = (_v, _name, _dim)
del _sym, _name, _scale, _dim, _p, _v

#: The dimension of each name of :data:`DIMENSIONS`, in the base dimensions of :class:`FastQuantity`.
_FAST_DIMENSIONS = {"flops": {"compute": 1, "time": -1}, "bytes": {"information": 1},
                    "bytes_per_s": {"information": 1, "time": -1}, "seconds": {"time": 1}, "watts": {"power": 1},
                    "hertz": {"time": -1}, "count": {}, "flop": {"compute": 1}, "meters": {"length": 1},
                    "area": {"length": 2}}

#: Each SI unit of :data:`DIMENSIONS` as pint's unit names.
_SI_UNITS = {"FLOP/s": {"flop": 1, "second": -1}, "B": {"byte": 1}, "B/s": {"byte": 1, "second": -1},
             "s": {"second": 1}, "W": {"watt": 1}, "Hz": {"hertz": 1}, "FLOP": {"flop": 1}, "m": {"meter": 1},
             "m^2": {"meter": 2}, "1": {}}


def _root_factor(units: dict):
    """The factor that takes ``units`` to base units, computed as pint's ``_get_root_units`` does: the scales
    of the units (and of the units they refer to) gathered by value with their exponents, a scale found both
    above and below the line cancelled, then multiplied in order of first appearance, from ``1``."""
    num: dict = {}
    den: dict = {}

    def walk(name: str, exp: int) -> None:
        scale, ref, _ = _UNIT_TABLE[name]
        if scale is None:
            return
        side = den if exp < 0 else num
        side[scale] = side.get(scale, 0) + abs(exp)
        if ref is not None:
            walk(ref, exp)

    for u, e in units.items():
        walk(u, e)
    for k in [k for k in num if k in den]:  # pint cancels a scale that appears on both sides
        if num[k] >= den[k]:
            num[k] -= den.pop(k)
        else:
            den[k] -= num.pop(k)
    factor = 1
    for k, e in num.items():
        if e:
            factor *= k ** e
    for k, e in den.items():
        if e:
            factor *= k ** -e
    return factor


def fast_quantity(text) -> FastQuantity:
    """``text`` as a :class:`FastQuantity`, for the forms datasheets use: a number and one unit, a rate per
    second, or an area (``"3.35 TB/s"``, ``"80 GB"``, ``"989.4 TFLOP/s"``, ``"2.5 us"``, ``"814 mm²"``).

    Parameters
    ----------
    text : str or int or float
        A quantity; a bare number is dimensionless.

    Returns
    -------
    FastQuantity
        The same magnitude and units as :func:`to_quantity` gives.

    Raises
    ------
    NotFast
        Any other form (pint reads it: :func:`to_quantity`).
    """
    if type(text) in (int, float):
        if not _finite(text):
            raise NotFast("not finite")
        return FastQuantity(float(text), {})
    if not isinstance(text, str):
        raise NotFast("not a string")
    m = re.fullmatch(_FAST_TEXT, text.strip().replace(",", ""))
    if m is None:
        raise NotFast("another form")
    num, pre, base, squared, per_pre, per = m.groups()
    mag = float(num) if any(c in num for c in ".eE") else int(num)
    if not _finite(mag):
        raise NotFast("not finite")
    units: dict[str, int] = {}
    if base is not None:
        name = _BASES[base][0]
        units[(_PREFIX_NAMES[pre] if pre else "") + name] = 2 if squared else 1
    if per is not None:
        key = (_PREFIX_NAMES[per_pre] if per_pre else "") + "second"
        units[key] = units.get(key, 0) - 1
    return FastQuantity(mag, units)


def fast_in(q: FastQuantity, dimension: str) -> float:
    """:func:`quantity_in` for a :class:`FastQuantity`: the float pint's ``q.to(base)`` gives.

    Parameters
    ----------
    q : FastQuantity
    dimension : str
        One of :data:`DIMENSIONS`.

    Returns
    -------
    float

    Raises
    ------
    NotFast
        ``q`` has another dimension (pint then words the error).
    """
    if q.dimension() != _FAST_DIMENSIONS[dimension]:
        raise NotFast(f"not {dimension}")
    return float(q.magnitude * _root_factor(q.units))


def fast_si(value: float, unit: str) -> FastQuantity:
    """A float in the SI unit ``unit`` of :data:`DIMENSIONS` as a :class:`FastQuantity` (``Quantity(v, unit)``).

    Parameters
    ----------
    value : float
        [unit].
    unit : str
        ``"FLOP/s"``, ``"B"``, ``"B/s"``, ``"s"``, ``"W"``, ``"Hz"``, ``"FLOP"``, ``"m"``, ``"m^2"`` or ``"1"``.

    Returns
    -------
    FastQuantity
    """
    return FastQuantity(float(value), _SI_UNITS[unit])
