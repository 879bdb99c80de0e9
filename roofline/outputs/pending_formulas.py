"""Two pure formulas that belong in :mod:`roofline.formulas`, kept here until they move there.

The outputs room may not edit ``roofline/formulas.py``; these are written in its style (pure, over float,
ndarray and ``sympy.Expr`` alike) so that the move is a cut and paste and an import change in
:mod:`roofline.outputs.report`.
"""

from __future__ import annotations

__all__ = ["arithmetic_intensity", "achieved_performance"]


def arithmetic_intensity(flops, bytes_moved):
    """Arithmetic intensity: the work done per byte moved.

    .. math:: I = \\frac{F}{Q}

    Parameters
    ----------
    flops : float, ndarray or sympy.Expr
        Work [FLOP].
    bytes_moved : float, ndarray or sympy.Expr
        Traffic to and from memory [B].

    Returns
    -------
    float, ndarray or sympy.Expr
        :term:`Arithmetic intensity <I>` [FLOP/B].

    References
    ----------
    S. Williams, A. Waterman, D. Patterson, "Roofline: an insightful visual performance model for
    multicore architectures", CACM 52(4), 2009.

    Examples
    --------
    >>> arithmetic_intensity(2 * 8192 * 8192, 2 * 8192 * 8192)  # a BF16 GEMV: 2 FLOP per 2-byte weight
    1.0
    """
    return flops / bytes_moved


def achieved_performance(flops, time_s):
    """The rate a workload achieves: its work over its time.

    .. math:: P = \\frac{F}{t}

    Parameters
    ----------
    flops : float, ndarray or sympy.Expr
        Work [FLOP].
    time_s : float, ndarray or sympy.Expr
        Time [s].

    Returns
    -------
    float, ndarray or sympy.Expr
        [FLOP/s].

    Examples
    --------
    >>> achieved_performance(1.0995e12, 1.1113e-3) / 1e12  # doctest: +ELLIPSIS
    989.38...
    """
    return flops / time_s
