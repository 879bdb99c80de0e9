"""LLM inference: per-operator prefill and decode on one or many devices, with capacity and parallelism.

A transformer is decomposed into kernels from :mod:`roofline.workloads` (embedding lookup, norms, QKV,
attention, output projection, MLP or routed experts, residual adds, lm_head) plus the collectives its
parallelism needs (tensor-parallel all-reduce, expert all-to-all, pipeline hand-off). Each op is timed
by the engine and the times are **summed per operator**, never one roofline over the whole model.

Shape symbols: ``b`` (batch: sequences in flight), ``s`` (decode: tokens already in the KV cache) and
``p`` (prefill: prompt tokens per sequence). Parallelism and data types are plain Python values: they
change the structure of the expressions, not their arguments.

Placement: weights and the KV cache (the *resident set*) live together in the fastest memory level that
is not a cache (HBM on a GPU, SRAM on a wafer or tile). By default the model is spread over the fewest
devices whose level holds it: tensor parallelism inside a GPU's NVLink domain (pipeline stages beyond
it), pipeline stages across wafers and tiles (the mapping Cerebras and Tesla describe). A user who forces
fewer devices streams from the next level that holds the set (Dojo's DIP HBM, a CS-3's MemoryX) at that
level's bandwidth, or gets a :class:`~roofline.errors.CapacityError` that says how much is needed.
"""

from __future__ import annotations

import numpy as np

from ..errors import InputError
from ..hardware.device import Device
from ..hardware.library import get_device
from ..placement.layout import Placement
from .blocks import llm_workload
from .config import ModelConfig
from .loader import get_model
from .precision import Precision
from .sizes import kv_cache_bytes, place, weights_bytes

__all__ = ['estimate', 'decode_break_even_batch']


# ------------------------------------------------------------------------------------------------------
# evaluation
# ------------------------------------------------------------------------------------------------------
def _compiled(model, device: Device, phase, prec, placement: Placement, ideal, overlap):
    """The lambdified decode or prefill workload for this placement, from memory, the disk cache, or built."""
    from ..engine.cache import cached_compile, device_signature
    from ..engine.compiled import compile_workload

    key = (f"llm|{model!r}|{phase}|{prec!r}|{placement.parallel!r}|{sorted(placement.links.items())!r}|"
           f"{device_signature(device)}|{ideal}|{overlap}")

    def build():
        wl = llm_workload(model, phase, prec, placement.parallel, placement.links)
        return compile_workload(wl, device, overlap, ideal, placement.links)

    return cached_compile(key, build)


def _run(model, device, phase, prec, placement, shapes, ideal, overlap, which, device_values=None, detail=False):
    cw = _compiled(model, device, phase, prec, placement, ideal, overlap)
    vals = device.values(which)
    if device_values:
        vals.update(device_values)
    caps = [vals[f"memory.{lvl.name}.capacity"] for lvl in device.memory]
    out = cw.evaluate(shapes, vals, caps, devices=1, home=placement.home, detail=detail)
    out["labels"] = cw.labels
    out["bound"] = np.asarray(cw.labels, dtype=object)[out["bound_index"]]
    return out


def estimate(model: str | ModelConfig, device: str | Device, batch: int = 1, context: int = 2048,
             generate: int | None = None, prec: Precision | None = None, dtype: str = "bf16",
             devices: int | None = None, tp: int | None = None, pp: int | None = None, ideal: bool = False,
             overlap: str = "max", prompt: int | None = None) -> dict:
    """Prefill of ``prompt`` (default ``context``) tokens and a decode step at ``context``, on a placement.

    Returns a dict with ``devices_used``, ``tp``, ``pp``, ``weights_level``, ``weights_bytes``,
    ``kv_cache_bytes``, ``ttft_s``, ``tpot_s``, ``tokens_per_s_per_user``, ``tokens_per_s``, ``bound``
    (of the decode step), ``prefill_bound``, ``energy_per_token_j``; with ``generate`` the whole request
    (``request_latency_s`` and ``request_tokens_per_s_per_user``). An estimate-based device adds
    ``<field>_range = [best, worst]`` for each time and rate.
    """
    m = get_model(model)
    dev = get_device(device)
    prec = prec or Precision.of(dtype)
    P = int(prompt if prompt is not None else context)
    G = int(generate or 0)
    for name, v in (("batch", batch), ("context", context), ("prompt", P)):
        if isinstance(v, bool) or int(v) != v or v <= 0:
            raise InputError(f"{name} must be a positive integer, got {v!r}")
    if generate is not None and (int(generate) != generate or generate <= 0):
        raise InputError(f"generate must be a positive integer, got {generate!r}")
    if max(context, P + G) > m.max_context:
        raise InputError(f"context {max(context, P + G)} exceeds {m.key}'s maximum of {m.max_context} tokens")
    peak_ctx = max(context, P + G)
    pl = place(m, dev, prec, batch, peak_ctx, devices, tp, pp)
    whiches = ("nominal", "best", "worst") if dev.is_estimate else ("nominal",)
    res: dict = {}
    for w in whiches:
        pre = _run(m, dev, "prefill", prec, pl, {"b": batch, "p": P}, ideal, overlap, w, detail=True)
        dec = _run(m, dev, "decode", prec, pl, {"b": batch, "s": context}, ideal, overlap, w, detail=True)
        r = {"ttft_s": float(pre["time_s"]), "tpot_s": float(dec["time_s"]), "bound": str(dec["bound"]),
             "prefill_bound": str(pre["bound"]), "decode": dec, "prefill": pre}
        if G:
            ctxs = P + np.arange(G)
            steps = _run(m, dev, "decode", prec, pl, {"b": batch, "s": ctxs}, ideal, overlap, w)
            r["request_latency_s"] = r["ttft_s"] + float(np.sum(steps["time_s"]))
        res[w] = r
    nom = res["nominal"]
    power = dev.power_w
    out = {
        "model": m.key, "device": dev.key, "weight_dtype": prec.weights, "activation_dtype": prec.activations,
        "kv_dtype": prec.kv, "batch": batch, "context": context, "prompt": P, "ideal": ideal, "overlap": overlap,
        "devices_used": pl.devices, "tp": pl.parallel.tp, "pp": pl.parallel.pp, "placement": "forced" if pl.forced else "auto",
        "weights_level": pl.level, "weights_bytes": weights_bytes(m, prec),
        "kv_cache_bytes": float(kv_cache_bytes(m, prec, batch, peak_ctx)),
        "resident_bytes_per_device": pl.resident_bytes_per_device,
        "capacity_bytes_per_device": dev.memory[pl.home].capacity_bytes,
        "links": dict(pl.links),
        "ttft_s": nom["ttft_s"], "tpot_s": nom["tpot_s"],
        "tokens_per_s_per_user": 1.0 / nom["tpot_s"], "tokens_per_s": batch / nom["tpot_s"],
        "bound": nom["bound"], "prefill_bound": nom["prefill_bound"],
        "energy_per_token_j": (power * pl.devices * nom["tpot_s"] / batch) if power else None,
        "decode_terms_s": {lbl: float(x) for lbl, x in zip(nom["decode"]["labels"], nom["decode"]["term_times"])},
        "prefill_terms_s": {lbl: float(x) for lbl, x in zip(nom["prefill"]["labels"], nom["prefill"]["term_times"])},
        "decode_flops": float(nom["decode"]["flops"]), "decode_bytes": float(nom["decode"]["bytes"]),
        "prefill_flops": float(nom["prefill"]["flops"]), "prefill_bytes": float(nom["prefill"]["bytes"]),
    }
    if G:
        out["generate"] = G
        out["request_latency_s"] = nom["request_latency_s"]
        out["request_tokens_per_s_per_user"] = G / nom["request_latency_s"]
        out["request_tokens_per_s"] = batch * G / nom["request_latency_s"]
    if len(res) > 1:
        for key in ("ttft_s", "tpot_s") + (("request_latency_s",) if G else ()):
            lo, hi = sorted((res["best"][key], res["worst"][key]))
            if not np.isclose(lo, hi, rtol=1e-9):
                out[key + "_range"] = [lo, hi]
        if "tpot_s_range" in out:
            lo, hi = out["tpot_s_range"]
            out["tokens_per_s_per_user_range"] = [1 / hi, 1 / lo]
            out["tokens_per_s_range"] = [batch / hi, batch / lo]
            if power:
                pf = dev.figures["power.tdp"]
                out["energy_per_token_j_range"] = [pf.low * pl.devices * lo / batch, pf.high * pl.devices * hi / batch]
    return out


def decode_break_even_batch(model: str | ModelConfig, device: str | Device, context: int = 2048,
                            dtype: str = "bf16", prec: Precision | None = None, devices: int | None = None):
    """The batch at which a decode step turns from memory- to compute-bound, closed form and number.

    Solves total compute time = total traffic time at the weights' level for ``b``
    (:func:`roofline.engine.break_even` on the decode workload). Returns ``(closed_form, value)``; for a
    mixture-of-experts model there is no closed form (``None``) and the value is found numerically.
    """
    from ..engine.analysis import break_even

    m = get_model(model)
    dev = get_device(device)
    prec = prec or Precision.of(dtype)
    pl = place(m, dev, prec, 1, context, devices)
    wl = llm_workload(m, "decode", prec, pl.parallel, pl.links)
    try:
        return break_even(wl, dev, "b", home=pl.home, shapes={"s": context})
    except NotImplementedError:
        # mixture of experts: the expected number of touched experts, E (1 - (1 - k/E)^b), leaves no closed
        # form in b; solve the same equation numerically (bisection on its sign change)
        return None, _break_even_numeric(wl, dev, pl.home, context)


def _break_even_numeric(wl, dev: Device, home: int, context: int) -> float | None:
    import sympy as sp

    from ..engine.terms import split_bytes

    b = next(x for x in wl.symbols if x.name == "b")
    lvl = dev.memory[home]
    t_c = sp.Add(*[op.count * op.flops / dev.symbol(f"compute.{op.dtype}.dense") for op in wl.ops])
    t_m = sp.Add(*[op.count * split_bytes(op)[0] for op in wl.ops]) / dev.symbol(f"memory.{lvl.name}.bandwidth")
    subs = dev.subs()
    subs.update({x: context for x in wl.symbols if x.name == "s"})
    f = sp.lambdify(b, (t_c - t_m).subs(subs), "numpy")
    grid = np.geomspace(1, 1e7, 400)
    d = np.asarray(f(grid), dtype=float)
    hits = np.nonzero((d[:-1] < 0) & (d[1:] >= 0))[0]
    if hits.size == 0:
        return None
    lo, hi = grid[hits[0]], grid[hits[0] + 1]
    for _ in range(100):
        mid = 0.5 * (lo + hi)
        lo, hi = (mid, hi) if f(mid) < 0 else (lo, mid)
    return float(0.5 * (lo + hi))

