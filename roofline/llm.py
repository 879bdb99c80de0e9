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

import math
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Iterable, Mapping, Sequence

import numpy as np

from .devices import get_device
from .errors import CapacityError, InputError
from .models import ModelConfig, get_model
from .specs import Device

__all__ = [
    "Precision",
    "Parallelism",
    "Placement",
    "weights_bytes",
    "kv_cache_bytes",
    "llm_workload",
    "place",
    "estimate",
    "decode_sweep",
    "frontier",
    "decode_break_even_batch",
]


@dataclass(frozen=True)
class Precision:
    """Data types of the weights, the activations and the KV cache."""

    weights: str = "bf16"
    activations: str = "bf16"
    kv: str = "bf16"

    def __post_init__(self):
        from .dtypes import bytes_per_element

        for d in (self.weights, self.activations, self.kv):
            bytes_per_element(d)

    @classmethod
    def of(cls, dtype: str = "bf16", weights: str | None = None, activations: str | None = None,
           kv: str | None = None) -> "Precision":
        """All three in ``dtype`` unless overridden (``fp4`` and ``int4`` are weight-only: activations and
        the KV cache then stay in bf16)."""
        base_act = "bf16" if dtype in ("fp4", "int4", "fp6") else dtype
        return cls(weights or dtype, activations or base_act, kv or activations or base_act)


@dataclass(frozen=True)
class Parallelism:
    """Tensor-parallel degree ``tp`` (experts are spread over the same group) and pipeline stages ``pp``."""

    tp: int = 1
    pp: int = 1

    @property
    def devices(self) -> int:
        return self.tp * self.pp


@dataclass(frozen=True)
class Placement:
    """Where a model runs: the devices, their parallelism, the level holding the resident set, the links."""

    device: Device
    parallel: Parallelism
    home: int
    links: Mapping[str, str] = field(default_factory=dict)
    resident_bytes_per_device: float = 0.0
    forced: bool = False

    @property
    def devices(self) -> int:
        return self.parallel.devices

    @property
    def level(self) -> str:
        return self.device.memory[self.home].name


# ------------------------------------------------------------------------------------------------------
# sizes
# ------------------------------------------------------------------------------------------------------
def weights_bytes(model: ModelConfig, prec: Precision) -> float:
    """Bytes of every weight, the embedding table included (it must be stored even if decode reads one row)."""
    from .dtypes import bytes_per_element

    return model.total_params() * bytes_per_element(prec.weights)


def kv_cache_elements(model: ModelConfig, batch, context):
    """KV-cache elements for ``batch`` sequences of ``context`` tokens, all layers (sliding-window layers
    keep at most ``sliding_window`` tokens). Works on numbers, arrays and SymPy symbols."""
    per = model.kv_cache_elements_per_token_per_layer
    full = model.n_layers - model.sliding_window_layers
    if model.sliding_window_layers:
        if isinstance(context, (int, float, np.ndarray, np.generic)):
            win = np.minimum(context, model.sliding_window)
        else:
            import sympy as sp

            win = sp.Min(context, model.sliding_window)
        return batch * per * (full * context + model.sliding_window_layers * win)
    return batch * per * model.n_layers * context


def kv_cache_bytes(model: ModelConfig, prec: Precision, batch, context):
    """KV-cache bytes: ``batch × context × layers × 2 × n_kv_heads × head_dim × bytes(kv dtype)``.

    >>> from roofline.models import get_model
    >>> kv_cache_bytes(get_model("llama-3.1-70b"), Precision(), 1, 1)   # 2·8·128·80 values × 2 B
    327680
    """
    from .dtypes import bytes_per_element

    b = bytes_per_element(prec.kv)
    b = int(b) if float(b).is_integer() else b
    return kv_cache_elements(model, batch, context) * b


# ------------------------------------------------------------------------------------------------------
# the decomposition
# ------------------------------------------------------------------------------------------------------
def _ceil_div(a: int, b: int) -> int:
    return -(-a // b)


@lru_cache(maxsize=256)
def _workload_cached(model_id: tuple, phase: str, prec: Precision, par: Parallelism, links: tuple):
    model = _MODELS[model_id]
    return _build(model, phase, prec, par, dict(links))


_MODELS: dict[tuple, ModelConfig] = {}


def llm_workload(model: ModelConfig, phase: str, prec: Precision = Precision(), par: Parallelism = Parallelism(),
                 links: Mapping[str, str] | None = None):
    """The per-device workload of one prefill (``phase="prefill"``) or one decode step (``"decode"``).

    Cached: the same model, phase, precision and parallelism return the same object.
    """
    if phase not in ("prefill", "decode"):
        raise InputError(f"unknown phase {phase!r}; expected 'prefill' or 'decode'")
    mid = (model.key, hash(model))
    _MODELS[mid] = model
    return _workload_cached(mid, phase, prec, par, tuple(sorted((links or {}).items())))


def _build(m: ModelConfig, phase: str, prec: Precision, par: Parallelism, links: Mapping[str, str]):
    import sympy as sp

    from .symbols import shape_symbol
    from .workloads import Op, Tensor, Workload, compute_dtype

    b = shape_symbol("b")
    tp, pp = par.tp, par.pp
    wd, ad, kd = prec.weights, prec.activations, prec.kv
    cd = compute_dtype(wd, ad)
    attn_cd = compute_dtype(ad, kd)
    if phase == "decode":
        s = shape_symbol("s")
        t, ctx = sp.Integer(1), s
    else:
        p = shape_symbol("p")
        t, ctx = p, p
    T = b * t  # tokens processed per step
    d = m.d_model
    L = m.n_layers
    I = sp.Integer
    ops: list = []

    def gemm(name, M, K, N, count, weight=True, kind="gemm"):
        ops.append(Op(name, 2 * M * K * N, cd,
                      (Tensor("x", M * K, ad, "activation"), Tensor("W", I(K * N), wd, "weight"),
                       Tensor("y", M * N, ad, "activation")) if weight else
                      (Tensor("x", M * K, ad, "activation"), Tensor("y", M * N, ad, "activation")),
                      count=I(count), kind=kind))

    def elementwise(name, n_in, n_out, flops_per, count, weight_elems=0):
        ts = [Tensor("x", n_in, ad, "activation"), Tensor("y", n_out, ad, "activation")]
        if weight_elems:
            ts.append(Tensor("w", I(weight_elems), wd, "weight"))
        ops.append(Op(name, flops_per * n_out, ad if ad in ("bf16", "fp16", "fp32") else "bf16",
                      tuple(ts), count=I(count), kind="elementwise"))

    # embedding lookup: one row per token, not the whole table
    ops.append(Op("embedding", sp.Integer(0), cd, (Tensor("rows", T * d, wd, "weight"), Tensor("x", T * d, ad, "activation")),
                  kind="embedding"))
    if m.position == "learned":
        elementwise("position_add", 2 * T * d, T * d, 1, 1, 0)

    # attention block, per layer
    h_dev = _ceil_div(m.n_heads, tp)
    kvh_dev = _ceil_div(m.n_kv_heads, tp)
    elementwise("norm", T * d, T * d, 4, 2 * L, d)  # pre-attention and pre-MLP norms
    if m.is_mla:
        qk = m.qk_nope_head_dim + m.qk_rope_head_dim
        if m.q_lora_rank:
            gemm("q_a_proj", T, d, m.q_lora_rank, L)
            gemm("q_b_proj", T, m.q_lora_rank, h_dev * qk, L)
        else:
            gemm("q_proj", T, d, h_dev * qk, L)
        gemm("kv_a_proj", T, d, m.kv_lora_rank + m.qk_rope_head_dim, L)
        gemm("kv_b_proj", T, m.kv_lora_rank, h_dev * (m.qk_nope_head_dim + m.v_head_dim), L)
        kv_per_tok = m.kv_lora_rank + m.qk_rope_head_dim  # the latent is shared by all heads: not split by TP
        q_elems, o_elems = h_dev * qk, h_dev * m.v_head_dim
        # decode with absorbed weights: scores over the latent (kv_lora + rope) and values from the latent
        score_w, value_w = m.kv_lora_rank + m.qk_rope_head_dim, m.kv_lora_rank
        if phase == "prefill":
            score_w, value_w = qk, m.v_head_dim
    else:
        gemm("qkv_proj", T, d, h_dev * m.head_dim + 2 * kvh_dev * m.head_dim, L)
        kv_per_tok = 2 * kvh_dev * m.head_dim
        q_elems, o_elems = h_dev * m.head_dim, h_dev * m.head_dim
        score_w = value_w = m.head_dim

    def attention(name, count, window):
        if count <= 0:
            return
        if phase == "decode":
            c = ctx if not window else sp.Min(ctx, window)
            pairs = b * c  # (query, key) pairs per head
            kv_read = b * c * kv_per_tok
            kv_write = b * kv_per_tok
        else:
            pp_ = ctx
            # causal: query i attends to min(i, window) keys; sum over i ~ p^2/2 (or p*w - w^2/2 with a window)
            if window:
                wmin = sp.Min(pp_, window)
                pairs = b * (pp_ * wmin - wmin**2 / 2)
                kv_read = b * pp_ * kv_per_tok  # each of the p tokens' K and V is read once
            else:
                pairs = b * pp_**2 / 2
                kv_read = b * pp_ * kv_per_tok
            kv_write = b * pp_ * kv_per_tok
        flops = 2 * h_dev * pairs * (score_w + value_w)
        ts = (Tensor("q", T * q_elems, ad, "activation"), Tensor("kv_read", kv_read, kd, "kv"),
              Tensor("kv_write", kv_write, kd, "kv"), Tensor("o", T * o_elems, ad, "activation"))
        ops.append(Op(name, flops, attn_cd, ts, count=I(count), kind="attention"))

    attention("attention", L - m.sliding_window_layers, 0)
    attention("attention_sliding", m.sliding_window_layers, m.sliding_window)
    gemm("o_proj", T, o_elems, d, L)
    elementwise("residual_add", 2 * T * d, T * d, 1, 2 * L)

    # MLP or experts
    mats = 2 if m.mlp == "gated" else 1

    def dense_mlp(prefix, d_ff, count, split=True):
        if count <= 0:
            return
        f = _ceil_div(d_ff, tp) if split else d_ff
        gemm(f"{prefix}_up", T, d, mats * f, count)
        elementwise(f"{prefix}_act", mats * T * f, T * f, 4, count)
        gemm(f"{prefix}_down", T, f, d, count)

    dense_mlp("mlp", m.d_ff, m.dense_layers)
    if m.is_moe:
        E, k, ML = m.n_experts, m.experts_per_token, m.moe_layers
        ep = tp  # experts are spread over the tensor-parallel group
        gemm("router", T, d, E, ML)
        e_dev = sp.Rational(E, ep) if E % ep else I(E // ep)
        routed = T * sp.Rational(k, ep)  # token-expert pairs per device (balanced routing)
        # expected distinct experts a device's weights are read for: each expert is picked by a token with
        # probability k/E, so E_dev (1 - (1 - k/E)^T) of them are touched
        touched = e_dev * (1 - (1 - sp.Rational(k, E)) ** T)
        f = m.d_ff_expert
        w_expert = (mats + 1) * d * f
        ops.append(Op("experts", 2 * routed * w_expert, cd,
                      (Tensor("x", routed * d, ad, "activation"), Tensor("W", touched * w_expert, wd, "weight"),
                       Tensor("h", routed * (mats + 1) * f, ad, "activation"), Tensor("y", routed * d, ad, "activation")),
                      count=I(ML), kind="moe"))
        if m.n_shared_experts:
            dense_mlp("shared_expert", m.n_shared_experts * (m.d_ff_shared or m.d_ff_expert), ML)
        if ep > 1:
            a2a = T * k * d * sp.Rational(ep - 1, ep)
            ops.append(Op("expert_all_to_all", sp.Integer(0), cd, (),
                          link_bytes={"ep": a2a * _bpe(ad)}, link_steps={"ep": I(1)}, count=I(2 * ML),
                          kind="collective"))

    # tensor-parallel all-reduces: after attention, and after each dense MLP (MoE layers use the all-to-all).
    # Bound on each: the bandwidth-optimal ring moves 2 (tp-1)/tp of the message per device; the
    # latency-optimal tree or recursive doubling needs 2 log2(tp) steps. Each is the least any algorithm
    # pays, so together they stay a lower bound. An all-to-all through a switch is one step.
    if tp > 1:
        n_ar = L + m.dense_layers
        msg = T * d * _bpe(ad)
        ops.append(Op("tp_all_reduce", T * d * sp.Rational(tp - 1, tp), ad if ad in ("bf16", "fp16", "fp32") else "bf16",
                      (Tensor("x", T * d, ad, "activation"), Tensor("y", T * d, ad, "activation")),
                      link_bytes={"tp": 2 * sp.Rational(tp - 1, tp) * msg},
                      link_steps={"tp": I(2 * math.ceil(math.log2(tp)))},
                      count=I(n_ar), kind="collective"))
    if pp > 1:
        ops.append(Op("pp_handoff", sp.Integer(0), cd, (), link_bytes={"pp": T * d * _bpe(ad)},
                      link_steps={"pp": I(1)}, count=I(pp - 1), kind="collective"))

    # final norm and lm_head: only the last position of each sequence needs logits
    elementwise("final_norm", b * d, b * d, 4, 1, d)
    gemm("lm_head", b, d, _ceil_div(m.vocab_size, tp), 1)

    per_dev_w = weights_bytes(m, prec) / (tp * pp)
    kv_dev = kv_cache_bytes(m, prec, b, ctx if phase == "prefill" else ctx + 1) / (pp * (1 if m.is_mla else min(tp, m.n_kv_heads)))
    resident = sp.nsimplify(per_dev_w) + sp.sympify(kv_dev)
    return Workload(f"{m.key} {phase}", tuple(ops), resident=resident,
                    meta={"model": m.key, "phase": phase, "precision": prec, "parallel": par})


def _bpe(dtype: str):
    import sympy as sp

    from .dtypes import bytes_per_element

    return sp.nsimplify(bytes_per_element(dtype))


# ------------------------------------------------------------------------------------------------------
# placement
# ------------------------------------------------------------------------------------------------------
def _resident_levels(device: Device) -> list[int]:
    """Levels that can hold weights between steps: every level that is not a cache."""
    return [i for i, lvl in enumerate(device.memory) if lvl.kind not in ("cache", "register")]


def _link_for(device: Device, group: int) -> str | None:
    """The first link whose domain joins ``group`` devices (else the one that joins the most)."""
    cands = [lk for lk in device.interconnect if lk.devices_per_domain > 1]
    if not cands:
        return None
    for lk in cands:
        if lk.devices_per_domain >= group:
            return lk.name
    return max(cands, key=lambda lk: lk.devices_per_domain).name


def _links(device: Device, par: Parallelism, model: ModelConfig) -> dict[str, str]:
    out = {}
    for role, group in (("tp", par.tp), ("ep", par.tp), ("pp", par.devices)):
        if role == "ep" and not model.is_moe:
            continue
        if (role in ("tp", "ep") and par.tp > 1) or (role == "pp" and par.pp > 1):
            ln = _link_for(device, group)
            if ln is None:
                raise InputError(f"{device.key} has no link between devices; it cannot run with "
                                 f"tp={par.tp}, pp={par.pp}")
            out[role] = ln
    return out


def _resident_per_device(model: ModelConfig, prec: Precision, par: Parallelism, batch, context) -> float:
    w = weights_bytes(model, prec) / par.devices
    kv = kv_cache_bytes(model, prec, batch, context) / (par.pp * (1 if model.is_mla else min(par.tp, model.n_kv_heads)))
    return w + kv if isinstance(kv, np.ndarray) else float(w + kv)


def _default_parallel(device: Device, n: int, model: ModelConfig) -> Parallelism:
    if n <= 1:
        return Parallelism(1, 1)
    if device.kind in ("wafer", "tile"):
        return Parallelism(1, n)  # layers split across wafers / tiles
    lname = _link_for(device, 2)
    dom = device.link(lname).devices_per_domain if lname else 1
    tp = 1
    while tp < n and tp * 2 <= dom and _heads_divide(model, tp * 2):
        tp *= 2
    return Parallelism(tp, _ceil_div(n, tp))


def _heads_divide(model: ModelConfig, tp: int) -> bool:
    return model.n_heads % tp == 0


def place(model: ModelConfig, device: Device, prec: Precision = Precision(), batch: int = 1, context: int = 2048,
          devices: int | None = None, tp: int | None = None, pp: int | None = None) -> Placement:
    """Decide how many devices run ``model``, with which parallelism, and where weights and KV cache live.

    Without ``devices``/``tp``/``pp``: the fewest devices whose first non-cache level holds weights plus
    the KV cache of ``batch`` sequences of ``context`` tokens. With them: that many devices; the resident
    set goes to the fastest non-cache level that holds it (streaming from a slower level), else
    :class:`CapacityError` says how much is needed against how much there is.
    """
    for name, v in (("devices", devices), ("tp", tp), ("pp", pp), ("batch", batch), ("context", context)):
        if v is not None and (isinstance(v, bool) or int(v) != v or v <= 0):
            raise InputError(f"{name} must be a positive integer, got {v!r}")
    levels = _resident_levels(device)
    if not levels:
        raise InputError(f"{device.key} has no memory level that can hold weights")
    forced = devices is not None or tp is not None or pp is not None
    if forced:
        if tp is not None or pp is not None:
            par = Parallelism(tp or (max(1, (devices or 1) // (pp or 1))), pp or max(1, (devices or 1) // (tp or 1)))
            if devices is not None and par.devices != devices:
                raise InputError(f"--devices {devices} does not equal tp x pp = {par.tp} x {par.pp}")
        else:
            par = _default_parallel(device, devices, model)
            if par.devices != devices:
                par = Parallelism(1, devices) if device.kind in ("wafer", "tile") else Parallelism(devices, 1)
        need = _resident_per_device(model, prec, par, batch, context)
        for i in levels:
            if need <= device.memory[i].capacity_bytes:
                return Placement(device, par, i, _links(device, par, model), need, True)
        top = device.memory[levels[-1]]
        raise CapacityError(
            f"{model.key} in {prec.weights} with batch {batch} x context {context} needs "
            f"{_gb(need * par.devices)} ({_gb(need)} per device on {par.devices}), but {device.key}'s largest level "
            f"({top.name}) holds {_gb(top.capacity_bytes)} per device")
    primary = levels[0]
    cap = device.memory[primary].capacity_bytes
    total = _resident_per_device(model, prec, Parallelism(1, 1), batch, context)
    n = max(1, math.ceil(total / cap))
    for _ in range(4096):
        par = _default_parallel(device, n, model)
        need = _resident_per_device(model, prec, par, batch, context)
        if need <= cap:
            return Placement(device, par, primary, _links(device, par, model), need, False)
        n = par.devices + 1
    raise CapacityError(f"{model.key} needs {_gb(total)}: more than 4096 {device.key} devices")


def _gb(x: float) -> str:
    return f"{x / 1e9:,.1f} GB" if x >= 1e8 else f"{x / 1e6:,.1f} MB"


# ------------------------------------------------------------------------------------------------------
# evaluation
# ------------------------------------------------------------------------------------------------------
def _compiled(model, device: Device, phase, prec, placement: Placement, ideal, overlap):
    """The lambdified decode or prefill workload for this placement, from memory, the disk cache, or built."""
    from .cache import cached_compile, device_signature
    from .engine import compile_workload

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


def decode_sweep(model: str | ModelConfig, devices: Sequence[str | Device] | str | Device, batch, context,
                 device_counts: Sequence[int] | None = None, dtype: str = "bf16", prec: Precision | None = None,
                 ideal: bool = False, overlap: str = "max", phase: str = "decode", ranges: bool = True):
    """Decode (or prefill) time over a grid of batch × context × device count × device, as a tidy DataFrame.

    One row per point: ``device``, ``devices``, ``batch``, ``context``, ``time_s`` (NaN where the resident
    set does not fit the placement's level), ``tokens_per_s_per_user``, ``tokens_per_s``, ``bound``, ``fits``;
    estimate-based devices add ``time_s_best`` and ``time_s_worst``. No Python loop over grid points: the
    loop is over devices and device counts, whose placements change the expressions' structure.
    """
    import pandas as pd

    m = get_model(model)
    prec = prec or Precision.of(dtype)
    devs = [get_device(d) for d in ([devices] if isinstance(devices, (str, Device)) else devices)]
    B = np.asarray(batch, dtype=float).ravel()
    S = np.asarray(context, dtype=float).ravel()
    if np.any(B <= 0) or np.any(S <= 0):
        raise InputError("batch and context must be positive")
    frames = []
    for dev in devs:
        counts = device_counts or [place(m, dev, prec, 1, int(S.min())).devices]
        for n in counts:
            pl = place(m, dev, prec, 1, 1, devices=int(n)) if device_counts else \
                place(m, dev, prec, 1, int(S.min()))
            bb, ss = np.meshgrid(B, S, indexing="ij")
            bb, ss = bb.ravel(), ss.ravel()
            shapes = {"b": bb, "s": ss} if phase == "decode" else {"b": bb, "p": ss}
            r = _run(m, dev, phase, prec, pl, shapes, ideal, overlap, "nominal")
            need = _resident_per_device(m, prec, pl.parallel, bb, ss)
            fits = need <= dev.memory[pl.home].capacity_bytes
            t = np.where(fits, r["time_s"], np.nan)
            df = pd.DataFrame({
                "model": m.key, "device": dev.key, "devices": pl.devices, "tp": pl.parallel.tp, "pp": pl.parallel.pp,
                "batch": bb.astype(np.int64), "context": ss.astype(np.int64), "time_s": t,
                "tokens_per_s_per_user": 1.0 / t, "tokens_per_s": bb / t,
                "bound": pd.Categorical(np.where(fits, r["bound"], "capacity")),
                "fits": fits, "level": dev.memory[pl.home].name,
            })
            if ranges and dev.is_estimate:
                for w in ("best", "worst"):
                    rw = _run(m, dev, phase, prec, pl, shapes, ideal, overlap, w)
                    df[f"time_s_{w}"] = np.where(fits, rw["time_s"], np.nan)
            frames.append(df)
    return pd.concat(frames, ignore_index=True)


def frontier(model: str | ModelConfig, device: str | Device, devices: int | None = None, context: int = 2048,
             batches: Iterable[int] | None = None, dtype: str = "bf16", prec: Precision | None = None,
             ideal: bool = False, overlap: str = "max", tp: int | None = None, pp: int | None = None):
    """Throughput against interactivity for one system (a device type × count) as batch grows.

    Returns a DataFrame with ``batch``, ``tokens_per_s_per_user`` (= 1 / time per output token),
    ``tokens_per_s_per_device``, ``tokens_per_s_per_kw`` and ``bound``, up to the largest batch whose KV
    cache still fits beside the weights in the placement's memory level. For an estimate-based device,
    ``*_best`` and ``*_worst`` columns give the band.
    """
    import pandas as pd

    m = get_model(model)
    dev = get_device(device)
    prec = prec or Precision.of(dtype)
    pl = place(m, dev, prec, 1, context, devices, tp, pp)
    B = np.unique(np.asarray(list(batches) if batches is not None else np.unique(np.round(np.geomspace(1, 65536, 160))),
                             dtype=float))
    need = _resident_per_device(m, prec, pl.parallel, B, context)
    B = B[need <= dev.memory[pl.home].capacity_bytes]
    if B.size == 0:
        raise CapacityError(f"{m.key} at context {context} does not fit {pl.devices} x {dev.key} even at batch 1")
    shapes = {"b": B, "s": np.full_like(B, context)}
    r = _run(m, dev, "decode", prec, pl, shapes, ideal, overlap, "nominal")
    t = r["time_s"]
    power = dev.power_w
    df = pd.DataFrame({
        "model": m.key, "device": dev.key, "devices": pl.devices, "context": context, "batch": B.astype(np.int64),
        "tpot_s": t, "tokens_per_s_per_user": 1.0 / t, "tokens_per_s": B / t,
        "tokens_per_s_per_device": B / t / pl.devices,
        "tokens_per_s_per_kw": (B / t / (pl.devices * power / 1e3)) if power else np.nan,
        "bound": r["bound"],
    })
    if dev.is_estimate:  # the frontier of an estimate-based device is a band: best and worst corners
        for w in ("best", "worst"):
            tw = _run(m, dev, "decode", prec, pl, shapes, ideal, overlap, w)["time_s"]
            df[f"tokens_per_s_per_user_{w}"] = 1.0 / tw
            df[f"tokens_per_s_per_device_{w}"] = B / tw / pl.devices
    return df


def decode_break_even_batch(model: str | ModelConfig, device: str | Device, context: int = 2048,
                            dtype: str = "bf16", prec: Precision | None = None, devices: int | None = None):
    """The batch at which a decode step turns from memory- to compute-bound, closed form and number.

    Solves total compute time = total traffic time at the weights' level for ``b``
    (:func:`roofline.engine.break_even` on the decode workload). Returns ``(closed_form, value)``; for a
    mixture-of-experts model there is no closed form (``None``) and the value is found numerically.
    """
    from .engine import break_even

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

    from .engine import split_bytes

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
