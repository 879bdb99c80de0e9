"""``roofline compare wse3 h100`` with an empty cache, this checkout against another, alternately in one loop.

    python benchmarks/compare_cold.py --against /path/to/other/checkout -n 12

Each round runs, for each checkout in turn (the order flips every round, so a burst of load hits both alike),
the command once with a fresh ``ROOFLINE_CACHE_DIR`` and then warm. It prints the best and the median of:
the cold wall time, the CPU time of every process of the cold command (the command and the builder it
forks), the CPU time of the command's own process (its critical path on an idle 2-core machine: the builder
works beside it), and the warm wall and CPU time. On a shared machine the wall times move with the others'
load; the CPU times much less. ``percall.py`` measures the same command once, against its target.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

#: runs ``python -m roofline`` and writes the CPU time of its own process (not the builder it forks) on stderr
_PROBE = ("import atexit, os, resource, runpy, sys\n"
          "pid = os.getpid()\n"
          "def cpu():\n"
          "    if os.getpid() == pid:\n"
          "        r = resource.getrusage(resource.RUSAGE_SELF)\n"
          "        os.write(2, ('SELF %.4f\\n' % (r.ru_utime + r.ru_stime)).encode())\n"
          "atexit.register(cpu)\n"
          "sys.argv = ['roofline'] + sys.argv[1:]\n"
          "runpy.run_module('roofline', run_name='__main__', alter_sys=True)\n")


def run_once(root: Path, cache: str, args: list[str]) -> tuple[float, float, float]:
    """One run of ``roofline <args>`` from checkout ``root`` with cache folder ``cache``.

    Parameters
    ----------
    root : Path
        The checkout whose ``roofline`` runs.
    cache : str
        Its ``ROOFLINE_CACHE_DIR``.
    args : list of str
        The command's arguments.

    Returns
    -------
    tuple of float
        Wall time, CPU time of every process, CPU time of the command's own process [s].
    """
    env = dict(os.environ, PYTHONPATH=str(root), ROOFLINE_CACHE_DIR=cache)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    before, t = resource.getrusage(resource.RUSAGE_CHILDREN), time.perf_counter()
    done = subprocess.run([sys.executable, "-c", _PROBE, *args], env=env, cwd=tempfile.gettempdir(), check=True,
                          stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    wall, after = time.perf_counter() - t, resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
    own = float([line for line in done.stderr.splitlines() if line.startswith("SELF ")][-1].split()[1])
    return wall, cpu, own


def main(argv: list[str] | None = None) -> int:
    """Measure, alternately, this checkout and ``--against``; print best and median of each figure.

    Parameters
    ----------
    argv : list of str, optional
        ``--against PATH``, ``-n ROUNDS`` and the command's arguments after ``--`` (default ``compare wse3 h100``).

    Returns
    -------
    int
        0.
    """
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--against", type=Path, help="another checkout (e.g. main's worktree)")
    p.add_argument("-n", type=int, default=6, help="rounds (default 6)")
    p.add_argument("command", nargs="*", default=["compare", "wse3", "h100"])
    a = p.parse_args(argv)
    trees = {"this": ROOT, **({"against": a.against.resolve()} if a.against else {})}
    figures = {k: {f: [] for f in ("cold", "cold_cpu", "cold_own_cpu", "warm", "warm_cpu")} for k in trees}
    for i in range(a.n):
        for name in (list(trees) if i % 2 == 0 else list(trees)[::-1]):
            cache = tempfile.mkdtemp(prefix="roofline-bench-")
            try:
                got = figures[name]
                wall, cpu, own = run_once(trees[name], cache, a.command)
                got["cold"].append(wall), got["cold_cpu"].append(cpu), got["cold_own_cpu"].append(own)
                warm = min(run_once(trees[name], cache, a.command)[:2] for _ in range(3))
                got["warm"].append(warm[0]), got["warm_cpu"].append(warm[1])
            finally:
                shutil.rmtree(cache, ignore_errors=True)
    print(f"load average after: {os.getloadavg()[0]:.2f}; figures in s, best / median of {a.n}")
    for name, got in figures.items():
        print(f"{name:8s}", "  ".join(f"{f} {min(v):.3f} / {statistics.median(v):.3f}" for f, v in got.items()),
              f"({trees[name]})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
