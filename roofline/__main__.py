"""``python -m roofline``: the command line (:func:`roofline.outputs.cli.main`), then :func:`run`'s quick exit."""

import atexit
import os
import sys
import threading

from .outputs.cli import main

__all__ = ["run"]


def _other_threads(threads=None) -> bool:
    """True while a thread runs other than this one and the idle threads kept by sweeps (of ``threads``,
    default every thread of the process)."""
    chunks = sys.modules.get("roofline.sweep.chunks")
    kept = getattr(chunks, "_THREAD_PREFIX", None)
    me = threading.current_thread()
    threads = threading.enumerate() if threads is None else threads
    return any(t is not me and not (kept and t.name.startswith(kept)) for t in threads)


def run() -> None:
    """Run the command line and exit with its status, skipping the interpreter's teardown.

    Freeing every module and object at exit costs ~0.25 s of CPU after a first run imported SymPy (to build its
    workloads) and ~30 ms after a warm one, and nothing of it is needed: the exit handlers still run and
    standard output and error are flushed. With another thread still running, the ordinary exit runs instead
    (it waits for that thread); the threads that sweeps keep (:func:`roofline.sweep.chunks.pipeline`) are idle
    once a command returns, so they do not count: ending them the ordinary way cost ~0.2 s of CPU after a
    sweep that loaded numba.
    """
    code = main()
    if _other_threads():
        sys.exit(code)
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # a closed pipe (`roofline ... | head`) or stream
            pass
    os._exit(code if isinstance(code, int) else 1)


if __name__ == "__main__":
    run()
