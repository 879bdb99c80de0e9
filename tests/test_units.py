"""The unit parser: decimal vs binary prefixes, bits vs bytes, dimensions (issue 2)."""

import pytest

from roofline.units import UnitError, parse_quantity


@pytest.mark.parametrize(
    "text, dimension, expected",
    [
        ("3.35 TB/s", "bytes_per_s", 3.35e12),          # decimal: 1 TB = 10^12 B
        ("44 GB", "bytes", 44e9),
        ("80 GiB", "bytes", 80 * 2**30),                  # binary: 1 GiB = 2^30 B
        ("48 KiB", "bytes", 48 * 1024),
        ("50 MB", "bytes", 50e6),
        ("214 Pb/s", "bytes_per_s", 214e15 / 8),           # bits: 214 Pb/s = 26.75 PB/s
        ("1.2 Tb/s", "bytes_per_s", 150e9),               # 12 x 100 GbE = 150 GB/s
        ("989.4 TFLOP/s", "flops", 989.4e12),
        ("1979 TOPS", "flops", 1979e12),
        ("9 PFLOPS", "flops", 9e15),
        ("700 W", "watts", 700.0),
        ("23 kW", "watts", 23e3),
        ("1.5 us", "seconds", 1.5e-6),
        ("1.5 µs", "seconds", 1.5e-6),
        ("2 ns", "seconds", 2e-9),
        ("1.1 GHz", "hertz", 1.1e9),
        ("3,350 GB/s", "bytes_per_s", 3.35e12),
        (900000, "count", 900000.0),
    ],
)
def test_parse_quantity(text, dimension, expected):
    assert parse_quantity(text, dimension) == pytest.approx(expected, rel=1e-12)


def test_214_petabits_is_26_75_petabytes():
    assert parse_quantity("214 Pb/s", "bytes_per_s") == pytest.approx(26.75e15)


def test_gigabyte_and_gibibyte_differ_by_7_4_percent():
    # the pitfall: converting datasheet GB/s with 2^30 makes bandwidth 7.4 % optimistic
    gib = parse_quantity("1 GiB/s", "bytes_per_s")
    gb = parse_quantity("1 GB/s", "bytes_per_s")
    assert gib / gb == pytest.approx(1.0737, abs=1e-4)


def test_wrong_dimension_is_an_error():
    with pytest.raises(UnitError, match="expected"):
        parse_quantity("3 TB", "bytes_per_s")


def test_unknown_unit_is_an_error():
    with pytest.raises(UnitError, match="furlong"):
        parse_quantity("3 furlongs/s", "bytes_per_s")


@pytest.mark.parametrize("bad", ["", "   ", "fast", None, True])
def test_not_a_quantity(bad):
    with pytest.raises(UnitError):
        parse_quantity(bad, "bytes")


@pytest.mark.parametrize("bad", [
    "9**9**9 W",        # pint would evaluate it: never returns
    "2**10 W",          # arithmetic on the number
    "(1 + 2) W",
    "1 W**9",           # a unit power beyond what a quantity needs
    "inf W",
    "nan W",
    "1e999 W",          # overflows a float
    float("inf"),
    float("nan"),
])
def test_arithmetic_and_non_finite_values_are_refused(bad):
    with pytest.raises(UnitError):
        parse_quantity(bad, "watts")


@pytest.mark.parametrize(
    "text, dimension, expected",
    [
        ("814 mm²", "area", 814e-6),                        # H100 die area: 814 mm² = 8.14e-4 m²
        ("1.5 × 10^12 FLOP/s", "flops", 1.5e12),            # a power of ten written out
        ("3.35e12 B/s", "bytes_per_s", 3.35e12),
    ],
)
def test_what_a_quantity_needs_is_still_accepted(text, dimension, expected):
    assert parse_quantity(text, dimension) == pytest.approx(expected, rel=1e-12)
