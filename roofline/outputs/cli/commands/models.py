"""``roofline models``: the known LLM configurations (:func:`roofline.outputs.report.model_summary`)."""

from __future__ import annotations

import argparse

from ...format import render
from ..args import add_common, path_arg

__all__ = ["NAME", "register", "run"]

NAME = "models"


def register(subparsers) -> argparse.ArgumentParser:
    """Add ``models`` and its options to the command line.

    Parameters
    ----------
    subparsers : argparse._SubParsersAction
        The sub-commands of ``roofline``.

    Returns
    -------
    argparse.ArgumentParser
        The command's parser.
    """
    p = subparsers.add_parser(NAME, help="list the known LLM configurations",
                              description="List the known LLM configurations: layers, widths, heads and "
                              "parameters.", epilog="example:\n  roofline models --model-path my-models/")
    p.add_argument("--model-path", action="append", default=[], metavar="PATH", type=path_arg,
                   help="extra model file or folder (repeatable; also ROOFLINE_MODEL_PATH)")
    add_common(p)
    return p


def run(args: argparse.Namespace) -> str:
    """The model list in ``args.format``; the table gives parameters in billions.

    Parameters
    ----------
    args : argparse.Namespace
        ``model_path`` (extra model files or folders), ``spec`` (extra spec files or folders: checked, so
        that a wrong path or a broken file is an error, though no device is listed) and ``format``.

    Returns
    -------
    str
        The text to print.
    """
    from ....hardware.library import library
    from ....llm.loader import list_models
    from ...report import model_summary

    if args.spec:
        library(args.spec)  # a --spec that names nothing, or a broken spec file, is refused, not ignored

    rows = [model_summary(m) for m in list_models(args.model_path)]
    if args.format in ("json", "csv"):
        return render(rows, args.format)
    for r in rows:
        r["params"] = f"{r['params'] / 1e9:.2f} B"
        r["active_params"] = f"{r['active_params'] / 1e9:.2f} B"
        r.pop("source")
    return render(rows, args.format)
