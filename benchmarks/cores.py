"""Two cores against one for ``llm.decode_sweep`` over the ``cores`` grid of ``run.py``, measured in ways a
shared machine does not spoil (issue 13).

    python benchmarks/cores.py            # CPU-time accounting, then wall clock in idle bursts (5 minutes at most)
    python benchmarks/cores.py accounting # only the accounting

Accounting (independent of the load): the CPU time of the calling thread during a 2-thread sweep (everything
that does not run on the workers, counted whole as serial) over the process CPU time of a 1-thread sweep is
the serial fraction s; Amdahl's bound is 1 / (s + (1 - s) / 2); page faults per sweep. Idle bursts: wall
time of 1-thread and 2-thread sweeps, alternated, kept only when the other processes used less than 5 % of
the CPUs during the burst (``/proc/stat`` less this process's CPU time; Linux). To compare two checkouts,
run this file in each, alternately, with ``PYTHONPATH`` set to the checkout.
"""

from __future__ import annotations

import os
import resource
import sys
import time

import numpy as np

from roofline import llm

GRID = ("llama-3.1-70b", ["h100", "h200"], np.arange(1, 1001), np.arange(128, 128 * 501, 128))


def sweep(workers: int) -> tuple[float, float, float, int]:
    """Wall, calling-thread CPU, process CPU [s] and page faults of one sweep."""
    f0 = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    w0, m0, p0 = time.perf_counter(), time.thread_time(), time.process_time()
    df = llm.decode_sweep(*GRID, device_counts=[8], workers=workers)
    out = (time.perf_counter() - w0, time.thread_time() - m0, time.process_time() - p0,
           resource.getrusage(resource.RUSAGE_SELF).ru_minflt - f0)
    del df
    return out


def accounting(repeats: int = 15) -> None:
    """The serial fraction and page faults, medians of ``repeats`` sweeps on 1 and on 2 threads."""
    one = [sweep(1) for _ in range(repeats)]
    two = [sweep(2) for _ in range(repeats)]
    med = lambda xs: sorted(xs)[len(xs) // 2]  # noqa: E731
    p1, m2, p2 = med([r[2] for r in one]), med([r[1] for r in two]), med([r[2] for r in two])
    s = m2 / p1
    print(f"1 thread: process CPU {p1 * 1e3:.1f} ms, {med([r[3] for r in one])} page faults")
    print(f"2 threads: calling thread {m2 * 1e3:.1f} ms, process {p2 * 1e3:.1f} ms, {med([r[3] for r in two])} faults")
    print(f"serial fraction s = {s:.3f}: Amdahl's bound {1 / (s + (1 - s) / 2):.2f} x")


def _busy() -> tuple[float, float]:
    v = [int(x) for x in open("/proc/stat").readline().split()[1:]]
    return (sum(v) - v[3] - v[4]) / os.sysconf("SC_CLK_TCK"), sum(v) / os.sysconf("SC_CLK_TCK")


def idle_bursts(want: int = 10, seconds: float = 300.0) -> None:
    """Best-of-three 1-thread and 2-thread walls in each burst the machine is idle around this process."""
    ratios, best = [], [float("inf"), float("inf")]
    end = time.time() + seconds
    while time.time() < end and len(ratios) < want:
        b0, _ = _busy()
        time.sleep(0.3)
        if _busy()[0] - b0 > 0.3 * 2 * 0.04:
            continue
        (b0, t0), c0 = _busy(), time.process_time()
        walls = [[sweep(w)[0] for w in (1, 2)] for _ in range(3)]
        (b1, t1), c1 = _busy(), time.process_time()
        if ((b1 - b0) - (c1 - c0)) / (t1 - t0) > 0.05:
            continue
        t = [min(x[i] for x in walls) for i in (0, 1)]
        best = [min(best[i], t[i]) for i in (0, 1)]
        ratios.append(t[0] / t[1])
        print(f"  burst {len(ratios)}: 1 thread {t[0] * 1e3:.1f} ms, 2 threads {t[1] * 1e3:.1f} ms, {ratios[-1]:.2f} x")
    if ratios:
        ratios.sort()
        print(f"best against best {best[0] / best[1]:.2f} x ({1 / best[0]:.1f} -> {1 / best[1]:.1f} M rows/s); "
              f"per burst {ratios[0]:.2f}-{ratios[len(ratios) // 2]:.2f}-{ratios[-1]:.2f} x (min-median-max)")
    else:
        print("no idle burst")


if __name__ == "__main__":
    for w in (1, 2, 1, 2):
        sweep(w)  # warm: kernels loaded, threads started, memory of a dropped frame at hand
    accounting()
    if sys.argv[1:] != ["accounting"]:
        idle_bursts()
