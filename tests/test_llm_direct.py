"""The direct path of an estimate (a new question on a layout asked before: its records built straight from
its eight points, :func:`roofline.llm.inference._direct`) gives what the general path gives (the corner
records, the modes and the result built per phase through :func:`roofline.llm.inference._phase`): every
field of the result and of its record form, every mode record and range, to the last bit and in the same
order; on random models (dense, mixture of experts, sliding and chunked attention, latent attention),
devices (GPUs, a wafer, a device without ranges), layouts, lengths, prices and flags.
"""

import math
from dataclasses import fields

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import roofline
from roofline.errors import RooflineError
from roofline.llm import inference
from roofline.llm.speculative import Speculation


def _same(a, b, path="") -> str | None:
    """Where ``a`` and ``b`` part (types, key order, values; NaN equal to NaN), or None."""
    if type(a) is not type(b):
        return f"{path}: {type(a).__name__} against {type(b).__name__}"
    if isinstance(a, dict):
        if list(a) != list(b):
            return f"{path}: keys {list(a)} against {list(b)}"
        return next((r for k in a for r in [_same(a[k], b[k], f"{path}.{k}")] if r), None)
    if isinstance(a, (list, tuple)):
        if len(a) != len(b):
            return f"{path}: {len(a)} items against {len(b)}"
        return next((r for i, (x, y) in enumerate(zip(a, b)) for r in [_same(x, y, f"{path}[{i}]")] if r), None)
    if isinstance(a, inference.Ranged):
        return _same((a.nominal, a.best, a.worst), (b.nominal, b.best, b.worst), path)
    if isinstance(a, float) and math.isnan(a) and math.isnan(b):
        return None
    return None if a == b else f"{path}: {a!r} against {b!r}"


def _both(model, device, **kw):
    """The estimate by the general path and by the direct one (each asked afresh: no remembered result), and
    whether the direct path answered; an error by either is returned as its type and message."""
    answers, direct = [], []
    real = inference._direct

    def spy(*args):
        out = real(*args)
        direct.append(out is not None)
        return out

    for on in (False, True):
        inference._RESULTS.clear()
        inference.DIRECT, inference._direct = on, spy
        try:
            answers.append(inference.estimate_result(model, device, **kw))
        except RooflineError as e:
            answers.append((type(e), str(e)))
        finally:
            inference.DIRECT, inference._direct = True, real
    return answers[0], answers[1], any(direct)


def _check(model, device, **kw) -> bool:
    general, direct, took = _both(model, device, **kw)
    if isinstance(general, tuple):
        assert direct == general
        return False
    by_field = [{f.name: getattr(x, f.name) for f in fields(x)} for x in (general, direct)]
    assert _same(*by_field) is None, _same(*by_field)
    assert _same(general.to_dict(), direct.to_dict()) is None, _same(general.to_dict(), direct.to_dict())
    return took


@pytest.mark.parametrize("model, device, kw", [
    ("llama-3.1-70b", "h100", dict(batch=3, context=300, devices=8)),  # the benchmark's question
    ("llama-3.1-70b", "wse3", dict(batch=5, context=1000)),
    ("llama-3.1-70b", "h100", dict(batch=7, context=1000, devices=8, ideal=True)),
    ("mixtral-8x7b", "h100", dict(batch=64, context=1000, devices=8, ep=8, price=2.5)),
    ("llama-3.1-8b", "a100", dict(batch=64, context=100, devices=2, pp=2, micro_batches=2,
                                  price={"a100": 1.0})),
    ("llama-3.1-8b", "h100", dict(batch=64, context=100, prompt=50, overlap="sum", dtype="fp8")),
    ("llama-3.1-8b", "h100", dict(batch=8, context=2048, devices=4, dp=2)),
])
def test_the_direct_path_gives_the_general_paths_estimate(model, device, kw):
    assert _check(model, device, **kw)


def test_a_device_without_ranges(write_spec, minimal_spec_text):
    # a datasheet-only device: one corner at the top level, no ranges in the record
    toy = roofline.get_device("toy", [str(write_spec(minimal_spec_text).parent)])
    for kw in (dict(batch=1, context=64), dict(batch=4, context=128, ideal=True)):
        general, direct, took = _both("llama-3.1-8b", toy, **kw)
        if not isinstance(general, tuple):
            assert took and "tpot_s_range" not in direct.to_dict()
        assert _same(*(x if isinstance(x, tuple) else x.to_dict() for x in (general, direct))) is None


def test_generate_and_speculation_keep_the_general_path():
    spec = Speculation.of(draft="llama-3.1-8b", draft_tokens=4, acceptance=0.7)
    for kw in (dict(generate=4), dict(speculation=spec)):
        assert _check("llama-3.1-70b", "h100", batch=2, context=256, devices=8, **kw) is False


_MODELS = ["llama-3.1-8b", "llama-3.1-70b", "mixtral-8x7b", "deepseek-v3", "gpt-oss-20b", "llama-4-scout",
           "qwen3-235b-a22b"]
_DEVICES = ["h100", "a100", "wse3", "mi300x", "tpu-v5e", "b200", "groq-lpu"]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(model=st.sampled_from(_MODELS), device=st.sampled_from(_DEVICES),
       batch=st.integers(1, 512), context=st.integers(1, 32768),
       prompt=st.one_of(st.none(), st.integers(1, 4096)), devices=st.sampled_from([None, 1, 2, 4, 8, 16, 64]),
       ideal=st.booleans(), overlap=st.sampled_from(["max", "sum"]), dtype=st.sampled_from(["bf16", "fp8"]),
       price=st.one_of(st.none(), st.floats(0.1, 20.0)), generate=st.sampled_from([None, None, None, 3]),
       layout=st.sampled_from([{}, {}, {"micro_batches": 2}, {"dp": 2}, {"attention": "dp"}]))
def test_direct_and_general_agree_on_random_questions(model, device, batch, context, prompt, devices, ideal,
                                                      overlap, dtype, price, generate, layout):
    _check(model, device, batch=batch, context=context, prompt=prompt, devices=devices, ideal=ideal,
           overlap=overlap, dtype=dtype, price=price, generate=generate, **layout)


_ENDS = st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.sampled_from([0.0, -0.0, 1e-300, 5e-324]))


@settings(max_examples=200, deadline=None)
@given(best=_ENDS, worst=_ENDS)
def test_a_records_range_is_the_ranges_own(best, worst):
    """The record form spells ``<field>_range`` exactly where :attr:`Ranged.has_range` says there is one, as
    ``[low, high]`` (:meth:`LLMEstimate._ranges` tests it inline), whatever the ends: zeros of either sign,
    subnormals, infinities, NaN."""
    import dataclasses

    est = inference.estimate_result("llama-3.1-8b", "h100", 2, 512)
    r = inference.Ranged(1.0, best, worst)
    rec = dataclasses.replace(est, ttft_s=r).to_dict()
    want = [r.low, r.high] if r.has_range else None
    assert _same(rec.get("ttft_s_range"), want) is None, (rec.get("ttft_s_range"), want)
