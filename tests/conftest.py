import os
import sys
import tempfile

import pytest

os.environ.setdefault("MPLBACKEND", "Agg")


def _test_cache_dir() -> str:
    """The tests' compiled-expression and spec cache: never the user's own cache folder, but kept between
    test sessions (``<user cache>/roofline-tests``, mode 0700) so that the fast loop compiles each workload
    once, not once per run. Safe to keep: every cache key covers every source file of the package and the
    bytes of every data file, so an edit is never answered from a stale entry. ``ROOFLINE_TEST_FRESH_CACHE=1``
    gives a session a fresh, empty folder instead (what CI's clean machine has anyway)."""
    if os.environ.get("ROOFLINE_TEST_FRESH_CACHE") == "1":
        return tempfile.mkdtemp(prefix="roofline-test-cache-")
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    path = os.path.join(base, f"roofline-tests-{os.getuid()}")
    os.makedirs(path, mode=0o700, exist_ok=True)
    if (os.stat(path).st_mode & 0o077) or os.stat(path).st_uid != os.getuid():
        return tempfile.mkdtemp(prefix="roofline-test-cache-")  # not ours alone: never share it
    return path


os.environ["ROOFLINE_CACHE_DIR"] = _test_cache_dir()

MINIMAL_SPEC = '''
schema = 1
[device]
key = "toy"
name = "Toy accelerator"
vendor = "Test"
kind = "chip"
year = 2024

[sources.s1]
title = "Toy datasheet"
url = "https://example.invalid/toy"
date = "2024-01"

[compute.bf16]
dense = { value = "100 TFLOP/s", basis = "datasheet", source = "s1" }

[[memory]]
name = "sram"
kind = "sram"
capacity = { value = "1 GB", basis = "datasheet", source = "s1" }
bandwidth = { value = "10 TB/s", basis = "datasheet", source = "s1" }

[[memory]]
name = "dram"
kind = "dram"
capacity = { value = "64 GiB", basis = "datasheet", source = "s1" }
bandwidth = { value = "1 TB/s", basis = "datasheet", source = "s1" }

[[interconnect]]
name = "link"
duplex = "per-direction"
bandwidth = { value = "100 GB/s", basis = "datasheet", source = "s1" }
latency = { value = "1 us", basis = "datasheet", source = "s1" }
domain_size = { value = 8, basis = "datasheet", source = "s1" }
topology = { kind = "switch", basis = "datasheet", source = "s1" }

[power]
tdp = { value = "300 W", basis = "datasheet", source = "s1" }
'''


@pytest.fixture
def minimal_spec_text():
    return MINIMAL_SPEC


@pytest.fixture
def write_spec(tmp_path):
    """Write spec text to a file in a fresh folder and return its path."""

    def _write(text, name="toy.toml"):
        p = tmp_path / name
        p.write_text(text)
        return p

    return _write


# --- the fast loop -------------------------------------------------------------------------------------
# `pytest -m "not slow"` leaves out what starts other processes or compilers: notebooks (a kernel each),
# subprocess runs of the CLI, numba compilation, image files and the whole validation set. CI runs all.
SLOW_FILES = {"test_notebooks.py", "test_fused.py", "test_validation.py"}  # the last: the whole validation set
SLOW_TESTS = {
    "test_second_run_needs_no_sympy_and_no_pint", "test_cache_off", "test_compare_does_not_import_matplotlib",
    "test_no_measurement_beats_its_ideal_bound", "test_cli_validate", "test_plot_command_writes_each_format",
    "test_compare_plot_files", "test_symbolic_and_lambdified_agree", "test_sweep_command_csv_and_parquet",
    "test_dask_arrays_with_the_local_scheduler", "test_python_m_roofline_runs", "test_regime_targets",
    "test_the_estimate_is_never_faster_than_either_bound",
    "test_direct_and_general_agree_on_random_questions",  # ~60 estimates on two paths, compiles on a cold cache
    # the whole validation set, run again through the CLI (6-20 s each)
    "test_every_commands_csv_reads_into_numbers[validate]", "test_validate_ids_are_never_cut",
}


def pytest_collection_modifyitems(config, items):
    for item in items:
        name = getattr(item, "originalname", None) or item.name.split("[")[0]
        if item.path.name in SLOW_FILES or name in SLOW_TESTS or item.name in SLOW_TESTS or "subprocess" in item.keywords:
            item.add_marker(pytest.mark.slow)


@pytest.fixture(autouse=True)
def _close_figures():
    """Close every pyplot figure a test leaves open (each worker process runs hundreds of tests; open
    figures would accumulate and warn)."""
    yield
    plt = sys.modules.get("matplotlib.pyplot")
    if plt is not None:
        plt.close("all")
