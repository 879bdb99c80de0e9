"""The scalar path (one configuration in plain Python) against the NumPy path, and what the warm CLI imports.

Both evaluators run the same expressions after the same common-subexpression elimination
(:mod:`roofline.engine.pointcode`), so they must agree exactly: times, rates, home levels, binding terms and
each term's share, in all three modes, at random configurations (hypothesis), and through
:func:`roofline.llm.estimate` as a whole.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from roofline import engine
from roofline.engine.compiled import CompiledWorkload
from roofline.engine.numpy_eval import evaluate_block
from roofline.engine.scalar import Kernel
from roofline.hardware.library import get_device
from roofline.llm import estimate, inference
from roofline.llm.loader import get_model
from roofline.llm.precision import Precision
from roofline.llm.sizes import place
from roofline.vocab import Corner, Mode, Phase
from roofline.workloads.recipes import Recipe

MODES = (Mode.IDEAL, Mode.LATENCY_BOUND, Mode.ESTIMATE)


@pytest.fixture(scope="module")
def compiled():
    """Workloads of different shapes: LLM phases on a GPU (two levels, a link) and on a wafer (SRAM), a
    mixture of experts, a kernel, and one compiled without overlap (``sum``)."""
    out = []
    for model, dev, phase in (("llama-3.1-8b", "h100", Phase.DECODE), ("llama-3.1-8b", "h100", Phase.PREFILL),
                              ("mixtral-8x7b", "wse3", Phase.DECODE)):
        m, d, prec = get_model(model), get_device(dev), Precision.of("bf16")
        pl = place(m, d, prec, 4, 4096)
        out.append((inference._compiled(m, d, phase, prec, pl, False, "max"), d))
    h100 = get_device("h100")
    out.append((engine.compile_recipe(Recipe("gemm", m=512, n=512, k=512), h100), h100))
    gemv = Recipe("gemv", n=4096, k=4096).build()
    out.append((engine.compile_workload(gemv, h100, overlap="sum"), h100))
    return out


@pytest.fixture(scope="module")
def decode():
    """One LLM decode step on a GPU, compiled once (the fast tests)."""
    m, d, prec = get_model("llama-3.1-8b"), get_device("h100"), Precision.of("bf16")
    return inference._compiled(m, d, Phase.DECODE, prec, place(m, d, prec, 4, 4096), False, "max"), d


def _numpy(cw: CompiledWorkload, shapes, figs, caps, devs, home, mode) -> dict:
    args = [np.asarray(v, dtype=float) for v in list(shapes) + list(figs)]
    hm = None if home is None else np.asarray(home, dtype=np.int64)
    return evaluate_block(cw, args, [np.asarray(c, dtype=float) for c in caps], np.asarray(devs, dtype=float), hm,
                          True, True, mode)


def _same(a, b) -> bool:
    """Equal to the last bit, NaN equal to NaN."""
    a, b = float(a), float(b)
    return (math.isnan(a) and math.isnan(b)) or a == b


def _agree(cw, shapes, figs, caps, devs, home) -> None:
    pt = cw.point(shapes, figs, caps, devs, home)
    assert pt is not None
    for mode in MODES:
        ref, got = _numpy(cw, shapes, figs, caps, devs, home, mode), pt.mode(mode, detail=True)
        for k in ("time_s", "flops", "bytes", "arithmetic_intensity", "attainable_flops_per_s"):
            assert _same(ref[k], got[k]), (mode, k, ref[k], got[k])
        assert int(ref["home"]) == got["home"] and bool(ref["fits"]) == got["fits"]
        assert int(ref["bound_index"]) == got["bound_index"], (mode, ref["term_times"], got["term_times"])
        assert cw.labels[got["bound_index"]] == got["bound"]
        for k in ("term_times", "term_totals"):
            assert all(_same(x, y) for x, y in zip(ref[k], got[k], strict=True)), (mode, k)


def _random_configuration(cw, dev, data) -> None:
    """Random shapes, figures, capacities, devices and forced or found home levels: every output equal."""
    corner = data.draw(st.sampled_from([Corner.NOMINAL, Corner.BEST, Corner.WORST]))
    vals = dev.values(corner)
    shapes = [data.draw(st.integers(1, 1 << 17)) * 1.0 for _ in cw.shape_names]
    figs = [vals[p] * data.draw(st.sampled_from([0.25, 0.5, 1.0, 2.0, 3.0])) for p in cw.device_paths]
    caps = [vals[f"memory.{lvl.name}.capacity"] * data.draw(st.sampled_from([1e-4, 0.01, 1.0, 100.0]))
            for lvl in dev.memory]
    devs = float(data.draw(st.integers(1, 64)))
    home = data.draw(st.one_of(st.none(), st.integers(0, len(dev.memory) - 1)))
    _agree(cw, shapes, figs, caps, devs, home)


@pytest.mark.slow
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_scalar_and_numpy_paths_agree_on_random_configurations(compiled, data):
    """Every kind of workload: GPU and wafer (the mesh's fractional powers), MoE, a kernel, overlap ``sum``."""
    _random_configuration(*compiled[data.draw(st.integers(0, len(compiled) - 1), label="workload")], data)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_scalar_and_numpy_paths_agree_on_a_decode_step(decode, data):
    """The fast loop's share of the check above: one decode step, random configurations."""
    _random_configuration(*decode, data)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_a_lean_point_answers_its_modes_as_the_full_one(decode, data):
    """The lean evaluator (the same lines, less the other modes' and the detail's) gives each mode it keeps
    the same time and binding term, to the last bit, as the full one; it refuses a mode it does not keep."""
    _lean_agrees(*decode, data)


@pytest.mark.slow
@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_a_lean_point_agrees_on_every_kind_of_workload(compiled, data):
    """As above on the GPU and wafer phases, a mixture of experts, a kernel and overlap ``sum``."""
    _lean_agrees(*compiled[data.draw(st.integers(0, len(compiled) - 1), label="workload")], data)


def _lean_agrees(cw, dev, data) -> None:
    vals = dev.values(data.draw(st.sampled_from([Corner.NOMINAL, Corner.BEST, Corner.WORST])))
    figs = [vals[p] * data.draw(st.sampled_from([0.25, 1.0, 3.0])) for p in cw.device_paths]
    caps = [vals[f"memory.{lvl.name}.capacity"] * data.draw(st.sampled_from([1e-4, 1.0, 100.0]))
            for lvl in dev.memory]
    home = data.draw(st.one_of(st.none(), st.integers(0, len(dev.memory) - 1)))
    shapes = tuple(data.draw(st.integers(1, 1 << 17)) * 1.0 for _ in cw.shape_names)
    full = Kernel(cw.scalar_source, "<test>", figs, caps, 1.0, home, cw.layout, cw.labels)(shapes)
    for lean, modes in (("estimate", (Mode.ESTIMATE,)), ("bounds", (Mode.IDEAL, Mode.LATENCY_BOUND))):
        pt = Kernel(cw.scalar_source, "<test>", figs, caps, 1.0, home, cw.layout, cw.labels, lean)(shapes)
        for mode in modes:
            (t, bound), (t0, bound0) = pt.time_and_bound(mode), full.time_and_bound(mode)
            assert _same(t, t0) and bound == bound0, (lean, mode)
            assert pt.mode(mode) == full.mode(mode) or math.isnan(t)
        other = next(m for m in MODES if m not in modes)
        assert not pt.answers(other) and not pt.answers(modes[0], detail=True)
        with pytest.raises(ValueError):
            pt.time_and_bound(other)
    # the estimate's total alone (the ends of an estimate's ranges): the same total and fit, no mode answered
    pt = Kernel(cw.scalar_source, "<test>", figs, caps, 1.0, home, cw.layout, cw.labels, "estimate_time")(shapes)
    assert _same(pt.raw[4][2], full.raw[4][2]) and pt.raw[3] == full.raw[3] and pt.raw[5:] == ((),) * 4
    assert not any(pt.answers(m) for m in MODES)


def test_a_zero_figure_goes_to_numpy(decode):
    """Where plain arithmetic would raise (a figure of zero), the scalar path declines and NumPy answers."""
    cw, dev = decode
    vals = dev.values()
    figs = [0.0 for _ in cw.device_paths]
    caps = [vals[f"memory.{lvl.name}.capacity"] for lvl in dev.memory]
    assert cw.point([1.0] * len(cw.shape_names), figs, caps, 1.0, None) is None
    shapes = {n: 1.0 for n in cw.shape_names}
    with np.errstate(divide="ignore", invalid="ignore"):
        out = cw.evaluate(shapes, dict(zip(cw.device_paths, figs)), caps)
    assert isinstance(out["time_s"], np.ndarray)  # from the NumPy evaluator


def test_evaluate_at_one_configuration_takes_the_scalar_path_with_numpy_types(decode):
    """:meth:`CompiledWorkload.evaluate` with scalars answers through the scalar path (NumPy scalar types)
    with the numbers the NumPy path gives for a one-point grid."""
    cw, dev = decode
    vals = dev.values()
    caps = [vals[f"memory.{lvl.name}.capacity"] for lvl in dev.memory]
    one = cw.evaluate({n: 64 for n in cw.shape_names}, vals, caps, home=1, detail=True)
    grid = cw.evaluate({n: np.array([64.0]) for n in cw.shape_names}, vals, caps, home=1, detail=True)
    assert isinstance(one["time_s"], np.float64) and one["term_times"].shape == (len(cw.labels),)
    for k in ("time_s", "flops", "bytes", "bound_index", "home", "fits"):
        assert one[k] == grid[k][0], k
    assert (one["term_times"] == grid["term_times"][:, 0]).all()


def _without_scalar_path(monkeypatch):
    monkeypatch.setattr(CompiledWorkload, "point", lambda self, *a, **k: None)
    monkeypatch.setattr(Kernel, "__call__", lambda self, values: None)  # an estimate's points with figures bound
    inference._clear_memory()


@pytest.mark.slow
@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(model=st.sampled_from(["llama-3.1-8b", "mixtral-8x7b"]), device=st.sampled_from(["h100", "wse3", "mi300x"]),
       batch=st.sampled_from([1, 3, 16]), context=st.sampled_from([512, 3000]), generate=st.sampled_from([None, 4]))
def test_estimate_gives_the_same_answer_through_both_paths(monkeypatch, model, device, batch, context, generate):
    """The whole estimate (three modes, corners, ranges, costs, term shares) is the same record either way."""
    # the scalar path against the NumPy one: the grid of a ``generate`` request would run on the fused kernel
    # where an earlier test in this process loaded it, and that one takes C's pow, not NumPy's, where a workload
    # raises to an inexact power (MoE, a wafer's tiling): a last-bit difference there (test_evaluators)
    monkeypatch.setenv("ROOFLINE_FUSED", "0")
    inference._clear_memory()
    fast = estimate(model, device, batch=batch, context=context, generate=generate)
    with monkeypatch.context() as mp:
        _without_scalar_path(mp)
        slow = estimate(model, device, batch=batch, context=context, generate=generate)
    inference._clear_memory()
    assert json.dumps(fast, sort_keys=True) == json.dumps(slow, sort_keys=True)


def test_estimate_is_pure_under_memoisation():
    """Asking again, and asking in between about another configuration, gives the same record."""
    first = estimate("llama-3.1-8b", "h100", batch=2, context=1024)
    estimate("llama-3.1-8b", "h100", batch=7, context=333)
    assert estimate("llama-3.1-8b", "h100", batch=2, context=1024) == first
    assert estimate("llama-3.1-8b", get_device("h100"), batch=2, context=1024, dtype="bf16") == first


def test_a_remembered_estimate_is_the_one_made_afresh_and_shares_nothing_mutable():
    """A whole estimate asked again comes from memory: the same record as one made after forgetting
    everything, for a GPU with corners and a wafer, with and without ``generate``; what a caller changes in
    an answer does not reach the next one."""
    for model, device, kw in (("llama-3.1-8b", "h100", {"batch": 3, "generate": 4}), ("mixtral-8x7b", "wse3", {})):
        inference._clear_memory()
        afresh = json.dumps(estimate(model, device, **kw), sort_keys=True)
        assert json.dumps(estimate(model, device, **kw), sort_keys=True) == afresh
    mine = inference.estimate_result("llama-3.1-8b", "h100", batch=3, devices=2)
    before = json.dumps(mine.to_dict(), sort_keys=True)
    mine.modes["estimate"]["tpot_s_range"][0] = -1.0
    mine.modes["ideal"]["tpot_s"] = -1.0
    mine.links.clear()
    mine.decode_terms_s.clear()
    record = estimate("llama-3.1-8b", "h100", batch=3, devices=2)
    record["modes"]["estimate"]["tpot_s_range"][1] = -1.0
    again = inference.estimate_result("llama-3.1-8b", "h100", batch=3, devices=2)
    assert again.links and again.decode_terms_s
    assert json.dumps(again.to_dict(), sort_keys=True) == before

def test_a_remembered_estimate_keeps_the_types_and_price_asked():
    """``batch=2.0`` is recorded as asked even after ``batch=2`` (equal requests, different records); another
    price gives another cost: 8 devices at 4 USD/h making T tokens/s cost 8 * 4 / 3600 / T * 1e6 USD per
    million tokens."""
    as_int = estimate("llama-3.1-8b", "h100", batch=2, devices=8)
    as_float = estimate("llama-3.1-8b", "h100", batch=2.0, devices=8)
    assert type(as_int["batch"]) is int and type(as_float["batch"]) is float
    priced = estimate("llama-3.1-8b", "h100", batch=2, devices=8, price=4.0)
    assert priced["usd_per_million_tokens"] == pytest.approx(8 * 4.0 / 3600 / priced["tokens_per_s"] * 1e6)
    assert estimate("llama-3.1-8b", "h100", batch=2, devices=8, price=5.0)["usd_per_million_tokens"] == \
        pytest.approx(priced["usd_per_million_tokens"] * 5 / 4)


_PROBE = """
import contextlib, io, json, sys
from roofline.outputs.cli import main
with contextlib.redirect_stdout(io.StringIO()):
    rc = main(["llm", "-m", "llama-3.1-70b", "-d", "h100"])
print(json.dumps({"rc": rc, "loaded": [m for m in ("pandas", "sympy", "matplotlib") if m in sys.modules]}))
"""


@pytest.mark.slow
def test_warm_llm_command_imports_no_pandas_sympy_or_matplotlib(tmp_path):
    """``roofline llm`` with a warm cache reads the compiled workload from disk: no SymPy, no pandas, no
    matplotlib on that path (the first run, which compiles, needs SymPy)."""
    env = dict(os.environ, ROOFLINE_CACHE_DIR=str(tmp_path))

    def probe() -> dict:
        out = subprocess.run([sys.executable, "-c", _PROBE], env=env, capture_output=True, text=True, check=True)
        return json.loads(out.stdout.strip().splitlines()[-1])

    cold = probe()
    warm = probe()
    assert cold["rc"] == 0 and "sympy" in cold["loaded"]
    assert warm == {"rc": 0, "loaded": []}


def test_a_warm_spec_read_parses_no_toml(monkeypatch, tmp_path, minimal_spec_text):
    """A spec file's parsed TOML is cached by its bytes: a second read parses no TOML; an edit is seen."""
    import tomllib

    from roofline.hardware import loader

    monkeypatch.setenv("ROOFLINE_CACHE_DIR", str(tmp_path / "cache"))
    spec = tmp_path / "toy.toml"
    spec.write_text(minimal_spec_text)
    first = loader._read_toml_cached(spec)

    def refuse(*a, **k):
        raise AssertionError("TOML parsed on a warm read")

    with monkeypatch.context() as mp:
        mp.setattr(tomllib, "load", refuse)
        assert loader._read_toml_cached(spec) == first
    spec.write_text(minimal_spec_text.replace('"1 TB/s"', '"2 TB/s"'))
    assert loader._read_toml_cached(spec)["memory"][1]["bandwidth"]["value"] == "2 TB/s"


def test_a_spec_file_added_to_a_folder_is_found(tmp_path, minimal_spec_text):
    """The library lists a folder's spec files again when the folder changes: a new file's device is found."""
    folder = tmp_path / "specs"
    folder.mkdir()
    (folder / "toy.toml").write_text(minimal_spec_text)
    assert get_device("toy", [folder]).key == "toy"
    (folder / "toy2.toml").write_text(minimal_spec_text.replace('key = "toy"', 'key = "toy2"'))
    os.utime(folder, ns=(os.stat(folder).st_atime_ns, os.stat(folder).st_mtime_ns + 5_000_000_000))
    assert get_device("toy2", [folder]).key == "toy2"


def _both_paths(monkeypatch, model, device, **kw) -> tuple[str, str]:
    """The record of one question through the scalar path (after another question, so that its points are
    new) and through the NumPy path, each as JSON."""
    inference._clear_memory()
    estimate(model, device, batch=5, context=77, **{k: v for k, v in kw.items() if k not in ("batch", "context")})
    fast = json.dumps(estimate(model, device, **kw), sort_keys=True)
    with monkeypatch.context() as mp:
        _without_scalar_path(mp)
        slow = json.dumps(estimate(model, device, **kw), sort_keys=True)
    inference._clear_memory()
    return fast, slow


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(batch=st.integers(1, 64), context=st.integers(1, 8192), ideal=st.booleans())
def test_a_new_question_gets_the_vector_paths_answer(monkeypatch, batch, context, ideal):
    """A warm process asked a question it has not seen (another batch and context) answers what the NumPy
    evaluator answers: every figure of the record, the modes, the ranges and the term shares."""
    fast, slow = _both_paths(monkeypatch, "llama-3.1-8b", "h100", batch=batch, context=context, ideal=ideal)
    assert fast == slow


@pytest.mark.slow
@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(model=st.sampled_from(["llama-3.1-8b", "mixtral-8x7b"]), device=st.sampled_from(["h100", "wse3", "mi300x"]),
       batch=st.integers(1, 256), context=st.integers(1, 16384), devices=st.sampled_from([None, 2, 8]),
       prompt=st.sampled_from([None, 100]), overlap=st.sampled_from(["max", "sum"]))
def test_new_questions_get_the_vector_paths_answer(monkeypatch, model, device, batch, context, devices, prompt,
                                                   overlap):
    """Random new questions over models, devices (GPU, wafer), forced and found layouts, prompts and overlap:
    the scalar path's record is the NumPy path's, or both refuse the question alike."""
    from roofline.errors import CapacityError

    try:
        fast, slow = _both_paths(monkeypatch, model, device, batch=batch, context=context, devices=devices,
                                 prompt=prompt, overlap=overlap)
    except CapacityError:
        return
    assert fast == slow


@settings(max_examples=60, deadline=None)
@given(batch=st.integers(1, 4096), context=st.integers(1, 131072),
       layout=st.sampled_from([{"devices": 8}, {"devices": 1}, {"tp": 2, "pp": 2}, {"devices": 4, "dp": 2}]),
       device=st.sampled_from(["h100", "wse3"]))
def test_a_forced_layout_placed_again_is_the_placement_rooms_answer(batch, context, layout, device):
    """:func:`roofline.llm.sizes.place` re-places a forced layout it has seen for another batch and context
    (:func:`roofline.llm.sizes._forced_again`): the same placement, or the same refusal, as
    :func:`roofline.placement.place` made afresh."""
    from roofline.errors import CapacityError, InputError
    from roofline.llm.sizes import ModelDemand
    from roofline.placement.layout import place as place_afresh

    m, d, prec = get_model("llama-3.1-70b"), get_device(device), Precision.of("bf16")
    try:
        place(m, d, prec, 1, 1, **layout)  # the layout seen once
        want = place_afresh(ModelDemand(m, prec), d, batch, context, **layout)
    except (CapacityError, InputError) as exc:
        want = type(exc)
    try:
        got = place(m, d, prec, batch, context, **layout)
    except (CapacityError, InputError) as exc:
        got = type(exc)
    assert got == want
