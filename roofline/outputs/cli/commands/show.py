"""``roofline show DEVICE``: every figure of a device with its source (:mod:`roofline.outputs.report`)."""

from __future__ import annotations

import argparse

from ...format import render
from ..args import add_common

__all__ = ["NAME", "register", "run"]

NAME = "show"


def register(subparsers) -> argparse.ArgumentParser:
    """Add ``show`` and its options to the command line.

    Parameters
    ----------
    subparsers : argparse._SubParsersAction
        The sub-commands of ``roofline``.

    Returns
    -------
    argparse.ArgumentParser
        The command's parser.
    """
    p = subparsers.add_parser(NAME, help="every figure of a device, with its source",
                              description="Every figure of a device: value, range, basis and source.",
                              epilog="example:\n  roofline show h100 --format json")
    p.add_argument("device", help="device key or alias")
    add_common(p)
    return p


def _sources(dev) -> str:
    return "\n".join(f"  [{k}] {v.get('title', '')}, {v.get('publisher', '')} ({v.get('date', '')}) {v.get('url', '')}"
                     for k, v in dev.sources.items())


def run(args: argparse.Namespace) -> str:
    """The device's figures in ``args.format`` (JSON: :func:`~roofline.outputs.report.device_record`).

    Parameters
    ----------
    args : argparse.Namespace
        ``device`` (key or alias), ``spec`` and ``format``.

    Returns
    -------
    str
        The text to print; the table ends with the sources and the spec file. CSV is one row per figure
        in SI numbers (:func:`~roofline.outputs.report.figure_records`).
    """
    from ....hardware.library import get_device
    from ...report import device_record, device_rows, figure_records

    dev = get_device(args.device, args.spec)
    if args.format == "json":
        return render(None, "json", json_obj=device_record(dev))
    if args.format == "csv":
        return render(figure_records(dev), "csv")
    title = f"{dev.name} ({dev.key}) — {dev.vendor}, {dev.kind}, {dev.year or ''} [{dev.status}]"
    text = render(device_rows(dev), args.format, title=title)
    if args.format == "table":
        text += f"\n\nSources:\n{_sources(dev)}\nFile: {dev.file}"
    return text
