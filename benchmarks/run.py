"""roofline benchmark suite: every performance target of the project measured in one run, as a ratio.

    python benchmarks/run.py                 # everything but `big`
    python benchmarks/run.py engine sweep    # a subset: percall engine sweep cores memory cli-sweep numba
                                             #   peers big

Not a test: nothing here fails. Each figure is the best of a few repeats; the machine is shared, so the
absolute figures move with its load, while the ratios of figures measured side by side in the same run
(roofline against a peer, the fused path against the hand-written loop, two cores against one) move
much less. Peers are measured when they are installed in the same environment: llm-analysis
(``pip install llm-analysis``) and GenZ (``pip install genz-llm``), on the same question. The per-call
targets (``llm.estimate()``, ``roofline llm``, ``roofline compare``) are measured by ``percall.py`` beside
this file; without it they are printed as "not measured".

The last table lists each target, the figure measured, the ratio to the target and whether it was met.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
ENV = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT)] + [p for p in [os.environ.get("PYTHONPATH")] if p]))
#: the run's own cache (set by main): the first use of each workload compiles (and starts numba compiling
#: in the background); the figures that follow are warm, after those compilations finished
CACHE = os.environ.get("ROOFLINE_CACHE_DIR", "")

RESULTS: list[tuple] = []  # (target, measured, unit, goal, ratio, met)


def record(target: str, measured: float, unit: str, goal: float, lower_is_better: bool, note: str = "") -> None:
    ratio = (goal / measured) if lower_is_better else (measured / goal)
    RESULTS.append((target, measured, unit, goal, ratio, ratio >= 1.0, note))
    mark = "met" if ratio >= 1.0 else "NOT met"
    print(f"  -> {target}: {measured:,.3g} {unit} (target {'<=' if lower_is_better else '>='} {goal:,.3g} {unit}): "
          f"{ratio:.2f}x the target, {mark}{'; ' + note if note else ''}")


def best_of(fn, repeat=3) -> float:
    best = float("inf")
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t)
    return best


def per_call(fn, seconds=0.5) -> float:
    """Seconds per call: the best of five batches, each about ``seconds / 5`` long."""
    fn()
    n = 1
    while True:
        t = time.perf_counter()
        for _ in range(n):
            fn()
        if time.perf_counter() - t > seconds / 5:
            break
        n *= 2
    return min(best_of(lambda: [fn() for _ in range(n)], 1) for _ in range(5)) / n


def wall(cmd: list[str], env=None, repeat=3) -> float:
    return best_of(lambda: subprocess.run(cmd, capture_output=True, env=env or ENV, check=True), repeat)


def _setup(device="h100", devices=8):
    from roofline import get_device
    from roofline.llm import Precision, get_model, place

    m, d = get_model("llama-3.1-70b"), get_device(device)
    return m, d, place(m, d, Precision(), devices=devices), Precision()


def _compiled_step():
    """The compiled decode step of Llama-3.1-70B on 8 x H100, its nominal figures and capacities."""
    from roofline.llm.inference import _compiled

    m, d, pl, prec = _setup()
    cw = _compiled(m, d, "decode", prec, pl, False, "max")
    vals = d.values()
    return cw, vals, [vals[f"memory.{lvl.name}.capacity"] for lvl in d.memory], pl


def _grid(n_b=1000, n_s=1000):
    return (np.repeat(np.arange(1, n_b + 1.0), n_s), np.tile(np.arange(128, 128 * (n_s + 1.0), 128), n_b))


# ------------------------------------------------------------------------------------------------------
# one configuration: benchmarks/percall.py
# ------------------------------------------------------------------------------------------------------
def bench_percall():
    """The per-call targets, from ``percall.py`` (``llm.estimate()``, ``roofline llm``, ``compare``)."""
    print("\npercall: llm.estimate(), `roofline llm`, `roofline compare` (benchmarks/percall.py)")
    try:
        import percall

        benches, targets = (percall.bench_estimate, percall.bench_cli_llm, percall.bench_compare), percall.TARGETS
    except (ImportError, AttributeError):
        print("  not measured (benchmarks/percall.py is not there)")
        RESULTS.append(("the per-call targets", float("nan"), "", float("nan"), float("nan"), False, "not measured"))
        return
    figures: dict = {}
    for bench in benches:
        figures.update(bench())
    for key, goal, unit, lower, what in targets:
        if key in figures:
            record(what, figures[key], unit, goal, lower)
        else:
            print(f"  -> {what}: not measured")
            RESULTS.append((what, float("nan"), unit, goal, float("nan"), False, "not measured"))


# ------------------------------------------------------------------------------------------------------
# grids
# ------------------------------------------------------------------------------------------------------
def bench_engine():
    """NumPy-only and fused engine rates on a decode grid, and the hand-written reference loop."""
    import reference

    cw, vals, caps, pl = _compiled_step()
    ev = lambda n=None, **kw: cw.evaluate({"b": b[:n], "s": s[:n]}, vals, caps, home=pl.home, mode="estimate",  # noqa: E731
                                          workers=1, **kw)
    b, s = _grid()
    print(f"\nengine: Llama-3.1-70B decode on 8 x H100, {b.size:,} batch x context points, one core")
    old = os.environ.get("ROOFLINE_FUSED")
    try:
        os.environ["ROOFLINE_FUSED"] = "0"
        t_np = best_of(lambda: ev())
        print(f"  NumPy evaluator:                   {b.size / t_np / 1e6:6.2f} M points/s")
        record("NumPy-only engine (decode)", b.size / t_np / 1e6, "M points/s", 8, False)
        try:
            import numba  # noqa: F401
        except ImportError:
            print("  numba is not installed: no fused figures")
            return
        os.environ["ROOFLINE_FUSED"] = "always"
        ev(10)
        t_fu = best_of(lambda: ev())
    finally:
        os.environ.pop("ROOFLINE_FUSED", None) if old is None else os.environ.__setitem__("ROOFLINE_FUSED", old)
    k = reference.build(cw, [vals[p] for p in cw.device_paths], caps, pl.home)
    diff = reference.check(k, cw, vals, caps, pl.home, b[:20000], s[:20000])
    t_ref = best_of(lambda: reference.run(k, b, s))
    print(f"  fused evaluator (numba, generated): {b.size / t_fu / 1e6:6.2f} M points/s")
    print(f"  hand-written fused loop (numba):    {b.size / t_ref / 1e6:6.2f} M points/s "
          f"(same times to {diff:.1e}, same binding terms)")
    record("fused engine against the hand-written loop", t_fu / t_ref, "x its time", 1.5, True)


def _numba_warm() -> None:
    """Import numba now when it is installed: the sweep figures are those of a warm process (a notebook, a
    service), where the import is paid already; the `numba` benchmark measures a fresh process."""
    from roofline.engine import fused

    if fused.available():
        fused.import_numba()


def _sweep_args():
    bb, cc = np.arange(1, 1001), np.arange(128, 128 * 501, 128)
    return "llama-3.1-70b", ["h100", "h200"], bb, cc


def bench_sweep():
    """decode_sweep into a DataFrame on one core, with the three corners of every device's ranges and without."""
    from roofline import llm

    model, devs, bb, cc = _sweep_args()
    n = len(devs) * bb.size * cc.size
    _numba_warm()
    print(f"\nsweep: llm.decode_sweep -> DataFrame, {n:,} rows (batch x context x 2 devices), one core")
    _warm(lambda: llm.decode_sweep(model, devs, bb, cc, device_counts=[8], workers=1))
    t3 = best_of(lambda: llm.decode_sweep(model, devs, bb, cc, device_counts=[8], workers=1), 3)
    _warm(lambda: llm.decode_sweep(model, devs, bb, cc, device_counts=[8], workers=1, ranges=False))
    t1 = best_of(lambda: llm.decode_sweep(model, devs, bb, cc, device_counts=[8], workers=1, ranges=False), 3)
    print(f"  with ranges (each row evaluated at 3 corners): {n / t3 / 1e6:6.2f} M rows/s")
    print(f"  ranges=False (nominal only):                   {n / t1 / 1e6:6.2f} M rows/s")
    record("decode_sweep -> DataFrame, one core (ranges=False)", n / t1 / 1e6, "M rows/s", 10, False)
    record("decode_sweep -> DataFrame, one core (3 corners)", n / t3 / 1e6, "M rows/s", 10, False)


def bench_cores():
    """The same sweep on every core against one core."""
    from roofline import llm
    from roofline._paths import thread_count

    model, devs, bb, cc = _sweep_args()
    n = len(devs) * bb.size * cc.size
    w = thread_count()
    _numba_warm()
    print(f"\ncores: llm.decode_sweep, {n:,} rows, 1 thread against {w}")
    _warm(lambda: llm.decode_sweep(model, devs, bb, cc, device_counts=[8]))
    t1 = tw = float("inf")
    for _ in range(5):  # alternated, so that both see the same load on a shared machine
        t1 = min(t1, best_of(lambda: llm.decode_sweep(model, devs, bb, cc, device_counts=[8], workers=1), 1))
        tw = min(tw, best_of(lambda: llm.decode_sweep(model, devs, bb, cc, device_counts=[8], workers=w), 1))
    print(f"  1 thread {n / t1 / 1e6:6.2f} M rows/s, {w} threads {n / tw / 1e6:6.2f} M rows/s")
    if w > 1:
        record(f"decode_sweep on {w} cores against one", t1 / tw, "x", 1.7, False)


def bench_memory():
    """Peak allocation of an in-memory decode sweep, per point (tracemalloc sees NumPy's buffers), with the
    three corners of the devices' ranges and without, in a warm process (numba imported and the kernels
    loaded by an untraced sweep first, as in a notebook or a service: their one-time import is the
    process's, not the sweep's); then the NumPy evaluator alone, at two grid sizes, split into a part per
    point and a fixed working set (each thread's chunk outputs and blocks' temporaries)."""
    import tracemalloc

    from roofline import llm

    model, devs, bb, _ = _sweep_args()
    cc = np.arange(128, 128 * 2001, 128)
    n = len(devs) * bb.size * cc.size
    print(f"\nmemory: llm.decode_sweep of {n:,} points in memory")
    _numba_warm()

    def peak_of(ctx, **kw):
        tracemalloc.start()
        df = llm.decode_sweep(model, devs, bb, ctx, device_counts=[8], **kw)
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        return peak, df.memory_usage(deep=True).sum()

    for ranges in (True, False):
        _warm(lambda: llm.decode_sweep(model, devs, bb, cc[:100], device_counts=[8], ranges=ranges))
        llm.decode_sweep(model, devs, bb, cc, device_counts=[8], ranges=ranges)  # loads what pays at this size
        peak, held = peak_of(cc, ranges=ranges)
        what = "with ranges" if ranges else "ranges=False"
        print(f"  {what}: peak allocation {peak / n:5.1f} B per point (the frame itself {held / n:5.1f} B per row)")
        record(f"peak memory of an in-memory sweep ({what})", peak / n, "B/point", 100, True)
    old = os.environ.get("ROOFLINE_FUSED")
    os.environ["ROOFLINE_FUSED"] = "0"
    try:
        (p1, _), (p2, _) = peak_of(cc[:1000]), peak_of(cc)
    finally:
        os.environ.pop("ROOFLINE_FUSED", None) if old is None else os.environ.__setitem__("ROOFLINE_FUSED", old)
    per, fixed = (p2 - p1) / (n / 2), p2 - (p2 - p1) * 2
    print(f"  NumPy evaluator alone, with ranges: {p2 / n:5.1f} B per point at {n:,} points = {per:5.1f} B per "
          f"point + {fixed / 2**20:5.1f} MiB fixed (its chunks' and blocks' working set)")
    record("peak memory of an in-memory sweep (with ranges, NumPy alone: numba not installed)", p2 / n, "B/point",
           100, True)


def bench_big():
    """A grid of ROOFLINE_BENCH_POINTS points (default 10^9) folded to the best row per system: bounded memory."""
    import resource

    from roofline import llm

    n_target = int(float(os.environ.get("ROOFLINE_BENCH_POINTS", "1e9")))
    bb = np.arange(1, 10001)
    cc = np.arange(1, n_target // (2 * bb.size) + 1)
    n = 2 * bb.size * cc.size
    print(f"\nbig: llm.decode_sweep(reduce='best') over {n:,} points (llama-3.1-8b on h100 x 1 and h200 x 1)")
    t = time.perf_counter()
    df = llm.decode_sweep("llama-3.1-8b", ["h100", "h200"], bb, cc, device_counts=[1], reduce="best",
                          ranges=False, progress=False)
    e = time.perf_counter() - t
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    print(f"  {e:,.0f} s ({n / e / 1e6:5.1f} M points/s), peak resident memory {rss / 2**20:,.0f} MiB; "
          f"best rows: {df[['device', 'batch', 'context', 'tokens_per_s_per_device']].to_dict('records')}")
    record(f"{n:.0e} points in bounded memory (peak RSS)", rss / 2**30, "GiB", 4, True)


def bench_cli_sweep():
    """`roofline sweep --out` end to end (process start included), to CSV and to Parquet; the start alone is
    a one-row sweep. Python's bytecode is cached (in the run's folder) as in an installed package: with
    PYTHONDONTWRITEBYTECODE set and a source checkout, every start would compile roofline again (~0.2 s)."""
    print("\ncli-sweep: python -m roofline sweep ... --out FILE, end to end")
    base = ["--model", "llama-3.1-70b", "--device", "h100", "--devices", "8"]
    grid = ["--batch", "1:4096:+1", "--context", "128:131072:+128"]  # 4,194,304 rows
    with tempfile.TemporaryDirectory() as tmp:
        env = {k: v for k, v in ENV.items() if k != "PYTHONDONTWRITEBYTECODE"}
        env["PYTHONPYCACHEPREFIX"] = os.path.join(tmp, "pycache")
        for fmt, goal in (("csv", 1.0), ("parquet", 3.0)):
            out = os.path.join(tmp, f"grid.{fmt}")
            cmd = [sys.executable, "-m", "roofline", "sweep", *base, *grid, "--out", out]
            _warm(lambda: subprocess.run(cmd, capture_output=True, env=env, check=True))
            start = wall([sys.executable, "-m", "roofline", "sweep", *base, "--out", out], env=env, repeat=3)
            t = wall(cmd, env=env, repeat=2)
            rows = int(subprocess.run(cmd, capture_output=True, env=env, text=True, check=True).stdout.split()[1]
                       .replace(",", ""))
            print(f"  {fmt:8s} {rows:,} rows in {t:5.2f} s: {rows / t / 1e6:5.2f} M rows/s "
                  f"({os.path.getsize(out) / rows:5.1f} B per row on disk); a one-row sweep takes {start:4.2f} s")
            record(f"CLI sweep to {fmt.upper()}", rows / t / 1e6, "M rows/s", goal, False)


def bench_numba():
    """The numba policy: never slower than NumPy for the same call; the first compile off the caller's path."""
    print("\nnumba: the same call in a fresh process, the policy (default) against NumPy alone")
    try:
        import numba  # noqa: F401
    except ImportError:
        print("  numba is not installed")
        return
    code = ("import os, sys, time, numpy as np; sys.path.insert(0, {here!r}); from run import _compiled_step, _grid; "
            "cw, vals, caps, pl = _compiled_step(); b, s = _grid(); n = {n}; "
            "t = time.perf_counter(); cw.evaluate({{'b': b[:n], 's': s[:n]}}, vals, caps, home=pl.home); "
            "t = time.perf_counter() - t; from roofline.engine import dispatch; "
            "tc = time.perf_counter(); dispatch.choose(cw, n, False, True); tc = time.perf_counter() - tc; "
            "print(t, 'numba' in sys.modules, tc)")
    with tempfile.TemporaryDirectory() as tmp:
        env = dict(ENV, ROOFLINE_CACHE_DIR=tmp)
        for n in (20_000, 1_000_000):
            c = code.format(here=str(HERE), n=n)
            run_ = lambda fused: subprocess.run([sys.executable, "-c", c], capture_output=True, text=True, check=True,  # noqa: E731
                                                env=dict(env, ROOFLINE_FUSED=fused)).stdout.split()
            run_("0")
            first = run_("1")  # a kernel never compiled: NumPy now, compiled in another process
            _wait_compiles(tmp)
            t_np, t_po = float("inf"), float("inf")
            chose, t_choose = set(), float("inf")
            for _ in range(9):  # alternated, so that both see the same load
                t_np = min(t_np, float(run_("0")[0]))
                t, numba_loaded, tc = run_("1")
                t_po, t_choose = min(t_po, float(t)), min(t_choose, float(tc))
                chose.add("numba" if numba_loaded == "True" else "NumPy")
            print(f"  {n:>9,} points: NumPy alone {t_np * 1e3:7.1f} ms; policy {t_po * 1e3:7.1f} ms (it ran "
                  f"{' and '.join(sorted(chose))}; its choice {t_choose * 1e3:.2f} ms); the first call of a "
                  f"never-compiled workload {float(first[0]) * 1e3:7.1f} ms")
            if chose == {"NumPy"}:  # the same code as NumPy alone plus the choice: two fresh processes' times part
                ratio = 1.0 + t_choose / t_np  # by ~5 % on this machine, so the choice is timed on its own
                record(f"numba policy against NumPy alone, {n:,} points", ratio, "x the NumPy time", 1.01, True,
                       f"it ran NumPy: NumPy's time plus its choice (fresh processes: {t_po / t_np:.2f} x)")
            else:
                record(f"numba policy against NumPy alone, {n:,} points", t_po / t_np, "x the NumPy time", 1.0, True)
            record(f"first call of a new workload, {n:,} points: added by numba", max(float(first[0]) - t_np, 1e-3),
                   "s", 1.0, True, "at most 1 ms" if float(first[0]) - t_np < 1e-3 else "")


def _compiling(folder: str) -> bool:
    """A kernel of ``folder`` is being compiled: its marker is there, or its process has not exited yet."""
    if any(Path(folder, "fused").glob("*.compiling")):
        return True
    for cmd in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            text = cmd.read_bytes()
        except OSError:
            continue
        if b"roofline.engine.fused" in text and folder.encode() in text:
            return True
    return False


def _wait_compiles(folder: str, limit: float = 120.0) -> None:
    t = time.time()
    while _compiling(folder) and time.time() - t < limit:
        time.sleep(0.5)


def _warm(fn, folder: str | None = None, rounds: int = 6) -> None:
    """Run ``fn`` until it starts no more background compilations (one kernel compiles at a time)."""
    folder = folder or CACHE
    for _ in range(rounds):
        before = sorted(p.name for p in Path(folder, "fused").glob("*.ready"))
        fn()
        _wait_compiles(folder)
        if sorted(p.name for p in Path(folder, "fused").glob("*.ready")) == before:
            return


def bench_peers():
    """A 512-point sweep (32 batches x 16 contexts, Llama-70B decode on 8 x H100) by roofline and, when they are
    installed, by llm-analysis and GenZ asked the same 512 questions one by one."""
    from roofline import llm

    bb, cc = np.arange(1, 33), 256 * np.arange(1, 17)
    print(f"\npeers: a {bb.size * cc.size}-point decode sweep, Llama-70B on 8 x H100")
    llm.decode_sweep("llama-3.1-70b", "h100", bb, cc, device_counts=[8])
    t = best_of(lambda: llm.decode_sweep("llama-3.1-70b", "h100", bb, cc, device_counts=[8]), 5)
    print(f"  roofline llm.decode_sweep: {t * 1e3:8.2f} ms")
    for name, fn in (("llm-analysis", _llm_analysis_sweep), ("GenZ", _genz_sweep)):
        peer = fn(bb, cc)
        if peer is None:
            print(f"  {name} is not installed in this environment: not measured")
            continue
        print(f"  {name} (one call per point): {peer * 1e3:8.1f} ms")
        record(f"512-point sweep against {name}", peer / t, "x faster", 1.0, False)


def _llm_analysis_sweep(bb, cc):
    try:
        from llm_analysis.analysis import infer
    except ImportError:
        return None
    kw = dict(model_name="upstage_Llama-2-70b-instruct-v2", gpu_name="h100-sxm-80gb", dtype_name="w16a16e16",
              tp_size=8, num_tokens_to_generate=1, log_level="ERROR")
    return best_of(lambda: [_answer(infer, batch_size_per_gpu=int(b), seq_len=int(c), **kw) for b in bb for c in cc], 1)


def _answer(fn, **kw):
    """A peer's answer to one question; a refusal (the point does not fit) is an answer too."""
    try:
        return fn(**kw)
    except (AssertionError, ValueError):
        return None


def _genz_sweep(bb, cc):
    try:
        import warnings

        warnings.filterwarnings("ignore")
        from GenZ import decode_moddeling
    except ImportError:
        return None
    kw = dict(model="meta-llama/Llama-3.1-70B", system_name="H100_GPU", bits="bf16", tensor_parallel=8)
    return best_of(lambda: [_answer(decode_moddeling, batch_size=int(b), input_tokens=int(c), **kw) for b in bb
                            for c in cc], 1)


BENCHES = {"percall": bench_percall, "engine": bench_engine, "sweep": bench_sweep, "cores": bench_cores,
           "memory": bench_memory, "cli-sweep": bench_cli_sweep, "numba": bench_numba, "peers": bench_peers,
           "big": bench_big}
DEFAULT = [k for k in BENCHES if k != "big"]


def main(argv: list[str]) -> int:
    global CACHE
    CACHE = tempfile.mkdtemp(prefix="roofline-bench-")
    os.environ["ROOFLINE_CACHE_DIR"] = ENV["ROOFLINE_CACHE_DIR"] = CACHE
    names = argv or DEFAULT
    unknown = [n for n in names if n not in BENCHES]
    if unknown:
        print(f"unknown benchmark {unknown[0]!r}; choose from {', '.join(BENCHES)}", file=sys.stderr)
        return 2
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"roofline benchmarks: {os.cpu_count()} CPUs (load average {load:.1f}), Python {sys.version.split()[0]}, "
          f"NumPy {np.__version__}, {time.strftime('%Y-%m-%d %H:%M')}")
    for name in names:
        BENCHES[name]()
    print("\n| target | measured | target | ratio | met |\n|---|---|---|---|---|")
    for target, val, unit, goal, ratio, met, note in RESULTS:
        if note == "not measured":
            print(f"| {target} | not measured | | | |")
            continue
        print(f"| {target} | {val:,.3g} {unit} | {goal:,.3g} {unit} | {ratio:.2f} | {'yes' if met else 'no'} |")
    if os.environ.get("ROOFLINE_BENCH_JSON"):
        Path(os.environ["ROOFLINE_BENCH_JSON"]).write_text(json.dumps(RESULTS, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
