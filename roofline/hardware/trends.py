"""The memory-wall data file (``trends/memory-wall.toml``): peak compute, DRAM and interconnect bandwidth of
accelerators over the years, each point with its source, the growth rates Gholami et al. published, and
the SRAM machines' on-chip bandwidth per FLOP.

A reader of shipped data, used by :func:`roofline.outputs.plot.memory_wall_chart` and notebooks (it lives
with the device data: the hardware room); it needs neither matplotlib nor pandas. Quantities are parsed
once, here, by :func:`roofline.units.parse_quantity` into SI floats. A point that names a spec
(``spec = "b300"``) takes its figures from that device's spec file, so each number keeps one home.
"""

from __future__ import annotations

__all__ = ["load_trends"]


def _point(pt: dict) -> dict:
    from ..formulas import bytes_per_flop
    from ..units import parse_quantity

    def optional(field: str, dimension: str) -> float | None:
        return parse_quantity(pt[field], dimension) if pt.get(field) else None

    peak, dram = parse_quantity(pt["peak_flops"], "flops"), optional("dram_bandwidth", "bytes_per_s")
    return {
        "device": pt["device"], "year": float(pt["year"]),
        "peak_flops_per_s": peak, "dram_bandwidth_bytes_per_s": dram,
        "interconnect_bandwidth_bytes_per_s": optional("interconnect_bandwidth", "bytes_per_s"),
        "source": pt.get("source_title", ""), "label": pt.get("label") or _short(pt["device"]),
        "status": pt.get("status", "released"), "series": "dram",
        "bytes_per_flop": bytes_per_flop(dram, peak) if dram else None,
        "peak_flops_range": None, "bandwidth_range": None, "bytes_per_flop_range": None,
    }


def _short(name: str) -> str:
    """A chart label: the device name without its vendor (``"NVIDIA H100 SXM5"`` -> ``"H100 SXM5"``)."""
    for vendor in ("NVIDIA ", "Google ", "AMD Instinct ", "AMD "):
        if name.startswith(vendor):
            return name[len(vendor):]
    return name


def _spec_point(pt: dict) -> dict:
    """A point whose figures come from a spec file: the dense 16-bit peak (bf16, or its same-width
    fallback) and the main memory's bandwidth, or (``series = "sram"``) the on-chip SRAM's."""
    from ..dtypes import peak_dtype
    from ..formulas import bytes_per_flop, interval_div
    from ..vocab import MemoryKind
    from .library import get_device

    dev = get_device(pt["spec"])
    dt = peak_dtype("bf16", dev.compute)
    if dt is None:
        raise KeyError(f"{dev.key} publishes no 16-bit peak")
    peak, series = dev.peak_figure(dt), pt.get("series", "dram")
    if series not in ("dram", "sram"):
        raise KeyError(f"series must be 'dram' or 'sram', got {series!r}")
    mem = dev.memory[0] if series == "sram" else dev.main_memory
    if series == "sram" and mem.kind != MemoryKind.SRAM:
        raise KeyError(f"{dev.key}'s fastest memory is {mem.kind}, not SRAM")
    bw = mem.bandwidth
    link = next((lk for lk in dev.interconnect if lk.devices_per_domain > 1), None) if series == "dram" else None
    return {
        "device": dev.name, "year": float(pt.get("year", dev.year)), "peak_flops_per_s": peak.value,
        "dram_bandwidth_bytes_per_s": bw.value if series == "dram" else None,
        "sram_bandwidth_bytes_per_s": bw.value if series == "sram" else None,
        "interconnect_bandwidth_bytes_per_s": 2 * link.per_direction() if link else None,
        "source": f"hardware_specs/{dev.key}.toml", "label": pt.get("label", dev.key), "status": str(dev.status),
        "series": series, "dtype": dt, "bytes_per_flop": bytes_per_flop(bw.value, peak.value),
        "peak_flops_range": (peak.low, peak.high) if peak.is_range else None,
        "bandwidth_range": (bw.low, bw.high) if bw.is_range else None,
        "bytes_per_flop_range": interval_div((bw.low, bw.high), (peak.low, peak.high))
        if bw.is_range or peak.is_range else None,
    }


def load_trends(path: str | None = None) -> dict:
    """The sourced memory-wall data, units parsed.

    Parameters
    ----------
    path : str, optional
        A trends file (default: the shipped ``trends/memory-wall.toml``).

    Returns
    -------
    dict
        ``reference`` (the published growth factors per two years [1] and their citation), ``points``
        (accelerators with DRAM, per device: ``device``, ``label``, ``year`` [a], ``status``
        (``announced`` for parts not shipped), ``peak_flops_per_s`` [FLOP/s], ``dram_bandwidth_bytes_per_s``
        [B/s], ``interconnect_bandwidth_bytes_per_s`` [B/s] (``None`` where not given), ``bytes_per_flop``
        [B/FLOP], ``peak_flops_range``, ``bandwidth_range`` and ``bytes_per_flop_range`` (``(low, high)``
        where a figure is estimated, else ``None``) and ``source``), ``sram_points`` (the SRAM machines, the same keys with
        ``sram_bandwidth_bytes_per_s`` [B/s], the on-chip bandwidth, in place of DRAM) and ``file``.

    Raises
    ------
    SpecError
        A point without a required field, with a quantity in the wrong unit, or naming a spec that
        cannot give it (an unknown device, no 16-bit peak, no SRAM), naming the file and point.
    """
    import tomllib

    from .._paths import data_dir
    from ..errors import RooflineError, SpecError
    from ..units import UnitError

    p = path or str(data_dir("trends") / "memory-wall.toml")
    with open(p, "rb") as fh:
        doc = tomllib.load(fh)
    pts = []
    for i, pt in enumerate(doc.get("point", [])):
        try:
            pts.append(_spec_point(pt) if "spec" in pt else _point(pt))
        except (KeyError, UnitError, RooflineError) as exc:
            raise SpecError(p, f"point[{i}]", str(exc).strip("'\"")) from None
    return {"reference": doc.get("reference", {}), "points": [x for x in pts if x["series"] == "dram"],
            "sram_points": [x for x in pts if x["series"] == "sram"], "file": p}
