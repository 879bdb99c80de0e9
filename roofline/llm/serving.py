r"""The throughput a serving system can reach: continuous batching, disaggregated pools, the best layout.

A workload of requests with :math:`I` input and :math:`O` output tokens is served by a machine that keeps
:math:`b` sequences decoding in every step and, under continuous batching, prefills the prompts of the
requests that replace the finished ones in the same steps (:math:`bI/O` prompt tokens per step,
:func:`roofline.formulas.prefill_tokens_per_step`). The ops of one step share the machine, so the step
cannot finish before **every resource** has carried its demand:

.. math::

    t_\text{step}(b) = \max_r \frac{D_r(b)}{R_r}, \qquad
    D = D_\text{decode}(b, \bar s) + D_\text{prefill}(bI/O, I) - \min(W_\text{decode}, W_\text{prefill})

where :math:`D_r/R_r` is the time resource :math:`r` (compute, each memory level, each link) needs, summed
over the ops of one micro-batch's step through every stage (the engine's per-term totals),
:math:`\bar s = I + (O-1)/2` the mean context of a decode step (:func:`roofline.formulas.mean_decode_context`),
and the weight traffic of the prefill is shared with the decode step's (the step reads a weight once for
all its tokens; for a mixture of experts at least the larger of the two sets of touched experts). This is
a roofline of the whole step, not the per-operator sum of :mod:`roofline.llm.inference`: a serving engine
overlaps the compute-bound prefill work with the memory-bound decode work of the same step (chunked
prefill, nano-batching), so only the whole-step form is a bound.

With :math:`m` micro-batches in flight through :math:`p` stages the pipeline's cycle is
:func:`roofline.formulas.pipeline_cycle_time`; one instance of :math:`g` attention groups produces
:math:`g m b` tokens per cycle, and a pool of :math:`N` devices runs :math:`\lfloor N / n_\text{inst} \rfloor`
instances. The batch grows until the weights and the KV cache of every sequence in flight (at its mean
context) fill the main memory, or until a user's speed falls below ``interactivity``.

Disaggregated serving runs prefill on one pool and decode on another, each with its own device type,
count and layout; each request's KV cache crosses from one to the other over the pools' network links, so
the system's rate is the least of the prefill pool's, the decode pool's and the transfer's:

.. math:: X = \min\left(O\,R_\text{prefill},\; X_\text{decode},\; O\,\frac{\min(N_p BW_p, N_d BW_d)}{Q_{KV}(I)}\right)

The bound of a system is the **maximum over the layouts it can express**
(:func:`roofline.placement.layout_candidates`): tensor-parallel degrees inside the fastest link's domain,
data-parallel attention with the experts over the whole stage, pipeline depths with micro-batches, as many
replicas as fit; and, for one device type, every split of the devices into a prefill and a decode pool.
``ideal=True`` evaluates every estimated figure at its favourable end (:attr:`roofline.vocab.Corner.BEST`)
and leaves out latencies: the result is then an upper bound that no measurement may beat.

References
----------
- G.-I. Yu et al., "Orca: A Distributed Serving System for Transformer-Based Generative Models", OSDI 2022
  (continuous, iteration-level batching).
- A. Agrawal et al., "Taming Throughput-Latency Tradeoff in LLM Inference with Sarathi-Serve", OSDI 2024
  (chunked prefill in decode steps).
- K. Zhu et al., "NanoFlow: Towards Optimal Large Language Model Serving Throughput", arXiv:2408.12757,
  2024 (overlapping compute-, memory- and network-bound work of one step; the optimal throughput as a
  resource bound).
- Y. Zhong et al., "DistServe: Disaggregating Prefill and Decoding for Goodput-optimized Large Language Model
  Serving", OSDI 2024; P. Patel et al., "Splitwise: Efficient Generative LLM Inference Using Phase
  Splitting", ISCA 2024.
- DeepSeek-AI, "Day 6: One More Thing, DeepSeek-V3/R1 Inference System Overview", 2025-03-01 (prefill
  EP32/DP32 and decode EP144/DP144 pools).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np

from .. import formulas
from ..errors import CapacityError, InputError
from ..hardware.device import Device
from ..hardware.library import get_device
from ..hardware.measured import device_for
from ..placement.layout import Parallelism, Placement, layout_candidates, link_for, links_for
from ..vocab import Corner, Phase, PoolRole
from .config import ModelConfig
from .inference import _run
from .loader import get_model
from .precision import Precision
from .sizes import ModelDemand, kv_cache_bytes, kv_shards, weights_bytes_per_device
from .workload import llm_workload

__all__ = ["ThroughputResult", "throughput_result", "throughput", "BATCH_POINTS"]

#: Batches tried per layout, log-spaced from one sequence per attention group to the most that fit [1].
BATCH_POINTS = 48


@dataclass(frozen=True)
class _Ask:
    """What is asked: the model, its precision, the request shape and how to evaluate."""

    model: ModelConfig
    prec: Precision
    input_tokens: int
    output_tokens: int
    ideal: bool
    corner: Corner
    overrides: dict = field(default_factory=dict)
    chunk: int | None = None
    interactivity: float | None = None

    @property
    def context(self) -> float:
        """Mean tokens a decoding sequence holds [1]."""
        return formulas.mean_decode_context(self.input_tokens, self.output_tokens) + 1


# ------------------------------------------------------------------------------------------------------
# one device's demand on every resource, from the engine
# ------------------------------------------------------------------------------------------------------
def _weights_workload(wl):
    """The same ops reading only their weights: the weight traffic of a step, by level."""
    import sympy as sp

    from ..vocab import TensorRole
    from ..workloads.ir import Op, Workload

    ops = tuple(Op(op.name, sp.Integer(0), op.dtype, tuple(t for t in op.tensors if t.role == TensorRole.WEIGHT),
                   count=op.count, kind=op.kind)
                for op in wl.ops if any(t.role == TensorRole.WEIGHT for t in op.tensors))
    return Workload(f"{wl.name} weights", ops, resident=wl.resident)


def _weights_compiled(ask: _Ask, dev: Device, phase: Phase, pl: Placement):
    from ..engine.cache import cached_compile, device_signature
    from ..engine.compiled import compile_workload

    par = pl.parallel.step
    key = (f"llm-weights|{ask.model!r}|{phase}|{ask.prec!r}|{par!r}|{device_signature(dev)}|{ask.ideal}")
    return cached_compile(key, lambda: compile_workload(
        _weights_workload(llm_workload(ask.model, phase, ask.prec, par, pl.links)), dev, "max", ask.ideal, pl.links))


def _totals(labels, out) -> dict:
    return {lbl: np.asarray(t, dtype=float) for lbl, t in zip(labels, out["term_totals"])}


def _demand(ask: _Ask, dev: Device, par: Parallelism, phase: Phase, b, length) -> tuple[dict, dict]:
    """Time each resource needs for one micro-batch's step through every stage [s], and the part of it that
    is weight traffic, by term label.

    Only the hand-offs between stages depend on the depth of a pipeline (``pp - 1`` of them, each the same),
    so a deep pipeline's demand is that of one stage plus ``pp - 1`` times the hand-off that a two-stage
    pipeline over the same link adds: two compiled workloads serve every depth."""
    if par.pp <= 2:
        return _demand_at(ask, dev, _placement(ask, dev, par), phase, b, length)
    one, w = _demand_at(ask, dev, _placement(ask, dev, replace(par, pp=1)), phase, b, length)
    two, _ = _demand_at(ask, dev, _placement(ask, dev, replace(par, pp=2), links_for(dev, par, ask.model.is_moe)),
                        phase, b, length)
    return {k: one.get(k, 0.0) + (par.pp - 1) * (two.get(k, 0.0) - one.get(k, 0.0)) for k in set(one) | set(two)}, w


def _demand_at(ask: _Ask, dev: Device, pl: Placement, phase: Phase, b, length) -> tuple[dict, dict]:
    """:func:`_demand` on one placement, from the engine."""
    shapes = {"b": b, phase.length_symbol: np.full_like(b, float(length))}
    r = _run(ask.model, dev, phase, ask.prec, pl, shapes, ask.ideal, "max", ask.corner, ask.overrides or None,
             detail=True)
    cw = _weights_compiled(ask, dev, phase, pl)
    vals = dev.values(ask.corner)
    vals.update(ask.overrides)
    caps = [vals[f"memory.{lvl.name}.capacity"] for lvl in dev.memory]
    w = cw.evaluate(shapes, vals, caps, devices=1, home=pl.home, detail=True)
    return _totals(r["labels"], r), _totals(cw.labels, w)


def _combine(a: dict, b: dict, wa: dict, wb: dict) -> dict:
    """Demand of one step doing both: each resource adds up, the weights are read once."""
    out = {k: a.get(k, 0.0) + b.get(k, 0.0) for k in set(a) | set(b)}
    for k in set(wa) & set(wb):
        out[k] = out[k] - np.minimum(wa[k], wb[k])
    return out


def _binding(d: dict, shape) -> tuple[np.ndarray, np.ndarray]:
    """The step time (the most any resource needs) and the resource that needs it, point by point."""
    labels = sorted(d)
    stack = np.stack([np.broadcast_to(np.asarray(d[k], dtype=float), shape) for k in labels])
    i = np.argmax(stack, axis=0)
    return stack.max(axis=0), np.asarray(labels, dtype=object)[i]


# ------------------------------------------------------------------------------------------------------
# one instance of a layout: the best batch
# ------------------------------------------------------------------------------------------------------
def _placement(ask: _Ask, dev: Device, par: Parallelism, links: dict | None = None) -> Placement:
    need = float(ModelDemand(ask.model, ask.prec).resident_bytes(par, par.groups, ask.context))
    links = links_for(dev, par, ask.model.is_moe) if links is None else links
    return Placement(dev, par, dev.main_memory_index, links, need, True)


def _max_batch(ask: _Ask, dev: Device, par: Parallelism, context: float) -> float:
    """Sequences per attention group and micro-batch whose weights and KV cache fill the main memory."""
    room = dev.main_memory.capacity_bytes - weights_bytes_per_device(ask.model, ask.prec, par)
    per_seq = float(kv_cache_bytes(ask.model, ask.prec, 1, context)) / kv_shards(ask.model, par)
    return room / (per_seq * par.micro_batches) if per_seq > 0 else 0.0


def _batches(ask: _Ask, bmax: float, prefill_only: bool) -> np.ndarray:
    cap = bmax
    if ask.chunk:
        per = ask.input_tokens if prefill_only else 1 + ask.input_tokens / ask.output_tokens
        cap = min(cap, ask.chunk / per)
    if cap < 1:
        return np.zeros(0)
    return np.unique(np.concatenate([np.geomspace(1, cap, BATCH_POINTS), [cap]]))


def _step(ask: _Ask, dev: Device, par: Parallelism, role: PoolRole, b) -> dict:
    """Resource demand of one step of ``b`` sequences per group: decode, prefill, or both (colocated)."""
    I = ask.input_tokens
    if role is PoolRole.PREFILL:
        return _demand(ask, dev, par, Phase.PREFILL, b, I)[0]
    dec, wdec = _demand(ask, dev, par, Phase.DECODE, b, ask.context - 1)
    if role is PoolRole.DECODE:
        return dec
    n = formulas.prefill_tokens_per_step(b, I, ask.output_tokens) / I
    pre, wpre = _demand(ask, dev, par, Phase.PREFILL, n, I)
    return _combine(dec, pre, wdec, wpre)


def _instance(ask: _Ask, dev: Device, par: Parallelism, role: PoolRole) -> dict | None:
    """The best rate one instance of layout ``par`` reaches in ``role``: output tokens per second (requests
    per second for a prefill pool), with the batch, the speed per user and what binds; None if nothing fits."""
    ctx = ask.input_tokens if role is PoolRole.PREFILL else ask.context
    bmax = _max_batch(ask, dev, par, ctx)
    b = _batches(ask, bmax, role is PoolRole.PREFILL)
    if b.size == 0:
        return None
    t, bound = _binding(_step(ask, dev, par, role, b), b.shape)
    cycle = formulas.pipeline_cycle_time(t, par.pp, par.micro_batches)
    rate = par.attention_dp * par.micro_batches * b / cycle
    ok = np.ones(b.shape, dtype=bool)
    if ask.interactivity and role is not PoolRole.PREFILL:
        ok = 1.0 / cycle >= ask.interactivity
    if not ok.any():
        return None
    i = int(np.argmax(np.where(ok, rate, -1.0)))
    limit = "interactivity" if not ok[-1] and i == int(np.nonzero(ok)[0].max()) else \
        ("capacity" if i == b.size - 1 and b[-1] >= bmax * (1 - 1e-9) else ("chunk" if i == b.size - 1 else "peak"))
    return {"layout": par, "rate": float(rate[i]), "per_user": float(1.0 / cycle[i]), "cycle_s": float(cycle[i]),
            "batch": float(par.attention_dp * par.micro_batches * b[i]), "bound": str(bound[i]), "limit": limit}


def _instances(ask: _Ask, dev: Device, role: PoolRole, layouts: list[Parallelism]) -> list[dict]:
    """Each layout's best instance in ``role`` (layouts where nothing fits are left out)."""
    out = []
    for par in layouts:
        r = _instance(ask, dev, par, role)
        if r is not None:
            out.append(r)
    return out


def _pool(insts: list[dict], devices: int) -> dict | None:
    """The best use of ``devices`` devices: as many instances of one layout as fit."""
    best = None
    for r in insts:
        n = devices // r["layout"].instance_devices
        if n >= 1 and (best is None or n * r["rate"] > best["rate"]):
            best = dict(r, rate=n * r["rate"], batch=n * r["batch"], layout=replace(r["layout"], dp=n),
                        devices=devices)
    return best


# ------------------------------------------------------------------------------------------------------
# disaggregated pools: the KV cache crosses between them
# ------------------------------------------------------------------------------------------------------
def _egress(ask: _Ask, dev: Device, overrides: dict) -> tuple[float, float]:
    """Per-direction bandwidth [B/s] and latency [s] of the link that leaves a device's domain."""
    name = link_for(dev, 1 << 30)
    if name is None:
        raise InputError(f"{dev.key} has no link between devices to carry the KV cache between pools")
    lk = dev.link(name)
    vals = dev.values(ask.corner)
    vals.update(overrides)
    lat = 0.0 if ask.ideal or lk.latency is None else vals[f"interconnect.{name}.latency"]
    return vals[f"interconnect.{name}.bandwidth"] * lk.direction_factor, lat


def _kv_link(ask: _Ask, pre: tuple[Device, int], dec: tuple[Device, int], overrides: dict) -> tuple[float, float]:
    """Requests per second whose KV cache the links between the pools can carry [1/s], and the time one
    request's cache takes from a prefill device to a decode device [s] (bandwidth and latency)."""
    q = float(kv_cache_bytes(ask.model, ask.prec, 1, ask.input_tokens))
    (bw_p, lat_p), (bw_d, lat_d) = (_egress(ask, d, overrides) for d, _ in (pre, dec))
    rate = min(pre[1] * bw_p, dec[1] * bw_d) / q
    return rate, formulas.transfer_time(q, min(bw_p, bw_d), max(lat_p, lat_d))


def _disaggregated(ask: _Ask, pre: dict | None, dec: dict | None, kv: tuple[float, float]) -> dict | None:
    """The system's rate with a prefill and a decode pool: the least of the three."""
    if pre is None or dec is None:
        return None
    O = ask.output_tokens
    rates = {"prefill": O * pre["rate"], "decode": dec["rate"], "kv_transfer": O * kv[0]}
    which = min(rates, key=rates.get)
    bound = {"prefill": f"prefill:{pre['bound']}", "decode": dec["bound"], "kv_transfer": "kv_transfer"}[which]
    return dict(dec, rate=rates[which], bound=bound, limit=dec["limit"] if which == "decode" else which,
                pools=[_pool_dict(PoolRole.PREFILL, pre), _pool_dict(PoolRole.DECODE, dec)], kv_transfer_s=kv[1])


def _pool_dict(role: PoolRole, r: dict) -> dict:
    return {"role": str(role), "device": r["device"], "devices": r["devices"], **r["layout"].to_dict(),
            "bound": r["bound"]}


def _split_search(ask: _Ask, dev: Device, devices: int, insts: dict, overrides: dict) -> dict | None:
    """The best split of ``devices`` devices of one type into a prefill and a decode pool."""
    best = None
    for n_pre in range(1, devices):
        pre, dec = _pool(insts[PoolRole.PREFILL], n_pre), _pool(insts[PoolRole.DECODE], devices - n_pre)
        if pre is None or dec is None:
            continue
        pre["device"] = dec["device"] = dev.key
        r = _disaggregated(ask, pre, dec, _kv_link(ask, (dev, n_pre), (dev, devices - n_pre), overrides))
        if r is not None and (best is None or r["rate"] > best["rate"]):
            best = r
    return best


# ------------------------------------------------------------------------------------------------------
# the result, and the public entry points
# ------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ThroughputResult:
    """The best throughput a serving system reaches for one request shape, and the layout that reaches it.

    Attributes
    ----------
    model, device : str
        Keys (``device``: the decode or colocated pool's).
    devices : int
        Devices of the system, both pools [1].
    input_tokens, output_tokens : int
        :math:`I`, :math:`O` per request [1].
    weight_dtype, activation_dtype, kv_dtype : str
    ideal : bool
        Latencies left out and estimated figures at their favourable end: an upper bound.
    corner : str
        The corner of the device figures evaluated (``best`` when ideal).
    interactivity : float or None
        The least tokens per second each user must get [1/s].
    output_tokens_per_s, output_tokens_per_s_per_device, input_tokens_per_s, requests_per_s : float
        [1/s].
    tokens_per_s_per_user : float
        Speed of one sequence at that point, one over the decode cycle [1/s].
    batch : float
        Sequences decoding in the system at that point [1].
    bound : str
        The resource that binds the step (``compute``, ``memory:hbm``, ``interconnect:<link>``, ``latency``,
        ``prefill:<term>`` for the prefill pool, ``kv_transfer``).
    limit : str
        What stops the batch from growing: ``capacity`` (memory is full), ``interactivity``, ``chunk``,
        ``peak`` (the rate stops growing before memory is full); or the pool that binds a disaggregated
        system (``prefill``, ``kv_transfer``).
    layout : dict
        ``tp``, ``pp``, ``dp``, ``ep``, ``attention``, ``micro_batches``, ``imbalance`` of the decode (or
        colocated) pool, and ``pools``: each pool's role, device, devices and layout.
    layouts_searched : int
        Instance layouts evaluated [1].
    kv_transfer_s : float or None
        With a prefill and a decode pool: one request's KV cache from a prefill to a decode device, at the
        slower device's link bandwidth plus the link latency (none when ideal) [s]; it adds to the first token.
    """

    model: str
    device: str
    devices: int
    input_tokens: int
    output_tokens: int
    weight_dtype: str
    activation_dtype: str
    kv_dtype: str
    ideal: bool
    corner: str
    interactivity: float | None
    output_tokens_per_s: float
    output_tokens_per_s_per_device: float
    input_tokens_per_s: float
    requests_per_s: float
    tokens_per_s_per_user: float
    batch: float
    bound: str
    limit: str
    layout: dict
    layouts_searched: int
    kv_transfer_s: float | None = None

    def to_dict(self) -> dict:
        """The record form (the JSON of ``roofline throughput``).

        Returns
        -------
        dict
            The fields, in order.
        """
        return {k: (dict(v) if isinstance(v, dict) else v) for k, v in self.__dict__.items()}


def _candidates(ask: _Ask, dev: Device, devices: int, forced: dict, micro: bool = True) -> list[Parallelism]:
    """The instance layouts to search: all the system can express, or those matching the user's options."""
    demand = ModelDemand(ask.model, ask.prec)
    out = layout_candidates(demand, dev, devices, int(ask.context), micro_batches=micro)
    mods = {k: forced[k] for k in ("imbalance", "micro_batches") if forced.get(k) is not None}
    if mods:
        out = [replace(p, **mods) for p in out]
    want = {k: v for k, v in forced.items() if v is not None and k not in mods}
    if want.get("dp"):
        width = devices // want.pop("dp")
        out = [p for p in out if p.instance_devices == width]
    kept = [p for p in out if all(str(getattr(p, k)) == str(v) for k, v in want.items())]
    if out and not kept:
        asked = ", ".join(f"{k}={v}" for k, v in forced.items() if v is not None)
        raise InputError(f"no layout of {devices} x {dev.key} with {asked} holds {ask.model.key} (data-parallel "
                         "attention is for mixtures of experts; a dense model uses --dp replicas)")
    return kept


def _colocated(ask: _Ask, dev: Device, devices: int, layouts: list[Parallelism], split: bool, overrides) -> dict:
    roles = tuple(PoolRole) if split and devices > 1 else (PoolRole.COLOCATED,)
    insts = {r: _instances(ask, dev, r, layouts) for r in roles}
    best = _pool(insts[PoolRole.COLOCATED], devices)
    if best is not None:
        best["device"] = dev.key
        best["pools"] = [_pool_dict(PoolRole.COLOCATED, best)]
    if split and devices > 1:
        sp_ = _split_search(ask, dev, devices, insts, overrides)
        if sp_ is not None and (best is None or sp_["rate"] > best["rate"]):
            best = sp_
    return best


def _one_pool(ask: _Ask, dev: Device, devices: int, role: PoolRole, layouts: list[Parallelism]) -> dict | None:
    r = _pool(_instances(ask, dev, role, layouts), devices)
    if r is None:
        return None
    r["device"] = dev.key
    if role is PoolRole.PREFILL:  # a prefill pool's rate is requests per second: as output tokens, O each
        r = dict(r, rate=r["rate"] * ask.output_tokens, per_user=float("nan"), batch=0.0)
    r["pools"] = [_pool_dict(role, r)]
    return r


def _ask(model, prec, input_tokens, output_tokens, ideal, interactivity, chunk, device_values, corner=None) -> _Ask:
    for name, v in (("input", input_tokens), ("output", output_tokens)):
        if isinstance(v, bool) or int(v) != v or v <= 0:
            raise InputError(f"{name} tokens must be a positive integer, got {v!r}")
    if interactivity is not None and not interactivity > 0:
        raise InputError(f"interactivity is tokens per second per user: positive, got {interactivity!r}")
    if chunk is not None and (int(chunk) != chunk or chunk <= 0):
        raise InputError(f"chunk must be a positive number of tokens, got {chunk!r}")
    if input_tokens + output_tokens > model.max_context:
        raise InputError(f"{input_tokens} + {output_tokens} tokens exceed {model.key}'s maximum context of "
                         f"{model.max_context}")
    corner = Corner(corner) if corner is not None else (Corner.BEST if ideal else Corner.NOMINAL)
    return _Ask(model, prec, int(input_tokens), int(output_tokens), ideal, corner, dict(device_values or {}), chunk,
                interactivity)


def _system(ask: _Ask, dev: Device, n: int, pre_dev: Device | None, n_pre: int | None, pool: PoolRole | None,
            forced: dict, split: bool) -> tuple[dict | None, int]:
    """The best point of the whole system (or of one pool), and how many layouts were searched."""
    layouts = _candidates(ask, dev, n, forced)
    if pool is not None:
        return _one_pool(ask, dev, n, pool, layouts), len(layouts)
    if pre_dev is None:
        return _colocated(ask, dev, n, layouts, split, ask.overrides), len(layouts)
    pre_layouts = _candidates(ask, pre_dev, n_pre, {"imbalance": forced.get("imbalance")})
    pre = _pool(_instances(ask, pre_dev, PoolRole.PREFILL, pre_layouts), n_pre)
    dec = _pool(_instances(ask, dev, PoolRole.DECODE, layouts), n)
    if pre is not None:
        pre["device"] = pre_dev.key
    if dec is not None:
        dec["device"] = dev.key
    kv = _kv_link(ask, (pre_dev, n_pre), (dev, n), ask.overrides)
    return _disaggregated(ask, pre, dec, kv), len(layouts) + len(pre_layouts)


def throughput_result(model: str | ModelConfig, device: str | Device, devices: int, input_tokens: int,
                      output_tokens: int, prec: Precision | None = None, dtype: str = "bf16", ideal: bool = False,
                      prefill_device: str | Device | None = None, prefill_devices: int | None = None,
                      interactivity: float | None = None, chunk: int | None = None, pool: str | None = None,
                      split: bool = True, device_values: dict | None = None, corner: str | None = None,
                      **layout) -> ThroughputResult:
    """The highest output rate a system reaches for requests of ``input_tokens`` in, ``output_tokens`` out.

    Parameters
    ----------
    model : str or ModelConfig
        A model key, alias or file path, or a model.
    device, devices : str or Device, int
        The device of the system and how many [1] (of its decode pool when a prefill pool is given).
    input_tokens, output_tokens : int
        :math:`I` and :math:`O` per request [1].
    prec, dtype : Precision, str
        Data types; default ``Precision.of(dtype)``.
    ideal : bool
        Every estimated figure at its favourable end and no latencies: an upper bound.
    prefill_device, prefill_devices : str or Device, int, optional
        A separate prefill pool's device and devices (disaggregated serving) [1].
    interactivity : float, optional
        Tokens per second every user must get at least [1/s].
    chunk : int, optional
        Most tokens one step may process (decode and prefill together) [1]; default unlimited.
    pool : str, optional
        ``prefill`` or ``decode``: that pool alone, the other phase taken as free (how disaggregated
        systems are measured); default the whole system.
    split : bool
        Also try every split of one device type into a prefill and a decode pool.
    device_values : dict, optional
        What-if figure values by path, replacing the device's [each figure's SI unit].
    corner : Corner or str, optional
        Corner of the estimated figures; default ``best`` when ideal, else ``nominal``.
    **layout
        ``tp``, ``pp``, ``dp``, ``ep``, ``attention``: search only layouts with these; ``micro_batches``
        and ``imbalance`` (the busiest expert device's load over the mean) for every layout.

    Returns
    -------
    ThroughputResult

    Raises
    ------
    InputError, CapacityError
        Bad lengths, an interactivity no layout reaches; no layout holds the model and one sequence.
    """
    dev = device_for(get_device(device), ideal)  # not ideal: the estimate, on measured ceilings
    ask = _ask(get_model(model), prec or Precision.of(dtype), input_tokens, output_tokens, ideal, interactivity,
               chunk, device_values, corner)
    if (prefill_device is None) != (prefill_devices is None):
        raise InputError("a prefill pool needs both --prefill-device and --prefill-devices")
    pre_dev = device_for(get_device(prefill_device), ideal) if prefill_device is not None else None
    best, searched = _system(ask, dev, int(devices), pre_dev, prefill_devices, PoolRole(pool) if pool else None,
                             layout, split)
    if best is None:
        _nothing(ask, dev, devices)
    return _result(ask, dev, int(devices) + (prefill_devices or 0), best, searched)


def _nothing(ask: _Ask, dev: Device, devices: int):
    """Say why no point qualifies: no layout reaches the speed asked, or none holds the model."""
    if ask.interactivity:
        raise InputError(f"no layout of {devices} x {dev.key} gives each user {ask.interactivity:g} tokens/s")
    raise CapacityError(f"{ask.model.key} does not fit {devices} x {dev.key} with one sequence of "
                        f"{int(ask.context)} tokens in any layout")


def _result(ask: _Ask, dev: Device, n: int, best: dict, searched: int) -> ThroughputResult:
    rate = best["rate"]
    req = rate / ask.output_tokens
    par = best["layout"]
    return ThroughputResult(
        model=ask.model.key, device=dev.key, devices=n, input_tokens=ask.input_tokens,
        output_tokens=ask.output_tokens, weight_dtype=ask.prec.weights, activation_dtype=ask.prec.activations,
        kv_dtype=ask.prec.kv, ideal=ask.ideal, corner=str(ask.corner), interactivity=ask.interactivity,
        output_tokens_per_s=rate, output_tokens_per_s_per_device=rate / n, input_tokens_per_s=req * ask.input_tokens,
        requests_per_s=req, tokens_per_s_per_user=best["per_user"], batch=best["batch"], bound=best["bound"],
        limit=best["limit"], layout={**par.to_dict(), "pools": best["pools"]}, layouts_searched=searched,
        kv_transfer_s=best.get("kv_transfer_s"))


def throughput(*args, **kwargs) -> dict:
    """:func:`throughput_result` as a record (the JSON of ``roofline throughput``).

    Parameters
    ----------
    *args, **kwargs
        As :func:`throughput_result`.

    Returns
    -------
    dict
        ``output_tokens_per_s``, ``output_tokens_per_s_per_device``, ``tokens_per_s_per_user``, ``layout``
        (``tp``, ``pp``, ``dp``, ``ep``, ``attention``, ``micro_batches``, ``imbalance``, ``pools``),
        ``bound``, ``batch``, ...
    """
    return throughput_result(*args, **kwargs).to_dict()
