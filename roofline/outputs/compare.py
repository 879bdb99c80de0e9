"""Side-by-side comparison of devices: their figures, and the same workloads timed on each.

:func:`compare` returns plain dicts (for JSON, tables, charts and notebooks). Rates carry a ``ratio``
against the first device: above 1 the first device is faster (or larger, or more efficient).
"""

from __future__ import annotations

from typing import Sequence

from ..errors import CapacityError, InputError
from ..hardware.device import Device
from ..hardware.library import get_device
from .format import human_range

__all__ = ['DEFAULT_MODELS', 'compare', 'comparison_rows']


#: The default LLM workloads of ``roofline compare``.
DEFAULT_MODELS = ("llama-3.1-8b", "llama-3.1-70b")


_DTYPE_ORDER = ("fp64", "fp32", "tf32", "bf16", "fp16", "fp8", "cfp8", "int8", "fp6", "fp4")


def _main_level(dev: Device):
    for lvl in dev.memory:
        if lvl.kind not in ("cache", "register"):
            return lvl
    return dev.memory[-1]


def _fig(value, fig=None, unit="", rng=None):
    out = {"value": value, "unit": unit}
    if fig is not None and fig.is_range:
        out["range"] = [fig.low, fig.high]
    elif rng is not None:
        out["range"] = list(rng)
    return out


def _spec_rows(devs: list[Device], dtype: str) -> list[dict]:
    rows = []
    dts = [d for d in _DTYPE_ORDER if any(d in dev.compute for dev in devs)]
    for dt in dts:
        rows.append({"section": "compute", "quantity": f"{dt.upper()} dense", "unit": "FLOP/s", "better": "higher",
                     "values": {dev.key: (_fig(dev.peak(dt), dev.peak_figure(dt), "FLOP/s") if dt in dev.compute else None)
                                for dev in devs}})

    def level_row(name, pick, attr, unit):
        vals = {}
        for dev in devs:
            lvl = pick(dev)
            if lvl is None:
                vals[dev.key] = None
                continue
            f = getattr(lvl, attr)
            vals[dev.key] = {**_fig(f.value, f, unit), "level": lvl.name} if attr == "capacity" else _fig(f.value, f, unit)
        return {"section": "memory", "quantity": name, "unit": unit, "better": "higher", "values": vals}

    fastest = lambda dev: dev.memory[0]  # noqa: E731
    external = lambda dev: next((m for m in dev.memory if m.kind == "external"), None)  # noqa: E731
    rows += [level_row("fastest memory", fastest, "capacity", "B"),
             level_row("fastest memory BW", fastest, "bandwidth", "B/s"),
             level_row("main memory", _main_level, "capacity", "B"),
             level_row("main memory BW", _main_level, "bandwidth", "B/s")]
    if any(external(d) for d in devs):
        rows += [level_row("external memory", external, "capacity", "B"),
                 level_row("external memory BW", external, "bandwidth", "B/s")]

    def per_dev(fn):
        out = {}
        for dev in devs:
            try:
                out[dev.key] = fn(dev)
            except Exception:  # a device without this data type or figure
                out[dev.key] = None
        return out

    def ridge(dev):
        p, lvl = dev.peak_figure(dtype), _main_level(dev)
        return _fig(p.value / lvl.bandwidth.value, unit="FLOP/B",
                    rng=(p.low / lvl.bandwidth.high, p.high / lvl.bandwidth.low) if (p.is_range or lvl.bandwidth.is_range) else None)

    def bpf(dev):
        p, lvl = dev.peak_figure(dtype), _main_level(dev)
        return _fig(lvl.bandwidth.value / p.value, unit="B/FLOP",
                    rng=(lvl.bandwidth.low / p.high, lvl.bandwidth.high / p.low) if (p.is_range or lvl.bandwidth.is_range) else None)

    rows.append({"section": "balance", "quantity": f"ridge point ({dtype.upper()}, main)", "unit": "FLOP/B",
                 "better": "lower", "values": per_dev(ridge)})
    rows.append({"section": "balance", "quantity": "bytes per FLOP (main)", "unit": "B/FLOP",
                 "better": "higher", "values": per_dev(bpf)})

    def link(dev):
        lks = [lk for lk in dev.interconnect if lk.devices_per_domain > 1]
        if not lks:
            return None
        lk = lks[0]
        f = lk.bandwidth
        out = _fig(lk.per_direction_bytes_per_s, unit="B/s",
                   rng=(f.low * lk.direction_factor, f.high * lk.direction_factor) if f.is_range else None)
        out.update(link=lk.name, domain=lk.devices_per_domain)
        return out

    rows.append({"section": "interconnect", "quantity": "link to other devices", "unit": "B/s",
                 "better": "higher", "values": per_dev(link)})
    rows.append({"section": "power", "quantity": "power", "unit": "W", "better": "lower",
                 "values": per_dev(lambda d: _fig(d.power_w, d.figures["power.tdp"], "W") if d.power_w else None)})

    def eff(dev):
        p, w = dev.peak_figure(dtype), dev.figures.get("power.tdp")
        if w is None:
            return None
        return _fig(p.value / w.value, unit="FLOP/s/W",
                    rng=(p.low / w.high, p.high / w.low) if (p.is_range or w.is_range) else None)

    rows.append({"section": "power", "quantity": f"{dtype.upper()} per watt", "unit": "FLOP/s/W",
                 "better": "higher", "values": per_dev(eff)})
    return rows


def _workload_rows(devs: list[Device], models: Sequence[str], batch: int, context: int, dtype: str,
                   ideal: bool, gemm_size: int = 8192) -> list[dict]:
    from ..engine.kernel import kernel_report
    from ..llm.inference import estimate
    from ..llm.precision import Precision
    from ..workloads.recipes import Recipe

    rows = []
    for name, wl in ((f"GEMM {gemm_size}³", Recipe("gemm", m=gemm_size, n=gemm_size, k=gemm_size, dtype=dtype)),
                     (f"GEMV {gemm_size}²", Recipe("gemv", n=gemm_size, k=gemm_size, dtype=dtype))):
        vals = {}
        for dev in devs:
            try:
                r = kernel_report(wl, dev, ideal=ideal)
            except (CapacityError, InputError) as exc:
                vals[dev.key] = {"value": None, "error": str(exc)}
                continue
            vals[dev.key] = {"value": r["time_s"], "unit": "s", "bound": r["bound"]}
            if "time_s_range" in r:
                vals[dev.key]["range"] = r["time_s_range"]
        rows.append({"section": "kernels", "workload": name + " time", "metric": "time", "unit": "s", "better": "lower",
                     "values": vals})
    prec = Precision.of(dtype)
    for model in models:
        dec, pre = {}, {}
        for dev in devs:
            try:
                r = estimate(model, dev, batch=batch, context=context, prec=prec, ideal=ideal)
            except (CapacityError, InputError) as exc:
                dec[dev.key] = pre[dev.key] = {"value": None, "error": str(exc)}
                continue
            dec[dev.key] = {"value": r["tokens_per_s_per_user"], "unit": "tokens/s", "bound": r["bound"],
                            "devices_used": r["devices_used"], "level": r["weights_level"]}
            if "tokens_per_s_per_user_range" in r:
                dec[dev.key]["range"] = r["tokens_per_s_per_user_range"]
            pre[dev.key] = {"value": r["ttft_s"], "unit": "s", "bound": r["prefill_bound"],
                            "devices_used": r["devices_used"]}
            if "ttft_s_range" in r:
                pre[dev.key]["range"] = r["ttft_s_range"]
        rows.append({"section": "llm", "workload": f"{model} tokens/s/user", "model": model, "phase": "decode",
                     "metric": "tokens/s per user", "unit": "tokens/s", "better": "higher", "values": dec})
        rows.append({"section": "llm", "workload": f"{model} first token", "model": model, "phase": "prefill",
                     "metric": "time to first token", "unit": "s", "better": "lower", "values": pre})
    return rows


def _ratios(rows: list[dict], devs: list[Device]) -> None:
    first = devs[0].key
    for row in rows:
        base = (row["values"].get(first) or {}).get("value")
        ratios = {}
        for dev in devs[1:]:
            v = (row["values"].get(dev.key) or {}).get("value")
            if base and v:
                ratios[dev.key] = (base / v) if row["better"] in ("higher",) else (v / base)
            else:
                ratios[dev.key] = None
        row["ratio_vs_first"] = ratios


def compare(devices: Sequence[str | Device], models: Sequence[str] | None = None, batch: int = 1,
            context: int = 2048, dtype: str = "bf16", ideal: bool = False, spec_paths=()) -> dict:
    """Compare ``devices``: their figures, and default (or given) workloads timed on each.

    Returns ``{"devices": [...], "dtype": ..., "specs": [rows], "workloads": [rows]}``; each row maps a
    device key to ``{"value", "unit", "range"?, "bound"?, "devices_used"?}`` and has ``ratio_vs_first``
    (above 1: the first device is ahead). LLM rows use the fewest devices that hold the model.
    """
    if len(devices) < 2:
        raise InputError("compare needs at least two devices")
    devs = [get_device(d, spec_paths) for d in devices]
    if len({d.key for d in devs}) != len(devs):
        raise InputError("compare needs different devices")
    from ..dtypes import bytes_per_element

    bytes_per_element(dtype)
    missing = [d.key for d in devs if dtype not in d.compute]
    if missing:
        raise InputError(f"{', '.join(missing)} publish no {dtype} peak; choose another --dtype")
    specs = _spec_rows(devs, dtype)
    loads = _workload_rows(devs, list(models) if models else list(DEFAULT_MODELS), batch, context, dtype, ideal)
    _ratios(specs, devs)
    _ratios(loads, devs)
    return {"devices": [{"key": d.key, "name": d.name, "vendor": d.vendor, "kind": d.kind, "status": d.status,
                         "estimate": d.status == "unreleased"} for d in devs],
            "dtype": dtype, "batch": batch, "context": context, "ideal": ideal, "specs": specs, "workloads": loads}


def _cell(v: dict | None) -> str:
    if v is None:
        return "—"
    if "level" in v and "bound" not in v:
        return f"{_cell({k: x for k, x in v.items() if k != 'level'})} {v['level']}"
    if "link" in v:
        return f"{_cell({k: x for k, x in v.items() if k not in ('link', 'domain')})} {v['link']}"
    if v.get("value") is None:
        return "does not fit" if "needs" in v.get("error", "") else "n/a"
    unit = v.get("unit", "")
    lo, hi = v.get("range", (None, None))
    if unit == "tokens/s":
        fmt = (lambda x: f"{x:,.0f}") if v["value"] >= 100 else (lambda x: f"{x:,.1f}")  # noqa: E731
        text = fmt(v["value"])
        if lo is not None and hi - lo > 0.01 * v["value"]:
            text += f" ({fmt(lo)}–{fmt(hi)})"
    else:
        text = human_range(v["value"], lo, hi, unit)
    if "devices_used" in v and v["devices_used"] > 1:
        text += f" ×{v['devices_used']}"
    return text


def _short_bound(b: str) -> str:
    return b.split(":", 1)[1] if ":" in b else b


def _ratio_text(r) -> str:
    if not r:
        return "—"
    return f"{r:,.0f}×" if r >= 100 else f"{r:.3g}×"


def comparison_rows(result: dict, bounds: bool = True) -> tuple[list[dict], list[dict]]:
    """Flatten a :func:`compare` result into two lists of table rows (figures, workloads)."""
    keys = [d["key"] for d in result["devices"]]
    spec_rows = []
    for row in result["specs"]:
        r = {"figure": row["quantity"]}
        for k in keys:
            r[k] = _cell(row["values"].get(k))
        if len(keys) == 2:
            ratio = row["ratio_vs_first"].get(keys[1])
            r["ratio"] = _ratio_text(ratio)
        spec_rows.append(r)
    load_rows = []
    for row in result["workloads"]:
        r = {"workload": row["workload"]}
        for k in keys:
            cell = _cell(row["values"].get(k))
            b = (row["values"].get(k) or {}).get("bound")
            r[k] = f"{cell} [{_short_bound(b)}]" if (bounds and b) else cell
        if len(keys) == 2:
            ratio = row["ratio_vs_first"].get(keys[1])
            r["ratio"] = _ratio_text(ratio)
        load_rows.append(r)
    return spec_rows, load_rows

