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


def _names(folder) -> set:
    return {p.name for p in folder.iterdir()}


def test_a_new_marker_removes_the_markers_of_other_code_and_keeps_the_newest_of_this(tmp_path):
    """Markers do not pile up: those of another version of the code (their compiled workloads' keys are dead,
    and a marker of the old unversioned form is one of them) go when a new one is made, and of this version
    only the newest ``most`` stay. Nothing else in the folder is touched; an old claims folder (a comparison
    that was killed) goes, a fresh one (a comparison running now) stays."""
    version, other = "a" * 16, "b" * 16
    for i in range(5):  # this version, oldest first
        (tmp_path / f"compare-{version}-{i:032x}.built").touch()
        os.utime(tmp_path / f"compare-{version}-{i:032x}.built", (1000 + i, 1000 + i))
    (tmp_path / f"compare-{other}-{0:032x}.built").touch()
    (tmp_path / f"compare-{9:032x}.built").touch()  # the unversioned form of earlier releases
    (tmp_path / "0123456789abcdef0123456789abcdef.json").write_text("{}")  # a compiled workload
    (tmp_path / "compare-notes.txt").write_text("not a marker")
    (tmp_path / "compare-claims-old").mkdir()
    os.utime(tmp_path / "compare-claims-old", (1, 1))
    (tmp_path / "compare-claims-now").mkdir()
    new = tmp_path / f"compare-{version}-{99:032x}.built"
    new.touch()
    cmp._prune_markers(new, most=3)
    assert _names(tmp_path) == {new.name, f"compare-{version}-{4:032x}.built", f"compare-{version}-{3:032x}.built",
                                "0123456789abcdef0123456789abcdef.json", "compare-notes.txt", "compare-claims-now"}


def test_the_marker_names_the_version_of_the_code(tmp_path, monkeypatch):
    from roofline import _paths
    from roofline.hardware.library import get_device

    if cmp._cores() < 2 or not hasattr(os, "fork"):
        pytest.skip("no marker without fork and two cores")
    monkeypatch.setenv("ROOFLINE_CACHE_DIR", str(tmp_path / "cache"))
    marker = cmp._built_marker([get_device("h100")], "question")
    assert marker.name.startswith(f"compare-{_paths.package_digest()[:16]}-") and marker.name.endswith(".built")
    assert marker.name.count("-") == 2


def test_no_blas_threads_only_before_numpy_loads_and_never_over_the_user(monkeypatch):
    """OpenBLAS sizes its pool once, when NumPy loads: the variable is set only before that, and a value the
    user gave stays."""
    import sys

    import numpy  # noqa: F401 - loaded, as in a process that has used it

    from roofline import _paths

    monkeypatch.delenv("OPENBLAS_NUM_THREADS", raising=False)
    _paths.no_blas_threads()  # NumPy is loaded in this process: too late, nothing set
    assert "OPENBLAS_NUM_THREADS" not in os.environ
    monkeypatch.delitem(sys.modules, "numpy")
    _paths.no_blas_threads()
    assert os.environ["OPENBLAS_NUM_THREADS"] == "1"
    monkeypatch.setenv("OPENBLAS_NUM_THREADS", "8")
    _paths.no_blas_threads()
    assert os.environ["OPENBLAS_NUM_THREADS"] == "8"


@pytest.mark.parametrize("argv, asks", [(["compare", "wse3", "h100"], True), (["list"], True),
                                         (["calibrate"], False)])
def test_every_command_but_calibrate_asks_for_no_blas_threads(monkeypatch, capsys, argv, asks):
    import importlib

    from roofline import _paths

    cli = importlib.import_module("roofline.outputs.cli.main")
    asked = []
    monkeypatch.setattr(_paths, "no_blas_threads", lambda: asked.append(1))
    monkeypatch.setattr(cli, "command", lambda name: type("Stub", (), {"run": staticmethod(lambda args: "")}))
    assert cli.main(argv) == 0
    assert asked == ([1] if asks else [])


@pytest.mark.slow  # imports SymPy and NumPy in a fresh worker (~1 s)
def test_loading_before_the_fork_leaves_an_unknown_model_to_the_comparison():
    """What the builders share is loaded once before the fork; a model that cannot be read is not an error
    there (the comparison itself says why, in one line)."""
    import sys

    cmp._prepare(["llama-3.1-8b", "no-such-model"])
    assert "numpy" in sys.modules and "roofline.llm.inference" in sys.modules
