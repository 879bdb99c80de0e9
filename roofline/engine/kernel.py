"""Library functions behind the CLI commands: plain dicts that the CLI formats and notebooks use directly.

Numbers are SI floats. Where a figure (or a result) is a range, the object carries ``<field>_range:
[low, high]`` beside the nominal ``<field>``; for results, ``low`` is the best case (fastest figures) and
``high`` the worst.
"""

from __future__ import annotations

from typing import Mapping

from ..hardware.device import Device

__all__ = ['kernel_report']


def kernel_report(workload, device: Device, shapes: Mapping[str, float] | None = None, overlap: str = "max",
                  ideal: bool = False, level: str | None = None, sparse: bool = False,
                  devices: int = 1) -> dict:
    """A single kernel on a device: time, work, traffic, intensity, attainable rate and the binding term.

    ``workload`` is a :class:`~roofline.workloads.Workload` or a :class:`~roofline.recipes.Recipe` (whose
    compiled function comes from the disk cache, so no SymPy is needed on a warm run). Raises
    :class:`~roofline.errors.CapacityError` if the working set fits no memory level.
    """
    import numpy as np

    from ..placement.levels import check_fits
    from ..workloads.recipes import Recipe
    from .cache import compile_recipe
    from .compiled import compile_workload, evaluate
    from .terms import _overlap

    shapes = dict(shapes or {})
    if isinstance(workload, Recipe):
        cw = compile_recipe(workload, device, overlap, ideal, sparse)
    else:
        cw = compile_workload(workload, device, overlap, ideal, sparse=sparse)
    ws = float(cw.working_set(shapes, device.values()))
    home = check_fits(device, ws, devices, what=f"{cw.name} working set", level=level)
    rec = {"device": device.key, "workload": cw.name, "dtype": ",".join(cw.dtypes),
           "overlap": _overlap(overlap), "ideal": ideal}
    results = {}
    for which in (("nominal", "best", "worst") if device.is_estimate else ("nominal",)):
        results[which] = evaluate(None, device, shapes, overlap, ideal, which, devices, level, compiled=cw)
    r = results["nominal"]
    rec.update({
        "time_s": float(r["time_s"]),
        "flops": float(r["flops"]), "bytes": float(r["bytes"]),
        "arithmetic_intensity": float(r["arithmetic_intensity"]),
        "attainable_flops_per_s": float(r["attainable_flops_per_s"]),
        "peak_flops_per_s": device.peak(cw.dtypes[0], sparse),
        "bound": str(r["bound"]), "home_level": device.memory[home].name,
        "working_set_bytes": ws,
    })
    rec["ridge_flops_per_byte"] = rec["peak_flops_per_s"] / device.memory[home].bandwidth_bytes_per_s
    rec["terms_s"] = {lbl: float(t) for lbl, t in zip(r["labels"], r["term_totals"])}
    lo, hi = (float(results[w]["time_s"]) for w in ("best", "worst")) if len(results) > 1 else (0, 0)
    if len(results) > 1 and not np.isclose(lo, hi, rtol=1e-9, atol=0):
        rec["time_s_range"] = [min(lo, hi), max(lo, hi)]
        rec["attainable_flops_per_s_range"] = [rec["flops"] / max(lo, hi), rec["flops"] / min(lo, hi)]
    return rec

