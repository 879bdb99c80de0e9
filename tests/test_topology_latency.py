"""Latency as physics: topologies as hardware data, collectives from the topology, the mesh model of wafers
and tiles, and the three modes (ideal, latency_bound, estimate). Expected values are hand calculations
written out beside each assertion."""

import math

import numpy as np
import pytest
import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st

import roofline
from roofline import formulas, llm
from roofline.engine.kernel import kernel_report
from roofline.errors import SpecError
from roofline.hardware.loader import load_specs
from roofline.hardware.topology import SWITCH, Topology
from roofline.vocab import Collective, TopologyKind
from roofline.workloads import kernels


# ---------------------------------------------------------------------------------------------------
# topologies in the spec files
# ---------------------------------------------------------------------------------------------------
def _with_link(text: str, link: str) -> str:
    start = text.index("[[interconnect]]")
    end = text.index("[power]")
    return text[:start] + link + "\n" + text[end:]


_LINK = '''[[interconnect]]
name = "link"
duplex = "per-direction"
bandwidth = { value = "100 GB/s", basis = "datasheet", source = "s1" }
'''


@pytest.mark.parametrize("extra, field", [
    ('domain_size = { value = 8, basis = "datasheet", source = "s1" }\n'
     'topology = { kind = "switch", basis = "datasheet", source = "s1" }\n', "interconnect.link.latency"),
    ('latency = { value = "1 us", basis = "datasheet", source = "s1" }\n'
     'domain_size = { value = 8, basis = "datasheet", source = "s1" }\n', "interconnect.link.topology"),
    ('latency = { value = "1 us", basis = "datasheet", source = "s1" }\n'
     'domain_size = { value = 8, basis = "datasheet", source = "s1" }\n'
     'topology = { kind = "torus", dimensions = [4, 4], basis = "datasheet", source = "s1" }\n',
     "interconnect.link.topology.dimensions"),
    ('latency = { value = "1 us", basis = "datasheet", source = "s1" }\n'
     'domain_size = { value = 8, basis = "datasheet", source = "s1" }\n'
     'topology = { kind = "hypercube", basis = "datasheet", source = "s1" }\n', "interconnect.link.topology.kind"),
    ('latency = { value = "1 us", basis = "datasheet", source = "s1" }\n'
     'domain_size = { value = 8, basis = "datasheet", source = "s1" }\n'
     'topology = { kind = "switch", basis = "datasheet", source = "nowhere" }\n', "interconnect.link.topology.source"),
])
def test_a_link_domain_states_its_latency_and_topology(write_spec, minimal_spec_text, extra, field):
    spec = write_spec(_with_link(minimal_spec_text, _LINK + extra))
    with pytest.raises(SpecError, match=field.replace(".", r"\.")):
        roofline.load_spec_file(spec)


def test_a_host_link_needs_no_topology(write_spec, minimal_spec_text):
    dev = roofline.load_spec_file(write_spec(_with_link(minimal_spec_text, _LINK)))
    assert dev.link("link").topology is None and dev.link("link").shape is SWITCH


def test_every_link_domain_of_the_library_has_latency_and_topology():
    # the issue: every device with a multi-device link has its latency (H200, B200, A100, MI, TPUs included)
    for key, dev in load_specs().items():
        for lk in dev.interconnect:
            if lk.devices_per_domain > 1:
                assert lk.latency is not None and lk.topology is not None, (key, lk.name)
                assert lk.latency.sources and lk.topology.sources, (key, lk.name)
    for key in ("h200", "b200", "a100", "h100-pcie", "mi300x", "tpu-v5e", "tpu-v7", "sn40l"):
        assert any(lk.latency is not None for lk in roofline.get_device(key).interconnect), key


def test_library_topologies_read_from_their_sources():
    v5p = roofline.get_device("tpu-v5p").link("ici")
    assert v5p.topology.kind is TopologyKind.TORUS and v5p.topology.dimensions == (16, 20, 28)   # 8,960 chips
    assert v5p.ports.value == 6
    # 1,200 GB/s both ways over 6 links: 100 GB/s per link and direction
    assert v5p.per_link_bytes_per_s == pytest.approx(100e9)
    assert roofline.get_device("mi300x").link("infinity_fabric").topology.kind is TopologyKind.FULL
    assert roofline.get_device("groq-lpu").link("c2c").topology.dimensions == (8, 9)   # 9 nodes of 8 TSPs
    assert roofline.get_device("dojo").link("tile_edge").topology.kind is TopologyKind.MESH


# ---------------------------------------------------------------------------------------------------
# collectives: bytes per device and hops, by hand
# ---------------------------------------------------------------------------------------------------
def test_collective_bytes_per_device():
    m = 16384   # one 8192-wide BF16 hidden state
    assert formulas.collective_bytes("all_reduce", m, 8) == 2 * 7 / 8 * m
    assert formulas.collective_bytes("reduce_scatter", m, 8) == 7 / 8 * m
    assert formulas.collective_bytes("all_gather", m, 8) == 7 / 8 * m
    assert formulas.collective_bytes("all_to_all", m, 4) == 3 / 4 * m
    assert formulas.collective_bytes("broadcast", m, 8) == m
    assert formulas.collective_bytes("point_to_point", m, 2) == m
    assert formulas.collective_bytes("all_reduce", m, 1) == 0
    x = sp.Symbol("M", positive=True)
    assert formulas.collective_bytes("all_reduce", x, 8) == sp.Rational(7, 4) * x


def test_hops_on_a_switch():
    # NCCL's tree / recursive doubling on 8 GPUs: 2 log2 8 = 6 steps; the fewest any algorithm needs is one
    # step (every GPU sends its vector to every other through the switch once)
    assert SWITCH.hops(Collective.ALL_REDUCE, 8) == 6 and SWITCH.hops(Collective.ALL_REDUCE, 8, bound=True) == 1
    assert SWITCH.hops(Collective.ALL_GATHER, 8) == 3 and SWITCH.hops(Collective.ALL_TO_ALL, 8) == 1
    assert SWITCH.hops(Collective.ALL_REDUCE, 1) == 0
    assert SWITCH.hops(Collective.ALL_REDUCE, 9) == 8   # 2 ceil(log2 9) = 2 x 4


def test_hops_on_a_ring():
    ring = Topology(TopologyKind.RING)
    # a ring all-reduce of 8: reduce-scatter then all-gather, 7 steps each; the farthest pair is 4 hops apart
    assert ring.hops("all_reduce", 8) == 14 and ring.hops("all_reduce", 8, bound=True) == 4
    assert ring.hops("all_gather", 8) == 7


def test_hops_on_a_torus():
    t = Topology(TopologyKind.TORUS, (16, 16))
    # a whole 16-chip axis closes into a ring: 8 hops to the farthest chip; bidirectional rings for the
    # reduce-scatter and the all-gather: 8 + 8
    assert t.shape(16) == (16,) and t.hops("all_reduce", 16, bound=True) == 8 and t.hops("all_reduce", 16) == 16
    # 64 chips: a 16 x 4 block, the short axis without its wraparound: 8 + 3 hops
    assert t.shape(64) == (16, 4) and t.diameter(64) == 11 and t.hops("all_reduce", 64) == 22
    # a collective along one axis drives 2 of the chip's 4 links (the scaling book)
    assert t.link_share(16, 4) == 0.5 and t.link_share(64, 4) == 1.0


def test_hops_on_a_mesh_the_dojo_tile():
    m = Topology(TopologyKind.MESH, (5, 5))
    # 25 D1s: corner to corner 4 + 4 hops; to the centre 2 + 2; reduce to the centre and broadcast back
    assert m.diameter(25) == 8 and m.radius(25) == 4
    assert m.hops("all_reduce", 25) == 8 and m.hops("all_reduce", 25, bound=True) == 8
    assert m.hops("broadcast", 25, bound=True) == 4 and m.hops("point_to_point", 2, bound=True) == 1


def test_hops_on_a_dragonfly_the_groq_rack():
    d = Topology(TopologyKind.DRAGONFLY, (8, 9))
    # inside a node the 8 TSPs are fully connected: one hop; across the rack local-global-local: 3 hops
    assert d.diameter(8) == 1 and d.diameter(64) == 3
    assert d.hops("all_reduce", 64) == 2 * 6 * 3 and d.hops("all_reduce", 64, bound=True) == 3


def test_tensor_parallel_all_reduce_latency_from_the_topology():
    # 8 H100s: 160 all-reduces (two per layer, 80 layers), each 2 log2 8 = 6 steps of 1 us in the estimate,
    # one step of 0.5 us (the favourable end) in the bound
    r = llm.estimate("llama-3.1-70b", "h100", devices=8, tp=8)
    assert r["decode_terms_s"]["latency:link"] == pytest.approx(160 * 6 * 1e-6)
    assert r["modes"]["latency_bound"]["tpot_s"] > r["modes"]["ideal"]["tpot_s"]


@pytest.mark.parametrize("key, n", [("h100", 8), ("h200", 8), ("b200", 8), ("a100", 8), ("h100-pcie", 2),
                                    ("mi300x", 8), ("tpu-v5e", 8), ("tpu-v6e", 8), ("gb200-nvl72", 8)])
def test_multi_device_decode_pays_link_latency_on_every_device(key, n):
    dt = "bf16" if "bf16" in roofline.get_device(key).compute else "fp16"
    r = llm.estimate("llama-3.1-8b", key, devices=n, tp=n, dtype=dt)
    assert r["decode_terms_s"]["latency:link"] > 0, key
    assert r["modes"]["latency_bound"]["tpot_s"] > r["modes"]["ideal"]["tpot_s"], key


# ---------------------------------------------------------------------------------------------------
# the mesh model
# ---------------------------------------------------------------------------------------------------
def test_mesh_cells_and_band_crossing():
    # one Llama-3.1-8B layer (~0.5 GB) on a WSE-3 (44 GB over 762 x 1172 cores): 10,148 cores, a band across
    # the 762-core side about 13 rows deep; a reduction to its centre and back crosses 762 + 13.3 hops
    cells = formulas.mesh_cells(0.5e9, 44e9, 762, 1172)
    assert cells == pytest.approx(0.5e9 * 762 * 1172 / 44e9)
    assert formulas.mesh_band_crossing(cells, 762, 1172) == pytest.approx(762 + cells / 762)
    # a region that fills the wafer crosses it corner to corner
    assert formulas.mesh_band_crossing(2e6, 762, 1172) == 762 + 1172
    # a small region is a strip of that many cores
    assert formulas.mesh_band_crossing(100, 762, 1172) == 101


def test_mesh_reduction_bound_by_hand():
    # an 8B QKV GEMV (50 MFLOP at 17.3 PFLOP/s: 2.9 ns on the whole wafer), 893,064 cores, 1 cycle per hop at
    # 1.2 GHz: A* = (2 R N / tau)^(2/3) = 34,000 cores; R N / A* + tau sqrt(A*) - R = 227 ns
    r, n, tau = 2.9e-9, 893064, 0.833e-9
    a = (2 * r * n / tau) ** (2 / 3)
    want = r * n / a + tau * math.sqrt(a) - r
    assert formulas.mesh_reduction_bound(r, 1024, n, tau, 1) == pytest.approx(want)
    assert want == pytest.approx(226.9e-9, rel=1e-3)
    # the region must hold the data: with 100,000 cores needed, A* is clamped up to them
    assert formulas.mesh_reduction_bound(r, 1e5, n, tau, 1) == pytest.approx(r * n / 1e5 + tau * math.sqrt(1e5) - r)
    assert formulas.mesh_reduction_bound(r, 1024, n, tau, 0) == 0


@settings(max_examples=40, deadline=None)
@given(r=st.floats(1e-12, 1e-5), fit=st.floats(1, 1e6), tau=st.floats(1e-10, 1e-8))
def test_the_mesh_bound_is_the_least_over_region_sizes(r, fit, tau):
    n = 1e6
    fit = min(fit, n)
    b = formulas.mesh_reduction_bound(r, fit, n, tau, 1)
    grid = np.geomspace(fit, n, 400)
    assert b <= float(np.min(r * n / grid + tau * np.sqrt(grid) - r)) * (1 + 1e-9) + 1e-18
    assert b >= 0


def test_symbolic_mesh_forms_agree_with_numbers():
    L, k, h, tau, w, th = sp.symbols("L kappa h tau n_w tau_h", positive=True)
    expr = formulas.mesh_decode_latency(L, k, h, tau, w, th)
    vals = {L: 126, k: 8, h: 934, tau: 0.909e-9, w: 19, th: 5e-6}
    assert float(expr.subs(vals)) == pytest.approx(formulas.mesh_decode_latency(126, 8, 934, 0.909e-9, 19, 5e-6))
    # 126 layers x 8 reductions x 934 hops x 0.909 ns + 18 hand-offs x 5 us = 0.856 + 0.090 ms
    assert formulas.mesh_decode_latency(126, 8, 934, 0.909e-9, 19, 5e-6) == pytest.approx(0.9456e-3, rel=1e-3)
    # the pipeline depth at which hand-offs match the layers: solve (n - 1) tau_h = L t_layer
    t_layer, n = sp.symbols("t_layer n", positive=True)
    (sol,) = sp.solve(sp.Eq((n - 1) * th, L * t_layer), n)
    assert sp.simplify(sol - formulas.handoff_dominance_stages(L, t_layer, th)) == 0
    # the batch at which compute catches up with a 180 us latency: 180e-6 x 15.8e15 / 16e9 = 178
    b, t, F, P = sp.symbols("b t F P", positive=True)
    (bstar,) = sp.solve(sp.Eq(b * F / P, t), b)
    assert sp.simplify(bstar - formulas.latency_compute_crossover_batch(t, F, P)) == 0
    assert formulas.latency_compute_crossover_batch(180e-6, 16e9, 15.8e15) == pytest.approx(177.75)


def test_band_crossing_symbolic_agrees_with_numbers():
    a, w, h = sp.symbols("A W H", positive=True)
    f = sp.lambdify((a, w, h), formulas.mesh_band_crossing(a, w, h), "numpy")
    for cells in (50.0, 10148.0, 3e5, 2e6):
        assert f(cells, 762.0, 1172.0) == pytest.approx(formulas.mesh_band_crossing(cells, 762.0, 1172.0))


def test_a_gemv_on_a_wafer_pays_one_reduction_across_its_region():
    # GEMV 8192 x 8192 in BF16 on a WSE-3: 134 MB of operands = 2,724 cores, a band across the 762-core side
    # 3.6 rows deep: one reduction crosses 765.6 hops at 1 cycle / 1.1 GHz = 696 ns
    rep = kernel_report(kernels.gemv(8192, 8192), roofline.get_device("wse3"))
    nbytes = (8192 + 8192 * 8192 + 8192) * 2
    cells = nbytes * 762 * 1172 / 44e9
    assert rep["terms_s"]["latency:fabric"] == pytest.approx((762 + cells / 762) / 1.1e9, rel=1e-6)


def test_dojo_tile_hops_pay_the_die_crossings():
    # a Dojo tile: 90 x 100 nodes (5 x 5 D1s of 18 x 20), 0.5 ns a hop, 20 ns at each die boundary (one every
    # (18 + 20) / 2 = 19 hops on average): 0.5 + 20 / 19 = 1.553 ns a hop
    tile = roofline.get_device("dojo")
    rep = kernel_report(kernels.gemv(8192, 8192), tile)
    nbytes = (8192 + 8192 * 8192 + 8192) * 2
    cap = tile.main_memory.capacity_bytes
    cells = nbytes * 90 * 100 / cap
    hops = 90 + min(cells / 90, 100)
    assert rep["terms_s"]["latency:fabric"] == pytest.approx(hops * (0.5e-9 + 2 * 20e-9 / 38), rel=1e-6)


# ---------------------------------------------------------------------------------------------------
# the three modes
# ---------------------------------------------------------------------------------------------------
def test_llm_json_carries_the_three_modes():
    r = llm.estimate("llama-3.1-8b", "wse3", context=128)
    assert set(r["modes"]) == {"ideal", "latency_bound", "estimate"}
    for m in r["modes"].values():
        assert {"ttft_s", "tpot_s", "tokens_per_s_per_user", "tokens_per_s", "bound"} <= set(m)
    assert r["modes"]["ideal"]["corner"] == r["modes"]["latency_bound"]["corner"] == "best"
    assert r["modes"]["estimate"]["corner"] == "nominal"
    # the top-level figures are the estimate's, unchanged in name
    assert r["tpot_s"] == pytest.approx(r["modes"]["estimate"]["tpot_s"])
    assert r["modes"]["latency_bound"]["bound"] == "latency:fabric" and r["modes"]["ideal"]["bound"] == "compute"
    speeds = [r["modes"][k]["tokens_per_s_per_user"] for k in ("ideal", "latency_bound", "estimate")]
    assert speeds[0] > speeds[1] > speeds[2]


def test_the_llm_command_prints_modes_in_json(capsys):
    import json

    from roofline.outputs.cli import main

    assert main(["llm", "--model", "llama-3.1-8b", "--device", "h100", "--format", "json"]) == 0
    rec = json.loads(capsys.readouterr().out)
    assert rec["modes"]["estimate"]["tokens_per_s_per_user"] == pytest.approx(rec["tokens_per_s_per_user"])
    assert rec["modes"]["latency_bound"]["bound"] == "memory:hbm"


_CASES = [("llama-3.1-8b", "wse3", None), ("llama-3.1-70b", "wse3", None), ("llama-3.1-8b", "h100", 8),
          ("llama-3.1-70b", "groq-lpu", None), ("mixtral-8x7b", "h200", 4), ("llama-3.1-8b", "dojo", None)]


@settings(max_examples=12, deadline=None)
@given(case=st.sampled_from(_CASES), batch=st.sampled_from([1, 4, 32]), context=st.sampled_from([128, 2048]))
def test_the_latency_bound_lies_between_the_roofline_and_the_estimate(case, batch, context):
    model, dev, n = case
    dt = "bf16" if "bf16" in roofline.get_device(dev).compute else "fp16"
    r = llm.estimate(model, dev, batch=batch, context=context, devices=n, dtype=dt)
    m = r["modes"]
    assert m["ideal"]["tpot_s"] <= m["latency_bound"]["tpot_s"] * (1 + 1e-12)
    assert m["latency_bound"]["tpot_s"] <= m["estimate"]["tpot_s"] * (1 + 1e-12)
    assert m["ideal"]["ttft_s"] <= m["latency_bound"]["ttft_s"] * (1 + 1e-12) <= m["estimate"]["ttft_s"] * (1 + 2e-12)


# ---------------------------------------------------------------------------------------------------
# SRAM machines (from issue 14): Groq in SRAM only, SN40L in HBM, DDR only when forced
# ---------------------------------------------------------------------------------------------------
def test_a_70b_model_on_groq_uses_hundreds_of_chips_in_sram():
    # 70.6 B parameters in FP16 (Groq publishes no BF16 peak) = 141 GB against 230 MB of SRAM per chip:
    # at least 614 chips; tensor parallelism over 64 chips of a rack (64 heads), 10 pipeline stages
    r = llm.estimate("llama-3.1-70b", "groq-lpu", dtype="fp16", context=2048)
    assert 614 <= r["devices_used"] < 1000 and r["weights_level"] == "sram"
    assert (r["tp"], r["pp"]) == (64, 10) and r["links"] == {"tp": "c2c", "pp": "dragonfly"}


def test_a_70b_model_on_sn40l_lives_in_hbm_and_streams_from_ddr_only_when_forced():
    # 141 GB of BF16 weights against 64 GiB (68.7 GB) of HBM per socket: 3 sockets, 4 for a TP degree that
    # divides the 64 heads; the SRAM is a scratchpad (kind cache), so HBM is the main memory
    r = llm.estimate("llama-3.1-70b", "sn40l", context=2048)
    assert r["devices_used"] == 4 and r["weights_level"] == "hbm" and r["links"] == {"tp": "rdu_p2p"}
    # forced onto 2 sockets (137 GB of HBM < 141 GB): the weights stream from the 1.5 TiB DDR at 200 GB/s
    forced = llm.estimate("llama-3.1-70b", "sn40l", context=2048, devices=2)
    assert forced["weights_level"] == "ddr" and forced["bound"] == "memory:ddr"
    assert forced["tokens_per_s_per_user"] < r["tokens_per_s_per_user"] / 10


# ---------------------------------------------------------------------------------------------------
# charts
# ---------------------------------------------------------------------------------------------------
def test_where_the_time_goes_wafer_in_the_fabric_gpu_in_memory():
    from roofline.outputs import plot

    wafer = llm.estimate("llama-3.1-8b", "wse3", context=2048)
    gpu = llm.estimate("llama-3.1-8b", "h100", context=2048)
    pw, pg = plot.time_parts(wafer["decode_terms_s"]), plot.time_parts(gpu["decode_terms_s"])
    assert sum(pw.values()) == pytest.approx(wafer["tpot_s"]) and sum(pg.values()) == pytest.approx(gpu["tpot_s"])
    assert max(pw, key=pw.get) == "fabric" and max(pg, key=pg.get) == "memory"
    fig = plot.where_time_goes_chart([wafer, gpu])
    ax = fig.axes[0]
    labels = {c.get_label() for c in ax.containers}
    assert {"fabric", "memory", "launch"} <= labels
    notes = [t.get_text() for t in ax.texts]
    assert all("ideal" in n and "bound" in n and "estimate" in n for n in notes)
    plot.plt.close(fig)


def test_sweep_and_frontier_charts_mark_latency_bound_points():
    from roofline.llm import decode_sweep, frontier
    from roofline.outputs import plot

    df = decode_sweep("llama-3.1-8b", ["wse3"], batch=[1, 8, 64, 512], context=[2048])
    fig = plot.sweep_chart(df)
    marks = [c for c in fig.axes[0].collections if c.get_label().startswith("latency-bound")]
    # at batch 1 a wafer's decode is bound by the fabric's reductions
    assert marks and len(marks[0].get_offsets()) >= 1
    plot.plt.close(fig)
    f = frontier("llama-3.1-8b", "wse3", context=2048)
    fig = plot.frontier_chart([f])
    assert any(c.get_label().startswith("latency-bound") for c in fig.axes[0].collections)
    plot.plt.close(fig)
