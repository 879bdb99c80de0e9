"""Per-call benchmarks (issue 13, the one-configuration half): what an interactive question costs.

    python benchmarks/percall.py          # every figure, each against its target, with the ratio

Each ``bench_*`` function returns a dict of measured figures (``benchmarks/run.py`` calls them); nothing
here fails. Times are wall-clock: the best of five batches for calls in one process, the best of a few runs
for commands. The machine may be shared, so every figure is printed beside a reference measured in the
same run (``python -c 'import numpy'`` for commands) and each target as a ratio: above 1, met.

The question of every ``estimate`` figure is the one the peers answer: Llama-3.1-70B on eight H100s, batch
1, a 2,048-token prompt, prefill and one decode step, in three modes (ideal, latency bound, estimate) with
the device's best and worst corners (llm-analysis: Llama-2-70B, same shapes, its own H100 figures).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

#: (figure, goal, unit, lower is better, what): the issue's targets for the per-call path
TARGETS = (
    ("estimate_fresh_us", 100.0, "us", True, "llm.estimate() warm, a new question each call (what an optimiser asks)"),
    ("estimate_us", 100.0, "us", True, "llm.estimate() warm, the same question again (remembered; names)"),
    ("estimate_objects_us", 100.0, "us", True, "llm.estimate() warm, the same question again (objects)"),
    ("llm_analysis_fresh_ratio", 2.0, "x", False, "llm.estimate() against llm-analysis, a new question each call"),
    ("llm_warm_ms", 150.0, "ms", True, "`roofline llm -m llama-3.1-70b -d h100` warm wall"),
    ("compare_cold_s", 1.0, "s", True, "`roofline compare wse3 h100` with an empty cache"),
    ("compare_warm_s", 0.3, "s", True, "`roofline compare wse3 h100` warm"),
)


def _env(**extra) -> dict:
    """The environment of a command: this checkout first on the path, bytecode written (a warm command is the
    second run of an installed package, which has its ``.pyc`` files)."""
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT)] + [p for p in [os.environ.get("PYTHONPATH")] if p]))
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env.update(extra)
    return env


def per_call(fn, seconds: float = 0.5, clock=time.perf_counter) -> float:
    """Seconds per call of ``fn``: the best of five batches, each about ``seconds / 5`` long.

    Parameters
    ----------
    fn : callable
        Called without arguments.
    seconds : float
        About how long to measure [s].
    clock : callable
        The clock: wall (``time.perf_counter``) or this thread's CPU time (``time.thread_time``, which a
        shared machine's other processes disturb less).

    Returns
    -------
    float
        [s].
    """
    fn()
    n = 1
    while True:
        t = time.perf_counter()
        for _ in range(n):
            fn()
        if time.perf_counter() - t > seconds / 5:
            break
        n *= 2
    best = float("inf")
    for _ in range(5):
        t = clock()
        for _ in range(n):
            fn()
        best = min(best, (clock() - t) / n)
    return best


def wall(cmd: list[str], env: dict, repeat: int = 5) -> float:
    """The best wall time of ``repeat`` runs of ``cmd`` [s].

    Parameters
    ----------
    cmd : list of str
        The command.
    env : dict
        Its environment.
    repeat : int
        Runs [1].

    Returns
    -------
    float
        [s].
    """
    return run_times(cmd, env, repeat)[0]


def run_times(cmd: list[str], env: dict, repeat: int = 5) -> tuple[float, float]:
    """The best wall time and the best CPU time (user + system) of ``repeat`` runs of ``cmd`` [s].

    Parameters
    ----------
    cmd : list of str
        The command.
    env : dict
        Its environment.
    repeat : int
        Runs [1].

    Returns
    -------
    tuple of float
        ``(wall, cpu)`` [s].
    """
    import resource

    best, best_cpu = float("inf"), float("inf")
    for _ in range(repeat):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        t = time.perf_counter()
        subprocess.run(cmd, capture_output=True, env=env, check=True)
        best = min(best, time.perf_counter() - t)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        best_cpu = min(best_cpu, after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    return best, best_cpu


def bench_estimate() -> dict:
    """``llm.estimate()`` warm: by name, with objects, a fresh configuration each call, on a wafer; llm-analysis.

    Returns
    -------
    dict
        ``estimate_us`` (names), ``estimate_cpu_us`` (the same in this thread's CPU time),
        ``estimate_objects_us``, ``estimate_fresh_us`` (each call a batch and
        context not asked before: placement and evaluation run, nothing is memoised), ``estimate_wse3_us``,
        ``estimate_unremembered_us`` (by names, the whole-result memo emptied before each call: the estimate's own
        Python over warm points, what ``estimate_us`` measured before that memo) [us]. A warm question asked again
        is answered from :data:`roofline.llm.inference._RESULTS` (a copy);
        ``llm_analysis_us``, ``llm_analysis_ratio`` (its time over ours, ours remembered) and
        ``llm_analysis_fresh_ratio`` (over a new question of ours: it remembers nothing) when llm-analysis is
        installed.
    """
    from roofline import get_device, llm
    from roofline.llm import get_model, inference

    m, d = get_model("llama-3.1-70b"), get_device("h100")
    out = {"estimate_us": per_call(lambda: llm.estimate("llama-3.1-70b", "h100", devices=8)) * 1e6,
           "estimate_objects_us": per_call(lambda: llm.estimate(m, d, devices=8)) * 1e6,
           "estimate_cpu_us": per_call(lambda: llm.estimate("llama-3.1-70b", "h100", devices=8),
                                       clock=time.thread_time) * 1e6}
    fresh = ((1 + i % 256, 256 + i // 256) for i in range(1, 10**9))  # (batch, context) never asked before
    out["estimate_fresh_us"] = per_call(lambda: llm.estimate(m, d, *next(fresh), devices=8)) * 1e6
    wse3 = get_device("wse3")
    out["estimate_wse3_us"] = per_call(lambda: llm.estimate(m, wse3)) * 1e6
    results = inference._RESULTS
    out["estimate_unremembered_us"] = per_call(
        lambda: (results.clear(), llm.estimate("llama-3.1-70b", "h100", devices=8))) * 1e6
    peer = _llm_analysis()
    if peer is not None:
        out["llm_analysis_us"] = peer * 1e6
        out["llm_analysis_cpu_us"] = _llm_analysis(time.thread_time) * 1e6
        out["llm_analysis_ratio"] = out["llm_analysis_us"] / out["estimate_us"]  # ours remembered
        out["llm_analysis_fresh_ratio"] = out["llm_analysis_us"] / out["estimate_fresh_us"]  # ours computed
    return out


def _llm_analysis(clock=time.perf_counter) -> float | None:
    """Seconds per llm-analysis ``infer`` of the same question, or None where it is not installed."""
    try:
        import logging

        logging.disable(logging.WARNING)
        from llm_analysis.analysis import infer
    except ImportError:
        return None
    kw = {"model_name": "upstage_Llama-2-70b-instruct-v2", "gpu_name": "h100-sxm-80gb", "dtype_name": "w16a16e16",
          "tp_size": 8, "seq_len": 2048, "num_tokens_to_generate": 1, "batch_size_per_gpu": 1, "log_level": "ERROR"}
    return per_call(lambda: infer(**kw), clock=clock)


_PROBE = ("import sys, io, contextlib; from roofline.outputs.cli import main\n"
          "with contextlib.redirect_stdout(io.StringIO()): main(['llm', '-m', 'llama-3.1-70b', '-d', 'h100'])\n"
          "print(sorted(m for m in ('pandas', 'sympy', 'matplotlib', 'pint', 'numba') if m in sys.modules))")


def bench_cli_llm() -> dict:
    """``python -m roofline llm -m llama-3.1-70b -d h100``: with an empty cache, then warm, and where the warm
    command's time goes.

    The breakdown, each the best of five runs measured in the same loop: a bare interpreter
    (``python -c pass``), NumPy's import, the import of the command's modules (the CLI and
    ``roofline.llm.inference``), then the whole command; roofline's own import is the third less the second,
    its work the fourth less the third.

    Returns
    -------
    dict
        ``llm_cold_ms``, ``llm_warm_ms``, ``llm_warm_cpu_ms`` (user + system), ``numpy_import_ms`` and
        ``numpy_import_cpu_ms`` (the reference: ``python -c 'import numpy'``), ``llm_warm_over_numpy`` [1],
        ``python_bare_cpu_ms``, ``roofline_import_cpu_ms`` (over a bare interpreter) and ``llm_run_cpu_ms`` (the breakdown, CPU time)
        and ``warm_heavy_modules`` (which of pandas, SymPy, matplotlib, pint and numba the warm command
        imported).
    """
    cmd = [sys.executable, "-m", "roofline", "llm", "-m", "llama-3.1-70b", "-d", "h100"]
    steps = {"bare": [sys.executable, "-c", "pass"], "numpy": [sys.executable, "-c", "import numpy"],
             "imports": [sys.executable, "-c", "from roofline.outputs.cli import main; import roofline.llm.inference"],
             "warm": cmd}
    with tempfile.TemporaryDirectory() as tmp:
        env = _env(ROOFLINE_CACHE_DIR=tmp)
        cold = wall(cmd, env, repeat=1)
        best = {k: (float("inf"), float("inf")) for k in steps}
        for _ in range(5):  # each step once per round, so that a burst of load hits every step alike
            for k, c in steps.items():
                got = run_times(c, env, repeat=1)
                best[k] = (min(best[k][0], got[0]), min(best[k][1], got[1]))
        probe = subprocess.run([sys.executable, "-c", _PROBE], capture_output=True, text=True, env=env, check=True)
    (warm, warm_cpu), (base, base_cpu) = best["warm"], best["numpy"]
    return {"llm_cold_ms": cold * 1e3, "llm_warm_ms": warm * 1e3, "llm_warm_cpu_ms": warm_cpu * 1e3,
            "numpy_import_ms": base * 1e3, "numpy_import_cpu_ms": base_cpu * 1e3,
            "llm_warm_over_numpy": warm / base, "python_bare_cpu_ms": best["bare"][1] * 1e3,
            "roofline_import_cpu_ms": (best["imports"][1] - best["bare"][1]) * 1e3,  # the command loads no NumPy
            "llm_run_cpu_ms": (warm_cpu - best["imports"][1]) * 1e3,
            "warm_heavy_modules": json.loads(probe.stdout.strip().replace("'", '"'))}


def bench_compare() -> dict:
    """``python -m roofline compare wse3 h100``: with an empty cache (the median of three, each with a fresh
    cache folder), then warm.

    Returns
    -------
    dict
        ``compare_cold_s`` and ``compare_warm_s``, and the same in CPU time (``..._cpu_s``) [s].
    """
    cmd = [sys.executable, "-m", "roofline", "compare", "wse3", "h100"]
    colds = []
    for _ in range(3):  # one cold run swings by ~0.3 s on a shared machine: the median of three fresh caches
        with tempfile.TemporaryDirectory() as tmp:
            env = _env(ROOFLINE_CACHE_DIR=tmp)
            colds.append(run_times(cmd, env, repeat=1))
            if len(colds) == 3:
                warm, warm_cpu = run_times(cmd, env)
    cold, cold_cpu = sorted(colds)[1]
    return {"compare_cold_s": cold, "compare_warm_s": warm, "compare_cold_cpu_s": cold_cpu,
            "compare_warm_cpu_s": warm_cpu}


def report(figures: dict) -> list[str]:
    """One line per target: the measured figure, the goal and the ratio (above 1: met).

    Parameters
    ----------
    figures : dict
        What the ``bench_*`` functions returned, merged.

    Returns
    -------
    list of str
    """
    lines = []
    for key, goal, unit, lower, what in TARGETS:
        if key not in figures:
            lines.append(f"{what}: not measured")
            continue
        v = figures[key]
        ratio = goal / v if lower else v / goal
        lines.append(f"{what}: {v:,.3g} {unit} (target {'<=' if lower else '>='} {goal:g} {unit}): "
                     f"{ratio:.2f}x the target, {'met' if ratio >= 1 else 'NOT met'}")
    return lines


def main() -> int:
    """Run every per-call benchmark and print the figures and the targets.

    Returns
    -------
    int
        0.
    """
    figures: dict = {}
    for bench in (bench_estimate, bench_cli_llm, bench_compare):
        got = bench()
        figures.update(got)
        print(f"{bench.__name__}: " + ", ".join(f"{k}={v:,.4g}" if isinstance(v, float) else f"{k}={v}"
                                                for k, v in got.items()), flush=True)
    if "llm_analysis_us" not in figures:
        print("llm-analysis is not installed (pip install llm-analysis): no peer figure")
    print()
    for line in report(figures):
        print(line)
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    raise SystemExit(main())
