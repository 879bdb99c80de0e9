"""The spec schema and formula interpreter are bounded and strict (issues 11 and 12).

A formula or a value string that would make the interpreter run for ever is refused; ranges come from
interval arithmetic, not from trying every corner; non-finite and absurd values are refused; memory levels
are fastest first; a cached device is read only from a private file.
"""

import json
import os
import time

import pytest

from roofline.errors import InputError, SpecError
from roofline.hardware import load_spec_file, load_specs
from roofline.vocab import Corner

TDP = 'tdp = { value = "300 W", basis = "datasheet", source = "s1" }'


def _with_architecture(text: str, lines: list[str]) -> str:
    return text + "\n[architecture]\n" + "\n".join(lines) + "\n"


def _estimate(name: str, value, low, high) -> str:
    return (f'{name} = {{ value = {value}, low = {low}, high = {high}, basis = "estimate", source = "s1", '
            f'note = "test range" }}')


def _derived(name: str, formula: str) -> str:
    return f'{name} = {{ basis = "derived", formula = "{formula}", source = "s1" }}'


def _spec_error(path) -> str:
    with pytest.raises(SpecError) as info:
        load_spec_file(path)
    text = str(info.value)
    assert str(path) in text
    return text


# ---------------------------------------------------------------------------------------------------
# the formula interpreter is bounded
# ---------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("formula, message", [
    ("2 ** 10 ** 10", "unsupported exponent '10 ** 10'"),      # would never return under Python's **
    ("architecture.a ** 9", "unsupported exponent '9'"),
    ("architecture.a ** 0.5", "unsupported exponent '0.5'"),
    ("architecture.a ** -1", "unsupported exponent '-1'"),
    ("architecture.a ** architecture.a", "unsupported exponent 'architecture.a'"),
    ("__import__('os').getcwd()", "unsupported syntax"),
    ("architecture.a if 1 else 2", "unsupported syntax"),
    ("10 ** 1000", "unsupported exponent"),
    ("((((10 ** 8) ** 8) ** 8) ** 8) ** 8", "out of range"),     # 10^32768: each ** is allowed, the size not
])
def test_unbounded_formulas_are_refused(write_spec, minimal_spec_text, formula, message):
    path = write_spec(_with_architecture(minimal_spec_text, [
        'a = { value = 2, basis = "datasheet", source = "s1" }', _derived("x", formula)]))
    text = _spec_error(path)
    assert "architecture.x.formula" in text
    assert message in text


def test_hanging_value_string_is_refused(write_spec, minimal_spec_text):
    # pint evaluates arithmetic in a quantity string: 9**9**9 would never finish
    path = write_spec(minimal_spec_text.replace(TDP, 'tdp = { value = "9**9**9 W", basis = "datasheet", source = "s1" }'))
    text = _spec_error(path)
    assert "power.tdp.value" in text and "cannot parse" in text


def test_thirty_estimates_in_one_formula_evaluate_at_once(write_spec, minimal_spec_text):
    # 30 estimated factors, each 2 in [1, 3]: nominal 2^30, low 1^30, high 3^30. Trying every corner of
    # the ranges would take 2^30 evaluations; interval arithmetic takes one pass.
    names = [f"e{i:02d}" for i in range(30)]
    formula = " * ".join(f"architecture.{n}" for n in names)
    path = write_spec(_with_architecture(
        minimal_spec_text, [_estimate(n, 2, 1, 3) for n in names] + [_derived("product", formula)]))
    start = time.perf_counter()
    f = load_spec_file(path).figure("architecture.product")
    assert time.perf_counter() - start < 30  # 2^30 corners would take hours
    assert f.value == 1_073_741_824                  # 2^30
    assert (f.low, f.high) == (1, 205_891_132_094_649)  # 1^30, 3^30
    assert f.is_range


def test_sums_differences_and_powers_use_the_right_ends(write_spec, minimal_spec_text):
    path = write_spec(_with_architecture(minimal_spec_text, [
        _estimate("a", 2, 1, 3), _estimate("b", 5, 4, 6), _estimate("c", 3, 2, 4), _estimate("d", 1.5, 1, 2),
        _derived("mixed", "(architecture.a + architecture.b) * architecture.c - architecture.d"),
        _derived("square", "architecture.a ** 2"),
        _derived("ratio", "architecture.b / architecture.a"),
    ]))
    dev = load_spec_file(path)
    mixed = dev.figure("architecture.mixed")
    # nominal (2 + 5) * 3 - 1.5 = 19.5; low (1 + 4) * 2 - 2 = 8 (the largest d); high (3 + 6) * 4 - 1 = 35
    assert (mixed.low, mixed.value, mixed.high) == (8, 19.5, 35)
    square = dev.figure("architecture.square")
    assert (square.low, square.value, square.high) == (1, 4, 9)
    ratio = dev.figure("architecture.ratio")
    # nominal 5 / 2; low 4 / 3 (smallest over largest); high 6 / 1
    assert (ratio.low, ratio.value, ratio.high) == pytest.approx((4 / 3, 2.5, 6))


def test_division_by_a_range_through_zero_is_refused(write_spec, minimal_spec_text):
    # a in [1, 3], so a - 1.5 runs from -0.5 to 1.5: the quotient has no bound
    path = write_spec(_with_architecture(minimal_spec_text, [
        _estimate("a", 2, 1, 3), 'b = { value = 1.5, basis = "datasheet", source = "s1" }',
        _derived("q", "architecture.b / (architecture.a - 1.5)"),
    ]))
    text = _spec_error(path)
    assert "architecture.q.formula" in text and "contains zero" in text


# ---------------------------------------------------------------------------------------------------
# non-finite and absurd values
# ---------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("new, field, message", [
    ('tdp = { value = "inf W", basis = "datasheet", source = "s1" }', "power.tdp.value", "not a finite quantity"),
    ('tdp = { value = "nan W", basis = "datasheet", source = "s1" }', "power.tdp.value", "not a finite quantity"),
    ('tdp = { value = "1e999 W", basis = "datasheet", source = "s1" }', "power.tdp.value", "not a finite quantity"),
    ("tdp = { value = inf, basis = \"datasheet\", source = \"s1\" }", "power.tdp.value", "finite"),
    # 1e308 EW = 1e326 W: overflows a float; 1e31 W is finite but beyond any device
    ('tdp = { value = "1e308 EW", basis = "datasheet", source = "s1" }', "power.tdp.value", "at most 1e+30 W"),
    ('tdp = { value = "1e31 W", basis = "datasheet", source = "s1" }', "power.tdp.value", "at most 1e+30 W"),
    ('tdp = { value = "300 W", low = "200 W", high = "1e40 W", basis = "estimate", source = "s1", note = "x" }',
     "power.tdp.high", "at most 1e+30 W"),
])
def test_non_finite_and_absurd_values_are_refused(write_spec, minimal_spec_text, new, field, message):
    path = write_spec(minimal_spec_text.replace(TDP, new))
    text = _spec_error(path)
    assert field in text and message in text


def test_derived_value_beyond_1e30_is_refused(write_spec, minimal_spec_text):
    path = write_spec(_with_architecture(minimal_spec_text, [
        'big = { value = 1e20, basis = "datasheet", source = "s1" }',
        _derived("huge", "architecture.big * architecture.big"),   # 1e40
    ]))
    text = _spec_error(path)
    assert "architecture.huge.formula" in text and "at most 1e+30" in text


def test_published_value_must_be_finite(write_spec, minimal_spec_text):
    path = write_spec(_with_architecture(minimal_spec_text, [
        'a = { value = 2, basis = "datasheet", source = "s1" }',
        'x = { basis = "derived", formula = "architecture.a", published = "inf", source = "s1" }',
    ]))
    text = _spec_error(path)
    assert "architecture.x.published" in text and "finite" in text


# ---------------------------------------------------------------------------------------------------
# memory levels fastest first
# ---------------------------------------------------------------------------------------------------
def test_a_slower_level_above_a_faster_one_is_refused(write_spec, minimal_spec_text):
    # the toy device lists sram at 10 TB/s, then dram at 1 TB/s; make the dram 20 TB/s
    text = minimal_spec_text.replace('value = "1 TB/s"', 'value = "20 TB/s"')
    msg = _spec_error(write_spec(text))
    assert "memory.dram.bandwidth" in msg
    assert "'dram' (2e+13 B/s)" in msg and "'sram' (1e+13 B/s)" in msg
    assert "fastest first" in msg


def test_levels_of_equal_bandwidth_are_allowed(write_spec, minimal_spec_text):
    dev = load_spec_file(write_spec(minimal_spec_text.replace('value = "1 TB/s"', 'value = "10 TB/s"')))
    assert [m.bandwidth_bytes_per_s for m in dev.memory] == [10e12, 10e12]


# ---------------------------------------------------------------------------------------------------
# Figure.at takes the Corner vocabulary
# ---------------------------------------------------------------------------------------------------
def test_figure_at_accepts_corner_members_and_their_text(write_spec, minimal_spec_text):
    text = minimal_spec_text.replace(
        'dense = { value = "100 TFLOP/s", basis = "datasheet", source = "s1" }',
        'dense = { value = "100 TFLOP/s", low = "80 TFLOP/s", high = "120 TFLOP/s", basis = "estimate", '
        'source = "s1", note = "x" }')
    dev = load_spec_file(write_spec(text))
    peak = dev.peak_figure("bf16")
    latency = dev.figure("interconnect.link.latency")
    assert peak.at(Corner.BEST) == peak.at("best") == 120e12   # a faster device has the higher peak
    assert peak.at(Corner.WORST) == 80e12
    assert latency.at(Corner.BEST) == latency.at(Corner.LOW) == 1e-6
    assert dev.peak("bf16", which=Corner.NOMINAL) == 100e12
    assert dev.is_estimate and peak.is_range and not latency.is_range
    with pytest.raises(InputError, match="unknown corner 'middle'"):
        peak.at("middle")


# ---------------------------------------------------------------------------------------------------
# the spec cache reads only private files
# ---------------------------------------------------------------------------------------------------
def _cached_entry(folder, key):
    for p in sorted(folder.glob("*.json")):
        with open(p) as fh:
            if json.load(fh).get("key") == key:
                return p
    raise AssertionError(f"no cache entry for {key}")


def _plant(entry, capacity_bytes, mode):
    doc = json.loads(entry.read_text())
    doc["figures"]["memory.dram.capacity"]["value"] = capacity_bytes
    entry.write_text(json.dumps(doc))
    os.chmod(entry, mode)


@pytest.mark.skipif(not hasattr(os, "getuid"), reason="POSIX file modes")
def test_group_writable_cache_entry_is_ignored(tmp_path, monkeypatch, write_spec, minimal_spec_text):
    monkeypatch.setenv("ROOFLINE_CACHE_DIR", str(tmp_path / "cache"))
    spec = write_spec(minimal_spec_text)
    assert load_specs([spec])["toy"].level("dram").capacity_bytes == 64 * 2**30   # 64 GiB, as the spec says
    folder = tmp_path / "cache" / "specs"
    entry = _cached_entry(folder, "toy")
    assert oct(os.stat(entry).st_mode & 0o777) == oct(0o600)
    assert not list(folder.glob("*.tmp"))   # written beside, then renamed
    # control: a private entry is used (so the next check is not passing for another reason)
    _plant(entry, 1.0, 0o600)
    assert load_specs([spec])["toy"].level("dram").capacity_bytes == 1.0
    # the same entry writable by the group and others is not read: the spec is parsed again
    _plant(entry, 1.0, 0o666)
    assert load_specs([spec])["toy"].level("dram").capacity_bytes == 64 * 2**30


@pytest.mark.skipif(not hasattr(os, "symlink"), reason="symbolic links")
def test_symlinked_cache_entry_is_ignored(tmp_path, monkeypatch, write_spec, minimal_spec_text):
    monkeypatch.setenv("ROOFLINE_CACHE_DIR", str(tmp_path / "cache"))
    spec = write_spec(minimal_spec_text)
    load_specs([spec])
    entry = _cached_entry(tmp_path / "cache" / "specs", "toy")
    planted = tmp_path / "planted.json"
    planted.write_text(entry.read_text())
    os.chmod(planted, 0o600)
    _plant(planted, 1.0, 0o600)
    entry.unlink()
    entry.symlink_to(planted)
    assert load_specs([spec])["toy"].level("dram").capacity_bytes == 64 * 2**30
