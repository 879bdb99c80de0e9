"""LLM model configurations: load the shipped configs, a user's TOML file, or a Hugging Face config.json.

A :class:`ModelConfig` holds the architecture only (no data types, no devices). Its parameter counts are
computed from the architecture and checked against the authors' published totals in the tests.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping

__all__ = ['ModelConfig']


_ARCH_INT = ("n_layers", "d_model", "n_heads", "vocab_size")


@dataclass(frozen=True)
class ModelConfig:
    """A decoder-only transformer's architecture.

    Sizes are counts of elements; ``head_dim`` defaults to ``d_model / n_heads``. Mixture-of-experts
    models set ``n_experts > 0``; multi-head latent attention (DeepSeek-V3) sets ``kv_lora_rank > 0``.
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
    aliases: tuple[str, ...] = ()
    family: str = ""
    year: int | None = None
    source: Mapping[str, str] = field(default_factory=dict, compare=False)
    published: Mapping[str, object] = field(default_factory=dict, compare=False)
    file: str = field(default="", compare=False)

    # -- derived sizes ---------------------------------------------------------------------------------
    @property
    def is_moe(self) -> bool:
        return self.n_experts > 0

    @property
    def is_mla(self) -> bool:
        return self.kv_lora_rank > 0

    @property
    def q_dim(self) -> int:
        """Width of the query projection: ``n_heads × head_dim`` (MLA: × (nope + rope))."""
        if self.is_mla:
            return self.n_heads * (self.qk_nope_head_dim + self.qk_rope_head_dim)
        return self.n_heads * self.head_dim

    @property
    def kv_dim(self) -> int:
        """Width of K (and of V): ``n_kv_heads × head_dim``."""
        return self.n_kv_heads * self.head_dim

    @property
    def attn_out_dim(self) -> int:
        """Input width of the output projection."""
        return self.n_heads * (self.v_head_dim if self.is_mla else self.head_dim)

    @property
    def kv_cache_elements_per_token_per_layer(self) -> int:
        """KV-cache elements one token stores in one layer: ``2 × n_kv_heads × head_dim`` (MLA: the latent)."""
        if self.is_mla:
            return self.kv_lora_rank + self.qk_rope_head_dim
        return 2 * self.kv_dim

    @property
    def moe_layers(self) -> int:
        return self.n_layers - self.first_dense_layers if self.is_moe else 0

    @property
    def dense_layers(self) -> int:
        return self.n_layers - self.moe_layers

    def _mlp_matrices(self) -> int:
        return 3 if self.mlp == "gated" else 2

    # -- parameter counts --------------------------------------------------------------------------
    def attention_params(self) -> int:
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
        return p

    def dense_mlp_params(self, d_ff: int | None = None) -> int:
        f = self.d_ff if d_ff is None else d_ff
        p = self._mlp_matrices() * self.d_model * f
        if self.mlp_bias:
            p += (self._mlp_matrices() - 1) * f + self.d_model
        return p

    def expert_params(self) -> int:
        """Parameters of one routed expert."""
        return self.dense_mlp_params(self.d_ff_expert)

    def router_params(self) -> int:
        return self.d_model * self.n_experts + (self.n_experts if self.mlp_bias else 0)

    def shared_expert_params(self) -> int:
        return self.n_shared_experts * self.dense_mlp_params(self.d_ff_shared or self.d_ff_expert)

    def norm_params(self) -> int:
        return self.d_model * (2 if self.norm == "layernorm" else 1)

    def embedding_params(self) -> int:
        return self.vocab_size * self.d_model

    def lm_head_params(self) -> int:
        return 0 if self.tie_embeddings else self.vocab_size * self.d_model

    def position_params(self) -> int:
        return self.max_context * self.d_model if self.position == "learned" else 0

    def layer_params(self, moe: bool) -> int:
        mlp = (self.n_experts * self.expert_params() + self.router_params() + self.shared_expert_params()) if moe \
            else self.dense_mlp_params()
        return self.attention_params() + mlp + 2 * self.norm_params()

    def total_params(self) -> int:
        """Every parameter: embeddings, layers, final norm, lm_head (unless tied), learned positions."""
        return (self.embedding_params() + self.position_params()
                + self.dense_layers * self.layer_params(False) + self.moe_layers * self.layer_params(True)
                + self.norm_params() + self.lm_head_params())

    def active_params(self, include_embedding: bool = False) -> int:
        """Parameters used per token: routed experts count ``experts_per_token`` of ``n_experts``.

        The input embedding is a lookup of one row, so it is left out unless ``include_embedding``.
        """
        per_moe = (self.attention_params() + 2 * self.norm_params() + self.router_params()
                   + self.shared_expert_params() + self.experts_per_token * self.expert_params())
        layers = self.dense_layers * self.layer_params(False) + self.moe_layers * per_moe if self.is_moe \
            else self.n_layers * self.layer_params(False)
        emb = self.embedding_params() if include_embedding else 0
        lm = self.lm_head_params() if not self.tie_embeddings else self.embedding_params()
        return emb + layers + self.norm_params() + lm

