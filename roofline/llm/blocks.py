"""The per-block decomposition of a decoder-only transformer into ops, one builder per block.

Each builder takes a :class:`BlockContext` (the model, the phase, data types, parallelism and the shape
symbols) and returns the ops of its block on one device, each repeated ``count`` times (its layers):

======================================  ===================================================================
builder                                 ops
======================================  ===================================================================
:func:`embedding`                       ``embedding`` (one row per token), ``position_add`` (learned)
:func:`layer_norms`                     ``norm`` (pre-attention and pre-MLP, every layer)
:func:`attention_projections`           ``qkv_proj`` (MHA/GQA) or the MLA low-rank projections, ``qk_norm``
:func:`attention_core`                  ``attention`` (full), ``attention_sliding`` (sliding-window layers)
                                        and ``attention_chunked`` (chunked-attention layers)
:func:`output_projection`               ``o_proj``, ``residual_add``
:func:`dense_mlp`                       ``mlp_up``, ``mlp_act``, ``mlp_down`` (dense layers)
:func:`mixture_of_experts`              ``router``, ``experts``, ``shared_expert_*``, ``expert_all_to_all``
:func:`tensor_parallel_all_reduce`      ``tp_all_reduce`` (after attention and each dense MLP)
:func:`pipeline_handoff`                ``pp_handoff`` between stages
:func:`layer_handoff`                   ``layer_handoff`` from one layer's region to the next (on a mesh)
:func:`final_norm_and_lm_head`          ``final_norm``, ``lm_head`` (last position of each sequence)
:func:`draft_input_projection`          ``draft_fuse`` (a speculative draft head's input projection)
======================================  ===================================================================

:func:`assemble` strings them together, in that order, into a :class:`~roofline.workloads.Workload` with
the resident set (weights and KV cache per device). The physics shared with other rooms comes from
:mod:`roofline.formulas` (expected experts touched, collective bytes and steps, KV-cache sizes).

Latency is described, not timed: each op names the collective it runs on a link role (the link's topology
gives the hops, :mod:`roofline.engine.latency`) and, for a mesh, its dependent reductions as an
implementation runs them and the fewest its dependencies allow (``reductions``), over its layer's region or
its own (``region``).

Shape symbols: ``b`` (sequences of one attention group in one micro-batch: of a tensor-parallel group, or
of one device under data-parallel attention), ``s`` (decode: tokens already in the KV cache), ``p``
(prefill: prompt tokens per sequence) and ``q`` (a speculative verify step: tokens each sequence scores).
Parallelism and data types are plain values: they change the structure of the expressions, not their
arguments.

Token ownership decides every collective's bytes. With tensor-parallel attention every device of a stage
holds every token of the step after the attention all-reduce; with data-parallel attention each device
holds only its own sequences' tokens. The routed experts of a stage are spread over its ``tp`` devices
whatever the attention, so the MoE work of a device is its share of the whole stage's tokens, and the
expert exchange moves only the hidden states a device owns to the devices holding their experts.

This module imports SymPy; it is loaded only when an expression is built (see
:func:`roofline.llm.workload.llm_workload`).
"""

from __future__ import annotations

from dataclasses import dataclass

import sympy as sp

from .. import formulas
from ..dtypes import bytes_per_element, compute_dtype, elementwise_dtype
from ..placement.layout import Parallelism
from ..symbols import shape_symbol
from ..vocab import Collective, LinkRole, Phase, TensorRole
from ..workloads.ir import Op, Tensor, Workload
from ..formulas import decode_attention_pairs, prefill_attention_pairs
from .config import ModelConfig
from .precision import Precision
from .sizes import kv_cache_bytes, kv_elements_per_token_per_device, kv_shards, weights_bytes_per_device

__all__ = ["BlockContext", "AttentionWidths", "attention_widths", "embedding", "layer_norms",
           "attention_projections", "attention_core", "output_projection", "dense_mlp", "mixture_of_experts",
           "tensor_parallel_all_reduce", "pipeline_handoff", "layer_handoff", "final_norm_and_lm_head",
           "draft_input_projection", "assemble"]

_W, _KV, _ACT = TensorRole.WEIGHT, TensorRole.KV, TensorRole.ACTIVATION


# ------------------------------------------------------------------------------------------------------
# the context every builder reads
# ------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class BlockContext:
    """What every block builder needs: the model, the phase, data types, parallelism and the shapes.

    Attributes
    ----------
    model : ModelConfig
    phase : Phase
    prec : Precision
    par : Parallelism
    b : sympy.Symbol
        Sequences in flight [1].
    t : sympy.Expr
        Tokens each sequence processes in the step [1]: 1 in decode, ``q`` in a speculative verify step,
        ``p`` in prefill.
    ctx : sympy.Expr
        Tokens each sequence attends over [1]: ``s`` in decode and verify, ``p`` in prefill.
    compute_dtype : str
        The data type GEMMs compute in (the wider of weights and activations).
    attention_dtype : str
        The data type attention computes in (the wider of activations and KV cache).
    elementwise_dtype : str
        The data type norms, activations, residual adds and reductions compute in.
    """

    model: ModelConfig
    phase: Phase
    prec: Precision
    par: Parallelism
    b: sp.Symbol
    t: sp.Expr
    ctx: sp.Expr
    compute_dtype: str
    attention_dtype: str
    elementwise_dtype: str

    @classmethod
    def of(cls, model: ModelConfig, phase: Phase | str, prec: Precision, par: Parallelism) -> "BlockContext":
        """The context of one step of ``phase`` for ``model`` in ``prec`` on layout ``par``.

        Parameters
        ----------
        model : ModelConfig
        phase : Phase or str
            ``prefill``, ``decode`` or ``verify``.
        prec : Precision
        par : Parallelism

        Returns
        -------
        BlockContext
        """
        phase = Phase(phase)
        ctx = shape_symbol(phase.length_symbol)
        # tokens per sequence in the step: one in decode, q = gamma + 1 in a speculative verify, p in prefill
        t = {Phase.DECODE: sp.Integer(1), Phase.VERIFY: shape_symbol("q")}.get(phase, ctx)
        return cls(model, phase, prec, par, shape_symbol("b"), t, ctx,
                   compute_dtype(prec.weights, prec.activations), compute_dtype(prec.activations, prec.kv),
                   elementwise_dtype(prec.activations))

    @property
    def T(self) -> sp.Expr:
        """Tokens the step processes on each device, :math:`T = b \\cdot t`.

        Returns
        -------
        sympy.Expr
            [1].
        """
        return self.b * self.t

    @property
    def heads(self) -> int:
        """Query heads on one device, :math:`\\lceil n_h / t_\\text{attn} \\rceil` (all with data-parallel attention).

        Returns
        -------
        int
            [1].
        """
        return formulas.ceil_div(self.model.n_heads, self.par.attention_tp)

    @property
    def kv_heads(self) -> int:
        """KV heads on one device, :math:`\\lceil n_{kv} / t_\\text{attn} \\rceil`.

        Returns
        -------
        int
            [1].
        """
        return formulas.ceil_div(self.model.n_kv_heads, self.par.attention_tp)

    @property
    def ep(self) -> int:
        """Devices the routed experts of a stage are spread over.

        Returns
        -------
        int
            [1].
        """
        return self.par.ep

    @property
    def dense_tp(self) -> int:
        """Devices a dense MLP, a shared expert and the lm_head are split over: the attention group.

        Returns
        -------
        int
            [1].
        """
        return self.par.attention_tp

    @property
    def moe_tokens(self) -> sp.Expr:
        """Tokens the routed experts of a stage serve in the step, :math:`T \\cdot n_\\text{attn groups}`.

        Returns
        -------
        sympy.Expr
            [1].
        """
        return self.T * self.par.attention_dp

    @property
    def owned_tokens(self) -> sp.Expr:
        """Tokens one device owns for the expert exchange: its own under data-parallel attention, its
        :math:`1/tp` share of the step's under tensor-parallel attention.

        Returns
        -------
        sympy.Expr
            [1].
        """
        return self.T / self.par.attention_tp if self.par.attention_tp > 1 else self.T

    @property
    def mlp_matrices(self) -> int:
        """Input matrices of an MLP: 2 (gate and up) for a gated MLP, else 1.

        Returns
        -------
        int
            [1].
        """
        return 2 if self.model.mlp == "gated" else 1


def _bpe(dtype: str) -> sp.Expr:
    return sp.nsimplify(bytes_per_element(dtype))


def _gemm(c: BlockContext, name: str, M, K: int, N: int, count: int, reductions=(1, 1), region: str = "layer") -> Op:
    """``y[M, N] = x[M, K] · W[K, N]``: 2 M K N FLOPs, a weight of K N elements; on a mesh, one reduction over
    its region (the input broadcast in, the partial sums reduced out)."""
    wd, ad = c.prec.weights, c.prec.activations
    return Op(name, 2 * M * K * N, c.compute_dtype,
              (Tensor("x", M * K, ad, _ACT), Tensor("W", sp.Integer(K * N), wd, _W), Tensor("y", M * N, ad, _ACT)),
              count=sp.Integer(count), kind="gemm", reductions=reductions, region=region)


def _elementwise(c: BlockContext, name: str, n_in, n_out, flops_per: int, count: int, weight_elems: int = 0,
                 reductions=(0, 0), region: str = "layer") -> Op:
    """Reads ``n_in`` and writes ``n_out`` activations (and a ``weight_elems`` weight), ``flops_per`` per output;
    a norm reduces over the hidden state (one reduction an implementation runs, none the bound needs: it folds
    into the neighbouring GEMV's)."""
    wd, ad = c.prec.weights, c.prec.activations
    ts = [Tensor("x", n_in, ad, _ACT), Tensor("y", n_out, ad, _ACT)]
    if weight_elems:
        ts.append(Tensor("w", sp.Integer(weight_elems), wd, _W))
    return Op(name, flops_per * n_out, c.elementwise_dtype, tuple(ts), count=sp.Integer(count), kind="elementwise",
              reductions=reductions, region=region)


# ------------------------------------------------------------------------------------------------------
# embedding and norms
# ------------------------------------------------------------------------------------------------------
def embedding(c: BlockContext) -> tuple[Op, ...]:
    """The embedding lookup (one row per token, not the whole table) and learned positions.

    Parameters
    ----------
    c : BlockContext

    Returns
    -------
    tuple of Op
        ``embedding``, plus ``position_add`` for learned positions.
    """
    d, T = c.model.d_model, c.T
    ops = [Op("embedding", sp.Integer(0), c.compute_dtype,
              (Tensor("rows", T * d, c.prec.weights, _W), Tensor("x", T * d, c.prec.activations, _ACT)),
              kind="embedding")]
    if c.model.position == "learned":
        ops.append(_elementwise(c, "position_add", 2 * T * d, T * d, 1, 1, 0))
    return tuple(ops)


def layer_norms(c: BlockContext) -> tuple[Op, ...]:
    """The pre-attention and pre-MLP norms of every layer (4 FLOPs per element, a ``d``-wide scale).

    Parameters
    ----------
    c : BlockContext

    Returns
    -------
    tuple of Op
        ``norm``, run twice per layer.
    """
    d, T = c.model.d_model, c.T
    return (_elementwise(c, "norm", T * d, T * d, 4, 2 * c.model.n_layers, d, reductions=(1, 0)),)


# ------------------------------------------------------------------------------------------------------
# attention
# ------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class AttentionWidths:
    """Per-token widths of attention on one tensor-parallel rank [elements].

    Attributes
    ----------
    q : int
        Query elements per token (all local heads).
    o : int
        Attention output elements per token (the input of ``o_proj``).
    kv : int
        KV-cache elements per token per layer (:func:`~roofline.llm.sizes.kv_elements_per_token_per_device`).
    score : int
        Width of one head's query-key dot product.
    value : int
        Width of one head's weighted sum of values.
    """

    q: int
    o: int
    kv: int
    score: int
    value: int


def attention_widths(c: BlockContext) -> AttentionWidths:
    """The widths attention works at, for grouped-query or multi-head latent attention.

    MLA decode uses absorbed weights: scores are taken over the latent and its RoPE part
    (:math:`r_{kv} + d_\\text{rope}`) and values are summed in the latent (:math:`r_{kv}`); prefill
    decompresses the latent and works at the per-head widths (:math:`d_\\text{nope} + d_\\text{rope}` and
    :math:`d_v`). DeepSeek-AI, "DeepSeek-V2", arXiv 2405.04434, section 2.1.

    Parameters
    ----------
    c : BlockContext

    Returns
    -------
    AttentionWidths
    """
    m, h = c.model, c.heads
    kv = kv_elements_per_token_per_device(m, c.par.attention_tp)
    if not m.is_mla:
        return AttentionWidths(h * m.head_dim, h * m.head_dim, kv, m.head_dim, m.head_dim)
    qk = m.qk_nope_head_dim + m.qk_rope_head_dim
    if c.phase is Phase.PREFILL:
        score, value = qk, m.v_head_dim
    else:
        score, value = m.kv_lora_rank + m.qk_rope_head_dim, m.kv_lora_rank
    return AttentionWidths(h * qk, h * m.v_head_dim, kv, score, value)


def attention_projections(c: BlockContext) -> tuple[Op, ...]:
    """The projections into queries, keys and values.

    Multi-head and grouped-query attention: one fused ``qkv_proj``, then ``qk_norm`` on the layers that
    normalise each head's queries and keys (4 FLOPs per element of q and k; a learned norm reads a
    ``head_dim``-wide scale for each). Multi-head latent attention: the low-rank query (``q_a_proj``,
    ``q_b_proj``, or ``q_proj`` without a query latent) and key-value (``kv_a_proj`` into the latent and
    RoPE key, ``kv_b_proj`` out of it) projections.

    Parameters
    ----------
    c : BlockContext

    Returns
    -------
    tuple of Op
    """
    m, T, L, d, h = c.model, c.T, c.model.n_layers, c.model.d_model, c.heads
    if not m.is_mla:
        qk = (h + c.kv_heads) * m.head_dim
        norm = (_elementwise(c, "qk_norm", T * qk, T * qk, 4, m.qk_norm_layers,
                             2 * m.head_dim if m.qk_norm == "rmsnorm" else 0),) if m.qk_norm_layers else ()
        return (_gemm(c, "qkv_proj", T, d, h * m.head_dim + 2 * c.kv_heads * m.head_dim, L),) + norm
    qk = m.qk_nope_head_dim + m.qk_rope_head_dim
    if m.q_lora_rank:
        q = (_gemm(c, "q_a_proj", T, d, m.q_lora_rank, L), _gemm(c, "q_b_proj", T, m.q_lora_rank, h * qk, L))
    else:
        q = (_gemm(c, "q_proj", T, d, h * qk, L),)
    # the key-value chain runs beside the query chain: the bound charges its reductions to the queries'
    return q + (_gemm(c, "kv_a_proj", T, d, m.kv_lora_rank + m.qk_rope_head_dim, L, reductions=(1, 0)),
                _gemm(c, "kv_b_proj", T, m.kv_lora_rank, h * (m.qk_nope_head_dim + m.v_head_dim), L, reductions=(1, 0)))


def _attention(c: BlockContext, w: AttentionWidths, name: str, count: int, window: int, chunk: int = 0) -> Op:
    b, ctx = c.b, c.ctx
    if c.phase is not Phase.PREFILL:
        # (query, key) pairs per head: one new token, or the q tokens of a speculative verify step
        pairs = b * decode_attention_pairs(ctx, window, chunk, c.t if c.phase is Phase.VERIFY else 1)
        # the step reads the keys this layer's new tokens attend to (its cache, at most the window, or its
        # chunk) once and appends its new tokens
        kv_read = formulas.kv_cache_elements(b, decode_attention_pairs(ctx, chunk=chunk), 1, w.kv) if chunk \
            else formulas.kv_cache_elements(b, ctx, 1, w.kv, 1 if window else 0, window)
        kv_write = formulas.kv_cache_elements(b, c.t, 1, w.kv)
    else:
        pairs = b * prefill_attention_pairs(ctx, window, chunk)
        kv_read = formulas.kv_cache_elements(b, ctx, 1, w.kv)  # each of the p tokens' K and V is read once
        kv_write = formulas.kv_cache_elements(b, ctx, 1, w.kv)
    flops = 2 * c.heads * pairs * (w.score + w.value)
    ad, kd = c.prec.activations, c.prec.kv
    ts = (Tensor("q", c.T * w.q, ad, _ACT), Tensor("kv_read", kv_read, kd, _KV),
          Tensor("kv_write", kv_write, kd, _KV), Tensor("o", c.T * w.o, ad, _ACT))
    # on a mesh: the softmax's reduction over the cached positions and the weighted sum of values (one pass
    # with an online softmax, which is all the bound charges)
    return Op(name, flops, c.attention_dtype, ts, count=sp.Integer(count), kind="attention", reductions=(2, 1),
              region="layer")


def attention_core(c: BlockContext, w: AttentionWidths) -> tuple[Op, ...]:
    """Scores and weighted values: ``attention`` over full layers, ``attention_sliding`` over sliding-window
    layers, ``attention_chunked`` over chunked-attention layers (each counted from the model's per-layer
    pattern).

    FLOPs are :math:`2 h \\, N_\\text{pairs} (w_\\text{score} + w_\\text{value})` per sequence, with the
    pairs of :func:`~roofline.formulas.decode_attention_pairs` or
    :func:`~roofline.formulas.prefill_attention_pairs`. A decode step reads the keys and values its new
    token attends to (the layer's whole cache, at most the window, or the tokens of its own chunk:
    :math:`s \\bmod c`) and writes one token's; a prefill reads and writes every prompt token's once.

    Parameters
    ----------
    c : BlockContext
    w : AttentionWidths

    Returns
    -------
    tuple of Op
        One op per kind of layer present.
    """
    m = c.model
    layers = (("attention", m.attention_layers("full"), 0, 0),
              ("attention_sliding", m.attention_layers("sliding"), m.sliding_window, 0),
              ("attention_chunked", m.attention_layers("chunked"), 0, m.attention_chunk))
    return tuple(_attention(c, w, name, n, window, chunk) for name, n, window, chunk in layers if n > 0)


def output_projection(c: BlockContext, w: AttentionWidths) -> tuple[Op, ...]:
    """The attention output projection and the two residual adds of every layer.

    Parameters
    ----------
    c : BlockContext
    w : AttentionWidths

    Returns
    -------
    tuple of Op
        ``o_proj`` and ``residual_add``.
    """
    d, T, L = c.model.d_model, c.T, c.model.n_layers
    return (_gemm(c, "o_proj", T, w.o, d, L), _elementwise(c, "residual_add", 2 * T * d, T * d, 1, 2 * L))


# ------------------------------------------------------------------------------------------------------
# MLP and mixture of experts
# ------------------------------------------------------------------------------------------------------
def _mlp(c: BlockContext, prefix: str, d_ff: int, count: int, reductions=(1, 1)) -> tuple[Op, ...]:
    if count <= 0:
        return ()
    d, T, mats = c.model.d_model, c.T, c.mlp_matrices
    f = formulas.ceil_div(d_ff, c.dense_tp)
    return (_gemm(c, f"{prefix}_up", T, d, mats * f, count, reductions),
            _elementwise(c, f"{prefix}_act", mats * T * f, T * f, 4, count),
            _gemm(c, f"{prefix}_down", T, f, d, count, reductions))


def dense_mlp(c: BlockContext) -> tuple[Op, ...]:
    """The MLP of the dense layers (every layer of a dense model, the first layers of some MoE models).

    Parameters
    ----------
    c : BlockContext

    Returns
    -------
    tuple of Op
        ``mlp_up`` (gate and up for a gated MLP), ``mlp_act``, ``mlp_down``; none without dense layers.
    """
    return _mlp(c, "mlp", c.model.d_ff, c.model.dense_layers)


def _routed_experts(c: BlockContext) -> Op:
    """The stage's token-expert pairs spread over its ``ep`` expert groups (each expert split ``tp / ep``
    ways), the busiest device carrying ``imbalance`` times the mean; a device reads the weights of the
    experts the stage's tokens touch (:func:`roofline.formulas.expected_experts_touched`)."""
    m, T, ep, etp = c.model, c.moe_tokens, c.ep, c.par.expert_tp
    E, k, d, f = m.n_experts, m.experts_per_token, m.d_model, formulas.ceil_div(m.d_ff_expert, etp)
    e_dev = sp.Rational(E, ep) if E % ep else sp.Integer(E // ep)
    load = sp.nsimplify(c.par.imbalance)
    routed = T * sp.Rational(k, ep) * load  # token-expert pairs of the busiest expert group
    touched = formulas.expected_experts_touched(e_dev, k, E, T)
    w_expert = (c.mlp_matrices + 1) * d * f
    ad = c.prec.activations
    ts = (Tensor("x", routed * d, ad, _ACT), Tensor("W", touched * w_expert, c.prec.weights, _W),
          Tensor("h", routed * (c.mlp_matrices + 1) * f, ad, _ACT), Tensor("y", routed * d, ad, _ACT))
    # on a mesh: dispatch to the chosen experts and the weighted combine cross the layer's expert region (every
    # expert's weights); each chosen expert's up and down GEMVs reduce over that expert's own weights, the
    # chosen experts side by side (the bound: the two GEMVs)
    return Op("experts", 2 * routed * w_expert, c.compute_dtype, ts, count=sp.Integer(m.moe_layers), kind="moe",
              reductions=(4, 2), region=(expert_region_bytes(c), w_expert * _bpe(c.prec.weights)))


def expert_region_bytes(c: BlockContext) -> sp.Expr:
    """Bytes of one MoE layer's routed experts on a device: the mesh region its dispatch and combine cross.

    Parameters
    ----------
    c : BlockContext

    Returns
    -------
    sympy.Expr
        :math:`E_\\text{dev}\\, n_\\text{mat}\\, d\\, f / t_e` elements in the weight type [B] (0 for a dense model).
    """
    m = c.model
    if not m.is_moe:
        return sp.Integer(0)
    E, ep = m.n_experts, c.ep
    e_dev = sp.Rational(E, ep) if E % ep else sp.Integer(E // ep)
    f = formulas.ceil_div(m.d_ff_expert, c.par.expert_tp)
    return e_dev * (c.mlp_matrices + 1) * m.d_model * f * _bpe(c.prec.weights)


def _exchange_bytes(c: BlockContext, groups: float) -> sp.Expr:
    """Bytes a device sends to the other ``groups - 1`` groups of the stage in one dispatch: each token it
    owns once per other group that holds one of its experts, the busiest receiver ``imbalance`` times that."""
    m = c.model
    dest = formulas.expected_groups_touched(m.experts_per_token, m.n_experts, groups) * (groups - 1) / groups
    return formulas.expert_exchange_bytes(c.owned_tokens, m.d_model, _bpe(c.prec.activations), dest) \
        * sp.nsimplify(c.par.imbalance)


def _expert_all_to_all(c: BlockContext) -> tuple[Op, ...]:
    """Dispatch and combine of every MoE layer, per device, from who owns which token and which expert.

    Each device sends the hidden states it owns (:attr:`BlockContext.owned_tokens`) to the other devices of
    the stage that hold their experts, once per device (:func:`roofline.formulas.expected_groups_touched`),
    and gets the results back: :math:`2\\,T_\\text{own} D d` bytes per layer. When the stage spans several
    link domains, the part bound for other domains crosses the network once per domain (``ep_network``)
    and the rest stays on the domain's link. With tensor-parallel attention inside one domain, an
    all-reduce of the step's :math:`T d` outputs does the same job; the smaller of the two is charged.
    """
    tp = c.par.tp
    if tp <= 1:
        return ()
    node = c.par.node if 1 < c.par.node < tp else tp
    intra = 2 * _exchange_bytes(c, tp) * sp.Rational(node - 1, tp - 1)
    links = {LinkRole.EP: intra}
    steps = {LinkRole.EP: sp.Integer(2)}
    # the latency of each exchange comes from the link's topology (roofline.engine.latency): dispatch and
    # combine are two all-to-alls per layer over the devices of the stage
    colls = {LinkRole.EP: (Collective.ALL_TO_ALL, node)}
    if node < tp:
        links[LinkRole.EP_NETWORK] = 2 * _exchange_bytes(c, tp / node)
        steps[LinkRole.EP_NETWORK] = sp.Integer(2)
        colls[LinkRole.EP_NETWORK] = (Collective.ALL_TO_ALL, tp // node)
    elif c.par.attention_tp > 1:
        ar = formulas.all_reduce_bytes(c.T * c.model.d_model * _bpe(c.prec.activations), tp)
        if _smaller(ar, intra):
            links, steps = {LinkRole.EP: ar}, {LinkRole.EP: sp.Integer(formulas.all_reduce_steps(tp))}
            colls = {LinkRole.EP: (Collective.ALL_REDUCE, tp)}
    return (Op("expert_all_to_all", sp.Integer(0), c.compute_dtype, (), link_bytes=links, link_steps=steps,
               collectives=colls, count=sp.Integer(c.model.moe_layers), kind="collective"),)


def _smaller(a: sp.Expr, b: sp.Expr) -> bool:
    """Whether ``a <= b`` for every positive value of the shape symbols (both are linear in the tokens)."""
    syms = sorted((sp.sympify(a) + sp.sympify(b)).free_symbols, key=lambda x: x.name)
    one = {x: 1 for x in syms}
    return bool(sp.sympify(a).subs(one) <= sp.sympify(b).subs(one))


def mixture_of_experts(c: BlockContext) -> tuple[Op, ...]:
    """The MoE block of every MoE layer: router, routed experts, shared experts, expert all-to-all.

    The routed experts run :math:`T_\\text{stage} k / n_{ep}` token-expert pairs per expert group and read
    the weights of :math:`E_\\text{dev}(1 - (1 - k/E)^{T_\\text{stage}})` experts in expectation (uniform
    routing), where :math:`T_\\text{stage}` is the tokens of the whole stage (the step's under
    tensor-parallel attention, every device's own under data-parallel attention).

    Parameters
    ----------
    c : BlockContext

    Returns
    -------
    tuple of Op
        ``router``, ``experts``, ``shared_expert_*`` (with shared experts), ``expert_all_to_all`` (over
        more than one device); none for a dense model.
    """
    m = c.model
    if not m.is_moe:
        return ()
    ops = (_gemm(c, "router", c.T, m.d_model, m.n_experts, m.moe_layers), _routed_experts(c))
    if m.n_shared_experts:  # beside the routed experts: no reductions of their own on a mesh
        ops += _mlp(c, "shared_expert", m.n_shared_experts * (m.d_ff_shared or m.d_ff_expert), m.moe_layers,
                    reductions=(0, 0))
    return ops + _expert_all_to_all(c)


# ------------------------------------------------------------------------------------------------------
# collectives of the layout
# ------------------------------------------------------------------------------------------------------
def tensor_parallel_all_reduce(c: BlockContext) -> tuple[Op, ...]:
    """The all-reduces of tensor-parallel attention: after attention and after each dense MLP (MoE layers
    use the expert exchange); none under data-parallel attention.

    Its bytes are the bandwidth-optimal ring's (:func:`roofline.formulas.collective_bytes`); its hops come
    from the link's topology (:meth:`roofline.hardware.topology.Topology.hops`): the fewest any algorithm
    needs in the bound, the algorithms libraries use in the estimate.

    Parameters
    ----------
    c : BlockContext

    Returns
    -------
    tuple of Op
        ``tp_all_reduce``; none on one tensor-parallel rank.
    """
    tp = c.par.attention_tp
    if tp <= 1:
        return ()
    m, T, ad = c.model, c.T, c.prec.activations
    d = m.d_model
    msg = T * d * _bpe(ad)
    return (Op("tp_all_reduce", T * d * sp.Rational(tp - 1, tp), c.elementwise_dtype,
               (Tensor("x", T * d, ad, _ACT), Tensor("y", T * d, ad, _ACT)),
               link_bytes={LinkRole.TP: formulas.collective_bytes(Collective.ALL_REDUCE, msg, tp)},
               collectives={LinkRole.TP: (Collective.ALL_REDUCE, tp)},
               count=sp.Integer(m.n_layers + m.dense_layers), kind="collective"),)


def pipeline_handoff(c: BlockContext) -> tuple[Op, ...]:
    """The activations each pipeline stage hands to the next: one message of ``T d`` elements per boundary.

    Parameters
    ----------
    c : BlockContext

    Returns
    -------
    tuple of Op
        ``pp_handoff``; none with one stage.
    """
    pp = c.par.pp
    if pp <= 1:
        return ()
    return (Op("pp_handoff", sp.Integer(0), c.compute_dtype, (),
               link_bytes={LinkRole.PP: c.T * c.model.d_model * _bpe(c.prec.activations)},
               collectives={LinkRole.PP: (Collective.POINT_TO_POINT, 2)}, count=sp.Integer(pp - 1),
               kind="collective"),)


def layer_handoff(c: BlockContext) -> tuple[Op, ...]:
    """The hidden state moving from one layer's region of a mesh to the next on the same device (no work,
    no traffic: a latency on a wafer or a tile, nothing elsewhere).

    Parameters
    ----------
    c : BlockContext

    Returns
    -------
    tuple of Op
        ``layer_handoff``, one per layer boundary inside a stage; none for a single layer per stage.
    """
    n = c.model.n_layers - c.par.pp
    if n <= 0:
        return ()
    return (Op("layer_handoff", sp.Integer(0), c.compute_dtype, (), count=sp.Integer(n), kind="handoff",
               handoffs=1),)


# ------------------------------------------------------------------------------------------------------
# the head, and the whole
# ------------------------------------------------------------------------------------------------------
def final_norm_and_lm_head(c: BlockContext) -> tuple[Op, ...]:
    """The final norm and the lm_head, for the last position of each sequence only (``b`` tokens); a
    speculative verify step needs the logits of every position it scores (``b q`` tokens).

    Parameters
    ----------
    c : BlockContext

    Returns
    -------
    tuple of Op
        ``final_norm`` and ``lm_head`` (the vocabulary split over the tensor-parallel ranks).
    """
    m, b = c.model, (c.T if c.phase is Phase.VERIFY else c.b)
    d = m.d_model
    return (_elementwise(c, "final_norm", b * d, b * d, 4, 1, d, reductions=(1, 0), region="own"),
            _gemm(c, "lm_head", b, d, formulas.ceil_div(m.vocab_size, c.dense_tp), 1, region="own"))


def draft_input_projection(c: BlockContext, inputs: int = 2) -> tuple[Op, ...]:
    """The projection a draft head runs first: ``inputs`` vectors of width ``d`` (the target's hidden state
    and the next token's embedding) concatenated and mapped back to ``d``.

    DeepSeek-V3's MTP module (its matrix :math:`M_k`, arXiv 2412.19437 section 2.2) and EAGLE's head
    (arXiv 2401.15077, section 4.1) both concatenate two :math:`d`-wide vectors: a GEMM of
    :math:`2 d \\times d` per drafted token.

    Parameters
    ----------
    c : BlockContext
    inputs : int
        Vectors concatenated [1].

    Returns
    -------
    tuple of Op
        ``draft_fuse``.
    """
    d = c.model.d_model
    return (_gemm(c, "draft_fuse", c.T, inputs * d, formulas.ceil_div(d, c.dense_tp), 1),)


def _resident(c: BlockContext) -> sp.Expr:
    """Bytes one device holds: its share of the weights and of the KV cache of every micro-batch in flight
    after the step."""
    m = c.model
    per_dev_w = weights_bytes_per_device(m, c.prec, c.par)
    tokens = c.ctx if c.phase is Phase.PREFILL else c.ctx + c.t
    kv_dev = kv_cache_bytes(m, c.prec, c.b * c.par.micro_batches, tokens) / kv_shards(m, c.par)
    return sp.nsimplify(per_dev_w) + sp.sympify(kv_dev)


def assemble(c: BlockContext) -> Workload:
    """The per-device workload of one step: every block's ops, in order, and the resident set.

    Parameters
    ----------
    c : BlockContext

    Returns
    -------
    Workload
        Named ``"<model> <phase>"``; ``meta`` holds the model key, phase, precision and parallelism.
    """
    w = attention_widths(c)
    ops = (*embedding(c), *layer_norms(c), *attention_projections(c), *attention_core(c, w),
           *output_projection(c, w), *dense_mlp(c), *mixture_of_experts(c), *tensor_parallel_all_reduce(c),
           *pipeline_handoff(c), *layer_handoff(c), *final_norm_and_lm_head(c))
    m = c.model
    resident = _resident(c)
    # a layer's region on a mesh is what its attention, norms and dense or shared MLP hold (a GEMV reduces over
    # the cores of its own weights, WaferLLM); a MoE layer's routed experts sit beside it, in a region of their own
    # (their share of the device's weights taken off; the KV cache stays with the attention)
    layer = resident / formulas.ceil_div(m.n_layers, c.par.pp)
    if m.is_moe:
        routed = m.moe_layers * m.n_experts * (c.mlp_matrices + 1) * m.d_model * m.d_ff_expert
        trunk = 1 - sp.Rational(routed, m.total_params())
        layer = (resident - sp.nsimplify(weights_bytes_per_device(m, c.prec, c.par)) * (1 - trunk)) \
            / formulas.ceil_div(m.n_layers, c.par.pp)
    return Workload(f"{m.key} {c.phase}", ops, resident=resident,
                    meta={"model": m.key, "phase": c.phase, "precision": c.prec, "parallel": c.par},
                    layer_bytes=layer)
