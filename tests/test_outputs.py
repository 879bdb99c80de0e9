"""The outputs room: one definition of main memory and of "has ranges", balance figures and their ranges by
hand, roofline points, the memory-wall fit, and the shape of the command line (one module per command)."""

import argparse
import ast
import importlib
import inspect
import json
import pkgutil
import shlex
from pathlib import Path

import pytest

import roofline
from roofline.outputs.cli import build_parser, main
from roofline.outputs.compare import figure_rows


def _json(capsys, *argv):
    assert main(list(argv)) == 0
    return json.loads(capsys.readouterr().out)


def _main_memory_row(rows):
    return next(r for r in rows if r["quantity"] == "main memory")


# ---------------------------------------------------------------------------------------------------
# main memory: one rule, the same in `list` and `compare`
# ---------------------------------------------------------------------------------------------------
def test_list_and_compare_agree_on_every_devices_main_memory(capsys):
    listed = {r["key"]: r["main_memory"] for r in _json(capsys, "list", "--format", "json")}
    compared = _main_memory_row(figure_rows(roofline.list_devices()))["values"]
    assert listed.keys() == compared.keys()
    for key, level in listed.items():
        assert compared[key]["level"] == level, key


def test_dojo_main_memory_is_its_sram_in_list_and_compare(capsys):
    # A Dojo training tile is 25 D1 dies, each 354 nodes x 1.25 MB of SRAM: 25 x 442.5 MB = 11.06 GB on the
    # tile (Hot Chips 34: "11 GB"). Its HBM sits in interface processors on the tile's edge, off the tile.
    # Main memory is the fastest level that is not a cache: the SRAM, in `list` as in `compare`.
    dojo = next(r for r in _json(capsys, "list", "--format", "json") if r["key"] == "dojo")
    assert dojo["main_memory"] == "sram"
    assert dojo["main_memory_capacity_bytes"] == pytest.approx(25 * 354 * 1.25e6, rel=1e-9)
    res = _json(capsys, "compare", "dojo", "h100", "--model", "llama-3.1-8b", "--format", "json")
    main_row = _main_memory_row(res["specs"])["values"]
    assert main_row["dojo"]["level"] == "sram" and main_row["h100"]["level"] == "hbm"


# ---------------------------------------------------------------------------------------------------
# balance figures with ranges, by hand, on two toy devices
# ---------------------------------------------------------------------------------------------------
@pytest.fixture
def toys(write_spec, minimal_spec_text):
    """``toy`` (datasheet figures only) and ``toy-est``: BF16 80-120 TFLOP/s (nominal 100), SRAM 5-20 TB/s
    (nominal 10), power 200-400 W (nominal 300), a link of 100-200 GB/s both directions (nominal 150)."""
    est = (minimal_spec_text
           .replace('key = "toy"', 'key = "toy-est"')
           .replace('dense = { value = "100 TFLOP/s", basis = "datasheet"',
                    'dense = { value = "100 TFLOP/s", low = "80 TFLOP/s", high = "120 TFLOP/s", basis = "estimate", note = "toy estimate"')
           .replace('bandwidth = { value = "10 TB/s", basis = "datasheet"',
                    'bandwidth = { value = "10 TB/s", low = "5 TB/s", high = "20 TB/s", basis = "estimate", note = "toy estimate"')
           .replace('tdp = { value = "300 W", basis = "datasheet"',
                    'tdp = { value = "300 W", low = "200 W", high = "400 W", basis = "estimate", note = "toy estimate"')
           .replace('duplex = "per-direction"\nbandwidth = { value = "100 GB/s", basis = "datasheet"',
                    'duplex = "bidirectional-total"\n'
                    'bandwidth = { value = "150 GB/s", low = "100 GB/s", high = "200 GB/s", basis = "estimate", note = "toy estimate"'))
    folder = write_spec(minimal_spec_text).parent
    write_spec(est, name="toy-est.toml")
    return [roofline.get_device(k, [str(folder)]) for k in ("toy-est", "toy")], str(folder)


def _values(rows, quantity):
    return next(r for r in rows if r["quantity"] == quantity)["values"]


def test_ridge_point_bytes_per_flop_and_efficiency_ranges_by_hand(toys):
    devs, _ = toys
    rows = figure_rows(devs, "bf16")
    ridge = _values(rows, "ridge point (BF16, main)")
    # main memory is the SRAM: 100 TFLOP/s / 10 TB/s = 10 FLOP/B; lowest peak over highest bandwidth
    # 80/20 = 4, highest over lowest 120/5 = 24 (not 80/5 and 120/20: the ends pair crosswise)
    assert ridge["toy-est"]["value"] == pytest.approx(10.0)
    assert ridge["toy-est"]["range"] == pytest.approx([4.0, 24.0])
    bpf = _values(rows, "bytes per FLOP (main)")
    assert bpf["toy-est"]["value"] == pytest.approx(0.1)
    assert bpf["toy-est"]["range"] == pytest.approx([5 / 120, 20 / 80])
    eff = _values(rows, "BF16 per watt")
    assert eff["toy-est"]["value"] == pytest.approx(100e12 / 300)
    assert eff["toy-est"]["range"] == pytest.approx([80e12 / 400, 120e12 / 200])
    link = _values(rows, "link to other devices")
    # a total of both directions: half of it each way, 75 GB/s (50-100)
    assert link["toy-est"]["value"] == pytest.approx(75e9)
    assert link["toy-est"]["range"] == pytest.approx([50e9, 100e9])
    # the datasheet device: 100/10 = 10 FLOP/B, 1/3 TFLOP/s per W, 100 GB/s per direction, no ranges
    assert ridge["toy"] == {"value": pytest.approx(10.0), "unit": "FLOP/B"}
    assert eff["toy"] == {"value": pytest.approx(100e12 / 300), "unit": "FLOP/s/W"}
    assert "range" not in link["toy"] and link["toy"]["value"] == pytest.approx(100e9)


def test_estimate_is_has_ranges_in_list_and_compare(toys, capsys):
    _, folder = toys
    listed = {r["key"]: r["estimate"] for r in _json(capsys, "list", "--spec", folder, "--format", "json")}
    assert listed["toy-est"] is True and listed["toy"] is False
    res = _json(capsys, "compare", "toy-est", "toy", "--spec", folder, "--model", "llama-2-7b", "--format", "json")
    assert [d["estimate"] for d in res["devices"]] == [True, False]


# ---------------------------------------------------------------------------------------------------
# roofline points and the memory-wall fit
# ---------------------------------------------------------------------------------------------------
def test_roofline_points_of_kernels_and_decode_by_hand():
    from roofline.outputs.report import roofline_points

    h100 = roofline.get_device("h100")
    pts = {p["label"]: p for p in roofline_points([h100], "bf16", models=["llama-3.1-8b"])}
    gemm = pts["GEMM 8192³ on h100"]
    # 2 x 8192^3 FLOP over A, B and C once each, 3 x 8192^2 x 2 B: 8192 / 3 = 2730.7 FLOP/B, above the
    # ridge point (989.4 / 3.35 = 295 FLOP/B), so it runs at the BF16 peak
    assert gemm["intensity"] == pytest.approx(8192 / 3)
    assert gemm["flops_per_s"] == pytest.approx(989.4e12)
    # GEMV: 2 x 8192^2 FLOP over the 8192^2 matrix and two 8192 vectors, 2 B each: about 1 FLOP/B, HBM-bound
    gemv = pts["GEMV 8192² on h100"]
    assert gemv["intensity"] == pytest.approx(8192 / (8192 + 2))
    assert gemv["flops_per_s"] == pytest.approx(3.35e12 * 8192 / (8192 + 2))
    # batch-1 BF16 decode reads every weight once for 2 FLOP per 2-byte weight: about 1 FLOP/B, and so
    # about 1 FLOP/B x 3.35 TB/s in ideal mode
    dec = next(p for p in pts.values() if p.get("phase") == "decode")
    assert dec["intensity"] == pytest.approx(1.0, rel=0.1)
    assert dec["flops_per_s"] == pytest.approx(3.35e12, rel=0.1)
    assert dec["bound"] == "memory:hbm"


def test_pending_formulas_by_hand():
    from roofline.formulas import achieved_performance, arithmetic_intensity

    assert arithmetic_intensity(2 * 4096**3, 3 * 4096**2 * 2) == pytest.approx(4096 / 3)
    assert achieved_performance(1e12, 0.5) == 2e12


def test_roofline_chart_marks_the_ridge_point():
    from roofline.outputs import plot

    ax = plot.roofline_chart(["h100"], levels=["hbm"]).axes[0]
    marks = [line.get_xydata()[0] for line in ax.lines if line.get_marker() == "o"]
    # H100 SXM BF16 dense 989.4 TFLOP/s over HBM3 3.35 TB/s: 295.3 FLOP/B
    assert len(marks) == 1
    assert marks[0] == pytest.approx([989.4 / 3.35, 989.4e12])


def test_memory_wall_fit_through_values_tripling_every_two_years(tmp_path):
    from roofline.outputs import plot

    trends = tmp_path / "wall.toml"
    trends.write_text('schema = 1\n[reference]\ncompute_growth_per_2y = 3.0\n' + "".join(
        f'[[point]]\ndevice = "d{i}"\nyear = {2016 + 2 * i}\npeak_flops = "{3**i} TFLOP/s"\n' for i in range(3)))
    ax = plot.memory_wall_chart(str(trends)).axes[0]
    fit = next(line for line in ax.lines if line.get_label().startswith("peak compute"))
    assert "fitted 3.00× / 2 yr" in fit.get_label() and "Gholami et al.: 3.0×" in fit.get_label()
    t, y = fit.get_data()
    # 1, 3, 9 at 2016, 2018, 2020: the line passes through every point
    assert (t[0], t[-1]) == (2016, 2020)
    assert y[0] == pytest.approx(1.0) and y[-1] == pytest.approx(9.0)


# ---------------------------------------------------------------------------------------------------
# the command line: one module per command, each with an example that parses
# ---------------------------------------------------------------------------------------------------
def _subparsers(parser, prefix=()):
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield prefix + (name,), sub
                yield from _subparsers(sub, prefix + (name,))


def test_every_command_is_one_module_with_register_and_run():
    from roofline.outputs.cli.commands import COMMANDS

    names = [c.NAME for c in COMMANDS]
    assert names == ["list", "show", "gemm", "llm", "throughput", "compare", "sweep", "plot", "report", "validate",
                     "calibrate", "models"]
    for c in COMMANDS:
        assert callable(c.register) and callable(c.run)
        assert c.__name__.rpartition(".")[2] == c.NAME


def test_every_command_has_an_example_that_parses():
    parser = build_parser()
    for path, sub in _subparsers(parser):
        if path == ("plot",):
            continue  # its kinds carry their own examples
        assert sub.epilog and sub.epilog.startswith("example:"), path
        argv = shlex.split(sub.epilog.splitlines()[1])
        assert argv[0] == "roofline" and argv[1:1 + len(path)] == list(path)
        args = parser.parse_args(argv[1:])
        assert args.command == path[0]


def test_frontier_device_count_prefix():
    from roofline.outputs.cli.commands.plot import _count_and_device

    assert _count_and_device("8xh100") == (8, "h100")
    assert _count_and_device("8xmi300x") == (8, "mi300x")   # a key that ends in x keeps it
    assert _count_and_device("wse3") == (None, "wse3")


def test_term_name_at_the_edge():
    from roofline.outputs.format import term_name

    assert term_name("memory:hbm") == "hbm" and term_name("interconnect:system_io") == "system_io"
    assert term_name("compute") == "compute" and term_name("not a term") == "not a term"


# ---------------------------------------------------------------------------------------------------
# the room's own rules: numpydoc on every public function, no function over 60 lines
# ---------------------------------------------------------------------------------------------------
_ROOM = Path(roofline.__file__).parent / "outputs"


def _room_modules():
    from roofline import outputs

    for info in pkgutil.walk_packages(outputs.__path__, "roofline.outputs."):
        yield importlib.import_module(info.name)


def test_every_public_function_has_parameters_and_returns():
    missing = []
    for mod in _room_modules():
        for name, fn in inspect.getmembers(mod, inspect.isfunction):
            if name.startswith("_") or fn.__module__ != mod.__name__:
                continue
            doc = inspect.getdoc(fn) or ""
            takes = bool(inspect.signature(fn).parameters)
            if (takes and "Parameters\n----------" not in doc) or "Returns\n-------" not in doc:
                missing.append(f"{mod.__name__}.{name}")
    assert missing == []


def test_no_function_over_60_lines():
    long = []
    for p in _ROOM.rglob("*.py"):
        for node in ast.walk(ast.parse(p.read_text())):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.end_lineno - node.lineno + 1 > 60:
                long.append(f"{p.name}:{node.lineno} {node.name}")
    assert long == []
