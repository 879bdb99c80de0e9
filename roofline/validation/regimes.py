"""Validation by regime: how close the ``estimate`` comes to each published measurement, per kind of run.

For each row of the measurement set (:mod:`roofline.validation.bounds`) the *estimate* is the ``estimate``
mode: the latency-inclusive model evaluated on the device's estimate ceilings
(:func:`roofline.hardware.measured.mode_device`: measured rates where published, a class efficiency
elsewhere). Unlike the bounds it may be beaten: it is a prediction, judged by ``ratio = measured speed /
estimated speed`` (1 is exact) and its error ``|ratio - 1|``.
"Before" is what the latency-inclusive bound alone predicted (the estimate before measured ceilings).

:func:`regime_summary` gives, per regime, the median and spread of the ratio and the share of rows within
±20 % and ±50 %, before and after.
"""

from __future__ import annotations

import os
import statistics

from ..hardware.library import get_device
from .bounds import validate

__all__ = ["REGIMES", "TARGETS", "regime_of", "estimate_rows", "regime_summary", "target_check", "misses"]

#: The regimes the summary reports, in order, with what each holds.
REGIMES = {
    "microbenchmark-memory": "memory bandwidth kernels (copy, triad, dot, empirical peaks)",
    "microbenchmark-gemm": "GEMM kernels of every shape",
    "decode-single-user-gpu": "single-user decode on GPUs, non-speculative, 16-bit weights",
    "decode-single-user-gpu-quantised": "single-user decode on GPUs, non-speculative, 8- or 4-bit weights",
    "decode-other": "speculative decode, batched decode (server TPOT), non-GPU decode",
    "prefill": "time to first token",
    "throughput": "whole-system tokens per second",
    "wafer-scale": "wafer-scale engines (Cerebras)",
}


#: The targets of issue 18: the largest error of the median ``|median(measured / estimate) - 1|`` per regime.
TARGETS = {"microbenchmark-memory": 0.10, "microbenchmark-gemm": 0.10, "decode-single-user-gpu": 0.20}


def regime_of(r: dict) -> str:
    """The regime of a measurement row (a key of :data:`REGIMES`).

    Parameters
    ----------
    r : dict
        A row of :func:`roofline.validation.bounds.load_measurements`.

    Returns
    -------
    str
    """
    cat = r["category"]
    if cat in ("membw", "gemm"):
        return "microbenchmark-memory" if cat == "membw" else "microbenchmark-gemm"
    if cat == "llm-decode":
        single = (r["batch"] or 1) == 1 and r["metric"] == "tokens_per_s_per_user" and not r["speculative"]
        if single and get_device(r["device"]).kind == "gpu":
            quant = r["weight_dtype"].strip() not in ("", "bf16", "fp16")
            return "decode-single-user-gpu" + ("-quantised" if quant else "")
        return "decode-other"
    return {"llm-prefill": "prefill", "llm-throughput": "throughput",
            "llm-serving": "throughput"}.get(cat, "wafer-scale")


def estimate_rows(path: str | os.PathLike | None = None, rows: list[dict] | None = None) -> list[dict]:
    """Each measurement with its latency bound (before) and its estimate on measured ceilings (after).

    The figures are :func:`roofline.validation.bounds.validate`'s: the estimate is the ``estimate`` mode of
    every command (no separate computation), so "after" is the ``meas/est`` column of ``roofline validate``.

    Parameters
    ----------
    path : path-like, optional
        The measurement file (default: the shipped one).
    rows : list of dict, optional
        Rows of :func:`~roofline.validation.bounds.validate` already computed (``path`` is then unused).

    Returns
    -------
    list of dict
        ``id``, ``regime``, ``device``, ``value``; ``bound_ideal``, ``bound_latency`` and ``estimate`` (in
        the row's unit), ``ratio_before`` (measured / latency bound) and ``ratio_after`` (measured /
        estimate) as speeds, and ``below_bounds`` (the row is no faster than either bound); ``error`` for a
        row the model cannot place.
    """
    out = []
    for r in (validate(path) if rows is None else rows):
        rec = {"id": r["id"], "regime": regime_of(r), "device": r["device"], "value": r["value"]}
        if r.get("error") or r.get("ratio_estimate") is None:
            out.append(dict(rec, error=r.get("error") or "no estimate"))
            continue
        rec.update(bound_ideal=r["bound_ideal"], bound_latency=r["bound_latency"], estimate=r["estimate"],
                   sense=r["sense"], ratio_before=r["efficiency_latency"], ratio_after=r["ratio_estimate"],
                   below_bounds=not r["violation"])
        out.append(rec)
    return out


def _stats(ratios: list[float]) -> dict:
    """Median, quartiles, extremes of the ratios and the shares within ±20 % and ±50 % of 1."""
    q = statistics.quantiles(ratios, n=4) if len(ratios) > 1 else [ratios[0]] * 3
    med = statistics.median(ratios)
    return {"median": med, "median_error": abs(med - 1), "q1": q[0], "q3": q[2], "min": min(ratios),
            "max": max(ratios), "within_20": sum(abs(x - 1) <= 0.2 for x in ratios) / len(ratios),
            "within_50": sum(abs(x - 1) <= 0.5 for x in ratios) / len(ratios)}


def regime_summary(rows: list[dict] | None = None) -> list[dict]:
    """Per regime, the distribution of measured / estimated speed before and after measured ceilings.

    Parameters
    ----------
    rows : list of dict, optional
        From :func:`estimate_rows` (default: computed on the shipped measurement set).

    Returns
    -------
    list of dict
        One record per regime with rows, in the order of :data:`REGIMES`: ``regime``, ``rows``,
        ``before`` and ``after`` (each ``median``, ``median_error`` = ``|median - 1|``, ``q1``, ``q3``,
        ``min``, ``max``, ``within_20`` and ``within_50`` as shares of the rows), and ``below_bounds``
        (rows no faster than their ideal and latency bounds).
    """
    rows = estimate_rows() if rows is None else rows
    out = []
    for regime in REGIMES:
        sel = [r for r in rows if r["regime"] == regime and "error" not in r]
        if not sel:
            continue
        out.append({"regime": regime, "rows": len(sel), "before": _stats([r["ratio_before"] for r in sel]),
                    "after": _stats([r["ratio_after"] for r in sel]),
                    "below_bounds": sum(r["below_bounds"] for r in sel)})
    return out


def target_check(summary: list[dict] | None = None) -> list[dict]:
    """Each target of :data:`TARGETS` against the regime's median error, before and after.

    Parameters
    ----------
    summary : list of dict, optional
        From :func:`regime_summary` (default: computed on the shipped measurement set).

    Returns
    -------
    list of dict
        ``regime``, ``rows``, ``limit`` [1], ``before`` and ``after`` (median errors [1]), ``met`` (after
        within the limit) and ``below_bounds`` (every row no faster than its ideal and latency bounds).
    """
    summary = regime_summary() if summary is None else summary
    by = {s["regime"]: s for s in summary}
    return [{"regime": reg, "rows": by[reg]["rows"], "limit": lim, "before": by[reg]["before"]["median_error"],
             "after": by[reg]["after"]["median_error"], "met": by[reg]["after"]["median_error"] <= lim,
             "below_bounds": by[reg]["below_bounds"] == by[reg]["rows"]} for reg, lim in TARGETS.items() if reg in by]


def misses(rows: list[dict], regimes=tuple(TARGETS), limit: float = 0.20) -> list[dict]:
    """The rows of ``regimes`` whose estimate is off by more than ``limit``, worst first.

    Parameters
    ----------
    rows : list of dict
        From :func:`estimate_rows`.
    regimes : iterable of str
        Regimes to look in (default: those with a target).
    limit : float
        The error beyond which a row misses [1].

    Returns
    -------
    list of dict
        The rows of :func:`estimate_rows` that miss, sorted by ``|ratio_after - 1|`` from the largest.
    """
    out = [r for r in rows if r["regime"] in regimes and "error" not in r and abs(r["ratio_after"] - 1) > limit]
    return sorted(out, key=lambda r: -abs(r["ratio_after"] - 1))
