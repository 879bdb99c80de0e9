"""``roofline throughput``: the best output rate a serving system reaches for requests of I tokens in and O
out, and the layout that reaches it (:func:`roofline.llm.serving.throughput`)."""

from __future__ import annotations

import argparse

from ...format import human, render
from ..args import add_common, add_layout, layout_options, positive_float, positive_int

__all__ = ["NAME", "register", "run"]

NAME = "throughput"


def register(subparsers) -> argparse.ArgumentParser:
    """Add ``throughput`` and its options to the command line.

    Parameters
    ----------
    subparsers : argparse._SubParsersAction
        The sub-commands of ``roofline``.

    Returns
    -------
    argparse.ArgumentParser
        The command's parser.
    """
    from .llm import _add_precision

    p = subparsers.add_parser(NAME, help="serving throughput under continuous batching, over the best layout",
                              description="The highest output rate a system reaches for requests of --input "
                              "tokens in and --output tokens out under continuous batching: every resource must "
                              "carry the per-request demand; maximised over the layouts the system can express "
                              "(tensor, pipeline, data and expert parallelism, attention data-parallel or not, "
                              "micro-batches, a split into prefill and decode pools).",
                              epilog="example:\n  roofline throughput --model deepseek-v3 --device h100 --devices 72 "
                              "--input 2000 --output 1000 --dtype fp8 --ideal\n  roofline throughput --model "
                              "llama-3.1-70b --device h100 --devices 8 --input 1000 --output 1000 --interactivity 50")
    p.add_argument("-m", "--model", required=True, help="model key, alias, or a path to a TOML / config.json file")
    p.add_argument("-d", "--device", required=True,
                   help="device of the system (of its decode pool with --prefill-device)")
    p.add_argument("--devices", type=positive_int, required=True,
                   help="devices of the whole system: they serve prefill and decode unless a prefill pool is given")
    p.add_argument("--input", type=positive_int, required=True, help="input (prompt) tokens per request")
    p.add_argument("--output", type=positive_int, required=True, help="output tokens per request")
    _add_precision(p)
    p.add_argument("--ideal", action="store_true", help="an upper bound: no latencies, every estimated figure at "
                   "its favourable end")
    p.add_argument("--prefill-device", help="a separate prefill pool of this device (disaggregated serving)")
    p.add_argument("--prefill-devices", type=positive_int, help="devices of the prefill pool")
    p.add_argument("--interactivity", type=positive_float, metavar="TOKENS_PER_S_PER_USER",
                   help="the best throughput that still gives every user this many tokens per second")
    p.add_argument("--chunk", type=positive_int, help="most tokens a step may process, decode and prefill "
                   "together (chunked prefill; default unlimited)")
    p.add_argument("--pool", choices=["prefill", "decode"], help="one pool alone, the other phase taken as free")
    p.add_argument("--no-split", action="store_true", help="do not try splitting the devices into prefill and "
                   "decode pools")
    add_layout(p)
    add_common(p)
    return p


def run(args: argparse.Namespace) -> str:
    """The throughput bound in ``args.format``.

    Parameters
    ----------
    args : argparse.Namespace
        ``model``, ``device``, ``devices``, ``input``, ``output`` [1], the data types, ``ideal``,
        ``prefill_device``, ``prefill_devices``, ``interactivity`` [1/s], ``chunk``, ``pool``, ``no_split``,
        the layout options, ``spec`` and ``format``.

    Returns
    -------
    str
        The text to print; JSON is the result as the library returns it.
    """
    from ....hardware.library import get_device
    from ....llm.precision import Precision
    from ....llm.serving import throughput

    dev = get_device(args.device, args.spec)
    pre = get_device(args.prefill_device, args.spec) if args.prefill_device else None
    prec = Precision.of(args.dtype, weights=args.weight_dtype, activations=args.act_dtype, kv=args.kv_dtype)
    rec = throughput(args.model, dev, args.devices, args.input, args.output, prec=prec, ideal=args.ideal,
                     prefill_device=pre, prefill_devices=args.prefill_devices, interactivity=args.interactivity,
                     chunk=args.chunk, pool=args.pool, split=not args.no_split, **layout_options(args, counts=True))
    if args.format == "json":
        return render(None, "json", json_obj=rec)
    title = (f"{rec['model']} on {rec['devices']} x {rec['device']}, {rec['input_tokens']} in / "
             f"{rec['output_tokens']} out, {rec['weight_dtype']} weights" + (" (ideal: an upper bound)" if rec["ideal"]
                                                                              else ""))
    return render(_rows(rec), args.format, title=title)


def _layout_text(d: dict) -> str:
    return (f"{d['devices']} x {d['device']}: tp={d['tp']}, pp={d['pp']}, dp={d['dp']}, ep={d['ep']}, "
            f"attention {d['attention']}, {d['micro_batches']} micro-batch(es)")


def _rows(rec: dict) -> list[dict]:
    """The result as text rows; every number is the library's own, formatted."""
    rows = [("output tokens/s", f"{rec['output_tokens_per_s']:,.0f}"),
            ("output tokens/s per device", f"{rec['output_tokens_per_s_per_device']:,.1f}"),
            ("tokens/s per user", f"{rec['tokens_per_s_per_user']:,.1f}"),
            ("requests/s", f"{rec['requests_per_s']:,.2f}"),
            ("input tokens/s", f"{rec['input_tokens_per_s']:,.0f}"),
            ("sequences decoding", human(rec["batch"])),
            ("bound", rec["bound"]), ("batch limited by", rec["limit"])]
    rows += [(f"{p['role']} pool", _layout_text(p)) for p in rec["layout"]["pools"]]
    if rec.get("kv_transfer_s") is not None:
        rows.append(("KV cache per request, pool to pool", human(rec["kv_transfer_s"], "s")))
    if rec["interactivity"]:
        rows.append(("interactivity asked", f"{rec['interactivity']:g} tokens/s per user"))
    rows.append(("layouts searched", str(rec["layouts_searched"])))
    return [{"quantity": a, "value": b} for a, b in rows]
