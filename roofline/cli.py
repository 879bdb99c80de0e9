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


def _int_grid(text: str) -> list[int]:
    """``1:1024`` powers of two, ``1:1024:20`` log-spaced, ``1:64:+8`` a step, ``1,8,64`` a list."""
    import numpy as np

    try:
        if ":" in text:
            parts = text.split(":")
            lo, hi = int(parts[0]), int(parts[1])
            if lo <= 0 or hi < lo:
                raise ValueError
            if len(parts) == 2:
                vals = sorted({lo, hi} | {2**k for k in range(64) if lo <= 2**k <= hi})
            elif parts[2].startswith("+"):
                vals = list(range(lo, hi + 1, int(parts[2][1:])))
            else:
                vals = sorted(set(int(round(v)) for v in np.geomspace(lo, hi, int(parts[2]))))
        else:
            vals = [int(float(v)) if float(v) == int(float(v)) else -1 for v in text.split(",")]
        if not vals or any(v <= 0 for v in vals):
            raise ValueError
        return vals
    except (ValueError, ZeroDivisionError):
        raise argparse.ArgumentTypeError(
            f"expected positive integers as 1:1024, 1:1024:20, 1:64:+8 or 1,8,64; got {text!r}") from None


def _str_list(text: str) -> list[str]:
    vals = [v.strip() for v in text.split(",") if v.strip()]
    if not vals:
        raise argparse.ArgumentTypeError(f"expected a comma-separated list, got {text!r}")
    return vals


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

    p = sub.add_parser("compare", help="devices side by side: figures, and workloads timed on each")
    p.add_argument("devices", nargs="+", metavar="DEVICE")
    p.add_argument("--model", action="append", help="LLM(s) to time instead of the defaults (repeatable)")
    p.add_argument("--batch", type=_positive_int, default=1, help="LLM batch (default 1)")
    p.add_argument("--context", type=_positive_int, default=2048, help="LLM context and prompt length (default 2048)")
    p.add_argument("--dtype", default="bf16", help="data type of the workloads (default bf16)")
    p.add_argument("--ideal", action="store_true", help="drop latency terms: the pure roofline")
    p.add_argument("--no-bounds", action="store_true", help="leave the binding terms out of the table")
    p.add_argument("--plot", metavar="FILE", help="also write the comparison chart (.png, .svg or .pdf)")
    _common(p)

    p = sub.add_parser("sweep", help="LLM decode or prefill over a grid of batch, context, data type and devices")
    p.add_argument("--model", action="append", required=True, help="model(s) (repeatable)")
    p.add_argument("--device", nargs="+", required=True, help="device(s)")
    p.add_argument("--batch", type=_int_grid, default=[1], help="batch values: 1:1024 (powers of two), "
                   "1:1024:20 (20 log-spaced), 1:64:+8 (step 8) or 1,8,64 (default 1)")
    p.add_argument("--context", type=_int_grid, default=[2048], help="context values, same syntax (default 2048)")
    p.add_argument("--dtype", type=_str_list, default=["bf16"], help="data type(s): bf16 or bf16,fp8")
    p.add_argument("--devices", type=_int_grid, help="device counts to sweep (default: the fewest that hold it)")
    p.add_argument("--phase", choices=["decode", "prefill"], default="decode",
                   help="decode: --context is the KV length; prefill: it is the prompt length")
    p.add_argument("--ideal", action="store_true", help="drop latency terms: the pure roofline")
    p.add_argument("--out", metavar="FILE", help="write the grid to FILE (.csv or .parquet)")
    p.add_argument("--plot", metavar="FILE", help="also write a chart of --y against --x (.png, .svg, .pdf)")
    p.add_argument("--x", default="batch", help="chart x column (default batch)")
    p.add_argument("--y", default="tokens_per_s_per_user", help="chart y column (default tokens_per_s_per_user)")
    _common(p)

    p = sub.add_parser("plot", help="charts for reports: roofline, compare, sweep, frontier, memory-wall")
    psub = p.add_subparsers(dest="kind", parser_class=_Parser, required=True)
    q = psub.add_parser("roofline", help="ceilings per memory level and data type, with workloads as points")
    q.add_argument("devices", nargs="+", metavar="DEVICE")
    q.add_argument("--dtype", type=_str_list, default=["bf16"], help="data type(s) of the ceilings")
    q.add_argument("--model", action="append", default=[], help="add this model's decode and prefill as points")
    q.add_argument("--batch", type=_positive_int, default=1)
    q.add_argument("--context", type=_positive_int, default=2048)
    q.add_argument("--sparse", action="store_true", help="sparse ceilings where published")
    q = psub.add_parser("compare", help="a device comparison normalised to the first device")
    q.add_argument("devices", nargs="+", metavar="DEVICE")
    q.add_argument("--model", action="append")
    q.add_argument("--batch", type=_positive_int, default=1)
    q.add_argument("--context", type=_positive_int, default=2048)
    q.add_argument("--dtype", default="bf16")
    q = psub.add_parser("sweep", help="a metric against batch or context")
    q.add_argument("--model", required=True)
    q.add_argument("--device", nargs="+", required=True)
    q.add_argument("--batch", type=_int_grid, default=[1, 2, 4, 8, 16, 32, 64, 128, 256, 512])
    q.add_argument("--context", type=_int_grid, default=[2048])
    q.add_argument("--devices", type=_int_grid)
    q.add_argument("--dtype", default="bf16")
    q.add_argument("--x", default="batch")
    q.add_argument("--y", default="tokens_per_s_per_user")
    q = psub.add_parser("frontier", help="tokens/s per user against tokens/s per device (or per kW)")
    q.add_argument("devices", nargs="+", metavar="DEVICE", help="device, or COUNTxDEVICE such as 8xh100")
    q.add_argument("--model", required=True)
    q.add_argument("--context", type=_positive_int, default=2048)
    q.add_argument("--dtype", default="bf16")
    q.add_argument("--per", choices=["device", "kw"], default="device")
    psub.add_parser("memory-wall", help="compute, DRAM and interconnect bandwidth over the years")
    for q in psub.choices.values():
        q.add_argument("--out", required=True, metavar="FILE", help="chart file: .png, .svg or .pdf")
        q.add_argument("--ideal", action="store_true", help="drop latency terms")
        q.add_argument("--spec", action="append", default=[], metavar="PATH", help="extra spec file or folder")

    p = sub.add_parser("validate", help="published measurements against their bounds (ideal and with latency)")
    p.add_argument("--data", metavar="CSV", help="measurement file (default: the shipped data set)")
    p.add_argument("--category", action="append", help="only these categories (repeatable)")
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
    from .devices import get_device
    from .recipes import Recipe
    from .report import kernel_report

    dev = get_device(args.device, args.spec)
    if args.batch > 1:
        wl = Recipe("batched_gemm", batch=args.batch, m=args.m, n=args.n, k=args.k, dtype=args.dtype)
    else:
        wl = Recipe("gemm", m=args.m, n=args.n, k=args.k, dtype=args.dtype, dtype_a=args.dtype_a,
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


def _cmd_compare(args) -> str:
    from .compare import compare, comparison_rows

    if args.plot:
        _check_plot_path(args.plot)
    res = compare(args.devices, models=args.model, batch=args.batch, context=args.context, dtype=args.dtype,
                  ideal=args.ideal, spec_paths=args.spec)
    if args.plot:
        from .plot import compare_chart, save

        save(compare_chart(res), args.plot)
    if args.format == "json":
        return render(None, "json", json_obj=res)
    specs, loads = comparison_rows(res, bounds=not args.no_bounds)
    names = ", ".join(f"{d['key']} = {d['name']}" + (" (unreleased: ranges)" if d["estimate"] else "")
                      for d in res["devices"])
    if args.format == "csv":
        return render(specs, "csv") + "\n\n" + render(loads, "csv")
    note = ("(a–b): range from estimated figures. ×N: devices the model needs.\n"
            "[x]: the binding term (compute, latency, a memory level or a link).\n"
            "ratio: how far the first device is ahead of the second (above 1: faster, larger or more efficient)."
            + (" Ideal: no latency terms." if args.ideal else ""))
    title = (f"Workloads ({res['dtype']}; LLMs at batch {res['batch']}, context {res['context']}, "
             f"prefill of {res['context']} tokens)")
    return "\n\n".join([render(specs, args.format, title=f"Devices: {names}"),
                         render(loads, args.format, title=title), note])


def _cmd_sweep(args) -> str:
    import os

    import pandas as pd

    from .errors import InputError
    from .llm import decode_sweep

    if args.out and os.path.splitext(args.out)[1].lower() not in (".csv", ".parquet"):
        raise InputError(f"cannot write {args.out!r}: use a .csv or .parquet file name")
    if args.plot:
        _check_plot_path(args.plot)
    from .devices import get_device

    devs = [get_device(d, args.spec) for d in args.device]
    frames = []
    for model in args.model:
        for dt in args.dtype:
            from .llm import Precision

            df = decode_sweep(model, devs, args.batch, args.context, device_counts=args.devices,
                              prec=Precision.of(dt), ideal=args.ideal, phase=args.phase)
            df.insert(1, "dtype", dt)
            frames.append(df)
    df = pd.concat(frames, ignore_index=True)
    df.insert(2, "phase", args.phase)
    if args.plot:
        from .plot import save, sweep_chart

        save(sweep_chart(df, x=args.x, y=args.y, hue="device", style="model" if len(args.model) > 1 else None),
             args.plot)
    if args.out:
        _write_frame(df, args.out)
        return f"wrote {len(df):,} rows to {args.out}"
    if args.format == "json":
        return df.to_json(orient="records", indent=2)
    return render(df.to_dict("records"), args.format)


def _write_frame(df, path: str) -> None:
    from .errors import InputError

    if path.lower().endswith(".parquet"):
        try:
            df.to_parquet(path, index=False)
        except ImportError:
            raise InputError("writing Parquet needs pyarrow: pip install 'roofline[parquet]'") from None
    else:
        df.to_csv(path, index=False)


def _cmd_plot(args) -> str:
    _check_plot_path(args.out)
    from . import plot

    if args.kind == "roofline":
        from . import workloads
        from .devices import get_device
        from .llm import estimate
        from .report import kernel_report

        devs = [get_device(d, args.spec) for d in args.devices]
        pts = []
        for dev in devs:
            for name, wl in (("GEMM 8192³", workloads.gemm(8192, 8192, 8192, dtype=args.dtype[0])),
                             ("GEMV 8192²", workloads.gemv(8192, 8192, dtype=args.dtype[0]))):
                if args.dtype[0] in dev.compute:
                    r = kernel_report(wl, dev, ideal=True)
                    pts.append({"intensity": r["arithmetic_intensity"], "flops_per_s": r["attainable_flops_per_s"],
                                "label": f"{name} on {dev.key}", "device": dev.key, "bound": r["bound"]})
            for model in args.model:
                r = estimate(model, dev, batch=args.batch, context=args.context, dtype=args.dtype[0], ideal=True)
                dec, pre = r["decode_flops"], r["decode_bytes"]
                pts.append({"intensity": dec / pre, "flops_per_s": dec / r["tpot_s"], "device": dev.key,
                            "label": f"{model} decode on {dev.key}", "bound": r["bound"]})
        fig = plot.roofline_chart(devs, dtypes=args.dtype, points=pts, sparse=args.sparse)
    elif args.kind == "compare":
        from .compare import compare

        fig = plot.compare_chart(compare(args.devices, models=args.model, batch=args.batch, context=args.context,
                                         dtype=args.dtype, ideal=args.ideal, spec_paths=args.spec))
    elif args.kind == "sweep":
        from .devices import get_device
        from .llm import decode_sweep

        df = decode_sweep(args.model, [get_device(d, args.spec) for d in args.device], args.batch, args.context,
                          device_counts=args.devices, dtype=args.dtype, ideal=args.ideal)
        fig = plot.sweep_chart(df, x=args.x, y=args.y)
    elif args.kind == "frontier":
        from .devices import get_device
        from .llm import frontier

        frames = []
        for spec in args.devices:
            n, _, key = spec.rpartition("x") if "x" in spec and spec.split("x", 1)[0].isdigit() else ("", "", spec)
            frames.append(frontier(args.model, get_device(key, args.spec), devices=int(n) if n else None,
                                   context=args.context, dtype=args.dtype, ideal=args.ideal))
        fig = plot.frontier_chart(frames, per=args.per)
    else:
        fig = plot.memory_wall_chart()
    plot.save(fig, args.out)
    return f"wrote {args.out}"


def _cmd_validate(args) -> str:
    from .validate import validate

    rows = validate(args.data)
    if args.category:
        rows = [r for r in rows if r["category"] in args.category]
    if args.format == "json":
        return render(None, "json", json_obj=rows)
    table = []
    for r in rows:
        eff = r.get("efficiency_ideal")
        table.append({
            "id": r["id"][:44], "metric": r["metric"].replace("_per_", "/").replace("tokens", "tok")[:18],
            "measured": _num(r["value"], r["metric"]),
            "bound (ideal)": _num(r.get("bound_ideal"), r["metric"]),
            "eff. ideal": f"{eff:.2f}" if eff is not None else "error",
            "eff. latency": f"{r['efficiency']:.2f}" if r.get("efficiency") is not None else "",
            "flag": ("VIOLATION" if r.get("violation") else "") + ("speculative" if r.get("speculative") else ""),
        })
    n_bad = sum(1 for r in rows if r.get("violation"))
    summary = (f"{len(rows)} measurements; {n_bad} beat their ideal bound"
               + ("" if n_bad else " (none: every measurement is within the roofline)")
               + ". eff. = measured / bound for rates, bound / measured for times.")
    return render(table, args.format) + ("\n\n" + summary if args.format != "csv" else "")


def _num(v, metric: str) -> str:
    if v is None:
        return ""
    unit = {"bandwidth_bytes_per_s": "B/s", "flops_per_s": "FLOP/s", "time_per_output_token_s": "s",
            "time_to_first_token_s": "s"}.get(metric, "")
    return human(v, unit, 3) if unit else f"{v:,.1f}"


def _check_plot_path(path: str) -> None:
    import os

    from .errors import InputError

    ext = os.path.splitext(path)[1].lower()
    if ext not in (".png", ".svg", ".pdf"):
        raise InputError(f"cannot write a chart to {path!r}: use a .png, .svg or .pdf file name")
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise InputError(f"cannot write {path!r}: no folder {folder!r}")


_COMMANDS = {"validate": _cmd_validate, "compare": _cmd_compare, "sweep": _cmd_sweep, "plot": _cmd_plot, "list": _cmd_list, "show": _cmd_show, "gemm": _cmd_gemm, "llm": _cmd_llm, "models": _cmd_models}
