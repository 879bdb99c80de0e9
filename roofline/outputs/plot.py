"""Charts for reports (matplotlib is imported only here). Every function returns a matplotlib Figure.

Kinds: :func:`roofline_chart` (ceilings per memory level and data type, ridge points, workloads as
points), :func:`compare_chart` (a device comparison normalised to the first device), :func:`sweep_chart`
(a metric against a swept variable), :func:`frontier_chart` (tokens/s per user against tokens/s per
device or per kW), :func:`token_time_chart` (where the time of one token goes),
:func:`memory_wall_chart` (peak compute, DRAM and interconnect bandwidth over the years, with fitted
growth per two years next to Gholami et al.'s) and :func:`validation_chart` (published measurements
against their bounds). Save with :func:`save` (PNG, SVG or PDF by extension) or inline with :func:`to_svg`.

What every chart promises:

- a device has the same colour on every chart, and a system is named with its device count
  (``2 × h200``); what the chart holds constant (model, data type, context) is in its title;
- series are split by every dimension that varies (device, device count, data type, context, layout),
  never joined into one line;
- a result known only as a range (an estimated device) is drawn with its band or error bar;
- axes carry engineering units (``10 ms``, ``1 PFLOP/s``), labels are moved apart where they would
  overlap;
- PDFs embed TrueType (Type 42) fonts, never Type 3, and SVGs keep text as text (:func:`save`);
- every function takes ``ax=`` to draw into an existing Axes (a subplot) and returns that Axes' figure.

Charts draw what the library computes: ceilings and ridge points are
:func:`roofline.formulas.attainable_performance` and :func:`roofline.formulas.ridge_point`, growth rates
:func:`roofline.formulas.growth_per_two_years` (re-exported here, as is :func:`load_trends` from
:mod:`roofline.outputs.trends`).
"""

from __future__ import annotations

import io
import os
from typing import Iterable, Mapping, Sequence

import matplotlib
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.ticker import EngFormatter, FuncFormatter, NullFormatter  # noqa: E402

from ..errors import InputError  # noqa: E402
from ..formulas import attainable_performance, growth_per_two_years, interval_div, ridge_point  # noqa: E402
from ..hardware.device import Device  # noqa: E402
from ..hardware.library import get_device  # noqa: E402
from .format import human_range, term_name  # noqa: E402
from ..hardware.trends import load_trends  # noqa: E402

__all__ = ['device_color', 'save', 'to_svg', 'roofline_chart', 'compare_chart', 'sweep_chart', 'frontier_chart',
           'token_time_chart', 'load_trends', 'growth_per_two_years', 'memory_wall_chart', 'validation_chart',
           'regime_chart', 'SAVE_RC', 'where_time_goes_chart', 'time_parts', 'TIME_PARTS']


if os.environ.get("DISPLAY", "") == "" and not os.environ.get("MPLBACKEND"):
    matplotlib.use("Agg")


# colour-blind-safe palette (Okabe–Ito), fixed per device so every chart agrees
_PALETTE = {
    "wse3": "#D55E00", "h100": "#0072B2", "h100-pcie": "#56B4E9", "h200": "#009E73", "b200": "#332288",
    "a100": "#999999", "dojo": "#CC79A7", "dojo-d1": "#882255", "ai5": "#E69F00",
}


_EXTRA = ["#117733", "#44AA99", "#AA4499", "#DDCC77", "#88CCEE", "#661100", "#6699CC", "#000000"]


_LEVEL_STYLE = ["-", "--", ":", "-."]


_WIDTH_IN = 6.5  # a report column / page width in inches


def device_color(key: str) -> str:
    """The colour of a device on every chart: a fixed Okabe–Ito colour for the shipped devices, else one
    picked from the device key.

    Parameters
    ----------
    key : str
        Device key.

    Returns
    -------
    str
        A ``#RRGGBB`` colour.
    """
    if key in _PALETTE:
        return _PALETTE[key]
    return _EXTRA[sum(map(ord, key)) % len(_EXTRA)]


#: Settings every saved chart is written with: TrueType (Type 42) fonts in PDF and PostScript, which
#: IEEE and ACM checkers accept (Type 3 they reject), and SVG text kept as text (searchable, selectable,
#: restyled by the page), not turned into paths.
SAVE_RC = {"pdf.fonttype": 42, "ps.fonttype": 42, "svg.fonttype": "none"}


def _style():
    return {"font.size": 9, "axes.titlesize": 10, "axes.labelsize": 9, "legend.fontsize": 7.5,
            "xtick.labelsize": 8, "ytick.labelsize": 8, "figure.dpi": 110, **SAVE_RC}


def _axes(ax, height: float):
    """(figure, Axes, created): a new report-width figure, or the figure of the Axes the caller gave."""
    if ax is not None:
        return ax.figure, ax, False
    fig, new = plt.subplots(figsize=(_WIDTH_IN, height))
    return fig, new, True


class _MinorEng(EngFormatter):
    """Minor tick labels only where the axis spans less than about a decade (else the majors say enough)."""

    def __call__(self, x, pos=None):
        lo, hi = sorted(self.axis.get_view_interval())
        if lo <= 0 or hi / lo >= 10 ** 1.3:
            return ""
        return super().__call__(x, pos)


def _eng(axis, unit: str) -> None:
    """Engineering ticks on ``axis``: ``10 ms``, ``1 PFLOP/s``, ``10 k`` (never ``9×10⁻³``)."""
    axis.set_major_formatter(EngFormatter(unit=unit, sep=" " if unit else ""))
    if axis.get_scale() == "log":
        axis.set_minor_formatter(_MinorEng(unit=unit, sep=" " if unit else ""))


def _plain(axis) -> None:
    """Plain numbers on ``axis`` (intensities: ``0.01``, ``1000``)."""
    axis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:,.0f}" if v >= 1e4 else f"{v:g}"))
    axis.set_minor_formatter(NullFormatter())


def _declutter(ax, texts, steps: int = 60) -> None:
    """Move annotation labels apart (vertically, in display space) until no two boxes overlap."""
    texts = [t for t in texts if t.get_text()]
    if len(texts) < 2:
        return
    fig = ax.figure
    renderer = fig.canvas.get_renderer()
    for _ in range(steps):
        moved = False
        boxes = [t.get_window_extent(renderer).expanded(1.02, 1.1) for t in texts]
        for i in range(len(texts)):
            for j in range(i + 1, len(texts)):
                if boxes[i].overlaps(boxes[j]):
                    lower = i if boxes[i].y0 <= boxes[j].y0 else j
                    x, y = texts[lower].get_position()
                    texts[lower].set_position((x, y - 4))   # offset points: push the lower one down
                    boxes[lower] = texts[lower].get_window_extent(renderer).expanded(1.02, 1.1)
                    moved = True
        if not moved:
            return


def save(fig, path: str) -> str:
    """Write ``fig`` to ``path`` (beside it, then renamed into place) and close it; the format follows the
    extension.

    Parameters
    ----------
    fig : matplotlib.figure.Figure
        The chart.
    path : str
        A ``.png`` (200 dpi), ``.svg`` or ``.pdf`` file name.

    Returns
    -------
    str
        ``path``.

    Raises
    ------
    InputError
        Another extension.
    """
    ext = os.path.splitext(path)[1].lower()
    if ext not in (".png", ".svg", ".pdf"):
        raise InputError(f"cannot write a chart to {path!r}: use a .png, .svg or .pdf file name")
    from .._paths import atomic_output

    try:  # an interrupted write leaves an earlier chart whole, and the figure is closed whatever happens
        with plt.rc_context(SAVE_RC), atomic_output(path) as tmp:
            fig.savefig(tmp, format=ext[1:], bbox_inches="tight", dpi=200 if ext == ".png" else None)
    finally:
        plt.close(fig)
    return path


def to_svg(fig, close: bool = True) -> str:
    """``fig`` as an SVG document to inline in HTML: text kept as text, no XML prolog or DOCTYPE.

    Parameters
    ----------
    fig : matplotlib.figure.Figure
        The chart.
    close : bool
        Close the figure afterwards.

    Returns
    -------
    str
        The ``<svg>`` element.
    """
    buf = io.StringIO()
    with plt.rc_context({**SAVE_RC, "svg.hashsalt": "roofline"}):
        fig.savefig(buf, format="svg", bbox_inches="tight", metadata={"Date": None})
    if close:
        plt.close(fig)
    text = buf.getvalue()
    return text[text.index("<svg"):]


# ------------------------------------------------------------------------------------------------------
def _ceilings(devs: list[Device], dtypes: Sequence[str], levels, sparse: bool):
    """(device, dtype index, dtype, level index, level, peak [FLOP/s]) of every ceiling to draw."""
    for dev in devs:
        for j, dt in enumerate(dtypes):
            if dt not in dev.compute:
                continue
            peak = dev.peak(dt, sparse and "sparse" in dev.compute[dt])
            for i, lvl in enumerate(dev.memory):
                if not levels or lvl.name in levels:
                    yield dev, j, dt, i, lvl, peak


def _draw_points(ax, points: Iterable[Mapping]) -> list:
    """Workloads as markers (with an error bar where the rate is a range), labelled with their binding
    term; returns the labels, to be moved apart once the axes are final."""
    texts = []
    for p in sorted(points or [], key=lambda q: (-q["flops_per_s"], q["intensity"])):
        c = device_color(p["device"]) if p.get("device") else "black"
        marker = "s" if p.get("phase") == "prefill" else "D"
        rng = p.get("flops_per_s_range")
        yerr = None if not rng else [[p["flops_per_s"] - rng[0]], [rng[1] - p["flops_per_s"]]]
        ax.errorbar([p["intensity"]], [p["flops_per_s"]], yerr=yerr, marker=marker, ms=5, color=c, mec="black",
                    mew=0.5, ls="none", capsize=2, elinewidth=0.8)
        text = p.get("label", "")
        if p.get("bound"):
            text += f" [{term_name(p['bound'])}]"
        texts.append(ax.annotate(text, (p["intensity"], p["flops_per_s"]), textcoords="offset points",
                                 xytext=(6, -9), fontsize=6.5, color=c))
    return texts


def _ceiling(ax, x, dev: Device, j: int, dt: str, i: int, lvl, peak: float, sparse: bool) -> None:
    """One ceiling, its ridge point, and the band between its corners where a figure is a range."""
    c = device_color(dev.key)
    bw = lvl.bandwidth_bytes_per_s
    ax.loglog(x, attainable_performance(x, peak, bw), color=c, ls=_LEVEL_STYLE[i % len(_LEVEL_STYLE)],
              lw=1.4 - 0.2 * j, alpha=1.0 - 0.25 * j, label=f"{dev.key} {dt} · {lvl.name}")
    pf = dev.peak_figure(dt, sparse and "sparse" in dev.compute[dt])
    if pf.is_range or lvl.bandwidth.is_range:
        ax.fill_between(x, attainable_performance(x, pf.low, lvl.bandwidth.low),
                        attainable_performance(x, pf.high, lvl.bandwidth.high), color=c, alpha=0.12, lw=0,
                        label=f"{dev.key} {dt} · {lvl.name} (range)")
    r = ridge_point(peak, bw)
    if x[0] <= r <= x[-1]:
        ax.plot([r], [peak], marker="o", ms=3.5, color=c)


def _legend(ax, loc: str = "best") -> None:
    """The legend: inside when short, below the axes in columns when long (it never hides the data)."""
    n = len(ax.get_legend_handles_labels()[0])
    if n > 6:
        ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.14), ncol=3 if n > 9 else 2, frameon=False)
    elif n:
        ax.legend(loc=loc, frameon=False)


def roofline_chart(devices: Sequence[str | Device], dtypes: Sequence[str] = ("bf16",),
                   points: Iterable[Mapping] | None = None, levels: Sequence[str] | None = None,
                   intensity_range: tuple[float, float] | None = None, sparse: bool = False,
                   title: str | None = None, ax=None):
    """Log-log roofline: attainable FLOP/s against arithmetic intensity.

    One ceiling per device × data type × memory level (line style = level),
    :math:`P_\\text{att} = \\min(P, BW \\cdot I)` (:func:`~roofline.formulas.attainable_performance`), its
    ridge point :math:`I^* = P / BW` (:func:`~roofline.formulas.ridge_point`) marked, a shaded band between
    its corners where the peak or the bandwidth is a range, and ``points`` drawn as markers labelled with
    their binding term (decode steps as diamonds, prefills as squares, error bars for ranges).

    Parameters
    ----------
    devices : sequence of str or Device
        The devices (keys, aliases or devices).
    dtypes : sequence of str
        Data types of the ceilings.
    points : iterable of dict, optional
        Workloads: ``intensity`` [FLOP/B], ``flops_per_s`` [FLOP/s], ``label``, and optionally ``device``,
        ``bound``, ``phase`` and ``flops_per_s_range`` (see :func:`roofline.outputs.report.roofline_points`).
    levels : sequence of str, optional
        Only these memory levels (default: all).
    intensity_range : tuple of float, optional
        The x axis [FLOP/B] (default: around every ridge point, at least 0.05 to 10^4).
    sparse : bool
        Sparse peaks where a device publishes them.
    title : str, optional
        The chart title.
    ax : matplotlib.axes.Axes, optional
        Draw into this Axes (a subplot) instead of a new figure.

    Returns
    -------
    matplotlib.figure.Figure
        The figure holding the chart (``ax.figure`` when ``ax`` is given).
    """
    devs = [get_device(d) for d in devices]
    with plt.rc_context(_style()):
        fig, ax, created = _axes(ax, 4.6)
        ridges = [ridge_point(peak, lvl.bandwidth_bytes_per_s) for *_, lvl, peak in _ceilings(devs, dtypes, levels, sparse)]
        lo, hi = intensity_range or (min([0.05] + [r / 30 for r in ridges]), max([1e4] + [r * 30 for r in ridges]))
        x = np.geomspace(lo, hi, 400)
        for dev, j, dt, i, lvl, peak in _ceilings(devs, dtypes, levels, sparse):
            _ceiling(ax, x, dev, j, dt, i, lvl, peak, sparse)
        texts = _draw_points(ax, points)
        ax.set_xlabel("arithmetic intensity [FLOP/B]")
        ax.set_ylabel("attainable performance [FLOP/s]")
        _plain(ax.xaxis)
        _eng(ax.yaxis, "FLOP/s")
        ax.set_title(title or ("Roofline: " + ", ".join(d.key for d in devs) + f" ({', '.join(dtypes)}, "
                               + ("sparse" if sparse else "dense") + ")"))
        ax.grid(True, which="major", alpha=0.3)
        _legend(ax, "lower right")
        if created:
            fig.tight_layout()
        _declutter(ax, texts)
    return fig


def _ratio_and_error(row: Mapping, first: str, k: str):
    """(other ÷ first, [below, above]) of one comparison row, oriented so that above 1 the other is ahead;
    the error bar spans the ratio of the two ranges (:func:`~roofline.formulas.interval_div`)."""
    ratio = row.get("ratio_vs_first", {}).get(k)
    if not ratio:
        return np.nan, (0.0, 0.0)
    shown = 1 / ratio
    a, b = row["values"].get(k) or {}, row["values"].get(first) or {}
    ra, rb = a.get("range"), b.get("range")
    if not ra and not rb:
        return shown, (0.0, 0.0)
    ra, rb = ra or (a["value"], a["value"]), rb or (b["value"], b["value"])
    lo, hi = interval_div(tuple(ra), tuple(rb)) if row["better"] == "higher" else interval_div(tuple(rb), tuple(ra))
    return shown, (max(shown - lo, 0.0), max(hi - shown, 0.0))


def _count(row: Mapping, k: str) -> int:
    return int((row["values"].get(k) or {}).get("devices_used") or 1)


def _compare_bars(ax, rows: list, keys: list) -> None:
    y = np.arange(len(rows))
    others = keys[1:]
    h = 0.8 / max(1, len(others))
    for j, k in enumerate(others):
        vals, errs = zip(*(_ratio_and_error(r, keys[0], k) for r in rows)) if rows else ((), ())
        vals, errs = np.asarray(vals, float), np.asarray(errs, float).T.reshape(2, -1)
        yy = y + (j - (len(others) - 1) / 2) * h
        # bars diverge from 1 (the first device): right when the other device is ahead, left when behind
        ax.barh(yy, vals - 1, height=h, left=1, color=device_color(k), label=f"{k} ÷ {keys[0]}",
                xerr=errs if errs.any() else None, error_kw={"elinewidth": 0.8, "capsize": 2})
        for yi, v, r in zip(yy, vals, rows):
            n = _count(r, k)
            if n > 1 and np.isfinite(v):
                ax.annotate(f"×{n}", (v, yi), textcoords="offset points", xytext=(3 if v >= 1 else -3, -2),
                            ha="left" if v >= 1 else "right", fontsize=6, color=device_color(k))


def _row_label(row: Mapping, first: str) -> str:
    label = row.get("quantity") or row.get("workload")
    n = _count(row, first)
    return f"{label} ({first} ×{n})" if n > 1 else label


def compare_chart(result: Mapping, title: str | None = None, ax=None):
    """Horizontal bars of every row of a comparison, each device's value divided by the first device's, on
    a log axis (so very different scales stay readable).

    A workload that needs several devices says so: ``×N`` after the row name for the first device, beside
    the bar for the others (a model on 13 tiles against one on 4 wafers is a comparison of systems). A
    value known as a range has an error bar spanning the ratio of the ranges.

    Parameters
    ----------
    result : dict
        From :func:`roofline.outputs.compare.compare`; its ``ratio_vs_first`` are drawn.
    title : str, optional
        The chart title.
    ax : matplotlib.axes.Axes, optional
        Draw into this Axes instead of a new figure.

    Returns
    -------
    matplotlib.figure.Figure
    """
    keys = [d["key"] for d in result["devices"]]
    rows = [r for r in list(result["specs"]) + list(result["workloads"])
            if (r["values"].get(keys[0]) or {}).get("value") and any(r.get("ratio_vs_first", {}).values())]
    with plt.rc_context(_style()):
        fig, ax, created = _axes(ax, 0.28 * len(rows) * max(1, len(keys) - 1) ** 0.5 + 1.6)
        _compare_bars(ax, rows, keys)
        ax.axvline(1.0, color=device_color(keys[0]), lw=1.5, label=f"{keys[0]} (= 1)")
        ax.set_xscale("log")
        ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}×"))
        ax.xaxis.set_minor_formatter(NullFormatter())
        ax.set_yticks(np.arange(len(rows)))
        ax.set_yticklabels([_row_label(r, keys[0]) for r in rows])
        ax.invert_yaxis()
        ax.set_xlabel(f"relative to {keys[0]} (above 1: the other device is ahead)")
        ax.set_title(title or ("Comparison: " + " vs ".join(keys) + f" ({result.get('dtype', '')}; ×N: devices "
                               "a model needs, as a system)"))
        ax.grid(True, axis="x", which="major", alpha=0.3)
        ax.legend(loc="lower right", frameon=False)
        if created:
            fig.tight_layout()
    return fig


_LABELS = {
    "batch": "batch [sequences]", "context": "context [tokens]", "time_s": "time per step [s]",
    "tokens_per_s_per_user": "tokens/s per user", "tokens_per_s": "tokens/s (all users)",
    "tokens_per_s_per_device": "tokens/s per device", "tokens_per_s_per_kw": "tokens/s per kW",
    "tokens_per_s_per_mw": "tokens/s per MW", "usd_per_million_tokens": "USD per million tokens (cheaper →)",
    "tpot_s": "time per output token [s]", "attainable_flops_per_s": "attainable [FLOP/s]",
    "arithmetic_intensity": "arithmetic intensity [FLOP/B]", "M": "M", "N": "N", "K": "K",
}


#: The dimensions a sweep's series may differ in, in the order a label names them; every one that varies
#: in a frame (besides the x axis) splits the series.
SERIES_DIMENSIONS = ("device", "devices", "model", "dtype", "weight_dtype", "phase", "context", "batch", "tp", "pp")

_DIM_TEXT = {"context": "ctx {}", "batch": "b={}", "tp": "tp={}", "pp": "pp={}", "phase": "{}", "model": "{}",
             "dtype": "{}", "weight_dtype": "w {}"}

#: Engineering unit of a column on an axis ("" for counts and rates in their own words)
_AXIS_UNITS = {"time_s": "s", "tpot_s": "s", "ttft_s": "s", "attainable_flops_per_s": "FLOP/s"}


def _series_dims(df, x: str, y: str, hue: str) -> tuple[list[str], list[str]]:
    """(varying, constant) dimensions of a sweep frame, the hue first among the varying ones."""
    dims = [d for d in ((hue,) + tuple(d for d in SERIES_DIMENSIONS if d != hue)) if d in df.columns and d not in (x, y)]
    varying = [d for d in dims if df[d].nunique(dropna=False) > 1 or d == hue]
    return varying, [d for d in dims if d not in varying]


def _series_label(dims: Sequence[str], key: tuple, counts) -> str:
    parts = []
    for d, v in zip(dims, key):
        if d == "devices":
            continue
        if d == "device" and counts is not None:
            parts.append(f"{counts} × {v}")
        else:
            parts.append(_DIM_TEXT.get(d, "{}").format(v))
    return " · ".join(parts)


def _sweep_title(df, x: str, y: str, constant: Sequence[str]) -> str:
    held = [(_DIM_TEXT.get(d, d + " {}").format(df[d].iloc[0])) for d in constant
            if d not in ("devices", "device") and len(df)]
    return f"{_LABELS.get(y, y)} against {_LABELS.get(x, x)}" + (f" ({', '.join(held)})" if held else "")


def _sweep_axes(ax, x: str, y: str, logx: bool, logy: bool) -> None:
    if logx:
        ax.set_xscale("log")
    if logy:
        ax.set_yscale("log")
    for axis, col in ((ax.xaxis, x), (ax.yaxis, y)):
        if col in _AXIS_UNITS:
            _eng(axis, _AXIS_UNITS[col])
        elif col in ("batch", "context", "devices", "M", "N", "K", "arithmetic_intensity"):
            _plain(axis)
        else:
            _eng(axis, "")
    ax.set_xlabel(_LABELS.get(x, x))
    ax.set_ylabel(_LABELS.get(y, y))


def _sweep_lines(ax, df, x: str, y: str, hue: str, varying: list[str]) -> None:
    """One line per combination of the varying dimensions, with its band where the frame has corners."""
    styles: dict = {}
    for key, g in df.groupby(varying, observed=True, sort=False):
        key = key if isinstance(key, tuple) else (key,)
        g = g.sort_values(x)
        c = device_color(str(key[0])) if hue == "device" else None
        ls = styles.setdefault(key[1:], _LEVEL_STYLE[len(styles) % len(_LEVEL_STYLE)])
        counts = int(g["devices"].iloc[0]) if "devices" in g.columns else None
        line, = ax.plot(g[x], g[y], color=c, ls=ls, marker=".", ms=3, label=_series_label(varying, key, counts))
        if f"{y}_best" in g.columns and g[f"{y}_best"].notna().any():
            ax.fill_between(g[x], g[f"{y}_best"], g[f"{y}_worst"], color=line.get_color(), alpha=0.15, lw=0)
        _mark_latency_bound(ax, g, x, y, line.get_color())


def _mark_latency_bound(ax, g, x: str, y: str, color) -> None:
    """Ring the points where a latency term binds (``bound`` is ``latency:...``): the latency-bound region,
    where more bandwidth or compute buys nothing."""
    if "bound" not in g.columns:
        return
    lat = g["bound"].astype(str).str.startswith("latency").to_numpy()
    if not lat.any():
        return
    seen = any(h.get_label() == _LATENCY_MARK for h in ax.collections)
    ax.scatter(g[x].to_numpy()[lat], g[y].to_numpy()[lat], s=26, facecolors="none", edgecolors=color, lw=0.9,
               zorder=3, label=None if seen else _LATENCY_MARK)


#: Legend text of the rings on points where a latency term binds
_LATENCY_MARK = "latency-bound (a latency term binds)"


def sweep_chart(df, x: str = "batch", y: str = "tokens_per_s_per_user", hue: str = "device",
                style: str | None = None, logx: bool = True, logy: bool = True, title: str | None = None, ax=None):
    """A metric against a swept variable: one line per combination of every dimension that varies.

    The frame's rows are split by each of :data:`SERIES_DIMENSIONS` that takes more than one value (a
    device, a device count, a data type, a context, a layout...), so no line joins points that differ in
    anything but ``x``. Colour follows ``hue`` (a device keeps its colour), line style the other varying
    dimensions; a label names the system with its device count (``2 × h200 · fp8 · ctx 8192``) and the
    title what is held constant (model, data type, context). Where the frame has ``<y>_best`` and
    ``<y>_worst`` columns (an estimated device; a sweep's rates there come from its ``time_s_best`` and
    ``time_s_worst``, :func:`roofline.llm.sweeps.with_corner_rates`), the band between them is shaded.

    Parameters
    ----------
    df : pandas.DataFrame
        A sweep (:func:`roofline.llm.decode_sweep`), one row per grid point.
    x, y : str
        Columns on the axes, in their own units (``batch`` [1], ``tokens_per_s_per_user`` [tokens/s]...).
    hue : str
        The column that picks a line's colour.
    style : str, optional
        A column that picks its line style (default: the other varying dimensions).
    logx, logy : bool
        Logarithmic axes.
    title : str, optional
        The chart title.
    ax : matplotlib.axes.Axes, optional
        Draw into this Axes instead of a new figure.

    Returns
    -------
    matplotlib.figure.Figure

    Raises
    ------
    InputError
        ``x``, ``y`` or ``hue`` is not a column.
    """
    for col in (x, y, hue):
        if col not in df.columns:
            raise InputError(f"the sweep has no column {col!r}; it has {', '.join(map(str, df.columns))}")
    if y in ("tokens_per_s_per_user", "tokens_per_s") and "batch" in df.columns and df["batch"].dtype.kind in "iuf":
        from ..llm.sweeps import with_corner_rates  # an LLM sweep stores the time at its corners, not the rates

        df = with_corner_rates(df)
    varying, constant = _series_dims(df, x, y, hue)
    if style and style not in varying and style in df.columns:
        varying.append(style)
    with plt.rc_context(_style()):
        fig, ax, created = _axes(ax, 4.2)
        _sweep_lines(ax, df, x, y, hue, varying)
        _sweep_axes(ax, x, y, logx, logy)
        ax.set_title(title or _sweep_title(df, x, y, constant))
        ax.grid(True, which="major", alpha=0.3)
        _legend(ax)
        if created:
            fig.tight_layout()
    return fig


def _frontier_band(ax, f, col: str, color: str, label: str) -> None:
    """The band of a system known only as ranges: the region between its best and worst curves."""
    xs = np.concatenate([f[f"{col}_best"].to_numpy(), f[f"{col}_worst"].to_numpy()[::-1]])
    ys = np.concatenate([f["tokens_per_s_per_user_best"].to_numpy(), f["tokens_per_s_per_user_worst"].to_numpy()[::-1]])
    ax.fill(xs, ys, color=color, alpha=0.15, lw=0, label=label)


def frontier_chart(frames: Sequence, per: str = "device", title: str | None = None, ax=None):
    """Tokens/s per user (interactivity) against tokens/s per device or per kW (throughput), one curve per
    system (named with its device count); a system known only as ranges has its band shaded.

    Parameters
    ----------
    frames : sequence of pandas.DataFrame
        From :func:`roofline.llm.frontier`, one per system.
    per : str
        ``"device"`` (tokens/s per device), ``"kw"`` (tokens/s per kW) or ``"dollar"`` (USD per million
        tokens, on a reversed axis so that cheaper is to the right; systems without a price are left out).
    title : str, optional
        The chart title (default: names the model(s) and context).
    ax : matplotlib.axes.Axes, optional
        Draw into this Axes instead of a new figure.

    Returns
    -------
    matplotlib.figure.Figure

    Raises
    ------
    InputError
        ``per`` is none of these, or (``"dollar"``) no system has a price.
    """
    col = {"device": "tokens_per_s_per_device", "kw": "tokens_per_s_per_kw", "dollar": "usd_per_million_tokens"}.get(per)
    if col is None:
        raise InputError(f"per must be 'device', 'kw' or 'dollar', got {per!r}")
    frames = [f for f in frames if len(f)]
    if per == "dollar":
        frames = [f for f in frames if f[col].notna().any()]
        if not frames:
            raise InputError("no price per device-hour for these devices: give --price USD_PER_DEVICE_HOUR")
    with plt.rc_context(_style()):
        fig, ax, created = _axes(ax, 4.2)
        for f in frames:
            dev, n, model = f["device"].iloc[0], int(f["devices"].iloc[0]), f["model"].iloc[0]
            ax.plot(f[col], f["tokens_per_s_per_user"], color=device_color(dev), marker=".", ms=3, label=f"{n} × {dev} · {model}")
            _mark_latency_bound(ax, f, col, "tokens_per_s_per_user", device_color(dev))
            if per == "device" and "tokens_per_s_per_user_best" in f:
                _frontier_band(ax, f, col, device_color(dev), f"{n} × {dev} (range)")
            ax.annotate(f"b={int(f['batch'].iloc[-1])}", (f[col].iloc[-1], f["tokens_per_s_per_user"].iloc[-1]),
                        textcoords="offset points", xytext=(3, 3), fontsize=6.5, color=device_color(dev))
        ax.set_xscale("log")
        ax.set_yscale("log")
        _eng(ax.xaxis, "")
        _eng(ax.yaxis, "")
        if per == "dollar":
            ax.invert_xaxis()
        ax.set_xlabel(_LABELS[col])
        ax.set_ylabel("tokens/s per user (interactivity)")
        models = sorted({str(f["model"].iloc[0]) for f in frames})
        ctx = sorted({int(f["context"].iloc[0]) for f in frames})
        ax.set_title(title or (f"Throughput against interactivity: {', '.join(models)}, context "
                               f"{', '.join(map(str, ctx))} (batch grows along each curve)"))
        ax.grid(True, which="major", alpha=0.3)
        _legend(ax)
        if created:
            fig.tight_layout()
    return fig


#: Colours of the time terms on the token-time chart (Okabe–Ito order; by term kind, then level or link)
_TERM_COLORS = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#999999"]


def token_time_chart(estimates: Sequence[Mapping], title: str | None = None, ax=None):
    """Where the time of one token goes: per system, the decode step split by the term that binds it.

    Each operator of a step takes the time of its binding term; ``decode_terms_s`` of
    :func:`roofline.llm.inference.estimate` adds those times up per term, so the segments of a bar add up
    to the whole step. Bars are drawn as shares of the step, with the time per output token at the end.

    Parameters
    ----------
    estimates : sequence of dict
        Records from :func:`roofline.llm.inference.estimate`.
    title : str, optional
        The chart title.
    ax : matplotlib.axes.Axes, optional
        Draw into this Axes instead of a new figure.

    Returns
    -------
    matplotlib.figure.Figure
    """
    terms = list(dict.fromkeys(t for e in estimates for t, v in e["decode_terms_s"].items() if v > 0))
    colors = {t: _TERM_COLORS[i % len(_TERM_COLORS)] for i, t in enumerate(terms)}
    with plt.rc_context(_style()):
        fig, ax, created = _axes(ax, 0.32 * len(estimates) + 1.5)
        y = np.arange(len(estimates))
        left = np.zeros(len(estimates))
        for t in terms:
            share = np.array([e["decode_terms_s"].get(t, 0.0) / e["tpot_s"] for e in estimates])
            ax.barh(y, 100 * share, left=100 * left, height=0.6, color=colors[t], label=term_name(t))
            left += share
        for yi, e in zip(y, estimates):
            lo, hi = e.get("tpot_s_range", (None, None))
            ax.annotate(human_range(e["tpot_s"], lo, hi, "s"), (100, yi), textcoords="offset points",
                        xytext=(4, -3), fontsize=7)
        ax.set_yticks(y)
        ax.set_yticklabels([f"{e['devices_used']} × {e['device']} · {e['model']}" for e in estimates])
        ax.invert_yaxis()
        ax.set_xlim(0, 125)
        ax.set_xticks(range(0, 101, 20))
        ax.set_xlabel("share of one decode step bound by each term [%] (time per output token at the right)")
        ax.set_title(title or "Where the time of one token goes")
        ax.grid(True, axis="x", which="major", alpha=0.3)
        ax.legend(frameon=False, loc="upper center", bbox_to_anchor=(0.5, -0.2 - 0.6 / (len(estimates) + 2)),
                  ncol=min(4, max(1, len(terms))))
        if created:
            fig.tight_layout()
    return fig


#: The six places the time of a token goes, in the order the bars stack them, with their colours
TIME_PARTS = (("compute", "#0072B2"), ("memory", "#56B4E9"), ("fabric", "#D55E00"), ("hand-off", "#E69F00"),
              ("link", "#009E73"), ("launch", "#999999"))


def time_parts(terms: Mapping[str, float]) -> dict[str, float]:
    """A step's term times gathered into :data:`TIME_PARTS`: every memory level into ``memory``, a link's
    bandwidth and its latency into ``link``.

    Parameters
    ----------
    terms : mapping of str to float
        ``decode_terms_s`` of an estimate: term label to time [s].

    Returns
    -------
    dict of str to float
        Part to time [s], every part present.
    """
    names = {"latency:fabric": "fabric", "latency:handoff": "hand-off", "latency:launch": "launch",
             "latency:link": "link", "compute": "compute"}
    out = {p: 0.0 for p, _ in TIME_PARTS}
    for lbl, t in terms.items():
        part = names.get(lbl) or ("memory" if lbl.startswith("memory") else "link" if lbl.startswith("interconnect")
                                  else "compute")
        out[part] += float(t)
    return out


def where_time_goes_chart(estimates: Sequence[Mapping], title: str | None = None, ax=None):
    """Where the time of one token goes on each device: compute, memory, fabric, hand-off, link and launch.

    One bar per estimate, split into :data:`TIME_PARTS` (:func:`time_parts` of its ``decode_terms_s``: each
    operator's roofline time goes to the term that binds it, each latency to its own part), drawn as shares
    of the step; at the end of each bar the time per token of the three modes: the pure roofline, the
    latency bound and the estimate. A wafer spends its token in the fabric, a GPU in memory: the two answers
    to the memory wall and to the interconnect.

    Parameters
    ----------
    estimates : sequence of dict
        Records from :func:`roofline.llm.inference.estimate` (with ``modes``).
    title : str, optional
        The chart title.
    ax : matplotlib.axes.Axes, optional
        Draw into this Axes instead of a new figure.

    Returns
    -------
    matplotlib.figure.Figure
    """
    parts = [time_parts(e["decode_terms_s"]) for e in estimates]
    with plt.rc_context(_style()):
        fig, ax, created = _axes(ax, 0.38 * len(estimates) + 1.6)
        y = np.arange(len(estimates))
        left = np.zeros(len(estimates))
        for name, color in TIME_PARTS:
            share = np.array([p[name] / max(sum(p.values()), 1e-300) for p in parts])
            if share.any():
                ax.barh(y, 100 * share, left=100 * left, height=0.6, color=color, label=name)
            left += share
        for yi, e in zip(y, estimates):
            m = e.get("modes", {})
            txt = " · ".join(f"{k} {human_range(m[k]['tpot_s'], None, None, 's')}" for k in
                             ("ideal", "latency_bound", "estimate") if k in m) or human_range(e["tpot_s"], None, None, "s")
            ax.annotate(txt.replace("latency_bound", "bound"), (100, yi), textcoords="offset points",
                        xytext=(4, -3), fontsize=6.5)
        ax.set_yticks(y)
        ax.set_yticklabels([f"{e['devices_used']} × {e['device']} · {e['model']}" for e in estimates])
        ax.invert_yaxis()
        ax.set_xlim(0, 175)
        ax.set_xticks(range(0, 101, 20))
        ax.set_xlabel("share of one decode step [%] (time per token: pure roofline · latency bound · estimate)")
        ax.set_title(title or "Where the time of one token goes: compute, memory, fabric, hand-off, link, launch")
        ax.grid(True, axis="x", which="major", alpha=0.3)
        ax.legend(frameon=False, loc="upper center", bbox_to_anchor=(0.5, -0.2 - 0.6 / (len(estimates) + 2)),
                  ncol=6)
        if created:
            fig.tight_layout()
    return fig


_WALL_SERIES = (("peak_flops_per_s", "peak compute (dense 16-bit)", "compute_growth_per_2y", "#D55E00", "o"),
                ("dram_bandwidth_bytes_per_s", "DRAM bandwidth", "dram_bandwidth_growth_per_2y", "#0072B2", "s"),
                ("interconnect_bandwidth_bytes_per_s", "interconnect bandwidth", "interconnect_bandwidth_growth_per_2y",
                 "#009E73", "^"))


def _announced(p: Mapping) -> bool:
    return p.get("status") == "announced"


def _wall_series(ax, points: list[dict], key: str, label: str, published, color: str, marker: str) -> None:
    """One series of the memory-wall chart: its points relative to the first shipped one, the growth line
    fitted through the shipped parts, announced parts hollow beside it; the compute points are labelled."""
    pts = sorted((p for p in points if p[key]), key=lambda p: (p["year"], p[key]))
    shipped = [p for p in pts if not _announced(p)]
    if len(shipped) < 2:
        return
    yrs = np.array([p["year"] for p in shipped])
    vals = np.array([p[key] for p in shipped])
    rel = vals / vals[0]
    g = growth_per_two_years(yrs, vals)
    ax.semilogy(yrs, rel, ls="none", marker=marker, color=color, ms=4)
    later = [p for p in pts if _announced(p)]
    if later:
        ax.semilogy([p["year"] for p in later], [p[key] / vals[0] for p in later], ls="none", marker=marker, ms=4,
                    markerfacecolor="none", color=color)
    # the least-squares line in log space has slope ln(g)/2 per year and passes through the points' centroid
    fit_t = np.linspace(yrs.min(), yrs.max(), 50)
    fit = np.exp(np.mean(np.log(rel))) * g ** ((fit_t - yrs.mean()) / 2)
    ax.semilogy(fit_t, fit, color=color, lw=1.2,
                label=f"{label}: fitted {g:.2f}× / 2 yr" + (f" (Gholami et al.: {published}×)" if published else ""))
    if key == "peak_flops_per_s":
        for i, p in enumerate(pts):
            _label_point(ax, p, p[key] / vals[0], _in_year(pts, i))


def _in_year(pts: list[Mapping], i: int) -> int:
    """How many points before the ``i``-th share its year (labels of one year alternate sides)."""
    return sum(1 for q in pts[:i] if q["year"] == pts[i]["year"])


def _label_point(ax, p: Mapping, y: float, i: int) -> None:
    """A point's device label, alternately right and left of it so that neighbours in a year stay apart."""
    text = p.get("label", p["device"]) + (" (announced)" if _announced(p) else "")
    right = i % 2 == 0
    ax.annotate(text, (p["year"], y), textcoords="offset points", xytext=(4 if right else -4, 1), fontsize=5.5,
                ha="left" if right else "right", va="center", color="#333333")


def _bytes_per_flop_panel(ax, data: Mapping) -> None:
    """Bandwidth per FLOP over the years: DRAM for the accelerators, on-chip SRAM for the SRAM machines,
    each point labelled, estimated figures as bars, announced parts hollow."""
    series = (("DRAM bytes per FLOP (accelerators with HBM)", data["points"], "#0072B2", "s"),
              ("on-chip SRAM bytes per FLOP (SRAM machines)", data.get("sram_points", []), "#D55E00", "D"))
    for label, pts, color, marker in series:
        pts = sorted((p for p in pts if p.get("bytes_per_flop")), key=lambda p: (p["year"], p["bytes_per_flop"]))
        for i, p in enumerate(pts):
            rng = p.get("bytes_per_flop_range")
            err = [[p["bytes_per_flop"] - rng[0]], [rng[1] - p["bytes_per_flop"]]] if rng else None
            ax.errorbar(p["year"], p["bytes_per_flop"], yerr=err, ls="none", marker=marker, ms=4, color=color,
                        markerfacecolor="none" if _announced(p) else color, elinewidth=0.8,
                        label=label if i == 0 else "_")
            _label_point(ax, p, p["bytes_per_flop"], _in_year(pts, i))
    ax.set_yscale("log")
    ax.set_xlabel("year")
    ax.set_ylabel("bytes per FLOP (bandwidth / peak)")
    ax.set_title("Two answers: keep the weights in SRAM, or buy HBM bandwidth", fontsize=9)
    ax.grid(True, which="major", alpha=0.3)
    if ax.get_legend_handles_labels()[0]:
        ax.legend(frameon=False, loc="center left", fontsize=7)


def memory_wall_chart(path: str | None = None, title: str | None = None, ax=None):
    """The memory wall through 2026, in two panels (one, the growth chart, when drawn into a given ``ax``).

    Above, peak compute, DRAM bandwidth and interconnect bandwidth over the years, each relative to its
    first point, with the growth per two years (:func:`~roofline.formulas.growth_per_two_years`, fitted
    through shipped parts) beside Gholami et al.'s 3.0× / 1.6× / 1.4×; every device is labelled and
    announced parts are hollow. Below, bandwidth per FLOP (:func:`~roofline.formulas.bytes_per_flop`, from
    :func:`load_trends`): the DRAM bytes per FLOP of accelerators with HBM falling, beside the on-chip SRAM
    bytes per FLOP of the SRAM machines (WSE-2, WSE-3, Groq, Dojo D1): the two answers to the memory wall.

    Parameters
    ----------
    path : str, optional
        A trends file (default: the shipped ``trends/memory-wall.toml``; see :func:`load_trends`).
    title : str, optional
        The chart title.
    ax : matplotlib.axes.Axes, optional
        Draw into this Axes instead of a new figure.

    Returns
    -------
    matplotlib.figure.Figure
        Two axes: the growth chart, then bytes per FLOP.
    """
    data = load_trends(path)
    ref = data["reference"]
    with plt.rc_context(_style()):
        if ax is None:  # a figure of its own: both panels; given an Axes: the growth panel only
            fig, (ax, bx) = plt.subplots(2, 1, figsize=(_WIDTH_IN, 8.0), gridspec_kw={"height_ratios": [1.1, 1]})
        else:
            fig, bx = ax.figure, None
        for key, label, refkey, color, marker in _WALL_SERIES:
            _wall_series(ax, data["points"], key, label, ref.get(refkey), color, marker)
        _eng(ax.yaxis, "")
        ax.set_xlabel("year")
        ax.set_ylabel("relative to the first device in the series")
        ax.set_title(title or "The memory wall: compute outgrows memory and interconnect bandwidth")
        ax.grid(True, which="major", alpha=0.3)
        ax.legend(frameon=False, loc="upper left", fontsize=7)
        if bx is not None:
            _bytes_per_flop_panel(bx, data)
            fig.text(0.01, 0.005, "Points: vendor datasheets in trends/memory-wall.toml and hardware_specs/ (hollow: "
                     "announced, not shipped; bars: estimated ranges). Reference: Gholami et al., 'AI and Memory "
                     "Wall', IEEE Micro 2024.", fontsize=5.5)
            fig.tight_layout(rect=(0, 0.02, 1, 1))
    return fig


_CATEGORY_COLORS = {"membw": "#0072B2", "gemm": "#009E73", "llm-decode": "#D55E00", "llm-prefill": "#CC79A7",
                    "llm-throughput": "#E69F00", "wafer-inference": "#882255"}


def _as_rate(r: Mapping, key: str) -> float:
    """A measurement or bound as a rate: a time is drawn as its inverse, so that higher is faster."""
    return 1 / r[key] if r["sense"] == "time" else r[key]


def _validation_scatter(ax, ok: list[Mapping]) -> None:
    seen = set()
    for r in ok:
        c = _CATEGORY_COLORS.get(r["category"], "black")
        lbl = r["category"] if r["category"] not in seen else None
        seen.add(r["category"])
        ax.loglog([_as_rate(r, "bound_ideal")], [_as_rate(r, "value")], ls="none",
                  marker="^" if r.get("speculative") else "o", ms=3.5, color=c,
                  mfc="none" if r.get("speculative") else c, label=lbl)
    lo = min(min(_as_rate(r, "bound_ideal") for r in ok), min(_as_rate(r, "value") for r in ok)) / 2
    hi = max(max(_as_rate(r, "bound_ideal") for r in ok), max(_as_rate(r, "value") for r in ok)) * 2
    ax.loglog([lo, hi], [lo, hi], color="black", lw=0.8, label="measured = bound")
    ax.loglog([lo, hi], [lo / 10, hi / 10], color="black", lw=0.5, ls=":", label="10 % of bound")
    ax.set_xlabel("ideal bound (rate, in the metric's unit)")
    ax.set_ylabel("published measurement")
    ax.legend(frameon=False, fontsize=6)
    ax.grid(True, which="major", alpha=0.3)


def _validation_efficiency(bx, ok: list[Mapping]) -> None:
    cats = [c for c in _CATEGORY_COLORS if any(r["category"] == c for r in ok)]
    for i, cat in enumerate(cats):
        rs = [r for r in ok if r["category"] == cat]
        e0 = [r["efficiency_ideal"] for r in rs]
        e1 = [r["efficiency"] for r in rs]  # against the latency bound
        jitter = np.linspace(-0.15, 0.15, len(rs)) if len(rs) > 1 else np.zeros(1)
        bx.semilogy(i - 0.1 + jitter * 0.5, e0, ls="none", marker="o", ms=3, color=_CATEGORY_COLORS[cat],
                    label="ideal" if i == 0 else None)
        bx.semilogy(i + 0.1 + jitter * 0.5, e1, ls="none", marker="x", ms=3.5, color=_CATEGORY_COLORS[cat],
                    label="latency bound" if i == 0 else None)
    bx.axhline(1.0, color="black", lw=0.8)
    bx.set_xticks(range(len(cats)))
    bx.set_xticklabels(cats, rotation=35, ha="right")
    bx.set_ylabel("efficiency (measured / bound)")
    bx.legend(frameon=False, fontsize=6)
    bx.grid(True, axis="y", which="major", alpha=0.3)


def validation_chart(rows: Sequence[Mapping] | None = None, title: str | None = None, ax=None):
    """Published measurements against their bounds.

    Left: measured rate against the ideal bound, log-log, every metric in its own unit (times as 1/time),
    with the line measured = bound; nothing may lie above it. Right: the efficiency of each measurement
    against the ideal bound and against the latency bound, per category.

    Parameters
    ----------
    rows : sequence of dict, optional
        From :func:`roofline.validation.bounds.validate` (default: validate the shipped measurements).
    title : str, optional
        The chart title.
    ax : pair of matplotlib.axes.Axes, optional
        Draw the two panels into these Axes instead of a new figure.

    Returns
    -------
    matplotlib.figure.Figure
    """
    if rows is None:
        from ..validation.bounds import validate

        rows = validate()
    ok = [r for r in rows if r.get("bound_ideal")]
    with plt.rc_context(_style()):
        if ax is None:
            fig, (ax, bx) = plt.subplots(1, 2, figsize=(_WIDTH_IN, 3.4), gridspec_kw={"width_ratios": [1.1, 1]})
        else:
            (ax, bx), fig = ax, ax[0].figure
        _validation_scatter(ax, ok)
        _validation_efficiency(bx, ok)
        fig.suptitle(title or "Published measurements against roofline bounds", fontsize=10)
        fig.tight_layout()
    return fig


def regime_chart(summary: Sequence[Mapping] | None = None, title: str | None = None, ax=None):
    """Measured against estimated speed per regime, before and after the measured ceilings.

    One row per regime: the median of ``measured / estimate`` (1 is exact) with its quartiles as a bar,
    before (the latency bound alone) and after (the estimate on measured ceilings); the band 0.8-1.2 is the
    ±20 % target.

    Parameters
    ----------
    summary : sequence of dict, optional
        From :func:`roofline.validation.regimes.regime_summary` (default: computed on the shipped set).
    title : str, optional
        The chart title.
    ax : matplotlib.axes.Axes, optional
        Draw into these Axes instead of a new figure.

    Returns
    -------
    matplotlib.figure.Figure
    """
    if summary is None:
        from ..validation.regimes import regime_summary

        summary = regime_summary()
    with plt.rc_context(_style()):
        if ax is None:
            fig, ax = plt.subplots(figsize=(_WIDTH_IN, 0.45 * len(summary) + 1.2))
        fig = ax.figure
        ax.axvspan(0.8, 1.2, color="0.9", zorder=0, label="±20 %")
        ax.axvline(1.0, color="0.5", lw=0.8, zorder=1)
        for when, color, dy in (("before", "0.55", 0.15), ("after", "C0", -0.15)):
            for i, s in enumerate(summary):
                st = s[when]
                ax.plot([st["q1"], st["q3"]], [i + dy] * 2, color=color, lw=3, alpha=0.6, zorder=2)
                ax.plot(st["median"], i + dy, "o", color=color, zorder=3,
                        label=(f"{when}: latency bound" if when == "before" else f"{when}: estimate") if i == 0 else None)
        ax.set_yticks(range(len(summary)), [f"{s['regime']} ({s['rows']})" for s in summary])
        ax.invert_yaxis()
        ax.set_xscale("log")
        ax.set_xlabel("measured / model speed (median, quartiles); 1 = exact")
        ax.legend(loc="lower right", fontsize=7)
        ax.set_title(title or "Validation by regime: before and after measured ceilings", fontsize=10)
        fig.tight_layout()
    return fig
