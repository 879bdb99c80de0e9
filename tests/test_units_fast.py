"""The spec loader's pint-free path (:class:`roofline.units.FastQuantity`) against pint: the same value, low,
high and published figure, to the last bit, for every figure of every shipped spec; what it does not
reproduce goes through pint, with pint's errors."""

from __future__ import annotations

import pytest

from roofline.hardware import builtin_spec_dir, formula, load_spec_file, reader
from roofline.units import FastQuantity, NotFast, fast_in, fast_quantity, quantity_in, to_quantity

SPECS = sorted(builtin_spec_dir().glob("*.toml"))


@pytest.mark.parametrize("spec", SPECS, ids=lambda p: p.stem)
def test_every_figure_of_a_shipped_spec_is_pints_to_the_last_bit(spec, monkeypatch):
    seen = []

    def both(f, raws, sources, part):
        fast = formula._evaluate_with(f, raws, sources, part, True)  # no fallback: it would raise
        slow = formula._evaluate_with(f, raws, sources, part, False)
        assert list(fast) == list(slow)
        for path in slow:
            a, b = fast[path], slow[path]
            assert (a.value, a.low, a.high, a.published, a.dimension) == (b.value, b.low, b.high, b.published,
                                                                         b.dimension), path
            assert a == b, path
        seen.append(len(slow))
        return slow

    monkeypatch.setattr(reader, "_evaluate", both)
    load_spec_file(spec)
    assert seen and seen[-1] > 0


@pytest.mark.parametrize("text", ["3.35 TB/s", "80 GB", "989.4 TFLOP/s", "2.5 us", "814 mm²", "214 Pb/s",
                                  "80 GiB", "1,979 TFLOP/s", "700 W", "1.98 GHz", "5 TOPS", "12", "1 mm",
                                  "0.5 ns", "96 MiB", "1.2 kW", "3 PB/s", "2 TB/ms", 7, 2.5])
def test_each_common_form_gives_pints_value(text):
    q = fast_quantity(text)
    dims = [d for d in ("flops", "bytes", "bytes_per_s", "seconds", "watts", "hertz", "count", "area", "meters",
                        "flop") if _converts(q, d)]
    assert len(dims) == 1
    assert fast_in(q, dims[0]) == quantity_in(to_quantity(text), dims[0])


def _converts(q: FastQuantity, dim: str) -> bool:
    try:
        fast_in(q, dim)
        return True
    except NotFast:
        return False


@pytest.mark.parametrize("text", ["1 h", "3 min", "2 TB/min", "9**9**9 W", "1e999 W", "inf W", "3 parsec",
                                  "1 TB/s/s", "nan"])
def test_other_forms_are_left_to_pint(text):
    with pytest.raises(NotFast):
        fast_quantity(text)


@pytest.mark.parametrize("a, b", [("1 GHz", "1 MHz"), ("0.5 s", "20 ns"), ("3.35 TB/s", "900 GB/s"),
                                  ("1 GiB", "3 MB"), ("2 us", "7 ns")])
def test_a_sum_in_different_units_is_pints(a, b):
    """pint converts the right operand to the left one's units, then adds: so does FastQuantity."""
    fa, fb, pa, pb = fast_quantity(a), fast_quantity(b), to_quantity(a), to_quantity(b)
    dim = next(d for d in ("hertz", "seconds", "bytes_per_s", "bytes") if _converts(fa, d))
    assert fast_in(fa + fb, dim) == quantity_in(pa + pb, dim)
    assert fast_in(fa - fb, dim) == quantity_in(pa - pb, dim)
    with pytest.raises(NotFast):
        fa + fast_quantity("1 W")
