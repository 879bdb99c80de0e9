"""LLM inference: hand-checked decode and prefill figures, placement, parallelism (issue 4)."""

import json

import numpy as np
import pytest
import sympy as sp

import roofline
from roofline import llm
from roofline.outputs.cli import main
from roofline.errors import CapacityError, InputError, UnknownNameError
from roofline.llm import Precision
from roofline.llm import from_hf_config, get_model, list_models, load_model_file


# ---------------------------------------------------------------------------------------------------
# model configurations against the authors' published parameter counts
# ---------------------------------------------------------------------------------------------------
PUBLISHED_TOTALS = {
    # model: (published total parameters, where)
    "llama-2-7b": 6.74e9,       # Llama 2 paper / HF model card: 6.74B
    "llama-2-13b": 13.02e9,     # 13.02B
    "llama-2-70b": 68.98e9,     # 68.98B ("70B")
    "llama-3.1-8b": 8.03e9,     # HF: 8.03B
    "llama-3.1-70b": 70.55e9,   # HF: 70.6B
    "llama-3.1-405b": 405.85e9,  # HF: 406B
    "gpt-3-175b": 175.0e9,      # Brown et al. 2020, Table 2.1: 175.0B
    "mixtral-8x7b": 46.7e9,     # Mistral AI: 46.7B total, 12.9B active
    "gpt-oss-120b": 116.83e9,   # OpenAI model card: 116.83B total, 5.13B active
    "deepseek-v3": 671e9,       # DeepSeek-V3 report: 671B total, 37B active
}


@pytest.mark.parametrize("key, total", PUBLISHED_TOTALS.items())
def test_total_parameters_match_the_published_count(key, total):
    assert get_model(key).total_params() == pytest.approx(total, rel=0.01)


@pytest.mark.parametrize("key, active", [("mixtral-8x7b", 12.9e9), ("gpt-oss-120b", 5.13e9), ("deepseek-v3", 37e9)])
def test_moe_active_parameters(key, active):
    m = get_model(key)
    assert m.is_moe
    assert m.active_params() == pytest.approx(active, rel=0.02)


def test_every_model_cites_its_config():
    for m in list_models():
        assert m.source.get("url", "").startswith("http"), m.key


def test_llama_2_7b_by_hand():
    m = get_model("llama-2-7b")
    d, f, v, L = 4096, 11008, 32000, 32
    per_layer = 4 * d * d + 3 * d * f + 2 * d   # q,k,v,o (MHA) + gate, up, down + 2 RMSNorms
    assert m.total_params() == 2 * v * d + L * per_layer + d  # untied embedding and lm_head, final norm
    assert m.total_params() == 6_738_415_616


def test_hugging_face_config_json_loads(tmp_path):
    cfg = {  # meta-llama/Llama-2-7b-hf config.json (the fields that matter)
        "architectures": ["LlamaForCausalLM"], "model_type": "llama", "hidden_size": 4096,
        "intermediate_size": 11008, "num_attention_heads": 32, "num_hidden_layers": 32,
        "num_key_value_heads": 32, "vocab_size": 32000, "max_position_embeddings": 4096,
        "hidden_act": "silu", "tie_word_embeddings": False, "rms_norm_eps": 1e-5,
    }
    p = tmp_path / "llama2-7b" / "config.json"
    p.parent.mkdir()
    p.write_text(json.dumps(cfg))
    m = load_model_file(p)
    assert m.total_params() == get_model("llama-2-7b").total_params()
    r = llm.estimate(str(p), "h100", batch=1, context=1024, ideal=True)
    assert r["tpot_s"] == pytest.approx(llm.estimate("llama-2-7b", "h100", batch=1, context=1024, ideal=True)["tpot_s"])


def test_mixtral_config_json_is_moe():
    m = from_hf_config({"model_type": "mixtral", "hidden_size": 4096, "intermediate_size": 14336,
                        "num_attention_heads": 32, "num_hidden_layers": 32, "num_key_value_heads": 8,
                        "vocab_size": 32000, "num_local_experts": 8, "num_experts_per_tok": 2})
    assert m.is_moe and m.total_params() == pytest.approx(46.7e9, rel=0.01)


def test_user_model_file(tmp_path):
    text = open(get_model("llama-3.1-8b").file).read().replace('key = "llama-3.1-8b"', 'key = "my-8b"')
    text = text.replace("aliases = [", "aliases = [\"my-eight\", ")
    p = tmp_path / "my.toml"
    p.write_text(text)
    assert load_model_file(p).key == "my-8b"


def test_unknown_model_suggests_nearest():
    with pytest.raises(UnknownNameError, match=r"unknown model 'llama-3.1-70c'; did you mean 'llama-3.1-70b'"):
        get_model("llama-3.1-70c")


# ---------------------------------------------------------------------------------------------------
# hand-checked decode and prefill
# ---------------------------------------------------------------------------------------------------
def test_llama_2_7b_decode_on_one_h100():
    r = llm.estimate("llama-2-7b", "h100", batch=1, context=1024, dtype="bf16", ideal=True)
    # Weights: 6,738,415,616 params x 2 B = 13.48 GB stored.
    assert r["weights_bytes"] == 6_738_415_616 * 2
    # KV cache: 1024 tokens x 32 layers x 2 (K, V) x 4096 x 2 B = 0.537 GB
    assert r["kv_cache_bytes"] == 1024 * 32 * 2 * 4096 * 2
    # A decode step reads every weight except the embedding table (one 4096-wide row per token), plus the
    # whole KV cache: (13.477 GB - 32000 x 4096 x 2 B) + 0.537 GB = 13.751 GB at 3.35 TB/s = 4.105 ms.
    # (The 4.18 ms counts the 0.26 GB embedding table as read; decode does not read it.)
    read = (6_738_415_616 - 32000 * 4096) * 2 + 1024 * 32 * 2 * 4096 * 2
    assert r["tpot_s"] == pytest.approx(read / 3.35e12, rel=0.005)
    assert r["tpot_s"] == pytest.approx(4.18e-3, rel=0.02)
    assert r["bound"] == "memory:hbm"
    assert r["devices_used"] == 1 and r["weights_level"] == "hbm"
    # energy per token = 700 W x 4.105 ms = 2.87 J
    assert r["energy_per_token_j"] == pytest.approx(700 * r["tpot_s"])


def test_llama_3_70b_kv_cache_is_gqa():
    m = get_model("llama-3.1-70b")
    # 2 (K and V) x 8 KV heads x 128 head_dim x 80 layers = 163,840 values per token
    assert m.kv_cache_elements_per_token_per_layer * m.n_layers == 2 * 8 * 128 * 80 == 163_840
    assert llm.kv_cache_bytes(m, Precision(kv="fp8"), 1, 1) == 163_840   # 160 KiB per token at 1 B
    assert llm.kv_cache_bytes(m, Precision(kv="bf16"), 4, 1000) == 4 * 1000 * 163_840 * 2


def test_decode_at_batch_1_is_memory_bound_on_h100():
    for key in ("llama-2-7b", "llama-3.1-8b", "mixtral-8x7b"):
        assert llm.estimate(key, "h100", batch=1, context=2048, ideal=True)["bound"] == "memory:hbm"


def test_prefill_of_a_long_prompt_is_compute_bound_on_h100():
    r = llm.estimate("llama-3.1-8b", "h100", batch=1, context=4096, ideal=True)
    assert r["prefill_bound"] == "compute"
    # 2 x 7.5e9 matrix params x 4096 tokens / 989.4 TFLOP/s = 62 ms, plus causal attention
    # 4 x 32 heads x 4096^2 / 2 x 128 x 32 layers / 989.4e12 = 4.4 ms
    n_mat = get_model("llama-3.1-8b").total_params() - 128256 * 4096
    compute = (2 * n_mat * 4096 + 4 * 32 * 4096**2 / 2 * 128 * 32) / 989.4e12
    # the per-operator sum adds the memory-bound elementwise ops; the largest is the unfused SwiGLU, which
    # reads 2 x 4096 x 14336 and writes 4096 x 14336 BF16 values per layer: 352 MB x 32 / 3.35 TB/s = 3.4 ms
    swiglu = 3 * 4096 * 14336 * 2 * 32 / 3.35e12
    assert compute < r["ttft_s"] < compute + swiglu + 1e-3


def test_llama_3_1_70b_bf16_does_not_fit_one_h100():
    m = get_model("llama-3.1-70b")
    assert llm.weights_bytes(m, Precision()) == pytest.approx(141.1e9, rel=0.001)
    r = llm.estimate(m, "h100", batch=1, context=2048)
    assert r["devices_used"] == 2 and r["tp"] == 2
    with pytest.raises(CapacityError, match=r"needs 141\.\d GB .* h100's largest level \(hbm\) holds 80\.0 GB"):
        llm.estimate(m, "h100", devices=1)


def test_wse3_holds_70b_in_sram_on_four_wafers():
    # 141 GB of BF16 weights / 44 GB of SRAM per wafer -> 4 wafers (The Register: 70B on four CS-3s)
    r = llm.estimate("llama-3.1-70b", "wse3", batch=1, context=2048)
    assert r["devices_used"] == 4 and r["pp"] == 4 and r["weights_level"] == "sram"


def test_forcing_fewer_devices_streams_from_the_slower_level():
    # one CS-3: 141 GB does not fit 44 GB of SRAM, so weights stream from MemoryX over the 150 GB/s system I/O
    r = llm.estimate("llama-3.1-70b", "wse3", batch=1, context=2048, devices=1, ideal=True)
    assert r["weights_level"] == "external"
    read = get_model("llama-3.1-70b").total_params() * 2 - 128256 * 8192 * 2
    assert r["tpot_s"] == pytest.approx(read / 150e9, rel=0.02)   # ~0.93 s per token
    assert r["bound"] == "memory:external"
    # one Dojo tile: weights in the interface processors' HBM (5 x 800 GB/s = 4 TB/s)
    d = llm.estimate("llama-3.1-70b", "dojo", batch=1, context=2048, devices=1, ideal=True)
    assert d["weights_level"] == "hbm" and d["tpot_s"] == pytest.approx(read / 4e12, rel=0.03)


def test_decode_break_even_batch_closed_form_and_number():
    # Llama-3.1-8B, BF16, context 128 on an H100: compute b*F/P = traffic (W + b*KV)/BW at
    #   W  = 2 x (8.03e9 - 128256 x 4096) = 15.01 GB read per step,
    #   F  = 2 x 7.505e9 + 4 x 32 x 128 x 128 x 32 = 15.08 GFLOP per sequence,
    #   KV = 128 x 32 x 2 x 1024 x 2 B = 16.8 MB per sequence
    #   b* = W / (F BW / P - KV) = 15.01e9 / (15.08e9 x 3.35/989.4 - 16.8e6) = ~440
    closed, value = llm.decode_break_even_batch("llama-3.1-8b", "h100", context=128)
    W = 2 * (8_030_261_248 - 128256 * 4096)
    F = 2 * (8_030_261_248 - 128256 * 4096) + 4 * 32 * 128 * 128 * 32
    KV = 128 * 32 * 2 * 1024 * 2
    assert value == pytest.approx(W / (F * 3.35e12 / 989.4e12 - KV), rel=0.01)
    assert {s.name for s in closed.free_symbols} == {"P_{bf16}", "BW_{hbm}", "s"}
    # and the numeric model agrees: memory-bound below, compute-bound well above
    assert llm.estimate("llama-3.1-8b", "h100", batch=128, context=128, ideal=True)["bound"] == "memory:hbm"
    assert llm.estimate("llama-3.1-8b", "h100", batch=2048, context=128, ideal=True)["bound"] == "compute"


def test_long_context_decode_never_turns_compute_bound():
    # at 2048 tokens of context each sequence's KV read (268 MB) outweighs its compute: no positive b*
    _, value = llm.decode_break_even_batch("llama-3.1-8b", "h100", context=2048)
    assert value is None


def test_interconnect_can_bind_and_is_reported():
    # tensor parallelism across CS-3s: each layer's two all-reduces cross the 150 GB/s system I/O with a
    # few microseconds of latency per step, which dwarfs the SRAM-resident compute
    r = llm.estimate("llama-3.1-70b", "wse3", batch=1, context=2048, tp=4)
    assert r["bound"] == "latency:link" and r["decode_terms_s"]["interconnect:system_io"] > 0
    assert r["links"] == {"tp": "system_io"}
    # 160 all-reduces over 4 wafers through one Ethernet switch level: 2 log2(4) = 4 message steps of 5 us each
    assert r["decode_terms_s"]["latency:link"] == pytest.approx(160 * 4 * 5e-6, rel=1e-9)


def test_tensor_parallel_uses_nvlink_within_the_domain_and_the_network_beyond():
    r = llm.estimate("llama-3.1-405b", "h100", batch=1, context=2048)
    assert r["devices_used"] == 16 and r["tp"] == 8 and r["pp"] == 2
    assert r["links"] == {"tp": "nvlink", "pp": "network"}


def test_request_totals():
    r = llm.estimate("llama-3.1-8b", "h100", batch=4, context=1024, generate=128, ideal=True)
    # whole request: TTFT + 128 decode steps at contexts 1024..1151, each close to the step at 1024
    assert r["request_latency_s"] == pytest.approx(r["ttft_s"] + 128 * r["tpot_s"], rel=0.02)
    assert r["request_latency_s"] > r["ttft_s"] + 128 * r["tpot_s"]  # context grows, so steps slow down
    assert r["tokens_per_s"] == pytest.approx(4 * r["tokens_per_s_per_user"])


def test_estimate_device_gives_ranges():
    r = llm.estimate("llama-3.1-8b", "ai5", batch=1, context=2048)
    lo, hi = r["tpot_s_range"]
    assert lo < r["tpot_s"] < hi
    assert r["tokens_per_s_per_user_range"][0] < r["tokens_per_s_per_user"] < r["tokens_per_s_per_user_range"][1]


def test_latency_terms_raise_wafer_decode_time():
    ideal = llm.estimate("llama-3.1-70b", "wse3", ideal=True)["tpot_s"]
    real = llm.estimate("llama-3.1-70b", "wse3")["tpot_s"]
    # a pure roofline says ~10 us per token on four wafers; the fabric-crossing terms make it ~1 ms
    assert ideal < 50e-6
    assert real > 20 * ideal


# ---------------------------------------------------------------------------------------------------
# the pitfalls in shared/reference/modelling-pitfalls.md, each with a test
# ---------------------------------------------------------------------------------------------------
def test_pitfall_gqa_kv_scales_with_kv_heads_not_query_heads():
    m = get_model("llama-3.1-70b")
    wl = llm.llm_workload(m, "decode")
    attn = next(op for op in wl.ops if op.name == "attention")
    b, s = sp.Symbol("b", positive=True), sp.Symbol("s", positive=True)
    kv = sum(t.bytes for t in attn.tensors if t.name == "kv_read")
    assert sp.simplify(kv - b * s * 2 * 8 * 128 * 2) == 0     # 8 KV heads, not 64


def test_pitfall_gated_mlp_has_three_matrices():
    m = get_model("llama-2-7b")
    assert m.dense_mlp_params() == 3 * 4096 * 11008
    g = get_model("gpt-3-175b")
    assert g.mlp == "standard" and g.dense_mlp_params() == 2 * 12288 * 49152 + 49152 + 12288  # + biases


def test_pitfall_lm_head_is_a_gemm_of_2_d_vocab_flops_per_token():
    wl = llm.llm_workload(get_model("llama-3.1-8b"), "decode")
    head = next(op for op in wl.ops if op.name == "lm_head")
    b = sp.Symbol("b", positive=True)
    assert sp.simplify(head.flops - 2 * b * 4096 * 128256) == 0


def test_pitfall_embedding_reads_one_row_and_tied_tables_are_stored_once():
    wl = llm.llm_workload(get_model("llama-2-7b"), "decode")
    emb = next(op for op in wl.ops if op.name == "embedding")
    b = sp.Symbol("b", positive=True)
    assert sp.simplify(emb.bytes - 2 * b * 4096 * 2) == 0     # one row in, one activation out
    g = get_model("gpt-3-175b")
    assert g.tie_embeddings and g.lm_head_params() == 0
    assert g.total_params() - g.embedding_params() - g.position_params() < 175e9


def test_pitfall_decimal_not_binary_bandwidth():
    # 3.35 TB/s is 3.35e12 B/s; with 2^40 it would be 7.4-10 % optimistic
    assert roofline.get_device("h100").level("hbm").bandwidth_bytes_per_s == 3.35e12


def test_pitfall_bytes_follow_each_tensors_dtype():
    m = get_model("llama-2-7b")
    base = llm.estimate(m, "h100", batch=8, context=4096, ideal=True)
    kv8 = llm.estimate(m, "h100", batch=8, context=4096, ideal=True, prec=Precision("bf16", "bf16", "fp8"))
    assert kv8["kv_cache_bytes"] == base["kv_cache_bytes"] / 2
    assert kv8["weights_bytes"] == base["weights_bytes"]
    w4 = llm.estimate(m, "h100", batch=1, context=128, ideal=True, prec=Precision.of("int4"))
    assert w4["weights_bytes"] == 6_738_415_616 * 0.5 and w4["kv_dtype"] == "bf16"


def test_pitfall_peak_constant_is_the_datasheets():
    h = roofline.get_device("h100")
    assert h.level("hbm").bandwidth_bytes_per_s not in (3.072e12, 3.4e12)
    assert h.figure("memory.hbm.bandwidth").basis == "datasheet"


def test_pitfall_dense_not_sparse_peak_for_prefill():
    r = llm.estimate("llama-3.1-8b", "h100", batch=1, context=4096, ideal=True)
    n_mat = get_model("llama-3.1-8b").total_params() - 128256 * 4096
    assert r["ttft_s"] > 2 * n_mat * 4096 / 989.4e12      # the dense 989.4, not the sparse 1,979


def test_pitfall_per_operator_sum_exceeds_whole_model_roofline():
    wl = llm.llm_workload(get_model("llama-3.1-8b"), "decode")
    h100 = roofline.get_device("h100")
    r = roofline.engine.evaluate(wl, h100, {"b": 300, "s": 512}, ideal=True, level="hbm")
    per_op = float(r["time_s"])
    # whole-model roofline: the largest of total compute time and each level's total traffic time
    whole = float(np.max(r["term_totals"]))
    assert whole == pytest.approx(max(float(r["flops"]) / 989.4e12, float(r["term_totals"][2])))
    assert per_op > whole * 1.01


def test_pitfall_capacity_never_silently_charged_at_a_faster_level():
    r = llm.estimate("llama-3.1-8b", "wse3", batch=1, context=2048, devices=1)
    assert r["weights_level"] == "sram"
    big = llm.estimate("llama-3.1-405b", "wse3", batch=1, context=2048, devices=1, ideal=True)
    assert big["weights_level"] == "external" and big["bound"] == "memory:external"


# ---------------------------------------------------------------------------------------------------
# sweeps and the frontier
# ---------------------------------------------------------------------------------------------------
def test_decode_sweep_is_tidy_and_marks_what_does_not_fit():
    df = llm.decode_sweep("llama-3.1-70b", ["h100", "wse3"], batch=[1, 8, 64, 512, 4096], context=[2048, 32768],
                          device_counts=[4])
    assert len(df) == 2 * 5 * 2
    assert set(df.columns) >= {"device", "devices", "batch", "context", "time_s", "tokens_per_s_per_user", "bound", "fits"}
    big = df[(df.device == "h100") & (df.batch == 4096) & (df.context == 32768)]
    assert not big.fits.iloc[0] and np.isnan(big.time_s.iloc[0]) and big.bound.iloc[0] == "capacity"


def test_frontier_trades_interactivity_for_throughput():
    f = llm.frontier("llama-3.1-70b", "h100", devices=8, context=2048)
    assert (np.diff(f.tokens_per_s_per_user) <= 1e-9).all()
    assert (np.diff(f.tokens_per_s_per_device) >= -1e-9).all()
    # ends where the KV cache fills HBM: (8 x 80 GB - 141 GB) / (2048 x 327,680 B) = ~744 sequences
    assert 600 < f.batch.max() <= 744


# ---------------------------------------------------------------------------------------------------
# CLI
# ---------------------------------------------------------------------------------------------------
def test_cli_llm_json(capsys):
    code = main(["llm", "--model", "llama-3.1-70b", "--device", "h100", "--dtype", "bf16", "--batch", "1",
                 "--context", "2048", "--generate", "64", "--format", "json"])
    out = json.loads(capsys.readouterr().out)
    assert code == 0
    for key in ("devices_used", "weights_bytes", "kv_cache_bytes", "ttft_s", "tpot_s", "tokens_per_s_per_user",
                "tokens_per_s", "bound", "energy_per_token_j", "request_latency_s"):
        assert key in out
    assert out["devices_used"] == 2


@pytest.mark.parametrize("fmt", ["table", "markdown", "latex", "csv"])
def test_cli_llm_formats(capsys, fmt):
    assert main(["llm", "--model", "llama-3.1-8b", "--device", "wse3", "--format", fmt]) == 0
    # people read the quantity's name; machines (CSV) read the column named with its unit
    assert ("time per output token" if fmt != "csv" else "tpot_s") in capsys.readouterr().out


@pytest.mark.parametrize("argv, message", [
    (["--model", "llama-3.1-70c", "--device", "h100"], "did you mean 'llama-3.1-70b'"),
    (["--model", "llama-3.1-70b", "--device", "h100", "--devices", "1"], "needs"),
    (["--model", "llama-3.1-70b", "--device", "h100", "--batch", "0"], "positive integer"),
    (["--model", "llama-3.1-70b", "--device", "h100", "--context", "999999"], "exceeds"),
    (["--model", "llama-3.1-70b", "--device", "h100", "--dtype", "fp5"], "unknown data type"),
    (["--model", "llama-3.1-70b", "--device", "a100", "--dtype", "fp8"], "no published fp8 peak"),
    (["--model", "llama-3.1-70b", "--device", "h100", "--devices", "4", "--tp", "8", "--pp", "1"], "does not equal"),
])
def test_cli_llm_errors(capsys, argv, message):
    code = main(["llm", *argv])
    err = capsys.readouterr().err
    assert code == 2 and message in err and len(err.strip().splitlines()) == 1


def test_cli_models(capsys):
    assert main(["models", "--format", "json"]) == 0
    keys = {m["key"] for m in json.loads(capsys.readouterr().out)}
    assert {"llama-2-7b", "llama-3.1-405b", "gpt-3-175b", "mixtral-8x7b", "deepseek-v3", "gpt-oss-120b"} <= keys


def test_moe_break_even_is_solved_numerically():
    # the expected number of touched experts, E (1 - (1 - k/E)^b), has no closed form in b
    closed, value = llm.decode_break_even_batch("mixtral-8x7b", "h100", context=128)
    assert closed is None and value > 1
    from roofline import engine
    m = get_model("mixtral-8x7b")
    pl = llm.place(m, roofline.get_device("h100"), context=128)
    wl = llm.llm_workload(m, "decode", Precision(), pl.parallel, pl.links)
    # at the solution, total compute time equals total resident traffic time at HBM
    P, BW = 989.4e12, 3.35e12
    subs = {sp.Symbol("b", positive=True): value, sp.Symbol("s", positive=True): 128}
    t_c = sum(float((op.count * op.flops).subs(subs)) for op in wl.ops) / P
    t_m = sum(float((op.count * engine.split_bytes(op)[0]).subs(subs)) for op in wl.ops) / BW
    assert t_c == pytest.approx(t_m, rel=1e-6)


def test_frontier_of_an_estimate_device_is_a_band():
    f = llm.frontier("llama-3.1-8b", "ai5", context=2048)
    assert (f.tokens_per_s_per_user_worst <= f.tokens_per_s_per_user + 1e-9).all()
    assert (f.tokens_per_s_per_user <= f.tokens_per_s_per_user_best + 1e-9).all()
    from roofline.outputs import plot

    ax = plot.frontier_chart([f]).axes[0]
    # the band is one shaded region between the best and worst curves, named in the legend
    assert any(p.get_label() == "1 × ai5 (range)" for p in ax.patches)


# ---------------------------------------------------------------------------------------------------
# model files: every field validated, every error names the file and the field (issue 12)
# ---------------------------------------------------------------------------------------------------
from roofline.errors import SpecError  # noqa: E402

TINY = '''schema = 1
[model]
key = "tiny"
name = "Tiny"
[architecture]
n_layers = 4
d_model = 64
n_heads = 4
n_kv_heads = 2
d_ff = 128
vocab_size = 1000
'''

TINY_MOE = TINY + '''[moe]
n_experts = 8
experts_per_token = 2
d_ff_expert = 32
'''


@pytest.mark.parametrize("text, field, message", [
    (TINY_MOE + "first_dense_layers = 5\n", "moe.first_dense_layers", "must be below n_layers (4)"),
    (TINY_MOE + "first_dense_layers = 4\n", "moe.first_dense_layers", "must be below n_layers (4)"),
    (TINY + "sliding_window = 16\nsliding_window_layers = 5\n", "architecture.sliding_window_layers",
     "cannot exceed n_layers (4)"),
    (TINY + "sliding_window_layers = 2\n", "architecture.sliding_window_layers", "needs a sliding_window"),
    (TINY.replace("d_model = 64", "d_model = 3"), "architecture.d_model", "must be at least n_heads (4)"),
    (TINY.replace("n_layers = 4", "n_layers = true"), "architecture.n_layers", "expected an integer >= 1, got True"),
    (TINY.replace("n_layers = 4", "n_layers = 4.5"), "architecture.n_layers", "expected an integer >= 1, got 4.5"),
    (TINY.replace("n_layers = 4", "n_layers = 4.0"), "architecture.n_layers", "expected an integer"),
    (TINY.replace("d_ff = 128", "d_ff = 128\ntie_embeddings = \"no\""), "architecture.tie_embeddings",
     "expected true or false"),
    (TINY.replace("schema = 1", "schema = true"), "schema", "expected 1"),
    (TINY + "[moe_typo]\nn = 1\n", "moe_typo", "unknown table or key"),
    (TINY + "[moe]\n", None, None),                                       # an empty [moe] is no MoE
    ("moe = 5\n" + TINY, "moe", "expected a [moe] table"),
    (TINY.replace('name = "Tiny"', 'name = "Ti\\u001b[31mny"'), "model.name", "printable"),
    (TINY.replace('name = "Tiny"', 'name = "Tiny"\naliases = [3]'), "model.aliases", "expected a string"),
    (TINY.replace('name = "Tiny"', 'name = "Tiny"\nsource = 5'), "model.source", "expected a table"),
    (TINY_MOE.replace("experts_per_token = 2", "experts_per_token = 9"), "moe.experts_per_token",
     "cannot exceed n_experts (8)"),
    (TINY.replace("vocab_size = 1000", "vocab_size = 99999999999"), "architecture.vocab_size", "expected an integer <="),
], ids=lambda x: x if isinstance(x, str) and len(x) < 40 else None)
def test_impossible_model_files_are_refused_with_file_and_field(tmp_path, text, field, message):
    p = tmp_path / "m.toml"
    p.write_text(text)
    if field is None:
        assert not load_model_file(p).is_moe
        return
    with pytest.raises(SpecError) as info:
        load_model_file(p)
    assert info.value.field == field and str(p) in str(info.value) and message in str(info.value)


LLAMA_2_7B_JSON = {  # meta-llama/Llama-2-7b-hf config.json (the fields that matter)
    "model_type": "llama", "hidden_size": 4096, "intermediate_size": 11008, "num_attention_heads": 32,
    "num_hidden_layers": 32, "num_key_value_heads": 32, "vocab_size": 32000, "max_position_embeddings": 4096}


@pytest.mark.parametrize("change, field, message", [
    ({"num_hidden_layers": None}, "num_hidden_layers", "missing from config.json"),
    ({"intermediate_size": None}, "intermediate_size", "missing"),
    ({"num_local_experts": 8, "first_k_dense_replace": 40}, "first_k_dense_replace", "must be below n_layers (32)"),
    ({"num_local_experts": 8, "intermediate_size": None}, "moe_intermediate_size", "missing"),
    ({"sliding_window": 128, "layer_types": ["sliding_attention"] * 40}, "layer_types", "cannot exceed n_layers"),
    ({"sliding_window": 128, "layer_types": 5}, "layer_types", "expected a list"),
    ({"hidden_size": 16}, "hidden_size", "must be at least n_heads (32)"),
    ({"num_hidden_layers": True}, "num_hidden_layers", "expected an integer"),
    ({"num_hidden_layers": 31.5}, "num_hidden_layers", "expected an integer"),
    ({"attention_bias": "false"}, "attention_bias", "expected true or false"),
    ({"kv_lora_rank": 512, "qk_rope_head_dim": None}, "qk_nope_head_dim", "missing"),
])
def test_impossible_config_json_is_refused_naming_its_key(tmp_path, change, field, message):
    p = tmp_path / "m" / "config.json"
    p.parent.mkdir()
    p.write_text(json.dumps({**LLAMA_2_7B_JSON, **change}))
    with pytest.raises(SpecError) as info:
        load_model_file(p)
    assert info.value.field == field and str(p) in str(info.value) and message in str(info.value)


def test_null_values_in_config_json_count_as_absent(tmp_path):
    p = tmp_path / "m" / "config.json"
    p.parent.mkdir()
    p.write_text(json.dumps({**LLAMA_2_7B_JSON, "max_position_embeddings": None, "head_dim": None,
                             "tie_word_embeddings": None, "sliding_window": 4096, "layer_types": None}))
    m = load_model_file(p)
    assert m.max_context == 4096 and m.head_dim == 128 and not m.tie_embeddings and m.sliding_window == 0


@pytest.mark.parametrize("content, message", [
    (json.dumps(LLAMA_2_7B_JSON).encode("utf-16"), "not UTF-8 text (it looks like UTF-16)"),
    (b"null", "expected a JSON object"),
    (b"[1, 2]", "expected a JSON object"),
    (b"\xc3\x28", "not UTF-8 text"),
], ids=["utf-16", "null", "list", "bad-utf-8"])
def test_unreadable_config_json_is_a_spec_error(tmp_path, content, message):
    p = tmp_path / "m" / "config.json"
    p.parent.mkdir()
    p.write_bytes(content)
    with pytest.raises(SpecError) as info:
        load_model_file(p)
    assert str(p) in str(info.value) and message in str(info.value)


def test_utf16_toml_is_a_spec_error(tmp_path):
    p = tmp_path / "m.toml"
    p.write_bytes(TINY.encode("utf-16"))
    with pytest.raises(SpecError, match="not UTF-8 text") as info:
        load_model_file(p)
    assert str(p) in str(info.value)


def test_a_utf8_bom_is_accepted(tmp_path):
    p = tmp_path / "m.toml"
    p.write_bytes(TINY.encode("utf-8-sig"))
    assert load_model_file(p).key == "tiny"


def test_impossible_model_on_the_command_line_is_one_line(tmp_path, capsys):
    p = tmp_path / "bad.toml"
    p.write_text(TINY_MOE + "first_dense_layers = 9\n")
    assert main(["llm", "--model", str(p), "--device", "h100"]) == 2
    err = capsys.readouterr().err
    assert "moe.first_dense_layers" in err and len(err.strip().splitlines()) == 1


# ---------------------------------------------------------------------------------------------------
# the result dataclass and the column contract
# ---------------------------------------------------------------------------------------------------
def test_estimate_is_the_result_record():
    from roofline.vocab import Ranged

    kw = dict(batch=4, context=1024, generate=16, ideal=True)
    res = llm.estimate_result("llama-3.1-8b", "ai5", **kw)
    assert isinstance(res, llm.LLMEstimate) and isinstance(res.tpot_s, Ranged)
    d = llm.estimate("llama-3.1-8b", "ai5", **kw)
    assert res.to_dict() == d
    assert list(res.to_dict()) == list(d)
    # an estimate-based device: ranges around the nominal, rates inverted
    lo, hi = d["tpot_s_range"]
    assert (lo, hi) == (res.tpot_s.low, res.tpot_s.high) and lo < d["tpot_s"] < hi
    assert d["tokens_per_s_per_user_range"] == [1 / hi, 1 / lo]
    assert d["request_tokens_per_s_per_user"] == 16 / d["request_latency_s"]
    html = res._repr_html_()
    assert html.startswith("<table") and "time per output token" in html and "–" in html


def test_a_point_device_has_no_ranges():
    d = llm.estimate("llama-3.1-8b", "h100", batch=1, context=1024, ideal=True)
    assert "generate" not in d and "request_latency_s" not in d
    assert not [k for k in d if k.endswith("_range")] or roofline.get_device("h100").is_estimate


def test_every_sweep_follows_the_column_contract():
    from roofline.llm.sweeps import COLUMNS, CORNER_FIELDS

    def check(df, kind, estimate):
        base = [c for c in df.columns if c in COLUMNS]
        assert base == [c for c in COLUMNS if c in base]                    # the contract's order
        extra = [c for c in df.columns if c not in COLUMNS]
        want = [f"{f}_{c}" for c in ("best", "worst") for f in CORNER_FIELDS[kind]] if estimate else []
        assert extra == want

    ranged = roofline.get_device("ai5").is_estimate
    check(llm.decode_sweep("llama-3.1-8b", ["ai5"], [1, 8], [512]), "decode_sweep", ranged)
    check(llm.decode_sweep("llama-3.1-8b", ["ai5"], [1, 8], [512], ranges=False), "decode_sweep", False)
    check(llm.frontier("llama-3.1-8b", "ai5", batches=[1, 2]), "frontier", ranged)
    for df in llm.llm_sweep_chunks("llama-3.1-8b", ["ai5"], [1, 8], [512], chunk=1):
        check(df, "llm_sweep_chunks", False)
    assert list(llm.decode_sweep("llama-3.1-8b", "h100", [1], [512]).columns)[:13] == [
        "model", "device", "devices", "tp", "pp", "batch", "context", "time_s", "tokens_per_s_per_user",
        "tokens_per_s", "bound", "fits", "level"]
    assert all(COLUMNS[c].meaning for c in COLUMNS)
