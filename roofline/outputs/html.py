"""The report: devices compared for one or more models, as one self-contained HTML file (or PDF, or
Markdown with its charts beside it), for ``roofline report``.

:func:`build_report` gathers what the rest of the library computes — the comparison
(:func:`roofline.outputs.compare.compare`), one estimate per model and device
(:func:`roofline.llm.inference.estimate`), the frontier (:func:`roofline.llm.sweeps.frontier`), every
device figure with its source (:func:`roofline.outputs.report.figure_records`) — into a :class:`Report`;
:func:`render_html`, :func:`render_markdown` and :func:`write_pdf` lay it out, and :func:`write_report`
picks one by the file's extension and writes it atomically.

The HTML file needs nothing else: its charts are inline SVG whose text stays text, its styles are inline,
it runs no script, and its Content-Security-Policy (``default-src 'none'``) forbids the browser to fetch
anything, so it reads the same offline, from a mail attachment or an archive, years later.
"""

from __future__ import annotations

import datetime as _dt
import html
import os
from dataclasses import dataclass, field
from typing import Sequence

from .._version import __version__
from ..errors import CapacityError, InputError
from .format import human, render, term_name

__all__ = ["REPORT_FORMATS", "Report", "build_report", "render_html", "render_markdown", "write_pdf", "write_report",
           "close"]

#: The files ``roofline report`` writes, by extension.
REPORT_FORMATS = (".html", ".pdf", ".md")


@dataclass
class Report:
    """What a report shows, computed once and laid out by each renderer.

    Attributes
    ----------
    devices : list of str
        Device keys, the first the reference of the ratios.
    models : list of str
        Model keys.
    batch, context : int
        Sequences decoded together and tokens in context (and in the prompt) [1].
    dtype : str
        Data type of weights, activations and KV cache.
    ideal : bool
        Latency terms left out.
    comparison : dict
        From :func:`roofline.outputs.compare.compare`.
    estimates : list of dict
        One :func:`roofline.llm.inference.estimate` record per model and device that holds the model.
    skipped : list of str
        Model–device pairs that could not run, and why.
    charts : dict of str to matplotlib.figure.Figure
        Title to chart, in report order.
    figures : dict of str to list of dict
        Per device, :func:`roofline.outputs.report.figure_records` (every figure and its source).
    model_sources : dict of str to str
        Per model, the URL of its configuration.
    version, date : str
        The roofline version and the date (UTC, ISO 8601) the report was made.
    """

    devices: list
    models: list
    batch: int
    context: int
    dtype: str
    ideal: bool
    comparison: dict
    estimates: list
    skipped: list
    charts: dict = field(default_factory=dict)
    figures: dict = field(default_factory=dict)
    model_sources: dict = field(default_factory=dict)
    version: str = __version__
    date: str = ""

    def assumptions(self) -> list[str]:
        """The assumptions behind every number, as sentences (it takes no parameters).

        Returns
        -------
        list of str
        """
        return [
            "Every time is a bound, not a prediction: per operator the largest of its compute, memory and "
            "link times (full overlap), summed over the operators of a step; a measured system is slower.",
            f"Workloads in {self.dtype} (weights, activations and KV cache); LLMs at batch {self.batch} with "
            f"{self.context} tokens in context, prefill of a {self.context}-token prompt.",
            "Latency terms left out (the pure roofline)." if self.ideal else
            "Latency terms included: per-operator launch and memory latency, link latency per collective.",
            "A model runs on the fewest devices whose main memory holds its weights and KV cache; ×N names "
            "a system of N devices, and its rates are the system's.",
            "Figures marked as estimates are ranges; results on such devices are given at the nominal "
            "figures with their best–worst range.",
            "Units are decimal (1 GB = 10^9 B, 1 TB/s = 10^12 B/s) unless written GiB.",
        ]


def _estimates(devices, models, batch, context, dtype, ideal, spec_paths):
    from ..hardware.library import get_device
    from ..llm.inference import estimate

    out, skipped = [], []
    for model in models:
        for key in devices:
            try:
                out.append(estimate(model, get_device(key, spec_paths), batch=batch, context=context, dtype=dtype,
                                    ideal=ideal))
            except (CapacityError, InputError) as exc:
                skipped.append(f"{model} on {key}: {exc}")
    return out, skipped


def _frontiers(devices, models, context, dtype, ideal, spec_paths) -> list:
    from ..hardware.library import get_device
    from ..llm.sweeps import frontier

    frames = []
    for model in models:
        for key in devices:
            try:
                frames.append(frontier(model, get_device(key, spec_paths), context=context, dtype=dtype, ideal=ideal))
            except (CapacityError, InputError):
                continue
    return frames


def _charts(rep: Report, spec_paths) -> dict:
    from ..hardware.library import get_device
    from . import plot
    from .report import roofline_points

    devs = [get_device(k, spec_paths) for k in rep.devices]
    pts = roofline_points(devs, dtype=rep.dtype, models=rep.models, batch=rep.batch, context=rep.context,
                          ideal=rep.ideal)
    charts = {"Rooflines": plot.roofline_chart(devs, dtypes=[rep.dtype], points=pts),
              "Comparison": plot.compare_chart(rep.comparison)}
    frames = _frontiers(rep.devices, rep.models, rep.context, rep.dtype, rep.ideal, spec_paths)
    if frames:
        charts["Throughput against interactivity"] = plot.frontier_chart(frames)
    if rep.estimates:
        charts["Where the time of one token goes"] = plot.token_time_chart(rep.estimates)
    return charts


def build_report(devices: Sequence[str], models: Sequence[str] | None = None, batch: int = 1, context: int = 2048,
                 dtype: str = "bf16", ideal: bool = False, spec_paths=(), date: str | None = None,
                 charts: bool = True) -> Report:
    """Compute everything a report shows.

    Parameters
    ----------
    devices : sequence of str
        Two or more device keys (or aliases); the first is the reference of the ratios.
    models : sequence of str, optional
        Model keys or files (default :data:`roofline.outputs.compare.DEFAULT_MODELS`).
    batch : int
        Sequences decoded together [1].
    context : int
        Tokens in context, and the prompt length of prefill [1].
    dtype : str
        Data type of weights, activations and KV cache.
    ideal : bool
        Leave out latency terms.
    spec_paths : iterable of path
        Extra spec files or folders.
    date : str, optional
        The date to print (default: today, UTC).
    charts : bool
        Draw the charts (matplotlib); without them the report is tables only.

    Returns
    -------
    Report

    Raises
    ------
    InputError
        Fewer than two devices, the same device twice, a device without a ``dtype`` peak.
    UnknownNameError
        An unknown device or model.
    """
    from ..hardware.library import get_device
    from ..llm.loader import get_model
    from .compare import DEFAULT_MODELS, compare
    from .report import figure_records

    models = list(models) if models else list(DEFAULT_MODELS)
    res = compare(devices, models=models, batch=batch, context=context, dtype=dtype, ideal=ideal, spec_paths=spec_paths)
    keys = [d["key"] for d in res["devices"]]
    est, skipped = _estimates(keys, models, batch, context, dtype, ideal, spec_paths)
    rep = Report(keys, [get_model(m).key for m in models], batch, context, dtype, ideal, res, est, skipped,
                 figures={k: figure_records(get_device(k, spec_paths)) for k in keys},
                 model_sources={get_model(m).key: get_model(m).source.get("url", "") for m in models},
                 date=date or _dt.datetime.now(_dt.timezone.utc).date().isoformat())
    if charts:
        rep.charts = _charts(rep, spec_paths)
    return rep


# ------------------------------------------------------------------------------------------------------
# tables shared by the layouts
# ------------------------------------------------------------------------------------------------------
def _estimate_rows(rep: Report) -> list[dict]:
    rows = []
    for e in rep.estimates:
        rows.append({"model": e["model"], "system": f"{e['devices_used']} × {e['device']} (tp={e['tp']}, pp={e['pp']})",
                     "time per token": human(e["tpot_s"], "s"), "decode bound": term_name(e["bound"]),
                     "tokens/s per user": f"{e['tokens_per_s_per_user']:,.1f}",
                     "time to first token": human(e["ttft_s"], "s"), "weights in": e["weights_level"]})
    return rows


def _token_rows(rep: Report) -> list[dict]:
    """Where the time of one token goes: each decode term of each estimate, beside the step's time."""
    rows = []
    for e in rep.estimates:
        for term, t in e["decode_terms_s"].items():
            if t > 0:
                rows.append({"system": f"{e['devices_used']} × {e['device']}", "model": e["model"],
                             "bound by": term_name(term), "time": human(t, "s"),
                             "of the step": f"{100 * t / e['tpot_s']:.1f} %", "time per token": human(e["tpot_s"], "s")})
    return rows


def _source_rows(rep: Report, key: str) -> list[dict]:
    return [{"figure": r["figure"], "value": human(r["value"], r["unit"]),
             "range": f"{human(r['low'], r['unit'])} – {human(r['high'], r['unit'])}" if r["low"] != r["high"] else "",
             "basis": r["basis"], "source": r["source_titles"], "url": r["source_urls"]}
            for r in rep.figures[key]]


def _title(rep: Report) -> str:
    return f"roofline report: {', '.join(rep.models)} on {', '.join(rep.devices)}"


# ------------------------------------------------------------------------------------------------------
# HTML
# ------------------------------------------------------------------------------------------------------
_CSS = """
body { font-family: system-ui, -apple-system, "Segoe UI", "DejaVu Sans", sans-serif; margin: 2rem auto;
       max-width: 72rem; padding: 0 1rem; color: #1a1a1a; line-height: 1.45; }
h1 { font-size: 1.6rem; } h2 { font-size: 1.25rem; margin-top: 2.2rem; border-bottom: 1px solid #ccc; }
.meta { color: #555; font-size: 0.9rem; }
.scroll { overflow-x: auto; max-width: 100%; }
table { border-collapse: collapse; font-size: 0.85rem; margin: 0.6rem 0; }
th, td { border-bottom: 1px solid #e2e2e2; padding: 0.25rem 0.6rem; text-align: left; vertical-align: top; }
th { background: #f4f4f4; } caption { text-align: left; font-weight: 600; padding: 0.3rem 0; }
figure { margin: 1rem 0; } figure svg { width: 100%; max-width: 62rem; height: auto; }
figcaption { font-size: 0.85rem; color: #444; }
td.url { font-size: 0.75rem; word-break: break-all; }
"""

_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"


def _html_table(rows: list[dict], caption: str = "", url_col: str | None = None) -> str:
    if not rows:
        return ""
    cols = list(dict.fromkeys(k for r in rows for k in r))
    head = "".join(f"<th>{html.escape(c)}</th>" for c in cols)
    body = "".join("<tr>" + "".join(_html_cell(c, r.get(c, ""), url_col) for c in cols) + "</tr>" for r in rows)
    cap = f"<caption>{html.escape(caption)}</caption>" if caption else ""
    return f'<div class="scroll"><table>{cap}<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></div>'


def _html_cell(col: str, value, url_col: str | None) -> str:
    text = html.escape("" if value is None else str(value))
    if col == url_col and text:
        links = " ".join(f'<a href="{u}">{u}</a>' for u in text.split())
        return f'<td class="url">{links}</td>'
    return f"<td>{text}</td>"


def _html_charts(rep: Report) -> str:
    from .plot import to_svg

    parts = []
    for name, fig in rep.charts.items():
        parts.append(f"<h2>{html.escape(name)}</h2><figure>{to_svg(fig, close=False)}"
                     f"<figcaption>{html.escape(name)}. Source: the device figures listed under Sources, "
                     f"computed by roofline {html.escape(rep.version)}.</figcaption></figure>")
    return "".join(parts)


def _html_sources(rep: Report) -> str:
    parts = ["<h2>Sources</h2>", "<p>Every device figure behind the tables and charts, with its basis "
             "(datasheet, derived or estimate) and its source.</p>"]
    for key in rep.devices:
        parts.append(_html_table(_source_rows(rep, key), caption=f"{key}", url_col="url"))
    models = [{"model": k, "url": u} for k, u in rep.model_sources.items()]
    parts.append(_html_table(models, caption="Model configurations", url_col="url"))
    return "".join(parts)


def render_html(rep: Report) -> str:
    """The report as one self-contained HTML document.

    Parameters
    ----------
    rep : Report
        From :func:`build_report`.

    Returns
    -------
    str
        The document: inline SVG charts (text kept as text), inline styles, no script, and a
        Content-Security-Policy that lets the browser fetch nothing.
    """
    from .compare import comparison_rows

    specs, loads = comparison_rows(rep.comparison)
    esc = html.escape
    body = [f"<h1>{esc(_title(rep))}</h1>",
            f'<p class="meta">roofline {esc(rep.version)} · made {esc(rep.date)} · {esc(rep.dtype)}, batch '
            f'{rep.batch}, context {rep.context}{", ideal" if rep.ideal else ""}</p>',
            "<h2>Assumptions</h2><ul>" + "".join(f"<li>{esc(a)}</li>" for a in rep.assumptions()) + "</ul>",
            "<h2>Comparison</h2>", _html_table(specs, "Devices"), _html_table(loads, "Workloads"),
            "<h2>Estimates</h2>", _html_table(_estimate_rows(rep), "One decode step and the prefill, per system"),
            "".join(f"<p>Not run: {esc(s)}</p>" for s in rep.skipped),
            _html_table(_token_rows(rep), "Where the time of one token goes (each operator's time, added up by the term that binds it)"),
            _html_charts(rep), _html_sources(rep)]
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            f'<meta http-equiv="Content-Security-Policy" content="{_CSP}">'
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<meta name=\"generator\" content=\"roofline {esc(rep.version)}\">"
            f"<title>{esc(_title(rep))}</title><style>{_CSS}</style></head><body>"
            + "\n".join(body) + "</body></html>\n")


# ------------------------------------------------------------------------------------------------------
# Markdown and PDF
# ------------------------------------------------------------------------------------------------------
def _chart_file(stem: str, name: str) -> str:
    return f"{stem}-{name.lower().replace(' ', '-')}.svg"


def render_markdown(rep: Report, stem: str = "report") -> tuple[str, dict[str, str]]:
    """The report as Markdown, with its charts as SVG files to write beside it.

    Parameters
    ----------
    rep : Report
        From :func:`build_report`.
    stem : str
        The name the chart files start with (``report-rooflines.svg``...).

    Returns
    -------
    tuple of str and dict
        The Markdown text, and file name to SVG text of each chart.
    """
    from .compare import comparison_rows
    from .plot import to_svg

    specs, loads = comparison_rows(rep.comparison)
    files = {_chart_file(stem, name): to_svg(fig, close=False) for name, fig in rep.charts.items()}
    md = [f"# {_title(rep)}", f"roofline {rep.version} · made {rep.date} · {rep.dtype}, batch {rep.batch}, "
          f"context {rep.context}" + (", ideal" if rep.ideal else ""), "## Assumptions",
          "\n".join(f"- {a}" for a in rep.assumptions()), "## Comparison", render(specs, "markdown"),
          render(loads, "markdown"), "## Estimates", render(_estimate_rows(rep), "markdown") if rep.estimates else "",
          "\n".join(f"Not run: {s}" for s in rep.skipped),
          render(_token_rows(rep), "markdown") if rep.estimates else ""]
    md += [f"## {name}\n\n![{name}]({_chart_file(stem, name)})" for name in rep.charts]
    md.append("## Sources")
    for key in rep.devices:
        md += [f"### {key}", render(_source_rows(rep, key), "markdown")]
    md += ["### Model configurations", "\n".join(f"- {k}: <{u}>" for k, u in rep.model_sources.items())]
    return "\n\n".join(p for p in md if p) + "\n", files


def _text_pages(pdf, title: str, text: str, lines_per_page: int = 64) -> None:
    import matplotlib.pyplot as plt

    lines = text.splitlines() or [""]
    for i in range(0, len(lines), lines_per_page):
        fig = plt.figure(figsize=(8.27, 11.69))
        fig.text(0.05, 0.96, title, fontsize=12, weight="bold", va="top")
        fig.text(0.05, 0.93, "\n".join(lines[i:i + lines_per_page]), fontsize=5.6, family="monospace", va="top")
        pdf.savefig(fig)
        plt.close(fig)


def write_pdf(rep: Report, path: str) -> str:
    """The report as a PDF: a page of assumptions and tables, one page per chart, the sources; TrueType
    fonts throughout.

    Parameters
    ----------
    rep : Report
        From :func:`build_report`.
    path : str
        The ``.pdf`` file (written atomically).

    Returns
    -------
    str
        ``path``.
    """
    import matplotlib.pyplot as plt
    from matplotlib.backends.backend_pdf import PdfPages

    from .._paths import atomic_output
    from .compare import comparison_rows
    from .plot import SAVE_RC

    specs, loads = comparison_rows(rep.comparison)
    head = (f"roofline {rep.version} · made {rep.date}\n\n" + "\n".join(f"- {a}" for a in rep.assumptions())
            + "\n\n" + render(specs, "table") + "\n\n" + render(loads, "table") + "\n\n"
            + (render(_estimate_rows(rep), "table") + "\n\n" + render(_token_rows(rep), "table") if rep.estimates else ""))
    sources = "\n\n".join(f"{k}\n" + render([{c: v for c, v in r.items() if c != "url"} for r in _source_rows(rep, k)],
                                            "table") for k in rep.devices)
    with plt.rc_context(SAVE_RC), atomic_output(path) as tmp, PdfPages(tmp) as pdf:
        _text_pages(pdf, _title(rep), head)
        for fig in rep.charts.values():
            pdf.savefig(fig, bbox_inches="tight")
        _text_pages(pdf, "Sources", sources)
        info = pdf.infodict()
        info.update({"Title": _title(rep), "Creator": f"roofline {rep.version}"})
    return path


def write_report(rep: Report, path: str) -> list[str]:
    """Write the report in the format of ``path``'s extension (:data:`REPORT_FORMATS`), atomically.

    Parameters
    ----------
    rep : Report
        From :func:`build_report`.
    path : str
        ``report.html``, ``report.pdf`` or ``report.md`` (whose charts go beside it as SVG files).

    Returns
    -------
    list of str
        The files written.

    Raises
    ------
    InputError
        Another extension, or a folder that does not exist.
    """
    from .._paths import atomic_output

    ext = os.path.splitext(path)[1].lower()
    if ext not in REPORT_FORMATS:
        raise InputError(f"cannot write a report to {path!r}: use a .html, .pdf or .md file name")
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise InputError(f"cannot write {path!r}: no folder {folder!r}")
    if ext == ".pdf":
        return [write_pdf(rep, path)]
    if ext == ".html":
        text, files = render_html(rep), {}
    else:
        text, files = render_markdown(rep, os.path.splitext(os.path.basename(path))[0])
    written = []
    for name, content in files.items():
        with atomic_output(os.path.join(folder, name)) as tmp:
            tmp.write_text(content, encoding="utf-8")
        written.append(os.path.join(folder, name))
    with atomic_output(path) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return [path] + written


def close(rep: Report) -> None:
    """Close the report's charts (matplotlib keeps figures open until closed).

    Parameters
    ----------
    rep : Report
        From :func:`build_report`.

    Returns
    -------
    None
    """
    import matplotlib.pyplot as plt

    for fig in rep.charts.values():
        plt.close(fig)
