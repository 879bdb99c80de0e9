"""``roofline report``: devices compared for one or more models, written as one self-contained HTML file,
a PDF or Markdown (:mod:`roofline.outputs.html`)."""

from __future__ import annotations

import argparse

from ..args import ListAction, add_common, check_output_path, path_arg, positive_int, str_list

__all__ = ["NAME", "register", "run"]

NAME = "report"


def register(subparsers) -> argparse.ArgumentParser:
    """Add ``report`` and its options to the command line.

    Parameters
    ----------
    subparsers : argparse._SubParsersAction
        The sub-commands of ``roofline``.

    Returns
    -------
    argparse.ArgumentParser
        The command's parser.
    """
    p = subparsers.add_parser(NAME, help="a report file: comparison, rooflines, frontier, token time, sources",
                              description="A report of devices compared for one or more models: the comparison "
                              "table, rooflines, the throughput–interactivity frontier, where the time of one "
                              "token goes, the assumptions, every figure's source, the version and the date. "
                              "HTML is one self-contained file (inline SVG and styles, no network); PDF and "
                              "Markdown (charts as SVG files beside it) too.",
                              epilog="example:\n  roofline report wse3 h100 --model llama-3.1-70b --out r.html")
    p.add_argument("devices", nargs="+", metavar="DEVICE", help="two or more devices; the first is the reference")
    p.add_argument("-m", "--model", action=ListAction, type=str_list, default=[],
                   help="model(s): repeat or separate with commas (default llama-3.1-8b,llama-3.1-70b)")
    p.add_argument("-b", "--batch", type=positive_int, default=1, help="LLM batch (default 1)")
    p.add_argument("-c", "--context", type=positive_int, default=2048,
                   help="tokens in context and in the prompt (default 2048)")
    p.add_argument("--dtype", default="bf16", help="data type of weights, activations and KV cache (default bf16)")
    p.add_argument("--ideal", action="store_true", help="drop latency terms: the pure roofline")
    p.add_argument("-o", "--out", required=True, metavar="FILE", type=path_arg, help="report file: .html, .pdf or .md")
    add_common(p, fmt=False)
    p.add_argument("-f", "--format", choices=["html", "pdf", "md"],
                   help="report format (default: from the extension of --out; a name without one gets it added)")
    return p


def _out_path(args: argparse.Namespace) -> str:
    import os

    from ....errors import InputError

    ext = os.path.splitext(args.out)[1].lower().lstrip(".")
    if args.format and not ext:
        return f"{args.out}.{args.format}"
    if args.format and ext != args.format:
        raise InputError(f"--format {args.format} but --out {args.out!r} ends in .{ext}; make them agree")
    return args.out


def run(args: argparse.Namespace) -> str:
    """Build the report and write it to ``args.out``.

    Parameters
    ----------
    args : argparse.Namespace
        ``devices``, ``model``, ``batch`` and ``context`` [1], ``dtype``, ``ideal``, ``out``, ``format``
        and ``spec``.

    Returns
    -------
    str
        ``"wrote FILE"`` (and the chart files of a Markdown report).
    """
    import os

    from ....errors import InputError
    from ...html import REPORT_FORMATS, build_report, close, write_report

    out = _out_path(args)
    if os.path.splitext(out)[1].lower() not in REPORT_FORMATS:
        raise InputError(f"cannot write a report to {out!r}: use a .html, .pdf or .md file name")
    check_output_path(out)
    rep = build_report(args.devices, models=args.model or None, batch=args.batch, context=args.context,
                       dtype=args.dtype, ideal=args.ideal, spec_paths=args.spec)
    try:
        files = write_report(rep, out)
    finally:
        close(rep)
    return "wrote " + ", ".join(files)
