"""Validation against published measurements: every measurement set against roofline's bound for it.

A roofline is an upper bound on speed (a lower bound on time). A measurement that beats its *ideal*
bound is a bug in the model or a spec; a measurement far below it says what the model leaves out. The
data set is ``measurements/measurements.csv`` (each row with its configuration and source).

For each row the bound is computed in ideal mode (pure roofline) and with latency terms:

* ``membw`` — the main memory's datasheet bandwidth;
* ``gemm`` — the attainable FLOP/s of that GEMM shape (shape and data type from the row's note);
* ``tokens_per_s_per_user`` — 1 / time per output token at the row's batch and context (prompt plus
  half the output; 128 tokens when unstated, which favours the device);
* ``time_per_output_token_s`` / ``time_to_first_token_s`` — the decode-step / prefill time;
* ``tokens_per_s`` (a whole system) — the most any batch that fits can reach, batch / time per token.

Where a row leaves the precision unstated, the most favourable one the device supports is assumed (FP4 on
B200, FP8 on Hopper, 16-bit elsewhere), and the row says so in ``assumptions``: the bound stays a bound.
Rows that use speculative decoding are reported but cannot violate: a roofline of plain autoregressive
decoding does not bound them.
"""

from __future__ import annotations

import csv
import os
import re
from pathlib import Path

from ..errors import CapacityError, InputError, SpecError
from ..hardware.library import get_device

__all__ = ['default_path', 'load_measurements', 'validate', 'validation_frame']


_FIELDS = ("id", "category", "device", "device_count", "model", "weight_dtype", "kv_dtype", "batch",
           "input_tokens", "output_tokens", "context", "tp", "pp", "software", "metric", "value", "unit",
           "source_title", "source_url", "source_date", "locator", "note")


def default_path() -> Path:
    from .._paths import data_dir

    return data_dir("measurements") / "measurements.csv"


def load_measurements(path: str | os.PathLike | None = None) -> list[dict]:
    """Rows of the measurement data set, with numbers parsed; a malformed row is a :class:`SpecError`."""
    p = Path(path) if path else default_path()
    with open(p, newline="") as fh:
        reader = csv.DictReader(fh)
        missing = [f for f in _FIELDS if f not in (reader.fieldnames or [])]
        if missing:
            raise SpecError(p, missing[0], "missing column")
        rows = []
        for i, r in enumerate(reader, start=2):
            try:
                r["value"] = float(r["value"])
                for k in ("device_count", "batch", "input_tokens", "output_tokens", "context", "tp", "pp"):
                    r[k] = int(float(r[k])) if r[k].strip() else None
            except ValueError as exc:
                raise SpecError(p, f"line {i}", f"not a number ({exc})") from None
            rows.append(r)
    return rows


def _speculative(r: dict) -> bool:
    return "speculative" in r["id"].lower() or r["note"].lstrip().upper().startswith("SPECULATIVE")


def _precision(r: dict, dev):
    """The row's precision, read in the way most favourable to the device (so the bound stays a bound)."""
    from ..llm.precision import Precision

    w = r["weight_dtype"].strip()
    assumed = []
    if not w:
        w = "fp4" if "fp4" in dev.compute else ("fp8" if "fp8" in dev.compute else "bf16")
        assumed.append(f"precision not stated: {w} assumed (the most favourable)")
    w = "bf16" if w == "fp16" and "bf16" in dev.compute else w
    kv = r["kv_dtype"].strip()
    if not kv:
        kv = "fp8" if ("fp8" in dev.compute and w in ("fp8", "fp4", "int4", "int8")) else "bf16"
        if kv == "fp8":
            assumed.append("KV-cache precision not stated: fp8 assumed")
    # quantised weights compute in their own type where the device has a peak for it (W8A8, W4A4),
    # else in bf16 after dequantising (weight-only)
    act = w if w in dev.compute else "bf16"
    if act != w:
        assumed.append(f"{w} weights dequantised to bf16 (no {w} peak)")
    return Precision(w, act, kv), assumed


def _context(r: dict, assumed: list) -> int:
    if r["context"]:
        return r["context"]
    if r["input_tokens"] or r["output_tokens"]:
        return max(1, (r["input_tokens"] or 0) + (r["output_tokens"] or 0) // 2)
    assumed.append("context not stated: 128 tokens assumed")
    return 128


def _bound(r: dict, ideal: bool) -> tuple[float, str, list[str], dict]:
    """(bound, the sense: 'rate' (measured <= bound) or 'time' (measured >= bound), assumptions, details)."""
    from ..engine.kernel import kernel_report
    from ..llm.inference import estimate
    from ..llm.sweeps import frontier
    from ..workloads import kernels as workloads

    dev = get_device(r["device"])
    assumed: list[str] = []
    metric = r["metric"]
    if metric == "bandwidth_bytes_per_s":
        lvl = next(m for m in dev.memory if m.kind not in ("cache", "register"))
        return lvl.bandwidth_bytes_per_s, "rate", assumed, {"level": lvl.name}
    if metric == "flops_per_s":
        m = re.search(r"M=(\d+)\s+N=(\d+)\s+K=(\d+)\s+(\w+)", r["note"])
        if not m:
            raise InputError(f"{r['id']}: a GEMM row needs 'M=.. N=.. K=.. dtype' in its note")
        M, N, K, dt = int(m[1]), int(m[2]), int(m[3]), m[4]
        rec = kernel_report(workloads.gemm(M, N, K, dtype=dt), dev, ideal=ideal)
        return rec["attainable_flops_per_s"], "rate", assumed, {"bound_term": rec["bound"], "level": rec["home_level"]}
    prec, assumed = _precision(r, dev)
    ctx = _context(r, assumed)
    n = r["device_count"]
    kw = dict(devices=n, tp=r["tp"] if r["tp"] and n and r["tp"] <= n else None)
    if kw["tp"] and n:
        kw["pp"] = max(1, n // kw["tp"])
        kw["devices"] = None if kw["tp"] * kw["pp"] != n else n
        if kw["devices"] is None:
            kw = dict(devices=n, tp=None)
    if n is None:
        assumed.append("device count not stated: the fewest that hold the model")
    if metric in ("tokens_per_s_per_user", "time_per_output_token_s", "time_to_first_token_s"):
        batch = r["batch"] or 1
        if not r["batch"]:
            assumed.append("batch not stated: 1 assumed")
        prompt = r["input_tokens"] or (128 if metric == "time_to_first_token_s" else None)
        if metric == "time_to_first_token_s" and not r["input_tokens"]:
            assumed.append("prompt length not stated: 128 tokens assumed")
        e = estimate(r["model"], dev, batch=batch, context=ctx, prec=prec, ideal=ideal,
                     prompt=prompt if metric == "time_to_first_token_s" else None, **kw)
        det = {"devices_used": e["devices_used"], "bound_term": e["bound"] if metric != "time_to_first_token_s"
               else e["prefill_bound"], "level": e["weights_level"], "precision": prec.weights}
        if metric == "tokens_per_s_per_user":
            return e["tokens_per_s_per_user"], "rate", assumed, det
        if metric == "time_per_output_token_s":
            return e["tpot_s"], "time", assumed, det
        return e["ttft_s"], "time", assumed, det
    if metric == "tokens_per_s":
        if r["batch"]:
            e = estimate(r["model"], dev, batch=r["batch"], context=ctx, prec=prec, ideal=ideal, **kw)
            return e["tokens_per_s"], "rate", assumed, {"devices_used": e["devices_used"], "bound_term": e["bound"],
                                                        "precision": prec.weights}
        assumed.append("batch not stated: the best batch that fits")
        f = frontier(r["model"], dev, devices=n, context=ctx, prec=prec, ideal=ideal)
        i = int(f["tokens_per_s"].values.argmax())
        return float(f["tokens_per_s"].iloc[i]), "rate", assumed, {
            "devices_used": int(f["devices"].iloc[0]), "bound_term": str(f["bound"].iloc[i]),
            "batch_at_bound": int(f["batch"].iloc[i]), "precision": prec.weights}
    raise InputError(f"{r['id']}: unknown metric {metric!r}")


def validate(path: str | os.PathLike | None = None) -> list[dict]:
    """Each measurement with its bound (ideal and with latency terms) and its efficiency.

    ``efficiency`` is measured / bound for rates and bound / measured for times: at most 1 when the model
    bounds the measurement; ``violation`` is True when a non-speculative measurement beats its ideal bound.
    """
    out = []
    for r in load_measurements(path):
        rec = {k: r[k] for k in ("id", "category", "device", "device_count", "model", "weight_dtype", "batch",
                                 "input_tokens", "output_tokens", "metric", "value", "unit", "source_title",
                                 "source_url", "source_date", "locator")}
        rec["speculative"] = _speculative(r)
        try:
            b_ideal, sense, assumed, det = _bound(r, ideal=True)
            b_lat, _, _, det_lat = _bound(r, ideal=False)
        except (CapacityError, InputError) as exc:
            rec.update(error=str(exc), efficiency_ideal=None, efficiency=None, violation=False)
            out.append(rec)
            continue
        v = r["value"]
        eff = (lambda b: v / b) if sense == "rate" else (lambda b: b / v)
        rec.update(bound_ideal=b_ideal, bound=b_lat, sense=sense, efficiency_ideal=eff(b_ideal), efficiency=eff(b_lat),
                   assumptions="; ".join(assumed), **{f"{k}": x for k, x in det.items()},
                   bound_term_with_latency=det_lat.get("bound_term"))
        rec["violation"] = (not rec["speculative"]) and rec["efficiency_ideal"] > 1.0 + 1e-9
        out.append(rec)
    return out


def validation_frame(path: str | os.PathLike | None = None):
    """:func:`validate` as a pandas DataFrame."""
    import pandas as pd

    return pd.DataFrame(validate(path))

