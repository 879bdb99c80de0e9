"""The per-block decomposition checked by hand: MoE expert traffic, sliding-window attention, MLA decode.

Every expected value is arithmetic on numbers from the model's Hugging Face config.json (the URL each
model_configs/*.toml cites in [model.source]), never the code's own output. Each test names the one-line
mistake it guards against (issue 11: none of these was caught by any test).
"""

import pytest
import sympy as sp

from roofline import llm
from roofline.llm import Parallelism, Precision, get_model
from roofline.formulas import decode_attention_pairs, prefill_attention_pairs
from roofline.llm.blocks import BlockContext, assemble, attention_widths

b, s, p = (sp.Symbol(x, positive=True) for x in "bsp")


def _op(wl, name):
    return next(op for op in wl.ops if op.name == name)


def _at(expr, **shapes):
    return float(sp.sympify(expr).subs({sp.Symbol(k, positive=True): v for k, v in shapes.items()}))


def _tensor_bytes(op, name, **shapes):
    return _at(next(t for t in op.tensors if t.name == name).bytes, **shapes)


# ---------------------------------------------------------------------------------------------------
# Mixtral-8x7B: mistralai/Mixtral-8x7B-v0.1 config.json: hidden_size 4096, intermediate_size 14336 (per
# expert), num_local_experts 8, num_experts_per_tok 2, num_hidden_layers 32, num_key_value_heads 8,
# head_dim 4096 / 32 = 128, vocab_size 32000. Each expert is a SwiGLU: w1, w3 (4096 x 14336) and w2.
# ---------------------------------------------------------------------------------------------------
MIXTRAL_EXPERT_BYTES = 3 * 4096 * 14336 * 2   # one expert's three matrices in BF16: 352,321,536 B


def test_mixtral_decode_at_batch_1_reads_exactly_two_experts_per_layer():
    wl = llm.llm_workload(get_model("mixtral-8x7b"), "decode")
    experts = _op(wl, "experts")
    assert experts.count == 32                                            # every layer is MoE
    # one token picks k = 2 of the 8 experts: 2 x 352,321,536 B = 704,643,072 B per layer.
    # (Counting 2T tokens would give 8 (1 - (6/8)^2) = 3.5 experts; T k tokens, likewise 3.5.)
    assert experts.bytes_by_role("weight").subs(b, 1) == 2 * MIXTRAL_EXPERT_BYTES == 704_643_072
    # its FLOPs: 2 FLOPs per weight of the two experts it passes through
    assert _at(experts.flops, b=1) == 2 * 2 * 3 * 4096 * 14336


def test_mixtral_decode_at_batch_16_reads_the_expected_touched_experts():
    wl = llm.llm_workload(get_model("mixtral-8x7b"), "decode")
    experts = _op(wl, "experts")
    # each expert is missed by one token with probability 1 - 2/8 = 0.75, by all 16 with 0.75^16 = 0.010023;
    # so E (1 - (1 - k/E)^b) = 8 x (1 - 0.010023) = 7.9198 experts are read per layer
    touched = 8 * (1 - 0.75 ** 16)
    assert touched == pytest.approx(7.9198, abs=1e-4)
    assert _at(experts.bytes_by_role("weight"), b=16) == pytest.approx(touched * MIXTRAL_EXPERT_BYTES, rel=1e-12)
    # and the work is the routed pairs', 16 tokens x 2 experts, not the touched experts'
    assert _at(experts.flops, b=16) == 2 * 16 * 2 * 3 * 4096 * 14336


def test_mixtral_on_two_devices_each_reads_one_expert_at_batch_1():
    # tensor parallelism 2 spreads the 8 experts 4 per device: a token's 2 picks land 1 per device on
    # average, 4 x (1 - (1 - 2/8)^1) = 1 expert read per device per layer; 1 token-expert pair per device
    wl = llm.llm_workload(get_model("mixtral-8x7b"), "decode", par=Parallelism(tp=2))
    experts = _op(wl, "experts")
    assert _at(experts.bytes_by_role("weight"), b=1) == 1 * MIXTRAL_EXPERT_BYTES
    assert _at(experts.flops, b=1) == 2 * 1 * 3 * 4096 * 14336
    # token ownership: after the attention all-reduce both devices hold all b tokens; each owns half and
    # sends a token's 4096 x 2 B hidden state to the other device only when one of its 2 experts lives there,
    # probability 1 - C(4, 2) / C(8, 2) = 1 - 6/28 = 22/28; dispatch and combine per layer:
    # 2 x b/2 x 22/28 x 8192 B = 45056/7 b, below the all-reduce of the b outputs (2 x 1/2 x 8192 b B)
    a2a = _op(wl, "expert_all_to_all")
    assert a2a.count == 32
    assert _at(a2a.link_bytes["ep"], b=1) == pytest.approx(2 * 0.5 * (22 / 28) * 4096 * 2, rel=1e-12)
    assert _at(a2a.link_bytes["ep"], b=1) < 2 * 0.5 * 4096 * 2


def test_mixtral_decode_time_on_one_h200_is_the_active_weights_over_bandwidth():
    # What one decode step at batch 1 reads, in parameters, per layer (x 32): attention q, o 4096 x 4096 and
    # k, v 4096 x 1024 = 41,943,040; router 4096 x 8 = 32,768; two RMSNorms 8,192; two of the eight experts
    # 2 x 3 x 4096 x 14336 = 352,321,536. Once: lm_head 32000 x 4096 = 131,072,000, the final norm 4096 and
    # one 4096-wide embedding row.
    params = 32 * (41_943_040 + 32_768 + 8_192 + 352_321_536) + 131_072_000 + 4096 + 4096
    assert params == 12_748_857_344          # Mistral AI: "12.9B active" (it counts the embedding table)
    kv = 1024 * 32 * 2 * 8 * 128 * 2          # 1024 tokens of K and V, 8 heads of 128, BF16
    r = llm.estimate("mixtral-8x7b", "h200", batch=1, context=1024, devices=1, ideal=True)
    # 25.50 GB + 0.13 GB at 4.8 TB/s (H200 HBM3e datasheet) = 5.34 ms
    assert r["tpot_s"] == pytest.approx((params * 2 + kv) / 4.8e12, rel=0.005)
    assert r["bound"] == "memory:hbm"


# ---------------------------------------------------------------------------------------------------
# gpt-oss-120b: openai/gpt-oss-120b config.json: num_hidden_layers 36, num_attention_heads 64,
# num_key_value_heads 8, head_dim 64, sliding_window 128, layer_types = 18 x [sliding, full].
# ---------------------------------------------------------------------------------------------------
GPT_OSS_KV_PER_TOKEN_LAYER = 2 * 8 * 64        # K and V, 8 KV heads of 64: 1024 elements


def test_gpt_oss_sliding_layers_decode_reads_only_the_window():
    wl = llm.llm_workload(get_model("gpt-oss-120b"), "decode")
    local, full = _op(wl, "attention_sliding"), _op(wl, "attention")
    assert local.count == 18 and full.count == 18
    # at context 8192 a local layer reads the last 128 tokens: 128 x 1024 x 2 B x 18 layers = 4,718,592 B
    assert int(local.count) * _tensor_bytes(local, "kv_read", b=1, s=8192) == 128 * GPT_OSS_KV_PER_TOKEN_LAYER * 2 * 18
    assert 128 * GPT_OSS_KV_PER_TOKEN_LAYER * 2 * 18 == 4_718_592
    # a full layer reads all 8192: 8192 x 1024 x 2 B x 18 = 301,989,888 B
    assert int(full.count) * _tensor_bytes(full, "kv_read", b=1, s=8192) == 8192 * GPT_OSS_KV_PER_TOKEN_LAYER * 2 * 18
    # below the window a local layer reads what there is: 100 tokens
    assert _tensor_bytes(local, "kv_read", b=1, s=100) == 100 * GPT_OSS_KV_PER_TOKEN_LAYER * 2
    # scores and values over 128 keys: 2 x 64 heads x 128 x (64 + 64) FLOPs per local layer
    assert _at(local.flops, b=1, s=8192) == 2 * 64 * 128 * (64 + 64)


def test_gpt_oss_sliding_layers_prefill_pairs():
    wl = llm.llm_workload(get_model("gpt-oss-120b"), "prefill")
    local, full = _op(wl, "attention_sliding"), _op(wl, "attention")
    # causal with a window: query i sees min(i, 128) keys; over 8192 queries p w - w^2 / 2
    pairs = 8192 * 128 - 128 ** 2 / 2
    assert pairs == 1_040_384
    assert _at(local.flops, b=1, p=8192) == 2 * 64 * pairs * (64 + 64)
    # full causal attention: p^2 / 2 = 33,554,432 pairs
    assert _at(full.flops, b=1, p=8192) == 2 * 64 * (8192 ** 2 / 2) * (64 + 64)
    # a prompt shorter than the window is plain causal: 100^2 / 2 = 5000 pairs
    assert _at(local.flops, b=1, p=100) == 2 * 64 * 5000 * (64 + 64)


def test_gpt_oss_kv_cache_keeps_the_window_in_local_layers():
    # 18 full layers x 8192 tokens + 18 local layers x 128 tokens, 1024 elements each, BF16
    want = (18 * 8192 + 18 * 128) * GPT_OSS_KV_PER_TOKEN_LAYER * 2
    assert want == 306_708_480
    assert llm.kv_cache_bytes(get_model("gpt-oss-120b"), Precision(), 1, 8192) == want


def test_attention_pair_formulas_by_hand():
    assert decode_attention_pairs(8192) == 8192 and decode_attention_pairs(8192, 128) == 128
    assert decode_attention_pairs(50, 128) == 50
    assert prefill_attention_pairs(8192, 128) == 8192 * 128 - 128 * 128 / 2
    assert prefill_attention_pairs(64, 128) == 64 * 64 / 2
    # summing min(i, w) over i = 1..p exactly gives p w - w^2/2 + w/2: the formula drops the w/2
    exact = sum(min(i, 128) for i in range(1, 8193))
    assert exact - prefill_attention_pairs(8192, 128) == 128 / 2


# ---------------------------------------------------------------------------------------------------
# DeepSeek-V3: deepseek-ai/DeepSeek-V3 config.json: num_hidden_layers 61, num_attention_heads 128,
# kv_lora_rank 512, qk_rope_head_dim 64, qk_nope_head_dim 128, v_head_dim 128.
# ---------------------------------------------------------------------------------------------------
def test_deepseek_v3_kv_cache_is_the_576_wide_latent():
    m = get_model("deepseek-v3")
    # the latent (512) plus the shared RoPE key (64) per token per layer, not 2 x 128 heads x 128
    assert m.kv_cache_elements_per_token_per_layer == 512 + 64 == 576
    assert llm.kv_cache_bytes(m, Precision(), 1, 1) == 576 * 61 * 2      # 70,272 B per token in BF16
    wl = llm.llm_workload(m, "decode")
    attn = _op(wl, "attention")
    assert _tensor_bytes(attn, "kv_write", b=1, s=4096) == 576 * 2
    assert _tensor_bytes(attn, "kv_read", b=1, s=4096) == 4096 * 576 * 2


def test_deepseek_v3_decode_attention_works_in_the_latent():
    wl = llm.llm_workload(get_model("deepseek-v3"), "decode")
    attn = _op(wl, "attention")
    # absorbed weights: per head and KV position, scores over 512 + 64 and values summed in the 512 latent
    per_head_per_position = 2 * (512 + 64) + 2 * 512
    assert per_head_per_position == 2176
    assert _at(attn.flops, b=1, s=4096) == 128 * 4096 * per_head_per_position
    assert attn.count == 61


def test_deepseek_v3_decode_on_eight_ranks_splits_heads_not_the_latent():
    wl = llm.llm_workload(get_model("deepseek-v3"), "decode", par=Parallelism(tp=8))
    attn = _op(wl, "attention")
    assert _at(attn.flops, b=1, s=4096) == (128 // 8) * 4096 * (2 * (512 + 64) + 2 * 512)
    assert _tensor_bytes(attn, "kv_read", b=1, s=4096) == 4096 * 576 * 2   # every rank reads the whole latent


def test_deepseek_v3_prefill_attention_works_at_the_head_widths():
    wl = llm.llm_workload(get_model("deepseek-v3"), "prefill")
    attn = _op(wl, "attention")
    # decompressed: q.k over 128 + 64, values over 128, causal p^2 / 2 pairs per head
    assert _at(attn.flops, b=1, p=4096) == 2 * 128 * (4096 ** 2 / 2) * ((128 + 64) + 128)


def test_attention_widths_of_gqa_and_mla():
    ctx = BlockContext.of(get_model("llama-3.1-70b"), "decode", Precision(), Parallelism(tp=2))
    w = attention_widths(ctx)   # Llama-3.1-70B: 64 heads, 8 KV heads of 128; 32 and 4 per rank
    assert (w.q, w.o, w.kv, w.score, w.value) == (32 * 128, 32 * 128, 2 * 4 * 128, 128, 128)
    w = attention_widths(BlockContext.of(get_model("deepseek-v3"), "decode", Precision(), Parallelism()))
    assert (w.kv, w.score, w.value) == (576, 576, 512)


# ---------------------------------------------------------------------------------------------------
# the assembly
# ---------------------------------------------------------------------------------------------------
def test_assemble_orders_the_blocks():
    wl = assemble(BlockContext.of(get_model("deepseek-v3"), "decode", Precision(), Parallelism(tp=8, pp=2)))
    names = [op.name for op in wl.ops]
    assert names == ["embedding", "norm", "q_a_proj", "q_b_proj", "kv_a_proj", "kv_b_proj", "attention", "o_proj",
                     "residual_add", "mlp_up", "mlp_act", "mlp_down", "router", "experts", "shared_expert_up",
                     "shared_expert_act", "shared_expert_down", "expert_all_to_all", "tp_all_reduce", "pp_handoff",
                     "layer_handoff", "final_norm", "lm_head"]
    counts = {op.name: int(op.count) for op in wl.ops}
    # 3 dense layers (first_k_dense_replace) and 58 MoE layers; all-reduces after attention (61) and each
    # dense MLP (3); one expert exchange (dispatch and combine) per MoE layer (58); 2 stages hand off once;
    # inside the stages the other 61 - 2 layer boundaries hand the hidden state from one layer's region to the next
    assert (counts["mlp_up"], counts["experts"], counts["tp_all_reduce"], counts["expert_all_to_all"],
            counts["pp_handoff"], counts["layer_handoff"]) == (3, 58, 61 + 3, 58, 1, 59)


def test_tp_all_reduce_is_the_ring_bound():
    wl = llm.llm_workload(get_model("llama-3.1-70b"), "decode", par=Parallelism(tp=8))
    ar = _op(wl, "tp_all_reduce")
    # one token's 8192-wide BF16 activation: a ring moves 2 (8 - 1) / 8 of 16,384 B = 28,672 B per device;
    # an all-reduce over the 8 ranks (its hops come from the link's topology); two per layer over 80 layers
    assert _at(ar.link_bytes["tp"], b=1) == 2 * 7 / 8 * 8192 * 2
    assert ar.collectives["tp"] == ("all_reduce", 8) and ar.count == 2 * 80
