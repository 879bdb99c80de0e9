"""Several corners of one workload in one call (:class:`roofline.engine.scalar.Corners`) against one
:class:`~roofline.engine.scalar.Kernel` per corner.

``Corners`` computes what the corners share (the shape-only subexpressions, and with the capacities, devices
and home shared, the home level and each op's activation level) once, and the rest per corner, by the same
lines in the same order: each corner's point must equal its own kernel's to the last bit, whatever the
shapes, the figures, which of them the corners share and which modes each corner keeps.
"""

from __future__ import annotations

import math

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from roofline import engine
from roofline.engine.scalar import Corners, Kernel, fixed_source
from roofline.hardware.library import get_device
from roofline.hardware.measured import mode_device
from roofline.llm import inference
from roofline.llm.loader import get_model
from roofline.llm.precision import Precision
from roofline.llm.sizes import place
from roofline.vocab import Corner, Mode, Phase
from roofline.workloads.recipes import Recipe

MODES = (Mode.IDEAL, Mode.LATENCY_BOUND, Mode.ESTIMATE)
KEEPS = (None, "estimate", "bounds", "estimate_time")


def _llm(model: str, dev: str, phase: Phase, devices: int = 4):
    m, d, prec = get_model(model), get_device(dev), Precision.of("bf16")
    return inference._compiled(m, d, phase, prec, place(m, d, prec, devices, 4096), False, "max"), d


@pytest.fixture(scope="module")
def decode():
    """One dense LLM decode step on a GPU (two memory levels, a link)."""
    return _llm("llama-3.1-8b", "h100", Phase.DECODE)


@pytest.fixture(scope="module")
def compiled():
    """Dense prefill and decode on a GPU, a mixture of experts on a wafer (SRAM) and on an MI300X, a kernel,
    and one compiled without overlap (``sum``)."""
    h100 = get_device("h100")
    gemv = Recipe("gemv", n=4096, k=4096).build()
    return [_llm("llama-3.1-8b", "h100", Phase.DECODE), _llm("llama-3.1-8b", "h100", Phase.PREFILL),
            _llm("mixtral-8x7b", "wse3", Phase.DECODE, 1), _llm("mixtral-8x7b", "mi300x", Phase.PREFILL, 8),
            (engine.compile_recipe(Recipe("gemm", m=512, n=512, k=512), h100), h100),
            (engine.compile_workload(gemv, h100, overlap="sum"), h100)]


def _bits(x):
    """``x`` with every float as its exact text (NaN equal to NaN, -0.0 apart from 0.0), lists as tuples."""
    if isinstance(x, (list, tuple)):
        return tuple(_bits(v) for v in x)
    return (type(x).__name__, repr(x))


def _tails(cw, dev, data, k: int) -> list[tuple]:
    """``k`` tails: each figure from a random corner of ``dev``, scaled; the capacities, devices and home
    shared by every tail or drawn per tail (so that every split of shared and own arguments is seen)."""
    share = data.draw(st.booleans(), label="capacities, devices and home shared")
    out, rest = [], None
    for _ in range(k):
        vals = dev.values(data.draw(st.sampled_from([Corner.NOMINAL, Corner.BEST, Corner.WORST])))
        figs = [vals[p] * data.draw(st.sampled_from([0.25, 1.0, 3.0])) for p in cw.device_paths]
        if rest is None or not share:
            caps = [vals[f"memory.{lvl.name}.capacity"] * data.draw(st.sampled_from([1e-4, 1.0, 100.0]))
                    for lvl in dev.memory]
            rest = (*caps, float(data.draw(st.integers(1, 64))),
                    data.draw(st.one_of(st.none(), st.integers(0, len(dev.memory) - 1))))
        out.append((*figs, *rest))
    return out


def _kernel(cw, tail, keep):
    nd, nl = len(cw.device_paths), cw.n_levels
    return Kernel(cw.scalar_source, "<test>", tail[:nd], tail[nd:nd + nl], tail[nd + nl], tail[-1], cw.layout,
                  cw.labels, keep)


def _agree(cw, tails, keeps, shapes) -> None:
    """Each corner of one :class:`Corners` call equals its own kernel's point: the raw outputs, each mode's
    time and binding term it answers, and with every mode kept, each record with detail."""
    got = Corners(cw.scalar_source, "<test>", tails, keeps, cw.layout, cw.labels)(shapes)
    assert len(got) == len(tails)
    for tail, keep, pt in zip(tails, keeps, got):
        ref = _kernel(cw, tail, keep)(shapes)
        assert (pt is None) == (ref is None)
        if ref is None:
            continue
        assert _bits(pt.raw) == _bits(ref.raw)
        assert pt.covers == ref.covers
        for mode in MODES:
            if ref.answers(mode):
                assert _bits(pt.time_and_bound(mode)) == _bits(ref.time_and_bound(mode))
            if keep is None:
                assert _bits(sorted(pt.mode(mode, True).items())) == _bits(sorted(ref.mode(mode, True).items()))


def _random(cw, dev, data) -> None:
    k = data.draw(st.integers(1, 5), label="corners")
    keeps = [data.draw(st.sampled_from(KEEPS)) for _ in range(k)]
    shapes = tuple(data.draw(st.integers(1, 1 << 17)) * 1.0 for _ in cw.shape_names)
    _agree(cw, _tails(cw, dev, data, k), keeps, shapes)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_each_corner_is_its_kernels_point_on_a_decode_step(decode, data):
    _random(*decode, data)


@pytest.mark.slow
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_each_corner_is_its_kernels_point_on_every_kind_of_workload(compiled, data):
    _random(*compiled[data.draw(st.integers(0, len(compiled) - 1), label="workload")], data)


def test_an_estimates_four_corners_of_a_phase(decode):
    """What an estimate asks of one phase: the nominal corner in full, the best and worst for the estimate,
    the datasheet's best for the two bounds (the measured device's corners, then the datasheet device's)."""
    cw, dev = decode
    est, ideal = mode_device(dev, Mode.ESTIMATE), mode_device(dev, Mode.IDEAL)
    tails = []
    for d, corner in ((est, Corner.NOMINAL), (est, Corner.BEST), (est, Corner.WORST), (ideal, Corner.BEST)):
        vals = d.values(corner)
        tails.append((*[vals[p] for p in cw.device_paths], *[vals[f"memory.{lvl.name}.capacity"] for lvl in d.memory],
                      1.0, 1))
    for shapes in ((1.0, 512.0), (3.0, 1234.0), (64.0, 131072.0)):
        _agree(cw, tails, (None, "estimate", "estimate", "bounds"), shapes)
        _agree(cw, tails, ("estimate", "estimate_time", "estimate_time", "bounds"), shapes)  # the direct path's


def test_a_corner_that_plain_arithmetic_cannot_do_is_none_and_the_others_are_not(decode):
    """A zero figure at one corner (a division by zero there) or one that is not finite: that corner is None,
    as its kernel's, and the others are computed; shapes that are not finite: every corner is None."""
    cw, dev = decode
    vals = dev.values(Corner.NOMINAL)
    figs = [vals[p] for p in cw.device_paths]
    caps = [vals[f"memory.{lvl.name}.capacity"] for lvl in dev.memory]
    zero, inf = list(figs), list(figs)
    zero[0], inf[-1] = 0.0, math.inf
    tails = [(*figs, *caps, 1.0, None), (*zero, *caps, 1.0, None), (*inf, *caps, 1.0, None)]
    keeps = (None, "estimate", "bounds")
    c = Corners(cw.scalar_source, "<test>", tails, keeps, cw.layout, cw.labels)
    got = c((4.0, 4096.0))
    assert got[0] is not None and got[1] is None and got[2] is None
    _agree(cw, tails, keeps, (4.0, 4096.0))
    assert c((math.inf, 4096.0)) == [None, None, None]
    for i in range(len(figs)):  # each figure zero in turn, at the middle corner: a division by zero where it is read
        zero = list(figs)
        zero[i] = 0.0
        _agree(cw, [tails[0], (*zero, *caps, 1.0, None), tails[0]], keeps, (4.0, 4096.0))


def test_what_every_corner_shares_is_computed_once(decode):
    """The shape-only subexpressions and, with the capacities, devices and home shared, each op's activation
    level come before the first corner; what reads a figure that differs comes after it, once per corner; what
    reads the figures alone (``1/d0``) is computed when the corners are bound, not at each call."""
    cw, dev = decode
    vals = [dev.values(c) for c in (Corner.BEST, Corner.WORST)]
    figs = [[v[p] for p in cw.device_paths] for v in vals]
    caps = [vals[0][f"memory.{lvl.name}.capacity"] for lvl in dev.memory]
    src = Corners(cw.scalar_source, "<test>", [(*f, *caps, 1.0, 1) for f in figs], (None, "estimate"), cw.layout,
                  cw.labels).source
    before, _, after = src.partition("    # corner 0\n")
    assert "flops = " in before and "ha__0" in before
    bound = fixed_source(cw.scalar_source)[0]  # x1 = 1/d4 and the like: computed when the corners are bound
    assert bound and not any(f"    {n} = " in src for n in bound)
    assert after.count("    # corner ") == 1 and "flops = " not in after
    own = [p for p, a, b in zip(range(len(cw.device_paths)), *figs) if a != b]
    assert own and all(f"d{i}" not in before for i in own)
    caps2 = [c * 2 for c in caps]  # capacities that differ: the home and activation levels at each corner
    src = Corners(cw.scalar_source, "<test>", [(*figs[0], *caps, 1.0, 1), (*figs[1], *caps2, 1.0, 1)],
                  (None, "estimate"), cw.layout, cw.labels).source
    before = src.partition("    # corner 0\n")[0]
    assert "flops = " in before and "ha__0" not in before


def test_the_tails_and_keeps_must_pair_up(decode):
    cw, _ = decode
    with pytest.raises(ValueError):
        Corners(cw.scalar_source, "<test>", [()], (None, "estimate"), cw.layout, cw.labels)


@pytest.mark.parametrize("name", ["h100", "wse3", "mi300x", "tpu-v5p"])
def test_the_datasheet_and_the_measured_device_share_one_source(name):
    """An estimate's bounds run on the datasheet device (:func:`mode_device` of ``ideal``), its corners on the
    measured one: both compile to the same scalar source with the same figure paths, so one :class:`Corners`
    can serve every corner of a phase."""
    m, d, prec = get_model("llama-3.1-70b"), get_device(name), Precision.of("bf16")
    est, ideal = mode_device(d, Mode.ESTIMATE), mode_device(d, Mode.IDEAL)
    pl = place(m, est, prec, 8, 4096)
    for phase in (Phase.PREFILL, Phase.DECODE):
        a = inference._compiled(m, est, phase, prec, pl, False, "max")
        b = inference._compiled(m, ideal, phase, prec, pl, False, "max")
        assert a.scalar_source == b.scalar_source and a.device_paths == b.device_paths
        assert [lvl.name for lvl in est.memory] == [lvl.name for lvl in ideal.memory]


def test_every_shipped_device_has_one_structure_for_its_modes():
    """The compiled phase is keyed by the device's structure (:func:`~roofline.engine.cache.device_signature`:
    levels, links, which figures exist), not its figures: for every shipped device the estimate's measured
    device and the bounds' datasheet device share it, so an estimate's four corners of a phase share one
    scalar source."""
    from roofline.engine.cache import device_signature
    from roofline.hardware.library import library

    for key, dev in library().items():
        sigs = {device_signature(mode_device(dev, mode)) for mode in MODES}
        assert len(sigs) == 1, key



def test_shapes_whose_sum_overflows_are_left_to_numpy_not_raised(decode):
    """Two finite shapes near the largest float overflow when summed (the finiteness test): each corner and
    each kernel answers None (the caller then runs NumPy, which gives inf or NaN) rather than raising
    ``math.fsum``'s OverflowError."""
    cw, dev = decode
    vals = dev.values(Corner.NOMINAL)
    tail = (*[vals[p] for p in cw.device_paths], *[vals[f"memory.{lvl.name}.capacity"] for lvl in dev.memory],
            1.0, None)
    huge = (1e308, 1e308)
    assert _kernel(cw, tail, None)(huge) is None
    assert Corners(cw.scalar_source, "<test>", [tail, tail], (None, "estimate"), cw.layout, cw.labels)(huge) \
        == [None, None]
