"""Command-line interface: a thin shell over the library (parse → call → format).

``python -m roofline COMMAND ...`` or ``roofline COMMAND ...``. User errors print one line on stderr and
exit with status 2; nothing here computes physics of its own.
"""

from __future__ import annotations

from ..format import human, render

__all__ = []


def _cmd_validate(args) -> str:
    from ...validation.bounds import validate

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

