"""Speculative decoding and multi-token prediction (issue 17): the formulas by hand, the verify step on the
engine, the draft counted toward capacity, the laws (hypothesis), the command line and validation."""

import json
import math

import numpy as np
import pytest
import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from roofline import formulas, llm
from roofline.errors import InputError, SpecError
from roofline.hardware.library import get_device
from roofline.llm import get_model
from roofline.llm.speculative import (ACCEPTANCE, Speculation, break_even_batch, head_config, optimal_draft_tokens,
                                      place_speculative, speculative_step, speedup_closed_form)
from roofline.outputs.cli import main
from roofline.validation import load_measurements
from roofline.vocab import DraftKind, Phase

EAGLE4 = Speculation.of(eagle=1, draft_tokens=4, acceptance=0.8)


# ---------------------------------------------------------------------------------------------------
# the formulas, by hand
# ---------------------------------------------------------------------------------------------------
def test_expected_tokens_for_alpha_0_8_and_four_drafted():
    # 1 + 0.8 + 0.8^2 + 0.8^3 + 0.8^4 = 1 + 0.8 + 0.64 + 0.512 + 0.4096 = 3.3616 (Leviathan et al. 2023, eq. 1)
    assert formulas.expected_tokens_per_step(0.8, 4) == pytest.approx(3.3616, abs=1e-12)
    assert formulas.expected_tokens_per_step_positional([0.8] * 4) == pytest.approx(3.3616, abs=1e-12)
    assert EAGLE4.tokens_per_step == pytest.approx(3.3616, abs=1e-12)
    # the limits: every draft accepted gives gamma + 1, none gives the verify step's one token
    assert formulas.expected_tokens_per_step(1.0, 4) == 5.0
    assert formulas.expected_tokens_per_step(0.0, 4) == 1.0
    assert np.allclose(formulas.expected_tokens_per_step(np.array([0.0, 0.8, 1.0]), 4), [1.0, 3.3616, 5.0])


def test_per_position_rates_are_conditional():
    # 1 + 0.9 + 0.9 x 0.8 + 0.9 x 0.8 x 0.7 = 1 + 0.9 + 0.72 + 0.504 = 3.124
    s = Speculation.of(eagle=1, acceptance=[0.9, 0.8, 0.7])
    assert s.draft_tokens == 3 and s.tokens_per_step == pytest.approx(3.124)


def test_speedup_of_a_draft_with_cost_ratio_c():
    # Leviathan et al. 2023, theorem 3.8: (1 - alpha^(gamma+1)) / ((1 - alpha)(gamma c + 1))
    # alpha 0.8, gamma 4, c 0.1: 3.3616 / 1.4 = 2.40114...; c 0.5: 3.3616 / 3 = 1.12053...
    assert formulas.speculative_speedup(0.8, 4, 0.1) == pytest.approx(3.3616 / 1.4)
    assert formulas.speculative_speedup(0.8, 4, 0.5) == pytest.approx(3.3616 / 3.0)
    # a verify step that costs as much as 5 decode steps (compute-bound) loses: 3.3616 / (0.4 + 5) < 1
    assert formulas.speculative_speedup(0.8, 4, 0.1, 5.0) == pytest.approx(3.3616 / 5.4)
    assert 3.3616 / 5.4 < 1


def test_engine_speedup_is_the_formula_with_the_engines_cost_ratios():
    # the engine's speculative step is gamma draft steps plus one verify step; with the draft step's cost
    # ratio c and the verify step's v (both measured on the engine) the speed-up is the formula's
    m, dev, prec = get_model("llama-3.1-70b"), get_device("h100"), llm.Precision()
    spec = Speculation.of(draft="llama-3.1-8b", draft_tokens=4, acceptance=0.8)
    spl = place_speculative(m, dev, prec, spec, 1, 1024)
    st_ = speculative_step(m, dev, prec, spl, spec, 1, 1024)
    plain = llm.estimate(m, dev, batch=1, context=1024, devices=spl.target.devices)["tpot_s"]
    c = float(st_["draft_time_s"]) / 4 / plain
    v = float(st_["verify_time_s"]) / plain
    speedup = plain / float(st_["tpot_s"])
    assert speedup == pytest.approx(formulas.speculative_speedup(0.8, 4, c, v), rel=1e-12)
    # an 8B draft of a 70B target reads about 8/70 of its bytes per step
    assert 0.08 < c < 0.2


def test_optimal_draft_length_closed_form_by_hand():
    # alpha 0.8, c 0.05: gamma* = (1 + W_-1(-0.8^19 / e)) / ln 0.8 - 20 = 7.86; S(8) = 0.86578 / 0.28 = 3.0921
    g = formulas.optimal_draft_tokens(0.8, 0.05)
    assert g == pytest.approx(7.8567, abs=1e-3)
    s = [formulas.speculative_speedup(0.8, k, 0.05) for k in range(1, 40)]
    assert int(np.argmax(s)) + 1 == 8
    assert formulas.optimal_draft_tokens(0.8, 0.0) == math.inf        # a free draft: draft as much as possible
    assert formulas.optimal_draft_tokens(0.0, 0.05) == 0.0            # never accepted: do not draft
    assert formulas.optimal_draft_tokens(0.8, 1.2) == 0.0             # costlier than the verify step


def test_break_even_batch_by_hand():
    # E 3.3616, gamma 4, c 0.1, t_w 10 ms, t_kv 10 us, t_f 20 us:
    # b* = (3.3616 - 0.4) x 10 ms / (5 x 20 us - 2.9616 x 10 us) = 29.616 ms / 70.384 us = 420.78
    b = formulas.speculative_break_even_batch(3.3616, 4, 0.1, 10e-3, 10e-6, 20e-6)
    assert b == pytest.approx(29.616e-3 / 70.384e-6)
    # at b*, on the whole-step roofline, the speed-up is exactly 1
    t_dec = max(10e-3 + b * 10e-6, b * 20e-6)
    t_ver = max(10e-3 + b * 10e-6, 5 * b * 20e-6)
    assert 3.3616 * t_dec / (0.4 * t_dec + t_ver) == pytest.approx(1.0)
    assert formulas.speculative_speedup_at_batch(0.8, 4, 0.1, b, 10e-3, 10e-6, 20e-6) == pytest.approx(1.0)
    # batch 1: both steps bandwidth-bound, 3.3616 / 1.4; batch 2000: both compute-bound, 3.3616 / (0.4 + 5)
    assert formulas.speculative_speedup_at_batch(0.8, 4, 0.1, 1, 10e-3, 10e-6, 20e-6) == pytest.approx(3.3616 / 1.4)
    assert formulas.speculative_speedup_at_batch(0.8, 4, 0.1, 2000, 10e-3, 10e-6, 20e-6) == pytest.approx(3.3616 / 5.4)
    assert formulas.speculative_break_even_batch(1.3, 4, 0.1, 10e-3, 10e-6, 20e-6) == 0.0   # never pays
    assert formulas.speculative_break_even_batch(3.3616, 4, 0.1, 10e-3, 1e-3, 20e-6) == math.inf  # KV-bound


# ---------------------------------------------------------------------------------------------------
# laws (hypothesis)
# ---------------------------------------------------------------------------------------------------
alpha = st.floats(min_value=0.0, max_value=1.0)
gamma = st.integers(min_value=1, max_value=32)
cost = st.floats(min_value=0.0, max_value=2.0)
verify = st.floats(min_value=1.0, max_value=33.0)


@given(g=gamma, c=cost, v=verify)
def test_alpha_zero_never_helps(g, c, v):
    # nothing accepted: one token per step for a verify step that costs at least a decode step
    assert formulas.speculative_speedup(0.0, g, c, v) <= 1.0


@given(a1=alpha, a2=alpha, g=gamma, c=cost, v=verify)
def test_speedup_is_non_decreasing_in_alpha(a1, a2, g, c, v):
    lo, hi = sorted((a1, a2))
    assert formulas.speculative_speedup(lo, g, c, v) <= formulas.speculative_speedup(hi, g, c, v) * (1 + 1e-12)


@given(g=gamma, c=cost, b1=st.floats(min_value=1, max_value=1e5), b2=st.floats(min_value=1, max_value=1e5),
       tw=st.floats(min_value=1e-6, max_value=1.0), tkv=st.floats(min_value=0.0, max_value=1e-3),
       tf=st.floats(min_value=1e-9, max_value=1e-3))
def test_speedup_never_grows_with_the_batch(g, c, b1, b2, tw, tkv, tf):
    lo, hi = sorted((b1, b2))
    s = [formulas.speculative_speedup_at_batch(0.8, g, c, b, tw, tkv, tf) for b in (lo, hi)]
    assert s[1] <= s[0] * (1 + 1e-9)


@given(a=alpha, g=gamma)
def test_expected_tokens_between_one_and_gamma_plus_one(a, g):
    e = formulas.expected_tokens_per_step(a, g)
    assert 1.0 - 1e-12 <= e <= g + 1 + 1e-9
    assert e == pytest.approx(formulas.expected_tokens_per_step_positional([a] * g), rel=1e-9)


@settings(max_examples=200)
@given(a=st.floats(min_value=0.05, max_value=0.98), c=st.floats(min_value=0.002, max_value=0.9))
def test_closed_form_optimum_is_the_best_whole_draft_length(a, c):
    g = formulas.optimal_draft_tokens(a, c)
    ks = np.arange(0, int(g) + 3)
    s = formulas.speculative_speedup(a, ks, c)
    assert int(ks[np.argmax(s)]) in (math.floor(g), math.ceil(g))


def test_symbolic_optimum_equals_the_numeric_one():
    a, c, v = sp.symbols("alpha c v", positive=True)
    expr = formulas.optimal_draft_tokens(a, c, v)
    for av, cv, vv in ((0.8, 0.05, 1.0), (0.6, 0.1, 1.2), (0.95, 0.01, 1.0)):
        num = formulas.optimal_draft_tokens(av, cv, vv)
        assert float(expr.subs({a: av, c: cv, v: vv}).evalf()) == pytest.approx(num, rel=1e-9)
    s = speedup_closed_form()
    assert float(s.subs(dict(zip(sp.symbols("alpha gamma c v", positive=True), (0.8, 4, 0.1, 1))))) \
        == pytest.approx(3.3616 / 1.4)


@settings(max_examples=8, deadline=None)
@given(g=st.integers(min_value=1, max_value=8), b=st.sampled_from([1, 4, 32]),
       model_dev=st.sampled_from([("llama-3.1-8b", "h100"), ("llama-3.1-8b", "wse3"), ("llama-3.1-70b", "b200")]))
def test_on_the_engine_alpha_zero_never_helps(g, b, model_dev):
    model, dev = model_dev
    spec = Speculation.of(eagle=1, draft_tokens=g, acceptance=0.0)
    e = llm.estimate(model, dev, batch=b, context=512, speculation=spec)
    plain = llm.estimate(model, dev, batch=b, context=512, devices=e["devices_used"])
    assert e["tokens_per_s_per_user"] <= plain["tokens_per_s_per_user"] * (1 + 1e-9)


@settings(max_examples=8, deadline=None)
@given(a1=alpha, a2=alpha, g=st.integers(min_value=1, max_value=8), b=st.sampled_from([1, 16, 256]))
def test_on_the_engine_tokens_per_s_is_non_decreasing_in_alpha(a1, a2, g, b):
    lo, hi = sorted((a1, a2))
    rate = [llm.estimate("llama-3.1-8b", "h100", batch=b, context=256,
                         speculation=Speculation.of(draft="llama-3.1-8b", draft_tokens=g, acceptance=a))["tokens_per_s"]
            for a in (lo, hi)]
    assert rate[0] <= rate[1] * (1 + 1e-12)


# ---------------------------------------------------------------------------------------------------
# the verify step on the engine
# ---------------------------------------------------------------------------------------------------
def test_verify_workload_by_hand():
    m = get_model("llama-3.1-8b")
    wl = llm.llm_workload(m, Phase.VERIFY)
    ops = {op.name: op for op in wl.ops}
    b, s, q = sp.symbols("b s q", positive=True)
    # the lm_head scores every verified position: 2 d V per token, b q tokens
    assert sp.simplify(ops["lm_head"].flops - 2 * 4096 * 128256 * b * q) == 0
    # each of the q tokens attends to the s cached ones and the new ones before it: q s + q (q - 1) / 2
    # pairs per head; 32 heads x (128 + 128) x 2 FLOPs per pair
    assert sp.simplify(ops["attention"].flops - 2 * 32 * (q * s + q * (q - 1) / 2) * 256 * b) == 0
    # the weights are read once for the q tokens: the same weight elements as a decode step
    dec = {op.name: op for op in llm.llm_workload(m, Phase.DECODE).ops}
    for name in ("qkv_proj", "o_proj", "mlp_up", "mlp_down", "lm_head"):
        w = [t.elements for t in ops[name].tensors if t.name == "W"]
        assert w == [t.elements for t in dec[name].tensors if t.name == "W"]
    # with q = 1 the verify step is the decode step
    assert sp.simplify(wl.flops.subs(q, 1) - llm.llm_workload(m, Phase.DECODE).flops) == 0


def test_verify_costs_about_one_decode_step_at_batch_1_on_a_bandwidth_bound_gpu():
    # H100 SXM, Llama-3.1-8B at batch 1: 16.06 GB of weights at 3.35 TB/s = 4.79 ms per decode step; five
    # tokens per sequence add 5 x 16 GFLOP of work, 0.08 ms at 989 TFLOP/s: still bandwidth-bound
    m, dev, prec = get_model("llama-3.1-8b"), get_device("h100"), llm.Precision()
    spl = place_speculative(m, dev, prec, EAGLE4, 1, 2048)
    st_ = speculative_step(m, dev, prec, spl, EAGLE4, 1, 2048, ideal=True)
    dec = llm.estimate(m, dev, batch=1, context=2048, ideal=True)["tpot_s"]
    assert dec == pytest.approx(16.06e9 / 3.35e12, rel=0.05)
    assert float(st_["verify_time_s"]) == pytest.approx(dec, rel=0.03)
    assert st_["bound"] == "memory:hbm"


def test_speedup_falls_below_one_as_the_batch_grows_on_h100():
    # a verify step of 5 tokens per sequence turns compute-bound at a fifth of the decode step's batch
    df = llm.decode_sweep("llama-3.1-8b", "h100", [1, 16, 64, 256, 1024], [128], ranges=False,
                          speculation=EAGLE4)
    plain = llm.decode_sweep("llama-3.1-8b", "h100", [1, 16, 64, 256, 1024], [128], ranges=False)
    speedup = (df.tokens_per_s_per_user / plain.tokens_per_s_per_user).to_numpy()
    assert speedup[0] > 2.0
    assert np.all(np.diff(speedup) <= 1e-9)
    assert speedup[-1] < 1.0
    r = break_even_batch("llama-3.1-8b", "h100", EAGLE4, context=128)
    assert r["speedup_at_batch_1"] == pytest.approx(speedup[0])
    assert 64 < r["batch"] < 1024
    # the whole-step closed form lands within a factor of two of the per-operator answer
    assert 0.5 < r["closed_form_value"] / r["batch"] < 2.0
    assert {str(x) for x in r["closed_form"].free_symbols} == {"E", "gamma", "c", "t_w", "t_kv", "t_f"}


def test_optimal_draft_length_on_the_engine():
    r = optimal_draft_tokens("llama-3.1-8b", "h100", Speculation.of(eagle=1, acceptance=0.8), context=1024)
    assert r["draft_tokens"] == int(r["draft_tokens_grid"][np.argmax(r["tokens_per_s_per_user"])])
    assert abs(r["draft_tokens"] - r["gamma_closed_form"]) <= 1.5
    assert "LambertW" in str(r["closed_form"])


# ---------------------------------------------------------------------------------------------------
# the draft: placed like any model, counted toward capacity
# ---------------------------------------------------------------------------------------------------
def test_a_draft_model_on_the_targets_devices_is_counted_toward_capacity():
    m, dev, prec = get_model("llama-3.1-70b"), get_device("h100"), llm.Precision()
    spec = Speculation.of(draft="llama-3.1-8b", draft_tokens=4, acceptance=0.8)
    spl = place_speculative(m, dev, prec, spec, 1, 2048)
    assert spl.target.parallel.tp == 2 and spl.draft.parallel.tp == 2
    # the draft's 8,030,261,248 weights x 2 B over tp 2, and its KV cache: 32 layers x 2 x 8 heads x 128 x 2 B
    # = 131,072 B per token, over 2 ranks, for 2048 + 5 tokens (the verify step appends gamma + 1)
    assert spl.draft_bytes_per_device == 8_030_261_248 + 65_536 * 2053
    plain = llm.estimate(m, dev, batch=1, context=2048)
    e = llm.estimate(m, dev, batch=1, context=2048, speculation=spec)
    assert e["resident_bytes_per_device"] > plain["resident_bytes_per_device"] + 8.1e9
    assert e["resident_bytes_per_device"] <= e["capacity_bytes_per_device"]


def test_a_draft_that_does_not_fit_takes_more_devices():
    # at batch 24 and 2048 tokens the 70B target alone fits 2 H100s, target plus draft do not
    plain = llm.estimate("llama-3.1-70b", "h100", batch=24, context=2048)
    e = llm.estimate("llama-3.1-70b", "h100", batch=24, context=2048,
                     speculation=Speculation.of(draft="llama-3.1-8b", draft_tokens=4, acceptance=0.8))
    assert plain["devices_used"] == 2 and e["devices_used"] > 2


def test_a_draft_model_on_devices_of_its_own():
    spec = Speculation.of(draft="llama-3.1-8b", draft_tokens=4, acceptance=0.8, draft_devices=1)
    e = llm.estimate("llama-3.1-70b", "h100", batch=1, context=2048, speculation=spec)
    plain = llm.estimate("llama-3.1-70b", "h100", batch=1, context=2048)
    assert e["resident_bytes_per_device"] == pytest.approx(plain["resident_bytes_per_device"], rel=1e-3)
    assert e["speculation"]["system_devices"] == e["devices_used"] + 1


def test_deepseek_mtp_module_size():
    # DeepSeek-V3 README_WEIGHTS: the MTP module holds 11.5B unique parameters (it shares the embedding and
    # the output head): one MoE layer and the 2 d x d projection
    h = head_config(get_model("deepseek-v3"), Speculation.of(mtp=1))
    assert h.n_layers == 1 and h.is_moe and h.moe_layers == 1
    assert h.layer_params(True) + 2 * 7168 * 7168 == pytest.approx(11.5e9, rel=0.02)


def test_eagle_head_is_one_dense_layer_of_the_target():
    h = head_config(get_model("llama-4-maverick"), Speculation.of(eagle=1))
    assert h.n_layers == 1 and not h.is_moe and h.d_ff == 16384 and h.sliding_window_layers == 0


def test_llama_4_maverick_parameters():
    # Meta's model card: 400B total, 17B active
    m = get_model("llama-4-maverick")
    assert m.total_params() == pytest.approx(400e9, rel=0.01)
    assert m.active_params(include_embedding=True) == pytest.approx(17e9, rel=0.02)


def test_defaults_come_from_the_published_figures():
    assert Speculation.of(mtp=1).acceptance == (ACCEPTANCE[DraftKind.MTP].nominal,) == (0.85,)
    assert Speculation.of(mtp=2).draft_tokens == 2
    e = Speculation.of(eagle=1)
    assert e.draft_tokens == 3 and e.acceptance == (0.80,) * 3
    # the EAGLE figure: (1 - alpha^4) / (1 - alpha) = 2.94 (coding, k = 3) at alpha = 0.80
    assert formulas.expected_tokens_per_step(0.797, 3) == pytest.approx(2.94, abs=0.01)
    for fig in ACCEPTANCE.values():
        assert 0 < fig.low <= fig.nominal <= fig.high <= 1 and fig.source


@pytest.mark.parametrize("kw, message", [
    (dict(mtp=1, eagle=1), "choose one draft"),
    (dict(draft_tokens=3), "need a draft"),
    (dict(eagle=1, acceptance=[0.9, 0.8], draft_tokens=3), "2 per-position acceptance rates for 3"),
    (dict(eagle=1, acceptance=1.5), "probability in [0, 1]"),
    (dict(eagle=0), "positive integer"),
    (dict(eagle=1, draft_tokens=100), "more than the 64"),
    (dict(mtp=1, draft_devices=2), "for a draft model"),
])
def test_bad_speculation_is_an_input_error(kw, message):
    with pytest.raises(InputError, match=message.replace("[", r"\[").replace("]", r"\]")):
        Speculation.of(**kw)


def test_a_draft_must_share_the_vocabulary():
    with pytest.raises(InputError, match="share the target's tokens"):
        llm.estimate("llama-3.1-70b", "h100", speculation=Speculation.of(draft="llama-2-7b"))


# ---------------------------------------------------------------------------------------------------
# results, sweeps, the command line
# ---------------------------------------------------------------------------------------------------
def test_estimate_reports_the_speculative_fields():
    d = llm.estimate("llama-3.1-70b", "ai5", batch=1, context=1024, generate=64,
                     speculation=Speculation.of(eagle=1, draft_tokens=4, acceptance=0.8))
    assert d["tokens_per_step"] == pytest.approx(3.3616)
    assert d["tpot_s"] == pytest.approx((d["draft_time_s"] + d["verify_time_s"]) / 3.3616)
    assert d["tokens_per_s_per_user"] == pytest.approx(1 / d["tpot_s"])
    assert {"draft_time_s_range", "verify_time_s_range"} <= set(d)       # an estimate-based device
    assert d["speculation"]["kind"] == "eagle" and d["speculation"]["draft_tokens"] == 4
    plain = llm.estimate("llama-3.1-70b", "ai5", batch=1, context=1024)
    assert not {"tokens_per_step", "draft_time_s", "verify_time_s", "speculation"} & set(plain)
    assert list(plain) == [k for k in d if k in plain]                    # the usual keys, in their order


def test_sweep_columns_with_speculation():
    from roofline.llm.sweeps import COLUMNS

    df = llm.decode_sweep("llama-3.1-8b", ["h100"], [1, 8], [512], speculation=EAGLE4)
    assert {"tokens_per_step", "draft_time_s", "verify_time_s"} <= set(df.columns)
    base = [c for c in df.columns if c in COLUMNS]
    assert base == [c for c in COLUMNS if c in base]
    assert np.allclose(df.tokens_per_s_per_user, 3.3616 / df.time_s)
    f = llm.frontier("llama-3.1-8b", "h100", batches=[1, 8], context=512, speculation=EAGLE4)
    assert np.allclose(f.tpot_s.to_numpy(), df.time_s.to_numpy() / 3.3616)
    with pytest.raises(InputError, match="prefill"):
        llm.decode_sweep("llama-3.1-8b", ["h100"], [1], [512], phase="prefill", speculation=EAGLE4)


def test_cli_llm_speculative_json(capsys):
    assert main(["llm", "--model", "llama-3.1-70b", "--device", "h100", "--draft", "llama-3.1-8b",
                 "--draft-tokens", "4", "--acceptance", "0.8", "--format", "json"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert d["tokens_per_step"] == pytest.approx(3.3616)
    assert d["draft_time_s"] > 0 and d["verify_time_s"] > 0
    assert main(["llm", "--model", "llama-3.1-8b", "--device", "h100", "--eagle", "1",
                 "--acceptance", "0.9,0.8,0.7"]) == 0
    out = capsys.readouterr().out
    assert "tokens per step" in out and "3.124" in out


@pytest.mark.parametrize("argv, message", [
    (["--mtp", "1", "--eagle", "1"], "not allowed with"),
    (["--acceptance", "0.8"], "need a draft"),
    (["--eagle", "1", "--acceptance", "0.9,x"], "acceptance rates in [0, 1]"),
    (["--draft", "llama-2-7b"], "share the target's tokens"),
])
def test_cli_speculative_errors(capsys, argv, message):
    assert main(["llm", "--model", "llama-3.1-70b", "--device", "h100", *argv]) == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1


def test_cli_sweep_and_compare_take_a_draft(capsys):
    assert main(["sweep", "--model", "llama-3.1-8b", "--device", "h100", "--batch", "1,8", "--context", "512",
                 "--eagle", "1", "--format", "json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert rows[0]["tokens_per_step"] == pytest.approx(formulas.expected_tokens_per_step(0.8, 3))
    assert main(["compare", "wse3", "h100", "--model", "llama-3.1-8b", "--mtp", "1", "--format", "json"]) == 0
    res = json.loads(capsys.readouterr().out)
    assert res["speculation"]["kind"] == "mtp"


# ---------------------------------------------------------------------------------------------------
# validation: speculative rows are compared, not excluded
# ---------------------------------------------------------------------------------------------------
def test_speculative_rows_state_their_configuration():
    rows = {r["id"]: r for r in load_measurements()}
    assert rows["a100-llama2-70b-int4-speculative-gptfast"]["speculative_config"] == {"draft": "llama-2-7b"}
    assert rows["b200x8-llama4-maverick-eagle3-1000-nvidia"]["speculative_config"] == {"eagle": 1}
    assert rows["h200x8-llama-3.1-70b-medusa-speculative-nvidia"]["speculative_config"] == {"medusa": None}
    assert rows["wse3-llama3.1-70b-2100-speculative-oct2024"]["speculative_config"] == {}
    assert rows["h100-hbm-copy-azure-benchguide"]["speculative_config"] is None


def test_a_speculative_row_gets_a_speculative_bound():
    from roofline.validation.bounds import validate

    text = ("id,category,device,device_count,model,weight_dtype,kv_dtype,batch,input_tokens,output_tokens,context,"
            "tp,pp,software,gemm_m,gemm_n,gemm_k,gemm_dtype,speculative,metric,value,unit,source_title,source_url,"
            "source_date,locator,note\n"
            "plain,llm-decode,h100,1,llama-3.1-8b,bf16,bf16,1,,,1024,,,x,,,,,false,tokens_per_s_per_user,100,"
            "tokens/s,t,https://example.invalid,,,\n"
            "spec,llm-decode,h100,1,llama-3.1-8b,bf16,bf16,1,,,1024,,,x,,,,,eagle=1;gamma=4;alpha=0.8,"
            "tokens_per_s_per_user,300,tokens/s,t,https://example.invalid,,,\n")
    import pathlib
    import tempfile

    p = pathlib.Path(tempfile.mkdtemp()) / "m.csv"
    p.write_text(text)
    plain, spec = validate(p)
    # 300 tok/s beats the plain bound but not the speculative one
    assert spec["value"] > plain["bound_ideal"]
    assert spec["bound_ideal"] > 2 * plain["bound_ideal"] and not spec["violation"]
    assert spec["speculation"] == "eagle x1, gamma 4" and spec["tokens_per_step"] == pytest.approx(3.3616)


def test_a_malformed_speculative_column_is_a_spec_error(tmp_path):
    rows = (tmp_path / "m.csv")
    header = ("id,category,device,device_count,model,weight_dtype,kv_dtype,batch,input_tokens,output_tokens,context,"
              "tp,pp,software,gemm_m,gemm_n,gemm_k,gemm_dtype,speculative,metric,value,unit,source_title,source_url,"
              "source_date,locator,note\n")
    rows.write_text(header + "x,llm-decode,h100,1,llama-3.1-8b,,,1,,,,,,x,,,,,eagle=one,tokens_per_s_per_user,1,"
                             "tokens/s,t,https://example.invalid,,,\n")
    with pytest.raises(SpecError, match="eagle"):
        load_measurements(rows)
