"""``python -m roofline`` skips the interpreter's teardown (:func:`roofline.__main__.run`): its output is still
all there, flushed, with the command's exit status and the exit handlers run."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

HANDLER = ("import atexit, sys, runpy\n"
           "atexit.register(lambda: print('handler ran', file=sys.stderr))\n"
           "sys.argv = ['roofline'] + sys.argv[1:]\n"
           "runpy.run_module('roofline', run_name='__main__', alter_sys=True)\n")


def _run(*args, code=None):
    cmd = [sys.executable, "-c", code, *args] if code else [sys.executable, "-m", "roofline", *args]
    return subprocess.run(cmd, capture_output=True, text=True, env=dict(os.environ, ROOFLINE_CACHE="0"))


@pytest.mark.slow  # starts Python three times
def test_the_quick_exit_keeps_the_output_the_status_and_the_exit_handlers():
    listed = _run("list", "--format", "csv")
    assert listed.returncode == 0 and listed.stdout.count("\n") > 20 and listed.stdout.endswith("\n")
    bad = _run("compare", "wse3", "no-such-device")
    assert bad.returncode == 2 and bad.stdout == "" and bad.stderr.startswith("roofline: error: unknown device")
    handled = _run("--version", code=HANDLER)
    assert handled.returncode == 0 and handled.stdout.strip() and "handler ran" in handled.stderr


def test_the_threads_sweeps_keep_do_not_hold_the_quick_exit_but_any_other_thread_does():
    import threading

    from roofline.__main__ import _other_threads
    from roofline.sweep.chunks import pipeline

    pipeline(range(4), lambda t: t, 2, consume=lambda r: None)  # starts (and keeps) two idle sweep threads
    kept = [t for t in threading.enumerate() if t.name.startswith("roofline-sweep")]
    assert len(kept) >= 2
    assert not _other_threads([threading.current_thread(), *kept])
    stop = threading.Event()
    other = threading.Thread(target=stop.wait)
    other.start()
    try:
        assert _other_threads([threading.current_thread(), *kept, other])
        assert other in threading.enumerate() and _other_threads()
    finally:
        stop.set()
        other.join()
