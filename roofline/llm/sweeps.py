"""LLM sweeps as tidy DataFrames: decode (or prefill) time over batch × context × system, the
throughput–interactivity frontier, and grids beyond memory (chunked, written to Parquet, or reduced).

Every frame follows one column contract, :data:`COLUMNS`: the names, units and order of the columns are
written there once, and each sweep's frame is built from it (a sweep fills the columns it computes, in
the contract's order). An estimate-based device adds the best and worst corners of a sweep's
:data:`CORNER_FIELDS` as ``<field>_best`` and ``<field>_worst`` columns (:meth:`roofline.vocab.Ranged.to_columns`
spells them the same way). No Python loop runs over grid points: the loops are over devices and device
counts, whose placements change the expressions' structure, and over chunks of points.

One entry point, :func:`decode_sweep`, serves every size: its chunks (spread over every core for large
grids) fill the frame's columns in place, stream to a CSV or Parquet file (``out=``) or fold into the best
rows (``reduce=``); an in-memory frame beyond ``ROOFLINE_MEMORY_BUDGET`` is refused with that advice.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field, replace
from functools import lru_cache
from types import MappingProxyType
from typing import Iterable, Mapping, Sequence

import numpy as np

from .. import formulas
from ..errors import CapacityError, InputError
from ..hardware.device import Device
from ..hardware.library import get_device
from ..hardware.measured import device_for
from ..placement.layout import Placement, layout_candidates
from ..sweep.chunks import _bar, _n_points, _pareto, check_budget, columns, evaluate_dask, grid_chunks, pipeline, \
    spans, sweep_workers  # noqa: F401 (grid_chunks, evaluate_dask, _n_points: the old roofline.bigsweep path)
from ..sweep.writer import FrameWriter, arrow_array, arrow_labels, frame_format
from ..vocab import Corner, Mode, Phase
from .config import ModelConfig
from .inference import _compiled, _price, _run, step_batch
from .loader import get_model
from .precision import Precision
from .sizes import ModelDemand, place
from .sizes import resident_bytes_per_device as _resident_per_device
from .speculative import Speculation, SpeculativePlacement, place_speculative, speculative_step
from .speculative import resident_bytes as _speculative_resident

__all__ = ['Column', 'COLUMNS', 'CORNER_FIELDS', 'CORNER_RATES', 'CHUNK', 'with_corner_rates', 'decode_sweep',
           'frontier', 'llm_sweep_chunks', 'llm_sweep_to_parquet', 'llm_sweep_reduce', 'row_bytes']


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
#: Integers: batch and context as int64 (their products — tokens in flight, KV-cache entries — pass 2^31 in
#: ordinary sweeps, and NumPy wraps a narrower product silently), devices, tp and pp as int32; in Parquet too.
#: The labels (bound, model, device, level, layout) are pandas categoricals (one-byte codes); the columns
#: that hold one value per system are also in the frame's ``attrs``: ``attrs["constants"]`` those equal on
#: every row, ``attrs["systems"]`` each system's (with the rows it covers and its binding-term labels), and
#: ``attrs["units"]`` each column's unit from this contract.
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
    "decode_sweep": ("time_s",),
    "frontier": ("tokens_per_s_per_user", "tokens_per_s_per_device"),
    "llm_sweep_chunks": (),
})

#: The rates of :func:`decode_sweep` at the best and worst corners: tokens per step over ``time_s_<corner>``
#: and ``batch`` times that, pure functions of the stored columns. A frame holds them only when asked
#: (``decode_sweep(..., ranges="rates")``: after each corner's ``time_s_<corner>``);
#: :func:`with_corner_rates` adds them to a frame that does not.
CORNER_RATES = ("tokens_per_s_per_user", "tokens_per_s")

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


def with_corner_rates(df):
    """A :func:`decode_sweep` frame with its :data:`CORNER_RATES` at the best and worst corners, each
    after its corner's ``time_s_<corner>`` (the frame itself when it has them, or has no corners).

    The frame stores the time at each corner; the rates there are pure functions of it, as in the nominal
    columns: ``tokens_per_s_per_user_<corner> = tokens_per_step / time_s_<corner>`` (one token per step
    without speculation) and ``tokens_per_s_<corner> = batch × tokens_per_s_per_user_<corner>``. NaN
    where the point does not fit. ``decode_sweep(..., ranges="rates")`` stores them as it runs.

    Parameters
    ----------
    df : pandas.DataFrame
        A frame of :func:`decode_sweep`.

    Returns
    -------
    pandas.DataFrame
        A new frame (columns shared, not copied) with the rates [1/s] and their units in ``attrs``.
    """
    if "batch" not in df.columns or any(f"time_s_{c}" not in df.columns or f"tokens_per_s_{c}" in df.columns
                                        for c in _CORNERS):
        return df
    out = df.copy(deep=False)
    out.attrs = {**df.attrs, "units": dict(df.attrs.get("units", {}))}
    e = df["tokens_per_step"].to_numpy() if "tokens_per_step" in df.columns else 1.0
    b = df["batch"].to_numpy()
    for c in _CORNERS:
        user = np.divide(e, df[f"time_s_{c}"].to_numpy())
        at = out.columns.get_loc(f"time_s_{c}") + 1
        for i, (name, v) in enumerate(zip(CORNER_RATES, (user, np.multiply(b, user)))):
            out.insert(at + i, f"{name}_{c}", v)
            out.attrs["units"][f"{name}_{c}"] = COLUMNS[name].unit
    return out


def _cost_columns(dev: Device, devices: int, tokens_per_s, price) -> dict:
    """The cost columns at the nominal price and power (:func:`roofline.formulas.usd_per_million_tokens`,
    :func:`roofline.formulas.tokens_per_s_per_mw`); NaN where the device has no price or no power."""
    usd = _price(dev, price)[0]
    return {"tokens_per_s_per_mw": formulas.tokens_per_s_per_mw(tokens_per_s, dev.power_w, devices)
            if dev.power_w else np.nan,
            "usd_per_million_tokens": formulas.usd_per_million_tokens(usd.nominal, devices, tokens_per_s)
            if usd is not None else np.nan}


def _with_attrs(df, model: str, devices, **extra):
    """``df`` with its labels as categoricals (the binding term, model, device, level, layout) and its
    metadata in ``attrs``: the model, the devices, each column's unit (from :data:`COLUMNS`; a corner column
    has its field's unit) and the per-system columns that hold one value throughout (``constants``)."""
    units = {}
    for c in df.columns:
        base = c.rsplit("_", 1)[0] if c.endswith(("_best", "_worst")) else c
        if base in COLUMNS and COLUMNS[base].unit:
            units[c] = COLUMNS[base].unit
    for c in ("bound", *_CATEGORICAL):
        if c in df.columns and df[c].dtype != "category":
            df[c] = df[c].astype("category")
    const = {c: (df[c].iloc[0].item() if hasattr(df[c].iloc[0], "item") else df[c].iloc[0])
             for c in _CONSTANT if c in df.columns and len(df) and df[c].nunique(dropna=False) == 1}
    df.attrs.update(model=model, devices=list(devices), units=units, constants=const, **extra)
    return df


def _phase(phase) -> Phase:
    if phase not in (Phase.PREFILL, Phase.DECODE):
        raise InputError(f"unknown phase {phase!r}; expected 'prefill' or 'decode'")
    return Phase(phase)


def _devices(devices) -> list[Device]:
    return [get_device(d) for d in ([devices] if isinstance(devices, (str, Device)) else devices)]


# ------------------------------------------------------------------------------------------------------
# one plan, evaluated in chunks: in memory, to a file, or folded
# ------------------------------------------------------------------------------------------------------
#: points per chunk of a sweep. In memory, a chunk writes straight into the frame's columns and its own
#: temporaries are its batch and context (16 B a point, reused by its thread) and blocks of the fit test,
#: so memory holds the result plus 2 MB per thread; a chunk written to a file or folded holds its rows
#: (about 100 B a point) until then. Each chunk costs about 0.1 ms of Python, during which another thread
#: that wants the GIL waits: with 2^16 points on two threads the threads waited about 7 ms of a 30 ms sweep
#: (2-core reference machine, 10^6 rows), with 2^17 about 4 ms [1]
CHUNK = 1 << 17
#: points per chunk of an in-memory sweep evaluated by NumPy alone (numba not installed or turned off): each
#: thread then holds its chunk's outputs and the NumPy blocks' temporaries, ~21 MiB at 2^17 points and about
#: half at 2^16 (a 4 x 10^6-point sweep with ranges peaks at 97.6 B a point against 100.8, for ~8 % of its
#: speed; 2-core reference machine, 2026-11-30) [1]
CHUNK_NUMPY = 1 << 16

#: the per-system columns, held once per system: one-byte categorical codes (model, device, level, layout)
#: or small integers (devices, tp, pp), their values in ``attrs["systems"]``
_CONSTANT = ("model", "device", "devices", "tp", "pp", "level", "layout")
_CATEGORICAL = ("model", "device", "level", "layout")


@dataclass
class _System:
    """One system of a sweep (a device type, a count, a layout): its placement, compiled step, figures per
    corner (nominal first) and the map from its binding-term labels to the sweep's bound categories."""

    dev: Device
    pl: Placement
    spl: SpeculativePlacement | None
    corners: tuple
    cw: object = None
    figs: list = field(default_factory=list)
    caps: list = field(default_factory=list)
    lut: np.ndarray | None = None
    lut8: np.ndarray | None = None
    usd: float | None = None

    @property
    def devices(self) -> int:
        """Devices of the whole system (a speculative draft's own included) [1]."""
        return self.spl.devices if self.spl else self.pl.devices

    @property
    def ranges(self) -> bool:
        return len(self.corners) > 1

    def constants(self, model: str) -> dict:
        """The system's constant columns."""
        return {"model": model, "device": self.dev.key, "devices": self.devices, "tp": self.pl.parallel.tp,
                "pp": self.pl.parallel.pp, "level": self.dev.memory[self.pl.home].name,
                "layout": self.pl.parallel.describe()}


@dataclass
class _Plan:
    """What a sweep evaluates: a model in a precision, a phase and mode, the systems and the grid
    batch × context (C order: batch outer), each system's rows one after the other."""

    model: ModelConfig
    prec: Precision
    phase: Phase
    ideal: object
    overlap: str
    spec: Speculation | None
    price: object
    systems: list
    B: np.ndarray
    S: np.ndarray
    bounds: list = field(default_factory=list)
    lock: object = field(default_factory=threading.Lock)
    corner_rates: bool = False
    contexts: np.ndarray | None = None  # S sorted, each value once (the fit test's thresholds are among them)

    @property
    def per_system(self) -> int:
        return self.B.size * self.S.size

    @property
    def n(self) -> int:
        return self.per_system * len(self.systems)

    @property
    def any_corners(self) -> bool:
        return any(sy.ranges for sy in self.systems)

    @property
    def mode(self):
        from ..engine.terms import mode_of

        return self.ideal if isinstance(self.ideal, str) else mode_of(None, self.ideal)

    def code(self, label: str) -> int:
        """The bound category of ``label``, added when new (a speculative step's labels come as text)."""
        with self.lock:
            if label not in self.bounds:
                self.bounds.append(label)
            return self.bounds.index(label)

    def categories(self, column: str) -> list:
        """The categories of a constant column, in first-seen order."""
        return list(dict.fromkeys(str(sy.constants(self.model.key)[column]) for sy in self.systems))

    def columns(self) -> list[str]:
        """The frame's columns: the contract's, in its order, then the corner columns."""
        have = {"model", "device", "devices", "tp", "pp", "batch", "context", "time_s", "tokens_per_s_per_user",
                "tokens_per_s", "bound", "fits", "level", "tokens_per_s_per_mw", "usd_per_million_tokens", "layout"}
        if self.spec is not None:
            have |= {"tokens_per_step", "draft_time_s", "verify_time_s"}
        fields = CORNER_FIELDS["decode_sweep"] + (CORNER_RATES if self.corner_rates else ())
        corners = [f"{f}_{c}" for c in _CORNERS for f in fields] if self.any_corners else []
        return [c for c in COLUMNS if c in have] + corners


def _grid_values(batch, context, allow_empty: bool = True):
    B = np.asarray(batch, dtype=float).ravel()
    S = np.asarray(context, dtype=float).ravel()
    if np.any(B <= 0) or np.any(S <= 0) or (not allow_empty and (B.size == 0 or S.size == 0)):
        raise InputError("batch and context must be " + ("positive" if allow_empty
                                                         else "non-empty lists of positive values"))
    return B, S


def _plan(model, devices, batch, context, device_counts=None, dtype="bf16", prec=None, ideal=False, overlap="max",
          phase="decode", ranges=True, spec=None, price=None, layout=None, allow_empty=True) -> _Plan:
    """Resolve names, place each system, compile its step and collect the binding-term labels."""
    m = get_model(model)
    prec = prec or Precision.of(dtype)
    ph = _phase(phase)
    B, S = _grid_values(batch, context, allow_empty)
    if spec is not None and ph is not Phase.DECODE:
        raise InputError("speculative decoding changes the decode step; a prefill sweep has none")
    if ranges not in (True, False, "rates"):
        raise InputError(f"ranges must be True, False or 'rates', got {ranges!r}")
    plan = _Plan(m, prec, ph, ideal, overlap, spec, price, [], B, S, corner_rates=ranges == "rates")
    smin = int(S.min()) if S.size else 1
    for dev in (device_for(d, _datasheet(ideal)) for d in _devices(devices)):
        for n in device_counts or [None]:
            pl, spl = _place_system(m, dev, prec, None if n is None else int(n), smin, spec, layout)
            corners = (Corner.NOMINAL, *_CORNERS) if ranges and dev.is_estimate else (Corner.NOMINAL,)
            plan.systems.append(_compile_system(plan, _System(dev, pl, spl, corners)))
    plan.code("capacity")
    return plan


def _datasheet(ideal) -> bool:
    """True when the sweep reads the datasheet (the pure roofline, or the latency bound: bounds), False when
    it reads the estimate's measured ceilings (:func:`roofline.hardware.measured.device_for`)."""
    if isinstance(ideal, str):
        return Mode(ideal) in (Mode.IDEAL, Mode.LATENCY_BOUND)
    return bool(ideal)


def _compile_system(plan: _Plan, sy: _System) -> _System:
    """The system's compiled step, its figures and capacities at each corner, and its price."""
    sy.usd = _price(sy.dev, plan.price)[0]
    if sy.spl is not None:
        return sy
    sy.cw = _compiled(plan.model, sy.dev, plan.phase, plan.prec, sy.pl, False, plan.overlap)
    figures = sy.dev.figures  # only those the step reads (Device.values(c) reads every figure)
    for c in sy.corners:
        sy.figs.append([float(figures[p].at(c)) for p in sy.cw.device_paths])
        sy.caps.append([float(figures[f"memory.{lvl.name}.capacity"].at(c)) for lvl in sy.dev.memory])
    sy.lut = np.asarray([plan.code(lb) for lb in sy.cw.labels], dtype=np.int16)
    sy.lut8 = sy.lut.astype(np.int8)
    return sy


def _step_times(plan: _Plan, sy: _System, b, s, out: dict):
    """The step's time at each corner (nominal first) over the points ``(b, s)``, the nominal binding term's
    category codes, tokens per step and the speculative columns: one pass of the fused kernel over every
    corner where it pays, writing straight into the time and bound columns of ``out`` with the points that do
    not fit (``out["fits"]``) marked (:func:`roofline.engine.dispatch.sweep_call`: then the codes returned
    are ``out["bound"]``), else one NumPy pass per corner."""
    if sy.spl is not None:
        return _speculative_times(plan, sy, b, s)
    from ..engine import dispatch

    par = sy.pl.parallel
    shapes = {"b": step_batch(par, b), plan.phase.length_symbol: s}
    mode = plan.mode
    times = [out["time_s"]] + ([out[f"time_s_{c}"] for c in _CORNERS] if sy.ranges else [])
    codes = out["bound"]
    if codes.dtype != np.int8 or len(plan.bounds) > 127 or not dispatch.sweep_call(
            sy.cw, shapes, sy.figs, sy.caps, 1.0, sy.pl.home, mode, times, codes, sy.lut8,
            out["fits"], plan.bounds.index("capacity"), 1):
        times, bi = [], None
        for j, (f, c) in enumerate(zip(sy.figs, sy.caps)):
            r = sy.cw.evaluate(shapes, dict(zip(sy.cw.device_paths, f)), c, devices=1, home=sy.pl.home,
                               with_bound=j == 0, mode=mode, workers=1)
            times.append(r["time_s"])
            bi = r["bound_index"] if j == 0 else bi
        codes = sy.lut[bi]
    if plan.phase is Phase.DECODE and (par.pp > 1 or par.micro_batches > 1):
        times = [formulas.pipeline_cycle_time(t, par.pp, par.micro_batches) for t in times]
    return times, codes, 1.0, {}


def _speculative_times(plan: _Plan, sy: _System, b, s):
    """:func:`_step_times` of a speculative step (draft steps and a verify step) at each corner."""
    times, codes, e, extra = [], None, 1.0, {}
    for c in sy.corners:
        st = speculative_step(plan.model, sy.dev, plan.prec, sy.spl, plan.spec, b, s, plan.ideal, plan.overlap, c)
        times.append(np.asarray(st["time_s"], dtype=float))
        if codes is None:
            labels, inv = np.unique(np.asarray(st["bound"], dtype=str), return_inverse=True)
            codes = np.asarray([plan.code(str(lb)) for lb in labels], dtype=np.int16)[inv.reshape(-1)]
            e = st["tokens_per_step"]
            extra = {"tokens_per_step": e, "draft_time_s": st["draft_time_s"], "verify_time_s": st["verify_time_s"]}
    return times, codes, e, extra


#: points per block of the fit test, whose temporaries are a block's size: on the 2-core reference machine
#: (glibc) the 1 MB temporaries of a whole chunk of 2^17 points were given back to the system and mapped
#: anew by page faults in every chunk (2,880 faults in a 10^6-row sweep on one thread), those of 2^16 were
#: not; smaller blocks cost more calls, each of which a thread may have to wait for the GIL after [1]
_FIT_BLOCK = 1 << 16


def _fits(plan: _Plan, sy: _System, b, s, out) -> None:
    """Whether the resident set (and a draft's) fits the placement's level, into ``out``, block by block."""
    cap = sy.dev.memory[sy.pl.home].capacity_bytes
    for lo in range(0, b.size, _FIT_BLOCK):
        bb, ss = b[lo:lo + _FIT_BLOCK], s[lo:lo + _FIT_BLOCK]
        held = (_resident_per_device(plan.model, plan.prec, sy.pl.parallel, bb, ss) if sy.spl is None
                else _speculative_resident(plan.model, plan.prec, plan.spec, sy.spl, bb, ss))
        np.less_equal(held, cap, out=out[lo:lo + _FIT_BLOCK])


def _thresholds(plan: _Plan, sy: _System, r0: int, r1: int) -> np.ndarray:
    """For each batch ``B[r0:r1 + 1]``, the largest context of the grid at which the resident set fits the
    placement's level (-inf where none does), found by bisection over the sorted contexts.

    The fit test of a point is then ``context <= threshold of its batch``, the same answer as :func:`_fits`
    at every point: the resident set (:func:`roofline.llm.sizes.resident_bytes_per_device`) is built of
    sums, products and minima of non-negative terms and divisions by positive counts, each nondecreasing in
    the context in floating point too (rounding is monotone), so the contexts that fit are those up to the
    largest one that does."""
    if plan.contexts is None:
        plan.contexts = np.unique(plan.S)
    S, b = plan.contexts, plan.B[r0:r1 + 1]
    cap = sy.dev.memory[sy.pl.home].capacity_bytes
    lo, hi = np.zeros(b.size, dtype=np.intp), np.full(b.size, S.size, dtype=np.intp)  # fits below lo, not from hi
    while True:
        open_ = lo < hi
        if not open_.any():
            break
        mid = (lo + hi) // 2
        ok = _resident_per_device(plan.model, plan.prec, sy.pl.parallel, b, S[np.minimum(mid, S.size - 1)]) <= cap
        lo, hi = np.where(open_ & ok, mid + 1, lo), np.where(open_ & ~ok, mid, hi)
    return np.where(lo > 0, S[lo - 1], -np.inf)


def _fused_chunk(plan: _Plan, sy: _System, lo: int, hi: int, out: dict) -> bool:
    """System ``sy``'s rows ``lo:hi`` (its batch, context, fits, times, bound codes, rates and cost) in one
    call of the fused ``chunk`` function, which holds no lock (:func:`roofline.engine.dispatch.chunk_call`);
    False when it does not apply or pay (nothing written): a speculative step, a pipelined decode step (its
    times are a pipeline's cycle), corner rates asked for, other shapes than batch and context."""
    par, names = sy.pl.parallel, sy.cw.shape_names if sy.cw is not None else ()
    if (sy.spl is not None or plan.corner_rates or out["bound"].dtype != np.int8 or len(plan.bounds) > 127
            or not set(names) <= {"b", plan.phase.length_symbol}
            or (plan.phase is Phase.DECODE and (par.pp > 1 or par.micro_batches > 1))):
        return False
    from ..engine import dispatch

    nS, share = plan.S.size, par.groups * par.micro_batches  # the shape b: step_batch's share of the batch
    b, s = _scratch(hi - lo)
    grid = (plan.B, plan.S, _thresholds(plan, sy, lo // nS, (hi - 1) // nS), lo,
            np.asarray([0 if x == "b" else 1 for x in names], dtype=np.int64),
            np.asarray([float(share) if x == "b" and share > 1 else 1.0 for x in names]), out["batch"], out["context"])
    power = sy.dev.power_w
    post = (out["tokens_per_s_per_user"], out["tokens_per_s"],
            formulas.tokens_per_s_per_mw(1.0, power, sy.devices) if power else None, out["tokens_per_s_per_mw"],
            formulas.usd_per_million_tokens(sy.usd.nominal, sy.devices, 1.0) if sy.usd is not None else None,
            out["usd_per_million_tokens"])
    times = [out["time_s"]] + ([out[f"time_s_{c}"] for c in _CORNERS] if sy.ranges else [])
    return dispatch.chunk_call(sy.cw, grid, [b if x == "b" else s for x in names], sy.figs, sy.caps, 1.0, sy.pl.home,
                               plan.mode, times, out["bound"], sy.lut8, out["fits"], plan.bounds.index("capacity"), post)


def _coords(plan: _Plan, lo: int, hi: int, b_out, s_out) -> None:
    """Batch (the outer axis) and context of a system's rows ``lo:hi``, written into ``b_out`` and ``s_out``
    by broadcasting each whole row of the grid at once (no division per point)."""
    nS = plan.S.size
    i, j = divmod(lo, nS)
    at = 0
    while at < hi - lo:
        if j == 0 and hi - lo - at >= nS:  # whole rows of the grid: one broadcast write
            rows = (hi - lo - at) // nS
            b_out[at:at + rows * nS].reshape(rows, nS)[:] = plan.B[i:i + rows, None]
            s_out[at:at + rows * nS].reshape(rows, nS)[:] = plan.S
            i, at = i + rows, at + rows * nS
            continue
        take = min(nS - j, hi - lo - at)
        b_out[at:at + take] = plan.B[i]
        s_out[at:at + take] = plan.S[j:j + take]
        i, j, at = i + (j + take == nS), (j + take) % nS, at + take


def _points(plan: _Plan, k: int, lo: int, hi: int, out: dict) -> dict:
    """The computed columns of system ``k``'s rows ``lo:hi``, written into ``out`` (views of the frame's
    columns, or a chunk's own arrays): batch, context, fits, times, rates, bound codes, cost and corners."""
    sy = plan.systems[k]
    if _fused_chunk(plan, sy, lo, hi, out):
        _no_corners(plan, sy, out)
        return out
    b, s = _scratch(hi - lo)
    _coords(plan, lo, hi, b, s)
    out["batch"][:], out["context"][:] = b, s
    _fits(plan, sy, b, s, out["fits"])
    times, codes, e, extra = _step_times(plan, sy, b, s, out)
    misfit = None  # the points that do not fit, where still to be marked (None: none, or marked by the kernel)
    if codes is not out["bound"]:  # else the fused sweep wrote the times and codes, the misfits marked
        misfit = ~out["fits"]
        misfit = misfit if misfit.any() else None  # every point fits: no pass to mark the others
        np.copyto(out["bound"], codes, casting="unsafe")
        _mark(out["bound"], misfit, plan.bounds.index("capacity"))
    for name, v in extra.items():
        out[name][:] = v
        if name != "tokens_per_step":
            _mark(out[name], misfit, np.nan)
    _rates(out, "", times[0], misfit, b, e)
    _cost(out, sy)
    for j, c in enumerate(_CORNERS if sy.ranges else ()):
        _rates(out, f"_{c}", times[1 + j], misfit, b, e)
    _no_corners(plan, sy, out)
    return out


def _no_corners(plan: _Plan, sy: _System, out: dict) -> None:
    """NaN in the corner columns of a system without corners, in a frame that has them."""
    for c in _CORNERS if plan.any_corners and not sy.ranges else ():
        for f in (*CORNER_FIELDS["decode_sweep"], *CORNER_RATES):
            if f"{f}_{c}" in out:
                out[f"{f}_{c}"][:] = np.nan


_SCRATCH = threading.local()


def _scratch(m: int):
    """Two float arrays of ``m`` values (a chunk's batch and context), this thread's own, reused chunk after
    chunk up to :data:`CHUNK` points: no allocation, and no page to map, per chunk."""
    if m > CHUNK:
        return np.empty(m), np.empty(m)
    buf = getattr(_SCRATCH, "bs", None)
    if buf is None or buf.shape[1] < m:  # (CHUNK raised since this thread's was made)
        buf = _SCRATCH.bs = np.empty((2, CHUNK))
    return buf[0, :m], buf[1, :m]


def _mark(col, misfit, value) -> None:
    """``value`` where the point does not fit (``misfit``; None: every point fits)."""
    if misfit is not None:
        np.copyto(col, value, where=misfit, casting="unsafe")


def _cost(out: dict, sy: _System) -> None:
    """The cost columns of a system's rows from their tokens per second (NaN without a power or a price):
    each a per-system constant (:func:`roofline.formulas.tokens_per_s_per_mw`,
    :func:`roofline.formulas.usd_per_million_tokens` at one token per second) over or times the rate."""
    tps, power = out["tokens_per_s"], sy.dev.power_w
    if power:
        np.multiply(tps, formulas.tokens_per_s_per_mw(1.0, power, sy.devices), out=out["tokens_per_s_per_mw"])
    else:
        out["tokens_per_s_per_mw"][:] = np.nan
    if sy.usd is not None:
        np.divide(formulas.usd_per_million_tokens(sy.usd.nominal, sy.devices, 1.0), tps,
                  out=out["usd_per_million_tokens"])
    else:
        out["usd_per_million_tokens"][:] = np.nan


def _rates(out: dict, suffix: str, t, misfit, b, e) -> None:
    """Time (NaN where it does not fit) and the rates of one corner that the frame holds, into ``out``."""
    col = out["time_s" + suffix]
    if t is not col:
        np.copyto(col, t)
    _mark(col, misfit, np.nan)
    user, system = out.get("tokens_per_s_per_user" + suffix), out.get("tokens_per_s" + suffix)
    if user is None and system is None:
        return
    user = np.empty_like(col) if user is None else user
    np.divide(e, col, out=user)
    if system is not None:
        np.multiply(b, user, out=system)


def _dtypes(plan: _Plan) -> dict:
    """The type of each column as held in memory, so that a row costs :func:`row_bytes`: labels as the
    narrowest codes that hold their categories, integers as :data:`COLUMNS` says (never so narrow that a
    product of two columns wraps), results as float64."""
    # a speculative step names its binding terms as it runs: its labels are not all known in advance
    few_bounds = len(plan.bounds) < 100 and all(sy.spl is None for sy in plan.systems)
    out = {}
    for c in plan.columns():
        if c in _CATEGORICAL:
            out[c] = np.int8 if len(plan.systems) < 127 else np.int16
        elif c in ("devices", "tp", "pp"):
            out[c] = np.int32
        elif c in ("batch", "context"):
            out[c] = np.int64  # never narrower: batch * context must not wrap in a user's arithmetic
        elif c == "bound":
            out[c] = np.int8 if few_bounds else np.int16
        elif c == "fits":
            out[c] = np.bool_
        else:
            out[c] = np.float64
    return out


def row_bytes(plan: _Plan) -> int:
    """Bytes one row of the plan's frame holds in memory [B].

    Parameters
    ----------
    plan : _Plan

    Returns
    -------
    int
    """
    return int(sum(np.dtype(t).itemsize for t in _dtypes(plan).values()))


def _tasks(plan: _Plan, chunk: int, workers: int = 1):
    """Each system's rows in spans of at most ``chunk``; on several threads, in a multiple of ``workers``
    spans of equal lengths per system (so that the threads finish together)."""
    per = plan.per_system
    if workers > 1 and per:
        parts = -(-per // chunk)
        chunk = -(-per // (-(-parts // workers) * workers))
    return [(k, lo, hi) for k in range(len(plan.systems)) for lo, hi in spans(per, chunk, workers > 1)]


class _Kernels:
    """The points each fused kernel still has to evaluate in this sweep: before each chunk the evaluator is
    told how many remain, so the kernel is loaded (or compiled in the background) once the rest of the sweep
    pays for it (:func:`roofline.engine.dispatch.prepare_all`). Systems of one structure share a kernel."""

    def __init__(self, plan: _Plan):
        self.lock = threading.Lock()
        self.remaining: dict[str, list] = {}
        self.of_system: list = []
        for sy in plan.systems:
            src = sy.cw.fused_source if sy.cw is not None else ""
            if src:
                self.remaining.setdefault(src, [sy.cw, 0])[1] += plan.per_system * len(sy.corners)
            self.of_system.append((src, len(sy.corners)))

    def before(self, k: int, rows: int) -> None:
        """Called before system ``k`` evaluates ``rows`` more points."""
        from ..engine import dispatch

        src, per_row = self.of_system[k]
        if not src:
            return
        with self.lock:
            dispatch.prepare_all([(cw, n, s) for s, (cw, n) in self.remaining.items()], "chunk")
            self.remaining[src][1] -= rows * per_row


def _attrs(plan: _Plan, kind: str, columns) -> dict:
    """A sweep frame's metadata: units, what was asked, the constants common to every row and each
    system's constants, rows and binding-term labels."""
    systems = []
    for k, sy in enumerate(plan.systems):
        c = sy.constants(plan.model.key)
        c.update(rows=[k * plan.per_system, (k + 1) * plan.per_system], ranges=sy.ranges,
                 bound_labels=list(sy.cw.labels) if sy.cw is not None else [])
        systems.append(c)
    const = {key: systems[0][key] for key in _CONSTANT if systems and all(s[key] == systems[0][key] for s in systems)}
    units = {}
    for c in columns:
        base = c.rsplit("_", 1)[0] if c.endswith(("_best", "_worst")) else c
        if base in COLUMNS and COLUMNS[base].unit:
            units[c] = COLUMNS[base].unit
    return {"model": plan.model.key, "devices": list(dict.fromkeys(sy.dev.key for sy in plan.systems)),
            "units": units, "phase": str(plan.phase), "ideal": plan.ideal, "mode": str(plan.mode),
            "overlap": plan.overlap, "weight_dtype": plan.prec.weights, "sweep": kind, "constants": const,
            "systems": systems}


def _in_memory(plan: _Plan, chunk: int, workers, tag: Mapping[str, str] | None):
    """The whole sweep as one DataFrame, its columns filled in place chunk by chunk (no concatenation), in
    memory that dropped frames held where there is some (:func:`roofline.sweep.chunks.columns`); the
    frame is built while the threads fill it (it reads no value)."""
    check_budget(plan.n, row_bytes(plan), "decode_sweep")
    n, per = plan.n, plan.per_system
    cols = columns(n, _dtypes(plan))
    cats = {c: plan.categories(c) for c in _CATEGORICAL}
    const = [{c: cats[c].index(str(v)) if c in cats else v for c, v in sy.constants(plan.model.key).items()}
             for sy in plan.systems]
    kernels = _Kernels(plan)
    frame = []

    def fill(task) -> None:
        k, lo, hi = task
        if lo < 0:  # a system's constant columns, whole: one call each (each call may wait for the GIL after)
            for c, v in const[k].items():
                cols[c][k * per:(k + 1) * per] = v
            return
        kernels.before(k, hi - lo)
        sl = slice(k * per + lo, k * per + hi)
        _points(plan, k, lo, hi, {c: v[sl] for c, v in cols.items() if c not in _CONSTANT})

    def build() -> None:  # a speculative step names binding terms as it runs: its frame waits for them
        if all(sy.spl is None for sy in plan.systems):
            frame.append(_frame_of(plan, cols, cats, tag))

    w = sweep_workers(n, workers)
    pipeline([(k, -1, -1) for k in range(len(plan.systems))] + _tasks(plan, chunk, w), fill, w, meanwhile=build)
    return frame[0] if frame else _frame_of(plan, cols, cats, tag)


def _frame_of(plan: _Plan, cols: dict, cats: dict, tag: Mapping[str, str] | None):
    """The frame of a sweep's columns, the labels as categoricals of their codes, with its ``attrs``."""
    import pandas as pd

    cats = {**cats, "bound": list(plan.bounds)}
    # the codes are written by this module (a constant's index, a kernel's label code): not checked again, a
    # serial pass over every row that would not divide between the threads
    data = {c: (pd.Categorical.from_codes(cols[c], dtype=_category_dtype(tuple(cats[c])), validate=False)
                if c in cats else cols[c]) for c in plan.columns()}
    df = pd.DataFrame(_tagged(data, tag, plan.n), copy=False)
    df.attrs.update(_attrs(plan, "decode_sweep", df.columns))
    return df


@lru_cache(maxsize=256)
def _category_dtype(categories: tuple):
    """The (immutable) categorical type of ``categories``, made once: pandas checks a new one's categories
    (an index, a uniqueness test) in the serial part of every sweep."""
    import pandas as pd

    return pd.CategoricalDtype(list(categories))


def _tagged(data: dict, tag: Mapping[str, str] | None, n: int) -> dict:
    """``data`` with the constant ``tag`` columns (categoricals) right after ``model``."""
    if not tag:
        return data
    import pandas as pd

    out = {"model": data["model"]}
    out.update({k: pd.Categorical.from_codes(np.zeros(n, dtype=np.int8), dtype=_category_dtype((str(v),)),
                                             validate=False) for k, v in tag.items()})
    out.update({k: v for k, v in data.items() if k != "model"})
    return out


def _chunk(plan: _Plan, k: int, lo: int, hi: int) -> dict:
    """System ``k``'s rows ``lo:hi`` in arrays of their own (a chunk to write or to fold)."""
    m = hi - lo
    out = {c: np.empty(m, dtype=t) for c, t in _dtypes(plan).items() if c not in _CONSTANT}
    return _points(plan, k, lo, hi, out)


def _chunk_table(plan: _Plan, k: int, lo: int, hi: int, tag, pa):
    """System ``k``'s rows ``lo:hi`` as a pyarrow table, constants and the bound as dictionary arrays; no
    column holds a null (a time that does not fit is NaN), so every field is declared non-nullable."""
    part, n = _chunk(plan, k, lo, hi), hi - lo
    const = plan.systems[k].constants(plan.model.key)
    zero = np.zeros(n, dtype=np.int8)
    cols = {}
    for c in ["model", *(tag or {}), *plan.columns()[1:]]:
        if c == "bound":
            cols[c] = arrow_labels(part[c], plan.bounds, pa)
        elif c in part:
            cols[c] = arrow_array(part[c], pa)
        elif c in ("devices", "tp", "pp"):
            cols[c] = arrow_array(np.full(n, const[c], dtype=_dtypes(plan)[c]), pa)
        else:
            cols[c] = arrow_labels(zero, [const[c] if c in const else tag[c]], pa)
    schema = pa.schema([pa.field(c, v.type, nullable=False) for c, v in cols.items()])
    return pa.Table.from_arrays(list(cols.values()), schema=schema)


def _chunk_frame(plan: _Plan, k: int, lo: int, hi: int, tag):
    """System ``k``'s rows ``lo:hi`` as a DataFrame (CSV without pyarrow)."""
    import pandas as pd

    part, const = _chunk(plan, k, lo, hi), plan.systems[k].constants(plan.model.key)
    part["bound"] = pd.Categorical.from_codes(part["bound"], categories=list(plan.bounds))
    data = {c: part[c] if c in part else const[c] for c in plan.columns()}
    return pd.DataFrame(_tagged(data, tag, hi - lo) if tag else data)


def _to_file(plan: _Plan, out, chunk: int, workers, tag, progress: bool, metadata: dict | None = None) -> int:
    """Write the sweep to ``out`` (a path or an open :class:`~roofline.sweep.writer.FrameWriter`) as it
    is computed; returns the rows written."""
    if isinstance(out, FrameWriter):
        return _write_plan(plan, out, chunk, workers, tag, progress)
    with FrameWriter(out, attrs=_attrs(plan, "decode_sweep", plan.columns()), metadata=metadata) as w:
        return _write_plan(plan, w, chunk, workers, tag, progress)


def _write_plan(plan: _Plan, w: FrameWriter, chunk: int, workers, tag, progress: bool) -> int:
    bar = _bar(plan.n, progress)
    first, start = w.rows == 0, w.rows
    kernels = _Kernels(plan)

    def make(task):
        i, (k, lo, hi) = task
        kernels.before(k, hi - lo)
        table = _chunk_table(plan, k, lo, hi, tag, w.pa) if w.pa is not None else _chunk_frame(plan, k, lo, hi, tag)
        return (w.encode(table, header=first and i == 0) if w.format == "csv" else table), hi - lo

    def put(res) -> None:
        data, rows = res
        w.write_bytes(data, rows) if w.format == "csv" else w.write(data)
        bar.update(rows)

    try:
        pipeline(enumerate(_tasks(plan, chunk)), make, sweep_workers(plan.n, workers), put)
    finally:
        bar.close()
    return w.rows - start


def _pareto_rows(rows: dict) -> dict:
    """The rows not dominated in (tokens_per_s_per_user, tokens_per_s_per_device), both to maximise."""
    u, d = rows["tokens_per_s_per_user"], rows["tokens_per_s_per_device"]
    order = np.lexsort((-d, -u))
    best = np.maximum.accumulate(d[order])
    keep = order[d[order] > np.concatenate([[-np.inf], best[:-1]])]
    return {c: v[keep] for c, v in rows.items()}


def _fold(kept: dict | None, part: dict, reduce: str) -> dict | None:
    """Merge one chunk's qualifying rows of a system into what is kept of it."""
    if part["time_s"].size == 0:
        return kept
    if reduce == "best":
        i = int(np.argmax(part["tokens_per_s_per_device"]))
        if kept is None or part["tokens_per_s_per_device"][i] > kept["tokens_per_s_per_device"][0]:
            return {c: v[i:i + 1] for c, v in part.items()}
        return kept
    both = part if kept is None else {c: np.concatenate([kept[c], part[c]]) for c in part}
    return _pareto_rows(both)


def _reduce(plan: _Plan, reduce: str, min_rate: float, chunk: int, workers, progress: bool):
    """Fold the sweep per system into its best row or its Pareto frontier, without holding its points."""
    import pandas as pd

    kept: dict = {k: None for k in range(len(plan.systems))}
    bar = _bar(plan.n, progress)
    kernels = _Kernels(plan)

    def make(task):
        k, lo, hi = task
        kernels.before(k, hi - lo)
        part = _chunk(plan, k, lo, hi)
        part["tokens_per_s_per_device"] = part["tokens_per_s"] / plan.systems[k].devices
        ok = part["fits"] & (part["tokens_per_s_per_user"] >= min_rate)
        return k, {c: v[ok] for c, v in part.items()}, hi - lo

    def put(res) -> None:
        k, part, rows = res
        kept[k] = _fold(kept[k], part, reduce)
        bar.update(rows)

    try:
        pipeline(_tasks(plan, chunk), make, sweep_workers(plan.n, workers), put)
    finally:
        bar.close()
    frames = []
    for k, rows in kept.items():
        if rows is not None and rows["time_s"].size:
            rows = dict(rows, bound=pd.Categorical.from_codes(rows["bound"], categories=list(plan.bounds)))
            const = plan.systems[k].constants(plan.model.key)
            frames.append(_frame({**const, **{c: v for c, v in rows.items() if c in COLUMNS}}))
    if not frames:
        return pd.DataFrame()
    df = pd.concat(frames, ignore_index=True)
    df.attrs.update(_attrs(plan, f"decode_sweep(reduce={reduce!r})", df.columns))
    return df


# ------------------------------------------------------------------------------------------------------
# the one entry point
# ------------------------------------------------------------------------------------------------------
def decode_sweep(model: str | ModelConfig, devices: Sequence[str | Device] | str | Device, batch, context,
                 device_counts: Sequence[int] | None = None, dtype: str = "bf16", prec: Precision | None = None,
                 ideal: bool = False, overlap: str = "max", phase: str = "decode", ranges: bool | str = True,
                 speculation: Speculation | None = None, price=None, out=None, reduce: str | None = None,
                 min_tokens_per_s_per_user: float = 0.0, chunk: int | None = None, workers: int | None = None,
                 progress: bool = False, tag: Mapping[str, str] | None = None, **layout):
    """Decode (or prefill) time over batch × context × device count × device: a tidy DataFrame in memory,
    a file written chunk by chunk (``out``), or the best points (``reduce``) — one function, any size.

    Chunks (on every core for large grids) are written into place: memory holds :func:`row_bytes` per row
    plus a chunk per thread. An in-memory grid over ``ROOFLINE_MEMORY_BUDGET`` is refused
    (:class:`~roofline.errors.CapacityError`): ``out`` or ``reduce`` run any size in bounded memory.

    Parameters
    ----------
    model, devices : str or ModelConfig; str, Device or sequence of them
    batch, context, device_counts : array_like
        Sequences in flight; tokens in the KV cache (decode) or prompt tokens (prefill); devices per system
        (default the fewest that hold the model at batch 1) [1].
    dtype, prec : str, Precision
        The data type of everything, or the data types (``prec`` wins).
    ideal, overlap, phase : bool or Mode, str, str
        No latency terms (or a :class:`~roofline.vocab.Mode`); ``max`` or ``sum``; ``decode`` or ``prefill``.
    ranges, speculation : bool or str, Speculation
        Add the time at the corners of an estimate-based device (``"rates"``: the :data:`CORNER_RATES` too);
        speculative decoding (:func:`speculative_step`).
    price : float or mapping of str to float, optional
        Price per device-hour [USD/h] (or one per device key); default the price table's.
    out : str, os.PathLike or FrameWriter, optional
        Write the rows to this ``.csv`` or ``.parquet`` file (pyarrow, atomically) as they are computed.
    reduce, min_tokens_per_s_per_user : str, float
        Per system, ``best``: the row of most tokens/s per device among those that fit and give each user
        ``min_tokens_per_s_per_user`` [1/s]; ``pareto``: the frontier of (tokens/s per user, per device).
    chunk, workers : int, optional
        Points per chunk (default :data:`CHUNK`, in memory without numba :data:`CHUNK_NUMPY`); threads
        (default every core allowed, from 131,072 points) [1].
    progress, tag : bool, mapping of str to str
        A progress bar (tqdm) on stderr; constant columns to add after ``model`` (the CLI: dtype, phase).
    **layout
        ``tp``, ``pp``, ``dp``, ``ep``, ``attention``, ``micro_batches``, ``imbalance`` (:func:`place`).

    Returns
    -------
    pandas.DataFrame or int
        One row per point, the :data:`COLUMNS` model … layout (:data:`COLUMNS` says which, in order): time_s
        [s] is NaN and bound ``capacity`` (categorical) where the resident set does not fit; estimate-based
        devices add ``time_s_best`` and ``time_s_worst`` (:func:`with_corner_rates`: the rates). ``attrs``:
        the model, devices, phase, units, the constants common to every row and each system's. ``out``: the
        rows written;
        ``reduce``: the kept rows, with ``tokens_per_s_per_device`` [1/s].
    """
    if reduce not in (None, "best", "pareto"):
        raise InputError(f"reduce must be 'best' or 'pareto', got {reduce!r}")
    plan = _plan(model, devices, batch, context, device_counts, dtype, prec, ideal, overlap, phase, ranges,
                 speculation, price, layout)
    if reduce is not None:
        return _reduce(plan, reduce, min_tokens_per_s_per_user, _chunk_of(chunk, False), workers, progress)
    if out is not None:
        return _to_file(plan, out, _chunk_of(chunk, False), workers, tag, progress)
    return _in_memory(plan, _chunk_of(chunk, True), workers, tag)


def _chunk_of(chunk, in_memory: bool) -> int:
    """The points per chunk asked (checked), else :data:`CHUNK`, or :data:`CHUNK_NUMPY` for a sweep held in
    memory that NumPy alone will evaluate (numba not there)."""
    if chunk is not None:
        if isinstance(chunk, bool) or not isinstance(chunk, (int, np.integer)) or chunk <= 0:
            raise InputError(f"chunk must be a positive number of points, got {chunk!r}")
        return int(chunk)
    from ..engine import fused

    return CHUNK if not in_memory or fused.available() else CHUNK_NUMPY


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
# beyond memory: the same plan, chunk by chunk
# ------------------------------------------------------------------------------------------------------
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
        tokens_per_s, tokens_per_s_per_device [1/s], bound (categorical), fits; ``attrs`` as in
        :func:`decode_sweep`.
    """
    import pandas as pd

    plan = _plan(model, devices, batch, context, device_counts, dtype, prec, ideal, overlap, phase, False,
                 allow_empty=False)
    for k, lo, hi in _tasks(plan, chunk):
        part = _chunk(plan, k, lo, hi)
        const = plan.systems[k].constants(plan.model.key)
        df = _frame({"model": pd.Categorical.from_codes(np.zeros(hi - lo, dtype=np.int8), [const["model"]]),
                     "device": pd.Categorical.from_codes(np.zeros(hi - lo, dtype=np.int8), [const["device"]]),
                     "devices": const["devices"], "batch": part["batch"], "context": part["context"],
                     "time_s": part["time_s"], "tokens_per_s_per_user": part["tokens_per_s_per_user"],
                     "tokens_per_s": part["tokens_per_s"],
                     "tokens_per_s_per_device": part["tokens_per_s"] / const["devices"],
                     "bound": pd.Categorical.from_codes(part["bound"], categories=list(plan.bounds)),
                     "fits": part["fits"]})
        df.attrs.update(_attrs(plan, "llm_sweep_chunks", df.columns))
        yield df


def llm_sweep_to_parquet(path, model, devices, batch, context, device_counts=None, dtype: str = "bf16",
                         ideal: bool = False, phase: str = "decode", chunk: int = 1 << 20, progress: bool = True) -> int:
    """Evaluate the grid chunk by chunk and append each chunk to the Parquet file ``path``:
    ``decode_sweep(..., out=path, ranges=False)``, with the grid in the file's metadata.

    Memory stays at one chunk per thread whatever the grid's size; each chunk is one row group. The file
    appears only when complete (:func:`roofline._paths.atomic_output`): an interrupted sweep leaves an earlier
    file at ``path`` whole and no partial one. The key-value metadata records the grid (``roofline.grid``,
    JSON), the row count (``roofline.rows``) and the frame's ``attrs`` (``roofline``).

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
        Rows written [1]; the columns are those of :func:`decode_sweep`.
    """
    try:
        import pyarrow.parquet  # noqa: F401
    except ImportError:
        raise InputError("writing Parquet needs pyarrow: pip install 'roofline[parquet]'") from None
    if frame_format(path) != "parquet":
        raise InputError(f"{path}: llm_sweep_to_parquet writes a .parquet file")
    plan = _plan(model, devices, batch, context, device_counts, dtype, None, ideal, "max", phase, False)
    grid = _grid_metadata(model, devices, batch, context, device_counts, dtype, ideal, phase)
    return _to_file(plan, path, chunk, None, None, progress, metadata={"roofline.grid": grid})


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
    """Fold a grid of any size into a small result without holding its points:
    ``decode_sweep(..., reduce=reduce, ranges=False)``.

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
        The :data:`COLUMNS` of :func:`llm_sweep_chunks` (empty, without columns, when no point qualifies).
    """
    df = decode_sweep(model, devices, batch, context, device_counts, dtype, ideal=ideal, reduce=reduce,
                      min_tokens_per_s_per_user=min_tokens_per_s_per_user, chunk=chunk, progress=progress,
                      ranges=False)
    keep = ["model", "device", "devices", "batch", "context", "time_s", "tokens_per_s_per_user", "tokens_per_s",
            "tokens_per_s_per_device", "bound", "fits"]
    return df[keep] if len(df.columns) else df
