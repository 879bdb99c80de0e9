"""Command-line interface: a thin shell over the library (parse → call → format).

``python -m roofline COMMAND ...`` or ``roofline COMMAND ...``. User errors print one line on stderr and
exit with status 2; nothing here computes physics of its own.
"""

from __future__ import annotations

from ..format import render
from .common import _check_plot_path

__all__ = []


def _cmd_compare(args) -> str:
    from ..compare import compare, comparison_rows

    if args.plot:
        _check_plot_path(args.plot)
    res = compare(args.devices, models=args.model, batch=args.batch, context=args.context, dtype=args.dtype,
                  ideal=args.ideal, spec_paths=args.spec)
    if args.plot:
        from ..plot import compare_chart, save

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

