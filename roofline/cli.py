"""Command-line interface: a thin shell over the library (parse → call → format).

``python -m roofline COMMAND ...`` or ``roofline COMMAND ...``. User errors print one line on stderr and
exit with status 2; nothing here computes physics of its own.
"""

from __future__ import annotations

import argparse
import sys
from typing import Sequence

from .errors import RooflineError
from .format import FORMATS, human, render

__all__ = ["main"]

EXIT_USAGE = 2


class _Parser(argparse.ArgumentParser):
    """argparse with one-line errors (no usage dump) and exit status 2."""

    def error(self, message: str):  # noqa: D401
        raise _UsageError(f"{self.prog}: {message}")


class _UsageError(Exception):
    pass


def _positive_int(text: str) -> int:
    try:
        v = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if v != int(v) or v <= 0:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    return int(v)


def _common(p: argparse.ArgumentParser, fmt: bool = True) -> None:
    p.add_argument("--spec", action="append", default=[], metavar="PATH",
                   help="extra spec file or folder (repeatable; also ROOFLINE_SPEC_PATH)")
    if fmt:
        p.add_argument("--format", choices=FORMATS, default="table", help="output format (default: table)")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="roofline", description="Analytical roofline and memory-wall models of AI accelerators.")
    parser.add_argument("--version", action="store_true", help="print the version and exit")
    sub = parser.add_subparsers(dest="command", parser_class=_Parser)

    p = sub.add_parser("list", help="list the known devices")
    _common(p)

    p = sub.add_parser("show", help="every figure of a device, with its source")
    p.add_argument("device")
    _common(p)

    p = sub.add_parser("gemm", help="a GEMM C[M,N] = A[M,K]·B[K,N] on a device")
    p.add_argument("--device", required=True)
    p.add_argument("--m", type=_positive_int, required=True)
    p.add_argument("--n", type=_positive_int, required=True)
    p.add_argument("--k", type=_positive_int, required=True)
    p.add_argument("--batch", type=_positive_int, default=1, help="independent GEMMs (batched GEMM)")
    p.add_argument("--dtype", default="bf16", help="data type of all operands (default bf16)")
    p.add_argument("--dtype-a", help="data type of A (overrides --dtype)")
    p.add_argument("--dtype-b", help="data type of B (overrides --dtype)")
    p.add_argument("--dtype-c", help="data type of C (overrides --dtype)")
    p.add_argument("--level", help="force the memory level the operands live in")
    p.add_argument("--overlap", default="max", choices=["max", "sum"],
                   help="max: full overlap (roofline, lower bound); sum: no overlap (upper bound)")
    p.add_argument("--ideal", action="store_true", help="drop latency terms: the pure roofline")
    p.add_argument("--sparse", action="store_true", help="use the 2:4-sparse peak (dense by default)")
    _common(p)

    p = sub.add_parser("llm", help="LLM inference: prefill (time to first token) and decode (time per token)")
    p.add_argument("--model", required=True, help="model key, alias, or a path to a TOML / config.json file")
    p.add_argument("--device", required=True)
    _llm_options(p)
    p.add_argument("--generate", type=_positive_int, help="also report a whole request of --context prompt "
                   "tokens and G generated tokens")
    p.add_argument("--prompt", type=_positive_int, help="prompt tokens for prefill (default: --context)")
    _common(p)

    p = sub.add_parser("models", help="list the known LLM configurations")
    p.add_argument("--model-path", action="append", default=[], metavar="PATH", help="extra model file or folder")
    _common(p)
    return parser


def _llm_options(p: argparse.ArgumentParser, multi: bool = False) -> None:
    p.add_argument("--dtype", default="bf16", help="weights, activations and KV cache (default bf16; fp4/int4 "
                   "are weight-only)")
    p.add_argument("--weight-dtype", help="data type of the weights (overrides --dtype)")
    p.add_argument("--kv-dtype", help="data type of the KV cache (overrides --dtype)")
    p.add_argument("--act-dtype", help="data type of the activations (overrides --dtype)")
    if not multi:
        p.add_argument("--batch", type=_positive_int, default=1, help="sequences decoded together (default 1)")
        p.add_argument("--context", type=_positive_int, default=2048, help="tokens in context (default 2048)")
        p.add_argument("--devices", type=_positive_int, help="number of devices (default: the fewest that hold it)")
        p.add_argument("--tp", type=_positive_int, help="tensor-parallel degree")
        p.add_argument("--pp", type=_positive_int, help="pipeline-parallel stages")
    p.add_argument("--ideal", action="store_true", help="drop latency terms: the pure roofline")
    p.add_argument("--overlap", default="max", choices=["max", "sum"],
                   help="max: full overlap of compute, memory and links per op; sum: none")


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; returns the exit status (0 ok, 2 user error)."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
        if args.version:
            from . import __version__

            print(__version__)
            return 0
        if not args.command:
            parser.print_help()
            return 0
        out = _COMMANDS[args.command](args)
        if out:
            print(out)
        return 0
    except _UsageError as exc:
        print(str(exc), file=sys.stderr)
        return EXIT_USAGE
    except RooflineError as exc:
        print(f"roofline: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except BrokenPipeError:  # pragma: no cover - `roofline ... | head`
        return 0


# ----------------------------------------------------------------------------------------------------
def _cmd_list(args) -> str:
    from .devices import list_devices
    from .report import device_summary

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


def _cmd_show(args) -> str:
    from .devices import get_device
    from .report import device_record, device_rows

    dev = get_device(args.device, args.spec)
    if args.format == "json":
        return render(None, "json", json_obj=device_record(dev))
    title = f"{dev.name} ({dev.key}) — {dev.vendor}, {dev.kind}, {dev.year or ''} [{dev.status}]"
    rows = device_rows(dev)
    text = render(rows, args.format, title=title)
    if args.format == "table":
        srcs = "\n".join(f"  [{k}] {v.get('title', '')}, {v.get('publisher', '')} ({v.get('date', '')}) {v.get('url', '')}"
                         for k, v in dev.sources.items())
        text += f"\n\nSources:\n{srcs}\nFile: {dev.file}"
    return text


def _cmd_gemm(args) -> str:
    from . import workloads
    from .devices import get_device
    from .report import kernel_report

    dev = get_device(args.device, args.spec)
    for d in (args.dtype, args.dtype_a, args.dtype_b, args.dtype_c):
        if d is not None:
            workloads.bytes_per_element(d)
    if args.batch > 1:
        wl = workloads.batched_gemm(args.batch, args.m, args.n, args.k, dtype=args.dtype)
    else:
        wl = workloads.gemm(args.m, args.n, args.k, dtype=args.dtype, dtype_a=args.dtype_a,
                            dtype_b=args.dtype_b, dtype_c=args.dtype_c)
    rec = kernel_report(wl, dev, overlap=args.overlap, ideal=args.ideal, level=args.level, sparse=args.sparse)
    rec.update({"m": args.m, "n": args.n, "k": args.k, "batch": args.batch})
    if args.format == "json":
        return render(None, "json", json_obj=rec)
    rows = _kernel_rows(rec)
    return render(rows, args.format, title=f"GEMM {args.m}×{args.n}×{args.k} {rec['dtype']} on {dev.name}"
                  + (" (ideal)" if args.ideal else ""))


def _kernel_rows(rec: dict) -> list[dict]:
    def rng(key, unit):
        r = rec.get(key + "_range")
        return f"{human(r[0], unit)} – {human(r[1], unit)}" if r else ""

    rows = [
        {"quantity": "time", "value": human(rec["time_s"], "s"), "range": rng("time_s", "s")},
        {"quantity": "bound", "value": rec["bound"], "range": ""},
        {"quantity": "work", "value": human(rec["flops"], "FLOP"), "range": ""},
        {"quantity": "traffic", "value": human(rec["bytes"], "B"), "range": ""},
        {"quantity": "arithmetic intensity", "value": human(rec["arithmetic_intensity"], "FLOP/B"), "range": ""},
        {"quantity": "ridge point", "value": human(rec["ridge_flops_per_byte"], "FLOP/B"), "range": ""},
        {"quantity": "attainable", "value": human(rec["attainable_flops_per_s"], "FLOP/s"),
         "range": rng("attainable_flops_per_s", "FLOP/s")},
        {"quantity": "peak", "value": human(rec["peak_flops_per_s"], "FLOP/s"), "range": ""},
        {"quantity": "data lives in", "value": rec["home_level"], "range": ""},
    ]
    for lbl, t in rec["terms_s"].items():
        rows.append({"quantity": f"  term {lbl}", "value": human(t, "s"), "range": ""})
    return rows


def _precision(args):
    from .llm import Precision

    return Precision.of(args.dtype, weights=args.weight_dtype, activations=args.act_dtype, kv=args.kv_dtype)


def _cmd_llm(args) -> str:
    from .llm import estimate

    rec = estimate(args.model, _device(args), batch=args.batch, context=args.context, generate=args.generate,
                   prec=_precision(args), devices=args.devices, tp=args.tp, pp=args.pp, ideal=args.ideal,
                   overlap=args.overlap, prompt=args.prompt)
    if args.format == "json":
        return render(None, "json", json_obj=rec)
    return render(_llm_rows(rec), args.format, title=(
        f"{rec['model']} on {rec['devices_used']} x {rec['device']} (tp={rec['tp']}, pp={rec['pp']}), "
        f"{rec['weight_dtype']} weights, batch {rec['batch']}, context {rec['context']}"
        + (" (ideal)" if rec["ideal"] else "")))


def _device(args):
    from .devices import get_device

    return get_device(args.device, args.spec)


def _llm_rows(rec: dict) -> list[dict]:
    def rng(key, unit):
        r = rec.get(key + "_range")
        return f"{human(r[0], unit)} – {human(r[1], unit)}" if r else ""

    rows = [
        ("devices used", f"{rec['devices_used']} (tp={rec['tp']}, pp={rec['pp']}, {rec['placement']})", ""),
        ("weights live in", rec["weights_level"], ""),
        ("weights", human(rec["weights_bytes"], "B"), ""),
        ("KV cache", human(rec["kv_cache_bytes"], "B"), ""),
        ("per device", f"{human(rec['resident_bytes_per_device'], 'B')} of {human(rec['capacity_bytes_per_device'], 'B')}", ""),
        ("time to first token", human(rec["ttft_s"], "s"), rng("ttft_s", "s")),
        ("prefill bound", rec["prefill_bound"], ""),
        ("time per output token", human(rec["tpot_s"], "s"), rng("tpot_s", "s")),
        ("decode bound", rec["bound"], ""),
        ("tokens/s per user", f"{rec['tokens_per_s_per_user']:,.1f}", _rate_rng(rec, "tokens_per_s_per_user")),
        ("tokens/s (batch)", f"{rec['tokens_per_s']:,.1f}", _rate_rng(rec, "tokens_per_s")),
        ("energy per token", human(rec["energy_per_token_j"], "J"), rng("energy_per_token_j", "J")),
    ]
    if "request_latency_s" in rec:
        rows += [("request latency", human(rec["request_latency_s"], "s"), rng("request_latency_s", "s")),
                 ("request tokens/s per user", f"{rec['request_tokens_per_s_per_user']:,.1f}", "")]
    for lbl, t in rec["decode_terms_s"].items():
        if t > 0:
            rows.append((f"  decode time bound by {lbl}", human(t, "s"), ""))
    return [{"quantity": a, "value": b, "range": c} for a, b, c in rows]


def _rate_rng(rec, key):
    r = rec.get(key + "_range")
    return f"{r[0]:,.1f} – {r[1]:,.1f}" if r else ""


def _cmd_models(args) -> str:
    from .models import list_models

    rows = [{"key": m.key, "name": m.name, "layers": m.n_layers, "d_model": m.d_model, "heads": m.n_heads,
             "kv_heads": m.n_kv_heads, "params": m.total_params(), "active_params": m.active_params(),
             "moe": m.is_moe, "source": m.source.get("url", "")} for m in list_models(args.model_path)]
    if args.format in ("json", "csv"):
        return render(rows, args.format)
    for r in rows:
        r["params"] = f"{r['params'] / 1e9:.2f} B"
        r["active_params"] = f"{r['active_params'] / 1e9:.2f} B"
        r.pop("source")
    return render(rows, args.format)


_COMMANDS = {"list": _cmd_list, "show": _cmd_show, "gemm": _cmd_gemm, "llm": _cmd_llm, "models": _cmd_models}
