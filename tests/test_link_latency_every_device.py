"""Every GPU and TPU spec with a link between devices pays that link's latency in multi-device single-user
decode (issue 15): the hops of each tensor-parallel all-reduce come from the link's topology."""

import pathlib

import pytest

from roofline import llm
from roofline.hardware.library import get_device

_SPECS = pathlib.Path(__file__).resolve().parents[1] / "hardware_specs"
_MULTI = sorted(k for k in (p.stem for p in _SPECS.glob("*.toml"))
                if get_device(k).kind in ("gpu", "tpu") and any(lk.topology is not None for lk in get_device(k).interconnect))


def test_the_multi_device_specs_are_all_there():
    assert {"h100", "h200", "b200", "a100", "mi300x", "mi325x", "mi355x", "tpu-v5e", "tpu-v5p", "tpu-v6e",
            "tpu-v7", "gb200-nvl72"} <= set(_MULTI)


@pytest.mark.slow  # one estimate per device (about 0.2 s each)
@pytest.mark.parametrize("key", _MULTI)
def test_tensor_parallel_decode_pays_the_link_latency_by_hand(key):
    dev = get_device(key)
    dt = "bf16" if "bf16" in dev.compute else "fp16"
    r = llm.estimate("llama-3.1-8b", key, devices=2, tp=2, dtype=dt)
    tau = dev.link(r["links"]["tp"]).latency.at("nominal")  # the link the placement chose for tensor parallelism
    # Llama-3.1-8B at tp=2: two all-reduces per layer, 32 layers = 64; an all-reduce of 2 devices takes 2 steps
    # on every topology (switch and full: 2 ceil(log2 2); a torus or mesh axis of 2: reduce 1 hop, broadcast 1)
    assert r["decode_terms_s"]["latency:link"] == pytest.approx(64 * 2 * tau), key
    assert r["modes"]["latency_bound"]["tpot_s"] > r["modes"]["ideal"]["tpot_s"], key
