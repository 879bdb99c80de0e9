"""A decoder-only transformer's architecture, :class:`ModelConfig`, and its parameter counts.

A :class:`ModelConfig` holds the architecture only (no data types, no devices); files are read into one by
:mod:`roofline.llm.loader` through the schema of :mod:`roofline.llm.schema`. Its parameter counts are
computed from the architecture and checked against the authors' published totals in the tests.

Layers need not be alike: each layer has an attention kind (:data:`ATTENTION_KINDS`: full, a sliding
window, or chunked local attention) and an MLP kind (:data:`MLP_KINDS`: dense or a mixture of experts),
stated per layer (``layer_attention``, ``layer_mlp``) as the model's config states them, so that no model
is approximated by rearranging its layers. A multi-token-prediction module (DeepSeek-V3's MTP) is
described beside the main model (``mtp_modules``) and counted apart from it (:meth:`ModelConfig.mtp_params`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping

__all__ = ['ModelConfig', 'ATTENTION_KINDS', 'MLP_KINDS', 'QK_NORMS']

#: The attention of a layer: ``full`` (causal over the whole context), ``sliding`` (the last
#: ``sliding_window`` tokens) or ``chunked`` (the tokens of the query's own ``attention_chunk``-token chunk).
ATTENTION_KINDS = ("full", "sliding", "chunked")
#: The MLP of a layer: ``dense`` (one MLP of width ``d_ff``) or ``moe`` (router, experts, shared experts).
MLP_KINDS = ("dense", "moe")
#: Norms on the queries and keys of every head: none, a learned RMSNorm of ``head_dim`` each for q and k
#: (Qwen3), or a parameter-free L2 norm (Llama 4 Scout, on its RoPE layers).
QK_NORMS = ("none", "rmsnorm", "l2")


@dataclass(frozen=True)
class ModelConfig:
    """A decoder-only transformer's architecture.

    Sizes are counts of elements; ``head_dim`` defaults to ``d_model / n_heads``. Mixture-of-experts
    models set ``n_experts > 0``; multi-head latent attention (DeepSeek-V3) sets ``kv_lora_rank > 0``.
    ``layer_attention`` and ``layer_mlp`` give each layer's kind (one entry per layer; empty: every layer
    full attention, and dense or, from ``first_dense_layers`` on, MoE); ``layer_rope`` whether a layer
    rotates its queries and keys (empty: all do).
    """

    key: str
    name: str
    n_layers: int
    d_model: int
    n_heads: int
    n_kv_heads: int
    head_dim: int
    d_ff: int
    vocab_size: int
    mlp: str = "gated"
    norm: str = "rmsnorm"
    tie_embeddings: bool = False
    position: str = "rope"
    max_context: int = 4096
    attention_bias: bool = False
    mlp_bias: bool = False
    sliding_window: int = 0
    sliding_window_layers: int = 0
    attention_chunk: int = 0
    qk_norm: str = "none"
    layer_attention: tuple[str, ...] = ()
    layer_mlp: tuple[str, ...] = ()
    layer_rope: tuple[bool, ...] = ()
    # mixture of experts
    n_experts: int = 0
    experts_per_token: int = 0
    d_ff_expert: int = 0
    n_shared_experts: int = 0
    d_ff_shared: int = 0
    first_dense_layers: int = 0
    # multi-head latent attention
    q_lora_rank: int = 0
    kv_lora_rank: int = 0
    qk_nope_head_dim: int = 0
    qk_rope_head_dim: int = 0
    v_head_dim: int = 0
    # multi-token prediction (DeepSeek-V3 MTP): modules beside the main model
    mtp_modules: int = 0
    aliases: tuple[str, ...] = ()
    family: str = ""
    year: int | None = None
    source: Mapping[str, str] = field(default_factory=dict, compare=False)
    published: Mapping[str, object] = field(default_factory=dict, compare=False)
    file: str = field(default="", compare=False)

    # -- derived sizes ---------------------------------------------------------------------------------
    def _repr_html_(self) -> str:
        """The model as an HTML table for notebooks: its shape, parameters and source (no parameters).

        Returns
        -------
        str
            An HTML ``<table>``.
        """
        import html

        rows = [("layers", self.n_layers), ("d_model", self.d_model), ("heads", self.n_heads),
                ("KV heads", self.n_kv_heads), ("head dim", self.head_dim), ("vocabulary", self.vocab_size),
                ("parameters", f"{self.total_params() / 1e9:.2f} B"),
                ("active parameters per token", f"{self.active_params() / 1e9:.2f} B"),
                ("experts", self.n_experts or "dense"), ("source", self.source.get("url", ""))]
        body = "".join(f"<tr><th style='text-align:left'>{html.escape(k)}</th><td>{html.escape(str(v))}</td></tr>"
                       for k, v in rows)
        return f"<table><caption>{html.escape(f'{self.name} ({self.key})')}</caption>{body}</table>"

    @property
    def is_moe(self) -> bool:
        """Whether the model routes tokens to experts (``n_experts > 0``).

        Returns
        -------
        bool
        """
        return self.n_experts > 0

    @property
    def is_mla(self) -> bool:
        """Whether attention is multi-head latent attention (``kv_lora_rank > 0``).

        Returns
        -------
        bool
        """
        return self.kv_lora_rank > 0

    @property
    def q_dim(self) -> int:
        """Width of the query projection: ``n_heads × head_dim`` (MLA: × (nope + rope)).

        Returns
        -------
        int
            [elements].
        """
        if self.is_mla:
            return self.n_heads * (self.qk_nope_head_dim + self.qk_rope_head_dim)
        return self.n_heads * self.head_dim

    @property
    def kv_dim(self) -> int:
        """Width of K (and of V): ``n_kv_heads × head_dim``.

        Returns
        -------
        int
            [elements].
        """
        return self.n_kv_heads * self.head_dim

    @property
    def attn_out_dim(self) -> int:
        """Input width of the output projection: ``n_heads × head_dim`` (MLA: ``× v_head_dim``).

        Returns
        -------
        int
            [elements].
        """
        return self.n_heads * (self.v_head_dim if self.is_mla else self.head_dim)

    @property
    def kv_cache_elements_per_token_per_layer(self) -> int:
        """KV-cache elements one token stores in one layer.

        .. math:: e = 2 n_{kv} d_h \\quad\\text{(MHA, GQA)}, \\qquad e = r_{kv} + d_\\text{rope} \\quad\\text{(MLA)}

        Returns
        -------
        int
            [elements].
        """
        if self.is_mla:
            return self.kv_lora_rank + self.qk_rope_head_dim
        return 2 * self.kv_dim

    @property
    def moe_layers(self) -> int:
        """Layers whose MLP is a mixture of experts (``layer_mlp``; without it all but the
        ``first_dense_layers``; 0 for a dense model).

        Returns
        -------
        int
            [1].
        """
        if not self.is_moe:
            return 0
        if self.layer_mlp:
            return self.layer_mlp.count("moe")
        return self.n_layers - self.first_dense_layers

    @property
    def dense_layers(self) -> int:
        """Layers with a dense MLP.

        Returns
        -------
        int
            [1].
        """
        return self.n_layers - self.moe_layers

    def attention_layers(self, kind: str) -> int:
        """Layers whose attention is of ``kind`` (one of :data:`ATTENTION_KINDS`).

        Without ``layer_attention``, the ``sliding_window_layers`` are sliding and the others full.

        Parameters
        ----------
        kind : str
            ``full``, ``sliding`` or ``chunked``.

        Returns
        -------
        int
            [1].
        """
        if self.layer_attention:
            return self.layer_attention.count(kind)
        return {"full": self.n_layers - self.sliding_window_layers, "sliding": self.sliding_window_layers}.get(kind, 0)

    @property
    def qk_norm_layers(self) -> int:
        """Layers that normalise their queries and keys: every layer for a learned ``rmsnorm``; the RoPE
        layers (``layer_rope``) for Llama 4's ``l2`` norm; none without ``qk_norm``.

        Returns
        -------
        int
            [1].
        """
        if self.qk_norm == "none":
            return 0
        if self.qk_norm == "l2" and self.layer_rope:
            return sum(self.layer_rope)
        return self.n_layers

    def _mlp_matrices(self) -> int:
        return 3 if self.mlp == "gated" else 2

    # -- parameter counts --------------------------------------------------------------------------
    def attention_params(self) -> int:
        """Parameters of one layer's attention: the q, k, v and o projections (and their biases).

        .. math:: N_\\text{attn} = d\\,(n_h d_h) + 2 d\\,(n_{kv} d_h) + (n_h d_h)\\,d

        Multi-head latent attention counts its low-rank projections and their latent norms instead. A
        learned query-key norm (``qk_norm = "rmsnorm"``, Qwen3) adds a ``head_dim``-wide scale each for q and k.

        Returns
        -------
        int
            [1].
        """
        d = self.d_model
        if self.is_mla:
            qk = self.qk_nope_head_dim + self.qk_rope_head_dim
            if self.q_lora_rank:
                q = d * self.q_lora_rank + self.q_lora_rank + self.q_lora_rank * self.n_heads * qk
            else:
                q = d * self.n_heads * qk
            kv = (d * (self.kv_lora_rank + self.qk_rope_head_dim) + self.kv_lora_rank
                  + self.kv_lora_rank * self.n_heads * (self.qk_nope_head_dim + self.v_head_dim))
            return q + kv + self.attn_out_dim * d
        p = d * self.q_dim + 2 * d * self.kv_dim + self.q_dim * d
        if self.attention_bias:
            p += self.q_dim + 2 * self.kv_dim + d
        if self.qk_norm == "rmsnorm":
            p += 2 * self.head_dim
        return p

    def dense_mlp_params(self, d_ff: int | None = None) -> int:
        """Parameters of one MLP: 3 matrices of ``d_model × d_ff`` when gated, else 2 (and their biases).

        Parameters
        ----------
        d_ff : int, optional
            The MLP width [1]; default ``self.d_ff``.

        Returns
        -------
        int
            [1].
        """
        f = self.d_ff if d_ff is None else d_ff
        p = self._mlp_matrices() * self.d_model * f
        if self.mlp_bias:
            p += (self._mlp_matrices() - 1) * f + self.d_model
        return p

    def expert_params(self) -> int:
        """Parameters of one routed expert (an MLP of width ``d_ff_expert``).

        Returns
        -------
        int
            [1].
        """
        return self.dense_mlp_params(self.d_ff_expert)

    def router_params(self) -> int:
        """Parameters of one layer's router: ``d_model × n_experts`` (and a bias).

        Returns
        -------
        int
            [1].
        """
        return self.d_model * self.n_experts + (self.n_experts if self.mlp_bias else 0)

    def shared_expert_params(self) -> int:
        """Parameters of one layer's shared experts.

        Returns
        -------
        int
            [1].
        """
        return self.n_shared_experts * self.dense_mlp_params(self.d_ff_shared or self.d_ff_expert)

    def norm_params(self) -> int:
        """Parameters of one norm: a scale (RMSNorm), or a scale and a shift (LayerNorm).

        Returns
        -------
        int
            [1].
        """
        return self.d_model * (2 if self.norm == "layernorm" else 1)

    def embedding_params(self) -> int:
        """Parameters of the input embedding table: ``vocab_size × d_model``.

        Returns
        -------
        int
            [1].
        """
        return self.vocab_size * self.d_model

    def lm_head_params(self) -> int:
        """Parameters of the lm_head: ``vocab_size × d_model``, or 0 when tied to the embedding.

        Returns
        -------
        int
            [1].
        """
        return 0 if self.tie_embeddings else self.vocab_size * self.d_model

    def position_params(self) -> int:
        """Parameters of learned position embeddings: ``max_context × d_model`` (0 for RoPE, ALiBi, none).

        Returns
        -------
        int
            [1].
        """
        return self.max_context * self.d_model if self.position == "learned" else 0

    def layer_params(self, moe: bool) -> int:
        """Parameters of one layer: attention, MLP (or every expert, router and shared expert), two norms.

        Parameters
        ----------
        moe : bool
            A mixture-of-experts layer (else a dense one).

        Returns
        -------
        int
            [1].
        """
        mlp = (self.n_experts * self.expert_params() + self.router_params() + self.shared_expert_params()) if moe \
            else self.dense_mlp_params()
        return self.attention_params() + mlp + 2 * self.norm_params()

    def total_params(self) -> int:
        """Every parameter: embeddings, layers, final norm, lm_head (unless tied), learned positions.

        Returns
        -------
        int
            [1].
        """
        return (self.embedding_params() + self.position_params()
                + self.dense_layers * self.layer_params(False) + self.moe_layers * self.layer_params(True)
                + self.norm_params() + self.lm_head_params())

    def active_params(self, include_embedding: bool = False) -> int:
        """Parameters used per token: routed experts count ``experts_per_token`` of ``n_experts``.

        The input embedding is a lookup of one row, so it is left out unless ``include_embedding``; a tied
        lm_head counts the shared table once, as the lm_head.

        Parameters
        ----------
        include_embedding : bool
            Count the input embedding table.

        Returns
        -------
        int
            [1].
        """
        per_moe = (self.attention_params() + 2 * self.norm_params() + self.router_params()
                   + self.shared_expert_params() + self.experts_per_token * self.expert_params())
        layers = self.dense_layers * self.layer_params(False) + self.moe_layers * per_moe if self.is_moe \
            else self.n_layers * self.layer_params(False)
        emb = self.embedding_params() if include_embedding else 0
        lm = self.lm_head_params() if not self.tie_embeddings else self.embedding_params()
        return emb + layers + self.norm_params() + lm

    def mtp_params(self, include_shared: bool = False) -> int:
        """Parameters of the multi-token-prediction modules, counted apart from the main model.

        Each module (DeepSeek-V3, arXiv 2412.19437, section 2.2) is one transformer layer like the main
        model's last one, a projection of the concatenated hidden state and next-token embedding
        (:math:`2d \\to d`), RMSNorms on both inputs and a final norm; it shares the main model's embedding
        and output head:

        .. math:: N_\\text{MTP} = D\\,\\big(N_\\text{layer} + 2d^2 + 3d\\big)
                  \\; (+\\, D\\,(N_\\text{emb} + N_\\text{head}) \\text{ with the shared tables})

        Parameters
        ----------
        include_shared : bool
            Count each module's copy of the shared embedding and output head too (as the Hugging Face
            checkpoint stores them).

        Returns
        -------
        int
            [1]; 0 without MTP modules.
        """
        if not self.mtp_modules:
            return 0
        last_is_moe = (self.layer_mlp[-1] == "moe") if self.layer_mlp else self.is_moe
        per = self.layer_params(last_is_moe) + 2 * self.d_model * self.d_model + 3 * self.norm_params()
        if include_shared:
            per += self.embedding_params() + self.vocab_size * self.d_model
        return self.mtp_modules * per
