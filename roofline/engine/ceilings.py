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

import numpy as np

from ..hardware.device import Device

__all__ = ['attainable_performance', 'ridge_point', 'roofline_table']


# ----------------------------------------------------------------------------------------------------
# the classic roofline
# ----------------------------------------------------------------------------------------------------
def attainable_performance(intensity, peak_flops_per_s, bandwidth_bytes_per_s):
    """Attainable performance [FLOP/s] of a kernel of arithmetic intensity ``intensity`` [FLOP/B].

    .. math:: P_\\text{att} = \\min(P, \\; BW \\cdot I)

    Works on scalars and broadcasting arrays alike.

    References
    ----------
    S. Williams, A. Waterman, D. Patterson, "Roofline: an insightful visual performance model for
    multicore architectures", CACM 52(4), 2009.

    Examples
    --------
    >>> float(attainable_performance(1.0, 989.4e12, 3.35e12))  # a GEMV on an H100: memory-bound
    3350000000000.0
    """
    return np.minimum(peak_flops_per_s, np.multiply(bandwidth_bytes_per_s, intensity))


def ridge_point(peak_flops_per_s, bandwidth_bytes_per_s):
    """Ridge point [FLOP/B]: the intensity above which a kernel is compute-bound, :math:`P / BW`.

    >>> round(ridge_point(989.4e12, 3.35e12), 1)  # H100 SXM, BF16 dense, against HBM
    295.3
    """
    return np.divide(peak_flops_per_s, bandwidth_bytes_per_s)


def roofline_table(device: Device, sparse: bool = False, which: str = "nominal") -> list[dict]:
    """One row per (data type, memory level): peak, bandwidth, ridge point (machine balance) and its inverse.

    Dense peaks unless ``sparse`` (data types without a published sparse peak are then left out).
    """
    rows = []
    for dt, kinds in device.compute.items():
        if sparse and "sparse" not in kinds:
            continue
        peak = kinds["sparse" if sparse else "dense"].at(which)
        for lvl in device.memory:
            bw = lvl.bandwidth.at(which)
            rows.append({
                "device": device.key, "dtype": dt, "sparse": sparse, "level": lvl.name,
                "peak_flops_per_s": peak, "bandwidth_bytes_per_s": bw,
                "ridge_flops_per_byte": peak / bw, "bytes_per_flop": bw / peak,
            })
    return rows

