"""The classic roofline of a device: its compute ceilings and memory slopes, and their ridge points.

The arithmetic is :func:`roofline.formulas.ridge_point` and :func:`roofline.formulas.attainable_performance`
(re-exported here, where the engine's users have always found them).
"""

from __future__ import annotations

from ..formulas import attainable_performance, bytes_per_flop, ridge_point
from ..hardware.device import Device
from ..vocab import Corner

__all__ = ["attainable_performance", "ridge_point", "roofline_table"]


def roofline_table(device: Device, sparse: bool = False, which: str = Corner.NOMINAL) -> list[dict]:
    """One row per (data type, memory level): peak, bandwidth, ridge point (machine balance) and its inverse.

    .. math:: I^* = \\frac{P_\\text{dtype}}{BW_\\ell}, \\qquad \\beta = \\frac{BW_\\ell}{P_\\text{dtype}}

    Parameters
    ----------
    device : Device
        Its peaks per data type and its memory levels, fastest first.
    sparse : bool
        Use the 2:4-sparse peaks (data types without a published sparse peak are then left out).
    which : Corner or str
        Where in the estimated figures' ranges to read them (``nominal``, ``best``, ``worst``...).

    Returns
    -------
    list of dict
        ``device``, ``dtype``, ``sparse``, ``level``, ``peak_flops_per_s`` [FLOP/s],
        ``bandwidth_bytes_per_s`` [B/s], ``ridge_flops_per_byte`` [FLOP/B], ``bytes_per_flop`` [B/FLOP].

    References
    ----------
    S. Williams, A. Waterman, D. Patterson, "Roofline: an insightful visual performance model for
    multicore architectures", CACM 52(4), 2009.
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
                "ridge_flops_per_byte": ridge_point(peak, bw), "bytes_per_flop": bytes_per_flop(bw, peak),
            })
    return rows
