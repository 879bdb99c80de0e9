"""The decomposition honours per-layer patterns, checked by hand: chunked attention (Llama 4), every other
layer MoE (Llama 4 Maverick), query-key norms (Qwen3, Llama 4 Scout).

As in test_llm_blocks.py, every expected value is arithmetic on the numbers of the model's Hugging Face
config.json (the URL in its model_configs/*.toml), and each test names the one-line mistake it guards against.
"""

import pytest
import sympy as sp

from roofline import llm
from roofline.formulas import decode_attention_pairs, kv_cache_elements, prefill_attention_pairs
from roofline.llm import Parallelism, Precision, get_model

b, s, p = (sp.Symbol(x, positive=True) for x in "bsp")


def _op(wl, name):
    return next(op for op in wl.ops if op.name == name)


def _at(expr, **shapes):
    return float(sp.sympify(expr).subs({sp.Symbol(k, positive=True): v for k, v in shapes.items()}))


def _tensor_bytes(op, name, **shapes):
    return _at(next(t for t in op.tensors if t.name == name).bytes, **shapes)


# ---------------------------------------------------------------------------------------------------
# Llama 4 Scout: text_config hidden 5120, 40 heads, 8 KV heads of 128, attention_chunk_size 8192,
# no_rope_layers [1, 1, 1, 0] x 12 -> 36 chunked layers, 12 global (NoPE) layers.
# ---------------------------------------------------------------------------------------------------
SCOUT_KV = 2 * 8 * 128          # K and V elements per token per layer: 2048


def test_scout_decode_chunked_layers_read_only_their_own_chunk():
    wl = llm.llm_workload(get_model("llama-4-scout"), "decode")
    chunked, full = _op(wl, "attention_chunked"), _op(wl, "attention")
    assert (chunked.count, full.count) == (36, 12)
    # at context 10,000 the new token is the 10,001st: its chunk began at token 8,192, so it attends to
    # 10,000 - 8,192 = 1,808 cached keys (a sliding window of 8192 would give 8,192; full attention 10,000)
    assert decode_attention_pairs(10000, chunk=8192) == 1808
    assert _tensor_bytes(chunked, "kv_read", b=1, s=10000) == 1808 * SCOUT_KV * 2
    assert _tensor_bytes(full, "kv_read", b=1, s=10000) == 10000 * SCOUT_KV * 2
    # scores and values over 1,808 keys: 2 x 40 heads x 1808 x (128 + 128) FLOPs per chunked layer
    assert _at(chunked.flops, b=1, s=10000) == 2 * 40 * 1808 * (128 + 128)
    # below one chunk a chunked layer is plain causal attention: 5,000 keys
    assert _tensor_bytes(chunked, "kv_read", b=1, s=5000) == 5000 * SCOUT_KV * 2
    # each step still writes the new token's K and V
    assert _tensor_bytes(chunked, "kv_write", b=1, s=10000) == SCOUT_KV * 2


def test_scout_prefill_chunked_layers_attend_within_each_chunk():
    wl = llm.llm_workload(get_model("llama-4-scout"), "prefill")
    chunked, full = _op(wl, "attention_chunked"), _op(wl, "attention")
    # a 20,000-token prompt is two full chunks (causal within each: 8192^2 / 2 pairs) and 3,616 tokens
    pairs = 2 * 8192 ** 2 / 2 + 3616 ** 2 / 2
    assert pairs == 73_646_592 == prefill_attention_pairs(20000, chunk=8192)
    assert _at(chunked.flops, b=1, p=20000) == 2 * 40 * pairs * (128 + 128)
    # the global layers are causal over the whole prompt: 20000^2 / 2 pairs
    assert _at(full.flops, b=1, p=20000) == 2 * 40 * (20000 ** 2 / 2) * (128 + 128)
    # a prompt inside one chunk: the same as full attention
    assert _at(chunked.flops, b=1, p=4096) == _at(full.flops, b=1, p=4096)


def test_scout_kv_cache_keeps_one_chunk_in_chunked_layers():
    # 12 global layers keep 20,000 tokens, 36 chunked layers at most one chunk of 8,192; BF16
    want = (12 * 20000 + 36 * 8192) * SCOUT_KV * 2
    assert want == 2_190_999_552
    assert llm.kv_cache_bytes(get_model("llama-4-scout"), Precision(), 1, 20000) == want
    assert kv_cache_elements(1, 20000, 48, SCOUT_KV, chunk_layers=36, chunk=8192) * 2 == want
    # below a chunk every layer keeps every token
    assert llm.kv_cache_bytes(get_model("llama-4-scout"), Precision(), 1, 1000) == 48 * 1000 * SCOUT_KV * 2


def test_scout_l2_qk_norm_runs_on_its_rope_layers_without_weights():
    wl = llm.llm_workload(get_model("llama-4-scout"), "decode")
    norm = _op(wl, "qk_norm")
    assert norm.count == 36                                     # the RoPE layers (no_rope_layers = 1)
    assert not [t for t in norm.tensors if t.name == "w"]       # Llama4TextL2Norm has no weight
    # 4 FLOPs per element of the 40 query and 8 key heads of 128
    assert _at(norm.flops, b=1) == 4 * (40 + 8) * 128


def test_scout_decode_on_one_mi355x_is_the_active_weights_over_bandwidth():
    # What one decode step at batch 1 reads, in parameters, per layer (x 48): attention 2 x 5120 x 5120 +
    # 2 x 5120 x 1024 = 62,914,560; the shared expert and the one routed expert, 2 x 3 x 5120 x 8192 =
    # 251,658,240; the router 5120 x 16 = 81,920; two RMSNorms 10,240. Once: lm_head 202048 x 5120 =
    # 1,034,485,760, the final norm and one embedding row (5120 each).
    params = 48 * (62_914_560 + 251_658_240 + 81_920 + 10_240) + 1_034_485_760 + 5120 + 5120
    assert params == 16_138_414_080
    kv = 1024 * 48 * SCOUT_KV * 2               # 1024 tokens, every layer (inside one chunk), BF16
    r = llm.estimate("llama-4-scout", "mi355x", batch=1, context=1024, devices=1, ideal=True)
    # 32.28 GB + 0.20 GB at 8.0 TB/s (AMD CDNA 4 white paper, Table 2) = 4.06 ms
    assert r["tpot_s"] == pytest.approx((params * 2 + kv) / 8.0e12, rel=0.005)
    assert r["bound"] == "memory:hbm"


# ---------------------------------------------------------------------------------------------------
# Llama 4 Maverick: interleave_moe_layer_step 2 -> 24 dense layers (SwiGLU of 16384) and 24 MoE layers
# (128 experts of 8192, top-1, one shared expert of 8192).
# ---------------------------------------------------------------------------------------------------
def test_maverick_runs_dense_mlps_on_half_its_layers_and_experts_on_the_other_half():
    wl = llm.llm_workload(get_model("llama-4-maverick"), "decode", par=Parallelism(tp=8))
    counts = {op.name: int(op.count) for op in wl.ops}
    assert (counts["mlp_up"], counts["experts"], counts["router"], counts["shared_expert_up"]) == (24, 24, 24, 24)
    # all-reduces after attention (48) and after each dense MLP (24); the MoE layers dispatch and combine
    # one expert exchange (dispatch and combine together) per MoE layer
    assert (counts["tp_all_reduce"], counts["expert_all_to_all"]) == (48 + 24, 24)
    # a dense layer's MLP on one of 8 ranks: gate and up 5120 x 2 x 2048 (16384 / 8), in BF16
    up = _op(wl, "mlp_up")
    assert up.bytes_by_role("weight") == 5120 * 2 * 2048 * 2


def test_maverick_decode_weights_at_batch_1_by_hand():
    m = get_model("llama-4-maverick")
    wl = llm.llm_workload(m, "decode")
    # one token touches 1 of 128 experts: 3 x 5120 x 8192 x 2 B per MoE layer
    assert _op(wl, "experts").bytes_by_role("weight").subs(b, 1) == 3 * 5120 * 8192 * 2
    # and reads each dense layer's whole MLP: 3 x 5120 x 16384 x 2 B
    dense = sum(_op(wl, n).bytes_by_role("weight") for n in ("mlp_up", "mlp_down"))
    assert dense == 3 * 5120 * 16384 * 2


# ---------------------------------------------------------------------------------------------------
# Qwen3-32B: q_norm and k_norm, RMSNorm(128) each, on every layer.
# ---------------------------------------------------------------------------------------------------
def test_qwen3_qk_norm_reads_its_weights_on_every_layer():
    wl = llm.llm_workload(get_model("qwen3-32b"), "decode", par=Parallelism(tp=2))
    norm = _op(wl, "qk_norm")
    assert norm.count == 64
    assert norm.bytes_by_role("weight") == 2 * 128 * 2          # the q and k scales, BF16
    # 32 query and 4 key heads of 128 on each of 2 ranks, 4 FLOPs per element
    assert _at(norm.flops, b=1) == 4 * (32 + 4) * 128
    names = [op.name for op in wl.ops]
    assert names.index("qk_norm") == names.index("qkv_proj") + 1


def test_a_model_without_qk_norm_has_no_such_op():
    assert "qk_norm" not in [op.name for op in llm.llm_workload(get_model("llama-3.1-8b"), "decode").ops]
