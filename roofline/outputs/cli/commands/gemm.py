"""``roofline gemm``: one GEMM on one device (:func:`roofline.engine.kernel.kernel_report`)."""

from __future__ import annotations

import argparse

from ...format import flat_record, human, render
from ..args import add_common, positive_int

__all__ = ["NAME", "register", "run"]

NAME = "gemm"


def register(subparsers) -> argparse.ArgumentParser:
    """Add ``gemm`` and its options to the command line.

    Parameters
    ----------
    subparsers : argparse._SubParsersAction
        The sub-commands of ``roofline``.

    Returns
    -------
    argparse.ArgumentParser
        The command's parser.
    """
    p = subparsers.add_parser(NAME, help="a GEMM C[M,N] = A[M,K]·B[K,N] on a device",
                              description="Time a GEMM C[M,N] = A[M,K]·B[K,N] on a device and name its "
                              "binding term.", epilog="example:\n  roofline gemm --device h100 --m 8192 "
                              "--n 8192 --k 8192 --dtype fp8")
    p.add_argument("-d", "--device", required=True, help="device key or alias")
    p.add_argument("--m", type=positive_int, required=True, help="rows of A and C [1]")
    p.add_argument("--n", type=positive_int, required=True, help="columns of B and C [1]")
    p.add_argument("--k", type=positive_int, required=True, help="the reduced dimension: columns of A, rows of B [1]")
    p.add_argument("--batch", type=positive_int, default=1, help="independent GEMMs (batched GEMM)")
    p.add_argument("--dtype", default="bf16", help="data type of all operands (default bf16)")
    p.add_argument("--dtype-a", help="data type of A (overrides --dtype)")
    p.add_argument("--dtype-b", help="data type of B (overrides --dtype)")
    p.add_argument("--dtype-c", help="data type of C (overrides --dtype)")
    p.add_argument("--level", help="force the memory level the operands live in")
    p.add_argument("--warm", action="store_true", help="operands already in the fastest level that holds them "
                   "(a kernel re-reading data it just touched); default: cold, read from main memory")
    p.add_argument("--overlap", default="max", choices=["max", "sum"],
                   help="max: full overlap (roofline, lower bound); sum: no overlap (upper bound)")
    p.add_argument("--ideal", action="store_true", help="drop latency terms: the pure roofline")
    p.add_argument("--sparse", action="store_true", help="use the 2:4-sparse peak (dense by default)")
    add_common(p)
    return p


def _recipe(args: argparse.Namespace):
    from ....workloads.recipes import Recipe

    if args.batch > 1:
        return Recipe("batched_gemm", batch=args.batch, m=args.m, n=args.n, k=args.k, dtype=args.dtype)
    return Recipe("gemm", m=args.m, n=args.n, k=args.k, dtype=args.dtype, dtype_a=args.dtype_a,
                  dtype_b=args.dtype_b, dtype_c=args.dtype_c)


def run(args: argparse.Namespace) -> str:
    """The GEMM's time, work, traffic, intensity, attainable rate and terms in ``args.format``.

    Parameters
    ----------
    args : argparse.Namespace
        ``device``, ``m``, ``n``, ``k`` and ``batch`` [1], the data types, ``level``, ``warm``,
        ``overlap``, ``ideal``, ``sparse``, ``spec`` and ``format``.

    Returns
    -------
    str
        The text to print; JSON is the kernel report with ``m``, ``n``, ``k`` and ``batch`` added, CSV the
        same record as one row of SI numbers.
    """
    from ....engine.kernel import kernel_report
    from ....hardware.library import get_device

    dev = get_device(args.device, args.spec)
    rec = kernel_report(_recipe(args), dev, overlap=args.overlap, ideal=args.ideal, level=args.level,
                        sparse=args.sparse, warm=args.warm)
    rec.update({"m": args.m, "n": args.n, "k": args.k, "batch": args.batch})
    if args.format == "json":
        return render(None, "json", json_obj=rec)
    if args.format == "csv":
        return render([flat_record(rec)], "csv")
    return render(_kernel_rows(rec), args.format, title=f"GEMM {args.m}×{args.n}×{args.k} {rec['dtype']} on "
                  f"{dev.name}" + (" (ideal)" if args.ideal else ""))


def _kernel_rows(rec: dict) -> list[dict]:
    """The kernel report as text rows; every number is the report's own, formatted with its unit."""
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
