"""``roofline sweep``: LLM decode or prefill over a grid (:func:`roofline.llm.sweeps.decode_sweep`)."""

from __future__ import annotations

import argparse

from ...format import render
from ..args import (
    ListAction,
    add_common,
    add_layout,
    add_price,
    add_speculation,
    check_frame_path,
    check_plot_path,
    int_grid,
    layout_options,
    path_arg,
    speculation_of,
    str_list,
)

__all__ = ["NAME", "register", "run"]

NAME = "sweep"


def register(subparsers) -> argparse.ArgumentParser:
    """Add ``sweep`` and its options to the command line.

    Parameters
    ----------
    subparsers : argparse._SubParsersAction
        The sub-commands of ``roofline``.

    Returns
    -------
    argparse.ArgumentParser
        The command's parser.
    """
    p = subparsers.add_parser(NAME, help="LLM decode or prefill over a grid of batch, context, data type and devices",
                              description="LLM decode or prefill over a grid of batch, context, data type, "
                              "devices and device counts: one row per point, to print or to write.",
                              epilog="example:\n  roofline sweep --model llama-3.1-8b --device h100 wse3 "
                              "--batch 1:1024 --context 1024,8192 --out grid.parquet")
    p.add_argument("-m", "--model", action=ListAction, type=str_list, required=True,
                   help="model(s): repeat or separate with commas")
    p.add_argument("-d", "--device", nargs="+", action=ListAction, type=str_list, required=True,
                   help="device(s): repeat, separate with commas or list after one option")
    p.add_argument("-b", "--batch", type=int_grid, default=[1], help="batch values: 1:1024 (powers of two), "
                   "1:1024:20 (20 log-spaced), 1:64:+8 (step 8) or 1,8,64 (default 1)")
    p.add_argument("-c", "--context", type=int_grid, default=[2048], help="context values, same syntax (default 2048)")
    p.add_argument("--dtype", action=ListAction, type=str_list, default=["bf16"],
                   help="data type(s): repeat or separate with commas (bf16,fp8)")
    p.add_argument("--devices", action=ListAction, type=int_grid, help="device counts to sweep, as for --batch "
                   "(default: the fewest that hold it)")
    p.add_argument("--phase", choices=["decode", "prefill"], default="decode",
                   help="decode: --context is the KV length; prefill: it is the prompt length")
    p.add_argument("--ideal", action="store_true", help="drop latency terms: the pure roofline")
    p.add_argument("-o", "--out", metavar="FILE", type=path_arg, help="write the grid to FILE (.csv or .parquet)")
    p.add_argument("--plot", metavar="FILE", type=path_arg,
                   help="also write a chart of --y against --x (.png, .svg, .pdf)")
    p.add_argument("--x", default="batch", help="chart x column (default batch)")
    p.add_argument("--y", default="tokens_per_s_per_user", help="chart y column (default tokens_per_s_per_user)")
    add_price(p)
    add_speculation(p)
    add_layout(p)
    add_common(p)
    return p


def _combos(args: argparse.Namespace):
    """Each model × data type of the command, with its constant columns (dtype, phase)."""
    from ....llm.precision import Precision

    for model in args.model:
        for dt in args.dtype:
            yield model, Precision.of(dt), {"dtype": dt, "phase": args.phase}


def _sweep(args: argparse.Namespace, devs, model, prec, tag, **kw):
    from ....llm.sweeps import decode_sweep

    return decode_sweep(model, devs, args.batch, args.context, device_counts=args.devices, prec=prec,
                        ideal=args.ideal, phase=args.phase, price=args.price, speculation=speculation_of(args),
                        tag=tag, **kw, **layout_options(args, counts=True))


def _grid(args: argparse.Namespace, devs):
    import pandas as pd

    frames = [_sweep(args, devs, model, prec, tag) for model, prec, tag in _combos(args)]
    if len(frames) == 1:
        return frames[0]
    df = pd.concat(frames, ignore_index=True)
    for c in ("model", "dtype", "phase", "device", "bound", "level", "layout"):
        df[c] = df[c].astype("category")
    return df


def _stream(args: argparse.Namespace, devs) -> int:
    """Every model × data type written to ``args.out`` chunk by chunk (pyarrow's CSV or Parquet writer), in
    bounded memory; the file appears only when complete."""
    from ....sweep.writer import FrameWriter

    with FrameWriter(args.out, attrs={"command": "roofline sweep"}) as w:
        for model, prec, tag in _combos(args):
            _sweep(args, devs, model, prec, tag, out=w)
    return w.rows


def run(args: argparse.Namespace) -> str:
    """The grid in ``args.format``, or written to ``args.out``; its chart when ``args.plot`` names a file.

    Parameters
    ----------
    args : argparse.Namespace
        ``model``, ``device``, ``batch``, ``context`` and ``devices`` (grids [1]), ``dtype``, ``phase``,
        ``ideal``, ``out``, ``plot``, ``x``, ``y``, ``price`` [USD/h], the speculative-decoding options, ``spec``
        and ``format``.

    Returns
    -------
    str
        The text to print (or a line naming the file written).
    """
    if args.out:
        check_frame_path(args.out)
    if args.plot:
        check_plot_path(args.plot)
    from ....hardware.library import get_device

    devs = [get_device(d, args.spec) for d in args.device]
    if args.out and not args.plot:
        return f"wrote {_stream(args, devs):,} rows to {args.out}"
    df = _grid(args, devs)
    if args.plot:
        from ...plot import save, sweep_chart

        save(sweep_chart(df, x=args.x, y=args.y, hue="device", style="model" if len(args.model) > 1 else None),
             args.plot)
    if args.out:
        from ....sweep.writer import write_frame

        write_frame(df, args.out)
        return f"wrote {len(df):,} rows to {args.out}"
    if args.format == "json":
        return df.to_json(orient="records", indent=2)
    return render(df.to_dict("records"), args.format)
