"""LLM inference estimates: prefill and decode of a model on a placement, timed per operator.

:func:`estimate_result` places the model (:func:`roofline.llm.sizes.place`), builds and compiles the
prefill and decode workloads (:func:`roofline.llm.workload.llm_workload`), evaluates them at each corner of
the device's figures (:func:`roofline.engine.corners.evaluate_corners`) and returns an
:class:`~roofline.llm.result.LLMEstimate`; :func:`estimate` returns its record form (a dict, the JSON of
``roofline llm``). :func:`decode_break_even_batch` solves for the batch at which a decode step turns from
memory- to compute-bound.

Each op is timed by the engine and the times are **summed per operator**, never one roofline over the
whole model. Weights and the KV cache live in the placement's home level (HBM on a GPU, SRAM on a wafer
or tile); a user who forces fewer devices streams from the next level that holds them, or gets a
:class:`~roofline.errors.CapacityError` that says how much is needed.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .. import formulas
from ..engine.corners import evaluate_corners, ranged
from ..engine.fused import available as fused_available
from ..errors import InputError
from ..hardware.device import Device
from ..hardware.library import get_device
from ..placement.layout import Placement
from ..vocab import Corner, Phase, Ranged
from .config import ModelConfig
from .loader import get_model
from .precision import Precision
from .result import LLMEstimate
from .sizes import kv_cache_bytes, place, weights_bytes
from .workload import llm_workload

__all__ = ['estimate', 'estimate_result', 'decode_break_even_batch']


# ------------------------------------------------------------------------------------------------------
# evaluation of one phase at one corner
# ------------------------------------------------------------------------------------------------------
_BOUND: dict = {}


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


def _bound(model, device: Device, phase, prec, placement: Placement, ideal, overlap, which):
    """The compiled workload with the device's figures at corner ``which`` bound (kept per process: the
    model and device objects are immutable, so their identity and the layout name the entry)."""
    key = (id(model), id(device), phase, prec, placement.parallel, placement.home,
           tuple(sorted(placement.links.items())), ideal, overlap, which, fused_available())
    hit = _BOUND.get(key)
    if hit is not None and hit[0] is model and hit[1] is device:
        return hit[2]
    cw = _compiled(model, device, phase, prec, placement, ideal, overlap)
    vals = device.values(which)
    caps = [vals[f"memory.{lvl.name}.capacity"] for lvl in device.memory]
    bw = cw.bind(vals, caps, devices=1, home=placement.home)
    if len(_BOUND) > 4096:
        _BOUND.clear()
    _BOUND[key] = (model, device, bw)
    return bw


def _run(model, device, phase, prec, placement, shapes, ideal, overlap, which, device_values=None, detail=False,
         workers=None):
    """Evaluate ``phase`` over ``shapes`` (``b`` and ``s`` or ``p``, numbers or arrays) at corner ``which``."""
    if device_values:
        cw = _compiled(model, device, phase, prec, placement, ideal, overlap)
        vals = device.values(which)
        vals.update(device_values)
        caps = [vals[f"memory.{lvl.name}.capacity"] for lvl in device.memory]
        out = cw.evaluate(shapes, vals, caps, devices=1, home=placement.home, detail=detail, workers=workers)
    else:
        bw = _bound(model, device, phase, prec, placement, ideal, overlap, which)
        cw = bw.cw
        out = bw.evaluate(shapes, detail=detail, workers=workers)
    out["labels"] = cw.labels
    bi = out["bound_index"]
    out["bound"] = cw.labels[bi] if type(bi) is int else np.asarray(cw.labels, dtype=object)[bi]
    return out


# ------------------------------------------------------------------------------------------------------
# the steps of an estimate
# ------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class _Request:
    """What is asked: ``batch`` sequences, a prefill of ``prompt`` tokens, a decode step at ``context``,
    and (``generate`` > 0) a whole request of ``generate`` decode steps from ``prompt``."""

    batch: int
    context: int
    prompt: int
    generate: int
    ideal: bool
    overlap: str

    @property
    def peak_context(self) -> int:
        """The most tokens a sequence holds in the KV cache at any step [1]."""
        return max(self.context, self.prompt + self.generate)


def _request(m: ModelConfig, batch, context, generate, prompt, ideal, overlap) -> _Request:
    """Check the request's lengths against each other and the model's maximum context."""
    P = int(prompt if prompt is not None else context)
    G = int(generate or 0)
    for name, v in (("batch", batch), ("context", context), ("prompt", P)):
        if isinstance(v, bool) or int(v) != v or v <= 0:
            raise InputError(f"{name} must be a positive integer, got {v!r}")
    if generate is not None and (int(generate) != generate or generate <= 0):
        raise InputError(f"generate must be a positive integer, got {generate!r}")
    if max(context, P + G) > m.max_context:
        raise InputError(f"context {max(context, P + G)} exceeds {m.key}'s maximum of {m.max_context} tokens")
    return _Request(batch, context, P, G, ideal, overlap)


def _at_corner(m: ModelConfig, dev: Device, prec: Precision, pl: Placement, q: _Request, corner: Corner) -> dict:
    """Prefill, decode step and (with ``generate``) the whole request at one corner of the device."""
    pre = _run(m, dev, Phase.PREFILL, prec, pl, {"b": q.batch, "p": q.prompt}, q.ideal, q.overlap, corner,
               detail=True)
    dec = _run(m, dev, Phase.DECODE, prec, pl, {"b": q.batch, "s": q.context}, q.ideal, q.overlap, corner,
               detail=True)
    r = {"ttft_s": float(pre["time_s"]), "tpot_s": float(dec["time_s"]), "bound": str(dec["bound"]),
         "prefill_bound": str(pre["bound"]), "decode": dec, "prefill": pre}
    if q.generate:
        ctxs = q.prompt + np.arange(q.generate)
        steps = _run(m, dev, Phase.DECODE, prec, pl, {"b": q.batch, "s": ctxs}, q.ideal, q.overlap, corner)
        r["request_latency_s"] = r["ttft_s"] + float(np.sum(steps["time_s"]))
    return r


def _terms(run: dict) -> dict[str, float]:
    """Time of each term [s], by its text label."""
    return {lbl: float(x) for lbl, x in zip(run["labels"], run["term_times"])}


def _energy(dev: Device, pl: Placement, q: _Request, tpot: Ranged) -> Ranged | None:
    """Energy per token at the device's power: the low power with the fastest step, the high with the slowest."""
    power = dev.power_w
    if not power:
        return None
    pf = dev.figures["power.tdp"]
    return Ranged(formulas.energy_per_token(power, pl.devices, tpot.nominal, q.batch),
                  formulas.energy_per_token(pf.low, pl.devices, tpot.low, q.batch),
                  formulas.energy_per_token(pf.high, pl.devices, tpot.high, q.batch))


def _request_fields(q: _Request, corners: dict) -> dict:
    """The whole request's latency and rates (empty without ``generate``)."""
    if not q.generate:
        return {}
    lat = ranged(corners, "request_latency_s")
    return {"generate": q.generate, "request_latency_s": lat,
            "request_tokens_per_s_per_user": q.generate / lat.nominal,
            "request_tokens_per_s": q.batch * q.generate / lat.nominal}


def _result(m: ModelConfig, dev: Device, prec: Precision, pl: Placement, q: _Request, corners: dict) -> LLMEstimate:
    """Gather the corners' results into an :class:`LLMEstimate`."""
    nom = corners[Corner.NOMINAL]
    tpot = ranged(corners, "tpot_s")
    dec, pre = nom["decode"], nom["prefill"]
    return LLMEstimate(
        model=m.key, device=dev.key, weight_dtype=prec.weights, activation_dtype=prec.activations, kv_dtype=prec.kv,
        batch=q.batch, context=q.context, prompt=q.prompt, ideal=q.ideal, overlap=q.overlap,
        devices_used=pl.devices, tp=pl.parallel.tp, pp=pl.parallel.pp, placement="forced" if pl.forced else "auto",
        weights_level=pl.level, weights_bytes=weights_bytes(m, prec),
        kv_cache_bytes=float(kv_cache_bytes(m, prec, q.batch, q.peak_context)),
        resident_bytes_per_device=pl.resident_bytes_per_device,
        capacity_bytes_per_device=dev.memory[pl.home].capacity_bytes, links=dict(pl.links),
        ttft_s=ranged(corners, "ttft_s"), tpot_s=tpot,
        tokens_per_s_per_user=tpot.map(lambda t: 1.0 / t), tokens_per_s=tpot.map(lambda t: q.batch / t),
        bound=nom["bound"], prefill_bound=nom["prefill_bound"], energy_per_token_j=_energy(dev, pl, q, tpot),
        decode_terms_s=_terms(dec), prefill_terms_s=_terms(pre),
        decode_flops=float(dec["flops"]), decode_bytes=float(dec["bytes"]),
        prefill_flops=float(pre["flops"]), prefill_bytes=float(pre["bytes"]),
        **_request_fields(q, corners))


# ------------------------------------------------------------------------------------------------------
# the public entry points
# ------------------------------------------------------------------------------------------------------
def estimate_result(model: str | ModelConfig, device: str | Device, batch: int = 1, context: int = 2048,
                    generate: int | None = None, prec: Precision | None = None, dtype: str = "bf16",
                    devices: int | None = None, tp: int | None = None, pp: int | None = None, ideal: bool = False,
                    overlap: str = "max", prompt: int | None = None) -> LLMEstimate:
    """Prefill of ``prompt`` (default ``context``) tokens and a decode step at ``context``, on a placement.

    Parameters
    ----------
    model : str or ModelConfig
        A model key, alias or file path, or a model.
    device : str or Device
        A device key or alias, or a device.
    batch : int
        Sequences in flight [1].
    context : int
        Tokens in the KV cache at the decode step [1].
    generate : int, optional
        Tokens generated per request [1]: adds the whole request's latency and rates.
    prec : Precision, optional
        Data types; default ``Precision.of(dtype)``.
    dtype : str
        The data type of everything, when ``prec`` is not given.
    devices, tp, pp : int, optional
        Force the number of devices, the tensor-parallel degree and the pipeline stages [1].
    ideal : bool
        Leave out latency and overhead terms (a pure roofline).
    overlap : str
        ``max`` (terms overlap: the roofline) or ``sum`` (no overlap).
    prompt : int, optional
        Prompt tokens per sequence for the prefill [1]; default ``context``.

    Returns
    -------
    LLMEstimate
        Times, rates, bounds and the placement; ranges (``best``, ``worst``) for an estimate-based device.

    Raises
    ------
    InputError
        For a non-positive or non-integer length, or a context beyond the model's maximum.
    CapacityError
        When the forced layout cannot hold the model.
    """
    m = get_model(model)
    dev = get_device(device)
    prec = prec or Precision.of(dtype)
    q = _request(m, batch, context, generate, prompt, ideal, overlap)
    pl = place(m, dev, prec, batch, q.peak_context, devices, tp, pp)
    corners = evaluate_corners(dev, lambda corner: _at_corner(m, dev, prec, pl, q, corner))
    return _result(m, dev, prec, pl, q, corners)


def estimate(model: str | ModelConfig, device: str | Device, batch: int = 1, context: int = 2048,
             generate: int | None = None, prec: Precision | None = None, dtype: str = "bf16",
             devices: int | None = None, tp: int | None = None, pp: int | None = None, ideal: bool = False,
             overlap: str = "max", prompt: int | None = None) -> dict:
    """:func:`estimate_result` as a record (a dict): the JSON of ``roofline llm``.

    Parameters
    ----------
    model : str or ModelConfig
        A model key, alias or file path, or a model.
    device : str or Device
        A device key or alias, or a device.
    batch : int
        Sequences in flight [1].
    context : int
        Tokens in the KV cache at the decode step [1].
    generate : int, optional
        Tokens generated per request [1].
    prec : Precision, optional
        Data types; default ``Precision.of(dtype)``.
    dtype : str
        The data type of everything, when ``prec`` is not given.
    devices, tp, pp : int, optional
        Force the layout [1].
    ideal : bool
        Leave out latency and overhead terms.
    overlap : str
        ``max`` or ``sum``.
    prompt : int, optional
        Prompt tokens per sequence [1]; default ``context``.

    Returns
    -------
    dict
        ``devices_used``, ``tp``, ``pp``, ``weights_level``, ``weights_bytes`` [B], ``kv_cache_bytes`` [B],
        ``ttft_s`` [s], ``tpot_s`` [s], ``tokens_per_s_per_user`` [1/s], ``tokens_per_s`` [1/s], ``bound``
        (of the decode step), ``prefill_bound``, ``energy_per_token_j`` [J], ...; with ``generate`` the
        whole request (``request_latency_s`` and ``request_tokens_per_s_per_user``). An estimate-based
        device adds ``<field>_range = [low, high]`` for each time and rate
        (:meth:`LLMEstimate.to_dict <roofline.llm.result.LLMEstimate.to_dict>`).
    """
    return estimate_result(model, device, batch, context, generate, prec, dtype, devices, tp, pp, ideal, overlap,
                           prompt).to_dict()


def decode_break_even_batch(model: str | ModelConfig, device: str | Device, context: int = 2048,
                            dtype: str = "bf16", prec: Precision | None = None, devices: int | None = None):
    """The batch at which a decode step turns from memory- to compute-bound, closed form and number.

    Solves total compute time = total traffic time at the weights' level for ``b``
    (:func:`roofline.engine.break_even` on the decode workload):

    .. math:: \\sum_{op} \\frac{F_{op}(b)}{P_{op}} = \\frac{\\sum_{op} Q_{op}(b)}{BW}

    Parameters
    ----------
    model : str or ModelConfig
        A model key, alias or file path, or a model.
    device : str or Device
        A device key or alias, or a device.
    context : int
        Tokens in the KV cache [1].
    dtype : str
        The data type of everything, when ``prec`` is not given.
    prec : Precision, optional
        Data types.
    devices : int, optional
        Force the number of devices [1].

    Returns
    -------
    tuple
        ``(closed_form, value)``: a SymPy expression of the device figures and ``s`` (``None`` for a
        mixture-of-experts model, whose expected touched experts leave no closed form) and the batch [1]
        (``None`` when the step never turns compute-bound).
    """
    from ..engine.analysis import break_even

    m = get_model(model)
    dev = get_device(device)
    prec = prec or Precision.of(dtype)
    pl = place(m, dev, prec, 1, context, devices)
    wl = llm_workload(m, Phase.DECODE, prec, pl.parallel, pl.links)
    try:
        return break_even(wl, dev, "b", home=pl.home, shapes={"s": context})
    except NotImplementedError:
        # mixture of experts: the expected number of touched experts, E (1 - (1 - k/E)^b), leaves no closed
        # form in b; solve the same equation numerically (bisection on its sign change)
        return None, _break_even_numeric(wl, dev, pl.home, context)


def _break_even_numeric(wl, dev: Device, home: int, context: int) -> float | None:
    """The root in ``b`` of compute time minus traffic time: a sign change on a log grid, then bisection."""
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

