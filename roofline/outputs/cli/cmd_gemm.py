"""Command-line interface: a thin shell over the library (parse → call → format).

``python -m roofline COMMAND ...`` or ``roofline COMMAND ...``. User errors print one line on stderr and
exit with status 2; nothing here computes physics of its own.
"""

from __future__ import annotations

from ..format import human, render

__all__ = []


def _cmd_gemm(args) -> str:
    from ...engine.kernel import kernel_report
    from ...hardware.library import get_device
    from ...workloads.recipes import Recipe

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

