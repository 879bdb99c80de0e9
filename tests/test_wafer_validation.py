"""Issue 15's targets on the wafer-scale rows of the shipped measurement set: the latency bound is never
beaten and stays within 30x of every wafer speed row; the estimate's median over the non-speculative WSE-3
speeds lies in 0.8-1.25 (met for the later-software rows, not with the launch rows); every later-software row
is within 2x; speculative rows are estimated with a draft that costs. The rows of Cerebras's August 2024
launch software are reported, not fitted (docs/validation.md, "Wafer-scale and SRAM systems")."""

import csv
import statistics

import pytest

from roofline.validation.bounds import default_path, validate

pytestmark = pytest.mark.slow  # evaluates every wafer row (about 10 s)

#: Cerebras's first inference software (Aug 2024): its Oct-2024 release says it "utilized only a fraction of
#: its peak bandwidth, compute, and IO capacity".
EARLY_SOFTWARE = {"wse3-llama3.1-8b-1800-cerebras-launch", "wse3x4-llama3.1-70b-450-cerebras-launch-register",
                  "wse3-llama3.1-70b-446-artificialanalysis-via-blog"}


@pytest.fixture(scope="module")
def wafer_rows(tmp_path_factory):
    src = default_path()
    with open(src, newline="") as f:
        rows = list(csv.reader(f))
    cat = rows[0].index("category")
    out = tmp_path_factory.mktemp("wafer") / "wafer.csv"
    with open(out, "w", newline="") as f:
        csv.writer(f, lineterminator="\n").writerows([rows[0]] + [r for r in rows[1:] if r and r[cat] == "wafer-inference"])
    return validate(out)


def _speeds(rows, device="wse3", speculative=False):
    return [r for r in rows if r["device"] == device and r["metric"] == "tokens_per_s_per_user"
            and bool(r["speculative"]) == speculative]


def test_the_early_software_rows_are_in_the_data_set(wafer_rows):
    assert EARLY_SOFTWARE <= {r["id"] for r in wafer_rows}


def test_the_latency_bound_is_never_beaten(wafer_rows):
    assert wafer_rows and not [r["id"] for r in wafer_rows if r["violation"]]
    assert all(r["efficiency_latency"] <= 1 for r in wafer_rows)


def test_the_latency_bound_is_within_30x_of_every_wafer_speed(wafer_rows):
    speeds = [r for r in wafer_rows if r["metric"] == "tokens_per_s_per_user"]
    assert len(speeds) >= 10
    far = {r["id"]: round(1 / r["efficiency_latency"], 1) for r in speeds if r["efficiency_latency"] < 1 / 30}
    assert not far


@pytest.mark.xfail(strict=True, reason="issue 15's target not met over every row: median 0.68 over the 11 "
                   "non-speculative WSE-3 speeds with the three Aug-2024 launch rows (0.22-0.33); 0.90 without them "
                   "(docs/validation.md, 'Wafer-scale and SRAM systems')")
def test_median_of_measured_over_estimate_for_wse3(wafer_rows):
    ratios = [r["ratio_estimate"] for r in _speeds(wafer_rows)]
    assert len(ratios) >= 8
    assert 0.8 <= statistics.median(ratios) <= 1.25


def test_later_software_median_is_near_the_estimate(wafer_rows):
    later = [r["ratio_estimate"] for r in _speeds(wafer_rows) if r["id"] not in EARLY_SOFTWARE]
    assert 0.8 <= statistics.median(later) <= 1.25


def test_speculative_rows_are_estimated_with_a_costed_draft(wafer_rows):
    # the bound drafts for free at the highest acceptance; the estimate with Llama-3.1-8B at the nominal 0.88
    spec = _speeds(wafer_rows, speculative=True)
    assert len(spec) >= 3
    for r in spec:
        assert "llama-3.1-8b" in r["estimate_speculation"] and "ideal draft" in r["speculation"]
        assert 0.5 <= r["ratio_estimate"] <= 2 and r["in_estimate_range"], (r["id"], r["ratio_estimate"])


def test_later_software_rows_are_inside_their_range(wafer_rows):
    # gpt-oss and Kimi K2.6 (published only in 4-bit forms) span 4-bit weights to weights widened to 16 bits;
    # Qwen3-235B's best corner has each chosen expert reduce over its own cores
    later = [r for r in _speeds(wafer_rows) if r["id"] not in EARLY_SOFTWARE]
    assert len(later) >= 8
    assert all(r["in_estimate_range"] for r in later), [r["id"] for r in later if not r["in_estimate_range"]]


@pytest.mark.xfail(strict=True, reason="gpt-oss-120b at 2,059 tok/s (Artificial Analysis, 2026) is 0.47 of its "
                   "4-bit estimate (the advertised ~3,000 is 0.68); every other later-software row is within 2x")
def test_later_software_rows_are_within_2x_of_the_estimate(wafer_rows):
    later = [r for r in _speeds(wafer_rows) if r["id"] not in EARLY_SOFTWARE]
    assert len(later) >= 5
    assert all(0.5 <= r["ratio_estimate"] <= 2 for r in later), {r["id"]: r["ratio_estimate"] for r in later}


@pytest.mark.xfail(strict=True, reason="issue 15's target not met over every row: the Aug-2024 launch rows are "
                   "3-4.5x slower than the estimate (one, 446 tok/s, below its worst corner)")
def test_every_non_speculative_wse3_speed_within_2x_and_inside_its_range(wafer_rows):
    rows = _speeds(wafer_rows)
    assert all(0.5 <= r["ratio_estimate"] <= 2 and r["in_estimate_range"] for r in rows)


def _data_rows():
    with open(default_path(), newline="") as f:
        return {r["id"]: r for r in csv.DictReader(f)}


def test_the_early_software_rows_are_the_august_2024_launch():
    rows = _data_rows()
    assert {rid for rid in EARLY_SOFTWARE if rows[rid]["source_date"].startswith("2024-08")} == EARLY_SOFTWARE
    assert all("utilized only a fraction of its peak bandwidth" in rows[rid]["note"] for rid in EARLY_SOFTWARE)


def test_the_launch_and_october_70b_rows_cannot_both_lie_within_2x_of_one_non_speculative_estimate():
    # The same model (Llama-3.1-70B) on the same hardware (WSE-3) in 16 bits: the launch row states bf16; the
    # October row states no precision, and Cerebras's October-2024 notes (quoted on the launch rows) change no
    # precision. 2,100 / 450 = 4.67 tokens/s apart in two months. Within 2x of one estimate e needs
    # 450 >= e / 2 and 2,100 <= 2 e, i.e. 1,050 <= e <= 900: impossible (a spread of at most 2 x 2 = 4).
    # Only what differs between the rows can close it: the October row decodes speculatively, which would have
    # to gain at least 4.67 / 4 = 1.17x; the rest is the launch software (Cerebras: "utilized only a fraction of
    # its peak bandwidth, compute, and IO capacity").
    rows = _data_rows()
    launch = rows["wse3x4-llama3.1-70b-450-cerebras-launch-register"]
    october = rows["wse3-llama3.1-70b-2100-speculative-oct2024"]
    assert launch["model"] == october["model"] == "llama-3.1-70b" and launch["device"] == october["device"] == "wse3"
    assert launch["weight_dtype"] == "bf16" and october["weight_dtype"] == ""
    assert "no change of precision (16-bit before and after)" in launch["note"]
    assert launch["speculative"] == "false" and october["speculative"] == "true"
    fast, slow = float(october["value"]), float(launch["value"])
    assert (fast, slow) == (2100, 450)
    assert fast / slow == pytest.approx(4.667, abs=1e-3) and fast / slow > 2 * 2
    # the least estimate the October row allows (1,050) exceeds the most the launch row allows (900)
    assert fast / 2 > slow * 2
    assert fast / slow / 4 == pytest.approx(1.167, abs=1e-3)  # the speculative gain that would be needed
