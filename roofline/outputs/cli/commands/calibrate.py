"""``roofline calibrate``: measure this machine's memory bandwidth and matmul rates and write them as a spec
(:mod:`roofline.hardware.calibrate`)."""

from __future__ import annotations

import argparse

from ...format import human, render
from ..args import add_common

__all__ = ["NAME", "register", "run"]

NAME = "calibrate"


def register(subparsers) -> argparse.ArgumentParser:
    """Add ``calibrate`` and its options to the command line.

    Parameters
    ----------
    subparsers : argparse._SubParsersAction
        The sub-commands of ``roofline``.

    Returns
    -------
    argparse.ArgumentParser
        The command's parser.
    """
    p = subparsers.add_parser(NAME, help="measure this machine (memory bandwidth, matmul rate) and write a spec",
                              description="Measure memory bandwidth (STREAM copy and triad) and the matmul rate "
                              "per data type on this machine (NumPy on the CPU, PyTorch on a GPU when present), "
                              "print them against the datasheet's and write them as a spec file whose figures "
                              "have basis 'measured'.",
                              epilog="example:\n  roofline calibrate --out host.toml\n"
                              "  roofline calibrate --device h100 --out h100-calibrated.toml\n"
                              "  roofline compare h100 h100-calibrated --spec h100-calibrated.toml")
    p.add_argument("-d", "--device", metavar="NAME", help="a known device: write an overlay of its spec "
                   "(key <key>-calibrated) and compare with its datasheet")
    p.add_argument("-o", "--out", metavar="FILE.toml", help="write the spec file here")
    p.add_argument("--key", help="the key of a host spec (default host-<hostname>)")
    p.add_argument("--size-mib", type=float, help="size of each bandwidth array [MiB] (default: 4x the largest "
                   "cache, at least 64)")
    p.add_argument("--matmul-n", type=int, default=2048, help="order of the square matrices (default 2048)")
    p.add_argument("--repeats", type=int, default=5, help="timed runs per kernel; the median is kept (default 5)")
    p.add_argument("--cpu", action="store_true", help="measure the CPU even where a GPU is present")
    add_common(p)
    return p


def run(args: argparse.Namespace) -> str:
    """Calibrate, write the spec file if asked, and return the measured-against-datasheet table.

    Parameters
    ----------
    args : argparse.Namespace
        ``device``, ``out``, ``key``, ``size_mib``, ``matmul_n``, ``repeats``, ``cpu``, ``spec``, ``format``.

    Returns
    -------
    str
        The table (or JSON / CSV of the rows), and the file written.
    """
    from ...._paths import atomic_output
    from ....errors import InputError
    from ....hardware.calibrate import calibrate, comparison, spec_text
    from ....hardware.library import get_device

    if args.repeats < 1 or args.matmul_n < 1 or (args.size_mib is not None and args.size_mib <= 0):
        raise InputError("--repeats, --matmul-n and --size-mib must be positive")
    dev = get_device(args.device, args.spec) if args.device else None
    cal = calibrate(array_bytes=int(args.size_mib * 2**20) if args.size_mib else None, matmul_n=args.matmul_n,
                    repeats=args.repeats, prefer_gpu=not args.cpu)
    rows = comparison(cal, dev)
    written = ""
    if args.out:
        with atomic_output(args.out) as tmp:
            tmp.write_text(spec_text(cal, dev, args.key))
        written = f"wrote {args.out} (load it with --spec {args.out})"
    if args.format in ("json", "csv"):
        return render(rows, args.format) if args.format == "csv" else render(None, "json", json_obj=rows)
    table = [{"measurement": r["measurement"], "median": human(r["median"], r["unit"], 3),
              "runs": len(r["runs"]), "datasheet": human(r["datasheet"], r["unit"], 3) if r["datasheet"] else "",
              "measured / datasheet": f"{r['ratio']:.3g}" if r["ratio"] else ""} for r in rows]
    head = f"{cal.device_name} ({cal.backend}; {', '.join(f'{k} {v}' for k, v in cal.versions.items())}; {cal.date})"
    return head + "\n" + render(table, args.format) + ("\n\n" + written if written else "")
