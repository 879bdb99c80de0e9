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


@pytest.mark.xfail(strict=True, reason="issue 15's target not met once precision and MoE regions are read from "
                   "sources: median 0.75 over every non-speculative WSE-3 speed (0.89 without the three Aug-2024 "
                   "launch rows); gpt-oss (published only in MXFP4) and Kimi K2.6 (only INT4) run at 0.52-0.75 of "
                   "their estimates (docs/validation.md, 'Wafer-scale and SRAM systems')")
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


def test_later_software_rows_are_within_2x_of_the_estimate(wafer_rows):
    later = [r for r in _speeds(wafer_rows) if r["id"] not in EARLY_SOFTWARE]
    assert len(later) >= 5
    assert all(0.5 <= r["ratio_estimate"] <= 2 for r in later), {r["id"]: r["ratio_estimate"] for r in later}


@pytest.mark.xfail(strict=True, reason="issue 15's target not met: the Aug-2024 launch rows are 3-4.5x slower "
                   "than the estimate, and Qwen3-235B runs 4 % above its best corner")
def test_every_non_speculative_wse3_speed_within_2x_and_inside_its_range(wafer_rows):
    rows = _speeds(wafer_rows)
    assert all(0.5 <= r["ratio_estimate"] <= 2 and r["in_estimate_range"] for r in rows)
