"""``roofline validate``: published measurements against their bounds
(:func:`roofline.validation.bounds.validate`)."""

from __future__ import annotations

import argparse

from ...format import human, render
from ..args import ListAction, add_common, path_arg, str_list

__all__ = ["NAME", "register", "run"]

NAME = "validate"

#: The unit of each measured metric that has one; other metrics (tokens/s) print as plain numbers.
_UNITS = {"bandwidth_bytes_per_s": "B/s", "flops_per_s": "FLOP/s", "time_per_output_token_s": "s",
          "time_to_first_token_s": "s"}


def register(subparsers) -> argparse.ArgumentParser:
    """Add ``validate`` and its options to the command line.

    Parameters
    ----------
    subparsers : argparse._SubParsersAction
        The sub-commands of ``roofline``.

    Returns
    -------
    argparse.ArgumentParser
        The command's parser.
    """
    p = subparsers.add_parser(NAME, help="published measurements against their bounds and estimates",
                              description="Published measurements against their roofline bounds (ideal, and "
                              "with the unavoidable latency) and the estimate; a measurement above either bound "
                              "is a violation.",
                              epilog="example:\n  roofline validate --category llm-decode --format markdown")
    p.add_argument("--data", metavar="CSV", type=path_arg, help="measurement file (default: the shipped data set)")
    p.add_argument("--category", action=ListAction, type=str_list, help="only these categories: repeat or "
                   "separate with commas")
    p.add_argument("--by-regime", action="store_true", help="per regime (microbenchmarks, single-user decode, "
                   "prefill, throughput, wafer-scale): measured / estimate before and after measured ceilings")
    p.add_argument("--model-path", action="append", default=[], metavar="PATH", type=path_arg,
                   help="extra model file or folder, for the models a measurement file names (repeatable)")
    add_common(p)
    return p


def _num(v, metric: str) -> str:
    if v is None:
        return ""
    unit = _UNITS.get(metric, "")
    return human(v, unit, 3) if unit else f"{v:,.1f}"


def _row(r: dict) -> dict:
    eff = r.get("efficiency_ideal")
    return {
        "id": r["id"], "metric": r["metric"].replace("_per_", "/").replace("tokens", "tok")[:18],
        "measured": _num(r["value"], r["metric"]),
        "bound (ideal)": _num(r.get("bound_ideal"), r["metric"]),
        "eff. ideal": f"{eff:.2f}" if eff is not None else "error",
        "eff. lat. bound": f"{r['efficiency']:.2f}" if r.get("efficiency") is not None else "",
        "meas/est": (f"{r['ratio_estimate']:.2f}" + ("" if r.get("in_estimate_range") else "*"))
        if r.get("ratio_estimate") is not None else "",
        "flag": ("VIOLATION" if r.get("violation") else "") + ("speculative" if r.get("speculative") else ""),
    }


def run(args: argparse.Namespace) -> str:
    """The validation in ``args.format``, with a summary line under a table.

    Parameters
    ----------
    args : argparse.Namespace
        ``data`` (a measurement file), ``category``, ``spec`` and ``model_path`` (extra spec and model
        files or folders, where the rows' devices and models are looked up too) and ``format``.

    Returns
    -------
    str
        The text to print; JSON and CSV are the validation rows as the library returns them (SI numbers,
        each measurement's ``unit`` beside its ``value`` and bounds; ids whole).
    """
    from ....validation.bounds import validate

    if getattr(args, "by_regime", False):
        return _by_regime(args)
    rows = validate(args.data, spec_paths=args.spec, model_paths=args.model_path)
    if args.category:
        rows = [r for r in rows if r["category"] in args.category]
    if args.format == "json":
        return render(None, "json", json_obj=rows)
    if args.format == "csv":
        return render(rows, "csv")
    n_bad = sum(1 for r in rows if r.get("violation"))
    summary = (f"{len(rows)} measurements; {n_bad} beat their ideal bound"
               + ("" if n_bad else " (none: every measurement is within the roofline)")
               + ". eff. = measured / bound for rates, bound / measured for times (ideal: the pure roofline; "
               "lat. bound: with the latency no implementation avoids); meas/est = measured / estimated speed, "
               "* outside the estimate's best-worst range.")
    return render([_row(r) for r in rows], args.format) + "\n\n" + ("% " if args.format == "latex" else "") + summary


def _by_regime(args: argparse.Namespace) -> str:
    """The regime summary (:func:`roofline.validation.regimes.regime_summary`) as a table or JSON."""
    from ....validation.bounds import validate
    from ....validation.regimes import estimate_rows, regime_summary

    rows = validate(args.data, spec_paths=args.spec, model_paths=args.model_path)
    if args.category:
        rows = [r for r in rows if r["category"] in args.category]
    summary = regime_summary(estimate_rows(rows=rows))
    if args.format == "json":
        return render(None, "json", json_obj=summary)
    rows = [{"regime": s["regime"], "rows": s["rows"], **{
        f"{w} {k}": (f"{s[w][k]:.2f}" if k != "spread" else f"{s[w]['q1']:.2f}-{s[w]['q3']:.2f}")
        for w in ("before", "after") for k in ("median", "spread", "within_20", "within_50")},
        "below bounds": f"{s['below_bounds']}/{s['rows']}"} for s in summary]
    note = ("measured / estimated speed (1 = exact): before = the latency bound alone, after = the estimate on "
            "measured ceilings (the meas/est column of the main table); spread = quartiles; within_20/50 = share "
            "of rows within +-20 %/+-50 %.")
    return render(rows, args.format) + ("" if args.format == "csv" else "\n\n" + note)
