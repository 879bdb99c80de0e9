"""``roofline list``: the known devices, one line each (:func:`roofline.outputs.report.device_summary`)."""

from __future__ import annotations

import argparse

from ...format import human, render
from ..args import add_common

__all__ = ["NAME", "register", "run"]

NAME = "list"

_CSV_COLUMNS = ["key", "name", "vendor", "kind", "year", "status", "bf16_dense_flops_per_s", "main_memory",
                "main_memory_capacity_bytes", "main_memory_bandwidth_bytes_per_s"]


def register(subparsers) -> argparse.ArgumentParser:
    """Add ``list`` and its options to the command line.

    Parameters
    ----------
    subparsers : argparse._SubParsersAction
        The sub-commands of ``roofline``.

    Returns
    -------
    argparse.ArgumentParser
        The command's parser.
    """
    p = subparsers.add_parser(NAME, help="list the known devices", description="List the known devices: "
                              "BF16 dense peak, main memory (its capacity and bandwidth) and status.",
                              epilog="example:\n  roofline list --format csv")
    add_common(p)
    return p


def _bf16_text(dev, row: dict) -> str:
    bf16 = dev.compute.get("bf16", {}).get("dense")
    return human(row["bf16_dense_flops_per_s"], "FLOP/s", 3) + (" (est.)" if bf16 is not None and bf16.is_range else "")


def run(args: argparse.Namespace) -> str:
    """The device list in ``args.format``.

    Parameters
    ----------
    args : argparse.Namespace
        ``spec`` (extra spec paths) and ``format``.

    Returns
    -------
    str
        The text to print. The table marks a BF16 peak known only as a range ``(est.)``.
    """
    from ....hardware.library import list_devices
    from ...report import device_summary

    devs = list_devices(args.spec)
    rows = [device_summary(d) for d in devs]
    if args.format == "json":
        return render(rows, "json")
    if args.format == "csv":
        return render(rows, "csv", columns=_CSV_COLUMNS)
    table = [{
        "key": r["key"], "name": r["name"], "kind": r["kind"], "year": r["year"] or "",
        "BF16 dense": _bf16_text(d, r),
        "memory": f"{human(r['main_memory_capacity_bytes'], 'B', 3)} {r['main_memory']}",
        "bandwidth": human(r["main_memory_bandwidth_bytes_per_s"], "B/s", 3),
    } for d, r in zip(devs, rows)]
    return render(table, args.format)
