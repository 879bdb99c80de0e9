"""The estimate mode on measured ceilings, wired through every path: hand calculations and laws.

The ceilings are the ``[measured]`` tables of the spec files (sources there): A100 HBM 1.61 TB/s (Azure
benchmarking guide, STREAM-style copy), H100 BF16 794.5 TFLOP/s (stas00 MAMF table), MI300X BF16
668.4 TFLOP/s (same table); the datasheets say 2.039 TB/s, 989.4 and 1,307.4 TFLOP/s.
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from roofline import llm
from roofline.engine import kernel_report
from roofline.hardware.library import get_device
from roofline.hardware.measured import (CLASS_EFFICIENCY, ceilings, datasheet_device, datasheet_pinned, device_for,
                                        estimate_device, mode_device)
from roofline.workloads import kernels

# Llama-2-7B: 6,738,415,616 parameters in BF16 = 13,476,831,232 B; a decode step reads every weight once
# except the 32,000 x 4,096 embedding table (one row of it), plus the KV cache: 2 (K, V) x 32 layers x
# 4,096 x 2 B = 524,288 B per token of context.
_WEIGHTS = 13_476_831_232
_EMBEDDING = 32_000 * 4_096 * 2
_KV_PER_TOKEN = 2 * 32 * 4_096 * 2
# one kernel per operator: per layer 2 norms, QKV, attention, O, 2 residual adds, up, activation, down (10),
# x 32 layers, plus the embedding, the final norm and the LM head = 323 launches of 2.5 us (a100.toml
# overheads.kernel_launch, nominal; 1-5 us range)
_LAUNCHES = 10 * 32 + 3


def test_a100_llama2_7b_decode_estimate_is_weights_over_the_measured_bandwidth_plus_launches():
    ctx = 133
    hbm_bytes = _WEIGHTS - _EMBEDDING + _KV_PER_TOKEN * ctx          # 13.284 GB
    r = llm.estimate("llama-2-7b", "a100", batch=1, context=ctx)
    est = r["modes"]["estimate"]
    # 13.284 GB / 1.61 TB/s = 8.251 ms, + 323 x 2.5 us = 0.808 ms: 9.059 ms, 110 tokens/s
    assert r["decode_terms_s"]["memory:hbm"] == pytest.approx(hbm_bytes / 1.61e12, rel=1e-3)
    assert r["decode_terms_s"]["latency:launch"] == pytest.approx(_LAUNCHES * 2.5e-6, rel=1e-9)
    assert est["tpot_s"] == pytest.approx(hbm_bytes / 1.61e12 + _LAUNCHES * 2.5e-6, rel=1e-3)
    assert r["tpot_s"] == pytest.approx(est["tpot_s"])        # the top-level figures are the estimate's
    # the ideal bound: the same bytes at the datasheet's 2.039 TB/s, no launches: 6.515 ms
    assert r["modes"]["ideal"]["tpot_s"] == pytest.approx(hbm_bytes / 2.039e12, rel=1e-3)


def test_the_gemm_estimate_reads_the_measured_matmul_ceiling():
    # 2 x 8192^3 FLOP = 1.0995e12 FLOP, compute-bound on both
    flops = 2 * 8192**3
    h100 = kernel_report(kernels.gemm(8192, 8192, 8192, dtype="bf16"), get_device("h100"))
    assert h100["time_s"] == pytest.approx(flops / 794.5e12 + 2.5e-6, rel=1e-6)   # 1.3864 ms
    assert h100["peak_flops_per_s"] == pytest.approx(989.4e12)                    # the peak stays the datasheet's
    ideal = kernel_report(kernels.gemm(8192, 8192, 8192, dtype="bf16"), get_device("h100"), ideal=True)
    assert ideal["time_s"] == pytest.approx(flops / 989.4e12, rel=1e-6)           # 1.1113 ms
    # MI300X: MAMF 668.4 TFLOP/s, 51 % of its 1,307.4 TFLOP/s peak
    mi = kernel_report(kernels.gemm(8192, 8192, 8192, dtype="bf16"), get_device("mi300x"))
    assert mi["bound"] == "compute"
    assert mi["terms_s"]["compute"] == pytest.approx(flops / 668.4e12, rel=1e-6)  # 1.645 ms


def test_class_efficiencies_of_amd_and_tpu():
    # MI355X has no measurement: the AMD matmul class (0.60) and the GPU memory class (0.84)
    mi = get_device("mi355x")
    c = ceilings(mi)
    assert c["compute.bf16.dense"].value == pytest.approx(0.60 * mi.figures["compute.bf16.dense"].value)
    assert c["memory.hbm.bandwidth"].value == pytest.approx(0.84 * mi.figures["memory.hbm.bandwidth"].value)
    assert CLASS_EFFICIENCY["gpu:AMD"]["matmul"].low <= 668.4 / 1307.4 <= CLASS_EFFICIENCY["gpu:AMD"]["matmul"].high
    # TPU v5e: the TPU class, an estimate with a range
    tpu = get_device("tpu-v5e")
    m = ceilings(tpu)[f"memory.{tpu.main_memory.name}.bandwidth"]
    assert m.basis == "estimate" and m.low < m.value < m.high
    assert m.value == pytest.approx(0.84 * tpu.main_memory.bandwidth_bytes_per_s)
    # wafers read the datasheet: a documented decision
    wse = get_device("wse3")
    assert all(f.value == wse.figures[p].value for p, f in ceilings(wse).items())


def test_mode_devices_are_exact_and_idempotent():
    h100 = get_device("h100")
    est = estimate_device(h100)
    assert estimate_device(est) is est
    assert datasheet_device(est).figures == h100.figures
    for dev in (h100, est, datasheet_pinned(h100)):
        assert mode_device(dev, "estimate").level("hbm").bandwidth_bytes_per_s == pytest.approx(2.935e12)
        assert mode_device(dev, "latency_bound").level("hbm").bandwidth_bytes_per_s == 3.35e12
    # a pinned device keeps its datasheet rates on every path that is not ideal (--mode latency_bound)
    assert device_for(datasheet_pinned(h100), False).level("hbm").bandwidth_bytes_per_s == 3.35e12
    assert device_for(h100, False).level("hbm").bandwidth_bytes_per_s == pytest.approx(2.935e12)


def test_the_modes_do_not_depend_on_the_variant_of_the_device():
    plain = llm.estimate("llama-3.1-8b", "h100", context=512)["modes"]
    for name in ("h100@estimate", "h100@datasheet"):
        other = llm.estimate("llama-3.1-8b", name, context=512)["modes"]
        for mode in ("ideal", "latency_bound", "estimate"):
            assert other[mode]["tpot_s"] == pytest.approx(plain[mode]["tpot_s"], rel=1e-12), (name, mode)


def test_validation_meas_est_is_the_estimate_mode(tmp_path):
    from roofline.validation import default_path, estimate_rows, validate

    lines = default_path().read_text(encoding="utf-8").splitlines(keepends=True)
    keep = ("a100-llama2-7b-base-gptfast,", "h100-hbm-copy-azure-benchguide,")
    (tmp_path / "two.csv").write_text("".join([lines[0]] + [x for x in lines[1:] if x.startswith(keep)]))
    rows = validate(tmp_path / "two.csv")
    assert len(rows) == 2
    est = {r["id"]: r for r in estimate_rows(rows=rows)}
    for r in rows:
        assert est[r["id"]]["ratio_after"] == r["ratio_estimate"]
    copy = next(r for r in rows if r["id"] == "h100-hbm-copy-azure-benchguide")
    assert copy["estimate"] == pytest.approx(2.935e12)       # the measured ceiling, not the datasheet
    assert copy["bound_ideal"] == pytest.approx(3.35e12)


@settings(max_examples=6, deadline=None)
@given(st.sampled_from(["a100", "h100", "h200", "b200", "mi300x", "mi355x", "tpu-v5p", "wse3"]),
       st.sampled_from(["llama-3.1-8b", "llama-2-7b", "gpt-oss-20b"]), st.sampled_from([1, 4, 64]),
       st.sampled_from([128, 2048]))
def test_the_estimate_is_never_faster_than_either_bound(key, model, batch, context):
    # the estimate reads ceilings no faster than the datasheet and latencies no shorter than the floor
    try:
        modes = llm.estimate(model, key, batch=batch, context=context)["modes"]
    except Exception as exc:  # a model that does not fit the device is not this law's business
        if type(exc).__name__ != "CapacityError":
            raise
        return
    for k in ("tpot_s", "ttft_s"):
        assert modes["estimate"][k] >= modes["latency_bound"][k] * (1 - 1e-9)
        assert modes["latency_bound"][k] >= modes["ideal"][k] * (1 - 1e-9)
