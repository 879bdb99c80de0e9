"""roofline benchmark suite: prints figures for this machine. Not a test: nothing here fails.

    python benchmarks/run.py            # everything
    python benchmarks/run.py gemm llm   # a subset: gemm, llm, loop, memory, build, cli

Each figure is the best of a few repeats in one process on one core (NumPy's element-wise work is
single-threaded). Grid points per second count every point evaluated, the binding term included.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time

import numpy as np


def best_of(fn, repeat=3):
    best = float("inf")
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t)
    return best


def _gemm_setup(n=2_000_000):
    from roofline import engine, get_device, workloads

    dev = get_device("h100")
    cw = engine.compile_workload(workloads.gemm(), dev)
    rng = np.random.default_rng(0)
    shapes = {k: rng.integers(1, 16384, n).astype(float) for k in "MNK"}
    vals = dev.values()
    caps = [vals[f"memory.{m.name}.capacity"] for m in dev.memory]
    return cw, shapes, vals, caps


def _llm_setup():
    from roofline import get_device
    from roofline.llm import Precision, place
    from roofline.models import get_model

    m, d = get_model("llama-3.1-70b"), get_device("h100")
    return m, d, place(m, d, devices=8), Precision()


def bench_gemm():
    cw, shapes, vals, caps = _gemm_setup()
    n = len(shapes["M"])
    t = best_of(lambda: cw.evaluate(shapes, vals, caps))
    print(f"gemm sweep, engine ({n:,} random M,N,K on h100, binding term included): {n / t / 1e6:8.1f} M points/s")

    from roofline import workloads
    from roofline.sweep import sweep

    axes = {"M": np.arange(1, 201), "N": np.arange(256, 256 * 51, 256), "K": np.geomspace(256, 65536, 20).round()}
    npts = 200 * 50 * 20
    t = best_of(lambda: sweep(workloads.gemm(), "h100", axes), repeat=2)
    print(f"gemm sweep -> tidy DataFrame ({npts:,} points):                       {npts / t / 1e6:8.1f} M points/s")


def bench_llm():
    from roofline.llm import _run, decode_sweep

    m, d, pl, prec = _llm_setup()
    b = np.repeat(np.arange(1, 1001.0), 1000)
    s = np.tile(np.arange(128, 128 * 1001.0, 128), 1000)
    for phase, key in (("decode", "s"), ("prefill", "p")):
        _run(m, d, phase, prec, pl, {"b": b[:2], key: s[:2]}, False, "max", "nominal")
        t = best_of(lambda: _run(m, d, phase, prec, pl, {"b": b, key: s}, False, "max", "nominal"))
        print(f"llm {phase} sweep, engine (llama-3.1-70b on 8 x h100, {b.size:,} batch x context points): "
              f"{b.size / t / 1e6:6.2f} M points/s")
    devs = ["h100", "h200", "b200"]
    bb, cc = np.arange(1, 201), np.arange(256, 256 * 101, 256)
    t = best_of(lambda: decode_sweep(m, devs, bb, cc, device_counts=[4, 8]), repeat=2)
    npts = len(devs) * 2 * bb.size * cc.size
    print(f"llm decode sweep -> DataFrame (batch x context x devices = {npts:,} points): {npts / t / 1e6:6.2f} M points/s")


def bench_loop():
    """The same closed forms evaluated point by point in a Python loop, as scalar tools do."""
    from roofline.llm import _run

    cw, shapes, vals, caps = _gemm_setup(n=200_000)
    n_loop = 2000
    t_vec = best_of(lambda: cw.evaluate(shapes, vals, caps)) / len(shapes["M"])
    t_loop = best_of(lambda: [cw.evaluate({k: v[i] for k, v in shapes.items()}, vals, caps) for i in range(n_loop)],
                     repeat=2) / n_loop
    print(f"gemm: vectorised {t_vec * 1e9:7.1f} ns/point, Python loop {t_loop * 1e6:7.1f} us/point: "
          f"{t_loop / t_vec:,.0f}x faster vectorised")
    m, d, pl, prec = _llm_setup()
    b = np.repeat(np.arange(1, 501.0), 400)
    s = np.tile(np.arange(128, 128 * 401.0, 128), 500)
    t_vec = best_of(lambda: _run(m, d, "decode", prec, pl, {"b": b, "s": s}, False, "max", "nominal")) / b.size
    t_loop = best_of(lambda: [_run(m, d, "decode", prec, pl, {"b": b[i], "s": s[i]}, False, "max", "nominal")
                              for i in range(500)], repeat=2) / 500
    print(f"llm decode: vectorised {t_vec * 1e9:7.1f} ns/point, Python loop {t_loop * 1e6:7.1f} us/point: "
          f"{t_loop / t_vec:,.0f}x faster vectorised")


def bench_memory():
    """Peak memory a decode sweep allocates (tracemalloc sees NumPy's buffers), per million points."""
    import tracemalloc

    from roofline.llm import _run

    m, d, pl, prec = _llm_setup()
    _run(m, d, "decode", prec, pl, {"b": np.ones(2), "s": np.ones(2)}, False, "max", "nominal")
    for n in (1_000_000, 4_000_000):
        b = np.repeat(np.arange(1, 1001.0), n // 1000)
        s = np.tile(np.arange(128, 128 * (n // 1000 + 1.0), 128), 1000)
        tracemalloc.start()
        _run(m, d, "decode", prec, pl, {"b": b, "s": s}, False, "max", "nominal")
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        print(f"llm decode, {n / 1e6:.0f} M points in one call: peak allocation {peak / 2**20:7.1f} MiB "
              f"= {peak / 2**20 / (n / 1e6):5.1f} MiB per million points (the outputs, 8 B each per field, "
              f"plus one 32k-point block of temporaries)")


def bench_build():
    from roofline import cache
    from roofline.llm import _compiled

    from roofline import llm

    m, d, pl, prec = _llm_setup()
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["ROOFLINE_CACHE_DIR"] = tmp
        cache.clear_memory()
        llm._workload_cached.cache_clear()
        t0 = time.perf_counter()
        _compiled(m, d, "decode", prec, pl, False, "max")
        cold = time.perf_counter() - t0
        t0 = time.perf_counter()
        _compiled(m, d, "decode", prec, pl, False, "max")
        mem = time.perf_counter() - t0
        cache.clear_memory()
        t0 = time.perf_counter()
        _compiled(m, d, "decode", prec, pl, False, "max")
        disk = time.perf_counter() - t0
        del os.environ["ROOFLINE_CACHE_DIR"]
    print(f"llama-3.1-70b decode expressions on 8 x h100: build + lambdify {cold * 1e3:7.1f} ms; "
          f"cached in memory {mem * 1e6:6.1f} us; from the disk cache {disk * 1e3:6.2f} ms")


def bench_cli():
    cmd = [sys.executable, "-m", "roofline", "compare", "wse3", "h100"]
    with tempfile.TemporaryDirectory() as tmp:
        env = dict(os.environ, ROOFLINE_CACHE_DIR=tmp)
        t0 = time.perf_counter()
        subprocess.run(cmd, capture_output=True, env=env, check=True)
        cold = time.perf_counter() - t0
        warm = best_of(lambda: subprocess.run(cmd, capture_output=True, env=env, check=True))
    print(f"wall time of `python -m roofline compare wse3 h100`: {warm:.2f} s warm (target < 1 s), "
          f"{cold:.2f} s on the first run (empty cache)")


BENCHES = {"gemm": bench_gemm, "llm": bench_llm, "loop": bench_loop, "memory": bench_memory, "build": bench_build,
           "cli": bench_cli}

if __name__ == "__main__":
    names = sys.argv[1:] or list(BENCHES)
    unknown = [n for n in names if n not in BENCHES]
    if unknown:
        sys.exit(f"unknown benchmark {unknown[0]!r}; choose from {', '.join(BENCHES)}")
    print(f"roofline benchmarks on {os.cpu_count()} CPUs, Python {sys.version.split()[0]}, NumPy {np.__version__}")
    for name in names:
        BENCHES[name]()
