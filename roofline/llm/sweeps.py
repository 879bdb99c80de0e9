"""LLM sweeps as tidy DataFrames: decode (or prefill) time over batch × context × system, the
throughput–interactivity frontier, and grids beyond memory (chunked, written to Parquet, or reduced).

Every frame follows one column contract, :data:`COLUMNS`: the names, units and order of the columns are
written there once, and each sweep's frame is built from it (a sweep fills the columns it computes, in
the contract's order). An estimate-based device adds the best and worst corners of a sweep's
:data:`CORNER_FIELDS` as ``<field>_best`` and ``<field>_worst`` columns (:meth:`roofline.vocab.Ranged.to_columns`
spells them the same way). No Python loop runs over grid points: the loops are over devices and device
counts, whose placements change the expressions' structure.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from types import MappingProxyType
from typing import Iterable, Mapping, Sequence

import numpy as np

from .. import formulas
from ..errors import CapacityError, InputError
from ..hardware.device import Device
from ..hardware.library import get_device
from ..hardware.measured import device_for
from ..placement.layout import Placement, layout_candidates
from ..sweep.chunks import _bar, _n_points, _pareto, evaluate_dask, grid_chunks  # noqa: F401 (old roofline.bigsweep path)
from ..vocab import Corner, Phase
from .config import ModelConfig
from .inference import _price, _run, step_batch
from .loader import get_model
from .precision import Precision
from .sizes import ModelDemand, place
from .sizes import resident_bytes_per_device as _resident_per_device
from .speculative import Speculation, SpeculativePlacement, place_speculative, speculative_step
from .speculative import resident_bytes as _speculative_resident

__all__ = ['Column', 'COLUMNS', 'CORNER_FIELDS', 'decode_sweep', 'frontier', 'llm_sweep_chunks',
           'llm_sweep_to_parquet', 'llm_sweep_reduce']


@dataclass(frozen=True)
class Column:
    """One column of an LLM sweep frame: its unit (``""`` for a label or a flag) and its meaning."""

    unit: str
    meaning: str


#: The column contract of every LLM sweep frame, in order. A frame holds the columns its sweep computes,
#: in this order: :func:`decode_sweep` (model … pp, batch, context, time_s, tokens_per_s_per_user,
#: tokens_per_s, bound, fits, level, the cost columns and the layout), :func:`frontier` (model, device,
#: devices, batch, context, tpot_s, the four rates, bound, the cost columns and the layout of each point),
#: :func:`llm_sweep_chunks` (model, device, devices, batch, context, time_s, three rates, bound, fits).
COLUMNS: Mapping[str, Column] = MappingProxyType({
    "model": Column("", "model key"),
    "device": Column("", "device key"),
    "devices": Column("1", "devices in the system"),
    "tp": Column("1", "tensor-parallel degree"),
    "pp": Column("1", "pipeline stages"),
    "batch": Column("1", "sequences in flight"),
    "context": Column("1", "tokens in the KV cache (decode) or prompt tokens per sequence (prefill)"),
    "time_s": Column("s", "time of one step (with speculation: its draft steps and its verify step); NaN where "
                          "the resident set does not fit"),
    "tpot_s": Column("s", "time per output token (one decode step)"),
    "tokens_per_step": Column("1", "tokens each sequence gets per step: 1, or with speculation the expected "
                                   "accepted drafts plus one"),
    "draft_time_s": Column("s", "with speculation: the draft steps of one step"),
    "verify_time_s": Column("s", "with speculation: the verify step of gamma + 1 tokens per sequence"),
    "tokens_per_s_per_user": Column("1/s", "tokens each sequence gets per second: tokens per step / time"),
    "tokens_per_s": Column("1/s", "tokens the system produces per second: batch x tokens per step / time"),
    "tokens_per_s_per_device": Column("1/s", "tokens per second per device"),
    "tokens_per_s_per_kw": Column("1/(s kW)", "tokens per second per kilowatt of device power"),
    "bound": Column("", "the time term that binds; 'capacity' where the resident set does not fit"),
    "fits": Column("", "the resident set fits the placement's memory level"),
    "level": Column("", "the memory level holding the resident set"),
    "tokens_per_s_per_mw": Column("1/(s MW)", "tokens per second per megawatt of device power; NaN without a "
                                  "power figure"),
    "usd_per_million_tokens": Column("USD", "what a million generated tokens cost at the price per device-hour "
                                     "(given, or the price table's); NaN without a price"),
    "layout": Column("", "the layout of the point: tp, pp, dp, ep, attention (and micro-batches, imbalance)"),
})

#: Per sweep, the columns whose best and worst corners an estimate-based device adds (in this order, the
#: best corner's first): ``<field>_best``, then ``<field>_worst``.
CORNER_FIELDS: Mapping[str, tuple[str, ...]] = MappingProxyType({
    "decode_sweep": ("time_s", "tokens_per_s_per_user", "tokens_per_s"),
    "frontier": ("tokens_per_s_per_user", "tokens_per_s_per_device"),
    "llm_sweep_chunks": (),
})

_CORNERS = (Corner.BEST, Corner.WORST)


def _frame(values: Mapping[str, object], corners: Mapping[Corner, Mapping[str, object]] | None = None):
    """A DataFrame of ``values`` in the order of :data:`COLUMNS`, then the corner columns."""
    import pandas as pd

    unknown = set(values) - set(COLUMNS)
    if unknown:
        raise KeyError(f"columns outside the sweep contract: {', '.join(sorted(unknown))}")
    df = pd.DataFrame({k: values[k] for k in COLUMNS if k in values})
    for corner, cols in (corners or {}).items():
        for name, v in cols.items():
            df[f"{name}_{corner}"] = v
    return df


def _cost_columns(dev: Device, devices: int, tokens_per_s, price) -> dict:
    """The cost columns at the nominal price and power (:func:`roofline.formulas.usd_per_million_tokens`,
    :func:`roofline.formulas.tokens_per_s_per_mw`); NaN where the device has no price or no power."""
    usd = _price(dev, price)[0]
    return {"tokens_per_s_per_mw": formulas.tokens_per_s_per_mw(tokens_per_s, dev.power_w, devices)
            if dev.power_w else np.nan,
            "usd_per_million_tokens": formulas.usd_per_million_tokens(usd.nominal, devices, tokens_per_s)
            if usd is not None else np.nan}
def _with_attrs(df, model: str, devices, **extra):
    """``df`` with its metadata in ``attrs``: the model, the devices, and each column's unit (from
    :data:`COLUMNS`; a corner column has its field's unit)."""
    units = {}
    for c in df.columns:
        base = c.rsplit("_", 1)[0] if c.endswith(("_best", "_worst")) else c
        if base in COLUMNS and COLUMNS[base].unit:
            units[c] = COLUMNS[base].unit
    df.attrs.update(model=model, devices=list(devices), units=units, **extra)
    return df


def _phase(phase) -> Phase:
    if phase not in (Phase.PREFILL, Phase.DECODE):
        raise InputError(f"unknown phase {phase!r}; expected 'prefill' or 'decode'")
    return Phase(phase)


def _devices(devices) -> list[Device]:
    return [get_device(d) for d in ([devices] if isinstance(devices, (str, Device)) else devices)]


def _points(m: ModelConfig, dev: Device, prec: Precision, pl: Placement, phase: Phase, b, s, ideal, overlap,
            corner: Corner = Corner.NOMINAL):
    """Evaluate a step at the points ``(b, s)`` (``b`` sequences in the whole system): ``(time, fits, bound)``,
    time NaN where it does not fit. A decode step's time is the pipeline's cycle with its micro-batches."""
    par = pl.parallel
    r = _run(m, dev, phase, prec, pl, {"b": step_batch(par, b), phase.length_symbol: s}, ideal, overlap, corner)
    t = formulas.pipeline_cycle_time(r["time_s"], par.pp, par.micro_batches) if phase is Phase.DECODE else r["time_s"]
    fits = _resident_per_device(m, prec, par, b, s) <= dev.memory[pl.home].capacity_bytes
    return np.where(fits, t, np.nan), fits, np.where(fits, r["bound"], "capacity")


# ------------------------------------------------------------------------------------------------------
# in memory
# ------------------------------------------------------------------------------------------------------
def decode_sweep(model: str | ModelConfig, devices: Sequence[str | Device] | str | Device, batch, context,
                 device_counts: Sequence[int] | None = None, dtype: str = "bf16", prec: Precision | None = None,
                 ideal: bool = False, overlap: str = "max", phase: str = "decode", ranges: bool = True,
                 speculation: Speculation | None = None, price=None, **layout):
    """Decode (or prefill) time over a grid of batch × context × device count × device, as a tidy DataFrame.

    Parameters
    ----------
    model : str or ModelConfig
    devices : str, Device or sequence of them
    batch : array_like
        Sequences in flight [1].
    context : array_like
        Tokens in the KV cache (decode) or prompt tokens (prefill) [1].
    device_counts : sequence of int, optional
        Devices per system [1]; default the fewest that hold the model at batch 1.
    dtype : str
        The data type of everything, when ``prec`` is not given.
    prec : Precision, optional
    ideal, overlap : bool, str
        Leave out latency and overhead terms; ``max`` or ``sum``.
    phase : str
        ``decode`` or ``prefill``.
    ranges : bool
        Add the best and worst corners of an estimate-based device.
    price : float or mapping of str to float, optional
        Price per device-hour [USD/h] (or one per device key); default the price table's.
    speculation : Speculation, optional
        Speculative decoding (decode only): each step drafts and verifies
        (:func:`roofline.llm.speculative.speculative_step`).
    **layout
        ``tp``, ``pp``, ``dp``, ``ep``, ``attention``, ``micro_batches``, ``imbalance`` (:func:`place`).

    Returns
    -------
    pandas.DataFrame
        One row per point, the :data:`COLUMNS` model, device, devices, tp, pp, batch, context, time_s [s]
        (NaN where the resident set does not fit the placement's level), tokens_per_s_per_user [1/s],
        tokens_per_s [1/s], bound (categorical), fits, level, tokens_per_s_per_mw [1/(s MW)],
        usd_per_million_tokens [USD] (nominal price and power); with speculation also tokens_per_step [1],
        draft_time_s and verify_time_s [s]; estimate-based devices add ``time_s_best`` and ``time_s_worst``
        [s], and the best and worst corners of the two rates [1/s]. ``attrs`` holds the model, the devices,
        the phase and each column's unit.
    """
    import pandas as pd

    m = get_model(model)
    prec = prec or Precision.of(dtype)
    ph = _phase(phase)
    B, S = (np.asarray(x, dtype=float).ravel() for x in (batch, context))
    if np.any(B <= 0) or np.any(S <= 0):
        raise InputError("batch and context must be positive")
    bb, ss = (x.ravel() for x in np.meshgrid(B, S, indexing="ij"))
    if speculation is not None and ph is not Phase.DECODE:
        raise InputError("speculative decoding changes the decode step; a prefill sweep has none")
    frames = [_sweep_frame(m, device_for(dev, ideal), prec, None if n is None else int(n), int(S.min()), ph, bb, ss,
                           ideal, overlap, ranges, speculation, price, layout)
              for dev in _devices(devices) for n in (device_counts or [None])]
    return _with_attrs(pd.concat(frames, ignore_index=True), m.key, [d.key for d in _devices(devices)],
                       phase=str(ph), ideal=ideal, weight_dtype=prec.weights)


def _place_system(m: ModelConfig, dev: Device, prec: Precision, n: int | None, context_min: int,
                  spec: Speculation | None, layout: Mapping | None = None
                  ) -> tuple[Placement, SpeculativePlacement | None]:
    """The target's placement on ``n`` devices (None: the fewest that hold it) and, with speculation, the draft's."""
    ctx = 1 if n else context_min
    layout = {k: v for k, v in (layout or {}).items() if v is not None}
    if spec is None:
        return place(m, dev, prec, 1, ctx, devices=n, **layout), None
    if layout:
        raise InputError("speculative decoding is estimated on the default layouts: drop the layout options")
    spl = place_speculative(m, dev, prec, spec, 1, ctx, devices=n)
    return spl.target, spl


def _speculative_points(m, dev: Device, prec, spl: SpeculativePlacement, spec: Speculation, b, s, ideal, overlap,
                        corner: Corner = Corner.NOMINAL) -> dict:
    """A speculative step at the points ``(b, s)``: times NaN and bound ``capacity`` where target and draft do
    not fit."""
    st = speculative_step(m, dev, prec, spl, spec, b, s, ideal, overlap, corner)
    fits = np.asarray(_speculative_resident(m, prec, spec, spl, b, s)) <= dev.memory[spl.target.home].capacity_bytes
    out = {k: np.where(fits, st[k], np.nan) for k in ("time_s", "draft_time_s", "verify_time_s")}
    return {**out, "fits": fits, "bound": np.where(fits, st["bound"], "capacity"),
            "tokens_per_step": st["tokens_per_step"]}


def _sweep_frame(m: ModelConfig, dev: Device, prec: Precision, n, context_min: int, ph: Phase, bb, ss, ideal, overlap,
                 ranges: bool, spec: Speculation | None, price=None, layout: Mapping | None = None):
    """The frame of one system (a device type and count) over the points ``(bb, ss)``."""
    import pandas as pd

    pl, spl = _place_system(m, dev, prec, n, context_min, spec, layout)
    if spl is None:
        t, fits, bound = _points(m, dev, prec, pl, ph, bb, ss, ideal, overlap)
        e, extra = 1.0, {}

        def at(c):
            return _points(m, dev, prec, pl, ph, bb, ss, ideal, overlap, c)[0]
    else:
        pts = _speculative_points(m, dev, prec, spl, spec, bb, ss, ideal, overlap)
        t, fits, bound, e = pts["time_s"], pts["fits"], pts["bound"], pts["tokens_per_step"]
        extra = {"tokens_per_step": e, "draft_time_s": pts["draft_time_s"], "verify_time_s": pts["verify_time_s"]}

        def at(c):
            return _speculative_points(m, dev, prec, spl, spec, bb, ss, ideal, overlap, c)["time_s"]
    tc = {c: at(c) for c in _CORNERS} if ranges and dev.is_estimate else None
    # the best time gives the best rates (tokens per step do not depend on the device's figures)
    corners = {c: {"time_s": tc[c], "tokens_per_s_per_user": e / tc[c], "tokens_per_s": bb * e / tc[c]}
               for c in _CORNERS} if tc else None
    return _frame({
        "model": m.key, "device": dev.key, "devices": spl.devices if spl else pl.devices, "tp": pl.parallel.tp,
        "pp": pl.parallel.pp, "batch": bb.astype(np.int64), "context": ss.astype(np.int64), "time_s": t, **extra,
        "tokens_per_s_per_user": e / t, "tokens_per_s": bb * e / t, "bound": pd.Categorical(bound),
        "fits": fits, "level": dev.memory[pl.home].name,
        **_cost_columns(dev, spl.devices if spl else pl.devices, bb * e / t, price),
        "layout": pl.parallel.describe()}, corners)


def frontier(model: str | ModelConfig, device: str | Device, devices: int | None = None, context: int = 2048,
             batches: Iterable[int] | None = None, dtype: str = "bf16", prec: Precision | None = None,
             ideal: bool = False, overlap: str = "max", tp: int | None = None, pp: int | None = None,
             speculation: Speculation | None = None, price=None, envelope: bool = True, **layout):
    """Throughput against interactivity for one system (a device type × count) as batch grows: the
    envelope over the layouts the system can express, or one layout.

    Parameters
    ----------
    model : str or ModelConfig
    device : str or Device
    devices : int, optional
        Devices in the system [1]; default the fewest that hold the model.
    context : int
        Tokens in the KV cache [1].
    batches : iterable of int, optional
        Batches to evaluate [1]; default 160 points from 1 to 65,536 on a log scale.
    dtype : str
        The data type of everything, when ``prec`` is not given.
    prec : Precision, optional
    ideal, overlap : bool, str
        Leave out latency terms; ``max`` or ``sum``.
    tp, pp : int, optional
        Force the layout [1].
    price : float or mapping of str to float, optional
        Price per device-hour [USD/h] (or one per device key); default the price table's.
    speculation : Speculation, optional
        Speculative decoding: ``tpot_s`` is a step's time over its tokens; ``devices`` counts a draft's own.
    envelope : bool
        Without a forced layout or speculation, the upper envelope of every layout's frontier
        (:func:`roofline.placement.layout_candidates`: tensor-parallel degrees, replicas, data-parallel
        attention, pipelines with micro-batches); otherwise the default placement's.
    **layout
        ``dp``, ``ep``, ``attention``, ``micro_batches``, ``imbalance``: force the layout.

    Returns
    -------
    pandas.DataFrame
        The :data:`COLUMNS` model, device, devices, batch, context, tpot_s [s], tokens_per_s_per_user
        (= 1 / tpot), tokens_per_s, tokens_per_s_per_device [1/s], tokens_per_s_per_kw [1/(s kW)], bound,
        tokens_per_s_per_mw [1/(s MW)], usd_per_million_tokens [USD] and the layout of each point, up to the
        largest batch that fits. For an estimate-based device, ``*_best`` / ``*_worst`` per-user and per-device
        rates give the band.

    Raises
    ------
    CapacityError
        When even batch 1 does not fit.
    """
    m = get_model(model)
    dev = device_for(get_device(device), ideal)  # not ideal: the estimate, on measured ceilings
    prec = prec or Precision.of(dtype)
    forced = speculation is not None or tp or pp or any(v is not None for v in layout.values())
    if envelope and not forced:
        return _frontier_envelope(m, dev, prec, devices, context, batches, ideal, overlap, price)
    pl, spl, n = _frontier_system(m, dev, prec, context, devices, tp, pp, speculation, layout)
    return _frontier_frame(m, dev, prec, pl, spl, n, context, batches, ideal, overlap, speculation, price)


def _frontier_frame(m, dev, prec, pl: Placement, spl, n: int, context, batches, ideal, overlap, spec, price):
    """The frontier of one placement over the batches that fit."""
    B = _fitting_batches(m, dev, prec, pl, context, batches, spec, spl)
    tpot, bound = _frontier_tpot(m, dev, prec, pl, spl, spec, B, context, ideal, overlap, Corner.NOMINAL)
    power = dev.power_w
    corners = None
    if dev.is_estimate:  # the frontier of an estimate-based device is a band: best and worst corners
        tw = {c: _frontier_tpot(m, dev, prec, pl, spl, spec, B, context, ideal, overlap, c)[0] for c in _CORNERS}
        corners = {c: {"tokens_per_s_per_user": 1.0 / tw[c], "tokens_per_s_per_device": B / tw[c] / n}
                   for c in _CORNERS}
    return _with_attrs(_frame({
        "model": m.key, "device": dev.key, "devices": n, "context": context, "batch": B.astype(np.int64),
        "tpot_s": tpot, "tokens_per_s_per_user": 1.0 / tpot, "tokens_per_s": B / tpot,
        "tokens_per_s_per_device": B / tpot / n,
        "tokens_per_s_per_kw": (B / tpot / (n * power / 1e3)) if power else np.nan,
        "bound": bound, **_cost_columns(dev, n, B / tpot, price), "layout": pl.parallel.describe()}, corners),
        m.key, [dev.key], system=f"{n} × {dev.key}", ideal=ideal, weight_dtype=prec.weights)


def _frontier_envelope(m, dev, prec, devices, context, batches, ideal, overlap, price):
    """The upper envelope (Pareto front of per-user and per-device rates) of every layout's frontier on the
    system: ``devices`` devices, or the fewest that hold the model."""
    import pandas as pd

    from ..placement.layout import links_for

    n = devices or place(m, dev, prec, 1, context).devices
    frames = []
    for par in layout_candidates(ModelDemand(m, prec), dev, n, context):
        par = replace(par, dp=n // par.instance_devices)
        need = float(_resident_per_device(m, prec, par, par.groups, context))
        pl = Placement(dev, par, dev.main_memory_index, links_for(dev, par, m.is_moe), need, True)
        try:
            frames.append(_frontier_frame(m, dev, prec, pl, None, n, context, batches, ideal, overlap, None, price))
        except CapacityError:
            continue
    if not frames:
        return _frontier_frame(m, dev, prec, place(m, dev, prec, 1, context, devices), None, n, context, batches,
                               ideal, overlap, None, price)
    front = _pareto(pd.concat(frames, ignore_index=True).dropna(subset=["tokens_per_s_per_user"]))
    front = front.sort_values("tokens_per_s_per_user", ascending=False).reset_index(drop=True)
    return _with_attrs(front, m.key, [dev.key], system=f"{n} × {dev.key}", ideal=ideal, weight_dtype=prec.weights)


def _frontier_system(m, dev, prec, context, devices, tp, pp, spec, layout: Mapping | None = None):
    """The target's placement, the speculative one (or None) and the devices of the whole system."""
    if spec is None:
        pl = place(m, dev, prec, 1, context, devices, tp, pp, **(layout or {}))
        return pl, None, pl.devices
    spl = place_speculative(m, dev, prec, spec, 1, context, devices, tp, pp)
    return spl.target, spl, spl.devices


def _frontier_tpot(m, dev, prec, pl: Placement, spl, spec, B, context, ideal, overlap, corner):
    """Time per output token at the batches ``B`` (a decode step, or a speculative step over its tokens),
    and the binding term."""
    if spl is None:
        par = pl.parallel
        r = _run(m, dev, Phase.DECODE, prec, pl, {"b": step_batch(par, B), "s": np.full_like(B, context)}, ideal,
                 overlap, corner)
        return formulas.pipeline_cycle_time(r["time_s"], par.pp, par.micro_batches), r["bound"]
    st = speculative_step(m, dev, prec, spl, spec, B, np.full_like(B, context), ideal, overlap, corner)
    return st["tpot_s"], st["bound"]


def _fitting_batches(m: ModelConfig, dev: Device, prec: Precision, pl: Placement, context: int, batches,
                     spec: Speculation | None = None, spl: SpeculativePlacement | None = None):
    """The batches (default 160 from 1 to 65,536 on a log scale) whose KV cache fits beside the weights
    (and the draft's)."""
    B = np.unique(np.asarray(list(batches) if batches is not None else np.unique(np.round(np.geomspace(1, 65536, 160))),
                             dtype=float))
    held = _resident_per_device(m, prec, pl.parallel, B, context) if spl is None \
        else _speculative_resident(m, prec, spec, spl, B, context)
    B = B[np.asarray(held) <= dev.memory[pl.home].capacity_bytes]
    if B.size == 0:
        raise CapacityError(f"{m.key} at context {context} does not fit {pl.devices} x {dev.key} even at batch 1")
    return B


# ------------------------------------------------------------------------------------------------------
# beyond memory
# ------------------------------------------------------------------------------------------------------
def _systems(model, devices, prec, device_counts, context_min):
    for dev in devices:
        counts = device_counts or [place(model, dev, prec, 1, int(context_min)).devices]
        for n in counts:
            yield dev, place(model, dev, prec, 1, 1, devices=int(n))


def llm_sweep_chunks(model, devices: Sequence[str | Device] | str | Device, batch, context,
                     device_counts: Sequence[int] | None = None, dtype: str = "bf16", prec=None, ideal: bool = False,
                     overlap: str = "max", phase: str = "decode", chunk: int = 1 << 20):
    """Tidy DataFrames of at most ``chunk`` rows covering batch × context × device count × device.

    Parameters
    ----------
    model : str or ModelConfig
    devices : str, Device or sequence of them
    batch, context : array_like
        Sequences in flight and tokens per sequence [1].
    device_counts : sequence of int, optional
        Devices per system [1].
    dtype : str
        The data type of everything, when ``prec`` is not given.
    prec : Precision, optional
    ideal : bool
        Leave out latency and overhead terms.
    overlap : str
        ``max`` or ``sum``.
    phase : str
        ``decode`` or ``prefill``.
    chunk : int
        Points per frame [1].

    Yields
    ------
    pandas.DataFrame
        The :data:`COLUMNS` model, device, devices, batch, context, time_s [s], tokens_per_s_per_user,
        tokens_per_s, tokens_per_s_per_device [1/s], bound, fits.
    """
    m = get_model(model)
    prec = prec or Precision.of(dtype)
    ph = _phase(phase)
    B = np.asarray(batch, dtype=float).ravel()
    S = np.asarray(context, dtype=float).ravel()
    if B.size == 0 or S.size == 0 or np.any(B <= 0) or np.any(S <= 0):
        raise InputError("batch and context must be non-empty lists of positive values")
    for dev, pl in _systems(m, [device_for(d, ideal) for d in _devices(devices)], prec, device_counts, S.min()):
        for g in grid_chunks({"batch": B, "context": S}, chunk):
            b, s = g["batch"], g["context"]
            t, fits, bound = _points(m, dev, prec, pl, ph, b, s, ideal, overlap)
            yield _frame({
                "model": m.key, "device": dev.key, "devices": pl.devices, "batch": b.astype(np.int64),
                "context": s.astype(np.int64), "time_s": t, "tokens_per_s_per_user": 1.0 / t,
                "tokens_per_s": b / t, "tokens_per_s_per_device": b / t / pl.devices, "bound": bound, "fits": fits})


def llm_sweep_to_parquet(path, model, devices, batch, context, device_counts=None, dtype: str = "bf16",
                         ideal: bool = False, phase: str = "decode", chunk: int = 1 << 20, progress: bool = True) -> int:
    """Evaluate the grid chunk by chunk and append each chunk to the Parquet file ``path``.

    Memory stays at one chunk whatever the grid's size; each chunk is one row group. The chunks go to a
    temporary file beside ``path``, renamed over it only once the last chunk is written
    (:func:`roofline._paths.atomic_output`): an interrupted sweep leaves an earlier file at ``path`` whole and
    no partial one. The file's key-value metadata records the grid (``roofline.grid``, JSON) and the row
    count (``roofline.rows``).

    Parameters
    ----------
    path : str or os.PathLike
        The Parquet file to write.
    model : str or ModelConfig
    devices : str, Device or sequence of them
    batch, context : array_like
        [1].
    device_counts : sequence of int, optional
        [1].
    dtype : str
    ideal : bool
    phase : str
        ``decode`` or ``prefill``.
    chunk : int
        Points per row group [1].
    progress : bool
        Show a progress bar (tqdm) on stderr.

    Returns
    -------
    int
        Rows written [1]; the columns are those of :func:`llm_sweep_chunks`.
    """
    try:
        import pyarrow.parquet  # noqa: F401
    except ImportError:
        raise InputError("writing Parquet needs pyarrow: pip install 'roofline[parquet]'") from None
    from .._paths import atomic_output

    bar = _bar(_n_points(batch, context, devices, device_counts), progress)
    grid = _grid_metadata(model, devices, batch, context, device_counts, dtype, ideal, phase)
    frames = llm_sweep_chunks(model, devices, batch, context, device_counts, dtype, ideal=ideal, phase=phase,
                              chunk=chunk)
    try:
        with atomic_output(path) as tmp:  # renamed over `path` only when every chunk is written
            return _write_chunks(tmp, frames, bar, grid)
    finally:
        bar.close()


def _write_chunks(tmp, frames, bar, grid: str) -> int:
    """Append each frame to the Parquet file ``tmp`` as a row group; record the grid and the row count."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    writer = None
    rows = 0
    try:
        for df in frames:
            df["bound"] = df["bound"].astype(str)
            table = pa.Table.from_pandas(df, preserve_index=False)
            if writer is None:
                writer = pq.ParquetWriter(str(tmp), table.schema)
            writer.write_table(table)
            rows += len(df)
            bar.update(len(df))
        if writer is not None and hasattr(writer, "add_key_value_metadata"):  # pyarrow >= 13
            writer.add_key_value_metadata({"roofline.grid": grid, "roofline.rows": str(rows)})
    finally:
        if writer is not None:
            writer.close()
    return rows


def _grid_metadata(model, devices, batch, context, device_counts, dtype, ideal, phase) -> str:
    """The grid of a Parquet sweep as JSON, for its key-value metadata."""
    import json

    names = lambda xs: [getattr(x, "key", x) for x in (xs if isinstance(xs, (list, tuple)) else [xs])]  # noqa: E731

    def ints(xs):  # an axis: its values, or its size and ends when it is long
        if xs is None:
            return None
        v = np.asarray(xs).ravel()
        return [int(x) for x in v] if v.size <= 256 else {"n": int(v.size), "min": int(v.min()), "max": int(v.max())}

    return json.dumps({"model": getattr(model, "key", model), "devices": names(devices), "batch": ints(batch),
                       "context": ints(context), "device_counts": ints(device_counts), "dtype": dtype,
                       "ideal": bool(ideal), "phase": str(phase)})


def llm_sweep_reduce(model, devices, batch, context, device_counts=None, dtype: str = "bf16", ideal: bool = False,
                     reduce: str = "best", min_tokens_per_s_per_user: float = 0.0, chunk: int = 1 << 20,
                     progress: bool = False):
    """Fold a grid of any size into a small result without holding its points.

    Parameters
    ----------
    model : str or ModelConfig
    devices : str, Device or sequence of them
    batch, context : array_like
        [1].
    device_counts : sequence of int, optional
        [1].
    dtype : str
    ideal : bool
    reduce : str
        ``best``: per system (device × count), the point of highest tokens/s per device among those that fit
        and give each user at least ``min_tokens_per_s_per_user``. ``pareto``: per system, the Pareto
        frontier of (tokens/s per user, tokens/s per device), merged chunk by chunk.
    min_tokens_per_s_per_user : float
        [1/s].
    chunk : int
        Points per chunk [1].
    progress : bool
        Show a progress bar.

    Returns
    -------
    pandas.DataFrame
        Rows of :func:`llm_sweep_chunks` (empty, without columns, when no point qualifies).
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
            kept[(dev, n)] = _fold(kept.get((dev, n)), g, reduce)
    bar.close()
    if not kept:
        return pd.DataFrame()
    return pd.concat(kept.values(), ignore_index=True)


def _fold(prev, g, reduce: str):
    """Merge one chunk's rows of a system into what is kept of it."""
    import pandas as pd

    if reduce == "best":
        cand = g.loc[[g.tokens_per_s_per_device.idxmax()]]
        if prev is None or cand.tokens_per_s_per_device.iloc[0] > prev.tokens_per_s_per_device.iloc[0]:
            return cand
        return prev
    return _pareto(g if prev is None else pd.concat([prev, g]))
