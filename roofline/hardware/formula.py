"""Load and validate device spec files (``hardware_specs/*.toml``) into immutable :class:`Device` objects.

The spec format is described in ``docs/spec-format.md``. Units are parsed here, once, with pint (see
:mod:`roofline.units`); derived figures are computed here from their formulas; and every schema problem
raises :class:`~roofline.errors.SpecError` naming the file, the field and what was expected. Nothing
downstream of this module knows about files or units.
"""

from __future__ import annotations

import ast
import itertools
from pathlib import Path
from typing import Any

from ..errors import SpecError
from ..units import DIMENSIONS, UnitError, quantity_in, to_quantity
from .device import BASES, Device
from .figure import Figure
from .schema import _FIGURE_KEYS, _RawFigure, _str, _unknown

__all__ = []


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
                from ..errors import suggest

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

