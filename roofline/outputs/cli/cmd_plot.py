"""Command-line interface: a thin shell over the library (parse → call → format).

``python -m roofline COMMAND ...`` or ``roofline COMMAND ...``. User errors print one line on stderr and
exit with status 2; nothing here computes physics of its own.
"""

from __future__ import annotations

from .common import _check_plot_path

__all__ = []


def _cmd_plot(args) -> str:
    _check_plot_path(args.out)
    from roofline.outputs import plot

    if args.kind == "roofline":
        from ...engine.kernel import kernel_report
        from ...hardware.library import get_device
        from ...llm.inference import estimate
        from ...workloads import kernels as workloads

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
        from ..compare import compare

        fig = plot.compare_chart(compare(args.devices, models=args.model, batch=args.batch, context=args.context,
                                         dtype=args.dtype, ideal=args.ideal, spec_paths=args.spec))
    elif args.kind == "sweep":
        from ...hardware.library import get_device
        from ...llm.sweeps import decode_sweep

        df = decode_sweep(args.model, [get_device(d, args.spec) for d in args.device], args.batch, args.context,
                          device_counts=args.devices, dtype=args.dtype, ideal=args.ideal)
        fig = plot.sweep_chart(df, x=args.x, y=args.y)
    elif args.kind == "frontier":
        from ...hardware.library import get_device
        from ...llm.sweeps import frontier

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

