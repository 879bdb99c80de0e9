"""Library functions behind the CLI commands: plain dicts that the CLI formats and notebooks use directly.

Numbers are SI floats. Where a figure (or a result) is a range, the object carries ``<field>_range:
[low, high]`` beside the nominal ``<field>``; for results, ``low`` is the best case (fastest figures) and
``high`` the worst.
"""

from __future__ import annotations

from ..hardware.device import Device
from ..hardware.figure import Figure
from .format import human

__all__ = ['device_summary', 'device_record', 'device_rows']


def _with_range(obj: dict, field: str, fig: Figure | None) -> None:
    if fig is None:
        return
    obj[field] = fig.value
    if fig.is_range:
        obj[field + "_range"] = [fig.low, fig.high]


def device_summary(dev: Device) -> dict:
    """One line per device for ``roofline list``."""
    bf16 = dev.compute.get("bf16", {}).get("dense")
    main = dev.memory[-1] if dev.memory[-1].kind != "external" or len(dev.memory) == 1 else dev.memory[-2]
    return {
        "key": dev.key, "name": dev.name, "vendor": dev.vendor, "kind": dev.kind, "year": dev.year,
        "status": dev.status, "aliases": list(dev.aliases),
        "bf16_dense_flops_per_s": bf16.value if bf16 else None,
        "main_memory": main.name, "main_memory_capacity_bytes": main.capacity_bytes,
        "main_memory_bandwidth_bytes_per_s": main.bandwidth_bytes_per_s,
        "estimate": dev.is_estimate and dev.status == "unreleased",
        "file": dev.file,
    }


def device_record(dev: Device) -> dict:
    """Everything about a device as one JSON-able object (``roofline show --format json``)."""
    compute = {}
    for dt, kinds in dev.compute.items():
        c: dict = {}
        _with_range(c, "dense_flops_per_s", kinds["dense"])
        if "sparse" in kinds:
            _with_range(c, "sparse_flops_per_s", kinds["sparse"])
        compute[dt] = c
    memory = []
    for m in dev.memory:
        o: dict = {"name": m.name, "label": m.label, "kind": m.kind}
        _with_range(o, "capacity_bytes", m.capacity)
        _with_range(o, "bandwidth_bytes_per_s", m.bandwidth)
        _with_range(o, "latency_s", m.latency)
        memory.append(o)
    links = []
    for lk in dev.interconnect:
        o = {"name": lk.name, "label": lk.label, "duplex": lk.duplex}
        _with_range(o, "bandwidth_bytes_per_s", lk.bandwidth)
        o["per_direction_bytes_per_s"] = lk.per_direction_bytes_per_s
        _with_range(o, "latency_s", lk.latency)
        if lk.domain_size is not None:
            o["domain_size"] = lk.devices_per_domain
        links.append(o)
    rec = {
        "key": dev.key, "aliases": list(dev.aliases), "name": dev.name, "vendor": dev.vendor, "kind": dev.kind,
        "year": dev.year, "process": dev.process, "status": dev.status, "summary": dev.summary,
        "compute": compute, "memory": memory, "interconnect": links,
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
    """One row per figure for ``roofline show``: path, value, range, basis, source title."""
    rows = []
    for p, f in dev.figures.items():
        rng = f"{human(f.low, f.unit)} – {human(f.high, f.unit)}" if f.is_range else ""
        src = "; ".join(dev.sources[s].get("title", s) for s in f.sources)
        rows.append({"figure": p, "value": human(f.value, f.unit), "range": rng, "basis": f.basis,
                     "source": src if len(src) <= 60 else src[:57] + "..."})
    return rows

