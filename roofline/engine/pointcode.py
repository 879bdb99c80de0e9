"""One point of a compiled workload as straight-line code: the expressions the NumPy and scalar evaluators share.

A compiled workload's outputs (:class:`~roofline.engine.layout.OutputLayout`) go through **one**
common-subexpression elimination here. :class:`PointCode` keeps its result: the NumPy function of
:func:`roofline.engine.compiled.compile_workload` is printed from it (``lambdify`` is handed this
elimination rather than running its own), and :func:`body_lines` prints the same replacements and the same
reduced outputs as plain Python arithmetic for one point, which :mod:`roofline.engine.scalar` wraps in a
function of floats. Both evaluators therefore compute every output by the same operations in the same
order, and the tests check that they agree to the last bit.

The lines reproduce the NumPy evaluator's reduction (:mod:`roofline.engine.numpy_eval`): the home level (the
fastest level that holds the working set, or the forced one), each op's terms with the one activation rule
(the fastest level that holds them, never slower than the home), each op's work time (the maximum or the
sum of its work terms, times its count) and the work term that binds it, then its latency terms on top. One
pass gives all three :class:`~roofline.vocab.Mode` s at once: the work part is common, only the latency set
differs.

The lines read the point's shapes as ``a0, a1, ...``, the device figures as ``d0, d1, ...``, the level
capacities as ``c0, c1, ...``, the devices the working set is spread over as ``dv`` and a forced home
level as ``hm`` (negative: none). They leave ``flops``, ``nbytes``, ``hc`` (the home level), ``fits``, the
totals ``ti`` (ideal), ``tb`` (latency bound) and ``te`` (estimate), the binding work time per work term
``acc`` (a list), the latency per term of the estimate ``e0, e1, ...`` and of the bound ``b0, b1, ...``
and, with ``detail``, each work term's total ``s0, s1, ...``.
"""

from __future__ import annotations

import functools
import threading
import typing

from .layout import N_LATENCY, OutputLayout

__all__ = ["PointCode", "body_lines", "monotone_outputs", "numpy_namespace", "output_texts", "staged_source"]


class PointCode:
    """A workload's outputs after one common-subexpression elimination, printable as Python or NumPy code.

    Parameters
    ----------
    exprs : list of sympy.Expr
        The outputs in ``layout`` order.
    shape_syms, dev_syms : list of sympy.Symbol
        The arguments: shapes (renamed ``a0, a1, ...``), then figures (``d0, d1, ...``).
    zero_outputs : list of list of bool
        Per op, which outputs are identically zero (left out of the elimination and never printed).
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
        self.na, self.nd, self.n_out = len(shape_syms), len(dev_syms), len(exprs)
        self.args = [sp.Symbol(f"a{i}") for i in range(self.na)] + [sp.Symbol(f"d{i}") for i in range(self.nd)]
        ren = dict(zip(list(shape_syms) + list(dev_syms), self.args))
        live = list(range(OutputLayout.HEAD))
        for o in range(n_ops):
            live += [layout.op(o).start + t for t in range(layout.per_op) if not zero_outputs[o][t]]
        exprs = [sp.sympify(e).xreplace(ren) for e in exprs]
        self.reps, reduced = sp.cse([exprs[i] for i in live], symbols=sp.numbered_symbols("x"))
        self.val = dict(zip(live, reduced))
        self._printed: dict[tuple, str | None] = {}
        self.rep_lines = [f"{sym} = {self.pc(e)}" for sym, e in self.reps]
        self.totals = [self.pc(self.val[i]) for i in range(OutputLayout.HEAD)]

    def cse(self, exprs=None) -> tuple[list, list]:
        """The elimination in the form ``sympy.lambdify(cse=...)`` takes: (replacements, every output).

        Parameters
        ----------
        exprs : list, optional
            Ignored (``lambdify`` passes the expressions it was given; they are the ones eliminated here).

        Returns
        -------
        tuple of list
            ``(replacements, outputs)``: identically zero outputs stay zero.
        """
        import sympy as sp

        return list(self.reps), [self.val.get(i, sp.Integer(0)) for i in range(self.n_out)]

    @staticmethod
    def pc(e) -> str:
        """``e`` printed as Python (``math`` functions, Python's ``min`` / ``max``; a power other than a square,
        a reciprocal or a square root as ``_pow(base, exponent)``, which the scalar evaluator binds to NumPy's
        ``power``: C's ``pow`` and NumPy's vectorised one may differ in the last bit).

        Parameters
        ----------
        e : sympy.Expr

        Returns
        -------
        str
        """
        return _printer().doprint(e)

    def numpy_source(self, name: str = "_lambdifygenerated") -> str | None:
        """Source of ``name(a0, ..., d0, ...)``, which returns every output in layout order for arrays of
        points: the lines the scalar evaluator runs, executed in :func:`numpy_namespace` (where ``math``,
        ``min``, ``max`` and ``_pow`` are NumPy's element-wise functions). None where a line would not
        broadcast (a conditional expression): the caller then prints the expressions with SymPy's NumPy
        printer.

        Parameters
        ----------
        name : str
            The function's name.

        Returns
        -------
        str or None
        """
        outs = list(self.totals)
        for o in range(self.n_ops):
            outs += [self.get(o, t) or "0" for t in range(self.layout.per_op)]
        lines = self.rep_lines + [f"return [{', '.join(outs)}]"]
        if any(" if " in line or " for " in line for line in lines):
            return None
        head = f"def {name}({', '.join(str(a) for a in self.args)}):"
        return "\n".join([head] + ["    " + line for line in lines]) + "\n"

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


_EXACT_POWERS = ("-1", "2", "1/2", "-1/2")  # the same correctly rounded result in C's pow and NumPy's


@functools.lru_cache(maxsize=1)
def _printer():
    """A Python code printer that routes inexact powers through ``_pow``."""
    from sympy.printing.pycode import PythonCodePrinter

    class _Printer(PythonCodePrinter):
        def _print_Pow(self, expr, rational=False):
            if str(expr.exp) in _EXACT_POWERS:
                return super()._print_Pow(expr, rational)
            return f"_pow({self._print(expr.base)}, {self._print(expr.exp)})"

    return _Printer({"fully_qualified_modules": True, "standard": "python3"})


class _ElementWise:
    """``math`` for arrays: each function NumPy's element-wise one of the same name (``math.sqrt`` is
    ``numpy.sqrt``), so that the scalar evaluator's lines run on grids."""

    def __getattr__(self, name: str):
        import numpy as np

        return getattr(np, name)


def _fold(ufunc):
    def fold(*args):
        out = args[0]
        for a in args[1:]:
            out = ufunc(out, a)
        return out

    return fold


def numpy_namespace() -> dict:
    """What :meth:`PointCode.numpy_source` needs: ``math`` as NumPy's element-wise functions, ``min`` and
    ``max`` as ``numpy.minimum`` and ``numpy.maximum`` folded over their arguments, ``_pow`` as
    ``numpy.power`` (the scalar evaluator binds ``_pow`` to the same, so both compute every power alike).

    Returns
    -------
    dict
    """
    import numpy as np

    return {"math": _ElementWise(), "min": _fold(np.minimum), "max": _fold(np.maximum), "_pow": np.power}


def _level_of(var: str, amount: str, n_levels: int, none: int, indent: str = "") -> list[str]:
    """``var`` = the fastest level whose capacity holds ``amount`` (``none`` where no level does), unrolled."""
    out = [f"{indent}{var} = {none}"]
    for lv in range(n_levels - 1, -1, -1):
        if lv != none:
            out += [f"{indent}if {amount} <= c{lv}:", f"{indent}    {var} = {lv}"]
    return out


def _times(expr: str, cnt: str) -> str:
    """``expr`` times an op's count (a count of one is left out: ``x * 1`` is ``x`` exactly)."""
    return expr if cnt == "1" else f"{expr} * ({cnt})"


def _head(pc: PointCode) -> list[str]:
    nl = pc.layout.n_levels
    out = list(pc.rep_lines)
    out += [f"flops = {pc.totals[OutputLayout.FLOPS]}", f"nbytes = {pc.totals[OutputLayout.BYTES]}",
            "uni = hm >= 0", "if uni:", "    h = hm", "else:", f"    ws = ({pc.totals[OutputLayout.WORKING_SET]}) / dv"]
    out += _level_of("h", "ws", nl, nl, "    ")
    out += [f"fits = h < {nl}", f"hc = h if h < {nl} else {nl - 1}", "ti = 0.0", "te = 0.0", "tb = 0.0",
            f"acc = [0.0] * {pc.layout.n_work}"]
    out += [f"e{j} = 0.0" for j in range(N_LATENCY)] + [f"b{j} = 0.0" for j in range(N_LATENCY)]
    return out


def _activation_home(pc: PointCode, o: int) -> list[str]:
    """``ha``, where op ``o``'s activations live, and ``hs``, whether NumPy would see it as one level for every
    point of a forced home (then only level 0 carries activations, and the other levels no transient term)."""
    nl = pc.layout.n_levels
    lines = [f"ab = {pc.get(o, pc.layout.act_bytes) or '0.0'}", "if uni and ab <= c0:", "    ha = 0", "    hs = True",
             "else:", "    hs = False"]
    return lines + _level_of("ha", "ab", nl, nl - 1, "    ") + ["    if ha > hc:", "        ha = hc"]


def _op_terms(pc: PointCode, o: int, lines: list[str]) -> list[tuple[int, str, str]]:
    """Op ``o``'s work terms as (label index, printed value, when it takes part), the terms NumPy keeps."""
    lay, nl = pc.layout, pc.layout.n_levels
    terms = [(0, pc.get(o, lay.COMPUTE), "")]
    if any(not pc.zero[o][lay.transient(lv)] for lv in range(nl)):
        lines += _activation_home(pc, o)
    for lv in range(nl):
        r, a = pc.get(o, lay.resident(lv)), pc.get(o, lay.transient(lv))
        if lv == 0:  # level 0 is at or above every home
            value = " + ".join(f"({e})" for e in (r, a) if e is not None)
            terms.append((lay.term_of_level(lv), value or None, ""))
            continue
        parts = ([f"(({r}) if {lv} <= hc else 0.0)"] if r is not None else []) + \
                ([f"(({a}) if {lv} <= ha else 0.0)"] if a is not None else [])
        when = " or ".join(([f"not uni or {lv} <= hc"] if r is not None else []) + (["not hs"] if a is not None else []))
        terms.append((lay.term_of_level(lv), " + ".join(parts) or None, when))
    terms += [(lay.term_of_link(j), pc.get(o, lay.link(j)), "") for j in range(lay.n_links)]
    return [(j, e, w) for j, e, w in terms if e is not None]


def _binding(pc: PointCode, live: list[tuple[int, str, str]]) -> list[str]:
    """``best`` and ``jb``: the largest work term that takes part (the first on ties), as NumPy finds it."""
    if pc.overlap != "max":  # NumPy's argmax over every work term, absent ones as zeros
        j0 = live[0][0] if live and live[0][0] == 0 else None
        lines = [f"best = t{j0}" if j0 is not None else "best = 0.0", "jb = 0"]
        return lines + [ln for j, _, _ in live if j != j0 for ln in
                        (f"if t{j} > best:", f"    best = t{j}", f"    jb = {j}")]
    if live and not live[0][2]:
        j0 = live[0][0]
        lines, rest, test = [f"best = t{j0}", f"jb = {j0}"], live[1:], "t{j} > best"
    else:  # the first term may be absent: start below every time
        lines, rest, test = ["best = -1.0", "jb = -1"], live, "t{j} > best"
    for j, _, when in rest:
        cond = test.format(j=j) if not when else f"({when}) and {test.format(j=j)}"
        lines += [f"if {cond}:", f"    best = t{j}", f"    jb = {j}"]
    if not (live and not live[0][2]):
        lines += ["if jb < 0:", "    best = 0.0", "    jb = 0"]
    return lines


def _latencies(pc: PointCode, o: int, cnt: str) -> list[str]:
    """Each mode's time of op ``o`` (work, then each latency on top) and the latencies charged to their terms."""
    lay, lines = pc.layout, []
    est, bnd = [], []
    for j in range(N_LATENCY):
        for bound, names, var in ((False, est, "e"), (True, bnd, "b")):
            e = pc.get(o, lay.latency(j, bound=bound))
            if e is not None:
                lines += [f"l{var}{j} = {_times(f'({e})', cnt)}", f"{var}{j} += l{var}{j}"]
                names.append(f"l{var}{j}")
    lines += ["ti += w", "te += " + _on_top(est), "tb += " + _on_top(bnd)]
    return lines


def _on_top(names: list[str]) -> str:
    """An op's work time with its latencies on top, added as the NumPy evaluator adds them (the latencies
    summed first, then that sum to the work: :func:`roofline.engine.numpy_eval._combine`), so that both
    round alike."""
    return "w" if not names else f"w + ({' + '.join(names)})"


def _op(pc: PointCode, o: int, detail: bool) -> list[str]:
    """Op ``o``: its terms, its work time, the binding work term, its latencies."""
    cnt = pc.get(o, pc.layout.count) or "0.0"
    lines = [f"# op {o}"]
    live = _op_terms(pc, o, lines)
    lines += [f"t{j} = {e}" for j, e, _ in live]
    lines += _binding(pc, live)
    if pc.overlap == "max":
        lines.append(f"w = {_times('best', cnt)}")
    else:
        lines.append(f"w = {_times('(' + (' + '.join(f't{j}' for j, _, _ in live) or '0.0') + ')', cnt)}")
    lines.append("acc[jb] += w")
    lines += _latencies(pc, o, cnt)
    if detail:
        lines += [f"s{j} += {_times(f't{j}', cnt)}" for j, _, _ in live]
    return lines


def body_lines(pc: PointCode, detail: bool = False) -> list[str]:
    """The lines that evaluate one point (see the module's docstring for the names they read and leave).

    Parameters
    ----------
    pc : PointCode
        The printed expressions.
    detail : bool
        Also accumulate each work term's total over the ops (``s<j>``) [s].

    Returns
    -------
    list of str
        Unindented lines of Python.
    """
    lines = _head(pc)
    if detail:
        lines += [f"s{j} = 0.0" for j in range(pc.layout.n_work)]
    for o in range(pc.n_ops):
        lines += _op(pc, o, detail)
    return lines


def staged_source(source: str, n_ops: int, per_op: int, arrays=None, deferred=(), name="_staged", on_demand=()):
    """``source`` (a NumPy function of :class:`~roofline.engine.layout.OutputLayout`'s outputs: assignments,
    then ``return [...]``) rewritten as a generator that yields the workload totals, then each op's outputs
    in turn, computing each assignment just before the first output that needs it and dropping it after the
    last. The NumPy evaluator takes one op at a time, so a block's arrays stay few (and in cache); every
    value is computed by the same operations in the same order as ``source``'s.

    With ``arrays`` (the names of the arguments that are arrays, all of one shape), the arithmetic on arrays
    (``+ - * /``, negation) writes into buffers passed as the generator's first argument ``_b`` (a list of
    arrays of that shape) instead of new arrays: the same ufuncs on the same operands, with ``out=``. A buffer
    is reused once its value is dead: an op's outputs are dead when the next op is asked for; the totals
    never are. A total computed into a buffer of its own is last written by the ufunc that makes it, and that
    buffer is never written afterwards: the caller may pass its output array in that place (no copy).

    Parameters
    ----------
    source : str
        The function's source (this module's or SymPy's printer's).
    n_ops, per_op : int
        Ops in the workload, outputs per op [1].
    arrays : collection of str, optional
        Argument names that are arrays.
    deferred, on_demand : sequence of int
        Offsets inside an op's outputs computed only on request: the op's stage yields None there, and
        ``send(True)`` (``send(2)`` for ``on_demand``; either first) then yields those outputs (the ones not
        identically zero) in this order; ``next()`` skips them. The working set, among the totals, is
        deferred alike (read only where no home level is forced).
    name : str
        The generator's name.

    Returns
    -------
    str or tuple or None
        The source; with ``arrays``, (source, number of buffers, the buffer holding each total in the end:
        a dict of output position to index in ``_b``). None where ``source`` is not of that form.
    """
    import ast

    parsed = _parse(source, n_ops, per_op)
    if parsed is None:
        return None
    fn, assigns, stages = parsed
    first, last = _stages_of(assigns, stages)
    emit = _Pooled(arrays, {e.id for e in stages[0] if isinstance(e, ast.Name)}) if arrays is not None else None
    head = f"_b, {ast.unparse(fn.args)}" if emit else ast.unparse(fn.args)
    lines = [f"def {name}({head}):"]
    for s, group in enumerate(stages):
        for a in assigns:
            if first[a.targets[0].id] == s:
                lines += emit.assign(a) if emit else [ast.unparse(a)]
        lines += _yield_stage(group, deferred if s else (OutputLayout.WORKING_SET,), emit, on_demand if s else ())
        if emit and not s:
            heads = dict(emit.held)
        dead = [a.targets[0].id for a in assigns if last[a.targets[0].id] == s and first[a.targets[0].id] <= s]
        if s < len(stages) - 1:
            lines += [f"del {', '.join(dead)}"] if dead else []
            if emit:
                emit.release(dead, keep_outputs=s == 0)
    src = "\n".join([lines[0]] + ["    " + ln for ln in lines[1:]]) + "\n"
    return (src, emit.n, heads) if emit else src


def output_texts(source: str, n_ops: int, per_op: int, t: int) -> list[str] | None:
    """The text of each op's output at offset ``t`` in ``source`` (the form :func:`staged_source` takes): two
    ops with the same text have the same value (every name is assigned once, every expression is pure).

    Parameters
    ----------
    source : str
        The NumPy function's source.
    n_ops, per_op : int
        Ops in the workload, outputs per op [1].
    t : int
        Offset inside an op's outputs [1].

    Returns
    -------
    list of str or None
        One text per op; None where ``source`` is not of that form.
    """
    import ast

    parsed = _parse(source, n_ops, per_op)
    return None if parsed is None else [ast.unparse(group[t]) for group in parsed[2][1:]]


def monotone_outputs(source: str, n_ops: int, per_op: int, arrays) -> list[int] | None:
    """Which outputs of ``source`` (the form :func:`staged_source` takes) never fall as an argument in
    ``arrays`` grows and are never negative, wherever every argument is non-negative and finite: sums,
    products and maxima (``max``) of such values and of non-negative constants, and such values divided by
    values free of arrays. Each of those operations rounded to nearest is monotone too, so such an output
    computed at every array's least (greatest) value is at most (at least) its value at any point of the
    arrays, to the last bit, wherever that greatest value is finite (an infinity or NaN on the way reaches
    it: no ``min`` hides one). Where such an output reads one array at most, those are its least and greatest
    values (each taken at a point of the array).

    Parameters
    ----------
    source : str
        The NumPy function's source.
    n_ops, per_op : int
        Ops in the workload, outputs per op [1].
    arrays : collection of str
        Argument names that are arrays.

    Returns
    -------
    list of int or None
        Per output, in layout order: 0 (not such an output), 1 (such an output), 2 (such an output of one
        array at most); None where ``source`` is not of that form.
    """
    import ast

    parsed = _parse(source, n_ops, per_op)
    if parsed is None:
        return None
    fn, assigns, stages = parsed
    mono = dict.fromkeys((a.arg for a in fn.args.args), True)
    reads = {a: {a} for a in arrays}  # the arrays each array-valued name reads

    def of(node) -> set:
        return set().union(*(reads.get(n.id, ()) for n in ast.walk(node) if isinstance(n, ast.Name)))

    def ok(node) -> bool:
        if isinstance(node, ast.Name):
            return mono.get(node.id, False)
        if isinstance(node, ast.Constant):
            return type(node.value) in (int, float) and 0 <= node.value < float("inf")
        if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Add, ast.Mult)):
            return ok(node.left) and ok(node.right)
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Div):
            return ok(node.left) and ok(node.right) and not of(node.right)
        return (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "max"
                and not node.keywords and all(ok(a) for a in node.args))

    for a in assigns:
        name = a.targets[0].id
        mono[name], reads[name] = ok(a.value), of(a.value)
    return [(1 + (len(of(e)) <= 1)) * ok(e) for group in stages for e in group]


def _yield_stage(group, deferred, emit, on_demand=()) -> list[str]:
    """Lines yielding one stage's outputs, those at ``deferred`` and ``on_demand`` offsets (not identically
    zero) as None, and then, only when the evaluator sends for them (``send(True)``, ``send(2)``), those
    outputs."""
    import ast

    zero = lambda t: isinstance(group[t], ast.Constant) and group[t].value == 0
    later, asked = [t for t in deferred if not zero(t)], [t for t in on_demand if not zero(t)]
    lines: list[str] = []
    if emit:
        emit.held = {}
    texts = [("None" if t in later or t in asked else emit.expr(e, lines, t) if emit else ast.unparse(e))
             for t, e in enumerate(group)]
    branches = []
    for ts in (later, asked):
        inner: list[str] = []
        more = [emit.expr(group[t], inner) if emit else ast.unparse(group[t]) for t in ts]
        branches.append([*inner, f"yield [{', '.join(more)}]"] if ts else None)
    if not asked:
        if not later:
            return [*lines, f"yield [{', '.join(texts)}]"]
        return [*lines, f"if (yield [{', '.join(texts)}]):"] + ["    " + ln for ln in branches[0]]
    first, second = branches[0] or ["yield []"], branches[1]
    first[-1], second[-1] = "_r = " + first[-1], "_r = " + second[-1]
    return [*lines, f"_r = yield [{', '.join(texts)}]", "while _r:", "    if _r == 2:",
            *["        " + ln for ln in second], "    else:", *["        " + ln for ln in first]]


#: one ``ast.parse`` at a time: CPython 3.11's AST objects are built with a recursion depth shared by threads
#: ("AST constructor recursion depth mismatch" when two threads of a sweep parse at once)
_PARSE_LOCK = threading.Lock()


def _parse(source: str, n_ops: int, per_op: int):
    """The function of ``source``, its assignments and its outputs by stage (the totals, then each op's), or
    None where it is not assignments then ``return [...]`` of every output."""
    import ast

    try:
        with _PARSE_LOCK:
            fn = ast.parse(source).body[-1]
    except SyntaxError:
        return None
    body = fn.body if isinstance(fn, ast.FunctionDef) else []
    assigns, ret = body[:-1], body[-1] if body else None
    n_out = OutputLayout.HEAD + n_ops * per_op
    if not (isinstance(ret, ast.Return) and isinstance(ret.value, ast.List) and len(ret.value.elts) == n_out
            and all(isinstance(a, ast.Assign) and len(a.targets) == 1 and isinstance(a.targets[0], ast.Name)
                    for a in assigns)):
        return None
    outs = ret.value.elts
    return fn, assigns, [outs[:OutputLayout.HEAD]] + [outs[OutputLayout.HEAD + o * per_op:][:per_op]
                                                      for o in range(n_ops)]


class _Pooled:
    """Prints array arithmetic as ufunc calls into pooled buffers ``_b[k]``, reusing a buffer once it is dead."""

    UFUNC: typing.ClassVar[dict] = {"Add": "_np.add", "Sub": "_np.subtract", "Mult": "_np.multiply",
                                    "Div": "_np.true_divide"}

    def __init__(self, arrays, pinned):
        self.arrays, self.pinned = set(arrays), set(pinned)
        self.n, self.free, self.owner, self.temps, self.held = 0, [], {}, [], {}

    def _alloc(self) -> int:
        if self.free:
            return self.free.pop()
        self.n += 1
        return self.n - 1

    def _is_array(self, node) -> bool:
        import ast

        return any(isinstance(n, ast.Name) and n.id in self.arrays for n in ast.walk(node))

    def _compile(self, node, lines) -> tuple[str, int | None]:
        """Text of ``node``'s value and the intermediate buffer holding it (None: a name, a scalar or a new array)."""
        import ast

        if not self._is_array(node) or isinstance(node, ast.Name):
            return f"({ast.unparse(node)})" if not isinstance(node, ast.Name) else node.id, None
        if isinstance(node, ast.BinOp) and type(node.op).__name__ in self.UFUNC:
            (lt, lb), (rt, rb) = self._compile(node.left, lines), self._compile(node.right, lines)
            k = lb if lb is not None else rb if rb is not None else self._alloc()
            if rb is not None and rb != k:
                self.free.append(rb)
            lines.append(f"{self.UFUNC[type(node.op).__name__]}({lt}, {rt}, out=_b[{k}])")
            return f"_b[{k}]", k
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
            xt, xb = self._compile(node.operand, lines)
            k = xb if xb is not None else self._alloc()
            lines.append(f"_np.negative({xt}, out=_b[{k}])")
            return f"_b[{k}]", k
        return f"({ast.unparse(node)})", None  # anything else: NumPy's own (new) array

    def assign(self, a) -> list[str]:
        """Lines computing assignment ``a`` (its buffer, if any, owned by its name until it is dropped)."""
        lines: list[str] = []
        text, k = self._compile(a.value, lines)
        name = a.targets[0].id
        if self._is_array(a.value):
            self.arrays.add(name)
        if k is not None:
            self.owner[name] = k
        return lines + [f"{name} = {text}"]

    def expr(self, node, lines, t: int = -1) -> str:
        """Text of the output at offset ``t`` of its stage (its buffer held until the next stage, and noted in
        ``held``)."""
        text, k = self._compile(node, lines)
        if k is not None:
            self.temps.append(k)
            self.held[t] = k
        return text

    def release(self, dead, keep_outputs: bool) -> None:
        """After a stage: its outputs' buffers (not the totals') and the dropped names' become free."""
        if not keep_outputs:
            self.free += self.temps
        self.temps = []
        self.free += [self.owner.pop(n) for n in dead if n in self.owner and n not in self.pinned]


def _stages_of(assigns, stages) -> tuple[dict, dict]:
    """For each assigned name, the first stage whose outputs need it (directly or through a later assignment)
    and the last stage that reads it."""
    import ast

    names = lambda node: {n.id for n in ast.walk(node) if isinstance(n, ast.Name)}
    first: dict = {a.targets[0].id: len(stages) for a in assigns}
    last: dict = {a.targets[0].id: 0 for a in assigns}
    for s, group in enumerate(stages):
        for n in set().union(*(names(e) for e in group)) & first.keys():
            first[n], last[n] = min(first[n], s), max(last[n], s)
    for a in reversed(assigns):  # an assignment is needed by the stage of the first that reads it
        for n in names(a.value) & first.keys():
            first[n] = min(first[n], first[a.targets[0].id])
    for a in assigns:
        for n in names(a.value) & first.keys():
            last[n] = max(last[n], first[a.targets[0].id])
    return first, last
