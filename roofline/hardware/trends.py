"""The memory-wall data file (``trends/memory-wall.toml``): peak compute, DRAM and interconnect bandwidth of
accelerators over the years, each point with its source, and the growth rates Gholami et al. published.

A reader of shipped data, used by :func:`roofline.outputs.plot.memory_wall_chart` and notebooks (it lives with the device data: the hardware room); it needs
neither matplotlib nor pandas. Quantities are parsed once, here, by :func:`roofline.units.parse_quantity`
into SI floats.
"""

from __future__ import annotations

__all__ = ["load_trends"]


def _point(pt: dict) -> dict:
    from ..units import parse_quantity

    def optional(field: str, dimension: str) -> float | None:
        return parse_quantity(pt[field], dimension) if pt.get(field) else None

    return {
        "device": pt["device"], "year": float(pt["year"]),
        "peak_flops_per_s": parse_quantity(pt["peak_flops"], "flops"),
        "dram_bandwidth_bytes_per_s": optional("dram_bandwidth", "bytes_per_s"),
        "interconnect_bandwidth_bytes_per_s": optional("interconnect_bandwidth", "bytes_per_s"),
        "source": pt.get("source_title", ""),
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
        (per device: ``device``, ``year`` [a], ``peak_flops_per_s`` [FLOP/s],
        ``dram_bandwidth_bytes_per_s`` [B/s] and ``interconnect_bandwidth_bytes_per_s`` [B/s], ``None``
        where not given, and ``source``) and ``file``.

    Raises
    ------
    SpecError
        A point without a required field or with a quantity in the wrong unit, naming the file and point.
    """
    import tomllib

    from .._paths import data_dir
    from ..errors import SpecError
    from ..units import UnitError

    p = path or str(data_dir("trends") / "memory-wall.toml")
    with open(p, "rb") as fh:
        doc = tomllib.load(fh)
    pts = []
    for i, pt in enumerate(doc.get("point", [])):
        try:
            pts.append(_point(pt))
        except (KeyError, UnitError) as exc:
            raise SpecError(p, f"point[{i}]", str(exc)) from None
    return {"reference": doc.get("reference", {}), "points": pts, "file": p}
