r"""The roofline engine: time terms, bounds, binding terms, ridge points, break-even points, sensitivities.

For one op on one device the time terms are

.. math::
    t_\text{compute} = \frac{F}{P_\text{dtype}}, \qquad
    t_{\text{memory}:\ell} = \frac{Q}{BW_\ell} \;(\ell \le h), \qquad
    t_{\text{interconnect}:k} = \frac{Q_k}{BW_k^{\rightarrow}} + n_k\,\tau_k, \qquad
    t_\text{latency} = \sum \tau_\text{overheads}

where :math:`h` is the *home* level: the fastest memory level that holds the working set (data there
passes through every faster level on its way to the cores, so each of those sees the same traffic), and
:math:`BW_k^{\rightarrow}` the bandwidth of link :math:`k` in one direction. The op's time is
``max`` of the terms under full overlap (the roofline) or their sum without overlap (an upper bound). A
workload's time is the sum of its ops' times (per-operator, not one roofline over the whole workload).
``ideal=True`` drops the latency term and link latencies: the pure roofline.

Symbolic expressions come from :func:`time_expr` and friends; numbers for whole grids come from
:func:`compile_workload`, which lambdifies the same expressions into NumPy functions.
"""

from __future__ import annotations

from typing import Mapping

import numpy as np

from ..hardware.device import Device
from ..placement.levels import check_fits
from .terms import home_index as _home_index
from .terms import split_bytes, time_expr

__all__ = ['break_even', 'crossover', 'sensitivity']


# ----------------------------------------------------------------------------------------------------
# helpers built on the expressions
# ----------------------------------------------------------------------------------------------------
def break_even(workload, device: Device, symbol, home: int | str | None = None, which: str = "nominal",
               shapes: Mapping[str, float] | None = None, sparse: bool = False):
    """The value of ``symbol`` at which the workload turns from memory- to compute-bound.

    Solves :math:`\\sum_i F_i / P = \\sum_i Q_i / BW_h` (total compute time = total traffic time at the
    home level) for ``symbol``, where :math:`Q_i` is the op's resident traffic (weights, KV cache, a kernel's
    operands); transient activations are taken to live in a faster level.

    Returns ``(closed_form, value)``: the SymPy solution in shape and device
    symbols, and its number for ``device`` (other shapes from ``shapes``). ``value`` is None when the
    workload never turns (no positive solution).
    """
    import sympy as sp

    if isinstance(symbol, str):
        symbol = next((s for s in workload.symbols if s.name == symbol), None) or sp.Symbol(symbol, positive=True)
    h = _home_index(device, home)
    lvl = device.memory[h]
    t_c = sp.Add(*[op.count * op.flops / device.symbol(f"compute.{op.dtype}.{'sparse' if sparse else 'dense'}")
                   for op in workload.ops])
    t_m = sp.Add(*[op.count * split_bytes(op)[0] for op in workload.ops]) / device.symbol(f"memory.{lvl.name}.bandwidth")
    sols = sp.solve(sp.Eq(t_c, t_m), symbol)
    sols = [s for s in sols if s.is_real is not False]
    if not sols:
        return None, None
    closed = sols[0]
    subs = device.subs(which)
    for k, v in (shapes or {}).items():
        subs[sp.Symbol(k, positive=True)] = v
    for s in workload.symbols:
        if shapes and s.name in shapes:
            subs[s] = shapes[s.name]
    value = complex(closed.subs(subs).evalf())
    if abs(value.imag) > 1e-9 * max(1.0, abs(value.real)) or value.real <= 0:
        return closed, None
    return closed, value.real


def crossover(time_a, time_b, grid):
    """Points of ``grid`` where two vectorised time functions cross, refined by bisection.

    ``time_a`` and ``time_b`` map an array of the swept variable to times; returns the crossing values.
    """
    x = np.asarray(grid, dtype=float)
    d = np.asarray(time_a(x), dtype=float) - np.asarray(time_b(x), dtype=float)
    idx = np.nonzero(np.sign(d[:-1]) * np.sign(d[1:]) < 0)[0]
    out = []
    for i in idx:
        lo, hi = x[i], x[i + 1]
        dlo = d[i]
        for _ in range(60):
            mid = 0.5 * (lo + hi)
            dm = float(time_a(np.asarray([mid]))[0] - time_b(np.asarray([mid]))[0])
            if np.sign(dm) == np.sign(dlo):
                lo, dlo = mid, dm
            else:
                hi = mid
        out.append(0.5 * (lo + hi))
    return out


def sensitivity(workload, device: Device, shapes: Mapping[str, float], overlap: str = "max", ideal: bool = False,
                which: str = "nominal", home: int | str | None = None, devices=1) -> dict[str, float]:
    """Elasticity of the time to each device figure it depends on, :math:`\\partial \\ln T / \\partial \\ln x`.

    -1 means a 1 % better figure buys 1 % less time (the figure binds everywhere); 0 means improving it
    buys nothing. Computed by differentiating the time expression symbolically.
    """
    import sympy as sp

    if home is None:
        ws = float(sp.sympify(workload.working_set).subs(
            {s: shapes[s.name] for s in workload.symbols if s.name in shapes}))
        home = check_fits(device, ws, devices)
    T = time_expr(workload, device, overlap, ideal, home)
    subs = {s: shapes[s.name] for s in workload.symbols if s.name in shapes}
    subs.update(device.subs(which))
    t0 = float(T.subs(subs))
    out = {}
    from ..symbols import symbol_name

    path_of = {symbol_name(p): p for p in device.figures}
    for sym in sorted(T.free_symbols - set(workload.symbols), key=lambda s: s.name):
        d = sp.diff(T, sym)
        val = float(sp.sympify(d).subs(subs).evalf()) if d != 0 else 0.0
        out[path_of.get(sym.name, sym.name)] = val * float(subs[sym]) / t0
    return out

