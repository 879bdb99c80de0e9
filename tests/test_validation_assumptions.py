"""What validation assumes where a row leaves its precision or its speculative draft unstated (issue 15):
the bound takes the favourable end, the estimate the nominal one. Hand calculations in the comments."""

import math

import pytest

from roofline.hardware.library import get_device
from roofline.llm.loader import get_model
from roofline.llm.speculative import ACCEPTANCE, ACCEPTANCE_HIGH
from roofline.validation import bounds
from roofline.validation.bounds import UNSTATED_DRAFT_TOKENS
from roofline.vocab import DraftKind, Mode


def _row(model, weight_dtype="", speculative=None, metric="tokens_per_s_per_user"):
    return {"id": "t", "model": get_model(model), "weight_dtype": weight_dtype, "kv_dtype": "", "metric": metric,
            "speculative_config": speculative}


def _weights(model, device, mode, weight_dtype=""):
    precs, assumed = bounds._precisions(_row(model, weight_dtype), get_device(device), mode)
    return [p.weights for p in precs], assumed


def test_published_weight_types_are_recorded_with_a_source():
    # Meta's official FP8 Maverick checkpoint, Qwen's FP8 releases, OpenAI's MXFP4-only gpt-oss
    for key, types in (("llama-4-maverick", ["bf16", "fp8"]), ("qwen3-235b-a22b", ["bf16", "fp8"]),
                       ("gpt-oss-120b", ["mxfp4"]), ("kimi-k2", ["fp8"]), ("kimi-k2.6", ["int4_g32"])):
        pub = get_model(key).published
        assert pub["weight_dtypes"] == types
        assert "https://huggingface.co/" in pub["weight_dtypes_source"] or "arXiv" in pub["weight_dtypes_source"]


def test_a_wafer_bound_takes_the_published_8_bit_weights_that_need_fewer_wafers():
    # the WSE-3 computes nothing narrower than 16 bits, but Maverick's FP8 weights hold 400.7 GB, not 801 GB
    bound, _ = _weights("llama-4-maverick", "wse3", Mode.IDEAL)
    assert bound == ["bf16", "fp8"]
    est, assumed = _weights("llama-4-maverick", "wse3", Mode.ESTIMATE)
    assert est == ["bf16", "fp8"]  # nominal: the native release; the range spans both
    assert any("published in bf16, fp8" in a for a in assumed)


def test_a_model_published_only_in_4_bits_is_estimated_in_them_and_widened_on_a_16_bit_device():
    # gpt-oss ships MXFP4 experts only: the bound also tries 16 bits (the device rule); the estimate's nominal is
    # the published 4-bit form and its worst corner the weights widened to the 16 bits the wafer computes in
    # (whether Cerebras keeps them narrow in SRAM is not published)
    assert _weights("gpt-oss-120b", "wse3", Mode.IDEAL)[0] == ["bf16", "mxfp4"]
    assert _weights("gpt-oss-120b", "wse3", Mode.ESTIMATE)[0] == ["mxfp4", "bf16"]
    assert _weights("kimi-k2.6", "wse3", Mode.ESTIMATE)[0] == ["int4_g32", "bf16"]


def test_block_scaled_4_bit_weights_are_not_4_bits():
    from roofline.dtypes import bytes_per_element
    from roofline.llm.inference import estimate
    from roofline.llm.precision import Precision

    # OCP MX v1.0: 32 x 4-bit E2M1 + one 8-bit E8M0 scale = 136 bits per 32 = 4.25 bits; Kimi's INT4: 32 x 4 bits
    # + one bf16 scale = 144 bits per 32 = 4.5 bits
    assert bytes_per_element("mxfp4") == (32 * 4 + 8) / 32 / 8 == 0.53125
    assert bytes_per_element("int4_g32") == (32 * 4 + 16) / 32 / 8 == 0.5625
    # Kimi K2.6 (K2's 1.0264e12 parameters): x 4.5 / 8 = 577.4 GB over 44 GB a wafer = 13.1 -> 14 wafers
    m = get_model("kimi-k2.6")
    assert m.total_params() == pytest.approx(1.0264e12, rel=1e-3)
    assert math.ceil(m.total_params() * 0.5625 / 44e9) == 14
    e = estimate(m, "wse3", batch=1, context=128, prec=Precision("int4_g32", "bf16", "bf16"))
    assert e["devices_used"] == 14 and e["weights_bytes"] == pytest.approx(m.total_params() * 0.5625, rel=1e-9)


def test_gpus_keep_their_narrowest_computed_type():
    # H100 computes FP8: Maverick's published types are no narrower, so nothing is added
    assert _weights("llama-4-maverick", "h100", Mode.IDEAL)[0] == ["fp8"]
    assert _weights("llama-4-maverick", "h100", Mode.ESTIMATE)[0] == ["fp8"]
    # a 4-bit release is narrower than FP8: the H100 bound tries it too
    assert _weights("gpt-oss-120b", "h100", Mode.IDEAL)[0] == ["fp8", "mxfp4"]
    assert _weights("gpt-oss-120b", "b200", Mode.IDEAL)[0] == ["fp4"]


def test_a_stated_precision_or_an_unlisted_model_is_taken_as_it_is():
    assert _weights("llama-4-maverick", "wse3", Mode.IDEAL, "bf16")[0] == ["bf16"]
    assert _weights("llama-3.1-70b", "wse3", Mode.ESTIMATE)[0] == ["bf16"]  # no [published] weight_dtypes


def test_wafers_needed_for_maverick_at_16_and_8_bits():
    from roofline.llm.inference import estimate
    from roofline.llm.precision import Precision

    m = get_model("llama-4-maverick")
    params = m.total_params()
    assert params == pytest.approx(400.7e9, rel=2e-3)  # the text model (model card: 400B with vision)
    # 400.7e9 x 2 B = 801 GB over 44 GB per wafer = 18.2 -> 19; x 1 B = 400.7 GB -> 9.1 -> 10
    assert math.ceil(params * 2 / 44e9) == 19 and math.ceil(params * 1 / 44e9) == 10
    for w, wafers in (("bf16", 19), ("fp8", 10)):
        e = estimate(m, "wse3", batch=1, context=128, prec=Precision(w, "bf16", "bf16"))
        assert e["devices_used"] == wafers


def test_an_unstated_draft_is_free_in_the_bound_and_a_small_model_in_the_estimate():
    r = _row("llama-3.1-70b", speculative={})
    bound = bounds._speculations(r, [], Mode.LATENCY_BOUND)
    assert len(bound) == UNSTATED_DRAFT_TOKENS
    assert {s.kind for s in bound} == {DraftKind.IDEAL} and {s.acceptance[0] for s in bound} == {ACCEPTANCE_HIGH}
    assumed = []
    est = bounds._speculations(r, assumed, Mode.ESTIMATE)
    # Llama-3.1-8B shares the 128,256-token vocabulary and is the smallest such model in the library
    assert {(s.kind, s.draft) for s in est} == {(DraftKind.MODEL, "llama-3.1-8b")}
    assert {s.acceptance[0] for s in est} == {ACCEPTANCE[DraftKind.MODEL].nominal} == {0.88}
    assert [s.draft_tokens for s in est] == list(range(1, UNSTATED_DRAFT_TOKENS + 1))
    assert any("llama-3.1-8b" in a for a in assumed)


def test_a_stated_draft_keeps_its_kind_and_a_target_without_a_smaller_model_gets_an_eagle_head():
    est = bounds._speculations(_row("llama-3.1-70b", speculative={"mtp": 1, "gamma": 2}), [], Mode.ESTIMATE)
    assert [(s.kind, s.draft_tokens, s.acceptance[0]) for s in est] == [(DraftKind.MTP, 2, 0.85)]
    # Kimi K2's 163,840-token vocabulary is shared by no smaller model here
    est = bounds._speculations(_row("kimi-k2", speculative={"gamma": 3}), [], Mode.ESTIMATE)
    assert [(s.kind, s.head_size, s.acceptance[0]) for s in est] == [(DraftKind.EAGLE, 1, 0.80)]
