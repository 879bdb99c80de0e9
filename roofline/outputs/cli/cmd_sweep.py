"""Command-line interface: a thin shell over the library (parse → call → format).

``python -m roofline COMMAND ...`` or ``roofline COMMAND ...``. User errors print one line on stderr and
exit with status 2; nothing here computes physics of its own.
"""

from __future__ import annotations

from ..format import render
from .common import _check_plot_path

__all__ = []


def _cmd_sweep(args) -> str:
    import os

    import pandas as pd

    from ...errors import InputError
    from ...llm.sweeps import decode_sweep

    if args.out and os.path.splitext(args.out)[1].lower() not in (".csv", ".parquet"):
        raise InputError(f"cannot write {args.out!r}: use a .csv or .parquet file name")
    if args.plot:
        _check_plot_path(args.plot)
    from ...hardware.library import get_device

    devs = [get_device(d, args.spec) for d in args.device]
    frames = []
    for model in args.model:
        for dt in args.dtype:
            from ...llm.precision import Precision

            df = decode_sweep(model, devs, args.batch, args.context, device_counts=args.devices,
                              prec=Precision.of(dt), ideal=args.ideal, phase=args.phase)
            df.insert(1, "dtype", dt)
            frames.append(df)
    df = pd.concat(frames, ignore_index=True)
    df.insert(2, "phase", args.phase)
    if args.plot:
        from ..plot import save, sweep_chart

        save(sweep_chart(df, x=args.x, y=args.y, hue="device", style="model" if len(args.model) > 1 else None),
             args.plot)
    if args.out:
        _write_frame(df, args.out)
        return f"wrote {len(df):,} rows to {args.out}"
    if args.format == "json":
        return df.to_json(orient="records", indent=2)
    return render(df.to_dict("records"), args.format)


def _write_frame(df, path: str) -> None:
    from ...errors import InputError

    if path.lower().endswith(".parquet"):
        try:
            df.to_parquet(path, index=False)
        except ImportError:
            raise InputError("writing Parquet needs pyarrow: pip install 'roofline[parquet]'") from None
    else:
        df.to_csv(path, index=False)

