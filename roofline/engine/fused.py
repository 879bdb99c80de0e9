"""A fused evaluator: the same expressions as the NumPy path, compiled by numba into one loop per grid.

NumPy evaluates a workload one element-wise step at a time, one pass over memory each; a decode step of
a dozen operators needs about a hundred passes per point. Here the expressions (after common-subexpression
elimination) are printed as scalar code inside a single loop over points that also keeps the running
maximum per operator, the binding term and the totals, and numba compiles it. Positions in the output
vector come from :class:`~roofline.engine.layout.OutputLayout`, as in the NumPy evaluator. The same module
holds ``sweep``, the variant a DataFrame sweep runs (:func:`run_sweep`): the same times, with only what the
sweep reads written, in place, in loops that LLVM vectorizes.

Where the code runs from (the threat model is in ``docs/security.md``): the source is generated in this
process. With the disk cache on, it is written to the per-user cache folder (mode 0700, owned by the
user: :func:`roofline._paths.secure_cache_dir`) so that numba's own cache can keep the machine code for a
later process, and a file there is loaded only after checking that this user owns it, nobody else can
write it and its text is exactly the source this process generated. With the cache off nothing is written
or read: the kernel is compiled in memory.

numba is optional (``pip install 'roofline[fast]'``). Without it, or with ``ROOFLINE_FUSED=0``, the NumPy
path runs; the tests check that both give the same numbers.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import stat
import sys
import threading
import time
from functools import lru_cache
from pathlib import Path
from types import SimpleNamespace
from typing import TYPE_CHECKING

from .._paths import cache_dir, fused_enabled
from ..vocab import Mode
from .layout import N_LATENCY, OutputLayout

if TYPE_CHECKING:  # annotations only: NumPy is imported where arrays are made
    import numpy as np

__all__ = ["available", "generate", "run", "run_corners", "run_sweep", "run_chunk", "load", "setup_seconds", "compile_in_background",
           "forget", "numba_imported", "import_numba"]


def available() -> bool:
    """True when numba is installed and not turned off with ``ROOFLINE_FUSED=0``.

    Returns
    -------
    bool
    """
    return fused_enabled() and _installed()


@lru_cache(maxsize=1)
def _installed() -> bool:
    return importlib.util.find_spec("numba") is not None


class _Writer:
    """Lines of the kernel's source, with the expression printer and the renamed symbols."""

    def __init__(self, exprs, shape_syms, dev_syms, zero_outputs, n_ops: int, layout: OutputLayout,
                 eliminated=None):
        self.lines: list[str] = []
        self.layout, self.zero, self.n_ops = layout, zero_outputs, n_ops
        self.unrolled = False  # capacities as the scalars c0, c1, ... (``sweep``) or read from ``caps``
        self.na, self.nd = len(shape_syms), len(dev_syms)
        if eliminated is not None:  # the point code's elimination of the same outputs, renamed the same way
            self.reps, self.val = list(eliminated.reps), eliminated.val
            return
        import sympy as sp

        ren = {s: sp.Symbol(f"a{i}") for i, s in enumerate(shape_syms)}
        ren.update({s: sp.Symbol(f"d{i}") for i, s in enumerate(dev_syms)})
        live = list(range(OutputLayout.HEAD))
        for o in range(n_ops):
            live += [layout.op(o).start + t for t in range(layout.per_op) if not zero_outputs[o][t]]
        exprs = [sp.sympify(e).xreplace(ren) for e in exprs]
        self.reps, reduced = sp.cse([exprs[i] for i in live], symbols=sp.numbered_symbols("x"))
        self.val = dict(zip(live, reduced))

    def w(self, line: str) -> None:
        self.lines.append(line)

    @staticmethod
    def pc(e) -> str:
        return _printer().doprint(e)

    def get(self, o: int, t: int):
        """The printed expression of op ``o``'s output at offset ``t``, or None where identically zero."""
        return None if self.zero[o][t] else self.pc(self.val[self.layout.op(o).start + t])


def _shape_only(wr: _Writer) -> tuple[list, list]:
    """The subexpressions that depend on the shapes alone (computed once per point) and the others (once per
    corner), each list in the order of ``wr.reps`` (a subexpression only uses earlier ones)."""
    known = {f"a{j}" for j in range(wr.na)}
    shape, rest = [], []
    for sym, e in wr.reps:
        if {str(f) for f in e.free_symbols} <= known:
            shape.append((sym, e))
            known.add(str(sym))
        else:
            rest.append((sym, e))
    return shape, rest


def _header(wr: _Writer, cache: bool) -> None:
    """The signature of ``kernel`` and the loop over points with its shape-only subexpressions, up to the
    corners."""
    args = "".join(f"A{i}, " for i in range(wr.na))
    for line in ("", f"@njit(cache={cache}, fastmath=False, nogil=True)",
                 f"def kernel({args}D, CAPS, devs, sd, home, sh, nlab, mode, out_time, out_bound, "
                 "out_flops, out_bytes, out_home, out_fits):", "    n = out_time.shape[0]", "    nc = out_time.shape[1]",
                 "    acc = np.zeros(nlab)", "    for i in range(n):"):
        wr.w(line)
    for j in range(wr.na):
        wr.w(f"        a{j} = A{j}[i]")
    for sym, e in _shape_only(wr)[0]:
        wr.w(f"        {sym} = {wr.pc(e)}")
    wr.w("        dv = devs[i * sd]")
    wr.w("        hm = home[i * sh]")


def _corner_head(wr: _Writer, bound: bool) -> None:
    """A corner's figures and capacities (``k``), the subexpressions that use them and the home level."""
    for j in range(wr.nd):
        wr.w(f"        d{j} = D[k, {j}]")
    wr.w("        caps = CAPS[k]")
    for sym, e in _shape_only(wr)[1]:
        wr.w(f"        {sym} = {wr.pc(e)}")
    _home(wr, bound)


def _home(wr: _Writer, bound: bool) -> None:
    """The home level ``hc`` (forced, ``hm >= 0``, or the fastest that holds the working set), ``fits``, and
    the time's sums set to zero."""
    nl = wr.layout.n_levels
    for line in ("if hm >= 0:", "    h = hm", "else:", f"    ws = ({wr.pc(wr.val[OutputLayout.WORKING_SET])}) / dv",
                 *["    " + x for x in _level(wr, "h", "ws")], f"fits = h < {nl}", f"hc = h if h < {nl} else {nl - 1}"):
        wr.w("        " + line)
    if bound and wr.unrolled:  # the sums as scalars s0, s1, ...: no memory written per op, so LLVM vectorizes
        wr.w("        " + " = ".join(f"s{q}" for q in range(wr.layout.n_reported)) + " = 0.0")
    elif bound:
        wr.w("        for q in range(nlab):")
        wr.w("            acc[q] = 0.0")
    wr.w("        total = 0.0")


def _corner(wr: _Writer, overlap: str, bound: bool, store: list[str]) -> list[str]:
    """The lines of one corner's evaluation (at the indent of the point loop's body): its head (``kernel``),
    or the point's shapes and every subexpression (``sweep``: the figures are the corner's, set outside the
    loop over points), every op (the binding term's sums only with ``bound``) and ``store``."""
    saved, wr.lines = wr.lines, []
    if wr.unrolled:
        for j in range(wr.na):
            wr.w(f"        a{j} = A{j}[i]")
        for sym, e in wr.reps:  # those of the corner's figures alone are hoisted out of the loop by LLVM
            wr.w(f"        {sym} = {wr.pc(e)}")
        _home(wr, bound)
    else:
        _corner_head(wr, bound)
    for o in range(wr.n_ops):
        _op(wr, o, overlap, bound)
    body = wr.lines + store
    wr.lines = saved
    return body


def _level(wr: _Writer, var: str, value: str) -> list[str]:
    """Lines setting ``var`` to the fastest level whose capacity holds ``value`` (``n_levels`` when none): a
    loop over ``caps``, or unrolled over the scalars ``c0, c1, ...`` in the same order."""
    nl = wr.layout.n_levels
    if not wr.unrolled:
        return [f"{var} = {nl}", f"for lv in range({nl - 1}, -1, -1):", f"    if {value} <= caps[lv]:",
                f"        {var} = lv"]
    out = [f"{var} = {nl}"]
    for lv in range(nl - 1, -1, -1):
        out += [f"if {value} <= c{lv}:", f"    {var} = {lv}"]
    return out


def _op_terms(wr: _Writer, o: int) -> list[tuple[int, str | None]]:
    """Op ``o``'s reported terms as (label index, printed expression); the activation rule as in NumPy."""
    lay, nl = wr.layout, wr.layout.n_levels
    terms = [(0, wr.get(o, lay.COMPUTE))]
    if any(not wr.zero[o][lay.transient(lv)] for lv in range(nl)):
        lines = _level(wr, "ha", "ab")
        lines[0] = f"ha = {nl - 1}"
        for line in (f"ab = {wr.get(o, lay.act_bytes) or '0.0'}", *lines, "if ha > hc:", "    ha = hc"):
            wr.w("        " + line)
    for lv in range(nl):
        r, a = wr.get(o, lay.resident(lv)), wr.get(o, lay.transient(lv))
        parts = ([f"(({r}) if {lv} <= hc else 0.0)"] if r is not None else []) + \
                ([f"(({a}) if {lv} <= ha else 0.0)"] if a is not None else [])
        terms.append((lay.term_of_level(lv), " + ".join(parts) if parts else None))
    terms += [(lay.term_of_link(j), wr.get(o, lay.link(j))) for j in range(lay.n_links)]
    return terms


def _latencies(wr: _Writer, o: int) -> list[tuple[int, str]]:
    """Op ``o``'s latency terms as (label index, expression choosing the estimate's or the bound's by mode)."""
    lay, out = wr.layout, []
    est_mode, bound_mode = _MODE_CODE[Mode.ESTIMATE], _MODE_CODE[Mode.LATENCY_BOUND]
    for j in range(N_LATENCY):
        e, b = wr.get(o, lay.latency(j)), wr.get(o, lay.latency(j, bound=True))
        if e is None and b is None:
            continue
        out.append((lay.term_latency(j), f"(({e or '0.0'}) if mode == {est_mode} else "
                                         f"(({b or '0.0'}) if mode == {bound_mode} else 0.0))"))
    return out


def _op(wr: _Writer, o: int, overlap: str, bound: bool = True) -> None:
    """Op ``o``'s time added to ``total``; with ``bound`` also to its binding term's sum in ``acc``."""
    cnt = wr.get(o, wr.layout.count) or "0.0"
    wr.w(f"        # op {o}")
    live = [(j, e) for j, e in _op_terms(wr, o) if e is not None] or [(0, "0.0")]
    for j, e in live:
        wr.w(f"        t{j} = {e}")
    pick = bound or overlap == "max"  # the largest term (first on ties, as in NumPy): its time, its label
    for n_, (j, _) in enumerate(live if pick else ()):
        sel = [f"best = t{j}"] + ([f"jb = {j}"] if bound else [])
        wr.lines += [f"        {x}" for x in sel] if n_ == 0 else \
            [f"        if t{j} > best:"] + [f"            {x}" for x in sel]
    if overlap == "max":
        wr.w(f"        tt = best * ({cnt})")
    else:
        wr.w("        tt = (" + " + ".join(f"t{j}" for j, _ in live) + f") * ({cnt})")
    if bound and wr.unrolled:  # adding 0.0 leaves a sum as it was: the same sums as acc[jb] += tt
        wr.lines += [f"        s{j} += tt if jb == {j} else 0.0" for j, _ in live]
    elif bound:
        wr.w("        acc[jb] += tt")
    names = []
    for n, (j, e) in enumerate(_latencies(wr, o)):  # each latency is paid on top, and charged to its own term
        wr.w(f"        lt{n} = ({e}) * ({cnt})")
        if bound:
            wr.w(f"        s{j} += lt{n}" if wr.unrolled else f"        acc[{j}] += lt{n}")
        names.append(f"lt{n}")
    # the latencies summed first, then that sum onto the work: the NumPy and scalar paths' order of additions
    wr.w("        total += " + (f"tt + ({' + '.join(names)})" if names else "tt"))


def _argmax_lines(indent: str, n_sums: int = 0) -> list[str]:
    """``bi``: the label whose sum in ``acc`` (or with ``n_sums``, in the scalars ``s0, s1, ...``) is the
    largest (first on ties)."""
    if n_sums:
        out = ["bi = 0", "bv = s0"]
        for q in range(1, n_sums):
            out += [f"if s{q} > bv:", f"    bv = s{q}", f"    bi = {q}"]
        return [indent + line for line in out]
    return [indent + line for line in ("bi = 0", "bv = acc[0]", "for q in range(1, nlab):", "    if acc[q] > bv:",
                                        "        bv = acc[q]", "        bi = q")]


def _footer(wr: _Writer) -> list[str]:
    """What ``kernel`` stores after each corner: its time, and at the first corner the other outputs."""
    return ["        out_time[i, k] = total if fits else np.nan", "        if k == 0:", *_argmax_lines(" " * 12),
            "            out_bound[i] = bi", "            out_home[i] = hc", "            out_fits[i] = fits",
            f"            out_flops[i] = {wr.pc(wr.val[OutputLayout.FLOPS])}",
            f"            out_bytes[i] = {wr.pc(wr.val[OutputLayout.BYTES])}"]


def _kernel_lines(wr: _Writer, overlap: str, cache: bool) -> list[str]:
    """``kernel``: every corner's time and the first corner's binding term, FLOPs, bytes, home and fits."""
    wr.lines = []
    _header(wr, cache)
    body = _corner(wr, overlap, True, _footer(wr))
    return wr.lines + ["        for k in range(nc):"] + ["    " + line for line in body]


def _sweep_lines(wr: _Writer, overlap: str, cache: bool) -> list[str]:
    """``sweep``: what a sweep reads, no more. One loop over the points per corner, its figures and
    capacities scalars outside it; the first corner's time into ``T0`` and its binding term's category
    (``lut`` of the label index) into ``out_bound``; the other corners' times, without the binding term's
    sums, into ``T1`` and ``T2``. ``dv`` and ``hm`` are one value for every point. Where ``F`` (the caller's
    test that the point fits) is False, the times are NaN and the category is ``cap``."""
    wr.lines, wr.unrolled = [], True
    args = "".join(f"A{i}, " for i in range(wr.na))
    first = _corner(wr, overlap, True, ["        T0[i] = total if fits and F[i] else np.nan",
                                        *_argmax_lines(" " * 8, wr.layout.n_reported),
                                        "        out_bound[i] = lut[bi] if F[i] else cap"])
    rest = _corner(wr, overlap, False, ["        T[i] = total if fits and F[i] else np.nan"])
    wr.unrolled = False
    return ["", f"@njit(cache={cache}, fastmath=False, nogil=True, error_model='numpy')",
            f"def sweep({args}D, CAPS, dv, hm, nlab, mode, lut, F, cap, T0, T1, T2, out_bound):", "    n = T0.shape[0]",
            "    for k in range(D.shape[0]):",
            *[f"        d{j} = D[k, {j}]" for j in range(wr.nd)],
            *[f"        c{lv} = CAPS[k, {lv}]" for lv in range(wr.layout.n_levels)],
            "        T = T0 if k == 0 else (T1 if k == 1 else T2)", "        if k == 0:", "            for i in range(n):",
            *["        " + ln for ln in first], "        else:", "            for i in range(n):",
            *["        " + ln for ln in rest]]


def _chunk_lines(wr: _Writer, cache: bool) -> list[str]:
    """``chunk``: a span of a row-major grid's points whole, in one call that holds no lock (:func:`run_chunk`).
    From ``lo`` on, each point's row value ``v0 = R[r]`` and column value ``v1 = C[c]`` go to ``RV`` and ``CV``
    (cast as they are typed), ``F`` is ``v1 <= TH[r - r0]`` (a threshold per row), shape ``i`` is ``v0`` or
    ``v1`` (``AX[i]`` 0 or 1) over ``DIV[i]``; then ``sweep``; then, when ``post`` is set, ``U = 1 / T0``,
    ``Y = v0 U``, ``MW = Y kmw`` and ``USD = kusd / Y``. The loops run row by row, so that they vectorize."""
    A = "".join(f"A{i}, " for i in range(wr.na))
    rows = ["    r0 = lo // nc", "    p, r, c = 0, r0, lo - r0 * nc", "    while p < n:", "        m = min(nc - c, n - p)",
            "        v0 = R[r]"]
    step = ["        p, r, c = p + m, r + 1, 0"]
    return ["", f"@njit(cache={cache}, fastmath=False, nogil=True, error_model='numpy')",
            f"def chunk(R, C, TH, lo, AX, DIV, {A}RV, CV, D, CAPS, dv, hm, nlab, mode, lut, F, cap, T0, T1, T2, "
            "out_bound, post, U, Y, kmw, MW, kusd, USD):", "    n = T0.shape[0]", "    nc = C.shape[0]", *rows,
            "        th = TH[r - r0]", "        for q in range(m):", "            v1 = C[c + q]", "            RV[p + q] = v0",
            "            CV[p + q] = v1", "            F[p + q] = v1 <= th",
            *[(f"        if AX[{i}] == 0:\n            A{i}[p:p + m] = v0 / DIV[{i}]\n        else:\n"
               f"            for q in range(m):\n                A{i}[p + q] = C[c + q] / DIV[{i}]") for i in range(wr.na)],
            *step,
            f"    sweep({A}D, CAPS, dv, hm, nlab, mode, lut, F, cap, T0, T1, T2, out_bound)",
            "    if post == 0:", "        return", *rows, "        for q in range(p, p + m):", "            u = 1.0 / T0[q]",
            "            y = v0 * u", "            U[q] = u", "            Y[q] = y", "            MW[q] = y * kmw",
            "            USD[q] = kusd / y", *step]


@lru_cache(maxsize=1)
def _printer():
    """SymPy's Python printer as ``sympy.pycode`` makes it (one instance, not one per expression)."""
    from sympy.printing.pycode import PythonCodePrinter

    return PythonCodePrinter({"fully_qualified_modules": False, "standard": "python3"})


#: The mode as the integer the kernel compares.
_MODE_CODE = {Mode.IDEAL: 0, Mode.LATENCY_BOUND: 1, Mode.ESTIMATE: 2}


def generate(exprs, shape_syms, dev_syms, zero_outputs, n_ops: int, layout: OutputLayout, overlap: str,
             cache: bool = True, eliminated=None) -> str:
    """Python source of a numba kernel evaluating ``exprs`` for every point.

    Parameters
    ----------
    exprs : list of sympy.Expr
        The compiled workload's outputs, in ``layout`` order.
    shape_syms, dev_syms : list of sympy.Symbol
        The arguments: shapes, then figures.
    zero_outputs : list of list of bool
        Per op, which outputs are identically zero.
    n_ops : int
        Ops in the workload [1].
    layout : OutputLayout
        Positions of the outputs in ``exprs``.
    overlap : str
        ``max`` or ``sum``.
    cache : bool
        Let numba cache the machine code next to the source file.
    eliminated : roofline.engine.pointcode.PointCode, optional
        The common-subexpression elimination of the same outputs with the same arguments (its ``reps`` and
        ``val``), reused instead of running another; without it the elimination is done here.

    Returns
    -------
    str
        A module defining ``kernel(*shapes, D, CAPS, devs, sd, home, sh, nlab, mode, out_time, out_bound,
        out_flops, out_bytes, out_home, out_fits)``, which fills the ``out_*`` arrays in place. ``D`` and
        ``CAPS`` hold one row of figures and of capacities per corner; ``devs`` and ``home`` are read at
        ``i * sd`` and ``i * sh`` (a stride of 0 for one value); ``out_time`` has one row per point and one
        column per corner (a span of points is contiguous), the other outputs are the first corner's;
        ``mode``: 0 ideal, 1 latency bound, 2 estimate. The subexpressions of the shapes alone are computed
        once per point, whatever the number of corners. And ``sweep(*shapes, D, CAPS, dv, hm, nlab, mode,
        lut, F, cap, T0, T1, T2, out_bound)``, the same times with only what a sweep reads written
        (:func:`run_sweep`): one loop over the points per corner (up to three), whose figures LLVM hoists
        out of it, the binding term's sums as scalars at the first corner only, none at the others, so the
        loops vectorize; NumPy's error model (a division by zero gives an infinity, not an exception). And
        ``chunk``, a span of a grid's points with ``sweep`` and what comes before and after it in one call
        (:func:`run_chunk`).
    """
    wr = _Writer(exprs, shape_syms, dev_syms, zero_outputs, n_ops, layout, eliminated)
    lines = ["import math", "from math import exp, log, sqrt", "import numpy as np", "from numba import njit"]
    lines += _kernel_lines(wr, overlap, cache) + _sweep_lines(wr, overlap, cache) + _chunk_lines(wr, cache)
    return "\n".join(lines) + "\n"


def _trusted(path: Path, source: str) -> bool:
    """True when ``path`` is a regular file of this user that nobody else can write, holding ``source``."""
    try:
        st = os.lstat(path)
    except OSError:
        return False
    if not stat.S_ISREG(st.st_mode) or (hasattr(os, "getuid") and st.st_uid != os.getuid()):
        return False
    if st.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
        return False
    try:
        return path.read_text() == source
    except (OSError, UnicodeDecodeError):
        return False


def _write(path: Path, source: str) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(source)
    os.replace(tmp, path)


def _from_file(name: str, path: Path):
    spec = importlib.util.spec_from_file_location(name, path)
    mod = importlib.util.module_from_spec(spec)
    sys.modules[name] = mod
    spec.loader.exec_module(mod)
    return mod


def _in_memory(source: str):
    ns: dict = {}
    exec(compile(source.replace("cache=True", "cache=False"), "<roofline fused kernel>", "exec"), ns)  # noqa: S102 - generated in this process
    return SimpleNamespace(**ns)


def _name(source: str) -> str:
    return "roofline_fused_" + hashlib.sha256(source.encode()).hexdigest()[:24]


def _folder() -> Path | None:
    """The kernels' folder inside the per-user cache (mode 0700), or None with the cache off."""
    folder = cache_dir()
    if folder is None:
        return None
    folder = folder / "fused"
    try:
        folder.mkdir(mode=0o700, exist_ok=True)
    except OSError:
        return None
    return folder


def _source_file(source: str) -> Path | None:
    """The kernel's file in the cache folder, written when missing or different; None when it cannot be."""
    folder = _folder()
    if folder is None:
        return None
    path = folder / f"{_name(source)}.py"
    try:
        if not _trusted(path, source):
            _write(path, source)
    except OSError:
        return None
    return path if _trusted(path, source) else None


@lru_cache(maxsize=64)
def _kernel(source: str):
    """The module of ``source``: its functions ``kernel`` and ``sweep``, not yet compiled."""
    name = _name(source)
    if name in sys.modules:
        return sys.modules[name]
    path = _source_file(source)
    return _from_file(name, path) if path is not None else _in_memory(source)


# ------------------------------------------------------------------------------------------------------
# what the fused path still costs now: the measured break-even of roofline.engine.dispatch
# ------------------------------------------------------------------------------------------------------
#: seconds to import numba in a fresh process (benchmark suite, 2-core reference machine; measured again
#: whenever this process imports it)
IMPORT_S = [0.25]
#: seconds to load one kernel whose machine code numba has cached on disk
LOAD_S = [0.05]
#: seconds to compile a kernel, per op of its workload, and fixed
COMPILE_S_PER_OP, COMPILE_S = [0.12], [0.8]
#: each function's compile time against ``kernel``'s: ``sweep`` is vectorized by LLVM, which takes longer
#: (9.8 s against 3.65 s of CPU for Llama-3.1-70B decode on 8 x H100, 2-core machine, load average 2)
#: ``chunk`` calls ``sweep`` (compiled with it when not yet) and adds short loops: 0.5 s after ``kernel``'s 3.0 s
#: and ``sweep``'s 6.4 s in the compiling process (Llama-3.1-70B decode on 8 x H100, idle 2-core machine)
COMPILE_FACTOR = {"kernel": 1.0, "sweep": 2.7, "chunk": 3.0}
#: start a separate compiling process for a kernel never compiled (off in tests that must not spawn one)
BACKGROUND = True

_READY: dict[tuple[str, str], object] = {}  # (source, function): the function, ready to run
_LOCK = threading.RLock()
_SPAWNED: set[str] = set()
_READY_KIND = {"kernel": "ready", "sweep": "sweep.ready", "chunk": "chunk.ready"}  # each function's marker (:func:`_marker`)
_CHILDREN: list = []  # compiling processes started by this one


def forget() -> None:
    """Forget the kernels loaded in this process (their files and numba's disk cache stay)."""
    _READY.clear()
    _SPAWNED.clear()
    _kernel.cache_clear()


def _marker(source: str, kind: str) -> Path | None:
    """``<cache>/fused/<name>.<kind>``: ``ready`` once ``kernel``'s machine code is in numba's disk cache,
    ``sweep.ready`` and ``chunk.ready`` once ``sweep``'s and ``chunk``'s are, ``compiling`` while a process compiles them."""
    folder = cache_dir()
    return None if folder is None else folder / "fused" / f"{_name(source)}.{kind}"


def setup_seconds(source: str, n_ops: int, fn: str = "kernel") -> float | None:
    """Seconds this process would spend before the kernel of ``source`` can run, or None when it was never
    compiled and the disk cache can hold it (then :func:`compile_in_background` compiles it).

    Parameters
    ----------
    source : str
        From :func:`generate`.
    n_ops : int
        Ops of its workload [1] (a compilation's cost grows with them).
    fn : str
        The function of the source to run: ``kernel``, ``sweep`` or ``chunk``.

    Returns
    -------
    float or None
        [s]: 0 for a loaded kernel, importing numba (when not yet imported) plus loading a kernel numba has
        cached, or compiling one when the disk cache is off.
    """
    if (source, fn) in _READY:
        return 0.0
    imp = 0.0 if "numba" in sys.modules else IMPORT_S[0]
    ready = _marker(source, _READY_KIND[fn])
    if ready is None:
        return imp + (COMPILE_S[0] + COMPILE_S_PER_OP[0] * n_ops) * COMPILE_FACTOR[fn]
    return imp + LOAD_S[0] if ready.exists() else None


def _dummy_call(module, fn: str, na: int, nd: int, nl: int) -> None:
    """Call ``module``'s function ``fn`` on an empty grid: numba compiles it, or loads its cached machine code.
    The argument types are those every call passes (the one signature compiled)."""
    import numpy as np

    z, zi = np.empty(0), np.zeros(1, dtype=np.int64)
    head = ([z] * na) + [np.ones((1, nd)), np.ones((1, nl)), np.ones(1), 0, zi, 0, nl + 5, 2]
    lut, f, b8, i8 = np.zeros(nl + 5, dtype=np.int8), np.empty(0, dtype=np.bool_), np.empty(0, dtype=np.int8), \
        np.empty(0, dtype=np.int64)
    if fn == "sweep":
        module.sweep(*head[:na + 2], 1.0, 0, nl + 5, 2, lut, f, 0, z, z, z, b8)
    elif fn == "chunk":
        module.chunk(np.ones(1), np.ones(1), np.ones(1), 0, np.zeros(na, dtype=np.int64), np.ones(na), *head[:na], i8,
                     i8, *head[na:na + 2], 1.0, 0, nl + 5, 2, lut, f, 0, z, z, z, b8, 0, z, z, 1.0, z, 1.0, z)
    else:
        module.kernel(*head, np.empty((0, 1)), np.empty(0, dtype=np.int64), z, z, np.empty(0, dtype=np.int64),
                      np.empty(0, dtype=np.bool_))


def load(source: str, na: int, nd: int, nl: int, fn: str = "kernel"):
    """The function ``fn`` of ``source``, ready to run: numba imported, machine code loaded or compiled (timed).

    Parameters
    ----------
    source : str
        From :func:`generate`.
    na, nd, nl : int
        Shape arguments, figure arguments and memory levels of its workload [1].
    fn : str
        ``kernel`` (every output, :func:`run_corners`), ``sweep`` (what a sweep reads, :func:`run_sweep`) or
        ``chunk`` (a span of a grid whole, :func:`run_chunk`).

    Returns
    -------
    callable
    """
    hit = _READY.get((source, fn))
    if hit is not None:
        return hit
    with _LOCK:  # one thread loads; the others wait for it
        return _READY.get((source, fn)) or _load(source, na, nd, nl, fn)


def numba_imported() -> bool:
    """True once this process has imported numba.

    Returns
    -------
    bool
    """
    return "numba" in sys.modules


def import_numba() -> None:
    """Import numba now, timing it (:data:`IMPORT_S`)."""
    if "numba" not in sys.modules:
        t0 = time.perf_counter()
        import numba  # noqa: F401

        IMPORT_S[0] = time.perf_counter() - t0


def _load(source: str, na: int, nd: int, nl: int, fn: str):
    import_numba()
    t1 = time.perf_counter()
    module = _kernel(source)
    _dummy_call(module, fn, na, nd, nl)
    ready = _marker(source, _READY_KIND[fn])
    if ready is not None and ready.exists():
        took = time.perf_counter() - t1
        if _READY:  # a later kernel: what loading one costs
            LOAD_S[0] = 0.5 * LOAD_S[0] + 0.5 * took
        else:  # the first one also sets numba up in this process, once: counted with the import
            IMPORT_S[0] += max(0.0, took - LOAD_S[0])
    elif ready is not None:
        _touch(ready)
    _READY[(source, fn)] = kernel = getattr(module, fn)
    return kernel


def _touch(path: Path) -> None:
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600))
    except OSError:
        pass


def compile_in_background(source: str, na: int, nd: int, nl: int) -> bool:
    """Compile the kernel of ``source`` in a separate process, which leaves its machine code in numba's disk
    cache (and a ``.ready`` marker) for this process and later ones; this process carries on with NumPy.

    Once per kernel and process, and only with the disk cache on: a ``.compiling`` file keeps two processes
    from compiling the same kernel (one older than ten minutes is taken as abandoned).

    Parameters
    ----------
    source : str
        From :func:`generate`.
    na, nd, nl : int
        Shape arguments, figure arguments and memory levels of its workload [1].

    Returns
    -------
    bool
        True when a process was started.
    """
    if not BACKGROUND or source in _SPAWNED or any(p.poll() is None for p in _CHILDREN):
        return False  # one compiling process at a time: the others wait for a later call
    _SPAWNED.add(source)
    path = _source_file(source)
    lock = _marker(source, "compiling")
    if path is None or lock is None:
        return False
    try:
        fd = os.open(lock, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        if time.time() - lock.stat().st_mtime < 600:
            return False
        fd = os.open(lock, os.O_WRONLY | os.O_TRUNC, 0o600)
    os.close(fd)
    import subprocess

    digest = hashlib.sha256(source.encode()).hexdigest()
    root = str(Path(__file__).resolve().parents[2])
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([root] + [p for p in [os.environ.get("PYTHONPATH")] if p]))
    _CHILDREN.append(subprocess.Popen(
        [sys.executable, "-m", "roofline.engine.fused", str(path), digest, str(na), str(nd), str(nl)],
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
        env=env, cwd=str(path.parent)))
    return True


def _compile_main(argv: list[str]) -> int:
    """The compiling process: check the kernel file is this user's and holds the source whose hash it was
    given, compile it (numba caches the machine code), mark it ready."""
    path, digest = Path(argv[0]), argv[1]
    na, nd, nl = (int(x) for x in argv[2:5])
    lock = path.with_suffix(".compiling")
    try:
        source = path.read_text()
        if hashlib.sha256(source.encode()).hexdigest() != digest or not _trusted(path, source):
            return 1
        module = _from_file(_name(source), path)
        for fn, kind in _READY_KIND.items():
            _dummy_call(module, fn, na, nd, nl)
            _touch(path.parent / f"{path.stem}.{kind}")
        return 0
    finally:
        try:
            lock.unlink()
        except OSError:
            pass


def _flat(a, shape, dtype) -> np.ndarray:
    import numpy as np

    return np.ascontiguousarray(np.broadcast_to(a, shape).reshape(-1), dtype=dtype)


def _strided(a, shape, dtype):
    """A per-point input as (array, stride): a scalar is read at stride 0, a grid at stride 1."""
    import numpy as np

    a = np.asarray(a)
    if a.ndim == 0:
        return np.asarray([a], dtype=dtype), 0
    return _flat(a, shape, dtype), 1


def run(cw, args, caps, devs, hm, n: int, shape, mode: Mode = Mode.ESTIMATE, parallel=None) -> dict:
    """Evaluate ``cw`` with its fused kernel over ``n`` points; returns the arrays the NumPy path returns.

    Parameters
    ----------
    cw : roofline.engine.compiled.CompiledWorkload
        With a ``fused_source``.
    args : list of ndarray
        Shape values [1], then (scalar) figure values [each figure's SI unit].
    caps : list of float
        Capacity of each memory level, fastest first [B].
    devs : ndarray
        Devices the working set is spread over [1].
    hm : ndarray or None
        Forced home level index per point; None: the fastest level that holds the working set.
    n : int
        Points of the grid [1].
    shape : tuple
        The broadcast shape of the grid.
    mode : Mode
        Which latency terms to add.
    parallel : callable, optional
        ``parallel(fn)`` calls ``fn(lo, hi)`` over spans covering ``range(n)`` (on threads: the kernel
        releases the GIL); default one call over everything.

    Returns
    -------
    dict of ndarray
        ``time_s`` [s], ``bound_index``, ``flops`` [FLOP], ``bytes`` [B], ``home``, ``fits``,
        ``arithmetic_intensity`` [FLOP/B] and ``attainable_flops_per_s`` [FLOP/s], each of ``shape``.
    """
    import numpy as np

    na = len(cw.shape_names)
    figs = [[float(np.asarray(a)) for a in args[na:]]]
    capsf = [[float(np.asarray(c)) for c in caps]]
    t, out = run_corners(cw, [_flat(a, shape, np.float64) for a in args[:na]], figs, capsf, devs, hm, n, mode,
                         parallel, shape=shape)
    out["time_s"] = t[0]
    out = {k: v.reshape(shape) for k, v in out.items()}
    with np.errstate(divide="ignore", invalid="ignore"):
        out["arithmetic_intensity"] = out["flops"] / out["bytes"]
        out["attainable_flops_per_s"] = out["flops"] / out["time_s"]
    return out


def run_corners(cw, shape_args, figs, caps, devs, home, n: int, mode: Mode = Mode.ESTIMATE, parallel=None,
                shape=None):
    """Evaluate ``cw`` at several corners (sets of figures and capacities) in one pass over the points.

    Parameters
    ----------
    cw : roofline.engine.compiled.CompiledWorkload
        With a ``fused_source``.
    shape_args : list of ndarray
        Shape values, flat and contiguous, ``n`` points each [1].
    figs : list of list of float
        Per corner, the figure values in ``cw.device_paths`` order [each figure's SI unit].
    caps : list of list of float
        Per corner, the capacity of each level, fastest first [B].
    devs : float or ndarray
        Devices the working set is spread over, one value or one per point [1].
    home : int, ndarray or None
        Forced home level (one, or one per point); None: the fastest level that holds the working set.
    n : int
        Points [1].
    mode : Mode
        Which latency terms to add.
    parallel : callable, optional
        ``parallel(fn)`` calls ``fn(lo, hi)`` over spans covering ``range(n)``.
    shape : tuple, optional
        The grid's shape, for per-point ``devs`` and ``home`` given unflattened.

    Returns
    -------
    tuple
        The time at each corner, shape ``(corners, n)`` [s] (NaN where nothing holds the working set), and a
        dict of the first corner's ``bound_index``, ``flops`` [FLOP], ``bytes`` [B], ``home`` and ``fits``.
    """
    import numpy as np

    na = len(cw.shape_names)
    kernel = load(cw.fused_source, na, len(cw.device_paths), cw.n_levels)
    shape = (n,) if shape is None else shape
    D = np.ascontiguousarray(np.asarray(figs, dtype=np.float64).reshape(len(figs), len(cw.device_paths)))
    C = np.ascontiguousarray(np.asarray(caps, dtype=np.float64))
    dv, sd = _strided(np.asarray(devs, dtype=float), shape, np.float64)
    hm, sh = _strided(np.asarray(-1 if home is None else home), shape, np.int64)
    t = np.empty((n, len(figs)))
    out = {"bound_index": np.empty(n, dtype=np.int64), "flops": np.empty(n), "bytes": np.empty(n),
           "home": np.empty(n, dtype=np.int64), "fits": np.empty(n, dtype=np.bool_)}
    nlab, code = len(cw.labels), _MODE_CODE[Mode(mode)]

    def span(lo: int, hi: int) -> None:  # every argument C-contiguous: the one signature numba compiles
        kernel(*[a[lo:hi] for a in shape_args], D, C, dv[lo * sd:hi * sd + (1 - sd)], sd,
               hm[lo * sh:hi * sh + (1 - sh)], sh, nlab, code, t[lo:hi], *[v[lo:hi] for v in out.values()])

    (parallel or (lambda fn: fn(0, n)))(span)
    return t.T, out


def run_sweep(cw, shape_args, figs, caps, devs, home, n: int, mode: Mode, times, bound, lut, fits, cap: int,
              parallel=None) -> None:
    """Evaluate ``cw`` at up to three corners, writing only what a sweep reads, in place: each corner's time
    and the first corner's binding term as a category code, and ``cap`` and NaN where ``fits`` is False.

    Parameters
    ----------
    cw : roofline.engine.compiled.CompiledWorkload
        With a ``fused_source``.
    shape_args : list of ndarray
        Shape values, flat and contiguous, ``n`` points each [1].
    figs : list of list of float
        Per corner (one to three), the figure values in ``cw.device_paths`` order [each figure's SI unit].
    caps : list of list of float
        Per corner, the capacity of each level, fastest first [B].
    devs : float
        Devices the working set is spread over [1].
    home : int or None
        Forced home level; None: the fastest level that holds the working set.
    n : int
        Points [1].
    mode : Mode
        Which latency terms to add.
    times : list of ndarray
        One float64 array of ``n`` per corner, C-contiguous, written with the time [s] (NaN where nothing
        holds the working set).
    bound : ndarray of int8
        ``n`` values, written with ``lut[label index]`` of the first corner's binding term.
    lut : ndarray of int8
        Per label of ``cw.labels``, its code.
    fits : ndarray of bool
        ``n`` values: False where the caller marks the point as not fitting (its times NaN, its code ``cap``).
    cap : int
        The code of a point that does not fit.
    parallel : callable, optional
        ``parallel(fn)`` calls ``fn(lo, hi)`` over spans covering ``range(n)``.
    """
    import numpy as np

    if not 1 <= len(figs) <= 3 or len(times) != len(figs):
        raise ValueError(f"one to three corners and one time array each, got {len(figs)} and {len(times)}")
    sweep = load(cw.fused_source, len(cw.shape_names), len(cw.device_paths), cw.n_levels, "sweep")
    D = np.ascontiguousarray(np.asarray(figs, dtype=np.float64).reshape(len(figs), len(cw.device_paths)))
    C = np.ascontiguousarray(np.asarray(caps, dtype=np.float64))
    dv, hm = float(devs), -1 if home is None else int(home)
    T = list(times) + [times[0]] * (3 - len(times))  # the unused slots: never written (corners 1, 2 absent)
    nlab, code = len(cw.labels), _MODE_CODE[Mode(mode)]

    def span(lo: int, hi: int) -> None:
        sweep(*[a[lo:hi] for a in shape_args], D, C, dv, hm, nlab, code, lut, fits[lo:hi], cap, *[t[lo:hi] for t in T],
              bound[lo:hi])

    (parallel or (lambda fn: fn(0, n)))(span)


def run_chunk(cw, grid, shape_args, figs, caps, devs, home, mode: Mode, times, bound, lut, fits, cap: int,
              post=None) -> None:
    """:func:`run_sweep` over a span of a row-major grid, with the points' coordinates, the caller's fit
    test and the rates written in the same call, which holds no lock (no thread waits for another here).

    Parameters
    ----------
    cw : roofline.engine.compiled.CompiledWorkload
        With a ``fused_source``.
    grid : tuple
        ``(R, C, TH, lo, AX, DIV, RV, CV)``: the row and column axes (float64), a threshold per row from
        ``lo``'s row on, the span's first point, per shape argument its axis (0 rows, 1 columns; int64) and
        divisor (float64), and the arrays that receive each point's row and column values (int64).
    shape_args : list of ndarray
        ``n`` float64 values each, written with the shapes (scratch).
    figs, caps, devs, home, mode, times, bound, lut, cap
        As :func:`run_sweep`.
    fits : ndarray of bool
        ``n`` values, written with ``column value <= threshold of its row``; where False the times are NaN
        and the code is ``cap``.
    post : tuple, optional
        ``(U, Y, kmw, MW, kusd, USD)``: written with ``1 / time``, the row value times that, ``Y kmw`` and
        ``kusd / Y`` (NaN where ``kmw`` or ``kusd`` is None: NaN times or over any number).
    """
    import numpy as np

    chunk = load(cw.fused_source, len(cw.shape_names), len(cw.device_paths), cw.n_levels, "chunk")
    D = np.ascontiguousarray(np.asarray(figs, dtype=np.float64).reshape(len(figs), len(cw.device_paths)))
    C = np.ascontiguousarray(np.asarray(caps, dtype=np.float64))
    T = list(times) + [times[0]] * (3 - len(times))
    if post is None:
        z = np.empty(0)
        flags, post = 0, (z, z, 1.0, z, 1.0, z)
    else:
        flags, post = 1, tuple(np.nan if v is None else v for v in post)
    chunk(*grid[:6], *shape_args, *grid[6:], D, C, float(devs), -1 if home is None else int(home), len(cw.labels),
          _MODE_CODE[Mode(mode)], lut, fits, cap, *T, bound, flags, *post)


if __name__ == "__main__":
    sys.exit(_compile_main(sys.argv[1:]))
