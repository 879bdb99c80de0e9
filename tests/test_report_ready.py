"""Report-ready outputs (issue 19): tables machines can read, charts that cannot mislead, the Python API
and the command-line conventions. Each test names the finding it guards."""

import io
import json
import re

import numpy as np
import pandas as pd
import pytest

from roofline.outputs.cli import main
from roofline.outputs.format import human, human_range, render

# a number followed by a unit prefix or unit, as people write it: "40.07 µs", "15.8 PFLOP/s", "3,000×"
_HUMAN = re.compile(r"\d\s*(?:[kMGTPEmµnp]?(?:s|B/s|FLOP/s|B|W|J)\b|×)|\d,\d{3}")


def _csv(capsys, argv):
    assert main([*argv, "--format", "csv"]) == 0
    text = capsys.readouterr().out
    return pd.read_csv(io.StringIO(text)), text


# ---------------------------------------------------------------------------------------------------
# machine-readable formats
# ---------------------------------------------------------------------------------------------------
_NUMERIC = {
    ("show", "h100"): ["value", "low", "high"],
    ("llm", "--model", "llama-3.1-8b", "--device", "ai5"): ["tpot_s", "tpot_s_low", "tpot_s_high", "ttft_s",
                                                            "tokens_per_s_per_user", "weights_bytes"],
    ("gemm", "--device", "h100", "--m", "4096", "--n", "4096", "--k", "4096"): ["time_s", "flops", "bytes",
                                                                                "attainable_flops_per_s"],
    ("compare", "wse3", "ai5", "--model", "llama-3.1-8b"): ["value", "low", "high", "ratio_vs_first"],
    ("validate",): ["value", "bound_ideal", "efficiency_ideal"],
    ("list",): ["bf16_dense_flops_per_s", "main_memory_bandwidth_bytes_per_s"],
    ("models",): ["params", "active_params"],
}


@pytest.mark.parametrize("argv", list(_NUMERIC), ids=lambda a: a[0])
def test_every_commands_csv_reads_into_numbers(capsys, argv):
    # finding: --format csv of show, llm, gemm, compare and validate held "40.07 µs", "15.8 PFLOP/s (14.4–17.3)"
    df, text = _csv(capsys, list(argv))
    for col in _NUMERIC[argv]:
        assert pd.api.types.is_numeric_dtype(df[col]), (argv, col, df[col].head().tolist())
    # every column whose name says a unit holds numbers (or nothing)
    unit_cols = [c for c in df.columns if re.search(r"(_s|_bytes|_per_s|_j|_w|flops|_low|_high)$", c)
                 and not c.startswith(("source", "links"))]
    for col in unit_cols:
        assert pd.api.types.is_numeric_dtype(df[col]) or df[col].isna().all(), (argv, col)
    assert not any(_HUMAN.search(str(v)) for c in unit_cols for v in df[c].dropna())


def test_show_csv_holds_si_numbers_by_hand(capsys):
    df, _ = _csv(capsys, ["show", "h100"])
    hbm = df[df.figure == "memory.hbm.bandwidth"].iloc[0]
    assert hbm.value == 3.35e12 and hbm.unit == "B/s"   # NVIDIA H100 SXM datasheet: 3.35 TB/s


def test_llm_csv_value_matches_its_json(capsys):
    df, _ = _csv(capsys, ["llm", "--model", "llama-3.1-8b", "--device", "h100"])
    assert main(["llm", "--model", "llama-3.1-8b", "--device", "h100", "--format", "json"]) == 0
    rec = json.loads(capsys.readouterr().out)
    assert df.tpot_s.iloc[0] == pytest.approx(rec["tpot_s"])
    assert df["decode_terms_s.memory:hbm"].iloc[0] == pytest.approx(rec["decode_terms_s"]["memory:hbm"])


def test_compare_csv_is_one_table_and_table_option(capsys):
    # finding: compare --format csv wrote two tables into one stream
    df, text = _csv(capsys, ["compare", "wse3", "h100", "--model", "llama-3.1-70b"])
    assert "\n\n" not in text.strip()
    assert set(df.table) == {"specs", "workloads"}
    row = df[(df.quantity == "llama-3.1-70b tokens/s/user") & (df.device == "wse3")].iloc[0]
    assert row.devices_used == 4   # 140 GB of BF16 weights over 44 GB of SRAM per wafer: 4 wafers
    spec, _ = _csv(capsys, ["compare", "wse3", "h100", "--table", "specs"])
    assert set(spec.table) == {"specs"}
    h = spec[(spec.quantity == "main memory BW") & (spec.device == "h100")].iloc[0]
    assert h.value == 3.35e12 and h.unit == "B/s"
    assert main(["compare", "wse3", "h100", "--table", "workloads", "--format", "markdown"]) == 0
    out = capsys.readouterr().out
    assert "GEMM" in out and "BF16 dense" not in out


def test_validate_ids_are_never_cut(capsys):
    # finding: validate cut ids at 44 characters
    from roofline.validation.bounds import validate

    longest = max((r["id"] for r in validate()), key=len)
    assert len(longest) > 44
    df, _ = _csv(capsys, ["validate"])
    assert longest in set(df.id)
    assert main(["validate"]) == 0
    assert longest in capsys.readouterr().out


def test_ranges_keep_one_prefix_and_bytes_per_flop_has_none():
    # finding: "1.9 mB/FLOP (0.00072–0.0092)": the value in milli, its range in units, and mB reads as megabytes
    text = human_range(0.0019, 0.00072, 0.0092, "B/FLOP")
    assert text == "0.0019 B/FLOP (0.00072–0.0092)"
    assert human(3.39e-3, "B/FLOP") == "0.00339 B/FLOP"
    # a range end past 1000 of the value's prefix is written out, not as 1.21e+03
    assert human_range(0.316, 0.254, 1.21, "s") == "316 ms (254–1,210)"
    assert human_range(15.84e15, 14.4e15, 17.28e15, "FLOP/s") == "15.8 PFLOP/s (14.4–17.3)"


def test_latex_format(capsys):
    assert main(["compare", "wse3", "h100", "--format", "latex"]) == 0
    out = capsys.readouterr().out
    assert r"\begin{tabular}" in out and r"\toprule" in out and "wse3" in out
    assert render([{"a_b": "50%"}], "latex").count(r"\%") == 1   # special characters escaped


# ---------------------------------------------------------------------------------------------------
# charts: series, labels, bands, units (inspected on the Figure's artists)
# ---------------------------------------------------------------------------------------------------
def _labels(ax):
    return [line.get_label() for line in ax.lines if not line.get_label().startswith("_")]


def test_sweep_chart_splits_every_varying_dimension():
    # finding: --devices 4,8, --dtype bf16,fp8 and several contexts were joined into one zig-zag per device
    from roofline import llm
    from roofline.llm.precision import Precision
    from roofline.outputs import plot

    frames = []
    for dt in ("bf16", "fp8"):
        df = llm.decode_sweep("llama-3.1-70b", ["h100"], batch=[1, 8, 64], context=[1024, 8192],
                              device_counts=[4, 8], prec=Precision.of(dt))
        df.insert(1, "dtype", dt)
        frames.append(df)
    df = pd.concat(frames, ignore_index=True)
    ax = plot.sweep_chart(df).axes[0]
    labels = _labels(ax)
    # 2 device counts x 2 data types x 2 contexts = 8 series, each monotone in batch (no zig-zag)
    assert len(labels) == 8 == len(set(labels))
    assert "4 × h100 · bf16 · ctx 1024 · tp=4" in labels and "8 × h100 · fp8 · ctx 8192 · tp=8" in labels
    for line in ax.lines:
        xs = np.asarray(line.get_xdata(), float)
        assert np.all(np.diff(xs) > 0), line.get_label()
    assert "llama-3.1-70b" in ax.get_title()


def test_sweep_chart_names_the_device_count():
    # finding: plot sweep showed H200 above B200 for Llama-3.1-70B: 2 x H200 against 1 x B200, unnamed
    from roofline import llm
    from roofline.outputs import plot

    df = llm.decode_sweep("llama-3.1-70b", ["h200", "b200"], batch=[1, 16], context=[2048])
    counts = dict(zip(df.device, df.devices))
    assert counts == {"h200": 1, "b200": 1} or counts["h200"] != counts["b200"]
    labels = _labels(plot.sweep_chart(df).axes[0])
    assert {f"{counts['h200']} × h200", f"{counts['b200']} × b200"} <= {lbl.split(" · ")[0] for lbl in labels}


def test_compare_chart_shows_device_counts():
    # finding: plot compare dropped the ×N the text table shows (4 wafers, 13 tiles, 2 GPUs)
    from roofline.outputs import plot
    from roofline.outputs.compare import compare

    res = compare(["wse3", "h100"], models=["llama-3.1-70b"])
    ax = plot.compare_chart(res).axes[0]
    ticks = [t.get_text() for t in ax.get_yticklabels()]
    assert "llama-3.1-70b tokens/s/user (wse3 ×4)" in ticks      # 140 GB over 44 GB of SRAM: 4 wafers
    assert "×2" in [t.get_text() for t in ax.texts]              # 140 GB over 80 GB of HBM: 2 GPUs


def test_estimated_device_has_bands_everywhere():
    # finding: estimated devices (AI5) got a band only on the frontier
    from matplotlib.collections import PolyCollection

    from roofline import llm
    from roofline.outputs import plot
    from roofline.outputs.compare import compare

    ax = plot.roofline_chart(["ai5"]).axes[0]
    assert any(isinstance(c, PolyCollection) for c in ax.collections)     # the ceiling's band
    df = llm.decode_sweep("llama-3.1-8b", ["ai5"], batch=[1, 8, 64], context=[2048])
    assert (df.time_s_best <= df.time_s).all()
    assert (llm.sweeps.with_corner_rates(df).tokens_per_s_per_user_best >= df.tokens_per_s_per_user).all()
    assert any(isinstance(c, PolyCollection) for c in plot.sweep_chart(df).axes[0].collections)
    res = compare(["h100", "ai5"], models=["llama-3.1-8b"])
    ax = plot.compare_chart(res).axes[0]
    assert ax.containers and any(getattr(c, "errorbar", None) is not None for c in ax.containers)


def _tick_texts(fig, axis="y"):
    fig.canvas.draw()
    ax = fig.axes[0]
    ticks = ax.yaxis.get_ticklabels(which="both") if axis == "y" else ax.xaxis.get_ticklabels(which="both")
    return [t.get_text() for t in ticks if t.get_text()]


def test_axes_tick_in_engineering_units():
    # finding: times ticked as 9×10⁻³ instead of ms
    from roofline import llm
    from roofline.outputs import plot

    df = llm.decode_sweep("llama-3.1-8b", ["h100"], batch=[1, 8, 64, 256], context=[2048])
    texts = _tick_texts(plot.sweep_chart(df, y="time_s"))
    assert any(t.endswith(" ms") for t in texts), texts
    assert not any("10^" in t or "×10" in t or "e-" in t for t in texts)
    texts = _tick_texts(plot.roofline_chart(["h100"]))
    assert any(t.endswith("PFLOP/s") or t.endswith("TFLOP/s") for t in texts)


def test_roofline_labels_do_not_overlap():
    # finding: labels overlapped on multi-device rooflines
    from roofline.hardware.library import get_device
    from roofline.outputs import plot
    from roofline.outputs.report import roofline_points

    devs = [get_device(k) for k in ("h100", "h200", "b200")]
    fig = plot.roofline_chart(devs, points=roofline_points(devs, models=["llama-3.1-8b"]))
    fig.canvas.draw()
    r = fig.canvas.get_renderer()
    boxes = [t.get_window_extent(r) for t in fig.axes[0].texts if t.get_text()]
    assert len(boxes) >= 6
    assert not [(i, j) for i in range(len(boxes)) for j in range(i + 1, len(boxes)) if boxes[i].overlaps(boxes[j])]


def test_roofline_model_points_are_decode_and_prefill_and_ideal_matters():
    # findings: plot roofline --model drew decode only; --ideal changed nothing
    from roofline.hardware.library import get_device
    from roofline.outputs.report import roofline_points

    wse3 = get_device("wse3")
    real = roofline_points([wse3], models=["llama-3.1-8b"], ideal=False)
    ideal = roofline_points([wse3], models=["llama-3.1-8b"], ideal=True)
    assert {p.get("phase") for p in real} >= {"decode", "prefill"}
    dec_real = next(p for p in real if p.get("phase") == "decode")
    dec_ideal = next(p for p in ideal if p.get("phase") == "decode")
    # batch-1 decode on a wafer is bound by the fabric's reductions; without latency terms it runs faster
    assert dec_real["bound"] == "latency:fabric" and dec_ideal["flops_per_s"] > dec_real["flops_per_s"]


def test_every_chart_accepts_ax_and_composes_into_subplots():
    # finding: no chart function accepted ax=
    import matplotlib.pyplot as plt

    from roofline import llm
    from roofline.outputs import plot
    from roofline.outputs.compare import compare

    fig, axs = plt.subplots(2, 3, figsize=(12, 6))
    df = llm.decode_sweep("llama-3.1-8b", ["h100"], batch=[1, 8], context=[2048])
    est = [llm.estimate("llama-3.1-8b", "h100")]
    assert plot.roofline_chart(["h100"], ax=axs[0, 0]) is fig
    assert plot.sweep_chart(df, ax=axs[0, 1]) is fig
    assert plot.frontier_chart([llm.frontier("llama-3.1-8b", "h100")], ax=axs[0, 2]) is fig
    assert plot.memory_wall_chart(ax=axs[1, 0]) is fig
    assert plot.compare_chart(compare(["h100", "b200"], models=["llama-3.1-8b"]), ax=axs[1, 1]) is fig
    assert plot.token_time_chart(est, ax=axs[1, 2]) is fig
    assert len(fig.axes) == 6 and all(a.has_data() for a in fig.axes)
    plt.close(fig)


def test_memory_wall_points_carry_names():
    # finding: the memory-wall points carried no names
    from roofline.outputs import plot

    texts = [t.get_text() for t in plot.memory_wall_chart().axes[0].texts]
    assert "H100 SXM5" in texts or any("H100" in t for t in texts)
    assert any("P100" in t for t in texts)


def test_token_time_chart_draws_the_decode_terms():
    from roofline import llm
    from roofline.outputs import plot

    est = llm.estimate("llama-3.1-8b", "h100")
    ax = plot.token_time_chart([est]).axes[0]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["1 × h100 · llama-3.1-8b"]
    hbm = est["decode_terms_s"]["memory:hbm"]
    # batch-1 BF16 decode reads 16 GB of weights at the measured 2.935 TB/s (STREAM copy/triad): about 5.5 ms
    assert hbm == pytest.approx(16.06e9 / 2.935e12, rel=0.05)
    # each operator's time goes to its binding term, so the terms add up to the step
    assert sum(est["decode_terms_s"].values()) == pytest.approx(est["tpot_s"])
    bars = {p.get_label(): p.get_width() for c in ax.containers for p in c}
    assert sum(p.get_width() for c in ax.containers for p in c) == pytest.approx(100)
    # the 4.8 ms of weights against 323 kernels (10 per layer x 32, embedding, final norm, lm_head) each paying
    # a 2.5 us launch on top (0.81 ms): HBM is 4.8 / (4.8 + 0.81) ~ 85 % of the step
    assert 80 < [p.get_width() for c in ax.containers if c.get_label() == "hbm" for p in c][0] < 90
    assert bars


# ---------------------------------------------------------------------------------------------------
# files: fonts in PDFs, text in SVGs
# ---------------------------------------------------------------------------------------------------
def _pdf_font_types(path) -> set[str]:
    """The /Subtype of every font a PDF embeds (Type3, TrueType, Type1...), read from the file itself."""
    import zlib

    data = path.read_bytes()
    kinds = set(re.findall(rb"/Subtype\s*/(Type3|TrueType|Type1C?|Type0|CIDFontType[02])", data))
    for m in re.finditer(rb"stream\r?\n(.*?)\r?\nendstream", data, re.S):
        try:
            kinds |= set(re.findall(rb"/Subtype\s*/(Type3|TrueType|Type1C?|Type0|CIDFontType[02])",
                                    zlib.decompress(m.group(1))))
        except zlib.error:
            pass
    return {k.decode() for k in kinds}


@pytest.mark.slow
@pytest.mark.parametrize("argv", [
    ["roofline", "wse3", "h100", "--model", "llama-3.1-8b"],
    ["compare", "wse3", "h100"],
    ["sweep", "--model", "llama-3.1-8b", "--device", "h100", "ai5", "--batch", "1:64"],
    ["frontier", "wse3", "8xh100", "--model", "llama-3.1-70b"],
    ["memory-wall"],
], ids=lambda a: a[0])
def test_pdf_charts_embed_no_type3_font_and_svg_keeps_text(tmp_path, capsys, argv):
    # finding: PDFs embedded Type 3 fonts (rejected by IEEE/ACM checkers); SVG text was turned into paths
    import shutil
    import subprocess

    pdf, svg = tmp_path / "c.pdf", tmp_path / "c.svg"
    assert main(["plot", *argv, "--out", str(pdf)]) == 0
    kinds = _pdf_font_types(pdf)
    # TrueType outlines, embedded whole (TrueType) or as a CID font (Type0 over CIDFontType2)
    assert kinds and "Type3" not in kinds and kinds & {"TrueType", "CIDFontType2"}, kinds
    if shutil.which("pdffonts"):
        out = subprocess.run(["pdffonts", str(pdf)], capture_output=True, text=True, check=True).stdout
        assert "Type 3" not in out and "TrueType" in out
    assert main(["plot", *argv, "-o", str(svg)]) == 0
    text = svg.read_text()
    assert "<text" in text and 'id="glyph' not in text.lower() and "<defs>\n  <path id=\"DejaVu" not in text


# ---------------------------------------------------------------------------------------------------
# roofline report: one self-contained file
# ---------------------------------------------------------------------------------------------------
def test_report_tables_assumptions_sources_version_and_date():
    from roofline import __version__
    from roofline.outputs.html import build_report, render_html, render_markdown

    rep = build_report(["wse3", "h100"], models=["llama-3.1-70b"], date="2026-01-02", charts=False)
    page = render_html(rep)
    assert page.startswith("<!DOCTYPE html>") and f"roofline {__version__}" in page and "2026-01-02" in page
    assert "default-src 'none'" in page                       # the browser may fetch nothing
    for section in ("Assumptions", "Comparison", "Where the time of one token goes", "Sources"):
        assert section in page
    # where the time of one token goes: the decode step's own terms (decode_terms_s), e.g. H100's HBM
    h100 = next(e for e in rep.estimates if e["device"] == "h100")
    assert human(h100["decode_terms_s"]["memory:hbm"], "s") in page
    # every figure's source: the H100 datasheet's HBM bandwidth with its URL
    assert "memory.hbm.bandwidth" in page and "3.35 TB/s" in page and 'href="https://' in page
    md, files = render_markdown(rep)
    assert md.startswith("# roofline report") and "| figure" in md and files == {}


def test_report_errors_are_one_line(capsys, tmp_path):
    assert main(["report", "wse3", "--out", str(tmp_path / "r.html")]) == 2
    assert "at least two devices" in capsys.readouterr().err
    assert main(["report", "wse3", "h100", "--out", str(tmp_path / "r.docx")]) == 2
    assert ".html, .pdf or .md" in capsys.readouterr().err


@pytest.fixture(scope="module")
def report_html(tmp_path_factory):
    path = tmp_path_factory.mktemp("report") / "r.html"
    assert main(["report", "wse3", "h100", "--model", "llama-3.1-70b", "--out", str(path)]) == 0
    return path


@pytest.mark.slow
def test_report_html_is_self_contained(report_html):
    page = report_html.read_text()
    # no resource from elsewhere: no src, no stylesheet link, no url(); links to sources are only anchors
    assert not re.search(r"""\ssrc\s*=|<link\b|url\((?!#)|@import|<script""", page, re.I)
    assert page.count("<svg") == 4                              # rooflines, comparison, frontier, token time
    assert page.count("<text") > 50 and "<style>" in page      # chart text kept as text, styles inline
    for chart_label in ("arithmetic intensity [FLOP/B]", "tokens/s per user (interactivity)", "4 × wse3"):
        assert chart_label in page


_CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                   "--disable-component-update", "--no-first-run", "--disable-extensions", "--disable-sync",
                   "--disable-default-apps", "--no-default-browser-check", "--disable-domain-reliability",
                   "--disable-breakpad", "--disable-spell-checking",
                   "--disable-features=NetworkTimeServiceQuerying,Translate,OptimizationHints,MediaRouter",
                   "--enable-logging=stderr", "--v=1"]

#: requests the browser makes for itself (its updater), whatever page it opens; none is the page's
_BROWSER_OWN = ("update.googleapis.com",)


def _chromium(page, tmp_path):
    """Open ``page`` in headless Chromium, in an empty network namespace where one can be made: (DOM, the
    URLs the network stack was asked for, console lines)."""
    import shutil
    import subprocess

    exe = shutil.which("chromium") or shutil.which("chromium-browser")
    if exe is None:
        pytest.skip("Chromium is not installed (.ci/run installs Debian's chromium)")
    cmd = [exe, *_CHROMIUM_FLAGS, f"--user-data-dir={tmp_path / 'profile'}", "--dump-dom", page.as_uri()]
    if shutil.which("unshare") and subprocess.run(["unshare", "-n", "true"], capture_output=True).returncode == 0:
        cmd = ["unshare", "-n", *cmd]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr[-2000:]
    urls = re.findall(r"NotifyBeforeURLRequest: (\S+)", r.stderr)
    console = [ln for ln in r.stderr.splitlines() if "CONSOLE" in ln or "Refused to" in ln]
    return r.stdout, [u for u in urls if not any(h in u for h in _BROWSER_OWN)], console


@pytest.mark.slow
def test_report_opens_offline_in_headless_chromium(report_html, tmp_path):
    # the control: a page that fetches an image is seen fetching it, so the check below can fail
    control = tmp_path / "control.html"
    control.write_text('<!DOCTYPE html><html><body><img src="http://198.51.100.7/x.png"></body></html>')
    _, urls, _ = _chromium(control, tmp_path)
    assert any("198.51.100.7" in u for u in urls)
    dom, urls, console = _chromium(report_html, tmp_path)
    assert urls == [], urls                        # no request left the page
    assert console == [], console                  # no console error, nothing refused
    assert "<svg" in dom and "Where the time of one token goes" in dom and "llama-3.1-70b" in dom
    assert "tokens/s per user (interactivity)" in dom


@pytest.mark.slow
def test_report_pdf_and_markdown(tmp_path, capsys):
    pdf, md = tmp_path / "report.pdf", tmp_path / "report.md"
    assert main(["report", "wse3", "h100", "-m", "llama-3.1-8b", "-o", str(pdf)]) == 0
    assert pdf.read_bytes()[:5] == b"%PDF-"
    kinds = _pdf_font_types(pdf)
    assert "Type3" not in kinds and kinds & {"TrueType", "CIDFontType2"}
    assert main(["report", "wse3", "h100", "-m", "llama-3.1-8b", "-o", str(md)]) == 0
    text = md.read_text()
    charts = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", text)
    assert len(charts) == 4 and all((tmp_path / c).read_text().lstrip().startswith("<svg") for c in charts)


# ---------------------------------------------------------------------------------------------------
# command-line conventions
# ---------------------------------------------------------------------------------------------------
def _all_parsers():
    import argparse

    from roofline.outputs.cli import build_parser

    stack = [((), build_parser())]
    while stack:
        path, p = stack.pop()
        yield path, p
        for a in p._actions:
            if isinstance(a, argparse._SubParsersAction):
                stack += [(path + (name,), sub) for name, sub in a.choices.items()]


def test_every_option_has_help_and_every_command_an_example():
    # finding: 27 of 108 options had no help; no examples in --help
    import argparse

    missing, no_example = [], []
    for path, p in _all_parsers():
        for a in p._actions:
            if isinstance(a, (argparse._HelpAction, argparse._SubParsersAction)):
                continue
            if not (a.help or "").strip():
                missing.append(" ".join(path) + " " + "/".join(a.option_strings or [a.dest]))
        if path and not (p.epilog or "").startswith("example:"):
            no_example.append(" ".join(path))
    assert missing == [] and no_example == []


def test_short_flags_and_format_wherever_there_is_output():
    # finding: no short flags (-o, -m, -d, -f); --format was missing on plot
    import argparse

    for path, p in _all_parsers():
        opts = {s for a in p._actions for s in a.option_strings}
        if len(path) and path != ("plot",):
            assert "-f" in opts and "--format" in opts, path
        if "--model" in opts:
            assert "-m" in opts, path
        if "--device" in opts:
            assert "-d" in opts, path
        if "--out" in opts:
            assert "-o" in opts, path


@pytest.mark.parametrize("argv", [
    ["--device", "h100,b200"],
    ["--device", "h100", "--device", "b200"],
    ["-d", "h100", "b200"],
    ["-d", "h100,b200", "--dtype", "bf16", "--dtype", "fp8"],
])
def test_one_list_syntax_everywhere(argv):
    # finding: lists were spaces for --device, commas for --devices/--dtype, repeats for --model
    from roofline.outputs.cli import build_parser

    args = build_parser().parse_args(["sweep", "-m", "llama-3.1-8b,llama-3.1-70b", *argv])
    assert args.device == ["h100", "b200"] and args.model == ["llama-3.1-8b", "llama-3.1-70b"]
    assert args.dtype in (["bf16"], ["bf16", "fp8"])
    args = build_parser().parse_args(["sweep", "-m", "llama-3.1-8b", "-m", "llama-3.1-70b", "-d", "h100",
                                      "--devices", "2", "--devices", "4,8"])
    assert args.model == ["llama-3.1-8b", "llama-3.1-70b"] and args.devices == [2, 4, 8]
    args = build_parser().parse_args(["compare", "wse3", "h100", "-m", "llama-3.1-8b,llama-3.1-70b"])
    assert args.model == ["llama-3.1-8b", "llama-3.1-70b"]


def test_plot_format_option(tmp_path, capsys):
    out = tmp_path / "wall"
    assert main(["plot", "memory-wall", "-o", str(out), "-f", "svg"]) == 0
    assert (tmp_path / "wall.svg").read_text().lstrip().startswith("<?xml")
    assert main(["plot", "memory-wall", "-o", str(tmp_path / "w.png"), "-f", "svg"]) == 2
    assert "make them agree" in capsys.readouterr().err


# ---------------------------------------------------------------------------------------------------
# the Python API
# ---------------------------------------------------------------------------------------------------
def test_results_display_in_notebooks_and_turn_into_frames():
    # finding: no rich display for devices, models or results (estimate() returned a bare 40-key dict)
    import roofline
    from roofline import llm
    from roofline.engine.kernel import kernel_report
    from roofline.workloads import kernels

    rec = llm.estimate("llama-3.1-8b", "ai5")
    assert isinstance(rec, dict) and json.loads(json.dumps(rec))["model"] == "llama-3.1-8b"   # still a record
    assert "<table" in rec._repr_html_() and "llama-3.1-8b" in rec._repr_html_()
    df = rec.to_frame()
    assert len(df) == 1 and df.tpot_s.iloc[0] == rec["tpot_s"]
    assert df.tpot_s_best.iloc[0] <= df.tpot_s.iloc[0] <= df.tpot_s_worst.iloc[0]   # AI5 is known as ranges
    assert df.attrs["model"] == "llama-3.1-8b" and df.attrs["device"] == "ai5"
    assert df.attrs["units"]["tpot_s"] == "s" and df.attrs["units"]["weights_bytes"] == "B"
    k = kernel_report(kernels.gemm(4096, 4096, 4096), roofline.get_device("h100"))
    kf = k.to_frame()
    # the estimate: 2 x 4096^3 FLOP at the H100's measured 794.5 TFLOP/s BF16 ceiling (MAMF): 173 us, plus
    # its 2.5 us launch
    assert kf.time_s.iloc[0] == pytest.approx(2 * 4096**3 / 794.5e12 + 2.5e-6)
    assert kf.attrs["units"]["flops"] == "FLOP"
    assert "<table" in k._repr_html_()
    html_dev = roofline.get_device("h100")._repr_html_()
    assert "memory.hbm.bandwidth" in html_dev and "3.35e+12 B/s" in html_dev and "datasheet" in html_dev
    html_model = llm.get_model("llama-3.1-70b")._repr_html_()
    assert "KV heads" in html_model and "<td>8</td>" in html_model     # Llama 3.1 70B: 8 KV heads


def test_frames_carry_model_device_and_units_in_attrs():
    from roofline import llm

    df = llm.decode_sweep("llama-3.1-8b", ["h100", "ai5"], batch=[1, 8], context=[2048])
    assert df.attrs["model"] == "llama-3.1-8b" and df.attrs["devices"] == ["h100", "ai5"]
    assert df.attrs["units"]["time_s"] == "s" and df.attrs["units"]["time_s_best"] == "s"
    f = llm.frontier("llama-3.1-70b", "h100", devices=8)
    assert f.attrs["system"] == "8 × h100" and f.attrs["units"]["tokens_per_s_per_kw"] == "1/(s kW)"


def test_api_takes_quantities_as_strings_or_pint_and_checks_their_dimension():
    # finding: the API took SI floats only, and pint quantities passed through unchecked
    from roofline.sweep import sweep
    from roofline.units import UnitError, registry
    from roofline.workloads import kernels

    gemv = kernels.gemv(8192, 8192)
    a = sweep(gemv, "h100", figures={"memory.hbm.bandwidth": ["3.35 TB/s", "6.7 TB/s"]})
    b = sweep(gemv, "h100", figures={"memory.hbm.bandwidth": registry().Quantity([3.35, 6.7], "TB/s")})
    c = sweep(gemv, "h100", figures={"memory.hbm.bandwidth": [3.35e12, 6.7e12]})
    assert a.time_s.tolist() == b.time_s.tolist() == c.time_s.tolist()
    # twice the bandwidth halves a bandwidth-bound GEMV: 8192^2 x 2 B / 3.35 TB/s = 40 us; the 2.5 us launch
    # comes on top of both
    assert a.time_s.iloc[0] - 2.5e-6 == pytest.approx(2 * (a.time_s.iloc[1] - 2.5e-6), rel=1e-3)
    assert a.attrs["units"]["memory.hbm.bandwidth"] == "B/s"
    with pytest.raises(UnitError, match="expected"):
        sweep(gemv, "h100", figures={"memory.hbm.bandwidth": registry().Quantity([3.35], "TB")})
    with pytest.raises(UnitError):
        sweep(gemv, "h100", figures={"memory.hbm.bandwidth": ["80 GB"]})


@pytest.mark.slow
def test_package_is_typed_and_submodules_load_on_first_use():
    # findings: no py.typed; `import roofline; roofline.llm` failed; tab completion showed `annotations`
    import subprocess
    import sys
    from pathlib import Path

    import roofline

    assert (Path(roofline.__file__).parent / "py.typed").is_file()
    assert "annotations" not in dir(roofline) and "llm" in dir(roofline)
    code = "import roofline; print(roofline.llm.estimate.__name__, roofline.outputs.plot.__name__)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["estimate", "roofline.outputs.plot"]


# ---------------------------------------------------------------------------------------------------
# docs and notebooks
# ---------------------------------------------------------------------------------------------------
_ROOT = __import__("pathlib").Path(__file__).resolve().parent.parent


def _mkdocs():
    yaml = pytest.importorskip("yaml")

    return yaml.safe_load((_ROOT / "mkdocs.yml").read_text())


def _hook():
    import importlib.util

    pytest.importorskip("mkdocs")
    spec = importlib.util.spec_from_file_location("offline_assets", _ROOT / "docs/hooks/offline_assets.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_docs_maths_notebooks_tables_and_landing_chart_are_configured():
    # findings: maths only from a CDN; notebooks not in the site; tables overflowed; no chart on the landing page
    cfg = _mkdocs()
    assert not [s for s in cfg["extra_javascript"] if "://" in s]
    assert "docs/hooks/offline_assets.py" in cfg["hooks"]
    jup = next(p["mkdocs-jupyter"] for p in cfg["plugins"] if isinstance(p, dict) and "mkdocs-jupyter" in p)
    assert jup["execute"] is True and jup["allow_errors"] is False
    nav_text = json.dumps(cfg["nav"])
    notebooks = sorted(p.name for p in (_ROOT / "notebooks").glob("*.ipynb"))
    assert notebooks and all(f"notebooks/{n}" in nav_text for n in notebooks)
    assert (_ROOT / "docs/notebooks").resolve() == (_ROOT / "notebooks").resolve()
    css = (_ROOT / "docs" / cfg["extra_css"][0]).read_text()
    assert "overflow-x: auto" in css
    assert "](assets/landing-roofline.svg)" in (_ROOT / "docs/index.md").read_text()


def test_docs_build_refuses_a_page_that_loads_from_the_network(tmp_path):
    hook = _hook()
    from mkdocs.exceptions import PluginError

    (tmp_path / "ok.html").write_text('<a href="https://example.org/datasheet.pdf">datasheet</a>'
                                      '<script src="../javascripts/mathjax/MathJax.js"></script>')
    hook.check_site(tmp_path)
    (tmp_path / "bad.html").write_text('<script src="https://cdn.jsdelivr.net/npm/mathjax@3/es5/tex-mml-chtml.js">'
                                       '</script>')
    with pytest.raises(PluginError, match="bad.html"):
        hook.check_site(tmp_path)
    # mkdocs-jupyter's own MathJax tags (CDN or empty) are taken out of notebook pages
    page = ('<script src=""> </script><script src="https://cdnjs.cloudflare.com/ajax/libs/mathjax/2.7.7/latest.js'
            '?config=TeX-AMS_CHTML-full,Safe"></script><p>x</p>')
    assert hook.on_post_page(page, None, None) == "<p>x</p>"


def test_landing_chart_is_drawn_by_the_library():
    svg = _hook().landing_chart()
    assert svg.startswith("<svg") and "<text" in svg and "ai5 bf16" in svg


def _code_cells(name):
    nbformat = pytest.importorskip("nbformat")
    nb = nbformat.read(_ROOT / "notebooks" / name, as_version=4)
    return [c.source for c in nb.cells if c.cell_type == "code"]


def test_notebook_03_leaves_the_ai5_band_to_the_library():
    # finding: notebook 03 drew its own AI5 band on top of the library's
    cells = _code_cells("03-low-latency-llm-inference.ipynb")
    assert not [c for c in cells if "frontier_chart" in c and "ax.plot(" in c]


def test_notebook_01_first_table_is_readable():
    # finding: the first table a reader met held raw 1.584000e+16
    import roofline
    from roofline.outputs import report

    first = next(c for c in _code_cells("01-quickstart.ipynb") if "device_summary" in c)
    ns = {"pd": pd, "roofline": roofline, "report": report}
    # the cell's last expression is the table it shows: keep it as `table`
    exec(compile(first.replace("\npd.DataFrame({", "\ntable = pd.DataFrame({", 1), "cell", "exec"), ns)
    text = ns["table"].to_string()
    assert "e+" not in text and "989 TFLOP/s" in text and "3.35 TB/s" in text
