"""One point of a compiled workload as straight-line code: the text both the scalar and the fused evaluator run.

A compiled workload's outputs (:class:`~roofline.engine.layout.OutputLayout`), after one
common-subexpression elimination, are printed as plain arithmetic for a single point: the totals, the
home level (the fastest level that holds the working set), each op's terms with the one activation rule
(the fastest level that holds them, never slower than the home), each op's time (the maximum or the sum
of its terms, times its count), the binding term and the total. :mod:`roofline.engine.scalar` wraps these
lines in a plain Python function for one configuration; :mod:`roofline.engine.fused` wraps them in a loop
over points that numba compiles. Both therefore compute the same numbers as the NumPy evaluator
(:mod:`roofline.engine.numpy_eval`), which reads the same layout; the tests check all three agree.

The lines read the point's shapes as ``a0, a1, ...``, the device figures as ``d0, d1, ...``, the level
capacities as ``c0, c1, ...``, the devices the working set is spread over as ``dv`` and a forced home
level as ``hm`` (negative: none). They leave ``total``, ``fits``, ``hc`` (the home level), ``flops``,
``nbytes``, the per-label binding times ``acc`` and, with ``detail``, the per-label term totals
``s0, s1, ...``.
"""

from __future__ import annotations

from .layout import OutputLayout

__all__ = ["PointCode", "body_lines"]


class PointCode:
    """A workload's live outputs after common-subexpression elimination, printable as Python expressions.

    Parameters
    ----------
    exprs : list of sympy.Expr
        The outputs in ``layout`` order.
    shape_syms, dev_syms : list of sympy.Symbol
        The arguments: shapes (printed ``a0, a1, ...``), then figures (``d0, d1, ...``).
    zero_outputs : list of list of bool
        Per op, which outputs are identically zero (never printed).
    n_ops : int
        Ops in the workload [1].
    layout : OutputLayout
        Positions of the outputs in ``exprs``.
    overlap : str
        ``max`` or ``sum``.
    """

    def __init__(self, exprs, shape_syms, dev_syms, zero_outputs, n_ops: int, layout: OutputLayout, overlap: str):
        import sympy as sp

        self.layout, self.zero, self.n_ops, self.overlap = layout, zero_outputs, n_ops, overlap
        self.na, self.nd = len(shape_syms), len(dev_syms)
        ren = {s: sp.Symbol(f"a{i}") for i, s in enumerate(shape_syms)}
        ren.update({s: sp.Symbol(f"d{i}") for i, s in enumerate(dev_syms)})
        live = list(range(OutputLayout.HEAD))
        for o in range(n_ops):
            live += [layout.op(o).start + t for t in range(layout.per_op) if not zero_outputs[o][t]]
        exprs = [sp.sympify(e).xreplace(ren) for e in exprs]
        self.reps, reduced = sp.cse([exprs[i] for i in live], symbols=sp.numbered_symbols("x"))
        self.val = dict(zip(live, reduced))
        self._printed: dict[tuple, str | None] = {}
        self.rep_lines = [f"{sym} = {self.pc(e)}" for sym, e in self.reps]

    @staticmethod
    def pc(e) -> str:
        """``e`` printed as Python (``math`` functions, floats as written).

        Parameters
        ----------
        e : sympy.Expr

        Returns
        -------
        str
        """
        import sympy as sp

        return sp.pycode(e, fully_qualified_modules=False, standard="python3")

    def get(self, o: int, t: int) -> str | None:
        """The printed expression of op ``o``'s output at offset ``t``, or None where identically zero.

        Parameters
        ----------
        o : int
            Op index [1].
        t : int
            Offset inside the op's slice of the layout [1].

        Returns
        -------
        str or None
        """
        key = (o, t)
        if key not in self._printed:
            self._printed[key] = None if self.zero[o][t] else self.pc(self.val[self.layout.op(o).start + t])
        return self._printed[key]


def _level_of(var: str, amount: str, n_levels: int, none: int) -> list[str]:
    """``var`` = the fastest level whose capacity holds ``amount`` (``none`` where no level does), unrolled."""
    out = [f"{var} = {none}"]
    for lv in range(n_levels - 1, -1, -1):
        if lv != none:
            out += [f"if {amount} <= c{lv}:", f"    {var} = {lv}"]
    return out


def _times(expr: str, cnt: str) -> str:
    """``expr`` times an op's count, without multiplying by a count of one."""
    return expr if cnt == "1" else f"{expr} * ({cnt})"


def _head(pc: PointCode) -> list[str]:
    nl = pc.layout.n_levels
    out = list(pc.rep_lines)
    out += [f"flops = {pc.pc(pc.val[OutputLayout.FLOPS])}", f"nbytes = {pc.pc(pc.val[OutputLayout.BYTES])}",
            "if hm >= 0:", "    h = hm", "else:", f"    ws = ({pc.pc(pc.val[OutputLayout.WORKING_SET])}) / dv"]
    out += ["    " + line for line in _level_of("h", "ws", nl, nl)]
    return out + [f"fits = h < {nl}", f"hc = h if h < {nl} else {nl - 1}", "total = 0.0"]


def _op_terms(pc: PointCode, o: int, lines: list[str]) -> list[tuple[int, str | None]]:
    """Op ``o``'s reported terms as (label index, printed expression); the activation rule as in NumPy."""
    lay, nl = pc.layout, pc.layout.n_levels
    terms = [(0, pc.get(o, lay.COMPUTE))]
    if any(not pc.zero[o][lay.transient(lv)] for lv in range(nl)):
        lines.append(f"ab = {pc.get(o, lay.act_bytes) or '0.0'}")
        lines += _level_of("ha", "ab", nl, nl - 1)
        lines += ["if ha > hc:", "    ha = hc"]
    for lv in range(nl):  # level 0 is at or above every home: its terms need no test
        r, a = pc.get(o, lay.resident(lv)), pc.get(o, lay.transient(lv))
        parts = ([f"({r})" if lv == 0 else f"(({r}) if {lv} <= hc else 0.0)"] if r is not None else []) + \
                ([f"({a})" if lv == 0 else f"(({a}) if {lv} <= ha else 0.0)"] if a is not None else [])
        terms.append((lay.term_of_level(lv), " + ".join(parts) if parts else None))
    terms += [(lay.term_of_link(j), pc.get(o, lay.link(j))) for j in range(lay.n_links)]
    terms.append((lay.term_latency, pc.get(o, lay.latency)))
    return terms


def _op(pc: PointCode, o: int, detail: bool) -> list[str]:
    """Op ``o``: its terms, its time, the binding term (the largest, first on ties, as in NumPy)."""
    cnt = pc.get(o, pc.layout.count) or "0.0"
    lines = [f"# op {o}"]
    live = [(j, e) for j, e in _op_terms(pc, o, lines) if e is not None] or [(0, "0.0")]
    lines += [f"t{j} = {e}" for j, e in live]
    j0 = live[0][0]
    lines += [f"best = t{j0}", f"jb = {j0}"]
    for j, _ in live[1:]:
        lines += [f"if t{j} > best:", f"    best = t{j}", f"    jb = {j}"]
    if pc.overlap == "max":
        lines.append(f"tt = {_times('best', cnt)}")
    else:
        lines.append(f"tt = {_times('(' + ' + '.join(f't{j}' for j, _ in live) + ')', cnt)}")
    lines += ["total += tt", "acc[jb] += tt"]
    if detail:
        lines += [f"s{j} += {_times(f't{j}', cnt)}" for j, _ in live]
    return lines


def body_lines(pc: PointCode, detail: bool = False) -> list[str]:
    """The lines that evaluate one point (see the module's docstring for the names they read and leave).

    ``acc`` (one float per label) must exist and be zero before the lines run; with ``detail`` the lines
    also set ``s0, s1, ...`` (one per label) from zero.

    Parameters
    ----------
    pc : PointCode
        The printed expressions.
    detail : bool
        Also accumulate each term's total over the ops (``s<j>``) [s].

    Returns
    -------
    list of str
        Unindented lines of Python.
    """
    n_labels = pc.layout.n_reported
    lines = _head(pc)
    if detail:
        lines += [f"s{j} = 0.0" for j in range(n_labels)]
    for o in range(pc.n_ops):
        lines += _op(pc, o, detail)
    return lines
