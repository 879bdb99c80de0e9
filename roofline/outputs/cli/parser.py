"""Command-line interface: a thin shell over the library (parse → call → format).

``python -m roofline COMMAND ...`` or ``roofline COMMAND ...``. User errors print one line on stderr and
exit with status 2; nothing here computes physics of its own.
"""

from __future__ import annotations

import argparse

from ..format import FORMATS

__all__ = ['EXIT_USAGE', 'build_parser']


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

