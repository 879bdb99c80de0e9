"""The CLI: list, show, gemm; formats; user errors are one line on stderr with exit status 2."""

import json
import subprocess
import sys

import pytest

from roofline.outputs.cli import main


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_list_json_has_key_and_name(capsys):
    code, out, _ = run(capsys, "list", "--format", "json")
    assert code == 0
    rows = json.loads(out)
    keys = {r["key"] for r in rows}
    assert {"h100", "a100"} <= keys
    assert all("name" in r for r in rows)


@pytest.mark.parametrize("fmt", ["table", "markdown", "csv"])
def test_list_formats(capsys, fmt):
    code, out, _ = run(capsys, "list", "--format", fmt)
    assert code == 0 and "h100" in out
    if fmt == "markdown":
        assert out.splitlines()[1].startswith("|")
    if fmt == "csv":
        assert out.splitlines()[0].startswith("key,name")


def test_show_json_fields(capsys):
    code, out, _ = run(capsys, "show", "h100", "--format", "json")
    assert code == 0
    d = json.loads(out)
    assert d["key"] == "h100" and d["vendor"] == "NVIDIA" and d["name"]
    assert d["compute"]["bf16"]["dense_flops_per_s"] == 989.4e12
    assert d["compute"]["bf16"]["sparse_flops_per_s"] == 1978.9e12
    assert [m["name"] for m in d["memory"]] == ["l2", "hbm"]   # fastest first
    hbm = d["memory"][1]
    assert hbm["capacity_bytes"] == 80e9 and hbm["bandwidth_bytes_per_s"] == 3.35e12
    # an estimate gives its nominal value and its range beside it
    assert d["memory"][0]["bandwidth_bytes_per_s_range"][0] < d["memory"][0]["bandwidth_bytes_per_s"]
    assert d["interconnect"][0]["name"] == "nvlink" and d["interconnect"][0]["bandwidth_bytes_per_s"] == 900e9
    assert d["power_w"] == 700


@pytest.mark.parametrize("fmt", ["table", "markdown", "csv"])
def test_show_formats_carry_sources(capsys, fmt):
    code, out, _ = run(capsys, "show", "h100", "--format", fmt)
    assert code == 0
    # people read "3.35 TB/s"; machines (CSV) read the SI number with its unit beside it
    hbm = "3.35 TB/s" if fmt != "csv" else "3350000000000.0"
    assert "memory.hbm.bandwidth" in out and hbm in out and "datasheet" in out


def test_unknown_device_one_line_exit_2(capsys):
    code, out, err = run(capsys, "show", "h1000")
    assert code == 2 and out == ""
    assert err.strip().count("\n") == 0
    assert "unknown device 'h1000'; did you mean 'h100'" in err


def test_gemm_json_fields(capsys):
    code, out, _ = run(capsys, "gemm", "--device", "h100", "--m", "8192", "--n", "8192", "--k", "8192",
                       "--dtype", "bf16", "--format", "json", "--ideal")
    assert code == 0
    d = json.loads(out)
    for key in ("time_s", "flops", "bytes", "arithmetic_intensity", "attainable_flops_per_s", "bound"):
        assert key in d
    assert d["time_s"] == pytest.approx(2 * 8192**3 / 989.4e12)
    assert d["bound"] == "compute"


@pytest.mark.parametrize("fmt", ["table", "markdown", "csv"])
def test_gemm_formats(capsys, fmt):
    code, out, _ = run(capsys, "gemm", "--device", "h100", "--m", "1", "--n", "8192", "--k", "8192", "--format", fmt)
    assert code == 0 and "memory:hbm" in out


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--m", "0", "--n", "1", "--k", "1"], "positive integer"),
        (["--m", "-5", "--n", "1", "--k", "1"], "positive integer"),
        (["--m", "1.5", "--n", "1", "--k", "1"], "positive integer"),
        (["--m", "x", "--n", "1", "--k", "1"], "positive integer"),
        (["--m", "1", "--n", "1", "--k", "1", "--dtype", "fp5"], "unknown data type 'fp5'"),
        (["--m", "1", "--n", "1", "--k", "1", "--dtype", "fp4"], "no published fp4 peak"),
        (["--m", "1", "--n", "1", "--k", "1", "--level", "l3"], "unknown memory level"),
        (["--m", "1", "--n", "200000", "--k", "200000"], "needs"),
    ],
)
def test_gemm_user_errors(capsys, argv, message):
    code, out, err = run(capsys, "gemm", "--device", "h100", *argv)
    assert code == 2
    assert message in err
    assert len(err.strip().splitlines()) == 1
    assert "Traceback" not in err


def test_bad_spec_file_is_a_user_error(capsys, write_spec, minimal_spec_text):
    p = write_spec(minimal_spec_text.replace('value = "1 GB"', 'value = "-1 GB"'))
    code, _, err = run(capsys, "list", "--spec", str(p))
    assert code == 2 and str(p) in err and "memory.sram.capacity" in err


def test_spec_option_adds_a_device(capsys, write_spec, minimal_spec_text):
    p = write_spec(minimal_spec_text)
    code, out, _ = run(capsys, "show", "toy", "--spec", str(p), "--format", "json")
    assert code == 0 and json.loads(out)["key"] == "toy"


def test_python_dash_m_entry_point():
    r = subprocess.run([sys.executable, "-m", "roofline", "show", "nope-device"], capture_output=True, text=True)
    assert r.returncode == 2
    assert r.stderr.strip().startswith("roofline: error: unknown device")
    assert "Traceback" not in r.stderr


# ------------------------------------------------------------------------------------------------------
# argument types and the terminal (issue 12): laws over every input
# ------------------------------------------------------------------------------------------------------
import argparse  # noqa: E402

from hypothesis import given  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from roofline.outputs.cli.args import MAX_GRID_VALUES, MAX_INT, int_grid, positive_int  # noqa: E402
from roofline.outputs.format import escape_controls, for_terminal  # noqa: E402


@given(st.integers(min_value=-10, max_value=2**60))
def test_positive_int_takes_exactly_the_whole_numbers_up_to_2_53(n):
    if 1 <= n <= MAX_INT:
        assert positive_int(str(n)) == n
    else:
        with pytest.raises(argparse.ArgumentTypeError):
            positive_int(str(n))


@given(st.floats(allow_nan=True, allow_infinity=True))
def test_positive_int_never_truncates_a_float(x):
    if x == x and abs(x) != float("inf") and x.is_integer() and 1 <= x <= MAX_INT:
        assert positive_int(repr(x)) == int(x)
    else:
        with pytest.raises(argparse.ArgumentTypeError):
            positive_int(repr(x))


@given(st.text(max_size=30))
def test_int_grid_returns_positive_bounded_values_or_refuses(text):
    try:
        vals = int_grid(text)
    except argparse.ArgumentTypeError:
        return
    assert 0 < len(vals) <= MAX_GRID_VALUES and all(isinstance(v, int) and 1 <= v <= MAX_INT for v in vals)


@given(st.text(), st.sampled_from(["ascii", "latin-1", "cp1252", "utf-8"]))
def test_for_terminal_prints_in_any_encoding_without_control_characters(text, encoding):
    shown = for_terminal(text, encoding)
    shown.encode(encoding)                                     # never a UnicodeEncodeError
    assert all(c.isprintable() or c in "\n\t" for c in shown)  # no escape sequence reaches the terminal


def test_escape_controls_spells_escapes():
    assert escape_controls("ok\x1b[2Jred\u202e\x9b") == "ok\\x1b[2Jred\\u202e\\x9b"
    assert for_terminal("8×8 GEMM — 1.2 µs, ∞", "ascii") == "8x8 GEMM - 1.2 us, inf"
