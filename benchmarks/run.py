"""roofline benchmark suite: prints throughput figures for this machine. Not a test: nothing here fails.

    python benchmarks/run.py            # all benchmarks
    python benchmarks/run.py gemm llm   # a subset

Each figure is the best of a few repeats, single process. Grid points per second count every point of
the grid evaluated, the binding term included.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time

import numpy as np


def best_of(fn, repeat=3):
    best = float("inf")
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t)
    return best


def bench_gemm():
    from roofline import engine, get_device, workloads

    dev = get_device("h100")
    cw = engine.compile_workload(workloads.gemm(), dev)
    n = 2_000_000
    rng = np.random.default_rng(0)
    shapes = {k: rng.integers(1, 16384, n).astype(float) for k in "MNK"}
    vals = dev.values()
    caps = [vals[f"memory.{m.name}.capacity"] for m in dev.memory]
    t = best_of(lambda: cw.evaluate(shapes, vals, caps))
    print(f"gemm sweep (engine, {n:,} random M,N,K points on h100, binding term included): "
          f"{n / t / 1e6:6.1f} M points/s")

    from roofline.sweep import sweep

    axes = {"M": np.arange(1, 201), "N": np.arange(256, 256 * 51, 256), "K": np.geomspace(256, 65536, 20).round()}
    npts = 200 * 50 * 20
    t = best_of(lambda: sweep(workloads.gemm(), "h100", axes), repeat=2)
    print(f"gemm sweep -> tidy DataFrame ({npts:,} points):                       {npts / t / 1e6:6.1f} M points/s")


def bench_llm():
    from roofline import get_device
    from roofline.llm import Precision, _run, decode_sweep, place
    from roofline.models import get_model

    m, d = get_model("llama-3.1-70b"), get_device("h100")
    pl = place(m, d, devices=8)
    b = np.repeat(np.arange(1, 1001.0), 1000)
    s = np.tile(np.arange(128, 128 * 1001.0, 128), 1000)
    t0 = time.perf_counter()
    _run(m, d, "decode", Precision(), pl, {"b": b[:2], "s": s[:2]}, False, "max", "nominal")
    first = time.perf_counter() - t0
    t0 = time.perf_counter()
    _run(m, d, "decode", Precision(), pl, {"b": b[:2], "s": s[:2]}, False, "max", "nominal")
    cached = time.perf_counter() - t0
    print(f"llm expressions for llama-3.1-70b decode on 8 x h100: build + lambdify {first * 1e3:7.1f} ms, cached {cached * 1e3:6.2f} ms")
    for phase, key in (("decode", "s"), ("prefill", "p")):
        t = best_of(lambda: _run(m, d, phase, Precision(), pl, {"b": b, key: s}, False, "max", "nominal"))
        print(f"llm {phase} sweep (engine, batch x context = {b.size:,} points): {b.size / t / 1e6:6.2f} M points/s")
    devs = ["h100", "h200", "b200"]
    bb, cc = np.arange(1, 201), np.arange(256, 256 * 101, 256)
    t = best_of(lambda: decode_sweep(m, devs, bb, cc, device_counts=[4, 8]), repeat=2)
    npts = len(devs) * 2 * bb.size * cc.size
    print(f"llm decode sweep -> DataFrame (batch x context x devices = {npts:,}): {npts / t / 1e6:6.2f} M points/s")


def bench_cli():
    env = dict(os.environ)
    cmd = [sys.executable, "-m", "roofline", "compare", "wse3", "h100"]
    if subprocess.run(cmd + ["--help"], capture_output=True, env=env).returncode != 0:
        cmd = [sys.executable, "-m", "roofline", "show", "h100"]
    subprocess.run(cmd, capture_output=True, env=env)  # warm the OS file cache
    t = best_of(lambda: subprocess.run(cmd, capture_output=True, env=env, check=True))
    print(f"wall time of `{' '.join(['python'] + cmd[1:])}`: {t:.2f} s")


BENCHES = {"gemm": bench_gemm, "llm": bench_llm, "cli": bench_cli}

if __name__ == "__main__":
    names = sys.argv[1:] or list(BENCHES)
    print(f"roofline benchmarks on {os.cpu_count()} CPUs, Python {sys.version.split()[0]}, NumPy {np.__version__}")
    for name in names:
        BENCHES[name]()
