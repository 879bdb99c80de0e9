"""The scalar evaluator: one configuration in plain Python arithmetic, with no NumPy array on the way.

A single configuration (one batch, one context, one corner of the device's figures) is what an interactive
estimate, an optimiser or a layout search asks for, thousands of times. The NumPy evaluator pays about a
hundred array calls per evaluation whatever the number of points; here the same expressions, after the
same common-subexpression elimination (:mod:`roofline.engine.pointcode`), are one Python function of
floats that returns, in a few microseconds, what the NumPy evaluator returns for each of the three
:class:`~roofline.vocab.Mode` s.

The source is generated at compile time, kept in the compiled-function cache beside the NumPy one (signed
like it), and turned into a function with :func:`compile` in a namespace that holds only :mod:`math`,
Python's ``min`` and ``max`` and :func:`_pow` (NumPy's ``power``, for the few inexact powers such as the
mesh's cube roots, so that both evaluators agree to the last bit).

Most points of an LLM estimate are read for one mode's time and binding term only (the corners of the
estimate's ranges, the two bounds): :func:`lean_source` drops from the source the lines only the other modes
and a record with detail read, and :class:`Kernel` runs that lean ``point`` when asked (its
:class:`Point` then answers those modes only, and refuses the others rather than answer wrongly).

An estimate evaluates each phase at several corners (the measured device's nominal, best and worst, the
datasheet device's best for the bounds): :class:`Corners` runs them in one generated call
(:func:`corners_source`), computing once what does not depend on the corner (the shape-only
subexpressions, and where the capacities, devices and home are the same, the home and activation levels)
and, when the corners are bound, what depends on a corner's figures alone (:func:`fixed_source`); each
corner's :class:`Point` is its :class:`Kernel`'s to the last bit.
"""

from __future__ import annotations

import functools
import math
import re

from ..vocab import Mode
from .layout import N_LATENCY, OutputLayout
from .pointcode import PointCode, body_lines

__all__ = ["generate", "load", "lean_source", "corners_source", "fixed_source", "Kernel", "Corners", "Point",
           "LEAN_MODES"]


def generate(pc: PointCode) -> str:
    """Python source of ``point(a0, ..., d0, ..., c0, ..., dv, hm)`` for the expressions of ``pc``.

    Parameters
    ----------
    pc : PointCode
        The expressions of a compiled workload after its one common-subexpression elimination.

    Returns
    -------
    str
        A module defining ``point``, which returns ``(flops, nbytes, home, fits, (ideal, bound, estimate
        totals), binding work time per work term, estimate latencies, bound latencies, work term totals)``.
    """
    nl = pc.layout.n_levels
    args = [f"a{i}" for i in range(pc.na)] + [f"d{i}" for i in range(pc.nd)] + [f"c{i}" for i in range(nl)]
    lines = [f"def point({', '.join(args + ['dv', 'hm'])}):"]
    lines += ["    " + _float_factors(line) for line in body_lines(pc, detail=True)]
    lat = lambda v: "(" + ", ".join(f"{v}{j}" for j in range(N_LATENCY)) + ",)"  # noqa: E731
    sums = "(" + "".join(f"s{j}, " for j in range(pc.layout.n_work)) + ")"
    lines.append(f"    return flops, nbytes, hc, fits, (ti, tb, te), acc, {lat('e')}, {lat('b')}, {sums}")
    return "\n".join(lines) + "\n"


def _float_factors(line: str) -> str:
    """``line`` with each integer factor of a product written as a float (``20971520*x2`` as
    ``20971520.0*x2``, an op's count ``best * (160)`` as ``best * (160.0)``) where the other factor is a
    float: Python multiplies an int by a float by converting the int to a float first, exactly for one of
    fewer than 54 bits, so the product is the same to the last bit, and a float times a float runs about twice
    as fast as a mixed product (a fifth of an estimate's generated arithmetic is such products). A factor
    that may be an int is left alone: a level or term index (``h``, ``hc``, ``hm``, ``ha``, ``jb``), a list
    (``[0.0] * 4``), an exponent, a parenthesised expression. Shapes passed as ints (the NumPy evaluator
    reads every shape as a float) then give a float product, as NumPy does."""
    if "*" not in line:
        return line
    return _COUNT.sub(_float_count, _INT_FACTOR.sub(r"\1.0*", line))


def _float_count(m) -> str:
    return f" * ({m[1]}.0)" if len(m[1]) < 16 else m[0]


#: an integer literal (fewer than 16 digits: below 2**53) before ``*`` (not ``**``), not part of a name, a
#: float or an exponent, not a divisor, multiplying a name that holds a float (every name but the level and
#: term indices; a call of ``math`` or ``_pow``, not ``min``, ``max`` or ``abs``, which may return an int);
#: an op's count after ``best`` or a term (``w = best * (160)``, ``s0 += t0 * (160)``, ``(e) * (160)``)
_INT_FACTOR = re.compile(r"(?<![\w.*/])(?<![eE][-+])(\d{1,15})\*(?![*(])"
                         r"(?!(?:h|hc|hm|ha\w*|jb\w*|uni|fits|min|max|abs)\b)"
                         r"(?=[A-Za-z_])")
_COUNT = re.compile(r"(?<=[\w)]) \* \((\d+)\)$")


def load(source: str, filename: str = "<roofline scalar kernel>"):
    """The ``point`` function of ``source`` (generated by :func:`generate` in this process or read from a
    signed cache entry), compiled in a namespace that holds only :mod:`math` and a few builtins.

    Parameters
    ----------
    source : str or code object
        From :func:`generate`, or its compiled code (kept by the disk cache).
    filename : str
        Shown in tracebacks.

    Returns
    -------
    callable
    """
    key = (source, filename)
    hit = _LOADED.get(key)
    if hit is None:
        from .codecache import cached_code  # compiling the source costs more than a warm command evaluates

        ns: dict = {"math": math, "_pow": _pow, "__builtins__": {"min": min, "max": max, "abs": abs, "float": float}}
        exec(cached_code(source, filename), ns)  # noqa: S102 - generated by this package, or a signed cache entry
        if len(_LOADED) >= 256:
            _LOADED.clear()
        hit = _LOADED[key] = ns["point"]
    return hit


#: the functions :func:`load` compiled, by source and file name (a pure function of both; the bound keeps
#: memory small)
_LOADED: dict = {}

#: what a lean ``point`` (:func:`lean_source`) leaves out, by what it keeps: the work terms' totals ``s<j>``
#: (read only by a record with detail) and the other modes' totals and latencies; ``estimate_time`` keeps the
#: estimate's total alone (what the ends of an estimate's ranges read): no binding work time per term
#: (``acc``) and no latency per term (``e<j>``) either
_LEAN_DROP = {
    "estimate": re.compile(r"    (s\d+ \+?= |ti \+= |tb \+= |lb\d+ = |b\d+ \+= )"),
    "bounds": re.compile(r"    (s\d+ \+?= |te \+= |le\d+ = |e\d+ \+= )"),
    "estimate_time": re.compile(r"    (s\d+ \+?= |ti \+= |tb \+= |lb\d+ = |b\d+ \+= |e\d+ \+= |acc\b)"),
}

#: the modes each lean ``point`` answers (:meth:`Point.time_and_bound` and :meth:`Point.mode`): an
#: ``estimate_time`` point answers none of them (its ``raw`` holds the estimate's total, read directly)
LEAN_MODES = {"estimate": (Mode.ESTIMATE,), "bounds": (Mode.IDEAL, Mode.LATENCY_BOUND), "estimate_time": ()}


def _lean_result(ret: str, keep: str) -> str:
    """The tuple a lean ``point`` returns (text, without ``return``): :func:`generate`'s with no work term
    totals (an empty tuple), and for ``estimate_time`` no binding times and no latencies per term either."""
    if keep == "estimate_time":
        return ret[:ret.index(", acc, ")] + ", (), (), (), ()"
    return ret[:ret.rindex(", (")] + ", ()"


@functools.lru_cache(maxsize=64)
def lean_source(source: str, keep: str) -> str:
    """``source`` (from :func:`generate`) without the lines that only the modes ``keep`` does not name, or
    only a record with detail, read: the same ``point`` for the modes it keeps (the lines left are the same
    lines, so its answers are the same to the last bit), about a quarter shorter, and run thousands of times
    by an optimiser's estimates.

    Parameters
    ----------
    source : str
        From :func:`generate`.
    keep : str
        ``estimate`` (the estimate's total and latencies), ``bounds`` (the ideal and latency-bound totals and
        the bound's latencies) or ``estimate_time`` (the estimate's total alone).

    Returns
    -------
    str
        A module defining ``point``, returning what :func:`generate`'s does with the other modes' totals and
        latencies left at zero and no work term totals (an empty tuple); for ``estimate_time``, empty tuples
        in place of the binding times, the latencies and the work term totals.
    """
    drop = _LEAN_DROP[keep]
    lines = [ln for ln in source.splitlines() if not drop.match(ln)]
    ret = lines[-1]
    lines[-1] = "    return " + _lean_result(ret.strip()[len("return "):], keep)
    return "\n".join(lines) + "\n"


class Kernel:
    """The ``point`` function of a compiled workload with its figures bound: one corner of one device, the
    devices and the home level fixed, the shapes free (what :meth:`CompiledWorkload.point
    <roofline.engine.compiled.CompiledWorkload.point>` does, with the work that does not depend on the shapes
    done once).

    Parameters
    ----------
    source : str
        From :func:`generate`.
    filename : str
        Shown in tracebacks (:func:`load`).
    figures, capacities : sequence of float
        The device figures in argument order and each level's capacity [each figure's SI unit; B].
    devices : float
        Devices the working set is spread over [1].
    home : int or None
        Forced home level index; None: the fastest that holds the working set.
    layout : OutputLayout
        Positions of the reported terms.
    labels : tuple of str
        Text forms of the reported terms.
    lean : str, optional
        Run the lean ``point`` that keeps these modes only (:func:`lean_source`): its points answer
        :meth:`Point.time_and_bound` and :meth:`Point.mode` without detail for those modes (none for
        ``estimate_time``, whose ``raw`` holds the estimate's total alone).
    """

    __slots__ = ("fn", "tail", "fixed_sum", "layout", "labels", "covers")

    def __init__(self, source: str, filename: str, figures, capacities, devices: float, home, layout: OutputLayout,
                 labels: tuple = (), lean: str | None = None):
        self.fn = load(lean_source(source, lean), f"{filename} ({lean})") if lean else load(source, filename)
        self.covers = LEAN_MODES[lean] if lean else None
        self.tail = (*figures, *capacities, devices, -1 if home is None else home)
        self.fixed_sum = _fsum(figures) + _fsum(capacities) + devices  # finite only if each part is
        self.layout, self.labels = layout, labels

    def __call__(self, values) -> Point | None:
        """Every mode at shapes ``values`` (in argument order) [1], or None where plain arithmetic would part
        from NumPy's (a value that is not finite, a zero divisor): the caller then runs the NumPy evaluator.

        Parameters
        ----------
        values : sequence of float
            The shapes [1].

        Returns
        -------
        Point or None
        """
        raw = self.raw(values)
        return None if raw is None else Point(raw, self.layout, self.labels, self.covers)

    def raw(self, values) -> tuple | None:
        """What the generated ``point`` returns at shapes ``values`` (:attr:`Point.raw`), without the
        :class:`Point`, or None where :meth:`__call__` gives None.

        Parameters
        ----------
        values : sequence of float
            The shapes [1].

        Returns
        -------
        tuple or None
        """
        if not _isfinite(_fsum(values) + self.fixed_sum):
            return None
        try:
            return self.fn(*values, *self.tail)
        except (ZeroDivisionError, OverflowError, ValueError, TypeError):
            return None


#: a plain sum: NaN or infinite where a part is, or where they overflow together (``math.fsum`` raises there)
_isfinite, _fsum = math.isfinite, sum


def corners_source(source: str, keeps: tuple, common: tuple) -> str:
    """Source of ``point(a0, ..., _C, _T0, _T1, ...)``: the ``point`` of ``source`` (from :func:`generate`) at
    several corners in one call, the work that does not depend on a corner done once.

    Each corner's figures, capacities, devices and home (a *tail*: the arguments after the shapes) run through
    the lines of ``source`` (or of :func:`lean_source`'s for that corner's ``keep``), in their order. The
    statements that read the tail alone (``x1 = 1/d4``, a latency ``le2 = d5 * 80``) are left out: the caller
    computes them once per tail (:func:`fixed_source`) and passes their values after the tail's. A top-level
    statement is then computed once, before the corners, where everything it reads is a shape, a value the
    same at every corner (``common``: passed once, as the tuple ``_C``) or a name such a statement made, and
    where no other statement writes what it writes (the shape-only subexpressions, the work totals, and with
    the capacities, devices and home shared, the home level and each op's activation level), and so is each
    condition the corners share (``1 <= hc``). An op's own names (``ab``, ``ha``, ``t0``, ``best``, ``w``,
    ...) are renamed per op (``ab__3``), so that one op's value computed before the corners is not overwritten
    by the next op's. The statements left run once per corner, with that corner's other values unpacked from
    ``_T<k>``; every value is computed by the same operations in the same order as by ``source``, so each
    corner's result equals ``point``'s (or the lean one's) to the last bit.

    Parameters
    ----------
    source : str
        From :func:`generate`.
    keeps : tuple of (str or None)
        Per corner: None (every mode, with detail) or a :func:`lean_source` ``keep``.
    common : tuple of bool
        Per value of a tail (the arguments ``d<i>``, ``c<i>``, ``dv``, ``hm``, then the names of
        :func:`fixed_source`): whether it is the same at every corner.

    Returns
    -------
    str
        A module defining ``point``, which returns one tuple per corner, each what :func:`generate`'s (or
        :func:`lean_source`'s) ``point`` returns there. ``_C`` holds the common values it reads and each
        ``_T<k>`` the others it reads, each in tail order (:func:`_plan`).
    """
    return _plan(source, keeps, common)[0]


@functools.lru_cache(maxsize=64)
def _plan(source: str, keeps: tuple, common: tuple) -> tuple[str, tuple, tuple]:
    """:func:`corners_source`, and the positions in the tail (with :func:`fixed_source`'s values) of the
    values it reads from ``_C`` and, per corner, from its ``_T<k>``."""
    shapes, tail, fixed, rest, ret = _parsed(source)
    ext = tail + list(_set_by(fixed))
    before, per, sure = _hoist(rest, set(shapes) | {n for n, c in zip(ext, common) if c}, set(ext))
    conds, texts = _conditions(per, sure)
    used = set().union(*(u.reads for u in before + per), *(_reads(c) for c in conds), _reads(ret))
    shared = tuple(i for i, (n, c) in enumerate(zip(ext, common)) if c and n in used)
    lines = [f"def point({', '.join(shapes + ['_C'] + [f'_T{k}' for k in range(len(keeps))])}):"]
    lines += [f"    {''.join(ext[i] + ', ' for i in shared)}= _C"] if shared else []
    lines += [ln for u in before for ln in u.text] + [f"    {q} = {c}" for c, q in conds.items()]
    results, owns = [], []
    for k, keep in enumerate(keeps):
        drop = _LEAN_DROP[keep] if keep else None
        kept = [(u, text) for u, text in zip(per, texts) if drop is None or not drop.match(u.first)]
        result = f"({ret if not keep else _lean_result(ret, keep)})"
        used = set().union(_reads(result), *(u.reads for u, _ in kept))  # what this corner reads of its own
        owns.append(tuple(i for i, (n, c) in enumerate(zip(ext, common)) if not c and n in used))
        lines += [f"    # corner {k}"] + ([f"    {''.join(ext[i] + ', ' for i in owns[-1])}= _T{k}"] if owns[-1] else [])
        lines += [ln for _, text in kept for ln in text] + [f"    _r{k} = {result}"]
        results.append(f"_r{k}")
    lines.append(f"    return {', '.join(results)},")
    return "\n".join(lines) + "\n", shared, tuple(owns)


@functools.lru_cache(maxsize=64)
def fixed_source(source: str, keep: str | None = None) -> tuple[tuple, str]:
    """The statements of ``source``'s ``point`` (from :func:`generate`) that read its tail alone (the device
    figures, capacities, devices and home: ``x1 = 1/d4``, the sum of the ops' launch latencies), as a function
    of the tail: what :class:`Corners` computes once per corner when it binds the corner's figures.

    Parameters
    ----------
    source : str
        From :func:`generate`.
    keep : str, optional
        Those of :func:`lean_source`'s ``point`` that keeps these modes only.

    Returns
    -------
    tuple
        ``(names, module)``: the names those statements set (the same for every ``keep``), and a module
        defining ``point(d0, ..., c0, ..., dv, hm)``, which returns their values in that order (None for a name
        only statements the lean ``point`` leaves out set).
    """
    _, tail, fixed, _, _ = _parsed(source)
    names = _set_by(fixed)
    if keep:
        fixed = [u for u in fixed if not _LEAN_DROP[keep].match(u.first)]
    kept = set(_set_by(fixed))
    lines = [f"def point({', '.join(tail)}):"] + [ln for u in fixed for ln in u.text]
    return names, "\n".join(lines + [f"    return ({''.join((n if n in kept else 'None') + ', ' for n in names)})"]) + "\n"


@functools.lru_cache(maxsize=16)  # a few hundred statements each: the plans and sources below are kept longer
def _parsed(source: str) -> tuple[list, list, list, list, str]:
    """``source``'s shapes, tail arguments, the statements that read the tail alone (each setting its names on
    every path), the other statements (:class:`_Unit`) and the tuple it returns."""
    shapes, tail, units, ret = _corner_units(source)
    fixed = _fixed(units, set(tail), set(shapes))
    return shapes, tail, [u for i, u in enumerate(units) if i in fixed], \
        [u for i, u in enumerate(units) if i not in fixed], ret


def _set_by(units: list) -> tuple:
    """The names ``units`` set, each once, in the order they are first set."""
    return tuple(dict.fromkeys(n for u in units for n in sorted(u.writes)))


def _fixed(units: list, tail: set, shapes: set) -> set:
    """The positions of the statements that read the tail alone: each reads only tail arguments, globals and
    names such statements set (an accumulation such as ``e2 += le2`` included, where every statement that
    writes the name is one of them and none of the others reads it before the last), on every path."""
    made = {n for u in units for n in u.writes}
    glob = {n for u in units for n in u.reads if n not in made and n not in tail and n not in shapes}
    fixed = set(range(len(units)))
    while True:
        known, ok = tail | glob, set()
        for i, u in enumerate(units):
            if i in fixed and u.reads - u.writes <= known and u.definite() == u.writes:
                ok.add(i)
                known |= u.writes
        other = [i for i in range(len(units)) if i not in ok]
        tainted = {n for i in other for n in units[i].writes}
        last = {n: i for i in sorted(ok) for n in units[i].writes}
        tainted |= {n for i in other for n in units[i].reads if n in last and i < last[n]}  # read mid-way
        ok = {i for i in ok if not units[i].writes & tainted}
        if ok == fixed:
            return fixed
        fixed = ok


def _reads(expr: str) -> set:
    return {n for n in _NAME.findall(expr) if n not in _KEYWORDS}


class Corners:
    """The ``point`` function of a compiled workload at several corners at once (:func:`corners_source`): the
    figures of each corner bound, the shapes free, what each corner's :class:`Kernel` returns from one call
    that computes what the corners share once.

    Parameters
    ----------
    source : str
        From :func:`generate`.
    filename : str
        Shown in tracebacks (:func:`load`).
    tails : sequence of tuple
        Per corner, the arguments after the shapes, what :attr:`Kernel.tail` holds: the device figures in
        argument order, each level's capacity, the devices the working set is spread over and the forced home
        level (-1 or None: none) [each figure's SI unit; B; 1; 1].
    keeps : sequence of (str or None)
        Per corner, :class:`Kernel`'s ``lean``: None (every mode, with detail), ``estimate``, ``bounds`` or
        ``estimate_time``.
    layout : OutputLayout
        Positions of the reported terms.
    labels : tuple of str
        Text forms of the reported terms.

    Attributes
    ----------
    source : str
        The generated function's source (:func:`corners_source`; empty where no corner can be computed).
    """

    __slots__ = ("_kernels", "_make", "all_live", "args", "covers", "fn", "hi", "labels", "layout", "live", "lo",
                 "source")

    def __init__(self, source: str, filename: str, tails, keeps, layout: OutputLayout, labels: tuple = ()):
        if len(tails) != len(keeps):
            raise ValueError(f"{len(tails)} tails and {len(keeps)} keeps: one keep per tail")
        nd = len(re.findall(r"\bd\d+\b", source.partition("\n")[0]))
        nl = len(tails[0]) - nd - 2 if tails else 0
        tails = [(*t[:-1], -1 if t[-1] is None else t[-1]) for t in tails]
        self.covers = tuple(LEAN_MODES[keep] if keep else None for keep in keeps)
        self.layout, self.labels, self._kernels = layout, labels, None
        self._make = (source, filename, tails, tuple(keeps), nd, nl)
        fixed = [_fsum(t[:nd]) + _fsum(t[nd:nd + nl]) + t[nd + nl] for t in tails]  # as Kernel sums them
        ext = _extended(source, filename, tails, fixed, keeps)  # None: that corner is None at every shape
        self.live = tuple(k for k, e in enumerate(ext) if e is not None)
        self.all_live = len(self.live) == len(ext)
        live = [fixed[k] for k in self.live]
        self.lo, self.hi = (min(live), max(live)) if live else (0.0, 0.0)
        self.fn, self.args, self.source = None, (), ""
        if self.live:
            first = ext[self.live[0]]
            common = tuple(all(_same(ext[k][i], v) for k in self.live) for i, v in enumerate(first))
            keeps = tuple(keeps[k] for k in self.live)
            self.source, shared, owns = _plan(source, keeps, common)
            self.fn = load(self.source, f"{filename} (corners: {', '.join(map(str, keeps))})")
            self.args = (tuple(first[i] for i in shared),
                         *(tuple(ext[k][i] for i in own) for k, own in zip(self.live, owns)))

    def __call__(self, values) -> list:
        """Every corner at shapes ``values`` (in argument order) [1]: per tail, what its :class:`Kernel` returns
        (a :class:`Point`, or None where plain arithmetic would part from NumPy's).

        Parameters
        ----------
        values : sequence of float
            The shapes [1].

        Returns
        -------
        list of (Point or None)
        """
        layout, labels, covers = self.layout, self.labels, self.covers
        return [None if raw is None else Point(raw, layout, labels, cover)
                for raw, cover in zip(self.raws(values), covers)]

    def raws(self, values) -> list:
        """What :meth:`__call__` returns, each corner's :attr:`Point.raw` (the generated ``point``'s tuple)
        without the :class:`Point` (a caller that reads the outputs and knows the labels).

        Parameters
        ----------
        values : sequence of float
            The shapes [1].

        Returns
        -------
        sequence of (tuple or None)
            A tuple where every corner is computed, else a list.
        """
        total = _fsum(values)
        if self.fn is None or not (_isfinite(total + self.lo) and _isfinite(total + self.hi)):
            return self._each(values)  # a sum that overflows at some corner: each corner as its Kernel decides
        try:
            raws = self.fn(*values, *self.args)
        except (ZeroDivisionError, OverflowError, ValueError, TypeError):
            return self._each(values)  # which corner failed: each as its Kernel decides
        if self.all_live:
            return raws
        out = [None] * len(self.covers)
        for k, raw in zip(self.live, raws):
            out[k] = raw
        return out

    def _each(self, values) -> list:
        """Each corner's raw outputs through its own :class:`Kernel` (built on first need)."""
        if self._kernels is None:
            source, filename, tails, keeps, nd, nl = self._make
            self._kernels = [Kernel(source, filename, t[:nd], t[nd:nd + nl], t[nd + nl], t[-1], self.layout,
                                    self.labels, keep) for t, keep in zip(tails, keeps)]
        return [kernel.raw(values) for kernel in self._kernels]


def _extended(source: str, filename: str, tails: list, fixed: list, keeps) -> list:
    """Each tail followed by the values of :func:`fixed_source`'s statements there (those its ``keep`` runs),
    or None where its sum (``fixed``) is not finite or those statements fail: its :class:`Kernel` then answers
    None at every shape (it runs them, unconditionally, at every call, after that sum's test)."""
    out = []
    for t, total, keep in zip(tails, fixed, keeps):
        fn = load(fixed_source(source, keep)[1], f"{filename} (figures, {keep})")
        try:
            out.append((*t, *fn(*t)) if _isfinite(total) else None)
        except (ZeroDivisionError, OverflowError, ValueError, TypeError):
            out.append(None)
    return out


def _same(a, b) -> bool:
    """Whether two arguments are the same to the last bit (and of one type): ``-0.0`` is not ``0.0`` here."""
    return type(a) is type(b) and repr(a) == repr(b)


class _Unit:
    """One top-level statement of a ``point``: its lines (an op's own names renamed), its first line as
    generated (what :data:`_LEAN_DROP` reads), the names it reads and the names it writes (``acc[j] += w``
    reads and writes ``acc``)."""

    __slots__ = ("first", "reads", "text", "writes")

    def __init__(self, first: str):
        self.text, self.first, self.reads, self.writes = [], first, set(), set()

    def add(self, line: str) -> None:
        """Take one more line of the statement (already renamed).

        Parameters
        ----------
        line : str
            Python, indented.
        """
        self.text.append(line)
        m = _ASSIGN.match(line)
        if m:
            self.writes.add(m[1])
            if m[2] or m[3] != "=":  # an item of it, or an augmented assignment: the old value is read too
                self.reads.add(m[1])
            line = (m[2] or "") + m[4]
        self.reads.update(n for n in _NAME.findall(line) if n not in _KEYWORDS)

    def definite(self) -> set:
        """The names the statement sets on every path: all it writes for a simple one; for ``if``/``else``,
        those both branches set at their own level.

        Returns
        -------
        set of str
        """
        if not self.first.startswith("    if "):
            return set(self.writes)
        if not any(ln.startswith("    else:") for ln in self.text):
            return set()
        branches: list = [set(), set()]
        for ln in self.text[1:]:
            if ln.startswith("    else:"):
                branches = branches[::-1]
            elif ln.startswith("        ") and not ln.startswith("         ") and (m := _ASSIGN.match(ln)):
                branches[0].add(m[1])
        return branches[0] & branches[1]


#: an assignment's target, its index, its operator and its value; a name (not an attribute, not a number's
#: exponent); the words of the generated lines that are not names
_ASSIGN = re.compile(r"\s*([A-Za-z_]\w*)(\[[^\]]*\])?\s*([-+*/]?=)(?!=)\s*(.*)$")
_NAME = re.compile(r"(?<![\w.])[A-Za-z_]\w*")
_KEYWORDS = frozenset({"if", "else", "elif", "and", "or", "not", "in", "is", "True", "False", "None", "return"})


def _corner_units(source: str) -> tuple[list, list, list, str]:
    """The shapes and the tail arguments of ``source``'s ``point``, its top-level statements (:class:`_Unit`,
    each op's own names renamed) and the tuple it returns (text)."""
    lines = source.rstrip("\n").splitlines()
    params = [p.strip() for p in lines[0][lines[0].index("(") + 1:lines[0].rindex(")")].split(",")]
    shapes = [p for p in params if re.fullmatch(r"a\d+", p)]
    ret = lines[-1].strip()[len("return "):]
    groups: list = [[]]  # the head's statements, then each op's: lists of lines
    for ln in lines[1:-1]:
        if ln.startswith("    # op "):
            groups.append([])
        elif ln.startswith(("     ", "    else:", "    elif ")):
            groups[-1][-1].append(ln)
        elif ln.strip() and not ln.lstrip().startswith("#"):
            groups[-1].append([ln])
    head = {m[1] for st in groups[0] for ln in st for m in [_ASSIGN.match(ln)] if m}
    units = []
    for g, stmts in enumerate(groups):
        own = {m[1] for st in stmts for ln in st for m in [_ASSIGN.match(ln)] if m and m[3] == "=" and not m[2]}
        rename = {n: f"{n}__{g - 1}" for n in own - head} if g else {}  # an op sets its own before it reads them
        text = "\n".join(ln for st in stmts for ln in st)
        if rename:  # the whole op at once
            text = _NAME.sub(lambda m, r=rename: r.get(m[0], m[0]), text)
        renamed = iter(text.split("\n"))
        for st in stmts:
            u = _Unit(st[0])
            for _ in st:
                u.add(next(renamed))
            units.append(u)
    return shapes, params[len(shapes):], units, ret


def _hoist(units: list, known: set, args: set, simple: bool = False) -> tuple[list, list, set]:
    """The statements computed once (everything they read known, or made by themselves, and no other
    statement writing what they write; with ``simple``, each setting its names on every path) and the others,
    each in program order, and the names surely set once the first have run (``args``: the arguments, none of
    them a global such as ``math``)."""
    writers: dict = {}
    for u in units:
        for n in u.writes:
            writers[n] = writers.get(n, 0) + 1
    made = set(writers)
    known = set(known) | {n for u in units for n in u.reads if n not in made and n not in args}  # math, min, ...
    before, per, sure = [], [], set(known)
    for u in units:
        if u.reads - u.writes <= known and all(writers[n] == 1 for n in u.writes) and \
                (not simple or u.definite() == u.writes):
            before.append(u)
            known |= u.writes
            sure |= u.definite()
        else:
            per.append(u)
    return before, per, sure


#: a condition of a conditional expression (``(x) if 1 <= hc else 0.0``) and of a binding term's test
#: (``if (not uni or 1 <= hc or not hs) and t2 > best:``), as :mod:`~roofline.engine.pointcode` prints them
_COND_EXPR = re.compile(r" if ([^():]+?) else ")
_COND_TEST = re.compile(r"^(\s*if )\(([^()]+)\)( and )")


def _conditions(per: list, sure: set) -> tuple[dict, list]:
    """Each condition of the statements ``per`` that reads only names ``sure`` to be set before the corners,
    named once (``{"1 <= hc": "_q0"}``), and the lines of each statement rewritten to read it (``(x) if _q0
    else 0.0``): a condition's truth is all a conditional expression or an ``if ... and`` reads of it."""
    made: dict = {}

    def name(cond: str) -> str | None:
        if not _reads(cond) <= sure:
            return None
        return made.setdefault(cond, f"_q{len(made)}")

    def expr(m) -> str:
        q = name(m[1])
        return m[0] if q is None else f" if {q} else "

    def test(m) -> str:
        q = name(m[2])
        return m[0] if q is None else f"{m[1]}{q}{m[3]}"

    texts = [[_COND_TEST.sub(test, _COND_EXPR.sub(expr, ln)) for ln in u.text] for u in per]
    return made, texts


def _pow(base: float, exponent: float) -> float:
    """``base ** exponent`` as NumPy computes it on an array (its ``power`` may differ from C's ``pow`` in the
    last bit), so that both evaluators agree exactly; only powers other than a square, a reciprocal or a
    square root come here (:func:`roofline.engine.pointcode.PointCode.pc`).

    A NumPy call on two Python numbers costs about a microsecond, and a wafer's estimate asks for tens of the
    same powers (the mesh's cube roots of constants, of figures and of shapes, at each corner): each answer
    is remembered by its arguments and their types (a zero base, whose sign may decide the answer's, is not)."""
    key = (base, exponent, type(base), type(exponent))
    hit = _POWERS.get(key)
    if hit is None:
        global _np  # NumPy imported on the first inexact power, not with this module
        if _np is None:
            import numpy

            _np = numpy
        hit = float(_np.power(base, exponent))
        if base != 0:
            if len(_POWERS) >= 4096:
                _POWERS.clear()
            _POWERS[key] = hit
    return hit


_np = None
_POWERS: dict = {}


def _div(a: float, b: float) -> float:
    """``a / b`` with NumPy's rules for a zero divisor (inf or NaN instead of an exception)."""
    try:
        return a / b
    except ZeroDivisionError:
        return math.nan if a == 0 or math.isnan(a) else math.copysign(math.inf, a)


_MODE_INDEX = {Mode.IDEAL: 0, Mode.LATENCY_BOUND: 1, Mode.ESTIMATE: 2}
_NO_LATENCY = (0.0,) * N_LATENCY


class Point:
    """The outputs of one ``point`` call: every mode's results at one configuration.

    Parameters
    ----------
    raw : tuple
        What the generated ``point`` returned.
    layout : OutputLayout
        Positions of the reported terms.
    labels : tuple of str
        Text forms of the reported terms.
    covers : tuple of Mode, optional
        The modes a lean ``point`` computed (:func:`lean_source`); None: every mode, with detail.
    """

    __slots__ = ("raw", "layout", "labels", "_modes", "covers")

    def __init__(self, raw: tuple, layout: OutputLayout, labels: tuple = (), covers: tuple | None = None):
        self.raw, self.layout, self.labels, self._modes, self.covers = raw, layout, labels, {}, covers

    def answers(self, mode: Mode, detail: bool = False) -> bool:
        """Whether this point holds ``mode``'s record (with ``detail``): a lean point holds only its modes'.

        Parameters
        ----------
        mode : Mode
            ``ideal``, ``latency_bound`` or ``estimate``.
        detail : bool
            With each term's totals.

        Returns
        -------
        bool
        """
        return self.covers is None or (not detail and mode in self.covers)

    def mode(self, mode: Mode, detail: bool = False) -> dict:
        """One mode's record: the keys of the NumPy evaluator, as Python scalars (lists for the terms).

        Parameters
        ----------
        mode : Mode
            ``ideal`` (no latency), ``latency_bound`` or ``estimate``.
        detail : bool
            Add ``term_times`` (the time each term binds) and ``term_totals`` [s], one value per label.

        Returns
        -------
        dict
            ``time_s`` [s] (NaN where the working set fits no level), ``bound_index``, ``flops`` [FLOP],
            ``bytes`` [B], ``home``, ``fits``, ``arithmetic_intensity`` [FLOP/B], ``attainable_flops_per_s``
            [FLOP/s], and with ``labels`` given the ``labels`` and the binding term's label ``bound``. A new
            dict each call (callers add keys to it).
        """
        key = (mode, detail)
        hit = self._modes.get(key)
        if hit is None:
            if not self.answers(mode, detail):
                raise ValueError(f"a lean point holds no {mode} record{' with detail' if detail else ''}")
            rec, times, totals = self._build(_MODE_INDEX[mode])
            if detail:
                rec["term_times"], rec["term_totals"] = times, totals
            if self.labels:
                rec["labels"], rec["bound"] = self.labels, self.labels[rec["bound_index"]]
            hit = self._modes[key] = rec
        return dict(hit)

    def time_and_bound(self, mode: Mode) -> tuple[float, str]:
        """One mode's time and binding term's label: :meth:`mode`'s ``time_s`` and ``bound`` without the
        record (what most of an estimate reads).

        Parameters
        ----------
        mode : Mode
            ``ideal``, ``latency_bound`` or ``estimate``.

        Returns
        -------
        tuple
            ``(time_s, bound)``: [s] (NaN where the working set fits no level) and the label of the first
            term with the largest time.
        """
        hit = self._modes.get(mode)
        if hit is None:
            if not self.answers(mode):
                raise ValueError(f"a lean point holds no {mode} record")
            m = _MODE_INDEX[mode]
            raw = self.raw
            times = raw[5] + list(_NO_LATENCY if m == 0 else raw[7 if m == 1 else 6])
            hit = self._modes[mode] = (raw[4][m] if raw[3] else math.nan), self.labels[times.index(max(times))]
        return hit

    def _build(self, m: int) -> tuple[dict, list, list]:
        flops, nbytes, hc, fits, totals, acc, est, bnd, sums = self.raw
        lat = (0.0,) * N_LATENCY if m == 0 else (bnd if m == 1 else est)
        times = list(acc) + list(lat)
        bi, bv = 0, times[0]
        for q in range(1, len(times)):
            if times[q] > bv:
                bi, bv = q, times[q]
        t = totals[m] if fits else math.nan
        flops, nbytes = float(flops), float(nbytes)
        rec = {"time_s": t, "flops": flops, "bytes": nbytes, "home": hc, "fits": fits,
               "arithmetic_intensity": _div(flops, nbytes), "attainable_flops_per_s": _div(flops, t),
               "bound_index": bi}
        return rec, times, list(sums) + list(lat)
