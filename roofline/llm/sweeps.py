"""LLM inference: per-operator prefill and decode on one or many devices, with capacity and parallelism.

A transformer is decomposed into kernels from :mod:`roofline.workloads` (embedding lookup, norms, QKV,
attention, output projection, MLP or routed experts, residual adds, lm_head) plus the collectives its
parallelism needs (tensor-parallel all-reduce, expert all-to-all, pipeline hand-off). Each op is timed
by the engine and the times are **summed per operator**, never one roofline over the whole model.

Shape symbols: ``b`` (batch: sequences in flight), ``s`` (decode: tokens already in the KV cache) and
``p`` (prefill: prompt tokens per sequence). Parallelism and data types are plain Python values: they
change the structure of the expressions, not their arguments.

Placement: weights and the KV cache (the *resident set*) live together in the fastest memory level that
is not a cache (HBM on a GPU, SRAM on a wafer or tile). By default the model is spread over the fewest
devices whose level holds it: tensor parallelism inside a GPU's NVLink domain (pipeline stages beyond
it), pipeline stages across wafers and tiles (the mapping Cerebras and Tesla describe). A user who forces
fewer devices streams from the next level that holds the set (Dojo's DIP HBM, a CS-3's MemoryX) at that
level's bandwidth, or gets a :class:`~roofline.errors.CapacityError` that says how much is needed.
"""

from __future__ import annotations

from typing import Iterable, Sequence

import numpy as np

from ..errors import CapacityError, InputError
from ..hardware.device import Device
from ..hardware.library import get_device
from ..sweep.chunks import _bar, _n_points, _pareto, evaluate_dask, grid_chunks  # noqa: F401 (evaluate_dask: old roofline.bigsweep path)
from .config import ModelConfig
from .inference import _run
from .loader import get_model
from .precision import Precision
from .sizes import place
from .sizes import resident_bytes_per_device as _resident_per_device

__all__ = ['decode_sweep', 'frontier', 'llm_sweep_chunks', 'llm_sweep_to_parquet', 'llm_sweep_reduce']


def decode_sweep(model: str | ModelConfig, devices: Sequence[str | Device] | str | Device, batch, context,
                 device_counts: Sequence[int] | None = None, dtype: str = "bf16", prec: Precision | None = None,
                 ideal: bool = False, overlap: str = "max", phase: str = "decode", ranges: bool = True):
    """Decode (or prefill) time over a grid of batch × context × device count × device, as a tidy DataFrame.

    One row per point: ``device``, ``devices``, ``batch``, ``context``, ``time_s`` (NaN where the resident
    set does not fit the placement's level), ``tokens_per_s_per_user``, ``tokens_per_s``, ``bound``, ``fits``;
    estimate-based devices add ``time_s_best`` and ``time_s_worst``. No Python loop over grid points: the
    loop is over devices and device counts, whose placements change the expressions' structure.
    """
    import pandas as pd

    m = get_model(model)
    prec = prec or Precision.of(dtype)
    devs = [get_device(d) for d in ([devices] if isinstance(devices, (str, Device)) else devices)]
    B = np.asarray(batch, dtype=float).ravel()
    S = np.asarray(context, dtype=float).ravel()
    if np.any(B <= 0) or np.any(S <= 0):
        raise InputError("batch and context must be positive")
    frames = []
    for dev in devs:
        counts = device_counts or [place(m, dev, prec, 1, int(S.min())).devices]
        for n in counts:
            pl = place(m, dev, prec, 1, 1, devices=int(n)) if device_counts else \
                place(m, dev, prec, 1, int(S.min()))
            bb, ss = np.meshgrid(B, S, indexing="ij")
            bb, ss = bb.ravel(), ss.ravel()
            shapes = {"b": bb, "s": ss} if phase == "decode" else {"b": bb, "p": ss}
            r = _run(m, dev, phase, prec, pl, shapes, ideal, overlap, "nominal")
            need = _resident_per_device(m, prec, pl.parallel, bb, ss)
            fits = need <= dev.memory[pl.home].capacity_bytes
            t = np.where(fits, r["time_s"], np.nan)
            df = pd.DataFrame({
                "model": m.key, "device": dev.key, "devices": pl.devices, "tp": pl.parallel.tp, "pp": pl.parallel.pp,
                "batch": bb.astype(np.int64), "context": ss.astype(np.int64), "time_s": t,
                "tokens_per_s_per_user": 1.0 / t, "tokens_per_s": bb / t,
                "bound": pd.Categorical(np.where(fits, r["bound"], "capacity")),
                "fits": fits, "level": dev.memory[pl.home].name,
            })
            if ranges and dev.is_estimate:
                for w in ("best", "worst"):
                    rw = _run(m, dev, phase, prec, pl, shapes, ideal, overlap, w)
                    df[f"time_s_{w}"] = np.where(fits, rw["time_s"], np.nan)
            frames.append(df)
    return pd.concat(frames, ignore_index=True)


def frontier(model: str | ModelConfig, device: str | Device, devices: int | None = None, context: int = 2048,
             batches: Iterable[int] | None = None, dtype: str = "bf16", prec: Precision | None = None,
             ideal: bool = False, overlap: str = "max", tp: int | None = None, pp: int | None = None):
    """Throughput against interactivity for one system (a device type × count) as batch grows.

    Returns a DataFrame with ``batch``, ``tokens_per_s_per_user`` (= 1 / time per output token),
    ``tokens_per_s_per_device``, ``tokens_per_s_per_kw`` and ``bound``, up to the largest batch whose KV
    cache still fits beside the weights in the placement's memory level. For an estimate-based device,
    ``*_best`` and ``*_worst`` columns give the band.
    """
    import pandas as pd

    m = get_model(model)
    dev = get_device(device)
    prec = prec or Precision.of(dtype)
    pl = place(m, dev, prec, 1, context, devices, tp, pp)
    B = np.unique(np.asarray(list(batches) if batches is not None else np.unique(np.round(np.geomspace(1, 65536, 160))),
                             dtype=float))
    need = _resident_per_device(m, prec, pl.parallel, B, context)
    B = B[need <= dev.memory[pl.home].capacity_bytes]
    if B.size == 0:
        raise CapacityError(f"{m.key} at context {context} does not fit {pl.devices} x {dev.key} even at batch 1")
    shapes = {"b": B, "s": np.full_like(B, context)}
    r = _run(m, dev, "decode", prec, pl, shapes, ideal, overlap, "nominal")
    t = r["time_s"]
    power = dev.power_w
    df = pd.DataFrame({
        "model": m.key, "device": dev.key, "devices": pl.devices, "context": context, "batch": B.astype(np.int64),
        "tpot_s": t, "tokens_per_s_per_user": 1.0 / t, "tokens_per_s": B / t,
        "tokens_per_s_per_device": B / t / pl.devices,
        "tokens_per_s_per_kw": (B / t / (pl.devices * power / 1e3)) if power else np.nan,
        "bound": r["bound"],
    })
    if dev.is_estimate:  # the frontier of an estimate-based device is a band: best and worst corners
        for w in ("best", "worst"):
            tw = _run(m, dev, "decode", prec, pl, shapes, ideal, overlap, w)["time_s"]
            df[f"tokens_per_s_per_user_{w}"] = 1.0 / tw
            df[f"tokens_per_s_per_device_{w}"] = B / tw / pl.devices
    return df


def _systems(model, devices, prec, device_counts, context_min):
    from .sizes import place

    for dev in devices:
        counts = device_counts or [place(model, dev, prec, 1, int(context_min)).devices]
        for n in counts:
            yield dev, place(model, dev, prec, 1, 1, devices=int(n))


def llm_sweep_chunks(model, devices: Sequence[str | Device] | str | Device, batch, context,
                     device_counts: Sequence[int] | None = None, dtype: str = "bf16", prec=None, ideal: bool = False,
                     overlap: str = "max", phase: str = "decode", chunk: int = 1 << 20):
    """Yield tidy DataFrames of at most ``chunk`` rows covering batch × context × device count × device."""
    import pandas as pd

    from .inference import _run
    from .loader import get_model
    from .precision import Precision

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

