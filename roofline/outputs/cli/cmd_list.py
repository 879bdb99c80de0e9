"""Command-line interface: a thin shell over the library (parse → call → format).

``python -m roofline COMMAND ...`` or ``roofline COMMAND ...``. User errors print one line on stderr and
exit with status 2; nothing here computes physics of its own.
"""

from __future__ import annotations

from ..format import human, render

__all__ = []


# ----------------------------------------------------------------------------------------------------
def _cmd_list(args) -> str:
    from ...hardware.library import list_devices
    from ..report import device_summary

    devs = list_devices(args.spec)
    rows = [device_summary(d) for d in devs]
    if args.format == "json":
        return render(rows, "json")
    if args.format == "csv":
        return render(rows, "csv", columns=["key", "name", "vendor", "kind", "year", "status",
                                            "bf16_dense_flops_per_s", "main_memory", "main_memory_capacity_bytes",
                                            "main_memory_bandwidth_bytes_per_s"])
    table = [{
        "key": r["key"], "name": r["name"], "kind": r["kind"], "year": r["year"] or "",
        "BF16 dense": human(r["bf16_dense_flops_per_s"], "FLOP/s", 3) + (" (est.)" if r["estimate"] else ""),
        "memory": f"{human(r['main_memory_capacity_bytes'], 'B', 3)} {r['main_memory']}",
        "bandwidth": human(r["main_memory_bandwidth_bytes_per_s"], "B/s", 3),
    } for r in rows]
    return render(table, args.format)

