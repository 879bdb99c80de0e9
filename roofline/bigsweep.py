"""Sweeps beyond memory: grids evaluated in chunks, written incrementally or reduced on the fly, and the
same compiled functions mapped over dask arrays for a cluster.

A grid of 10^9 points does not fit in memory as a DataFrame (about 100 GB). Here the Cartesian product
is never materialised: each chunk's coordinates are computed from flat indices, evaluated by the same
lambdified functions as :mod:`roofline.sweep`, then either appended to a Parquet file
(:func:`llm_sweep_to_parquet`) or folded into a small running result (:func:`llm_sweep_reduce`: the best
configuration per system, or the throughput–interactivity Pareto frontier).
"""

from __future__ import annotations

from typing import Iterator, Mapping, Sequence

import numpy as np

from .devices import get_device
from .errors import InputError
from .specs import Device

__all__ = ["grid_chunks", "llm_sweep_chunks", "llm_sweep_to_parquet", "llm_sweep_reduce", "evaluate_dask"]


def grid_chunks(axes: Mapping[str, Sequence], chunk: int = 1 << 20) -> Iterator[dict[str, np.ndarray]]:
    """The Cartesian product of ``axes`` in chunks of at most ``chunk`` points, in C order, without ever
    building the whole grid: each chunk's coordinates come from ``np.unravel_index`` of a flat range."""
    names = list(axes)
    vals = [np.atleast_1d(np.asarray(v, dtype=float)) for v in axes.values()]
    dims = tuple(len(v) for v in vals)
    total = int(np.prod(dims)) if dims else 0
    if chunk <= 0:
        raise InputError(f"chunk must be positive, got {chunk}")
    for lo in range(0, total, chunk):
        flat = np.arange(lo, min(lo + chunk, total))
        idx = np.unravel_index(flat, dims)
        yield {n: v[i] for n, v, i in zip(names, vals, idx)}


def _systems(model, devices, prec, device_counts, context_min):
    from .llm import place

    for dev in devices:
        counts = device_counts or [place(model, dev, prec, 1, int(context_min)).devices]
        for n in counts:
            yield dev, place(model, dev, prec, 1, 1, devices=int(n))


def llm_sweep_chunks(model, devices: Sequence[str | Device] | str | Device, batch, context,
                     device_counts: Sequence[int] | None = None, dtype: str = "bf16", prec=None, ideal: bool = False,
                     overlap: str = "max", phase: str = "decode", chunk: int = 1 << 20):
    """Yield tidy DataFrames of at most ``chunk`` rows covering batch × context × device count × device."""
    import pandas as pd

    from .llm import Precision, _resident_per_device, _run
    from .models import get_model

    m = get_model(model)
    prec = prec or Precision.of(dtype)
    devs = [get_device(d) for d in ([devices] if isinstance(devices, (str, Device)) else devices)]
    B = np.asarray(batch, dtype=float).ravel()
    S = np.asarray(context, dtype=float).ravel()
    if B.size == 0 or S.size == 0 or np.any(B <= 0) or np.any(S <= 0):
        raise InputError("batch and context must be non-empty lists of positive values")
    key = "s" if phase == "decode" else "p"
    for dev, pl in _systems(m, devs, prec, device_counts, S.min()):
        cap = dev.memory[pl.home].capacity_bytes
        for g in grid_chunks({"batch": B, "context": S}, chunk):
            b, s = g["batch"], g["context"]
            r = _run(m, dev, phase, prec, pl, {"b": b, key: s}, ideal, overlap, "nominal")
            fits = _resident_per_device(m, prec, pl.parallel, b, s) <= cap
            t = np.where(fits, r["time_s"], np.nan)
            yield pd.DataFrame({
                "model": m.key, "device": dev.key, "devices": pl.devices, "batch": b.astype(np.int64),
                "context": s.astype(np.int64), "time_s": t, "tokens_per_s_per_user": 1.0 / t,
                "tokens_per_s": b / t, "tokens_per_s_per_device": b / t / pl.devices,
                "bound": np.where(fits, np.asarray(r["labels"], dtype=object)[r["bound_index"]], "capacity"),
                "fits": fits,
            })


def _n_points(batch, context, devices, device_counts) -> int:
    nd = len([devices] if isinstance(devices, (str, Device)) else devices)
    return int(np.size(batch) * np.size(context) * nd * (len(device_counts) if device_counts else 1))


def llm_sweep_to_parquet(path, model, devices, batch, context, device_counts=None, dtype: str = "bf16",
                         ideal: bool = False, phase: str = "decode", chunk: int = 1 << 20, progress: bool = True) -> int:
    """Evaluate the grid chunk by chunk and append each chunk to the Parquet file ``path``; returns the
    number of rows written. Memory stays at one chunk whatever the grid's size. ``progress`` shows a
    progress bar (tqdm) on stderr."""
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError:
        raise InputError("writing Parquet needs pyarrow: pip install 'roofline[parquet]'") from None
    total = _n_points(batch, context, devices, device_counts)
    bar = _bar(total, progress)
    writer = None
    rows = 0
    try:
        for df in llm_sweep_chunks(model, devices, batch, context, device_counts, dtype, ideal=ideal, phase=phase,
                                   chunk=chunk):
            df["bound"] = df["bound"].astype(str)
            table = pa.Table.from_pandas(df, preserve_index=False)
            if writer is None:
                writer = pq.ParquetWriter(str(path), table.schema)
            writer.write_table(table)
            rows += len(df)
            bar.update(len(df))
    finally:
        if writer is not None:
            writer.close()
        bar.close()
    return rows


def llm_sweep_reduce(model, devices, batch, context, device_counts=None, dtype: str = "bf16", ideal: bool = False,
                     reduce: str = "best", min_tokens_per_s_per_user: float = 0.0, chunk: int = 1 << 20,
                     progress: bool = False):
    """Fold a grid of any size into a small result without holding its points.

    ``reduce="best"``: per system (device × count), the point of highest tokens/s per device among those
    that fit and give each user at least ``min_tokens_per_s_per_user``. ``reduce="pareto"``: per system,
    the Pareto frontier of (tokens/s per user, tokens/s per device), merged chunk by chunk.
    """
    import pandas as pd

    if reduce not in ("best", "pareto"):
        raise InputError(f"reduce must be 'best' or 'pareto', got {reduce!r}")
    bar = _bar(_n_points(batch, context, devices, device_counts), progress)
    kept: dict = {}
    for df in llm_sweep_chunks(model, devices, batch, context, device_counts, dtype, ideal=ideal, chunk=chunk):
        bar.update(len(df))
        ok = df[df.fits & (df.tokens_per_s_per_user >= min_tokens_per_s_per_user)]
        for (dev, n), g in ok.groupby(["device", "devices"], sort=False):
            prev = kept.get((dev, n))
            if reduce == "best":
                cand = g.loc[[g.tokens_per_s_per_device.idxmax()]]
                if prev is None or cand.tokens_per_s_per_device.iloc[0] > prev.tokens_per_s_per_device.iloc[0]:
                    kept[(dev, n)] = cand
            else:
                both = g if prev is None else pd.concat([prev, g])
                kept[(dev, n)] = _pareto(both)
    bar.close()
    if not kept:
        return pd.DataFrame()
    return pd.concat(kept.values(), ignore_index=True)


def _pareto(df):
    """Rows not dominated in (tokens_per_s_per_user, tokens_per_s_per_device), both to maximise."""
    d = df.sort_values(["tokens_per_s_per_user", "tokens_per_s_per_device"], ascending=[False, False])
    best = np.maximum.accumulate(d.tokens_per_s_per_device.to_numpy())
    prev = np.concatenate([[-np.inf], best[:-1]])
    return d[d.tokens_per_s_per_device.to_numpy() > prev]


class _NoBar:
    def update(self, n):
        pass

    def close(self):
        pass


def _bar(total: int, progress: bool):
    if not progress:
        return _NoBar()
    try:
        from tqdm import tqdm
    except ImportError:  # progress is a nicety, never a requirement
        return _NoBar()
    return tqdm(total=total, unit="pt", unit_scale=True, leave=False)


def evaluate_dask(compiled, shapes: Mapping[str, object], device_values: Mapping[str, float], capacities,
                  home=None, devices=1) -> dict:
    """Map a :class:`~roofline.engine.CompiledWorkload` over dask arrays, block by block.

    ``shapes`` maps shape names to dask arrays (or NumPy arrays / scalars) that broadcast together; the
    result maps ``time_s``, ``bound_index``, ``flops``, ``bytes`` and ``fits`` to lazy dask arrays that
    run the same lambdified functions on each block, on whatever scheduler is active (a local one or a
    distributed cluster).
    """
    import dask.array as da

    names = list(compiled.shape_names)
    arrays = [da.asarray(shapes[n]) for n in names]
    arrays = list(da.broadcast_arrays(*arrays)) if arrays else arrays
    outs = {}
    for key, dtype in (("time_s", float), ("bound_index", np.int64), ("flops", float), ("bytes", float),
                       ("fits", bool)):
        def block(*blocks, _key=key):
            r = compiled.evaluate(dict(zip(names, blocks)), device_values, capacities, devices=devices, home=home)
            return np.broadcast_to(r[_key], np.broadcast_shapes(*(np.shape(b) for b in blocks))).copy()

        outs[key] = da.map_blocks(block, *arrays, dtype=dtype)
    return outs
