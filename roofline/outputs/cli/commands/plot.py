"""``roofline plot KIND``: charts for reports (:mod:`roofline.outputs.plot`), one sub-command per kind.

Kinds: ``roofline`` (ceilings, with kernels and LLM decode steps as points from
:func:`roofline.outputs.report.roofline_points`), ``compare``, ``sweep``, ``frontier``, ``time-breakdown``
(where the time of one token goes per device: :func:`roofline.outputs.plot.where_time_goes_chart`) and
``memory-wall``. Each writes the file named by ``--out``.
"""

from __future__ import annotations

import argparse

from ..args import (
    ListAction,
    add_layout,
    add_price,
    add_speculation,
    check_plot_path,
    int_grid,
    layout_options,
    path_arg,
    positive_int,
    speculation_of,
    str_list,
)

__all__ = ["NAME", "register", "run"]

NAME = "plot"


def _roofline_parser(kinds) -> None:
    q = kinds.add_parser("roofline", help="ceilings per memory level and data type, with workloads as points",
                         epilog="example:\n  roofline plot roofline wse3 h100 --model llama-3.1-8b --out roofline.svg")
    q.add_argument("devices", nargs="+", metavar="DEVICE", help="device keys or aliases")
    q.add_argument("--dtype", action=ListAction, type=str_list, default=["bf16"],
                   help="data type(s) of the ceilings: repeat or separate with commas")
    q.add_argument("-m", "--model", action=ListAction, type=str_list, default=[], help="add this model's decode "
                   "step and prefill as points: repeat or separate with commas")
    q.add_argument("-b", "--batch", type=positive_int, default=1, help="decode batch of the model points (default 1)")
    q.add_argument("-c", "--context", type=positive_int, default=2048, help="context of the model points (default 2048)")
    q.add_argument("--sparse", action="store_true", help="sparse ceilings where published")


def _compare_parser(kinds) -> None:
    q = kinds.add_parser("compare", help="a device comparison normalised to the first device",
                         epilog="example:\n  roofline plot compare wse3 h100 --out compare.png")
    q.add_argument("devices", nargs="+", metavar="DEVICE", help="two or more devices; the first is the reference")
    q.add_argument("-m", "--model", action=ListAction, type=str_list, help="LLM(s) to time instead of the "
                   "defaults: repeat or separate with commas")
    q.add_argument("-b", "--batch", type=positive_int, default=1, help="LLM batch (default 1)")
    q.add_argument("-c", "--context", type=positive_int, default=2048, help="LLM context and prompt length (default 2048)")
    q.add_argument("--dtype", default="bf16", help="data type of the workloads (default bf16)")


def _sweep_parser(kinds) -> None:
    q = kinds.add_parser("sweep", help="a metric against batch or context",
                         epilog="example:\n  roofline plot sweep --model llama-3.1-8b --device h100 b200 --out sweep.png")
    q.add_argument("-m", "--model", required=True, help="model key, alias or file")
    q.add_argument("-d", "--device", nargs="+", action=ListAction, type=str_list, required=True,
                   help="device(s): repeat, separate with commas or list after one option")
    q.add_argument("-b", "--batch", type=int_grid, default=[1, 2, 4, 8, 16, 32, 64, 128, 256, 512],
                   help="batch values, as for `roofline sweep` (default 1:512)")
    q.add_argument("-c", "--context", type=int_grid, default=[2048], help="context values (default 2048)")
    q.add_argument("--devices", action=ListAction, type=int_grid, help="device counts (default: the fewest that "
                   "hold the model)")
    q.add_argument("--dtype", default="bf16", help="data type (default bf16)")
    q.add_argument("--x", default="batch", help="x column (default batch)")
    q.add_argument("--y", default="tokens_per_s_per_user", help="y column (default tokens_per_s_per_user)")


def _frontier_parser(kinds) -> None:
    q = kinds.add_parser("frontier", help="tokens/s per user against tokens/s per device (or per kW, or cost)",
                         epilog="example:\n  roofline plot frontier wse3 8xh100 --model llama-3.1-70b --out frontier.svg")
    q.add_argument("devices", nargs="+", metavar="DEVICE", help="device, or COUNTxDEVICE such as 8xh100")
    q.add_argument("-m", "--model", required=True, help="model key, alias or file")
    q.add_argument("-c", "--context", type=positive_int, default=2048, help="tokens in context (default 2048)")
    q.add_argument("--dtype", default="bf16", help="data type (default bf16)")
    q.add_argument("--per", choices=["device", "kw", "dollar"], default="device",
                   help="throughput per device, per kW, or cost: USD per million tokens (default device)")
    add_price(q)
    add_speculation(q)
    add_layout(q)


def _time_breakdown_parser(kinds) -> None:
    q = kinds.add_parser("time-breakdown", help="where the time of one token goes per device: compute, memory, "
                         "fabric, hand-off, link, launch",
                         epilog="example:\n  roofline plot time-breakdown --model llama-3.1-70b --device wse3 8xh100 "
                         "dojo --out time.png")
    q.add_argument("-m", "--model", required=True, help="model key, alias or file")
    q.add_argument("-d", "--device", nargs="+", action=ListAction, type=str_list, required=True,
                   help="device(s), or COUNTxDEVICE such as 8xh100: repeat, separate with commas or list after one "
                   "option")
    q.add_argument("-b", "--batch", type=positive_int, default=1, help="decode batch (default 1: one user)")
    q.add_argument("-c", "--context", type=positive_int, default=2048, help="tokens in context (default 2048)")
    q.add_argument("--dtype", default="bf16", help="data type (default bf16)")


def register(subparsers) -> argparse.ArgumentParser:
    """Add ``plot`` and its kinds, each with its options, to the command line.

    Parameters
    ----------
    subparsers : argparse._SubParsersAction
        The sub-commands of ``roofline``.

    Returns
    -------
    argparse.ArgumentParser
        The command's parser.
    """
    p = subparsers.add_parser(NAME, help="charts for reports: roofline, compare, sweep, frontier, time-breakdown, memory-wall",
                              description="Charts for reports, written as PNG, SVG or PDF.",
                              epilog="example:\n  roofline plot memory-wall --out wall.pdf")
    kinds = p.add_subparsers(dest="kind", parser_class=type(p), required=True)
    _roofline_parser(kinds)
    _compare_parser(kinds)
    _sweep_parser(kinds)
    _frontier_parser(kinds)
    _time_breakdown_parser(kinds)
    kinds.add_parser("memory-wall", help="compute, DRAM and interconnect bandwidth over the years",
                     epilog="example:\n  roofline plot memory-wall --out wall.png")
    for q in kinds.choices.values():
        q.add_argument("-o", "--out", required=True, metavar="FILE", type=path_arg, help="chart file: .png, .svg or .pdf")
        q.add_argument("-f", "--format", choices=CHART_FORMATS, help="chart format (default: from the extension "
                       "of --out; a name without one gets it added)")
        q.add_argument("--ideal", action="store_true", help="drop latency terms: the pure roofline")
        q.add_argument("--spec", action="append", default=[], metavar="PATH", type=path_arg,
                       help="extra spec file or folder")
    return p


#: The formats a chart is written in.
CHART_FORMATS = ("png", "svg", "pdf")


def _out_path(args: argparse.Namespace) -> str:
    """``--out``, with the extension of ``--format`` added when it has none; a clash is a user error."""
    import os

    from ....errors import InputError

    ext = os.path.splitext(args.out)[1].lower().lstrip(".")
    if args.format and not ext:
        return f"{args.out}.{args.format}"
    if args.format and ext != args.format:
        raise InputError(f"--format {args.format} but --out {args.out!r} ends in .{ext}; make them agree")
    return args.out


def _roofline(args: argparse.Namespace):
    from ....hardware.library import get_device
    from ... import plot
    from ...report import roofline_points

    devs = [get_device(d, args.spec) for d in args.devices]
    pts = roofline_points(devs, dtype=args.dtype[0], models=args.model, batch=args.batch, context=args.context,
                          ideal=args.ideal)
    title = None
    if args.model:
        title = (f"Roofline: {', '.join(d.key for d in devs)} · {', '.join(args.model)} at batch {args.batch}, "
                 f"context {args.context} ({', '.join(args.dtype)}{', ideal' if args.ideal else ''})")
    return plot.roofline_chart(devs, dtypes=args.dtype, points=pts, sparse=args.sparse, title=title)


def _compare(args: argparse.Namespace):
    from ... import plot
    from ...compare import compare

    return plot.compare_chart(compare(args.devices, models=args.model, batch=args.batch, context=args.context,
                                      dtype=args.dtype, ideal=args.ideal, spec_paths=args.spec))


def _sweep(args: argparse.Namespace):
    from ....hardware.library import get_device
    from ....llm.sweeps import decode_sweep
    from ... import plot

    df = decode_sweep(args.model, [get_device(d, args.spec) for d in args.device], args.batch, args.context,
                      device_counts=args.devices, dtype=args.dtype, ideal=args.ideal)
    return plot.sweep_chart(df, x=args.x, y=args.y)


def _count_and_device(text: str) -> tuple[int | None, str]:
    """``"8xh100"`` → ``(8, "h100")``; a plain device key → ``(None, key)``."""
    n, _, key = text.partition("x")
    if key and n.isdigit():
        return int(n), key
    return None, text


def _frontier(args: argparse.Namespace):
    from ....hardware.library import get_device
    from ....llm.sweeps import frontier
    from ... import plot

    frames = []
    spec = speculation_of(args)
    for text in args.devices:
        n, key = _count_and_device(text)
        frames.append(frontier(args.model, get_device(key, args.spec), devices=n, context=args.context,
                               dtype=args.dtype, ideal=args.ideal, price=args.price, speculation=spec,
                               **layout_options(args, counts=True)))
    return plot.frontier_chart(frames, per=args.per)


def _time_breakdown(args: argparse.Namespace):
    from ....hardware.library import get_device
    from ....llm.inference import estimate
    from ... import plot

    records = []
    for text in args.device:
        n, key = _count_and_device(text)
        records.append(estimate(args.model, get_device(key, args.spec), batch=args.batch, context=args.context,
                                dtype=args.dtype, devices=n, ideal=args.ideal))
    return plot.where_time_goes_chart(records)


def _memory_wall(args: argparse.Namespace):
    from ... import plot

    return plot.memory_wall_chart()


_KINDS = {"roofline": _roofline, "compare": _compare, "sweep": _sweep, "frontier": _frontier,
          "time-breakdown": _time_breakdown, "memory-wall": _memory_wall}


def run(args: argparse.Namespace) -> str:
    """Draw the chart of ``args.kind`` and write it to ``args.out``.

    Parameters
    ----------
    args : argparse.Namespace
        ``kind``, ``out``, ``format`` (the chart's, else from the extension), and the options of that kind.

    Returns
    -------
    str
        ``"wrote FILE"``.
    """
    out = _out_path(args)
    check_plot_path(out)
    from ... import plot

    plot.save(_KINDS[args.kind](args), out)
    return f"wrote {out}"
