"""``roofline compare`` with a cold cache builds the workloads of the devices after the first in forked
processes on the other cores; the comparison itself is then computed in the parent from the cache, so it is
the comparison built in one process, to the last digit. A marker in the private cache folder keeps a warm
run from forking."""

from __future__ import annotations

import json
import os

import pytest

from roofline.engine import cache
from roofline.outputs import compare as cmp

QUESTION = dict(devices=["wse3", "h100"], models=["llama-3.1-8b"], batch=2, context=1024)


@pytest.mark.slow  # builds the workloads of two devices twice with an empty cache (~10 s)
@pytest.mark.skipif(not hasattr(os, "fork") or cmp._cores() < 2, reason="needs fork and two cores")
def test_a_comparison_built_side_by_side_is_the_one_built_in_one_process(tmp_path, monkeypatch):
    monkeypatch.setenv("ROOFLINE_CACHE_DIR", str(tmp_path / "cache"))
    forks, real = [], os.fork
    monkeypatch.setattr(os, "fork", lambda: forks.append(1) or real())
    cache.clear_memory()
    side = cmp.compare(**QUESTION, fork=True)
    assert forks == [1] and len(list((tmp_path / "cache").glob("compare-*.built"))) == 1
    cache.clear_memory()
    monkeypatch.setenv("ROOFLINE_CACHE", "0")  # nothing from disk: every workload built here
    here = cmp.compare(**QUESTION)
    assert json.dumps(side, sort_keys=True) == json.dumps(here, sort_keys=True)
    monkeypatch.delenv("ROOFLINE_CACHE")
    cache.clear_memory()
    forks.clear()
    again = cmp.compare(**QUESTION, fork=True)  # warm: the marker is there, nothing forks
    assert forks == [] and json.dumps(again, sort_keys=True) == json.dumps(side, sort_keys=True)
    cache.clear_memory()


def test_no_marker_and_no_fork_without_the_disk_cache(monkeypatch):
    monkeypatch.setenv("ROOFLINE_CACHE", "0")
    assert cmp._built_marker([], "question") is None
