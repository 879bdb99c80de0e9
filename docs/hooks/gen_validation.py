"""MkDocs hook: the validation table and chart, generated at build time from measurements/measurements.csv.

``docs/validation.md`` holds the prose and the marker ``<!-- validation-table -->``; the hook replaces the
marker with a table of every measurement against its bound (from :func:`roofline.validation.validate`) and
adds the chart ``validation/chart.svg`` (from :func:`roofline.outputs.plot.validation_chart`) to the build in
memory. Nothing generated is written into ``docs/``.
"""

from __future__ import annotations

import io

from mkdocs.exceptions import PluginError
from mkdocs.structure.files import File

MARKER = "<!-- validation-table -->"
CHART = "validation/chart.svg"
REGIME_MARKER = "<!-- regime-table -->"
TARGETS_MARKER = "<!-- regime-targets -->"
MISSES_MARKER = "<!-- regime-misses -->"
REGIME_CHART = "validation/regimes.svg"
_rows = None
_regimes = None


def _regimes_summary():
    global _regimes
    if _regimes is None:
        from roofline.validation import estimate_rows, regime_summary

        _regimes = regime_summary(estimate_rows(rows=_results()))  # the same rows as the main table
    return _regimes


def _targets_table() -> str:
    """Each target of issue 18 against the median error before and after (computed at build time)."""
    from roofline.validation import target_check

    lines = ["| regime | rows | target: median error at most | before | after | met | every row below both bounds |",
             "|---|---|---|---|---|---|---|"]
    for t in target_check(_regimes_summary()):
        lines.append(f"| {t['regime']} | {t['rows']} | {t['limit']:.0%} | {t['before']:.0%} | **{t['after']:.0%}** | "
                     f"{'yes' if t['met'] else '**no**'} | {'yes' if t['below_bounds'] else '**no**'} |")
    return "\n".join(lines)


def _misses_table() -> str:
    """The rows of the regimes with a target (and the quantised decode rows) off by more than 20 %."""
    from roofline.validation import TARGETS, estimate_rows, misses

    rows = misses(estimate_rows(rows=_results()), tuple(TARGETS) + ("decode-single-user-gpu-quantised",))
    terms = {r["id"]: r.get("bound_term_estimate") or "" for r in _results()}
    lines = ["| measurement | regime | measured / estimate | binds (estimate) |", "|---|---|---|---|"]
    lines += [f"| `{r['id']}` | {r['regime']} | {r['ratio_after']:.2f} | {terms.get(r['id'], '')} |" for r in rows]
    return "\n".join(lines)


def _regime_table() -> str:
    lines = ["| regime | rows | before: median | before: quartiles | before: within ±20 % / ±50 % | "
             "after: median | after: quartiles | after: within ±20 % / ±50 % | below both bounds |",
             "|---|---|---|---|---|---|---|---|---|"]
    for s in _regimes_summary():
        b, a = s["before"], s["after"]
        lines.append(f"| {s['regime']} | {s['rows']} | {b['median']:.2f} | {b['q1']:.2f}–{b['q3']:.2f} | "
                     f"{b['within_20']:.0%} / {b['within_50']:.0%} | **{a['median']:.2f}** | {a['q1']:.2f}–{a['q3']:.2f} | "
                     f"{a['within_20']:.0%} / {a['within_50']:.0%} | {s['below_bounds']}/{s['rows']} |")
    return "\n".join(lines)


def _results():
    global _rows
    if _rows is None:
        from roofline.validation import validate

        _rows = validate()
    return _rows


def on_files(files, config):
    import matplotlib

    matplotlib.use("Agg")
    from roofline.outputs import plot

    fig = plot.validation_chart(_results())
    buf = io.StringIO()
    fig.savefig(buf, format="svg", bbox_inches="tight")
    plot.plt.close(fig)
    files.append(File.generated(config, CHART, content=buf.getvalue()))
    fig = plot.regime_chart(_regimes_summary())
    buf = io.StringIO()
    fig.savefig(buf, format="svg", bbox_inches="tight")
    plot.plt.close(fig)
    files.append(File.generated(config, REGIME_CHART, content=buf.getvalue()))
    return files


def _fmt(v, metric):
    from roofline.outputs.format import human

    unit = {"bandwidth_bytes_per_s": "B/s", "flops_per_s": "FLOP/s", "time_per_output_token_s": "s",
            "time_to_first_token_s": "s"}.get(metric, "")
    return human(v, unit, 3) if unit else f"{v:,.1f} tok/s"


SUMMARY = "<!-- validation-summary -->"


def _category_table(rows) -> str:
    """Per category: the distribution of measured / estimated speed (the mesh model's estimate)."""
    from roofline.validation import category_summary

    lines = ["| category | rows | median | min | max | within 2× |", "|---|---|---|---|---|---|"]
    for cat, d in category_summary(rows).items():
        lines.append(f"| {cat} | {d['n']} | {d['median']:.2f} | {d['min']:.2f} | {d['max']:.2f} | "
                     f"{d['within_2x']} of {d['n']} |")
    return "\n".join(lines)


def on_page_markdown(markdown, page, config, files):
    if page.file.src_uri != "validation.md":
        return markdown
    for marker in (MARKER, SUMMARY):
        if marker not in markdown:
            raise PluginError(f"gen_validation hook: validation.md lacks {marker}")
    rows = _results()
    n_bad = sum(1 for r in rows if r.get("violation"))
    lines = [f"{len(rows)} measurements; **{n_bad}** beat their ideal bound or their latency bound.", "",
             "| measurement | device × n | metric | measured | ideal bound | eff. ideal | eff. latency bound | "
             "measured / estimate | binds (estimate) | source |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        n = r.get("devices_used") or r.get("device_count") or 1
        flag = " (speculative)" if r.get("speculative") else ""
        if r.get("efficiency_ideal") is None:
            lines.append(f"| `{r['id']}`{flag} | {r['device']} × {n} | {r['metric']} | "
                         f"{_fmt(r['value'], r['metric'])} | error: {r.get('error', '')[:60]} | | | | | |")
            continue
        ratio = f"{r['ratio_estimate']:.2f}" + ("" if r.get("in_estimate_range") else " (outside range)")
        lines.append(
            f"| `{r['id']}`{flag} | {r['device']} × {n} | {r['metric']} | {_fmt(r['value'], r['metric'])} | "
            f"{_fmt(r['bound_ideal'], r['metric'])} | {r['efficiency_ideal']:.3f} | {r['efficiency']:.3f} | "
            f"{ratio} | {r.get('bound_term_estimate') or r.get('level', '')} | "
            f"[{r['source_title'][:50]}]({r['source_url']}) |")
    if REGIME_MARKER in markdown:
        markdown = markdown.replace(REGIME_MARKER, _regime_table())
    markdown = markdown.replace(TARGETS_MARKER, _targets_table()).replace(MISSES_MARKER, _misses_table())
    return markdown.replace(MARKER, "\n".join(lines)).replace(SUMMARY, _category_table(rows))
