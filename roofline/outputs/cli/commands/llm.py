"""``roofline llm``: LLM inference on a device, prefill and decode (:func:`roofline.llm.inference.estimate`)."""

from __future__ import annotations

import argparse

from ...format import flat_record, human, render
from ..args import add_common, add_layout, add_price, add_speculation, layout_options, positive_int, speculation_of

__all__ = ["NAME", "register", "run"]

NAME = "llm"


def _add_precision(p: argparse.ArgumentParser) -> None:
    p.add_argument("--dtype", default="bf16", help="weights, activations and KV cache (default bf16; fp4/int4 "
                   "are weight-only)")
    p.add_argument("--weight-dtype", help="data type of the weights (overrides --dtype)")
    p.add_argument("--kv-dtype", help="data type of the KV cache (overrides --dtype)")
    p.add_argument("--act-dtype", help="data type of the activations (overrides --dtype)")


def _add_shape_and_layout(p: argparse.ArgumentParser) -> None:
    p.add_argument("-b", "--batch", type=positive_int, default=1, help="sequences decoded together (default 1)")
    p.add_argument("-c", "--context", type=positive_int, default=2048, help="tokens in context (default 2048)")
    p.add_argument("--devices", type=positive_int, help="number of devices (default: the fewest that hold it)")
    p.add_argument("--tp", type=positive_int, help="tensor-parallel degree")
    p.add_argument("--pp", type=positive_int, help="pipeline-parallel stages")
    add_layout(p, counts=False)
    p.add_argument("--ideal", action="store_true", help="drop latency terms: the pure roofline")
    p.add_argument("--overlap", default="max", choices=["max", "sum"],
                   help="max: full overlap of compute, memory and links per op; sum: none")


def register(subparsers) -> argparse.ArgumentParser:
    """Add ``llm`` and its options to the command line.

    Parameters
    ----------
    subparsers : argparse._SubParsersAction
        The sub-commands of ``roofline``.

    Returns
    -------
    argparse.ArgumentParser
        The command's parser.
    """
    p = subparsers.add_parser(NAME, help="LLM inference: prefill (time to first token) and decode (time per token)",
                              description="LLM inference on a device: prefill (time to first token), decode "
                              "(time per output token), where the weights live and what binds each phase.",
                              epilog="example:\n  roofline llm --model llama-3.1-70b --device h100 --batch 8 "
                              "--context 4096 --generate 256\n  roofline llm --model llama-3.1-70b --device wse3 "
                              "--draft llama-3.1-8b --draft-tokens 4 --acceptance 0.8")
    p.add_argument("-m", "--model", required=True, help="model key, alias, or a path to a TOML / config.json file")
    p.add_argument("-d", "--device", required=True, help="device key or alias")
    _add_precision(p)
    _add_shape_and_layout(p)
    p.add_argument("--generate", type=positive_int, help="also report a whole request of --context prompt "
                   "tokens and G generated tokens")
    p.add_argument("--prompt", type=positive_int, help="prompt tokens for prefill (default: --context)")
    add_price(p)
    add_speculation(p)
    add_common(p)
    return p


def run(args: argparse.Namespace) -> str:
    """The estimate in ``args.format``.

    Parameters
    ----------
    args : argparse.Namespace
        ``model``, ``device``, the data types, ``batch``, ``context``, ``generate`` and ``prompt`` [1],
        ``devices``, ``tp``, ``pp``, ``dp``, ``ep``, ``micro_batches`` [1], ``attention``, ``imbalance``,
        ``ideal``, ``overlap``, ``price`` [USD/h], the speculative-decoding options
        (:func:`~roofline.outputs.cli.args.add_speculation`), ``spec`` and ``format``.

    Returns
    -------
    str
        The text to print; JSON is the estimate as the library returns it, CSV the same record as one row
        of SI numbers (:func:`~roofline.outputs.format.flat_record`).
    """
    from ....hardware.library import get_device
    from ....llm.inference import estimate
    from ....llm.precision import Precision

    dev = get_device(args.device, args.spec)
    prec = Precision.of(args.dtype, weights=args.weight_dtype, activations=args.act_dtype, kv=args.kv_dtype)
    rec = estimate(args.model, dev, batch=args.batch, context=args.context,
                   generate=args.generate, prec=prec, devices=args.devices, tp=args.tp, pp=args.pp,
                   ideal=args.ideal, overlap=args.overlap, prompt=args.prompt, price=args.price,
                   speculation=speculation_of(args), **layout_options(args))
    if args.format == "json":
        return render(None, "json", json_obj=rec)
    if args.format == "csv":
        return render([flat_record(rec)], "csv")
    return render(_llm_rows(rec), args.format, title=(
        f"{rec['model']} on {rec['devices_used']} x {rec['device']} (tp={rec['tp']}, pp={rec['pp']}, dp={rec['dp']}, "
        f"ep={rec['ep']}, attention {rec['attention']}), "
        f"{rec['weight_dtype']} weights, batch {rec['batch']}, context {rec['context']}"
        + (" (ideal)" if rec["ideal"] else "")))


def _range(rec: dict, key: str, unit: str) -> str:
    r = rec.get(key + "_range")
    return f"{human(r[0], unit)} – {human(r[1], unit)}" if r else ""


def _rate_range(rec: dict, key: str) -> str:
    r = rec.get(key + "_range")
    return f"{r[0]:,.1f} – {r[1]:,.1f}" if r else ""


def _cost_rows(rec: dict) -> list[tuple[str, str, str]]:
    """Cost and efficiency rows, each only where the estimate has it; the data-type fallback, if any."""
    rows = []
    if rec.get("tokens_per_s_per_mw") is not None:
        rows.append(("tokens/s per MW", f"{rec['tokens_per_s_per_mw']:,.0f}", _rate_range(rec, "tokens_per_s_per_mw")))
    if rec.get("usd_per_million_tokens") is not None:
        r = rec.get("usd_per_million_tokens_range")
        rows.append(("USD per million tokens", f"{rec['usd_per_million_tokens']:,.4g}",
                     f"{r[0]:,.4g} – {r[1]:,.4g}" if r else ""))
        rows.append(("  at a price per device-hour", f"{rec['price_usd_per_device_hour']:,.2f} USD",
                     rec["price_source"]))
    for dt, at in (rec.get("compute_fallback") or {}).items():
        rows.append((f"{dt} computed at", f"the {at} peak", "the device publishes no bf16 peak" if dt == "bf16" else ""))
    return rows


def _mode_rows(rec: dict) -> list[tuple[str, str, str]]:
    """Tokens/s per user in the three modes: the pure roofline, the latency bound, the estimate."""
    modes = rec.get("modes") or {}
    return [(f"tokens/s per user, {name.replace('_', ' ')}", f"{m['tokens_per_s_per_user']:,.1f}",
             f"bound by {m['bound']} ({m['corner']} figures)") for name, m in modes.items()]


def _llm_rows(rec: dict) -> list[dict]:
    """The estimate as text rows; every number is the estimate's own, formatted with its unit."""
    rows = [
        ("devices used", f"{rec['devices_used']} (tp={rec['tp']}, pp={rec['pp']}, dp={rec['dp']}, ep={rec['ep']}, "
                         f"attention {rec['attention']}, {rec['micro_batches']} micro-batch(es), {rec['placement']})",
         ""),
        ("weights live in", rec["weights_level"], ""),
        ("weights", human(rec["weights_bytes"], "B"), ""),
        ("KV cache", human(rec["kv_cache_bytes"], "B"), ""),
        ("per device", f"{human(rec['resident_bytes_per_device'], 'B')} of {human(rec['capacity_bytes_per_device'], 'B')}", ""),
        ("time to first token", human(rec["ttft_s"], "s"), _range(rec, "ttft_s", "s")),
        ("prefill bound", rec["prefill_bound"], ""),
        ("time per output token", human(rec["tpot_s"], "s"), _range(rec, "tpot_s", "s")),
        ("decode bound", rec["bound"], ""),
        ("tokens/s per user", f"{rec['tokens_per_s_per_user']:,.1f}", _rate_range(rec, "tokens_per_s_per_user")),
        ("tokens/s (batch)", f"{rec['tokens_per_s']:,.1f}", _rate_range(rec, "tokens_per_s")),
        ("energy per token", human(rec["energy_per_token_j"], "J"), _range(rec, "energy_per_token_j", "J")),
    ] + _cost_rows(rec) + _mode_rows(rec)
    if "tokens_per_step" in rec:
        sp = rec["speculation"]
        n = sp["draft_tokens"]
        rows += [("speculative draft", f"{sp['kind']} {sp['draft'] or sp['head_size']}, {n} token{'s' * (n != 1)}, "
                                       f"acceptance {sp['acceptance']}", ""),
                 ("tokens per step", f"{rec['tokens_per_step']:.3f}", ""),
                 ("draft time per step", human(rec["draft_time_s"], "s"), _range(rec, "draft_time_s", "s")),
                 ("verify time per step", human(rec["verify_time_s"], "s"), _range(rec, "verify_time_s", "s")),
                 ("draft bound", sp["draft_bound"], "")]
    if "request_latency_s" in rec:
        rows += [("request latency", human(rec["request_latency_s"], "s"), _range(rec, "request_latency_s", "s")),
                 ("request tokens/s per user", f"{rec['request_tokens_per_s_per_user']:,.1f}", "")]
    step = "verify" if "tokens_per_step" in rec else "decode"
    for lbl, t in rec["decode_terms_s"].items():
        if t > 0:
            rows.append((f"  {step} time bound by {lbl}", human(t, "s"), ""))
    return [{"quantity": a, "value": b, "range": c} for a, b, c in rows]
