"""A hand-written fused loop over the operators of one compiled LLM step: the benchmark's reference.

What a careful person would write by hand for one workload on one device: each operator's outputs as
coefficient arrays (every output of an LLM decode step is bilinear in batch ``b`` and context ``s``:
``c0 + c1 b + c2 s + c3 b s``), one numba loop over points and, inside it, a loop over operators that
applies the same rules as roofline's engine (resident bytes at every level up to the home level,
activations at the fastest level that holds them but never slower than the home, the largest work term
per operator, each latency of the estimate added on top and charged to its own term, the binding term of
the step). The coefficients are read off roofline's own compiled expressions at four points, and
:func:`check` compares the loop's times and binding terms with the engine's, so both compute the same
thing; only the code differs (a general generated kernel against a special-purpose loop).
"""

from __future__ import annotations

import os

import numpy as np


def coefficients(cw, figs: list[float]):
    """Per output of ``cw``'s layout, the bilinear coefficients (c0, c1, c2, c3) in (b, s)."""
    pts = [(1.0, 1.0), (2.0, 1.0), (1.0, 2.0), (2.0, 2.0)]
    f11, f21, f12, f22 = (np.asarray([float(np.asarray(v)) for v in cw.func(b, s, *figs)]) for b, s in pts)
    c3 = f22 - f21 - f12 + f11
    c1 = f21 - f11 - c3
    c2 = f12 - f11 - c3
    c0 = f11 - c1 - c2 - c3
    return np.stack([c0, c1, c2, c3], axis=1)  # (outputs, 4)


def build(cw, figs: list[float], caps: list[float], home: int):
    """The reference kernel for ``cw`` at figures ``figs`` (in ``cw.device_paths`` order) with the home level
    forced to ``home``, in the estimate mode: ``kernel(B, S, out_time, out_bound)``."""
    from numba import njit

    from roofline.engine.layout import N_LATENCY, OutputLayout

    lay = OutputLayout(cw.n_levels, cw.n_links)
    coef = coefficients(cw, figs)
    n_ops, nl, nk = cw.n_ops, cw.n_levels, cw.n_links
    ops = np.stack([coef[lay.op(o)] for o in range(n_ops)])  # (ops, per_op, 4)
    capsa = np.asarray(caps, dtype=float)
    nlab = len(cw.labels)
    ra, rc, rl, tl = lay.act_bytes, lay.count, lay.latency(0), lay.term_latency(0)
    live = np.any(ops != 0, axis=2)  # (ops, per_op): outputs not identically zero
    lat = np.stack([[ops[o, rl + j, 0] if not ops[o, rl + j, 1:].any() else np.nan for j in range(N_LATENCY)]
                    for o in range(n_ops)])  # constant latencies (NaN: one that varies with b or s)

    @njit(fastmath=False, nogil=True, cache=False)
    def term(o, r, b, s, bs):
        return ops[o, r, 0] + ops[o, r, 1] * b + ops[o, r, 2] * s + ops[o, r, 3] * bs

    @njit(fastmath=False, nogil=True, cache=False)
    def kernel(B, S, out_t, out_b):
        acc = np.zeros(nlab)
        for i in range(B.shape[0]):
            b, s = B[i], S[i]
            bs = b * s
            total = 0.0
            acc[:] = 0.0
            for o in range(n_ops):
                ha = nl - 1
                if live[o, ra]:
                    ab = term(o, ra, b, s, bs)
                    for lv in range(nl - 1, -1, -1):
                        if ab <= capsa[lv]:
                            ha = lv
                ha = min(ha, home)
                best = term(o, 0, b, s, bs) if live[o, 0] else 0.0
                jb = 0
                for lv in range(nl):
                    t = (term(o, 1 + lv, b, s, bs) if lv <= home and live[o, 1 + lv] else 0.0) + \
                        (term(o, 1 + nl + lv, b, s, bs) if lv <= ha and live[o, 1 + nl + lv] else 0.0)
                    if t > best:
                        best, jb = t, 1 + lv
                for j in range(nk):
                    if live[o, 1 + 2 * nl + j]:
                        t = term(o, 1 + 2 * nl + j, b, s, bs)
                        if t > best:
                            best, jb = t, 1 + nl + j
                cnt = ops[o, rc, 0]
                total += best * cnt
                acc[jb] += best * cnt
                for j in range(N_LATENCY):
                    if live[o, rl + j]:
                        lt = (lat[o, j] if lat[o, j] == lat[o, j] else term(o, rl + j, b, s, bs)) * cnt
                        total += lt
                        acc[tl + j] += lt
            bi = 0
            for q in range(1, nlab):
                if acc[q] > acc[bi]:
                    bi = q
            out_t[i] = total
            out_b[i] = bi

    return kernel


def run(kernel, B, S):
    """Evaluate the reference kernel over the points ``(B[i], S[i])``: ``(time [s], bound index)``."""
    t, b = np.empty(B.size), np.empty(B.size, dtype=np.int64)
    kernel(B, S, t, b)
    return t, b


def check(kernel, cw, vals: dict, caps: list[float], home: int, B, S) -> float:
    """Largest relative difference between the reference loop's times and the engine's (NumPy path); inf
    when a binding term differs."""
    old = os.environ.get("ROOFLINE_FUSED")
    os.environ["ROOFLINE_FUSED"] = "0"
    try:
        ref = cw.evaluate({"b": B, "s": S}, vals, caps, home=home, mode="estimate", workers=1)
    finally:
        if old is None:
            del os.environ["ROOFLINE_FUSED"]
        else:
            os.environ["ROOFLINE_FUSED"] = old
    t, bi = run(kernel, B, S)
    if not (bi == ref["bound_index"]).all():
        return float("inf")
    return float(np.max(np.abs(t / ref["time_s"] - 1)))
