"""``roofline compare``: devices side by side, their figures and workloads timed on each
(:func:`roofline.outputs.compare.compare`)."""

from __future__ import annotations

import argparse

from ....vocab import Status
from ...format import render
from ..args import (
    ListAction,
    add_common,
    add_layout,
    add_price,
    add_speculation,
    check_plot_path,
    layout_options,
    path_arg,
    positive_int,
    speculation_of,
    str_list,
)

__all__ = ["NAME", "register", "run"]

NAME = "compare"

_NOTE = ("(a–b): range from estimated figures (for cost, also from the cheapest and dearest list\n"
         "price). ×N: devices the model needs. USD per million tokens: generated tokens at the decode\n"
         "rate, at the price per device-hour (--price, or prices/cloud-prices.toml).\n"
         "[x]: the binding term (compute, latency, a memory level or a link).\n"
         "ratio: how far the first device is ahead of the second (above 1: faster, larger or more efficient).")


def register(subparsers) -> argparse.ArgumentParser:
    """Add ``compare`` and its options to the command line.

    Parameters
    ----------
    subparsers : argparse._SubParsersAction
        The sub-commands of ``roofline``.

    Returns
    -------
    argparse.ArgumentParser
        The command's parser.
    """
    p = subparsers.add_parser(NAME, help="devices side by side: figures, and workloads timed on each",
                              description="Devices side by side: peaks, memories, balance, links and power, "
                              "and a GEMM, a GEMV and LLMs timed on each, with ratios to the first device.",
                              epilog="example:\n  roofline compare wse3 dojo h100 ai5 --format markdown "
                              "--plot compare.png")
    p.add_argument("devices", nargs="+", metavar="DEVICE", help="two or more devices (keys or aliases); the first "
                   "is the reference of the ratios")
    p.add_argument("-m", "--model", action=ListAction, type=str_list, help="LLM(s) to time instead of the "
                   "defaults: repeat or separate with commas")
    p.add_argument("-b", "--batch", type=positive_int, default=1, help="LLM batch (default 1)")
    p.add_argument("-c", "--context", type=positive_int, default=2048, help="LLM context and prompt length (default 2048)")
    p.add_argument("--dtype", default="bf16", help="data type of the workloads (default bf16)")
    p.add_argument("--ideal", action="store_true", help="drop latency terms: the pure roofline")
    p.add_argument("--no-bounds", action="store_true", help="leave the binding terms out of the table")
    p.add_argument("--plot", metavar="FILE", type=path_arg, help="also write the comparison chart (.png, .svg or .pdf)")
    add_price(p)
    add_speculation(p)
    p.add_argument("--table", choices=["specs", "workloads"],
                   help="only this table: the devices' figures or the workloads (default both; CSV and JSON "
                   "are then one tidy table with a 'table' column)")
    add_layout(p)
    add_common(p)
    return p


def _device_names(res: dict) -> str:
    return ", ".join(f"{d['key']} = {d['name']}" + (" (unreleased: ranges)" if d["status"] == Status.UNRELEASED else "")
                     for d in res["devices"])


def _draft_text(sp: dict) -> str:
    return f"{sp['kind']} {sp['draft'] or sp['head_size']}, {sp['draft_tokens']} drafted, acceptance {sp['acceptance']}"


def run(args: argparse.Namespace) -> str:
    """The comparison in ``args.format``, and its chart when ``args.plot`` names a file.

    Parameters
    ----------
    args : argparse.Namespace
        ``devices``, ``model``, ``batch`` and ``context`` [1], ``dtype``, ``ideal``, ``no_bounds``,
        ``plot``, ``price`` [USD/h], the speculative-decoding options, the layout options, ``spec`` and
        ``format``.

    Returns
    -------
    str
        The text to print: JSON is the comparison as the library returns it (with ``--table``, that table's
        tidy rows); CSV one tidy table of SI numbers (:func:`~roofline.outputs.compare.tidy_rows`); a
        table, Markdown or LaTeX adds titles and a legend.
    """
    from ...compare import compare, comparison_rows, tidy_rows

    if args.plot:
        check_plot_path(args.plot)
    res = compare(args.devices, models=args.model, batch=args.batch, context=args.context, dtype=args.dtype,
                  ideal=args.ideal, spec_paths=args.spec, price=args.price, speculation=speculation_of(args),
                  layout=layout_options(args, counts=True), fork=True)
    if args.plot:
        from ...plot import compare_chart, save

        save(compare_chart(res), args.plot)
    if args.format == "json":
        return render(None, "json", json_obj=res if args.table is None else tidy_rows(res, args.table))
    if args.format == "csv":
        return render(tidy_rows(res, args.table), "csv")
    specs, loads = comparison_rows(res, bounds=not args.no_bounds)
    title = (f"Workloads ({res['dtype']}; LLMs at batch {res['batch']}, context {res['context']}, "
             f"prefill of {res['context']} tokens"
             + (f"; speculative decoding: {_draft_text(res['speculation'])})" if "speculation" in res else ")"))
    parts = []
    if args.table in (None, "specs"):
        parts.append(render(specs, args.format, title=f"Devices: {_device_names(res)}"))
    if args.table in (None, "workloads"):
        parts.append(render(loads, args.format, title=title))
    note = _NOTE + (" Ideal: no latency terms." if args.ideal else "")
    parts.append("\n".join("% " + line for line in note.splitlines()) if args.format == "latex" else note)
    return "\n\n".join(parts)
