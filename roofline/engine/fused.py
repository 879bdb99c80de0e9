"""A fused evaluator: the same expressions as the NumPy path, compiled by numba into one loop per grid.

NumPy evaluates a workload one element-wise step at a time, one pass over memory each; a decode step of
a dozen operators needs about a hundred passes per point. Here the expressions (after common-subexpression
elimination) are printed as scalar code inside a single loop over points that also keeps the running
maximum per operator, the binding term and the totals, and numba compiles it. The generated source is
written to the cache folder and numba's own cache keeps the machine code, so a later process loads it.

numba is optional (``pip install 'roofline[fast]'``). Without it, or with ``ROOFLINE_FUSED=0``, the NumPy
path runs; the tests check that both give the same numbers.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import sys
from functools import lru_cache
from pathlib import Path

import numpy as np

__all__ = ['MIN_POINTS', 'available', 'generate', 'run']


#: below this many points the NumPy path is used (numba's start-up would dominate)
MIN_POINTS = 1 << 16


def available() -> bool:
    from .._paths import fused_enabled

    if not fused_enabled():
        return False
    return importlib.util.find_spec("numba") is not None


def generate(exprs, shape_syms, dev_syms, zero_outputs, n_ops: int, n_terms: int, n_levels: int,
             overlap: str) -> str:
    """Python source of a numba kernel evaluating ``exprs`` (the layout of
    :func:`roofline.engine.compile_workload`) for every point."""
    import sympy as sp

    ren = {s: sp.Symbol(f"a{i}") for i, s in enumerate(shape_syms)}
    ren.update({s: sp.Symbol(f"d{i}") for i, s in enumerate(dev_syms)})
    k = n_terms + 1
    live = list(range(3))
    for o in range(n_ops):
        for t in range(k):
            if not zero_outputs[o][t]:
                live.append(3 + o * k + t)
    exprs = [sp.sympify(e).xreplace(ren) for e in exprs]
    reps, reduced = sp.cse([exprs[i] for i in live], symbols=sp.numbered_symbols("x"))
    val = dict(zip(live, reduced))

    def pc(e):
        return sp.pycode(e, fully_qualified_modules=False, standard="python3")

    nl = n_levels
    na, nd = len(shape_syms), len(dev_syms)
    args = ", ".join([f"A{i}" for i in range(na)] + [f"d{i}" for i in range(nd)])
    L = []
    w = L.append
    w("import math")
    w("import numpy as np")
    w("from numba import njit")
    w("")
    w("@njit(cache=True, fastmath=False, nogil=True)")
    w(f"def kernel({args}{', ' if args else ''}caps, devs, home, nlab, out_time, out_bound, out_flops, "
      f"out_bytes, out_home, out_fits):")
    w("    n = out_time.shape[0]")
    w("    acc = np.zeros(nlab)")
    w("    for i in range(n):")
    for j in range(na):
        w(f"        a{j} = A{j}[i]")
    for sym, e in reps:
        w(f"        {sym} = {pc(e)}")
    w(f"        out_flops[i] = {pc(val[0])}")
    w(f"        out_bytes[i] = {pc(val[1])}")
    w("        if home[i] >= 0:")
    w("            h = home[i]")
    w("        else:")
    w(f"            ws = ({pc(val[2])}) / devs[i]")
    w(f"            h = {nl}")
    w(f"            for lv in range({nl - 1}, -1, -1):")
    w("                if ws <= caps[lv]:")
    w("                    h = lv")
    w(f"        fits = h < {nl}")
    w(f"        hc = h if h < {nl} else {nl - 1}")
    w("        for q in range(nlab):")
    w("            acc[q] = 0.0")
    w("        total = 0.0")
    for o in range(n_ops):
        base = 3 + o * k
        z = zero_outputs[o]

        def get(t):
            return None if z[t] else pc(val[base + t])

        cnt = get(k - 1) or "0.0"
        w(f"        # op {o}")
        terms = []
        c = get(0)
        terms.append((0, c))
        act_live = [lv for lv in range(nl) if not z[1 + nl + lv]]
        if act_live:
            w(f"        ab = {get(k - 2) or '0.0'}")
            w(f"        ha = {nl - 1}")
            w(f"        for lv in range({nl - 1}, -1, -1):")
            w("            if ab <= caps[lv]:")
            w("                ha = lv")
            w("        if ha > hc:")
            w("            ha = hc")
        for lv in range(nl):
            r, a = get(1 + lv), get(1 + nl + lv)
            parts = []
            if r is not None:
                parts.append(f"(({r}) if {lv} <= hc else 0.0)")
            if a is not None:
                parts.append(f"(({a}) if {lv} <= ha else 0.0)")
            terms.append((1 + lv, " + ".join(parts) if parts else None))
        for t in range(1 + 2 * nl, k - 2):
            terms.append((1 + nl + (t - 1 - 2 * nl), get(t)))
        live_terms = [(j, e) for j, e in terms if e is not None] or [(0, "0.0")]
        for j, e in live_terms:
            w(f"        t{j} = {e}")
        j0 = live_terms[0][0]
        w(f"        best = t{j0}")
        w(f"        jb = {j0}")
        for j, _ in live_terms[1:]:  # the binding term: the largest (first on ties), as in the NumPy path
            w(f"        if t{j} > best:")
            w(f"            best = t{j}")
            w(f"            jb = {j}")
        if overlap == "max":
            w(f"        tt = best * ({cnt})")
        else:
            w("        tt = (" + " + ".join(f"t{j}" for j, _ in live_terms) + f") * ({cnt})")
        w("        total += tt")
        w("        acc[jb] += tt")
    w("        bi = 0")
    w("        bv = acc[0]")
    w("        for q in range(1, nlab):")
    w("            if acc[q] > bv:")
    w("                bv = acc[q]")
    w("                bi = q")
    w("        out_time[i] = total if fits else np.nan")
    w("        out_bound[i] = bi")
    w("        out_home[i] = hc")
    w("        out_fits[i] = fits")
    return "\n".join(L) + "\n"


@lru_cache(maxsize=64)
def _kernel(source: str):
    from .._paths import cache_dir

    digest = hashlib.sha256(source.encode()).hexdigest()[:24]
    name = f"roofline_fused_{digest}"
    if name in sys.modules:
        return sys.modules[name].kernel
    folder = cache_dir()
    if folder is None:
        import tempfile

        folder = Path(tempfile.gettempdir()) / "roofline-fused"
    folder = folder / "fused"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.py"
    if not path.exists():
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(source)
        os.replace(tmp, path)
    spec = importlib.util.spec_from_file_location(name, path)
    mod = importlib.util.module_from_spec(spec)
    sys.modules[name] = mod
    spec.loader.exec_module(mod)
    return mod.kernel


def run(cw, args, caps, devs, hm, n: int, shape) -> dict:
    """Evaluate ``cw`` with its fused kernel over ``n`` points; returns the arrays the NumPy path returns."""
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
    kernel(*flat, *devvals, capsf, devs_f, home, len(cw.labels), out["time_s"], out["bound_index"], out["flops"],
           out["bytes"], out["home"], out["fits"])
    out = {k: v.reshape(shape) for k, v in out.items()}
    with np.errstate(divide="ignore", invalid="ignore"):
        out["arithmetic_intensity"] = out["flops"] / out["bytes"]
        out["attainable_flops_per_s"] = out["flops"] / out["time_s"]
    return out

