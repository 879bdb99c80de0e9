r"""Questions asked of a workload's time: where it turns compute-bound, where two curves cross, what binds.

- :func:`break_even`: the value of one shape symbol (a batch, a sequence length) at which the workload's
  total compute time equals its total traffic time at the home level: the workload's own ridge point,
  solved in closed form with SymPy.
- :func:`crossover`: where two vectorised time functions (two devices, two layouts) cross on a grid,
  refined by bisection.
- :func:`sensitivity`: the elasticity of the time to each device figure,
  :math:`\partial \ln T / \partial \ln x`, by symbolic differentiation of :func:`~roofline.engine.time_expr`.

The time terms themselves are built in :mod:`roofline.engine.terms`.
"""

from __future__ import annotations

from typing import Mapping

from ..dtypes import peak_dtype
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

    .. math:: \\sum_i c_i \\frac{F_i}{P_{\\text{dtype}_i}} = \\sum_i c_i \\frac{Q_{\\text{res},i}}{BW_h}

    solved for ``symbol``: total compute time equals total traffic time at the home level :math:`h`
    (:math:`c_i`: the op's count; :math:`Q_{\\text{res},i}`: its resident traffic, weights, KV cache or a
    kernel's operands; transient activations are taken to live in a faster level).

    Parameters
    ----------
    workload : roofline.workloads.Workload
    device : Device
    symbol : str or sympy.Symbol
        The shape symbol to solve for (``"b"``, ``"M"``...) [1].
    home : int, str or None
        Level of the resident data, by index or name; None: the main memory.
    which : Corner or str
        Corner of the device's figures for ``value`` (``nominal``, ``best``, ``worst``).
    shapes : mapping of str to float, optional
        Values of the other shape symbols, by name [1].
    sparse : bool
        Use the 2:4-sparse peaks.

    Returns
    -------
    closed_form : sympy.Expr or None
        The solution in shape and figure symbols; None when there is no real solution.
    value : float or None
        Its number on ``device`` [1]; None when the workload never turns (no positive solution).

    References
    ----------
    Williams, Waterman and Patterson, "Roofline", CACM 52(4), 2009: the ridge point of one kernel.
    """
    import sympy as sp

    if isinstance(symbol, str):
        symbol = next((s for s in workload.symbols if s.name == symbol), None) or sp.Symbol(symbol, positive=True)
    h = _home_index(device, home)
    lvl = device.memory[h]
    kind, dt = ("sparse" if sparse else "dense"), (lambda op: peak_dtype(op.dtype, device.compute) or op.dtype)
    t_c = sp.Add(*[op.count * op.flops / device.symbol(f"compute.{dt(op)}.{kind}") for op in workload.ops])
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

    A crossing is a sign change of :math:`T_a(x) - T_b(x)` between neighbouring grid points (a point where
    the difference is exactly zero is not one); each is refined by 60 bisection steps.

    Parameters
    ----------
    time_a, time_b : callable
        Map a 1-D array of the swept variable to times [s] of the same length.
    grid : array_like
        Increasing values of the swept variable, in its unit.

    Returns
    -------
    list of float
        The crossing values, in the unit of ``grid``, in increasing order.

    Examples
    --------
    >>> [round(float(x), 9) for x in crossover(lambda x: 2.0 * x, lambda x: x + 3.0, [0.0, 2.5, 5.0])]
    [3.0]
    """
    import numpy as np

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
    """Elasticity of the time to each device figure it depends on.

    .. math:: S_x = \\frac{\\partial \\ln T}{\\partial \\ln x} = \\frac{x}{T} \\frac{\\partial T}{\\partial x}

    -1 means a 1 % better figure buys 1 % less time (the figure binds everywhere); 0 means improving it
    buys nothing. Computed by differentiating :func:`~roofline.engine.time_expr` symbolically.

    Parameters
    ----------
    workload : roofline.workloads.Workload
    device : Device
    shapes : mapping of str to float
        Values of the workload's shape symbols, by name [1].
    overlap : str
        ``max`` (the roofline) or ``sum`` (no overlap).
    ideal : bool
        Drop latencies.
    which : Corner or str
        Corner of the device's figures (``nominal``, ``best``, ``worst``).
    home : int, str or None
        Level of the resident data; None: the fastest that holds the working set over ``devices``.
    devices : int
        Devices the working set is spread over when choosing the home [1].

    Returns
    -------
    dict of str to float
        Figure path (``memory.hbm.bandwidth``...) to its elasticity [1].

    Raises
    ------
    CapacityError
        ``home`` is None and the working set fits no level.
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

