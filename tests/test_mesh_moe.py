"""A mixture-of-experts layer on a wafer's mesh (issue 15): the layer's attention, norms and shared MLP reduce
over the region of their own weights, the routed experts sit in a region of their own that dispatch and
combine cross, and each chosen expert's GEMVs reduce over its own cores. Hand calculations from the models'
config.json (Llama 4 Maverick: hidden 5120, 128 experts of intermediate 8192, 1 per token, 24 of 48 layers MoE;
Llama-3.1-8B for the dense case) and the WSE-3 spec (762 x 1172 cores, 44 GB, 1 cycle a hop at 1.1 GHz)."""

import pytest
import sympy as sp

from roofline import get_device, llm
from roofline.engine.latency import Region
from roofline.engine.terms import op_parts
from roofline.llm import Parallelism, Precision, get_model
from roofline.vocab import Latency

W, H, CAP, TAU = 762, 1172, 44e9, 1 / 1.1e9
MAVERICK_EXPERT = 3 * 5120 * 8192 * 2            # one expert's gate, up and down in BF16: 251,658,240 B
MAVERICK_BLOCK = 128 * MAVERICK_EXPERT            # every routed expert of one layer: 32,212,254,720 B
MAVERICK_ROUTED = 24 * 128 * 3 * 5120 * 8192      # routed-expert parameters of the model: 386,547,056,640


def _at(expr, **shapes):
    return float(sp.sympify(expr).subs({sp.Symbol(k, positive=True): v for k, v in shapes.items()}))


def _band(nbytes):
    """Hops of one reduction over a band of ``nbytes`` across the 762-core side (formulas.mesh_band_crossing)."""
    cells = nbytes * W * H / CAP
    return min(W, cells) + min(cells / min(W, cells), H)


def test_the_experts_region_is_every_routed_expert_of_one_layer():
    wl = llm.llm_workload(get_model("llama-4-maverick"), "decode", Precision("bf16", "bf16", "bf16"))
    experts = next(op for op in wl.ops if op.name == "experts")
    assert _at(experts.region[0]) == MAVERICK_BLOCK == 32_212_254_720
    assert _at(experts.region[1]) == MAVERICK_EXPERT  # one expert: the cores each chosen expert's GEMVs reduce over


def test_a_moe_layer_region_leaves_out_its_routed_experts():
    # one device holds everything: the mean layer's region is the weights less the routed experts, plus the KV
    # cache, over 48 layers; a dense model's stays the whole resident set over its layers
    m = get_model("llama-4-maverick")
    wl = llm.llm_workload(m, "decode", Precision("bf16", "bf16", "bf16"))
    shapes = dict(b=1, s=128)
    resident = _at(wl.resident, **shapes)
    routed_bytes = MAVERICK_ROUTED * 2
    assert m.total_params() * 2 - routed_bytes == pytest.approx(2 * 14.16e9, rel=0.01)  # 14.2 B non-expert
    assert _at(wl.layer_bytes, **shapes) == pytest.approx((resident - routed_bytes) / 48, rel=1e-9)
    dense = llm.llm_workload(get_model("llama-3.1-8b"), "decode")
    assert _at(dense.layer_bytes, **shapes) == pytest.approx(_at(dense.resident, **shapes) / 32, rel=1e-12)


def test_dispatch_and_combine_cross_the_expert_region_and_the_gemvs_their_own():
    # at batch 1 one expert is chosen: its 251.7 MB hold 5,108 cores, a band 6.7 rows deep (768.7 hops); the
    # 32.2 GB of the layer's experts hold 653,810 cores, 858 rows (1,620 hops). Dispatch and combine cross the
    # latter, the up and down GEMVs the former: (2 x 1,620.0 + 2 x 768.7) hops x 0.909 ns = 4.34 us
    dev = get_device("wse3")
    wl = llm.llm_workload(get_model("llama-4-maverick"), "decode", Precision("bf16", "bf16", "bf16"),
                          Parallelism(pp=19))
    experts = next(op for op in wl.ops if op.name == "experts")
    est, _ = op_parts(experts, dev, region=Region(None, wl.layer_bytes)).latency[Latency.FABRIC]
    hops = 2 * _band(MAVERICK_BLOCK) + 2 * _band(MAVERICK_EXPERT)
    assert hops == pytest.approx(2 * 1620.0 + 2 * 768.7, abs=0.5)
    assert _at(sp.sympify(est).subs(dev.subs()), b=1, s=128) == pytest.approx(hops * TAU, rel=1e-3)


def test_each_chosen_expert_reduces_over_its_own_weights_not_over_all_chosen_together():
    # Qwen3-235B-A22B chooses 8 of 128 experts per token. One expert's gate, up and down at FP8: 3 x 4096 x 1536
    # = 18,874,368 B on 383.1 cores, a band one row deep (383.1 + 1 = 384.1 hops). The 8 chosen ones run side
    # by side, each over its own cores, not as one 151 MB region (3,065 cores: 762 + 4.0 = 766.0 hops). The
    # layer's 128 experts, 2.416 GB, hold 49,032 cores: 762 + 64.3 = 826.3 hops, crossed by dispatch and combine.
    # (2 x 826.3 + 2 x 384.1) hops x 0.909 ns = 2.20 us
    dev = get_device("wse3")
    wl = llm.llm_workload(get_model("qwen3-235b-a22b"), "decode", Precision("fp8", "bf16", "bf16"),
                          Parallelism(pp=6))
    experts = next(op for op in wl.ops if op.name == "experts")
    one = 3 * 4096 * 1536
    assert _at(experts.region[1]) == one == 18_874_368
    est, _ = op_parts(experts, dev, region=Region(None, wl.layer_bytes)).latency[Latency.FABRIC]
    hops = 2 * _band(128 * one) + 2 * _band(one)
    assert hops == pytest.approx(2 * 826.3 + 2 * 384.1, abs=0.5)
    assert _at(sp.sympify(est).subs(dev.subs()), b=1, s=128) == pytest.approx(hops * TAU, rel=1e-3)
