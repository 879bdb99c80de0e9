"""A warm ``roofline llm`` stays light (issue 13: the command's target is 150 ms of wall time, and NumPy's import
alone is most of that): with its workloads in the disk cache it imports none of NumPy, pandas, SymPy,
matplotlib, pint or numba. Not timed: what is imported is the law; how long it takes is a benchmark's
business (``benchmarks/percall.py``)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from roofline.outputs.cli.commands import BY_NAME
from roofline.outputs.cli.parser import build_parser

HEAVY = ("numpy", "pandas", "sympy", "matplotlib", "pint", "numba")

#: runs roofline's CLI as ``python -m roofline`` would, then names the heavy packages that were imported
DRIVER = """
import contextlib, io, json, sys
from roofline.outputs.cli import main
with contextlib.redirect_stdout(io.StringIO()) as out:
    rc = main(sys.argv[1:])
print(json.dumps({"rc": rc, "out": out.getvalue(),
                  "heavy": sorted(m for m in %r if m in sys.modules)}))
""" % (HEAVY,)

COMMANDS = [
    ["llm", "-m", "llama-3.1-70b", "-d", "h100"],
    ["llm", "-m", "llama-3.1-8b", "-d", "h100", "--format", "json", "--price", "2.5"],
    ["llm", "-m", "llama-3.1-70b", "-d", "h100", "--devices", "8", "--tp", "4", "--pp", "2", "-f", "csv"],
]


def _run(argv: list[str]) -> dict:
    proc = subprocess.run([sys.executable, "-c", DRIVER, *argv], capture_output=True, text=True, check=True,
                          env=dict(os.environ))
    return json.loads(proc.stdout)


@pytest.mark.slow  # two interpreters per command; the first may compile the workloads (seconds, cold cache)
@pytest.mark.parametrize("argv", COMMANDS, ids=lambda a: " ".join(a[1:5]))
def test_warm_llm_command_imports_no_heavy_package(argv):
    first = _run(argv)      # fills the disk cache when it is empty (SymPy may load here)
    warm = _run(argv)
    assert warm["rc"] == 0 and warm["heavy"] == []
    assert warm["out"] == first["out"]  # the same text, however it was reached
    if "json" in argv:
        assert json.loads(warm["out"])["model"] == "llama-3.1-8b"


@pytest.mark.parametrize("name", sorted(BY_NAME))
def test_one_command_parser_equals_the_full_one(name):
    # main() builds only the parser of the command it runs: that parser must be the one the full parser holds
    full = build_parser()._subparsers._group_actions[0].choices[name]
    alone = build_parser(name)._subparsers._group_actions[0].choices
    assert list(alone) == [name]
    assert alone[name].format_help() == full.format_help()


def test_compiled_code_is_kept_signed_and_a_tampered_entry_is_compiled_again(tmp_path, monkeypatch):
    # a warm command reads the scalar evaluator's code instead of compiling its source again; an entry that
    # is not the one this folder's key signed is never run
    from roofline.engine import codecache

    monkeypatch.setenv("ROOFLINE_CACHE_DIR", str(tmp_path))
    source = "def point(x):\n    return 2.0 * x + 1.0\n"
    first = codecache.cached_code(source, "<test>")
    (entry,) = tmp_path.glob("code-*.bin")
    again = codecache.cached_code(source, "<test>")
    assert again == first and again is not first  # read back, not the same object
    ns: dict = {}
    exec(again, ns)
    assert ns["point"](3.0) == 7.0
    tampered = bytearray(entry.read_bytes())
    tampered[-1] ^= 1
    entry.write_bytes(bytes(tampered))
    assert codecache.cached_code(source, "<test>") == first  # compiled again, the entry rewritten
    assert entry.read_bytes() != bytes(tampered)
    assert codecache.cached_code("def point(x):\n    return x\n", "<test>") != first  # another source
