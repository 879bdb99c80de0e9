"""Charts for reports (matplotlib is imported only here). Every function returns a matplotlib Figure.

Kinds: :func:`roofline_chart` (ceilings per memory level and data type, ridge points, workloads as
points), :func:`compare_chart` (a device comparison normalised to the first device), :func:`sweep_chart`
(a metric against a swept variable), :func:`frontier_chart` (tokens/s per user against tokens/s per
device or per kW), :func:`memory_wall_chart` (peak compute, DRAM and interconnect bandwidth over the
years, with fitted growth per two years next to Gholami et al.'s) and :func:`validation_chart` (published
measurements against their bounds). A device has the same colour on every chart. Save with :func:`save`
(PNG, SVG or PDF by extension).

Charts draw what the library computes: ceilings and ridge points are
:func:`roofline.formulas.attainable_performance` and :func:`roofline.formulas.ridge_point`, growth rates
:func:`roofline.formulas.growth_per_two_years` (re-exported here, as is :func:`load_trends` from
:mod:`roofline.outputs.trends`).
"""

from __future__ import annotations

import math
import os
from typing import Iterable, Mapping, Sequence

import matplotlib
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from ..errors import InputError  # noqa: E402
from ..formulas import attainable_performance, growth_per_two_years, ridge_point  # noqa: E402
from ..hardware.device import Device  # noqa: E402
from ..hardware.library import get_device  # noqa: E402
from ..vocab import Status  # noqa: E402
from .format import term_name  # noqa: E402
from ..hardware.trends import load_trends  # noqa: E402

__all__ = ['device_color', 'save', 'roofline_chart', 'compare_chart', 'sweep_chart', 'frontier_chart', 'load_trends', 'growth_per_two_years', 'memory_wall_chart', 'validation_chart']


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


def _style():
    return {"font.size": 9, "axes.titlesize": 10, "axes.labelsize": 9, "legend.fontsize": 7.5,
            "xtick.labelsize": 8, "ytick.labelsize": 8, "figure.dpi": 110}


def save(fig, path: str) -> str:
    """Write ``fig`` to ``path`` and close it; the format follows the extension.

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
    fig.savefig(path, bbox_inches="tight", dpi=200 if ext == ".png" else None)
    plt.close(fig)
    return path


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


def _draw_points(ax, points: Iterable[Mapping]) -> None:
    """Workloads as markers; labels of points that sit close together are stacked, not drawn over each other."""
    slots: dict = {}
    for p in sorted(points or [], key=lambda q: (-q["flops_per_s"], q["intensity"])):
        c = device_color(p["device"]) if p.get("device") else "black"
        ax.plot([p["intensity"]], [p["flops_per_s"]], marker="D", ms=5, color=c, mec="black", mew=0.5, ls="none")
        text = p.get("label", "")
        if p.get("bound"):
            text += f" [{term_name(p['bound'])}]"
        cell = (round(math.log10(p["intensity"]) * 1.5), round(math.log10(p["flops_per_s"]) * 3))
        k = slots.get(cell, 0)
        slots[cell] = k + 1
        ax.annotate(text, (p["intensity"], p["flops_per_s"]), textcoords="offset points",
                    xytext=(6, -9 - 9 * k), fontsize=6.5, color=c)


def roofline_chart(devices: Sequence[str | Device], dtypes: Sequence[str] = ("bf16",),
                   points: Iterable[Mapping] | None = None, levels: Sequence[str] | None = None,
                   intensity_range: tuple[float, float] | None = None, sparse: bool = False, title: str | None = None):
    """Log-log roofline: attainable FLOP/s against arithmetic intensity.

    One ceiling per device × data type × memory level (line style = level),
    :math:`P_\\text{att} = \\min(P, BW \\cdot I)` (:func:`~roofline.formulas.attainable_performance`), its
    ridge point :math:`I^* = P / BW` (:func:`~roofline.formulas.ridge_point`) marked, and ``points`` drawn
    as markers labelled with their binding term.

    Parameters
    ----------
    devices : sequence of str or Device
        The devices (keys, aliases or devices).
    dtypes : sequence of str
        Data types of the ceilings.
    points : iterable of dict, optional
        Workloads: ``intensity`` [FLOP/B], ``flops_per_s`` [FLOP/s], ``label``, and optionally ``device``
        and ``bound`` (see :func:`roofline.outputs.report.roofline_points`).
    levels : sequence of str, optional
        Only these memory levels (default: all).
    intensity_range : tuple of float, optional
        The x axis [FLOP/B] (default: around every ridge point, at least 0.05 to 10^4).
    sparse : bool
        Sparse peaks where a device publishes them.
    title : str, optional
        The chart title.

    Returns
    -------
    matplotlib.figure.Figure
    """
    devs = [get_device(d) for d in devices]
    with plt.rc_context(_style()):
        fig, ax = plt.subplots(figsize=(_WIDTH_IN, 4.2))
        ridges = [ridge_point(peak, lvl.bandwidth_bytes_per_s) for *_, lvl, peak in _ceilings(devs, dtypes, levels, sparse)]
        lo, hi = intensity_range or (min([0.05] + [r / 30 for r in ridges]), max([1e4] + [r * 30 for r in ridges]))
        x = np.geomspace(lo, hi, 400)
        for dev, j, dt, i, lvl, peak in _ceilings(devs, dtypes, levels, sparse):
            c = device_color(dev.key)
            bw = lvl.bandwidth_bytes_per_s
            ax.loglog(x, attainable_performance(x, peak, bw), color=c, ls=_LEVEL_STYLE[i % len(_LEVEL_STYLE)],
                      lw=1.4 - 0.2 * j, alpha=1.0 - 0.25 * j, label=f"{dev.key} {dt} · {lvl.name}")
            r = ridge_point(peak, bw)
            if lo <= r <= hi:
                ax.plot([r], [peak], marker="o", ms=3.5, color=c)
        _draw_points(ax, points)
        ax.set_xlabel("arithmetic intensity [FLOP/B]")
        ax.set_ylabel("attainable performance [FLOP/s]")
        ax.set_title(title or ("Roofline: " + ", ".join(d.key for d in devs) + f" ({', '.join(dtypes)}, "
                               + ("sparse" if sparse else "dense") + ")"))
        ax.grid(True, which="major", alpha=0.3)
        ax.legend(loc="lower right", ncol=2 if len(ax.lines) > 8 else 1, frameon=False)
        fig.tight_layout()
    return fig


def compare_chart(result: Mapping, title: str | None = None):
    """Horizontal bars of every row of a comparison, each device's value divided by the first device's, on
    a log axis (so very different scales stay readable).

    Parameters
    ----------
    result : dict
        From :func:`roofline.outputs.compare.compare`; its ``ratio_vs_first`` are drawn.
    title : str, optional
        The chart title.

    Returns
    -------
    matplotlib.figure.Figure
    """
    keys = [d["key"] for d in result["devices"]]
    rows = [r for r in list(result["specs"]) + list(result["workloads"])
            if (r["values"].get(keys[0]) or {}).get("value") and any(r.get("ratio_vs_first", {}).values())]
    with plt.rc_context(_style()):
        fig, ax = plt.subplots(figsize=(_WIDTH_IN, 0.28 * len(rows) * max(1, len(keys) - 1) ** 0.5 + 1.4))
        y = np.arange(len(rows))
        others = keys[1:]
        h = 0.8 / max(1, len(others))
        for j, k in enumerate(others):
            vals = []
            for r in rows:
                ratio = r.get("ratio_vs_first", {}).get(k)
                vals.append(1 / ratio if ratio else np.nan)
            vals = np.asarray(vals)
            # bars diverge from 1 (the first device): right when the other device is ahead, left when behind
            ax.barh(y + (j - (len(others) - 1) / 2) * h, vals - 1, height=h, left=1, color=device_color(k),
                    label=f"{k} ÷ {keys[0]}")
        ax.axvline(1.0, color=device_color(keys[0]), lw=1.5, label=f"{keys[0]} (= 1)")
        ax.set_xscale("log")
        ax.set_yticks(y)
        ax.set_yticklabels([r.get("quantity") or r.get("workload") for r in rows])
        ax.invert_yaxis()
        ax.set_xlabel(f"relative to {keys[0]} (above 1: the other device is ahead)")
        ax.set_title(title or ("Comparison: " + " vs ".join(keys)))
        ax.grid(True, axis="x", which="major", alpha=0.3)
        ax.legend(loc="lower right", frameon=False)
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


def sweep_chart(df, x: str = "batch", y: str = "tokens_per_s_per_user", hue: str = "device",
                style: str | None = None, logx: bool = True, logy: bool = True, title: str | None = None):
    """A metric against a swept variable, one line per ``hue`` value (a device keeps its colour).

    Parameters
    ----------
    df : pandas.DataFrame
        A sweep (:func:`roofline.llm.decode_sweep`), one row per grid point.
    x, y : str
        Columns on the axes, in their own units (``batch`` [1], ``tokens_per_s_per_user`` [tokens/s]...).
    hue : str
        The column that picks a line's colour.
    style : str, optional
        A column that picks its line style.
    logx, logy : bool
        Logarithmic axes.
    title : str, optional
        The chart title.

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
    with plt.rc_context(_style()):
        fig, ax = plt.subplots(figsize=(_WIDTH_IN, 4.0))
        groups = [hue] + ([style] if style else [])
        styles = {}
        for key, g in df.groupby(groups, observed=True, sort=False):
            key = key if isinstance(key, tuple) else (key,)
            g = g.sort_values(x)
            c = device_color(str(key[0])) if hue == "device" else None
            ls = "-"
            if style:
                ls = styles.setdefault(key[1], _LEVEL_STYLE[len(styles) % len(_LEVEL_STYLE)])
            ax.plot(g[x], g[y], color=c, ls=ls, marker=".", ms=3, label=" · ".join(str(k) for k in key))
        if logx:
            ax.set_xscale("log")
        if logy:
            ax.set_yscale("log")
        ax.set_xlabel(_LABELS.get(x, x))
        ax.set_ylabel(_LABELS.get(y, y))
        ax.set_title(title or f"{_LABELS.get(y, y)} against {_LABELS.get(x, x)}")
        ax.grid(True, which="major", alpha=0.3)
        ax.legend(frameon=False)
        fig.tight_layout()
    return fig


def frontier_chart(frames: Sequence, per: str = "device", title: str | None = None):
    """Tokens/s per user (interactivity) against tokens/s per device or per kW (throughput), one curve per
    system; the band of an unreleased device, known only as ranges, is drawn beside it.

    Parameters
    ----------
    frames : sequence of pandas.DataFrame
        From :func:`roofline.llm.frontier`, one per system.
    per : str
        ``"device"`` (tokens/s per device), ``"kw"`` (tokens/s per kW) or ``"dollar"`` (USD per million
        tokens, on a reversed axis so that cheaper is to the right; systems without a price are left out).
    title : str, optional
        The chart title.

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
    if per == "dollar":
        frames = [f for f in frames if len(f) and f[col].notna().any()]
        if not frames:
            raise InputError("no price per device-hour for these devices: give --price USD_PER_DEVICE_HOUR")
    with plt.rc_context(_style()):
        fig, ax = plt.subplots(figsize=(_WIDTH_IN, 4.2))
        for f in frames:
            if len(f) == 0:
                continue
            dev, n, model = f["device"].iloc[0], int(f["devices"].iloc[0]), f["model"].iloc[0]
            ax.plot(f[col], f["tokens_per_s_per_user"], color=device_color(dev), marker=".", ms=3,
                    label=f"{n} × {dev} · {model}")
            if per == "device" and "tokens_per_s_per_user_best" in f and get_device(dev).status == Status.UNRELEASED:
                # an unreleased device is known only as ranges: draw its band
                for w in ("best", "worst"):
                    ax.plot(f[f"tokens_per_s_per_device_{w}"], f[f"tokens_per_s_per_user_{w}"], color=device_color(dev),
                            lw=0.7, ls=":", label=f"{n} × {dev} ({w} case)")
            ax.annotate(f"b={int(f['batch'].iloc[-1])}", (f[col].iloc[-1], f["tokens_per_s_per_user"].iloc[-1]),
                        textcoords="offset points", xytext=(3, 3), fontsize=6.5, color=device_color(dev))
        ax.set_xscale("log")
        ax.set_yscale("log")
        if per == "dollar":
            ax.invert_xaxis()
        ax.set_xlabel(_LABELS[col])
        ax.set_ylabel("tokens/s per user (interactivity)")
        ax.set_title(title or "Throughput against interactivity (batch grows along each curve)")
        ax.grid(True, which="major", alpha=0.3)
        ax.legend(frameon=False)
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


def memory_wall_chart(path: str | None = None, title: str | None = None):
    """The memory wall through 2026, in two panels.

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

    Returns
    -------
    matplotlib.figure.Figure
        Two axes: the growth chart, then bytes per FLOP.
    """
    data = load_trends(path)
    ref = data["reference"]
    with plt.rc_context(_style()):
        fig, (ax, bx) = plt.subplots(2, 1, figsize=(_WIDTH_IN, 8.0), gridspec_kw={"height_ratios": [1.1, 1]})
        for key, label, refkey, color, marker in _WALL_SERIES:
            _wall_series(ax, data["points"], key, label, ref.get(refkey), color, marker)
        ax.set_xlabel("year")
        ax.set_ylabel("relative to the first device in the series")
        ax.set_title(title or "The memory wall: compute outgrows memory and interconnect bandwidth")
        ax.grid(True, which="major", alpha=0.3)
        ax.legend(frameon=False, loc="upper left", fontsize=7)
        _bytes_per_flop_panel(bx, data)
        fig.text(0.01, 0.005, "Points: vendor datasheets in trends/memory-wall.toml and hardware_specs/ (hollow: "
                 "announced, not shipped; bars: estimated ranges). Reference: Gholami et al., 'AI and Memory Wall', "
                 "IEEE Micro 2024.", fontsize=5.5)
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
        e1 = [r["efficiency"] for r in rs]
        jitter = np.linspace(-0.15, 0.15, len(rs)) if len(rs) > 1 else np.zeros(1)
        bx.semilogy(i - 0.1 + jitter * 0.5, e0, ls="none", marker="o", ms=3, color=_CATEGORY_COLORS[cat],
                    label="ideal" if i == 0 else None)
        bx.semilogy(i + 0.1 + jitter * 0.5, e1, ls="none", marker="x", ms=3.5, color=_CATEGORY_COLORS[cat],
                    label="with latency terms" if i == 0 else None)
    bx.axhline(1.0, color="black", lw=0.8)
    bx.set_xticks(range(len(cats)))
    bx.set_xticklabels(cats, rotation=35, ha="right")
    bx.set_ylabel("efficiency (measured / bound)")
    bx.legend(frameon=False, fontsize=6)
    bx.grid(True, axis="y", which="major", alpha=0.3)


def validation_chart(rows: Sequence[Mapping] | None = None, title: str | None = None):
    """Published measurements against their bounds.

    Left: measured rate against the ideal bound, log-log, every metric in its own unit (times as 1/time),
    with the line measured = bound; nothing may lie above it. Right: the efficiency of each measurement
    in ideal mode and with latency terms, per category.

    Parameters
    ----------
    rows : sequence of dict, optional
        From :func:`roofline.validation.bounds.validate` (default: validate the shipped measurements).
    title : str, optional
        The chart title.

    Returns
    -------
    matplotlib.figure.Figure
    """
    if rows is None:
        from ..validation.bounds import validate

        rows = validate()
    ok = [r for r in rows if r.get("bound_ideal")]
    with plt.rc_context(_style()):
        fig, (ax, bx) = plt.subplots(1, 2, figsize=(_WIDTH_IN, 3.4), gridspec_kw={"width_ratios": [1.1, 1]})
        _validation_scatter(ax, ok)
        _validation_efficiency(bx, ok)
        fig.suptitle(title or "Published measurements against roofline bounds", fontsize=10)
        fig.tight_layout()
    return fig
