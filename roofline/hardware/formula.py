"""The spec formula interpreter: turn a spec's raw figures into :class:`Figure` objects.

Evaluation runs in three steps: parse the plain figures (a datasheet, measured or estimated quantity with
its unit), evaluate the derived ones in dependency order, and cross-check each derived figure against the
figure the vendor publishes (``published``, within ``tolerance``).

A formula is an arithmetic expression over other figures of the device (``architecture.cores *
architecture.clock``) or of the part a composed device is built from (``part.compute.bf16.dense``). It
may hold numbers, figure paths, ``+ - * /``, parentheses and ``**`` with a constant integer exponent from
0 to 8; nothing else. Units are carried through with pint and checked. The nominal value is the formula at
every input's nominal value. Its low and high come from interval arithmetic over the syntax tree, one pass
whatever the number of estimated inputs (never by trying every corner of their ranges):

.. math::

    [a, b] \\pm [c, d] = [a \\pm (c \\text{ or } d), b \\pm (d \\text{ or } c)], \\quad
    [a, b] \\cdot [c, d] = [\\min P, \\max P], \\; P = \\{ac, ad, bc, bd\\}

(R. E. Moore, *Interval Analysis*, 1966). For the monotone formulas of the built-in specs (sums, products
and quotients of positive figures, each named once) this is exactly the range over the inputs' ranges.

The interpreter is bounded: every intermediate value must stay below 1e300 in the units it is written in,
and every figure, plain or derived, must be finite and at most 1e30 in SI units. Every problem is a
:class:`~roofline.errors.SpecError` naming the file and the field.
"""

from __future__ import annotations

import ast
import dataclasses
from pathlib import Path
from typing import Any

from ..errors import SpecError, suggest
from ..units import (
    DIMENSIONS,
    FastQuantity,
    NotFast,
    UnitError,
    fast_in,
    fast_quantity,
    fast_si,
    quantity_in,
    registry,
    to_quantity,
)
from .device import BASES, Device
from .figure import Figure
from .schema import _FIGURE_KEYS, _MEASURED_KEYS, _RawFigure, _str, _unknown

__all__: list[str] = []

#: The largest magnitude of any figure, in SI units: far above any device (1e18 FLOP/s, 1e17 B/s) and far
#: below the float overflow that would make a typo silently infinite.
MAX_SI = 1e30

#: The largest exponent a formula may use (``x ** 8``); only a constant non-negative integer is accepted.
MAX_EXPONENT = 8

#: The largest magnitude of an intermediate value, in the units it is written in.
_MAX_MAGNITUDE = 1e300

#: The longest formula text accepted [characters].
_MAX_FORMULA = 2000

_SYNTAX_HINT = "use numbers, figure paths, + - * / ** and parentheses"

#: (nominal, low, high) pint quantities (or plain numbers) of one figure or sub-expression.
_Triple = tuple[Any, Any, Any]


# ----------------------------------------------------------------------------------------------------
# the three steps
# ----------------------------------------------------------------------------------------------------
def _evaluate(f: Path, raws: list[_RawFigure], sources: dict, part: Device | None) -> dict[str, Figure]:
    """Every figure of a spec file, in file order: plain ones parsed, derived ones evaluated.

    First without pint (:class:`~roofline.units.FastQuantity`, which does pint's arithmetic on the forms
    datasheets use and gives the same values); any form or error it does not reproduce, and any error at
    all, sends the whole file through pint, which then gives the values and words the errors."""
    try:
        return _evaluate_with(f, raws, sources, part, True)
    except (SpecError, UnitError):
        return _evaluate_with(f, raws, sources, part, False)


def _evaluate_with(f: Path, raws: list[_RawFigure], sources: dict, part: Device | None,
                   fast: bool) -> dict[str, Figure]:
    figures, quantities, pending = _parse_plain_figures(f, raws, sources, fast)
    env = {**quantities, **_part_quantities(part, fast)}
    _evaluate_derived(f, pending, env, figures, fast)
    return {r.path: figures[r.path] for r in raws}


def _parse_plain_figures(f: Path, raws: list[_RawFigure], sources: dict, fast: bool = False):
    """Step 1: check every figure's table; parse the plain ones; parse (not evaluate) the derived ones.

    Returns ``(figures, quantities, pending)``: the plain :class:`Figure` objects by path, their
    ``(nominal, low, high)`` pint quantities by path, and ``{path: (raw, source ids, tree, deps)}`` for
    the derived ones.
    """
    figures: dict[str, Figure] = {}
    quantities: dict[str, _Triple] = {}
    pending: dict[str, tuple] = {}
    for r in raws:
        basis, ids = _basis_and_sources(f, r, sources)
        if basis == "derived":
            tree, deps = _parse_formula(f, r.path, r.spec)
            pending[r.path] = (r, ids, tree, deps)
            continue
        q, ql, qh = _plain_quantities(f, r, basis, fast)
        quantities[r.path] = (q, ql, qh)
        figures[r.path] = _make_figure(f, r, basis, ids, (q, ql, qh), fast)
    return figures, quantities, pending


def _evaluate_derived(f: Path, pending: dict[str, tuple], env: dict[str, _Triple],
                      figures: dict[str, Figure], fast: bool = False) -> None:
    """Step 2: evaluate the derived figures in dependency order, adding them to ``env`` and ``figures``."""
    remaining = dict(pending)
    while remaining:
        progressed = False
        for path, (r, ids, tree, deps) in list(remaining.items()):
            unknown = [d for d in deps if d not in env and d not in remaining]
            if unknown:
                hint = suggest(unknown[0], list(env) + list(remaining))
                raise SpecError(f, f"{path}.formula", f"unknown figure {unknown[0]!r}"
                                + (f"; did you mean {hint[0]!r}?" if hint else ""))
            if any(d in remaining for d in deps):
                continue
            triple = _FormulaEvaluator(f, f"{path}.formula", env).evaluate(tree)
            env[path] = triple
            fig = _make_figure(f, r, "derived", ids, triple, fast)
            figures[path] = _cross_check_published(f, r.spec, fig, fast)
            del remaining[path]
            progressed = True
        if not progressed:
            raise SpecError(f, f"{next(iter(remaining))}.formula", "circular formula: " + ", ".join(remaining))


def _cross_check_published(f: Path, spec: dict, fig: Figure, fast: bool = False) -> Figure:
    """Step 3: a derived figure with a ``published`` value must agree with it within ``tolerance``."""
    if "published" not in spec:
        return fig
    path = fig.path
    try:
        pub = _in(_parse(spec["published"], f, f"{path}.published", fast), fig.dimension)
    except UnitError as exc:
        raise SpecError(f, f"{path}.published", str(exc)) from None
    tol = spec.get("tolerance", 0.02)
    if not isinstance(tol, (int, float)) or isinstance(tol, bool) or not 0 <= tol < 1:
        raise SpecError(f, f"{path}.tolerance", f"expected a fraction such as 0.02, got {tol!r}")
    if not abs(pub) <= MAX_SI:
        raise SpecError(f, f"{path}.published", f"expected a finite value of at most {MAX_SI:g} {fig.unit}, "
                        f"got {pub:g} {fig.unit}")
    if abs(fig.value - pub) > tol * abs(pub):
        raise SpecError(f, f"{path}.published",
                        f"formula gives {fig.value:.6g} {fig.unit} but the published figure is "
                        f"{pub:.6g} {fig.unit} (more than {tol:.0%} apart)")
    return dataclasses.replace(fig, published=pub)


# ----------------------------------------------------------------------------------------------------
# plain figures
# ----------------------------------------------------------------------------------------------------
def _basis_and_sources(f: Path, r: _RawFigure, sources: dict) -> tuple[str, list[str]]:
    """The figure's basis and its source ids, after checking its table's keys."""
    spec, path = r.spec, r.path
    if not isinstance(spec, dict):
        raise SpecError(f, path, "expected an inline table such as "
                        "{ value = \"3.35 TB/s\", basis = \"datasheet\", source = \"...\" }")
    _unknown(spec, _FIGURE_KEYS | (_MEASURED_KEYS if path.startswith("measured.") else set()), f, path)
    basis = _str(spec, "basis", f, f"{path}.basis", choices=BASES)
    src = spec.get("source")
    ids = [src] if isinstance(src, str) else src
    if not ids or not isinstance(ids, list) or not all(isinstance(s, str) for s in ids):
        raise SpecError(f, f"{path}.source", "missing (expected the id of a [sources] entry, or a list of ids)")
    for s in ids:
        if s not in sources:
            raise SpecError(f, f"{path}.source", f"unknown source id {s!r}; [sources] has: {', '.join(sources)}")
    return basis, ids


def _plain_quantities(f: Path, r: _RawFigure, basis: str, fast: bool = False) -> _Triple:
    """``(value, low, high)`` of a datasheet, measured or estimated figure, as pint quantities."""
    spec, path = r.spec, r.path
    if "formula" in spec or "published" in spec:
        raise SpecError(f, f"{path}.formula", "only a figure with basis = \"derived\" has a formula")
    if "value" not in spec:
        raise SpecError(f, f"{path}.value", "missing (expected a quantity such as \"3.35 TB/s\")")
    q = _parse(spec["value"], f, f"{path}.value", fast)
    if basis == "estimate":
        for b in ("low", "high"):
            if b not in spec:
                raise SpecError(f, f"{path}.{b}", "missing (an estimate states its range: low and high)")
        if not spec.get("note"):
            raise SpecError(f, f"{path}.note", "missing (an estimate says what it rests on)")
    elif ("low" in spec or "high" in spec) and basis != "measured":
        raise SpecError(f, f"{path}.low", "only an estimate (or a measurement whose sources differ) has a range; "
                        "set basis = \"estimate\"")
    ql = _parse(spec["low"], f, f"{path}.low", fast) if "low" in spec else q
    qh = _parse(spec["high"], f, f"{path}.high", fast) if "high" in spec else q
    return q, ql, qh


def _part_quantities(part: Device | None, fast: bool = False) -> dict[str, _Triple]:
    """``{"part.<path>": (nominal, low, high)}`` for every figure of the part a device is composed of."""
    if part is None:
        return {}
    if fast:
        return {"part." + p: tuple(fast_si(v, DIMENSIONS[fig.dimension][1]) for v in (fig.value, fig.low, fig.high))
                for p, fig in part.figures.items()}
    ureg = registry()
    out = {}
    for p, fig in part.figures.items():
        unit = _PINT_UNITS[DIMENSIONS[fig.dimension][1]]
        out["part." + p] = tuple(ureg.Quantity(float(v), unit) for v in (fig.value, fig.low, fig.high))
    return out


#: pint's spelling of each SI unit of :data:`roofline.units.DIMENSIONS`.
_PINT_UNITS = {"FLOP/s": "FLOP/s", "B": "B", "B/s": "B/s", "s": "s", "W": "W", "Hz": "Hz", "FLOP": "FLOP",
               "m": "m", "m^2": "m**2", "1": ""}


def _parse(text, f: Path, path: str, fast: bool = False):
    if fast:
        return fast_quantity(text)  # NotFast: the file goes through pint
    try:
        return to_quantity(text)
    except UnitError as exc:
        raise SpecError(f, path, str(exc)) from None


def _dimension_of(q, f: Path, path: str) -> str:
    for name in DIMENSIONS:
        try:
            _in(q, name)
            return name
        except UnitError:
            continue
    if isinstance(q, FastQuantity):
        raise NotFast("unsupported dimension")  # pint words it
    raise SpecError(f, path, f"unsupported dimension {q.dimensionality}")


def _make_figure(f: Path, r: _RawFigure, basis: str, ids: list[str], triple: _Triple, fast: bool = False) -> Figure:
    """The :class:`Figure` of ``(value, low, high)``: converted to SI and checked (finite, bounded,
    positive where required, ``low <= value <= high``)."""
    path, spec = r.path, r.spec
    q = _as_quantity(triple[0], fast)
    dim = r.dimension or _dimension_of(q, f, path)
    try:
        v, lo, hi = (_in(_as_quantity(x, fast), dim) for x in triple)
    except UnitError as exc:
        raise SpecError(f, path, str(exc)) from None
    unit = DIMENSIONS[dim][1]
    where = f"{path}.formula" if basis == "derived" else f"{path}.value"
    for field, x in ((where, v), (f"{path}.low", lo), (f"{path}.high", hi)):
        if not abs(x) <= MAX_SI:  # also refuses inf and nan
            raise SpecError(f, field, f"expected a finite value of at most {MAX_SI:g} {unit}, got {x:g} {unit}")
    if r.positive:
        if v <= 0:
            raise SpecError(f, path, f"expected a positive value, got {v:g} {unit}")
        if lo <= 0:
            raise SpecError(f, f"{path}.low", f"expected a positive value, got {lo:g} {unit}")
    elif v < 0 or lo < 0:
        raise SpecError(f, path, f"expected a value >= 0, got {min(v, lo):g} {unit}")
    if lo > hi:
        raise SpecError(f, f"{path}.low", f"low ({lo:g}) is above high ({hi:g})")
    if not lo <= v <= hi:
        raise SpecError(f, f"{path}.value", f"value {v:g} lies outside its range [{lo:g}, {hi:g}]")
    text = spec.get("value", spec.get("formula", ""))
    return Figure(path=path, value=v, dimension=dim, basis=basis, sources=tuple(ids), low=lo, high=hi,
                  text=str(text), note=str(spec.get("note", "")), locator=str(spec.get("locator", "")),
                  formula=str(spec.get("formula", "")),
                  **{k: str(spec.get(k, "")) for k in ("benchmark", "software", "date")})


def _as_quantity(v, fast: bool = False):
    if hasattr(v, "units"):
        return v
    return FastQuantity(float(v), {}) if fast else to_quantity(float(v))


def _in(q, dimension: str) -> float:
    """:func:`~roofline.units.quantity_in` of a pint quantity or of a :class:`~roofline.units.FastQuantity`."""
    return fast_in(q, dimension) if isinstance(q, FastQuantity) else quantity_in(q, dimension)


# ----------------------------------------------------------------------------------------------------
# formulas: parse and check the syntax tree, then evaluate it over intervals
# ----------------------------------------------------------------------------------------------------
def _parse_formula(f: Path, path: str, spec: dict) -> tuple[ast.Expression, list[str]]:
    """The checked syntax tree of a derived figure's formula and the figure paths it names."""
    field = f"{path}.formula"
    if "formula" not in spec:
        raise SpecError(f, field, "missing (a derived figure states the formula it is computed by)")
    text = spec["formula"]
    if type(text) in (int, float):  # a constant is a formula too
        text = str(text)
    if not isinstance(text, str) or len(text) > _MAX_FORMULA:
        raise SpecError(f, field, f"expected an arithmetic expression of at most {_MAX_FORMULA} characters")
    try:
        tree = ast.parse(text, mode="eval")
        _check_syntax(f, field, tree.body)
        return tree, _names(tree.body)
    except (SyntaxError, ValueError):
        raise SpecError(f, field, f"not an arithmetic expression: {text!r}") from None
    except (RecursionError, MemoryError):
        raise SpecError(f, field, "formula nested too deeply") from None


def _check_syntax(f: Path, field: str, node: ast.AST) -> None:
    """Refuse every node but numbers, figure paths, unary ``+ -``, ``+ - * /`` and ``** <0..8>``."""
    if isinstance(node, ast.Constant) and type(node.value) in (int, float):
        if not abs(node.value) <= _MAX_MAGNITUDE:
            raise SpecError(f, field, f"number out of range: {ast.unparse(node)[:40]}")
        return
    if isinstance(node, (ast.Name, ast.Attribute)):
        if _dotted(node) is not None:
            return
    elif isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        return _check_syntax(f, field, node.operand)
    elif isinstance(node, ast.BinOp) and isinstance(node.op, ast.Pow):
        n = node.right
        if not (isinstance(n, ast.Constant) and type(n.value) is int and 0 <= n.value <= MAX_EXPONENT):
            raise SpecError(f, field, f"unsupported exponent {ast.unparse(n)!r}: '**' takes a constant "
                            f"integer from 0 to {MAX_EXPONENT}")
        return _check_syntax(f, field, node.left)
    elif isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Add, ast.Sub, ast.Mult, ast.Div)):
        _check_syntax(f, field, node.left)
        return _check_syntax(f, field, node.right)
    raise SpecError(f, field, f"unsupported syntax {ast.unparse(node)!r}: {_SYNTAX_HINT}")


def _dotted(node) -> str | None:
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        parts.append(node.id)
        return ".".join(reversed(parts))
    return None


def _names(node: ast.AST) -> list[str]:
    """The figure paths a checked formula names, in order of first appearance."""
    if isinstance(node, (ast.Name, ast.Attribute)):
        return [_dotted(node)]
    out: list[str] = []
    for child in ast.iter_child_nodes(node):
        out += [n for n in _names(child) if n not in out]
    return out


class _FormulaEvaluator:
    """Evaluate one checked formula at nominal and over its inputs' ranges, in one pass over the tree."""

    def __init__(self, f: Path, field: str, env: dict[str, _Triple]):
        self.f, self.field, self.env = f, field, env

    def evaluate(self, tree: ast.Expression) -> _Triple:
        """Evaluate the formula once, at nominal and over the inputs' ranges.

        Parameters
        ----------
        tree : ast.Expression
            A formula checked by :func:`_check_syntax`.

        Returns
        -------
        tuple
            ``(nominal, low, high)`` as pint quantities (or plain numbers for a formula of numbers).

        Raises
        ------
        SpecError
            Naming the file and field: incompatible units, a division by a range that contains zero, an
            intermediate value beyond 1e300, or nesting too deep.
        """
        try:
            return self._node(tree.body)
        except SpecError:
            raise
        except RecursionError:
            raise SpecError(self.f, self.field, "formula nested too deeply") from None
        except Exception as exc:  # pint and arithmetic raise several types; each means a bad formula
            raise SpecError(self.f, self.field, f"cannot evaluate ({type(exc).__name__}: {exc})") from None

    def _node(self, node: ast.AST) -> _Triple:
        if isinstance(node, ast.Constant):
            return node.value, node.value, node.value
        if isinstance(node, (ast.Name, ast.Attribute)):
            return self.env[_dotted(node)]
        if isinstance(node, ast.UnaryOp):
            v, lo, hi = self._node(node.operand)
            return (-v, -hi, -lo) if isinstance(node.op, ast.USub) else (v, lo, hi)
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Pow):
            return self._bounded(_power(self._node(node.left), node.right.value))
        if isinstance(node, ast.BinOp):
            return self._bounded(_binary(node.op, self._node(node.left), self._node(node.right)))
        raise SpecError(self.f, self.field, f"unsupported syntax {ast.unparse(node)!r}: {_SYNTAX_HINT}")

    def _bounded(self, triple: _Triple) -> _Triple:
        for x in triple:
            m = getattr(x, "magnitude", x)
            if not abs(m) <= _MAX_MAGNITUDE:  # also refuses nan
                raise SpecError(self.f, self.field, f"an intermediate value is out of range (beyond "
                                f"{_MAX_MAGNITUDE:g}); every figure is at most {MAX_SI:g} in SI units")
        return triple


def _binary(op: ast.operator, a: _Triple, b: _Triple) -> _Triple:
    """``a op b`` at nominal and over the intervals ``[a_low, a_high]`` and ``[b_low, b_high]``."""
    from ..formulas import interval_div, interval_mul  # here, not at the top: formulas imports NumPy

    if isinstance(op, ast.Add):
        return a[0] + b[0], a[1] + b[1], a[2] + b[2]
    if isinstance(op, ast.Sub):
        return a[0] - b[0], a[1] - b[2], a[2] - b[1]
    if isinstance(op, ast.Mult):
        return (a[0] * b[0], *interval_mul(a[1:], b[1:]))
    return (a[0] / b[0], *interval_div(a[1:], b[1:]))


def _power(a: _Triple, n: int) -> _Triple:
    """``a ** n`` for a constant integer ``0 <= n <= 8``, at nominal and over ``[a_low, a_high]``."""
    lo, hi = a[1] ** n, a[2] ** n
    if n % 2 == 1 or a[1] >= 0:  # increasing over the range
        return a[0] ** n, lo, hi
    if a[2] <= 0:  # even power of a range at or below zero: decreasing
        return a[0] ** n, hi, lo
    return a[0] ** n, 0 * lo, max(lo, hi)  # even power of a range around zero
