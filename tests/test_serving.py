"""Serving as it is done today (issue 16): layouts, token ownership, pipelines with micro-batches, the
serving throughput bound over the layouts a system can express, disaggregated pools, cold operands.

Expected values are hand calculations from the models' config.json figures (the URL each model_configs
file cites) and the devices' datasheet figures, written out beside each assertion; laws are hypothesis
properties.
"""

import json
import math

import pytest
import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from roofline import get_device, llm
from roofline.errors import InputError
from roofline.formulas import expected_groups_touched, pipeline_cycle_time
from roofline.llm import Parallelism, Precision, get_model
from roofline.llm.serving import throughput
from roofline.llm.sizes import kv_cache_bytes_per_device, weights_bytes_per_device
from roofline.outputs.cli import main

b = sp.Symbol("b", positive=True)


def _op(wl, name):
    return next(op for op in wl.ops if op.name == name)


def _at(expr, value):
    return float(sp.sympify(expr).subs(b, value))


# ---------------------------------------------------------------------------------------------------
# DeepSeek-V3 (deepseek-ai/DeepSeek-V3 config.json): hidden_size 7168, n_routed_experts 256,
# num_experts_per_tok 8, 61 layers of which the first 3 dense (58 MoE), kv_lora_rank 512, qk_rope_head_dim 64.
# ---------------------------------------------------------------------------------------------------
V3 = get_model("deepseek-v3")
D, E, K = 7168, 256, 8
# A device of 8 holds 32 of the 256 experts; a token's 8 distinct picks all miss it with probability
# C(224, 8) / C(256, 8) = (224 x 223 x ... x 217) / (256 x 255 x ... x 249):
MISS_OF_8 = math.prod(range(217, 225)) / math.prod(range(249, 257))
OTHER_DEVICES_OF_8 = 7 * (1 - MISS_OF_8)          # expected other devices a token's hidden state goes to


def test_hand_values_of_the_routing():
    assert MISS_OF_8 == pytest.approx(0.33817, abs=1e-5)
    assert OTHER_DEVICES_OF_8 == pytest.approx(4.6328, abs=1e-4)   # of 7 other devices, not k = 8 vectors
    assert expected_groups_touched(K, E, 8) == pytest.approx(8 * (1 - MISS_OF_8), rel=1e-12)


def test_deepseek_v3_expert_exchange_with_tensor_parallel_attention():
    # TP8 attention: after the attention all-reduce every device holds all b tokens of the step. Each owns
    # b/8 of them for the exchange and sends a token's BF16 hidden state (7168 x 2 B) once to each other
    # device holding one of its experts, 4.6328 of them, and gets it back combined:
    #   2 x b/8 x 4.6328 x 14,336 B = 16,604.0 b B per MoE layer,
    # less than an all-reduce of the b outputs (2 x 7/8 x b x 14,336 = 25,088 b B), and a twelfth of the old
    # charge of all T k routed vectors to every device (2 x b x 8 x 14,336 x 7/8 = 200,704 b B).
    wl = llm.llm_workload(V3, "decode", Precision(), Parallelism(tp=8))
    a2a = _op(wl, "expert_all_to_all")
    per_layer = 2 * (1 / 8) * OTHER_DEVICES_OF_8 * D * 2
    assert _at(a2a.link_bytes["ep"], 1) == pytest.approx(per_layer, rel=1e-9)
    assert per_layer == pytest.approx(16_604.0, abs=0.1)
    assert 200_704 / per_layer > 12 and per_layer < 25_088
    assert a2a.count == 58 and a2a.link_steps["ep"] == 2


def test_deepseek_v3_expert_exchange_with_data_parallel_attention():
    # DP attention over 8 devices: each device owns its own b tokens (b sequences, one token each in decode)
    #   2 x b x 4.6328 x 14,336 B = 132,832.2 b B per MoE layer
    wl = llm.llm_workload(V3, "decode", Precision(), Parallelism(tp=8, attention="dp"))
    a2a = _op(wl, "expert_all_to_all")
    assert _at(a2a.link_bytes["ep"], 1) == pytest.approx(2 * OTHER_DEVICES_OF_8 * D * 2, rel=1e-9)
    assert _at(a2a.link_bytes["ep"], 1) == pytest.approx(132_832.2, abs=0.1)
    # no tensor-parallel all-reduce at all; the experts see the stage's 8 b tokens: b k = 8 b pairs per device
    assert not any(op.name == "tp_all_reduce" for op in wl.ops)
    assert _at(_op(wl, "experts").flops, 1) == 2 * 8 * 3 * D * 2048


def test_deepseek_v3_expert_exchange_across_nodes():
    # EP144 over 18 nodes of 8 (DeepSeek's decode unit): a token goes once to each other node holding one of
    # its experts. A node holds 256 x 8 / 144 = 14.22 experts: missed with probability
    # prod_{i<8} (256 - 14.22 - i) / (256 - i); 17 other nodes; FP8 hidden states (1 B)
    per_node = E * 8 / 144
    miss_node = math.prod((E - per_node - i) / (E - i) for i in range(8))
    per_dev = E / 144
    miss_dev = math.prod((E - per_dev - i) / (E - i) for i in range(8))
    wl = llm.llm_workload(V3, "decode", Precision.of("fp8"), Parallelism(tp=144, attention="dp", node=8))
    a2a = _op(wl, "expert_all_to_all")
    assert _at(a2a.link_bytes["ep_network"], 1) == pytest.approx(2 * 17 * (1 - miss_node) * D, rel=1e-9)
    # inside the node: the 7 other devices, each hit with probability 1 - miss_dev
    assert _at(a2a.link_bytes["ep"], 1) == pytest.approx(2 * 7 * (1 - miss_dev) * D, rel=1e-9)


def test_mla_cache_per_device_under_data_parallel_attention():
    # 64 sequences of 4096 tokens on 8 devices; the latent is (512 + 64) x 2 B x 61 layers = 70,272 B/token.
    # TP attention replicates it on every rank: 64 x 4096 x 70,272 = 18,421,383,168 B per device;
    # DP attention gives each device its own 8 sequences: 8 x 4096 x 70,272 = 2,302,672,896 B.
    assert kv_cache_bytes_per_device(V3, Precision(), Parallelism(tp=8), 64, 4096) == 18_421_383_168
    assert kv_cache_bytes_per_device(V3, Precision(), Parallelism(tp=8, attention="dp"), 64, 4096) \
        == 2_302_672_896
    # the placement holds exactly that beside the weights: the routed experts split 8 ways, the rest whole
    pl = llm.place(V3, get_device("h200"), Precision.of("fp8"), 64, 4096, devices=8, attention="dp")
    latent_fp8 = 8 * 4096 * 576 * 61
    assert pl.resident_bytes_per_device == pytest.approx(
        weights_bytes_per_device(V3, Precision.of("fp8"), pl.parallel) + latent_fp8, rel=1e-12)


def test_impossible_layouts_are_refused():
    dev = get_device("h100")
    with pytest.raises(InputError, match="does not divide"):
        llm.place(V3, dev, Precision.of("fp8"), 1, 2048, devices=8, ep=3)
    with pytest.raises(InputError, match="whole stage"):
        llm.place(V3, dev, Precision.of("fp8"), 1, 2048, devices=8, attention="dp", ep=4)
    with pytest.raises(InputError, match="multiple of dp"):
        llm.place(get_model("llama-3.1-8b"), dev, Precision(), 1, 2048, devices=6, dp=4)
    with pytest.raises(InputError, match="at least 1"):
        Parallelism(tp=8, imbalance=0.5)


# ---------------------------------------------------------------------------------------------------
# pipelines: micro-batches in flight
# ---------------------------------------------------------------------------------------------------
def test_pipeline_cycle_by_hand():
    # a micro-batch crosses 4 stages in 40 ms; with 4 in flight each stage works on one at a time: the
    # cycle stays 40 ms and 4 micro-batches finish per cycle; 8 in flight queue: 80 ms
    assert pipeline_cycle_time(0.040, 4, 1) == 0.040
    assert pipeline_cycle_time(0.040, 4, 4) == 0.040
    assert pipeline_cycle_time(0.040, 4, 8) == pytest.approx(0.080)


def test_four_stage_pipeline_throughput_with_and_without_micro_batches():
    # Llama-3.1-70B over 4 H100 as 4 stages. Without micro-batches one batch of 8 crosses the stages in
    # t_all and the others idle: 8 / t_all. With 4 micro-batches of 8 in flight the stages work at once:
    # 32 tokens per cycle of max(t_all, 4 t_all / 4) = t_all, so 4x the throughput at the same time per token.
    one = llm.estimate("llama-3.1-70b", "h100", batch=8, context=2048, devices=4, tp=1, pp=4, ideal=True)
    four = llm.estimate("llama-3.1-70b", "h100", batch=32, context=2048, devices=4, tp=1, pp=4, ideal=True,
                        micro_batches=4)
    assert four["tpot_s"] == pytest.approx(one["tpot_s"], rel=1e-12)
    assert four["tokens_per_s"] == pytest.approx(4 * one["tokens_per_s"], rel=1e-12)
    assert (one["micro_batches"], four["micro_batches"]) == (1, 4)


# ---------------------------------------------------------------------------------------------------
# the system bound: the best layout the system can express
# ---------------------------------------------------------------------------------------------------
def test_system_bound_is_the_maximum_over_layouts_tp8_4xtp2_8xtp1():
    args = ("llama-3.1-8b", "h100", 8, 2048, 1)
    tp8 = throughput(*args, ideal=True, pool="decode", tp=8)
    tp2 = throughput(*args, ideal=True, pool="decode", tp=2, dp=4)
    tp1 = throughput(*args, ideal=True, pool="decode", tp=1, dp=8)
    best = throughput(*args, ideal=True, pool="decode")
    assert (tp2["layout"]["dp"], tp1["layout"]["dp"]) == (4, 8)
    assert best["output_tokens_per_s"] >= max(x["output_tokens_per_s"] for x in (tp8, tp2, tp1)) * (1 - 1e-12)
    assert best["output_tokens_per_s"] == pytest.approx(
        max(x["output_tokens_per_s"] for x in (tp8, tp2, tp1)), rel=1e-12)
    # 8 x TP1 by hand (Llama-3.1-8B config.json: 8,030,261,248 parameters, vocab 128,256, d 4096, 32 layers,
    # 8 KV heads of 128): BF16 weights 16,060,522,496 B; KV 2 x 8 x 128 x 32 x 2 = 131,072 B per token;
    # a sequence holds its 2048 input tokens and the new one: 2049 x 131,072 B. Sequences per GPU:
    # (80e9 - 16,060,522,496) / (2049 x 131,072) = 238.08. A step reads the weights but the embedding table
    # (one row per token instead: 128,256 x 4096 x 2 B = 1,050,673,152 B left out) and every sequence's 2048
    # cached tokens, at 3.35 TB/s; activations stay in L2.
    n = (80e9 - 16_060_522_496) / (2049 * 131_072)
    step = (16_060_522_496 - 1_050_673_152 + n * (2048 * 131_072 + 131_072 + 4096 * 2)) / 3.35e12
    assert tp1["output_tokens_per_s"] == pytest.approx(8 * n / step, rel=5e-3)
    assert tp1["bound"] == "memory:hbm" and tp1["limit"] == "capacity"


@pytest.mark.slow
def test_a_pipeline_bound_does_not_fall_as_wafers_are_added():
    # the example: Llama-3.1-405B on 19 WSE-3 wafers (810 GB of BF16 weights over 44 GB each) gave
    # 18.0k tokens/s and on 38 only 16.8k, one batch in flight. With micro-batches every stage works, and
    # 38 wafers run at least what two 19-stage pipelines do.
    x19 = throughput("llama-3.1-405b", "wse3", 19, 1024, 1024, ideal=True, split=False)
    x38 = throughput("llama-3.1-405b", "wse3", 38, 1024, 1024, ideal=True, split=False)
    assert x19["layout"]["pp"] == 19 and x19["layout"]["micro_batches"] == 19
    assert x38["output_tokens_per_s"] >= 2 * x19["output_tokens_per_s"] * (1 - 1e-12)


def test_throughput_reports_its_layout_and_fields():
    r = throughput("llama-3.1-8b", "h100", 2, 512, 256, ideal=True)
    for key in ("output_tokens_per_s", "output_tokens_per_s_per_device", "tokens_per_s_per_user", "layout",
                "bound", "batch", "requests_per_s", "limit"):
        assert key in r
    assert set(r["layout"]) >= {"tp", "pp", "dp", "ep", "attention", "pools"}
    assert r["output_tokens_per_s_per_device"] == pytest.approx(r["output_tokens_per_s"] / 2)
    assert r["requests_per_s"] == pytest.approx(r["output_tokens_per_s"] / 256)


def test_interactivity_keeps_every_user_at_the_speed_asked():
    free = throughput("llama-3.1-8b", "h100", 1, 1024, 256, ideal=True)
    fast = throughput("llama-3.1-8b", "h100", 1, 1024, 256, ideal=True, interactivity=150)
    assert fast["tokens_per_s_per_user"] >= 150
    assert fast["output_tokens_per_s"] <= free["output_tokens_per_s"] * (1 + 1e-12)
    with pytest.raises(InputError, match="tokens/s"):
        throughput("llama-3.1-8b", "h100", 1, 1024, 256, ideal=True, interactivity=1e6)


def test_disaggregated_pools_are_bound_by_the_kv_transfer_when_the_link_is_slow():
    # prefill on 8 H100, decode on 8 H200; a 1 GB/s network (both specs name it 'network', per direction)
    # carries each request's KV cache of 1024 tokens x 131,072 B = 134,217,728 B: 8 x 1e9 / 134,217,728
    # = 59.6 requests/s, 128 output tokens each
    slow = {"interconnect.network.bandwidth": 1e9}
    r = throughput("llama-3.1-8b", "h200", 8, 1024, 128, ideal=True, prefill_device="h100", prefill_devices=8,
                   device_values=slow)
    assert r["bound"] == "kv_transfer"
    assert r["output_tokens_per_s"] == pytest.approx(128 * 8 * 1e9 / (1024 * 131_072), rel=1e-12)
    roles = [p["role"] for p in r["layout"]["pools"]]
    assert roles == ["prefill", "decode"] and r["layout"]["pools"][0]["device"] == "h100"
    assert r["devices"] == 16
    # one request's cache over one device's link: 134,217,728 B / 1 GB/s (no latency in the ideal bound)
    assert r["kv_transfer_s"] == pytest.approx(1024 * 131_072 / 1e9, rel=1e-12)


def test_a_prefill_pool_needs_a_device_and_a_count():
    with pytest.raises(InputError, match="prefill"):
        throughput("llama-3.1-8b", "h100", 8, 1024, 128, prefill_device="h100")


# ---------------------------------------------------------------------------------------------------
# laws: the ideal bound never falls when the system gets more or better
# ---------------------------------------------------------------------------------------------------
@settings(max_examples=6, deadline=None)
@given(n=st.integers(min_value=1, max_value=5), more=st.integers(min_value=1, max_value=3))
def test_ideal_bound_never_falls_when_devices_are_added(n, more):
    def x(k):
        return throughput("llama-3.1-8b", "h100", k, 1024, 256, ideal=True)["output_tokens_per_s"]
    assert x(n + more) >= x(n) * (1 - 1e-12)


@settings(max_examples=5, deadline=None)
@given(f=st.floats(min_value=1.0, max_value=8.0))
def test_ideal_bound_never_falls_when_a_link_is_made_faster(f):
    # NVLink carries Mixtral's expert exchange and all-reduces on 4 H100: 900 GB/s (both directions) x f
    def x(bw):
        return throughput("mixtral-8x7b", "h100", 4, 1024, 256, ideal=True, split=False,
                          device_values={"interconnect.nvlink.bandwidth": bw})["output_tokens_per_s"]
    assert x(900e9 * f) >= x(900e9) * (1 - 1e-12)


@settings(max_examples=5, deadline=None)
@given(lo=st.floats(min_value=5.5e12, max_value=12e12), hi=st.floats(min_value=5.5e12, max_value=12e12))
def test_ideal_bound_never_falls_when_an_estimate_moves_to_its_favourable_end(lo, hi):
    # the H100's L2 bandwidth is an estimate, 5.5 - 12 TB/s (hardware_specs/h100.toml)
    lo, hi = min(lo, hi), max(lo, hi)

    def x(bw):
        return throughput("llama-3.1-8b", "h100", 2, 1024, 256, ideal=True, split=False,
                          device_values={"memory.l2.bandwidth": bw})["output_tokens_per_s"]
    assert x(hi) >= x(lo) * (1 - 1e-12)


def test_ideal_takes_the_favourable_corner():
    best = throughput("llama-3.1-8b", "h100", 1, 1024, 256, ideal=True)
    nominal = throughput("llama-3.1-8b", "h100", 1, 1024, 256, ideal=True, corner="nominal")
    worst = throughput("llama-3.1-8b", "h100", 1, 1024, 256, ideal=True, corner="worst")
    assert best["corner"] == "best"
    assert best["output_tokens_per_s"] >= nominal["output_tokens_per_s"] >= worst["output_tokens_per_s"]


# ---------------------------------------------------------------------------------------------------
# the frontier is the envelope over layouts
# ---------------------------------------------------------------------------------------------------
def test_frontier_is_the_envelope_over_layouts():
    env = llm.frontier("llama-3.1-70b", "h100", devices=8, context=2048)
    tp8 = llm.frontier("llama-3.1-70b", "h100", devices=8, context=2048, tp=8)
    assert env.tokens_per_s_per_device.max() >= tp8.tokens_per_s_per_device.max() * (1 - 1e-12)
    assert (env.tokens_per_s_per_device.diff().dropna() >= -1e-9).all()
    assert (env.tokens_per_s_per_user.diff().dropna() <= 1e-9).all()
    assert "layout" in env.columns and env.layout.str.startswith("tp=").all()


# ---------------------------------------------------------------------------------------------------
# a standalone kernel reads cold operands from HBM
# ---------------------------------------------------------------------------------------------------
def test_cold_operands_come_from_hbm_unless_warm():
    from roofline.engine.kernel import kernel_report
    from roofline.workloads import kernels

    # 64 x 4096 x 4096 BF16: (64 x 4096 + 4096 x 4096 + 64 x 4096) x 2 B = 34,603,008 B fits the 50 MB L2,
    # but between calls it lives in HBM: 34,603,008 / 3.35e12 = 10.33 us; warm, at L2's 7 TB/s: 4.94 us
    wl = kernels.gemm(64, 4096, 4096)
    h100 = get_device("h100")
    cold = kernel_report(wl, h100, ideal=True)
    warm = kernel_report(wl, h100, ideal=True, warm=True)
    assert (cold["home_level"], warm["home_level"]) == ("hbm", "l2")
    assert cold["time_s"] == pytest.approx(34_603_008 / 3.35e12, rel=1e-9)
    assert warm["time_s"] == pytest.approx(34_603_008 / 7e12, rel=1e-9)


# ---------------------------------------------------------------------------------------------------
# the command line
# ---------------------------------------------------------------------------------------------------
def test_cli_throughput_json(capsys):
    code = main(["throughput", "--model", "llama-3.1-8b", "--device", "h100", "--devices", "2", "--input", "512",
                 "--output", "128", "--ideal", "--interactivity", "100", "--format", "json"])
    out = json.loads(capsys.readouterr().out)
    assert code == 0
    assert out["tokens_per_s_per_user"] >= 100 and out["ideal"] and out["interactivity"] == 100
    assert {"output_tokens_per_s", "output_tokens_per_s_per_device", "layout", "bound", "batch"} <= set(out)


@pytest.mark.parametrize("fmt", ["table", "markdown", "csv"])
def test_cli_throughput_formats(capsys, fmt):
    assert main(["throughput", "--model", "llama-3.1-8b", "--device", "h100", "--devices", "1", "--input", "512",
                 "--output", "128", "--format", fmt]) == 0
    assert "output tokens/s" in capsys.readouterr().out


def test_cli_throughput_bad_input_is_one_line(capsys):
    assert main(["throughput", "--model", "llama-3.1-8b", "--device", "h100", "--devices", "8", "--input", "512",
                 "--output", "128", "--attention", "dp"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "data-parallel attention" in err
    assert main(["throughput", "--model", "llama-3.1-8b", "--device", "h100", "--devices", "8", "--input", "0",
                 "--output", "128"]) == 2
