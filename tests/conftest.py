import os
import tempfile

import pytest

os.environ.setdefault("MPLBACKEND", "Agg")
# each test session gets its own compiled-expression and spec cache (never the user's)
os.environ["ROOFLINE_CACHE_DIR"] = tempfile.mkdtemp(prefix="roofline-test-cache-")

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
