"""LLM inference estimates: prefill and decode of a model on a placement, timed per operator.

:func:`estimate_result` places the model (:func:`roofline.llm.sizes.place`), builds and compiles the
prefill and decode workloads (:func:`roofline.llm.workload.llm_workload`), evaluates them at each corner of
the device's figures (:func:`roofline.engine.corners.corners_of`) and returns an
:class:`~roofline.llm.result.LLMEstimate`; :func:`estimate` returns its record form (a dict, the JSON of
``roofline llm``). :func:`decode_break_even_batch` solves for the batch at which a decode step turns from
memory- to compute-bound.

Each op is timed by the engine and the times are **summed per operator**, never one roofline over the
whole model. Every estimate also carries three **modes** (:data:`MODES`): the pure roofline (``ideal``)
and the latency-inclusive bound (``latency_bound``), both with every estimated figure at its favourable end
(:attr:`~roofline.vocab.Corner.BEST`), and the ``estimate`` with realistic latency terms at the nominal
figures (:mod:`roofline.engine.latency`) on the device's measured ceilings
(:func:`roofline.hardware.measured.mode_device`); the top-level figures are the estimate's unless ``ideal``. Weights and the KV cache live in the placement's home level (HBM on a GPU, SRAM on a wafer
or tile); a user who forces fewer devices streams from the next level that holds them, or gets a
:class:`~roofline.errors.CapacityError` that says how much is needed.
"""

from __future__ import annotations

from dataclasses import dataclass
from operator import itemgetter
from typing import Mapping

import math

from .. import formulas
from ..dtypes import compute_dtype, elementwise_dtype, peak_dtype
from ..engine.cache import evaluators, on_clear_memory
from ..engine.corners import corners_of, ranged
from ..engine.layout import N_LATENCY
from ..engine.scalar import Corners, Kernel
from ..errors import InputError
from ..hardware.device import Device
from ..hardware.library import get_device
from ..hardware.measured import device_for, mode_device
from ..hardware.prices import get_price
from ..placement.layout import Placement
from ..vocab import Corner, IdentityMemo, Mode, Phase, Ranged, Record
from .config import ModelConfig
from .loader import get_model
from .precision import Precision
from .result import LLMEstimate
from .sizes import kv_cache_bytes, place, place_again, weights_bytes
from .speculative import Speculation, SpeculativePlacement, corner_fields, place_speculative, result_fields
from .workload import llm_workload

__all__ = ['estimate', 'estimate_result', 'decode_break_even_batch', 'step_batch', 'MODES']

#: Each mode and the corner of the device's ranges it is evaluated at: a bound at the favourable end of
#: every range, the estimate at the nominal figures.
MODES: tuple[tuple[Mode, Corner], ...] = ((Mode.IDEAL, Corner.BEST), (Mode.LATENCY_BOUND, Corner.BEST),
                                         (Mode.ESTIMATE, Corner.NOMINAL))


# ------------------------------------------------------------------------------------------------------
# evaluation of one phase at one corner
# ------------------------------------------------------------------------------------------------------
def _compiled(model, device: Device, phase, prec, placement: Placement, ideal, overlap):
    """The lambdified decode or prefill workload for this placement, from memory, the disk cache, or built
    (one function for every mode: ``ideal`` is not part of it).

    One device's step does not depend on the replicas or the micro-batches in flight (:attr:`Parallelism.step`),
    so those stay out of the key."""
    entry = _bound(model, device, phase, prec, placement, overlap)
    if entry.evaluators != evaluators():  # numba turned on or off since: the array path follows
        entry.cw, entry.evaluators = _build_compiled(model, device, phase, prec, placement, overlap), evaluators()
        entry.kernels.clear()
    return entry.cw


def _build_compiled(model, device: Device, phase, prec, placement: Placement, overlap):
    """:func:`_compiled` through the compiled-function cache (its key spelled out in full)."""
    from ..engine.cache import cached_compile, device_signature
    from ..engine.compiled import compile_workload

    par = placement.parallel.step
    key = (f"llm|{model!r}|{phase}|{prec!r}|{par!r}|{sorted(placement.links.items())!r}|"
           f"{device_signature(device)}|{overlap}")

    def build():
        wl = llm_workload(model, phase, prec, par, placement.links)
        return compile_workload(wl, device, overlap, False, placement.links)

    return cached_compile(key, build)


def step_batch(par, batch):
    """Sequences one attention group runs in one micro-batch when ``batch`` are in flight in layout ``par``
    (the workload's shape ``b``): the batch shared out over the replicas, the attention groups of a stage
    and the micro-batches.

    Parameters
    ----------
    par : Parallelism
        The layout.
    batch : float or ndarray
        Sequences in flight in the whole layout [1].

    Returns
    -------
    float or ndarray
        [1]; fractional when the batch does not divide evenly (the mean, which favours the device).
    """
    share = par.groups * par.micro_batches
    return batch / share if share > 1 else batch


class _Bound:
    """A compiled phase for one model, device, placement and overlap, held in process memory: its figures
    in argument order at each corner asked for, and the scalar evaluator's results of the configurations
    asked for (every mode of one configuration comes from one call). All of it is pure: the model and
    device are immutable, so their identity (checked, not only their ``id``) and the layout name the entry."""

    __slots__ = ("model", "device", "home", "cw", "kernels", "points", "evaluators")

    def __init__(self, model, device: Device, home: int, cw, evals: str):
        self.model, self.device, self.home, self.cw, self.evaluators = model, device, home, cw, evals
        self.kernels: dict = {}
        self.points: dict = {}

    def point(self, which, values: tuple, keep: bool = True):
        """The scalar evaluator's :class:`~roofline.engine.scalar.Point` at ``values`` (the shapes) and
        corner ``which``, or None where it does not apply; ``keep``: remember it (an estimate's own points
        are remembered by the estimate, :func:`_phase`)."""
        key = (which, values)
        hit = self.points.get(key)
        if hit is not None:
            return hit
        kernel = self.kernels.get(which, False)
        if kernel is False:
            kernel = self.kernels[which] = self._kernel(which)
        pt = kernel(values) if kernel is not None else None
        if pt is not None and keep:
            if len(self.points) >= _POINTS_PER_ENTRY:
                self.points.clear()
            self.points[key] = pt
        return pt

    def _kernel(self, which, lean=None):
        """The scalar evaluator with the figures of corner ``which`` bound, or None (the entry has none);
        ``lean``: the lean one that keeps these modes only (:class:`~roofline.engine.scalar.Kernel`)."""
        cw = self.cw
        if not cw.scalar_source:
            return None
        vals = self.device.values(which)
        return Kernel(cw.scalar_source, f"<roofline scalar: {cw.name}>", [vals[p] for p in cw.device_paths],
                      [vals[f"memory.{lvl.name}.capacity"] for lvl in self.device.memory], 1.0, self.home,
                      cw.layout, cw.labels, lean)


#: process-memory entries of :func:`_bound` (a bound on memory, not a tuning knob)
_MAX_BOUND, _POINTS_PER_ENTRY = 512, 256
_BOUND = IdentityMemo(_MAX_BOUND)
_BY_ID = IdentityMemo(_MAX_BOUND)


def _bound(model, device: Device, phase, prec, placement: Placement, overlap) -> _Bound:
    """The :class:`_Bound` entry of this phase, model, device and placement (built once per process).

    Looked up first by the identity of the objects (one estimate asks sixteen times with the same ones),
    then by value (another placement object of the same layout shares the entry)."""
    ident, held = (id(model), id(device), id(placement), id(prec), phase, overlap), (model, device, placement, prec)
    hit = _BY_ID.recall(ident, held)
    if hit is not None:
        return hit
    return _BY_ID.remember(ident, held, _bound_by_value(model, device, phase, prec, placement, overlap))


def _bound_by_value(model, device: Device, phase, prec, placement: Placement, overlap) -> _Bound:
    key = (id(model), id(device), phase, prec, placement.parallel, placement.home, tuple(placement.links.items()),
           overlap)
    hit = _BOUND.recall(key, (model, device))
    if hit is not None:
        return hit
    return _BOUND.remember(key, (model, device), _Bound(
        model, device, placement.home, _build_compiled(model, device, phase, prec, placement, overlap), evaluators()))


def _one(model, device, phase, prec, placement, shapes, mode, overlap, which, detail) -> dict | None:
    """:func:`_run` at one configuration through the scalar evaluator, or None where it does not apply.

    An estimate asks for the same configuration in several modes: the first ask evaluates every mode
    (:class:`~roofline.engine.scalar.Point`), the others find it by the identity of the objects asked with."""
    try:
        key, held = (id(model), id(device), id(placement), id(prec), phase, overlap, which, *shapes.values()), \
            (model, device, placement, prec)
        hit = _HOT.recall(key, held)
    except TypeError:  # an array among the shapes
        return None
    if hit is not None:
        return hit.mode(mode, detail)
    pt = _point(model, device, phase, prec, placement, shapes, overlap, which)
    if pt is None:
        return None
    return _HOT.remember(key, held, pt).mode(mode, detail)


#: the last configurations asked, by the identity of the objects asked with (each entry holds them)
_HOT = IdentityMemo(4 * _POINTS_PER_ENTRY)


def _point(model, device, phase, prec, placement, shapes, overlap, which, keep=True, entry=None):
    """The scalar evaluator's :class:`~roofline.engine.scalar.Point` of ``shapes``, or None (``keep``:
    :meth:`_Bound.point`; ``entry``: :func:`_bound`'s, when already found)."""
    entry = entry or _bound(model, device, phase, prec, placement, overlap)
    values = []
    for n in entry.cw.shape_names:
        v = shapes[n]
        if type(v) is not int and type(v) is not float:
            return None
        values.append(v)
    return entry.point(which, tuple(values), keep)


def _phase(asked: dict, model, device, phase, prec, placement, shapes, mode, overlap, which, detail=False) -> dict:
    """:func:`_run` at one configuration of an estimate, each point evaluated once: ``asked`` holds the
    estimate's points so far (the top-level corners and the modes ask for the same ones), by the identity of
    the devices it asks with (they live as long as the estimate). Without ``detail`` only ``time_s`` and
    ``bound``, which is all an estimate reads of a record other than the nominal one."""
    if not isinstance(mode, str):  # the old flag, as in _run
        mode = Mode.IDEAL if mode else Mode.ESTIMATE
    key = (id(device), phase, which, *shapes.values())
    pt = asked.get(key, False)
    if pt is False or (pt is not None and pt.covers is not None and not pt.answers(mode, detail)):
        lean = None if detail or pt is not False else _LEAN_OF[mode]  # a lean point first, a full one if asked
        pt = asked[key] = _new_point(asked, model, device, phase, prec, placement, shapes, overlap, which, lean)
    if pt is None:
        return _run(model, device, phase, prec, placement, shapes, mode, overlap, which, detail=detail)
    if detail:
        return pt.mode(mode, True)
    t, bound = pt.time_and_bound(mode)
    return {"time_s": t, "bound": bound}


#: the lean scalar evaluator (:func:`roofline.engine.scalar.lean_source`) that answers each mode
_LEAN_OF = {Mode.ESTIMATE: "estimate", Mode.IDEAL: "bounds", Mode.LATENCY_BOUND: "bounds"}


def _new_point(asked: dict, model, device, phase, prec, placement, shapes, overlap, which, lean=None):
    """:func:`_point` of a configuration an estimate has not asked before, its phase's :func:`_bound` entry
    found once per estimate (held in ``asked`` by the device's identity) and not remembered by the entry;
    ``lean``: by the lean evaluator that keeps these modes only (most points of an estimate are read for one
    mode's time and binding term)."""
    entry = asked.get((id(device), phase))
    if entry is None:
        entry = asked[(id(device), phase)] = _bound(model, device, phase, prec, placement, overlap)
    kkey = (which, lean) if lean else which
    kernel = entry.kernels.get(kkey, False)
    if kernel is False:
        kernel = entry.kernels[kkey] = entry._kernel(which, lean)
    if kernel is None:
        return None
    values = []
    for n in entry.cw.shape_names:
        v = shapes[n]
        if type(v) is not int and type(v) is not float:
            return None
        values.append(float(v))  # as NumPy reads them (and float arithmetic runs faster than mixed)
    return kernel(values)


def _clear_memory() -> None:
    """Forget every process-memory entry of this module (called by
    :func:`roofline.engine.cache.clear_memory` too)."""
    for memo in (_HOT, _BOUND, _BY_ID, _CORNERS, _POWER, _PRICED, _FALLBACK, _PRECISION, _RESULTS, _MODE_DEVICES,
                 _PLANS, _PLANS_BY_VALUE):
        memo.clear()


on_clear_memory(_clear_memory)


def _run(model, device, phase, prec, placement, shapes, ideal, overlap, which, device_values=None, detail=False):
    """Evaluate ``phase`` over ``shapes`` (``b`` and ``s`` or ``p``, numbers or arrays) at corner ``which``;
    ``ideal`` is a :class:`~roofline.vocab.Mode` or the old flag (pure roofline or estimate). One
    configuration at the device's own figures runs the scalar evaluator (:func:`_one`)."""
    mode = ideal if isinstance(ideal, str) else (Mode.IDEAL if ideal else Mode.ESTIMATE)  # terms.mode_of
    if not device_values:
        out = _one(model, device, phase, prec, placement, shapes, mode, overlap, which, detail)
        if out is not None:
            return out
    import numpy as np  # grids only: one configuration (above) never loads NumPy

    cw = _compiled(model, device, phase, prec, placement, False, overlap)
    vals = device.values(which)
    if device_values:
        vals.update(device_values)
    caps = [vals[f"memory.{lvl.name}.capacity"] for lvl in device.memory]
    out = cw.evaluate(shapes, vals, caps, devices=1, home=placement.home, detail=detail, mode=mode)
    out["labels"] = cw.labels
    out["bound"] = np.asarray(cw.labels, dtype=object)[out["bound_index"]]
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
    speculation: Speculation | None = None

    @property
    def peak_context(self) -> int:
        """The most tokens a sequence holds in the KV cache at any step [1]."""
        return max(self.context, self.prompt + self.generate)


def _precision(dtype: str) -> Precision:
    """``Precision.of(dtype)``, one object per data type (it is immutable): the evaluations of an estimate
    then find their compiled phase by identity."""
    hit = _PRECISION.get(dtype)
    if hit is None:
        hit = Precision.of(dtype)
        if isinstance(dtype, str) and len(_PRECISION) < 64:
            _PRECISION[dtype] = hit
    return hit


_PRECISION: dict = {}


def _request(m: ModelConfig, batch, context, generate, prompt, ideal, overlap, speculation=None) -> _Request:
    """Check the request's lengths against each other and the model's maximum context."""
    P = int(prompt if prompt is not None else context)
    G = int(generate or 0)
    if not (type(batch) is int and type(context) is int and batch > 0 and context > 0 and P > 0):  # else each
        for name, v in (("batch", batch), ("context", context), ("prompt", P)):
            if isinstance(v, bool) or int(v) != v or v <= 0:
                raise InputError(f"{name} must be a positive integer, got {v!r}")
    if generate is not None and (int(generate) != generate or generate <= 0):
        raise InputError(f"generate must be a positive integer, got {generate!r}")
    if max(context, P + G) > m.max_context:
        raise InputError(f"context {max(context, P + G)} exceeds {m.key}'s maximum of {m.max_context} tokens")
    q = _new(_Request)  # _Request(batch, context, P, G, ideal, overlap, speculation), which checks nothing
    q.__dict__.update(batch=batch, context=context, prompt=P, generate=G, ideal=ideal, overlap=overlap,
                      speculation=speculation)
    return q


def _at_corner(m: ModelConfig, dev: Device, prec: Precision, pl: Placement, q: _Request, corner: Corner,
               spl: SpeculativePlacement | None = None, asked: dict | None = None) -> dict:
    """Prefill, decode step and (with ``generate``) the whole request at one corner of the device (``asked``:
    the estimate's points so far, :func:`_phase`); the prefill's and decode's own records in full at the
    nominal corner (the estimate's terms, FLOPs and bytes are read there).

    A step of one micro-batch crosses every stage (its time is the sum over the stages); with several
    micro-batches in flight the time per output token is the pipeline's cycle
    (:func:`roofline.formulas.pipeline_cycle_time`)."""
    par = pl.parallel
    b = step_batch(par, q.batch)
    cycle = lambda t: formulas.pipeline_cycle_time(t, par.pp, par.micro_batches)  # noqa: E731
    asked, detail = {} if asked is None else asked, corner is Corner.NOMINAL
    pre = _phase(asked, m, dev, Phase.PREFILL, prec, pl, {"b": b, "p": q.prompt}, q.ideal, q.overlap, corner, detail)
    dec = _phase(asked, m, dev, Phase.DECODE, prec, pl, {"b": b, "s": q.context}, q.ideal, q.overlap, corner, detail)
    r = {"ttft_s": float(pre["time_s"]), "tpot_s": float(cycle(dec["time_s"])), "bound": str(dec["bound"]),
         "prefill_bound": str(pre["bound"]), "decode": dec, "prefill": pre}
    if q.generate:
        import numpy as np

        ctxs = q.prompt + np.arange(q.generate)
        steps = _run(m, dev, Phase.DECODE, prec, pl, {"b": b, "s": ctxs}, q.ideal, q.overlap, corner)
        r["request_latency_s"] = r["ttft_s"] + float(np.sum(cycle(steps["time_s"])))
    if spl is not None:  # speculative decoding: draft steps and one verify step replace the decode step
        r.update(corner_fields(m, dev, prec, spl, q.speculation, q.batch, q.context, q.prompt, q.generate,
                               r["ttft_s"], q.ideal, q.overlap, corner))
    return r


def _mode(m: ModelConfig, dev: Device, prec: Precision, pl: Placement, q: _Request, mode: Mode, corner: Corner,
          spl: SpeculativePlacement | None = None, asked: dict | None = None) -> dict:
    """One mode's record: prefill and decode step (or speculative step) at one corner, on ``dev``, the device
    the mode reads (:func:`~roofline.hardware.measured.mode_device`: the estimate's measured ceilings, the
    bounds' datasheet peaks); ``asked``: the estimate's points so far (:func:`_phase`)."""
    asked = {} if asked is None else asked
    pre = _phase(asked, m, dev, Phase.PREFILL, prec, pl, {"b": q.batch, "p": q.prompt}, mode, q.overlap, corner)
    ttft = float(pre["time_s"])
    if spl is not None:
        f = corner_fields(m, dev, prec, spl, q.speculation, q.batch, q.context, q.prompt, 0, ttft, mode, q.overlap,
                          corner)
        ttft, tpot, bound = f["ttft_s"], f["tpot_s"], f["bound"]
    else:
        dec = _phase(asked, m, dev, Phase.DECODE, prec, pl, {"b": q.batch, "s": q.context}, mode, q.overlap, corner)
        tpot, bound = float(dec["time_s"]), str(dec["bound"])
    return {"ttft_s": ttft, "tpot_s": tpot, "tokens_per_s_per_user": 1.0 / tpot, "tokens_per_s": q.batch / tpot,
            "bound": bound, "prefill_bound": str(pre["bound"]), "corner": str(corner)}


def _modes(m: ModelConfig, dev: Device, prec: Precision, pl: Placement, q: _Request,
           spl: SpeculativePlacement | None = None, asked: dict | None = None) -> dict:
    """The three modes (:data:`MODES`); the estimate adds ``<field>_range`` over the device's corners
    (``asked``: the estimate's points so far, :func:`_phase`)."""
    asked = {} if asked is None else asked
    devs, est_dev, ranges = _mode_devices(dev)
    out = {name: _mode(m, mdev, prec, pl, q, mode, corner, spl, asked) for name, mdev, mode, corner in devs}
    if ranges:
        est = out[_ESTIMATE]
        ends = [_mode(m, est_dev, prec, pl, q, Mode.ESTIMATE, c, spl, asked) for c in (Corner.BEST, Corner.WORST)]
        for k, kr in _RANGE_KEYS:
            a, b = ends[0][k], ends[1][k]
            est[kr] = [b, a] if b < a else [a, b]  # sorted([a, b])
    return out


_ESTIMATE = str(Mode.ESTIMATE)
_RANGE_KEYS = tuple((k, f"{k}_range") for k in ("ttft_s", "tpot_s", "tokens_per_s_per_user", "tokens_per_s"))


def _mode_devices(dev: Device) -> tuple:
    """Each mode's name, device (:func:`~roofline.hardware.measured.mode_device`) and corner (:data:`MODES`),
    the estimate's device, and whether it has ranges; asked once per device object (a device is immutable)."""
    hit = _MODE_DEVICES.recall(id(dev), (dev,))
    if hit is None:
        est_dev = mode_device(dev, Mode.ESTIMATE)
        hit = _MODE_DEVICES.remember(id(dev), (dev,), (
            tuple((str(mode), mode_device(dev, mode), mode, corner) for mode, corner in MODES), est_dev,
            _corners(est_dev) != (Corner.NOMINAL,)))
    return hit


_MODE_DEVICES = IdentityMemo(256)


def _corner_records(m: ModelConfig, run: Device, prec: Precision, pl: Placement, q: _Request, spl,
                    asked: dict | None = None) -> dict:
    """The top-level record at each corner ``run`` has (:func:`_corners`; ``asked``: :func:`_phase`)."""
    asked = {} if asked is None else asked
    return {c: _at_corner(m, run, prec, pl, q, c, spl, asked) for c in _corners(run)}


def _corners(dev: Device) -> tuple[Corner, ...]:
    """:func:`~roofline.engine.corners.corners_of` ``dev``, asked once per device object (a device is
    immutable; its figures' bases decide)."""
    hit = _CORNERS.recall(id(dev), (dev,))
    return hit if hit is not None else _CORNERS.remember(id(dev), (dev,), corners_of(dev))


_CORNERS = IdentityMemo(_MAX_BOUND)


def _power(dev: Device):
    """``dev.power_w`` and its figure (None, None without one), asked once per device object."""
    hit = _POWER.recall(id(dev), (dev,))
    if hit is None:
        power = dev.power_w
        hit = _POWER.remember(id(dev), (dev,), (power, dev.figures["power.tdp"] if power else None))
    return hit


_POWER = IdentityMemo(_MAX_BOUND)


def _terms(run: dict) -> dict[str, float]:
    """Time of each term [s], by its text label."""
    return {lbl: float(x) for lbl, x in zip(run["labels"], run["term_times"])}


def _price(dev: Device, price) -> tuple[Ranged | None, str | None]:
    """The price of one device-hour [USD/h]: given (one number, or a number per device key), or the price
    table's (value, cheapest, dearest)."""
    if price is not None and isinstance(price, Mapping):
        price = price.get(dev.key)
    if price is not None:
        if isinstance(price, bool) or not isinstance(price, (int, float)) or not math.isfinite(price) or price <= 0:
            raise InputError(f"price must be a positive number of USD per device-hour, got {price!r}")
        return Ranged(float(price), float(price), float(price)), "given"
    p = get_price(dev.key)
    if p is None:
        return None, None
    hit = _PRICED.recall(id(p), (p,))  # a price object is immutable; a new table gives new ones
    return hit if hit is not None else _PRICED.remember(id(p), (p,), (Ranged(p.value, p.low, p.high), p.describe()))


_PRICED = IdentityMemo(_MAX_BOUND)


def _costs(power_of: tuple, n: int, usd: Ranged | None, tpot: Ranged, tps: Ranged, batch) -> tuple:
    """Energy per token, cost per million tokens and tokens/s per MW on ``n`` devices, each at the nominal
    figures and at its corners (each None where the power or the price is missing): the lowest power and the
    cheapest price with the fastest step are the best corner. ``power_of``: :func:`_power`'s answer."""
    power, pf = power_of
    usd_mt = None if usd is None else _ranged(formulas.usd_per_million_tokens(usd.nominal, n, tps.nominal),
                                             formulas.usd_per_million_tokens(usd.best, n, tps.best),
                                             formulas.usd_per_million_tokens(usd.worst, n, tps.worst))
    if not power:
        return None, usd_mt, None
    e, r = formulas.energy_per_token, formulas.tokens_per_s_per_mw
    b, w = tpot.best, tpot.worst
    return (_ranged(e(power, n, tpot.nominal, batch), e(pf.low, n, min(b, w), batch),  # tpot.low and tpot.high
                    e(pf.high, n, max(b, w), batch)),
            usd_mt, _ranged(r(tps.nominal, power, n), r(tps.best, pf.low, n), r(tps.worst, pf.high, n)))


def _fallback(dev: Device, prec: Precision) -> dict[str, str]:
    """The data types this model's ops compute in that ``dev`` runs at another type's peak."""
    key = (id(dev), prec)
    hit = _FALLBACK.recall(key, (dev,))
    return dict(hit if hit is not None else _FALLBACK.remember(key, (dev,), _fallback_of(dev, prec)))


_FALLBACK = IdentityMemo(_MAX_BOUND)


def _fallback_of(dev: Device, prec: Precision) -> dict[str, str]:
    used = (compute_dtype(prec.weights, prec.activations), compute_dtype(prec.activations, prec.kv),
            elementwise_dtype(prec.activations))
    return {d: peak_dtype(d, dev.compute) for d in dict.fromkeys(used)
            if peak_dtype(d, dev.compute) not in (d, None)}


def _request_fields(q: _Request, corners: dict) -> dict:
    """The whole request's latency and rates (empty without ``generate``)."""
    if not q.generate:
        return {}
    lat = ranged(corners, "request_latency_s")
    return {"generate": q.generate, "request_latency_s": lat,
            "request_tokens_per_s_per_user": q.generate / lat.nominal,
            "request_tokens_per_s": q.batch * q.generate / lat.nominal}


def _placements(m: ModelConfig, dev: Device, prec: Precision, q: _Request, devices, tp, pp, layout: dict):
    """The target's placement and, with speculation, the draft's (the target's devices then hold both)."""
    if q.speculation is None:
        return place_again(m, dev, prec, q.batch, q.peak_context, devices, tp, pp, **layout), None
    if any(v is not None for v in layout.values()):
        raise InputError("speculative decoding is estimated on tensor- and pipeline-parallel layouts only: "
                         "drop --dp, --ep, --attention, --micro-batches and --imbalance")
    spl = place_speculative(m, dev, prec, q.speculation, q.batch, q.peak_context, devices, tp, pp)
    return spl.target, spl


def _result(m: ModelConfig, dev: Device, prec: Precision, pl: Placement, q: _Request, corners: dict,
            spl: SpeculativePlacement | None = None, price=None, priced=None, asked: dict | None = None) -> LLMEstimate:
    """Gather the corners' results into an :class:`LLMEstimate` (``asked``: the points the corners evaluated,
    which the modes share, :func:`_phase`)."""
    nom = corners[Corner.NOMINAL]
    tpot = ranged(corners, "tpot_s")
    tps = tpot.map(lambda t: q.batch / t)
    dec, pre = nom["decode"], nom["prefill"]
    usd, source = priced or _price(dev, price)
    energy, usd_mt, per_mw = _costs(_power(dev), pl.devices + (spl.own_devices if spl else 0), usd, tpot, tps,
                                    q.batch)
    return LLMEstimate.of(
        model=m.key, device=dev.key, weight_dtype=prec.weights, activation_dtype=prec.activations, kv_dtype=prec.kv,
        batch=q.batch, context=q.context, prompt=q.prompt, ideal=q.ideal, overlap=q.overlap,
        devices_used=pl.devices, tp=pl.parallel.tp, pp=pl.parallel.pp, placement="forced" if pl.forced else "auto",
        weights_level=pl.level, weights_bytes=weights_bytes(m, prec),
        kv_cache_bytes=float(kv_cache_bytes(m, prec, q.batch, q.peak_context)),
        resident_bytes_per_device=pl.resident_bytes_per_device,
        capacity_bytes_per_device=dev.memory[pl.home].capacity_bytes, links=dict(pl.links),
        ttft_s=ranged(corners, "ttft_s"), tpot_s=tpot,
        tokens_per_s_per_user=tpot.map(lambda t: 1.0 / t), tokens_per_s=tps,
        bound=nom["bound"], prefill_bound=nom["prefill_bound"],
        energy_per_token_j=energy, usd_per_million_tokens=usd_mt, tokens_per_s_per_mw=per_mw,
        price_usd_per_device_hour=usd, price_source=source,
        decode_terms_s=_terms(dec), prefill_terms_s=_terms(pre),
        decode_flops=float(dec["flops"]), decode_bytes=float(dec["bytes"]),
        prefill_flops=float(pre["flops"]), prefill_bytes=float(pre["bytes"]),
        compute_fallback=_fallback(dev, prec),
        **_request_fields(q, corners), **_layout_fields(pl),
        **(result_fields(q.speculation, spl, corners) if spl is not None else {}),
        modes=_modes(m, dev, prec, pl, q, spl, asked))


def _layout_fields(pl: Placement) -> dict:
    par = pl.parallel
    return {"dp": par.dp, "ep": par.ep, "attention": str(par.attention), "micro_batches": par.micro_batches,
            "imbalance": par.imbalance}


# ------------------------------------------------------------------------------------------------------
# the direct path: a new question on a layout asked before, its records built straight from its points
# ------------------------------------------------------------------------------------------------------
#: estimates without speculation or ``generate`` take the direct path (:func:`_direct`); False: every
#: estimate takes the general one (:func:`_corner_records`, :func:`_modes`, :func:`_result`), which the
#: tests compare it with
DIRECT = True


class _Plan:
    """What every question on one layout shares (:func:`_plan`): the calls that evaluate its distinct points,
    each with the positions of its shapes in ``(step batch, batch, prompt, context)`` (:func:`_eight_points`),
    which points each corner and mode reads, and the estimate's fields that do not depend on the question."""

    __slots__ = ("calls", "pick", "labels", "nominal", "ends", "modes", "ranges", "ranges_are_ends", "run_index",
                 "share", "pp", "micro_batches", "template", "fallback", "power", "n")


def _plan(m: ModelConfig, dev: Device, prec: Precision, pl: Placement, q: _Request) -> _Plan | None:
    """The :class:`_Plan` of this model, device, precision and layout (None: the direct path does not apply),
    made once per layout: found by the identity of the parallelism object (a forced layout placed again keeps
    its own), else by its value (a layout searched again is a new object)."""
    par, ideal, links = pl.parallel, bool(q.ideal), tuple(pl.links.items())
    key = (id(m), id(dev), id(prec), id(par), pl.home, links, ideal, q.overlap)
    held = (m, dev, prec, par)
    hit = _PLANS.recall(key, held, _NEVER)
    if hit is _NEVER:
        by_value = (id(m), id(dev), id(prec), par, pl.home, links, ideal, q.overlap)
        hit = _PLANS_BY_VALUE.recall(by_value, held[:3], _NEVER)
        if hit is _NEVER:
            hit = _PLANS_BY_VALUE.remember(by_value, held[:3], _new_plan(m, dev, prec, pl, ideal, q.overlap))
        _PLANS.remember(key, held, hit)
    return hit


_PLANS, _PLANS_BY_VALUE = IdentityMemo(_MAX_BOUND), IdentityMemo(_MAX_BOUND)


def _new_plan(m: ModelConfig, dev: Device, prec: Precision, pl: Placement, ideal: bool, overlap) -> _Plan | None:
    """:func:`_plan` made: the points the general path asks for (:func:`_corner_records`, :func:`_modes`),
    each one once, by the device, phase, corner and batch it is asked at, as :func:`_phase` shares them."""
    run, run_mode = device_for(dev, ideal), (Mode.IDEAL if ideal else Mode.ESTIMATE)
    devs, est_dev, ranges = _mode_devices(dev)
    par = pl.parallel
    share = par.groups * par.micro_batches
    step = 0 if share > 1 else 1  # the corners' batch: the step's, which is the whole batch when not shared
    n_run = len(_corners(run))
    # each point asked: its device, corner, batch, mode and whether its time alone is read (the ends of the
    # ranges), or also its binding term (a mode's record, the nominal corner's terms, FLOPs and bytes)
    asks = [(run, c, step, run_mode, c is not Corner.NOMINAL) for c in _corners(run)]
    asks += [(mdev, corner, 1, mode, False) for _, mdev, mode, corner in devs]
    asks += [(est_dev, c, 1, Mode.ESTIMATE, True) for c in ((Corner.BEST, Corner.WORST) if ranges else ())]
    slots: dict = {}
    for d, c, b, mode, time_only in asks:
        for phase in (Phase.PREFILL, Phase.DECODE):
            s = slots.setdefault((id(d), phase, c, b), [d, phase, c, b, set(), True])
            s[4].add(_LEAN_OF[mode])
            s[5] = s[5] and time_only
    points = [_plan_point(m, d, phase, prec, pl, overlap, c, b, _keep(leans, time_only))
              for d, phase, c, b, leans, time_only in slots.values()]
    if None in points:
        return None
    calls, order = _plan_calls(points)
    at = {k: order.index(i) for i, k in enumerate(slots)}  # a point's place in what _eight_points returns
    pairs = [tuple(at[(id(d), phase, c, b)] for phase in (Phase.PREFILL, Phase.DECODE)) for d, c, b, _, _ in asks]
    plan = _Plan()
    plan.calls, plan.nominal, plan.ends = calls, pairs[0], (pairs[1:3] if n_run > 1 else None)
    plan.labels = tuple(points[i][2].labels for i in order)
    plan.pick = tuple(itemgetter(*at) for _, at, _ in calls) \
        if len(calls) == 2 and all(many and len(at) > 1 for _, at, many in calls) else None
    plan.run_index, plan.share, plan.pp, plan.micro_batches = _RAW_INDEX[run_mode], share, par.pp, par.micro_batches
    plan.modes = tuple((name, *pairs[n_run + i], _RAW_INDEX[mode], str(corner),
                        None if (pairs[n_run + i], _RAW_INDEX[mode]) == (pairs[0], plan.run_index) else _LAT[mode])
                       for i, (name, _, mode, corner) in enumerate(devs))  # None: read as the nominal corner's
    plan.ranges = pairs[n_run + len(devs):] or None
    plan.ranges_are_ends = plan.ranges == plan.ends and plan.run_index == _RAW_INDEX[Mode.ESTIMATE]
    plan.power, plan.n = _power(dev), pl.devices
    plan.template, plan.fallback = _template(_fixed_fields(m, dev, prec, pl)), _fallback(dev, prec)
    return plan


#: a mode's position among the totals of a :class:`~roofline.engine.scalar.Point`'s ``raw`` (the order of
#: :meth:`Point.time_and_bound <roofline.engine.scalar.Point.time_and_bound>`'s)
_RAW_INDEX = {Mode.IDEAL: 0, Mode.LATENCY_BOUND: 1, Mode.ESTIMATE: 2}

#: where a mode's latency per term sits in a :class:`~roofline.engine.scalar.Point`'s ``raw`` (0: none)
_LAT = {Mode.IDEAL: 0, Mode.LATENCY_BOUND: 7, Mode.ESTIMATE: 6}


def _fixed_fields(m: ModelConfig, dev: Device, prec: Precision, pl: Placement) -> dict:
    """The fields of an estimate on this layout that no question changes."""
    par = pl.parallel
    return {"model": m.key, "device": dev.key, "weight_dtype": prec.weights, "activation_dtype": prec.activations,
            "kv_dtype": prec.kv, "devices_used": par.devices, "tp": par.tp, "pp": par.pp, "weights_level": pl.level,
            "weights_bytes": weights_bytes(m, prec), "capacity_bytes_per_device": dev.memory[pl.home].capacity_bytes,
            "generate": 0, "request_latency_s": None, "request_tokens_per_s_per_user": None,
            "request_tokens_per_s": None, "tokens_per_step": None, "draft_time_s": None, "verify_time_s": None,
            "speculation": None, "dp": par.dp, "ep": par.ep, "attention": str(par.attention),
            "micro_batches": par.micro_batches, "imbalance": par.imbalance}


def _keep(leans: set, time_only: bool) -> str | None:
    """What a plan's point keeps (:class:`~roofline.engine.scalar.Kernel`'s ``lean``): the one lean evaluator
    that answers every mode it is read for (its binding term and terms included: the direct path reads a
    point's terms, FLOPs and bytes from the binding times, latencies and totals a lean point keeps, never the
    work terms' totals), the estimate's total alone where only that is read, or None (every mode)."""
    if len(leans) > 1:
        return None
    lean = next(iter(leans))
    return "estimate_time" if time_only and lean == "estimate" else lean


def _plan_point(m, d: Device, phase, prec, pl: Placement, overlap, corner, b: int, lean: str | None):
    """One point of a :class:`_Plan`: the scalar kernel of ``phase`` at ``corner`` of ``d`` that keeps ``lean``
    (:func:`_keep`), the positions of its shapes, its compiled phase and what it keeps, or None."""
    entry = _bound(m, d, phase, prec, pl, overlap)
    kkey = (corner, lean) if lean else corner
    kernel = entry.kernels.get(kkey, False)
    if kernel is False:
        kernel = entry.kernels[kkey] = entry._kernel(corner, lean)
    at = {"b": b, "p": 2} if phase is Phase.PREFILL else {"b": b, "s": 3}
    if kernel is None or not set(entry.cw.shape_names) <= at.keys():
        return None
    return kernel, tuple(at[n] for n in entry.cw.shape_names), entry.cw, lean


def _plan_calls(points: list) -> tuple[tuple, list]:
    """The calls that evaluate a plan's points (:func:`_plan_point`'s), and the order of the points they return:
    one :class:`~roofline.engine.scalar.Corners` call for the points of one phase at one batch whose devices
    compile to the same scalar function (the corners of an estimate's device and its datasheet's best), each
    other point by its own kernel. A call is ``(function, positions of the shapes, whether it returns a
    list)``; the function returns raw outputs (:attr:`Point.raw <roofline.engine.scalar.Point.raw>`)."""
    groups: dict = {}
    for i, (_, at, cw, _) in enumerate(points):
        groups.setdefault((at, cw.scalar_source, cw.labels), []).append(i)
    calls, order = [], []
    for (at, source, labels), members in groups.items():
        kernels = [points[i][0] for i in members]
        layout = kernels[0].layout
        if len(members) > 1 and all(k.layout == layout for k in kernels):
            calls.append((Corners(source, f"<roofline scalar: {points[members[0]][2].name}>", [k.tail for k in kernels],
                                  [points[i][3] for i in members], layout, labels).raws, at, True))
        else:
            calls += [(k.raw, at, False) for k in kernels]
        order += members
    return tuple(calls), order


def _eight_points(plan: _Plan, shapes: tuple) -> list | None:
    """The raw outputs (:attr:`Point.raw <roofline.engine.scalar.Point.raw>`) of every distinct point of an
    estimate (eight on a device with ranges: prefill and decode at its three corners and at the datasheet's
    best), in the plan's order (their labels: :attr:`_Plan.labels`), or None where one does not apply (the
    general path then runs NumPy there). ``shapes``: ``(step batch, batch, prompt, context)`` as floats. One
    call per phase where its corners share a scalar function (:func:`_plan_calls`)."""
    calls = plan.calls
    if plan.pick is not None:  # the usual plan: one call per phase, each of two shapes or more
        (f0, _, _), (f1, _, _) = calls
        p0, p1 = plan.pick
        out = [*f0(p0(shapes)), *f1(p1(shapes))]
    else:
        out = []
        for fn, at, many in calls:
            if many:
                out += fn([shapes[i] for i in at])
            else:
                out.append(fn([shapes[i] for i in at]))
    return None if None in out else out


def _direct(m: ModelConfig, dev: Device, prec: Precision, pl: Placement, q: _Request, priced) -> LLMEstimate | None:
    """:func:`_made` without speculation or a request, straight from the plan's points (:func:`_plan`); None
    where the direct path does not apply (the caller then takes the general path)."""
    plan = _plan(m, dev, prec, pl, q)
    batch, context, prompt = q.batch, q.context, q.prompt
    if plan is None or not (type(batch) in _FLOATS and type(context) in _FLOATS and type(prompt) in _FLOATS):
        return None
    share = plan.share
    pts = _eight_points(plan, (float(batch / share if share > 1 else batch), float(batch), float(prompt),
                               float(context)))
    if pts is None:
        return None
    (ip, id_), m_run, labels = plan.nominal, plan.run_index, plan.labels
    pre, dec = _detail(pts[ip], labels[ip], m_run), _detail(pts[id_], labels[id_], m_run)
    ends = _end_times(pts, plan.ends, m_run) if plan.ends is not None else None
    ttft, tpot = _direct_times(plan, ends, pre[0], dec[0])
    tpsu = _ranged(1.0 / tpot.nominal, 1.0 / tpot.best, 1.0 / tpot.worst)  # tpot.map(lambda t: 1.0 / t)
    tps = _ranged(batch / tpot.nominal, batch / tpot.best, batch / tpot.worst)
    state = plan.template.copy()  # every field, in field order: the fixed ones set
    state["batch"], state["context"], state["prompt"], state["ideal"] = batch, context, prompt, q.ideal
    state["overlap"], state["placement"] = q.overlap, "forced" if pl.forced else "auto"
    state["kv_cache_bytes"] = float(kv_cache_bytes(m, prec, batch, q.peak_context))
    state["resident_bytes_per_device"], state["links"] = pl.resident_bytes_per_device, dict(pl.links)
    state["ttft_s"], state["tpot_s"], state["tokens_per_s_per_user"], state["tokens_per_s"] = ttft, tpot, tpsu, tps
    state["bound"], state["prefill_bound"] = dec[1], pre[1]
    state["energy_per_token_j"], state["usd_per_million_tokens"], state["tokens_per_s_per_mw"] = \
        _costs(plan.power, plan.n, priced[0], tpot, tps, batch)
    state["decode_terms_s"], state["prefill_terms_s"] = dec[2], pre[2]
    state["decode_flops"], state["decode_bytes"], state["prefill_flops"], state["prefill_bytes"] = \
        dec[3], dec[4], pre[3], pre[4]
    state["price_usd_per_device_hour"], state["price_source"] = priced
    state["compute_fallback"] = dict(plan.fallback)
    state["modes"] = _direct_modes(plan, pts, batch, pre, dec, ends)
    return LLMEstimate._of_state(state)


_FLOATS = (int, float)


def _template(fixed: dict) -> dict:
    """Every field of an :class:`LLMEstimate` in field order (its record's order): the fixed ones' values,
    None for the others (:func:`_direct` sets each)."""
    from dataclasses import fields

    return {f.name: fixed.get(f.name) for f in fields(LLMEstimate)}


def _detail(raw: tuple, labels: tuple, m: int) -> tuple:
    """A point's record in mode ``m`` (its position in the point's totals, :data:`_RAW_INDEX`) with each term's
    time: ``(time_s, bound, terms, flops, bytes)``, what :meth:`Point.mode(mode, True)
    <roofline.engine.scalar.Point.mode>` and :func:`_terms` give, read from the point's outputs ``raw`` in one
    step (the binding term is the first of the largest times, as there; every time is a float: the generated
    ``point`` starts each sum at ``0.0``)."""
    flops, nbytes, _, fits, totals, acc, est, bnd, _ = raw
    times = acc + list(_NO_LATENCY if m == 0 else (bnd if m == 1 else est))
    bi = times.index(max(times))  # max keeps the first of equal times, as NumPy's argmax; index finds it first
    return (totals[m] if fits else _NAN), str(labels[bi]), dict(zip(labels, times)), float(flops), float(nbytes)


_NO_LATENCY = (0.0,) * N_LATENCY


def _ranged(nominal: float, best: float, worst: float) -> Ranged:
    """``Ranged(nominal, best, worst)`` without the frozen dataclass's ``object.__setattr__`` per field (an
    estimate makes seven; :class:`~roofline.vocab.Ranged` checks nothing)."""
    r = _new(Ranged)
    state = r.__dict__
    state["nominal"], state["best"], state["worst"] = nominal, best, worst
    return r


_new = object.__new__
_NAN = math.nan


def _end_times(pts: list, ends: tuple, m: int) -> tuple:
    """The prefill's and the decode step's times in mode ``m`` at the best and the worst corner (``ends``: the
    positions of their points, prefill and decode at each), as floats: a point's time in a mode is its total
    there where the working set fits, else NaN (:meth:`Point.time_and_bound
    <roofline.engine.scalar.Point.time_and_bound>`)."""
    (bp, bd), (wp, wd) = ends
    rbp, rbd, rwp, rwd = pts[bp], pts[bd], pts[wp], pts[wd]
    return (float(rbp[4][m] if rbp[3] else _NAN), float(rbd[4][m] if rbd[3] else _NAN),
            float(rwp[4][m] if rwp[3] else _NAN), float(rwd[4][m] if rwd[3] else _NAN))


def _direct_times(plan: _Plan, ends: tuple | None, t_pre, t_dec) -> tuple[Ranged, Ranged]:
    """Time to first token and per output token at the corners of the device the top level reads (what
    :func:`_at_corner` and :func:`~roofline.engine.corners.ranged` make of the points): ``t_pre`` and
    ``t_dec`` at the nominal corner, each other corner's from :func:`_end_times` (None: no range)."""
    cycle, pp, mb = formulas.pipeline_cycle_time, plan.pp, plan.micro_batches
    ttft, tpot = float(t_pre), float(cycle(t_dec, pp, mb))
    if ends is None:
        return _ranged(ttft, ttft, ttft), _ranged(tpot, tpot, tpot)
    bp, bd, wp, wd = ends
    return _ranged(ttft, bp, wp), _ranged(tpot, float(cycle(bd, pp, mb)), float(cycle(wd, pp, mb)))


def _direct_modes(plan: _Plan, pts: list, batch, pre: tuple, dec: tuple, ends: tuple | None) -> dict:
    """The three modes' records from an estimate's points (what :func:`_modes` makes of them): each mode's time
    and binding term read from its points' outputs as :meth:`Point.time_and_bound
    <roofline.engine.scalar.Point.time_and_bound>` reads them (the first term with the largest time), or from
    ``pre`` and ``dec`` (:func:`_detail` of the nominal corner's points) where the mode reads those points in
    the top level's mode; the ranges from ``ends`` (:func:`_end_times`) where they are the top level's."""
    out, labels = {}, plan.labels
    for name, pi, di, m, corner, lat in plan.modes:
        if lat is None:
            ttft, tpot, bound, prefill_bound = float(pre[0]), float(dec[0]), dec[1], pre[1]
        else:
            rp, rd = pts[pi], pts[di]
            tp, td = [*rp[5], *(rp[lat] if lat else _NO_LATENCY)], [*rd[5], *(rd[lat] if lat else _NO_LATENCY)]
            ttft, tpot = float(rp[4][m] if rp[3] else _NAN), float(rd[4][m] if rd[3] else _NAN)
            bound, prefill_bound = str(labels[di][td.index(max(td))]), str(labels[pi][tp.index(max(tp))])
        out[name] = {"ttft_s": ttft, "tpot_s": tpot, "tokens_per_s_per_user": 1.0 / tpot,
                     "tokens_per_s": batch / tpot, "bound": bound, "prefill_bound": prefill_bound, "corner": corner}
    if plan.ranges:
        bp, bd, wp, wd = ends if plan.ranges_are_ends else _end_times(pts, plan.ranges, 2)  # the estimate's
        est = out[_ESTIMATE]
        for (_, kr), a, b in zip(_RANGE_KEYS, (bp, bd, 1.0 / bd, batch / bd), (wp, wd, 1.0 / wd, batch / wd)):
            est[kr] = [b, a] if b < a else [a, b]
    return out


# ------------------------------------------------------------------------------------------------------
# the public entry points
# ------------------------------------------------------------------------------------------------------
def estimate_result(model: str | ModelConfig, device: str | Device, batch: int = 1, context: int = 2048,
                    generate: int | None = None, prec: Precision | None = None, dtype: str = "bf16",
                    devices: int | None = None, tp: int | None = None, pp: int | None = None, ideal: bool = False,
                    overlap: str = "max", prompt: int | None = None,
                    price: float | Mapping[str, float] | None = None,
                    speculation: Speculation | None = None, **layout) -> LLMEstimate:
    """Prefill of ``prompt`` (default ``context``) tokens and a decode step at ``context``, on a placement;
    with ``speculation`` a speculative decode step (:mod:`roofline.llm.speculative`).

    Parameters
    ----------
    model : str or ModelConfig
        A model key, alias or file path, or a model.
    device : str or Device
        A device key or alias, or a device.
    batch : int
        Sequences in flight in the whole system [1].
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
        Leave out latency and overhead terms (a pure roofline, datasheet peaks); else the estimate (ceilings).
    overlap : str
        ``max`` (terms overlap: the roofline) or ``sum`` (no overlap).
    prompt : int, optional
        Prompt tokens per sequence for the prefill [1]; default ``context``.
    price : float or mapping of str to float, optional
        Rental price of one device for one hour [USD/h] (or one per device key); default the price table's.
    speculation : Speculation, optional
        Speculative decoding (:meth:`Speculation.of <roofline.llm.speculative.Speculation.of>`).
    **layout
        ``dp``, ``ep``, ``attention``, ``micro_batches``, ``imbalance`` (:func:`roofline.placement.place`).

    Returns
    -------
    LLMEstimate
        Times, rates, bounds and the placement; cost (USD per million tokens, tokens/s per MW); ranges
        (``best``, ``worst``) for an estimate-based device or a price range; with speculation also
        ``tokens_per_step``, ``draft_time_s`` and ``verify_time_s``.

    Raises
    ------
    InputError, CapacityError
        A non-positive length, a context beyond the model's maximum, a price that is not positive; a forced
        layout that cannot hold the model.
    """
    m, dev = get_model(model), get_device(device)
    prec = prec or _precision(dtype)
    q = _request(m, batch, context, generate, prompt, ideal, overlap, speculation)
    priced = _price(dev, price)  # a bad price is refused before any work
    return _remembered((m, dev, prec), _result_key(m, dev, prec, q, priced, (devices, tp, pp), layout),
                       lambda: _made(m, dev, prec, *_placements(m, dev, prec, q, devices, tp, pp, layout), q, price,
                                     priced))


def _made(m: ModelConfig, dev: Device, prec: Precision, pl: Placement, spl, q: _Request, price, priced) -> LLMEstimate:
    """An estimate made on its placement: the corners, then the modes, each point of the phases evaluated once
    (:func:`_phase`), or the direct path's (:func:`_direct`)."""
    if DIRECT and spl is None and not q.generate:
        hit = _direct(m, dev, prec, pl, q, priced or _price(dev, price))
        if hit is not None:
            return hit
    asked: dict = {}
    corners = _corner_records(m, device_for(dev, q.ideal), prec, pl, q, spl, asked)
    return _result(m, dev, prec, pl, q, corners, spl, price, priced, asked)


def _remembered(held: tuple, key: tuple | None, make) -> LLMEstimate:
    """The estimate of ``key`` from :data:`_RESULTS` (a copy), or ``make()``'s; ``held``: the objects the key
    names by identity (the entry holds them, so their ids are not reused while it lives). A question is
    remembered the second time it is asked: one asked once (an optimiser's or a layout search's new
    configuration) costs no copy, one asked again is answered from memory from then on."""
    try:
        hit = _RESULTS.recall(key, held, _NEVER) if key is not None else _NEVER
    except TypeError:  # a part of the key that does not hash: not remembered
        key, hit = None, _NEVER
    if hit is not None and hit is not _NEVER:
        return _fresh_copy(hit)
    result = make()
    if key is not None:
        _RESULTS.remember(key, held, None if hit is _NEVER else _fresh_copy(result))
    return result


def _result_key(m, dev, prec, q: _Request, priced, forced: tuple, layout: dict) -> tuple | None:
    """The key of an estimate in :data:`_RESULTS`: the identity of the (immutable) model, device and precision,
    the request's figures with the types of the numbers asked (``batch=1.0`` is recorded as a float), the price
    (its figures and source) and the layout asked (``forced``: devices, ``tp`` and ``pp``; ``layout``: the rest),
    as :func:`~roofline.llm.sizes.place` keys a placement; None with speculation (its placement is made anew
    each time, so such an entry would never be found). Plain numbers and strings only, which hash fast (a key
    is hashed on each look-up); :func:`_remembered` drops one that does not hash."""
    if q.speculation is not None:
        return None
    usd, source = priced
    d = q.__dict__
    return (id(m), id(dev), id(prec), d["batch"], d["context"], d["prompt"], d["generate"], d["ideal"], d["overlap"],
            type(d["batch"]), type(d["context"]), type(d["ideal"]), type(d["overlap"]),
            None if usd is None else (usd.nominal, usd.best, usd.worst), source,
            forced, tuple(sorted(layout.items())), *map(type, forced))


def _fresh_copy(result: LLMEstimate) -> LLMEstimate:
    """A copy of ``result`` that shares no mutable part with it: its mappings (and the mode records in
    ``modes``, with their range lists) are new; its numbers, strings and ranges are immutable."""
    out = object.__new__(LLMEstimate)
    state = out.__dict__
    state.update(result.__dict__)
    for name, value in state.items():
        if type(value) is dict:
            state[name] = value = dict(value)
            for k, v in value.items():
                if type(v) is dict:
                    value[k] = {kk: (list(vv) if type(vv) is list else vv) for kk, vv in v.items()}
                elif type(v) is list:
                    value[k] = list(v)
    return out


#: whole estimates already made (each entry holds the objects its key names by identity, and a copy of the
#: result no caller holds, or None for a question asked once); the objects are immutable and every figure the
#: estimate reads is theirs, so the same key gives the same result. A new model, device or price table (a file changed) gives new objects.
_MAX_RESULTS = 64
_RESULTS = IdentityMemo(_MAX_RESULTS)
_NEVER = object()  # a question never asked


def estimate(model: str | ModelConfig, device: str | Device, batch: int = 1, context: int = 2048,
             generate: int | None = None, prec: Precision | None = None, dtype: str = "bf16",
             devices: int | None = None, tp: int | None = None, pp: int | None = None, ideal: bool = False,
             overlap: str = "max", prompt: int | None = None,
             price: float | Mapping[str, float] | None = None, speculation: Speculation | None = None,
             **layout) -> dict:
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
    price : float or mapping of str to float, optional
        Rental price of one device for one hour [USD/h] (or one per device key); default the price table's.
    speculation : Speculation, optional
        Speculative decoding: adds ``tokens_per_step`` [1], ``draft_time_s`` and ``verify_time_s`` [s] and
        ``speculation`` (what drafts, how much is accepted).
    **layout
        ``dp``, ``ep``, ``attention``, ``micro_batches``, ``imbalance`` (:func:`estimate_result`).

    Returns
    -------
    dict
        A :class:`~roofline.vocab.Record`: a plain dict that shows as a table in a notebook and has
        ``to_frame()``. ``devices_used``, ``tp``, ``pp``, ``weights_level``, ``weights_bytes`` [B], ``kv_cache_bytes`` [B],
        ``ttft_s`` [s], ``tpot_s`` [s], ``tokens_per_s_per_user`` [1/s], ``tokens_per_s`` [1/s], ``bound``
        (of the decode step), ``prefill_bound``, ``energy_per_token_j`` [J], ...,
        ``price_usd_per_device_hour`` [USD/h], ``price_source``, ``usd_per_million_tokens`` [USD],
        ``tokens_per_s_per_mw`` [1/(s MW)] (None without a price or a power figure), ``compute_fallback``;
        with ``generate`` the
        whole request (``request_latency_s`` and ``request_tokens_per_s_per_user``). An estimate-based
        device adds ``<field>_range = [low, high]`` for each time and rate
        (:meth:`LLMEstimate.to_dict <roofline.llm.result.LLMEstimate.to_dict>`).
    """
    result = estimate_result(model, device, batch, context, generate, prec, dtype, devices, tp, pp, ideal, overlap,
                             prompt, price, speculation, **layout)
    return result._record_into(Record((), result))  # Record(result.to_dict(), result), without the copy


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
    import numpy as np
    import sympy as sp

    from ..engine.terms import split_bytes

    b = next(x for x in wl.symbols if x.name == "b")
    lvl = dev.memory[home]
    t_c = sp.Add(*[op.count * op.flops / dev.symbol(f"compute.{peak_dtype(op.dtype, dev.compute) or op.dtype}.dense")
                   for op in wl.ops])
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

