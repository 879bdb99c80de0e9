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
from functools import lru_cache
from typing import Mapping

from ..errors import InputError
from ..placement.layout import Parallelism
from .config import ModelConfig
from .precision import Precision
from .sizes import kv_cache_bytes, weights_bytes

__all__ = ['llm_workload']


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

    from ..dtypes import compute_dtype
    from ..symbols import shape_symbol
    from ..workloads.ir import Op, Tensor, Workload

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

    from ..dtypes import bytes_per_element

    return sp.nsimplify(bytes_per_element(dtype))

