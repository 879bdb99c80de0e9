"""A fused evaluator: the same expressions as the NumPy path, compiled by numba into one loop per grid.

NumPy evaluates a workload one element-wise step at a time, one pass over memory each; a decode step of
a dozen operators needs about a hundred passes per point. Here the expressions (after common-subexpression
elimination) are printed as scalar code inside a single loop over points that also keeps the running
maximum per operator, the binding term and the totals, and numba compiles it. Positions in the output
vector come from :class:`~roofline.engine.layout.OutputLayout`, as in the NumPy evaluator.

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
from functools import lru_cache
from pathlib import Path

import numpy as np

from .._paths import cache_dir, fused_enabled
from ..vocab import Mode
from .layout import N_LATENCY, OutputLayout

__all__ = ["MIN_POINTS", "available", "generate", "run"]

#: below this many points the NumPy path is used (numba's start-up would dominate)
MIN_POINTS = 1 << 16


def available() -> bool:
    """True when numba is installed and not turned off with ``ROOFLINE_FUSED=0``.

    Returns
    -------
    bool
    """
    return fused_enabled() and importlib.util.find_spec("numba") is not None


class _Writer:
    """Lines of the kernel's source, with the expression printer and the renamed symbols."""

    def __init__(self, exprs, shape_syms, dev_syms, zero_outputs, n_ops: int, layout: OutputLayout):
        import sympy as sp

        self.lines: list[str] = []
        self.layout, self.zero, self.n_ops = layout, zero_outputs, n_ops
        self.na, self.nd = len(shape_syms), len(dev_syms)
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
        import sympy as sp

        return sp.pycode(e, fully_qualified_modules=False, standard="python3")

    def get(self, o: int, t: int):
        """The printed expression of op ``o``'s output at offset ``t``, or None where identically zero."""
        return None if self.zero[o][t] else self.pc(self.val[self.layout.op(o).start + t])


def _header(wr: _Writer, cache: bool) -> None:
    nl = wr.layout.n_levels
    args = ", ".join([f"A{i}" for i in range(wr.na)] + [f"d{i}" for i in range(wr.nd)])
    for line in ("import math", "from math import exp, log, sqrt", "import numpy as np", "from numba import njit", "",
                 f"@njit(cache={cache}, fastmath=False, nogil=True)",
                 f"def kernel({args}{', ' if args else ''}caps, devs, home, nlab, mode, out_time, out_bound, "
                 "out_flops, out_bytes, out_home, out_fits):",
                 "    n = out_time.shape[0]", "    acc = np.zeros(nlab)", "    for i in range(n):"):
        wr.w(line)
    for j in range(wr.na):
        wr.w(f"        a{j} = A{j}[i]")
    for sym, e in wr.reps:
        wr.w(f"        {sym} = {wr.pc(e)}")
    wr.w(f"        out_flops[i] = {wr.pc(wr.val[OutputLayout.FLOPS])}")
    wr.w(f"        out_bytes[i] = {wr.pc(wr.val[OutputLayout.BYTES])}")
    for line in ("        if home[i] >= 0:", "            h = home[i]", "        else:",
                 f"            ws = ({wr.pc(wr.val[OutputLayout.WORKING_SET])}) / devs[i]", f"            h = {nl}",
                 f"            for lv in range({nl - 1}, -1, -1):", "                if ws <= caps[lv]:",
                 "                    h = lv", f"        fits = h < {nl}", f"        hc = h if h < {nl} else {nl - 1}",
                 "        for q in range(nlab):", "            acc[q] = 0.0", "        total = 0.0"):
        wr.w(line)


def _op_terms(wr: _Writer, o: int) -> list[tuple[int, str | None]]:
    """Op ``o``'s reported terms as (label index, printed expression); the activation rule as in NumPy."""
    lay, nl = wr.layout, wr.layout.n_levels
    terms = [(0, wr.get(o, lay.COMPUTE))]
    if any(not wr.zero[o][lay.transient(lv)] for lv in range(nl)):
        for line in (f"        ab = {wr.get(o, lay.act_bytes) or '0.0'}", f"        ha = {nl - 1}",
                     f"        for lv in range({nl - 1}, -1, -1):", "            if ab <= caps[lv]:",
                     "                ha = lv", "        if ha > hc:", "            ha = hc"):
            wr.w(line)
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


def _op(wr: _Writer, o: int, overlap: str) -> None:
    cnt = wr.get(o, wr.layout.count) or "0.0"
    wr.w(f"        # op {o}")
    live = [(j, e) for j, e in _op_terms(wr, o) if e is not None] or [(0, "0.0")]
    for j, e in live:
        wr.w(f"        t{j} = {e}")
    j0 = live[0][0]
    wr.w(f"        best = t{j0}")
    wr.w(f"        jb = {j0}")
    for j, _ in live[1:]:  # the binding term: the largest (first on ties), as in the NumPy path
        wr.w(f"        if t{j} > best:")
        wr.w(f"            best = t{j}")
        wr.w(f"            jb = {j}")
    if overlap == "max":
        wr.w(f"        tt = best * ({cnt})")
    else:
        wr.w("        tt = (" + " + ".join(f"t{j}" for j, _ in live) + f") * ({cnt})")
    wr.w("        total += tt")
    wr.w("        acc[jb] += tt")
    for j, e in _latencies(wr, o):  # each latency is paid on top, and charged to its own term
        wr.w(f"        lt = ({e}) * ({cnt})")
        wr.w("        total += lt")
        wr.w(f"        acc[{j}] += lt")


def _footer(wr: _Writer) -> None:
    for line in ("        bi = 0", "        bv = acc[0]", "        for q in range(1, nlab):",
                 "            if acc[q] > bv:", "                bv = acc[q]", "                bi = q",
                 "        out_time[i] = total if fits else np.nan", "        out_bound[i] = bi",
                 "        out_home[i] = hc", "        out_fits[i] = fits"):
        wr.w(line)


#: The mode as the integer the kernel compares.
_MODE_CODE = {Mode.IDEAL: 0, Mode.LATENCY_BOUND: 1, Mode.ESTIMATE: 2}


def generate(exprs, shape_syms, dev_syms, zero_outputs, n_ops: int, layout: OutputLayout, overlap: str,
             cache: bool = True) -> str:
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

    Returns
    -------
    str
        A module defining ``kernel(*shapes, *figures, caps, devs, home, nlab, mode, out_time, out_bound,
        out_flops, out_bytes, out_home, out_fits)``, which fills the ``out_*`` arrays in place (``mode``: 0
        ideal, 1 latency bound, 2 estimate).
    """
    wr = _Writer(exprs, shape_syms, dev_syms, zero_outputs, n_ops, layout)
    _header(wr, cache)
    for o in range(n_ops):
        _op(wr, o, overlap)
    _footer(wr)
    return "\n".join(wr.lines) + "\n"


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
    return mod.kernel


def _in_memory(source: str):
    ns: dict = {}
    exec(compile(source.replace("cache=True", "cache=False"), "<roofline fused kernel>", "exec"), ns)  # noqa: S102 - generated in this process
    return ns["kernel"]


@lru_cache(maxsize=64)
def _kernel(source: str):
    digest = hashlib.sha256(source.encode()).hexdigest()[:24]
    name = f"roofline_fused_{digest}"
    if name in sys.modules:
        return sys.modules[name].kernel
    folder = cache_dir()
    if folder is None:
        return _in_memory(source)
    folder = folder / "fused"
    try:
        folder.mkdir(mode=0o700, exist_ok=True)
        path = folder / f"{name}.py"
        if not _trusted(path, source):
            _write(path, source)
        if _trusted(path, source):
            return _from_file(name, path)
    except OSError:
        pass
    return _in_memory(source)


def run(cw, args, caps, devs, hm, n: int, shape, mode: Mode = Mode.ESTIMATE) -> dict:
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

    Returns
    -------
    dict of ndarray
        ``time_s`` [s], ``bound_index``, ``flops`` [FLOP], ``bytes`` [B], ``home``, ``fits``,
        ``arithmetic_intensity`` [FLOP/B] and ``attainable_flops_per_s`` [FLOP/s], each of ``shape``.
    """
    kernel = _kernel(cw.fused_source)
    na = len(cw.shape_names)
    flat = [np.ascontiguousarray(np.broadcast_to(a, shape).reshape(-1), dtype=np.float64) for a in args[:na]]
    devvals = [float(np.asarray(a)) for a in args[na:]]
    capsf = np.asarray([float(np.asarray(c)) for c in caps], dtype=np.float64)
    devs_f = np.ascontiguousarray(np.broadcast_to(np.asarray(devs, dtype=float), shape).reshape(-1))
    home = (np.full(n, -1, dtype=np.int64) if hm is None
            else np.ascontiguousarray(np.broadcast_to(hm, shape).reshape(-1), dtype=np.int64))
    out = {"time_s": np.empty(n), "bound_index": np.empty(n, dtype=np.int64), "flops": np.empty(n),
           "bytes": np.empty(n), "home": np.empty(n, dtype=np.int64), "fits": np.empty(n, dtype=np.bool_)}
    kernel(*flat, *devvals, capsf, devs_f, home, len(cw.labels), _MODE_CODE[Mode(mode)], out["time_s"],
           out["bound_index"], out["flops"], out["bytes"], out["home"], out["fits"])
    out = {k: v.reshape(shape) for k, v in out.items()}
    with np.errstate(divide="ignore", invalid="ignore"):
        out["arithmetic_intensity"] = out["flops"] / out["bytes"]
        out["attainable_flops_per_s"] = out["flops"] / out["time_s"]
    return out
