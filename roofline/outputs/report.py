"""Records of devices, models and roofline points: the plain dicts behind ``list``, ``show``, ``models`` and
``plot roofline``.

Each function reads a :class:`~roofline.hardware.Device` (or a model config, or library results) and
returns JSON-able dicts that the command line formats and notebooks use directly. Numbers are SI floats.
Where a figure is a range, a record carries ``<field>_range: [low, high]`` beside the nominal ``<field>``.
Nothing here computes physics: main memory is :attr:`Device.main_memory`, "has ranges" is
:attr:`Device.is_estimate`, and the one derived quantity, a roofline point, comes from the formulas.

:func:`kernel_report` (from :mod:`roofline.engine.kernel`) is reachable here as well, where notebooks
have always found it.
"""

from __future__ import annotations

from typing import Sequence

from ..hardware.device import Device
from ..hardware.figure import Figure
from .format import human
from ..formulas import achieved_performance, arithmetic_intensity

__all__ = ['device_summary', 'device_record', 'device_rows', 'figure_records', 'model_summary', 'roofline_points']


def __getattr__(name: str):
    # kept off the import path of ``roofline list``: the engine loads only when a kernel is timed
    if name == "kernel_report":
        from ..engine.kernel import kernel_report

        return kernel_report
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _with_range(obj: dict, field: str, fig: Figure | None) -> None:
    if fig is None:
        return
    obj[field] = fig.value
    if fig.is_range:
        obj[field + "_range"] = [fig.low, fig.high]


def device_summary(dev: Device) -> dict:
    """One record per device for ``roofline list``: identity, BF16 dense peak and main memory.

    Parameters
    ----------
    dev : Device
        The device.

    Returns
    -------
    dict
        ``key``, ``name``, ``vendor``, ``kind``, ``year``, ``status``, ``aliases``,
        ``bf16_dense_flops_per_s`` [FLOP/s] (``None`` without a BF16 peak), ``main_memory`` (the level's
        name, :attr:`Device.main_memory`), ``main_memory_capacity_bytes`` [B],
        ``main_memory_bandwidth_bytes_per_s`` [B/s], ``estimate`` (:attr:`Device.is_estimate`: results for
        the device are ranges) and ``file``.
    """
    bf16 = dev.compute.get("bf16", {}).get("dense")
    main = dev.main_memory
    return {
        "key": dev.key, "name": dev.name, "vendor": dev.vendor, "kind": dev.kind, "year": dev.year,
        "status": dev.status, "aliases": list(dev.aliases),
        "bf16_dense_flops_per_s": bf16.value if bf16 else None,
        "main_memory": main.name, "main_memory_capacity_bytes": main.capacity_bytes,
        "main_memory_bandwidth_bytes_per_s": main.bandwidth_bytes_per_s,
        "estimate": dev.is_estimate,
        "file": dev.file,
    }


def _compute_record(dev: Device) -> dict:
    compute = {}
    for dt, kinds in dev.compute.items():
        c: dict = {}
        _with_range(c, "dense_flops_per_s", kinds["dense"])
        if "sparse" in kinds:
            _with_range(c, "sparse_flops_per_s", kinds["sparse"])
        compute[dt] = c
    return compute


def _memory_record(dev: Device) -> list[dict]:
    memory = []
    for m in dev.memory:
        o: dict = {"name": m.name, "label": m.label, "kind": m.kind}
        _with_range(o, "capacity_bytes", m.capacity)
        _with_range(o, "bandwidth_bytes_per_s", m.bandwidth)
        _with_range(o, "latency_s", m.latency)
        memory.append(o)
    return memory


def _link_record(dev: Device) -> list[dict]:
    links = []
    for lk in dev.interconnect:
        o = {"name": lk.name, "label": lk.label, "duplex": lk.duplex}
        _with_range(o, "bandwidth_bytes_per_s", lk.bandwidth)
        o["per_direction_bytes_per_s"] = lk.per_direction_bytes_per_s
        _with_range(o, "latency_s", lk.latency)
        if lk.domain_size is not None:
            o["domain_size"] = lk.devices_per_domain
        links.append(o)
    return links


def device_record(dev: Device) -> dict:
    """Everything about a device as one JSON-able record (``roofline show --format json``).

    Parameters
    ----------
    dev : Device
        The device.

    Returns
    -------
    dict
        Identity; ``compute`` (per data type, ``dense_flops_per_s`` [FLOP/s] and ``sparse_flops_per_s``);
        ``memory`` (per level, fastest first: ``capacity_bytes`` [B], ``bandwidth_bytes_per_s`` [B/s],
        ``latency_s`` [s]); ``interconnect`` (per link: ``bandwidth_bytes_per_s`` [B/s] as published,
        ``per_direction_bytes_per_s`` [B/s], ``latency_s`` [s], ``domain_size`` [1]); ``power_w`` [W];
        every figure with its unit, basis, range and sources; the sources; and the spec file.
    """
    rec = {
        "key": dev.key, "aliases": list(dev.aliases), "name": dev.name, "vendor": dev.vendor, "kind": dev.kind,
        "year": dev.year, "process": dev.process, "status": dev.status, "summary": dev.summary,
        "compute": _compute_record(dev), "memory": _memory_record(dev), "interconnect": _link_record(dev),
    }
    _with_range(rec, "power_w", dev.figures.get("power.tdp"))
    if "power_w" not in rec:
        rec["power_w"] = None
    rec["figures"] = {
        p: {"value": f.value, "unit": f.unit, "basis": f.basis, "low": f.low, "high": f.high,
            "sources": list(f.sources), "note": f.note, "formula": f.formula or None, "text": f.text}
        for p, f in dev.figures.items()
    }
    rec["sources"] = {k: dict(v) for k, v in dev.sources.items()}
    rec["file"] = dev.file
    return rec


def device_rows(dev: Device) -> list[dict]:
    """One row per figure for ``roofline show``: path, value, range, basis and source, as text.

    Parameters
    ----------
    dev : Device
        The device.

    Returns
    -------
    list of dict
        ``figure`` (its path), ``value`` and ``range`` (formatted with their unit), ``basis`` and
        ``source`` (the titles of its sources, cut at 60 characters).
    """
    rows = []
    for p, f in dev.figures.items():
        rng = f"{human(f.low, f.unit)} – {human(f.high, f.unit)}" if f.is_range else ""
        src = "; ".join(dev.sources[s].get("title", s) for s in f.sources)
        rows.append({"figure": p, "value": human(f.value, f.unit), "range": rng, "basis": f.basis,
                     "source": src if len(src) <= 60 else src[:57] + "..."})
    return rows


def figure_records(dev: Device) -> list[dict]:
    """One machine-readable row per figure (``roofline show --format csv``): SI numbers, the unit beside.

    Parameters
    ----------
    dev : Device
        The device.

    Returns
    -------
    list of dict
        ``device``, ``figure`` (its path), ``value``, ``low`` and ``high`` (SI floats in ``unit``; the
        range ends equal the value for a figure known exactly), ``unit`` (the SI unit), ``basis``,
        ``sources`` (source ids, ``;``-separated), ``source_titles`` and ``source_urls`` (whole, never cut).
    """
    rows = []
    for p, f in dev.figures.items():
        srcs = [dev.sources.get(s, {}) for s in f.sources]
        rows.append({"device": dev.key, "figure": p, "value": f.value, "low": f.low, "high": f.high,
                     "unit": f.unit, "basis": f.basis, "sources": ";".join(f.sources),
                     "source_titles": "; ".join(s.get("title", "") for s in srcs),
                     "source_urls": " ".join(s.get("url", "") for s in srcs)})
    return rows


def model_summary(model) -> dict:
    """One record per LLM configuration for ``roofline models``.

    Parameters
    ----------
    model : roofline.llm.config.ModelConfig
        The model.

    Returns
    -------
    dict
        ``key``, ``name``, ``layers`` [1], ``d_model`` [1], ``heads`` [1], ``kv_heads`` [1], ``params``
        [1], ``active_params`` [1] (per token, for a mixture of experts), ``moe`` and ``source`` (a URL).
    """
    return {"key": model.key, "name": model.name, "layers": model.n_layers, "d_model": model.d_model,
            "heads": model.n_heads, "kv_heads": model.n_kv_heads, "params": model.total_params(),
            "active_params": model.active_params(), "moe": model.is_moe, "source": model.source.get("url", "")}


def _kernel_points(dev: Device, dtype: str, size: int) -> list[dict]:
    from ..engine.kernel import kernel_report
    from ..workloads import kernels

    pts = []
    for name, wl in ((f"GEMM {size}³", kernels.gemm(size, size, size, dtype=dtype)),
                     (f"GEMV {size}²", kernels.gemv(size, size, dtype=dtype))):
        r = kernel_report(wl, dev, ideal=True)
        pts.append({"intensity": r["arithmetic_intensity"], "flops_per_s": r["attainable_flops_per_s"],
                    "label": f"{name} on {dev.key}", "device": dev.key, "bound": r["bound"]})
    return pts


def _rate_range(flops: float, rec: dict, key: str) -> list[float] | None:
    """The achieved rate's range from the time's: the best time gives the highest rate."""
    r = rec.get(key + "_range")
    return None if not r else [achieved_performance(flops, r[1]), achieved_performance(flops, r[0])]


def _llm_points(dev: Device, model: str, dtype: str, batch: int, context: int, ideal: bool) -> list[dict]:
    """The decode step and the prefill of ``model`` on ``dev`` as roofline points."""
    from ..llm.inference import estimate

    r = estimate(model, dev, batch=batch, context=context, dtype=dtype, ideal=ideal)
    n = f" ×{r['devices_used']}" if r["devices_used"] > 1 else ""
    pts = [{"intensity": arithmetic_intensity(r["decode_flops"], r["decode_bytes"]),
            "flops_per_s": achieved_performance(r["decode_flops"], r["tpot_s"]), "device": dev.key,
            "phase": "decode", "label": f"{model} decode b={batch} on {dev.key}{n}", "bound": r["bound"],
            "flops_per_s_range": _rate_range(r["decode_flops"], r, "tpot_s")},
           {"intensity": arithmetic_intensity(r["prefill_flops"], r["prefill_bytes"]),
            "flops_per_s": achieved_performance(r["prefill_flops"], r["ttft_s"]), "device": dev.key,
            "phase": "prefill", "label": f"{model} prefill {r['prompt']} tok on {dev.key}{n}",
            "bound": r["prefill_bound"], "flops_per_s_range": _rate_range(r["prefill_flops"], r, "ttft_s")}]
    return [{k: v for k, v in p.items() if v is not None} for p in pts]


def roofline_points(devices: Sequence[Device], dtype: str = "bf16", models: Sequence[str] = (), batch: int = 1,
                    context: int = 2048, kernel_size: int = 8192, ideal: bool = True) -> list[dict]:
    """Workloads as points on a roofline chart (:func:`roofline.outputs.plot.roofline_chart`).

    Per device: a square GEMM and a GEMV of ``kernel_size`` (where the device has a ``dtype`` peak), and one
    decode step and the prefill of each model. A kernel's point is its arithmetic intensity and attainable
    rate from :func:`roofline.engine.kernel.kernel_report`; a decode step's (and likewise a prefill's, with
    its FLOPs, bytes and time to first token) is

    .. math:: I = \\frac{F}{Q}, \\qquad P = \\frac{F}{t}

    with :math:`F` the FLOPs and :math:`Q` the bytes moved per step and :math:`t` the time per output token.

    Parameters
    ----------
    devices : sequence of Device
        The devices.
    dtype : str
        Data type of the kernels, the weights, activations and KV cache.
    models : sequence of str
        Model keys (or files) whose decode step to add.
    batch : int
        Sequences decoded together [1].
    context : int
        Tokens in context [1].
    kernel_size : int
        M = N = K of the GEMM, N = K of the GEMV [1].
    ideal : bool
        Leave out latency terms (the pure roofline; the kernels are always ideal).

    Returns
    -------
    list of dict
        ``intensity`` [FLOP/B], ``flops_per_s`` [FLOP/s], ``label``, ``device``, ``bound`` (the binding
        term's label), for a model ``phase`` (``decode`` or ``prefill``) and, where the device's figures
        are ranges, ``flops_per_s_range`` [FLOP/s].
    """
    pts = []
    for dev in devices:
        if dtype in dev.compute:
            pts += _kernel_points(dev, dtype, kernel_size)
        for model in models:
            pts += _llm_points(dev, model, dtype, batch, context, ideal)
    return pts
