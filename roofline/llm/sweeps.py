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

import threading
from contextlib import nullcontext
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Iterable, Mapping, Sequence

import numpy as np

from ..errors import CapacityError, InputError
from ..hardware.device import Device
from ..hardware.library import get_device
from ..placement.layout import Placement
from ..engine import dispatch
from ..sweep.chunks import _bar, _n_points, _pareto, check_budget, evaluate_dask, grid_chunks, pipeline, spans, \
    sweep_workers  # noqa: F401 (grid_chunks, evaluate_dask, _n_points, _pareto: the old roofline.bigsweep path)
from ..sweep.writer import FrameWriter, frame_format
from ..vocab import Corner, Phase
from .config import ModelConfig
from .inference import _bound, _run
from .loader import get_model
from .precision import Precision
from .sizes import place
from .sizes import resident_bytes_per_device as _resident_per_device

__all__ = ['Column', 'COLUMNS', 'CORNER_FIELDS', 'decode_sweep', 'frontier', 'llm_sweep_chunks',
           'llm_sweep_to_parquet', 'llm_sweep_reduce']


@dataclass(frozen=True)
class Column:
    """One column of an LLM sweep frame: its unit (``""`` for a label or a flag) and its meaning."""

    unit: str
    meaning: str


#: The column contract of every LLM sweep frame, in order. A frame holds the columns its sweep computes,
#: in this order: :func:`decode_sweep` (model … pp, batch, context, time_s, tokens_per_s_per_user,
#: tokens_per_s, bound, fits, level), :func:`frontier` (model, device, devices, batch, context, tpot_s,
#: the four rates, bound), :func:`llm_sweep_chunks` (model, device, devices, batch, context, time_s, three
#: rates, bound, fits).
COLUMNS: Mapping[str, Column] = MappingProxyType({
    "model": Column("", "model key"),
    "device": Column("", "device key"),
    "devices": Column("1", "devices in the system"),
    "tp": Column("1", "tensor-parallel degree"),
    "pp": Column("1", "pipeline stages"),
    "batch": Column("1", "sequences in flight"),
    "context": Column("1", "tokens in the KV cache (decode) or prompt tokens per sequence (prefill)"),
    "time_s": Column("s", "time of one step; NaN where the resident set does not fit"),
    "tpot_s": Column("s", "time per output token (one decode step)"),
    "tokens_per_s_per_user": Column("1/s", "tokens each sequence gets per second: 1 / time"),
    "tokens_per_s": Column("1/s", "tokens the system produces per second: batch / time"),
    "tokens_per_s_per_device": Column("1/s", "tokens per second per device"),
    "tokens_per_s_per_kw": Column("1/(s kW)", "tokens per second per kilowatt of device power"),
    "bound": Column("", "the time term that binds; 'capacity' where the resident set does not fit"),
    "fits": Column("", "the resident set fits the placement's memory level"),
    "level": Column("", "the memory level holding the resident set"),
})

#: Per sweep, the columns whose best and worst corners an estimate-based device adds (in this order, the
#: best corner's first): ``<field>_best``, then ``<field>_worst``.
CORNER_FIELDS: Mapping[str, tuple[str, ...]] = MappingProxyType({
    "decode_sweep": ("time_s",),
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


def _phase(phase) -> Phase:
    if phase not in (Phase.PREFILL, Phase.DECODE):
        raise InputError(f"unknown phase {phase!r}; expected 'prefill' or 'decode'")
    return Phase(phase)


def _devices(devices) -> list[Device]:
    return [get_device(d) for d in ([devices] if isinstance(devices, (str, Device)) else devices)]


# ------------------------------------------------------------------------------------------------------
# one plan, evaluated in chunks: in memory, to a file, or folded
# ------------------------------------------------------------------------------------------------------
#: points per chunk of a sweep (each chunk's temporaries are a few tens of bytes per point) [1]
CHUNK = 1 << 17
#: bytes a decode-sweep row holds in memory: batch, context, time and two rates (8 each), the model,
#: device, level and binding term as one-byte categorical codes, fits (1), devices, tp and pp (4 each)
ROW_BYTES = 5 * 8 + 4 + 1 + 3 * 4
#: the best and worst times of an estimate-based device add two floats
CORNER_BYTES = 2 * 8


@dataclass
class _Plan:
    """What a sweep evaluates: a model in a precision, a phase, the systems (device × layout) and the grid
    batch × context (C order: batch outer), each system's rows one after the other."""

    model: ModelConfig
    prec: Precision
    phase: Phase
    systems: list[tuple[Device, Placement]]
    B: np.ndarray
    S: np.ndarray
    ideal: bool
    overlap: str
    corners: list[bool]
    bounds: list[str] = field(default_factory=list)
    luts: list[np.ndarray] = field(default_factory=list)

    @property
    def per_system(self) -> int:
        return self.B.size * self.S.size

    @property
    def n(self) -> int:
        return self.per_system * len(self.systems)

    @property
    def any_corners(self) -> bool:
        return any(self.corners)

    def categories(self, column: str) -> list:
        """The categories of a per-system column (device or level), in first-seen order."""
        vals = [dev.key if column == "device" else dev.memory[pl.home].name for dev, pl in self.systems]
        return list(dict.fromkeys(vals))


def _grid_values(batch, context, allow_empty: bool = True):
    B = np.asarray(batch, dtype=float).ravel()
    S = np.asarray(context, dtype=float).ravel()
    if np.any(B <= 0) or np.any(S <= 0) or (not allow_empty and (B.size == 0 or S.size == 0)):
        raise InputError("batch and context must be " + ("positive" if allow_empty
                                                         else "non-empty lists of positive values"))
    return B, S


def _plan(model, devices, batch, context, device_counts, dtype, prec, ideal, overlap, phase, ranges,
          allow_empty=True) -> _Plan:
    """Resolve names, place each system and collect the binding-term labels of every system."""
    m = get_model(model)
    prec = prec or Precision.of(dtype)
    ph = _phase(phase)
    B, S = _grid_values(batch, context, allow_empty)
    systems = []
    for dev in _devices(devices):
        smin = int(S.min()) if S.size else 1
        for n in device_counts or [place(m, dev, prec, 1, smin).devices]:
            systems.append((dev, place(m, dev, prec, 1, 1, devices=int(n)) if device_counts
                            else place(m, dev, prec, 1, smin)))
    plan = _Plan(m, prec, ph, systems, B, S, ideal, overlap, [bool(ranges and d.is_estimate) for d, _ in systems])
    labels: dict[str, int] = {}
    for dev, pl in systems:
        cw = _bound(m, dev, ph, prec, pl, ideal, overlap, Corner.NOMINAL).cw
        plan.luts.append(np.asarray([labels.setdefault(lb, len(labels)) for lb in cw.labels], dtype=np.int8))
    labels.setdefault("capacity", len(labels))
    plan.bounds = list(labels)
    return plan


class _Kernels:
    """The points each kernel still has to evaluate in this sweep: before each chunk, the evaluator is told
    how many remain (with the costs measured so far), so the fused kernel is loaded, or compiled in the
    background, once the rest of the sweep pays for it. Systems of one structure share a kernel."""

    def __init__(self, plan: _Plan):
        self.plan, self.lock = plan, threading.Lock()
        self.remaining: dict[str, list] = {}
        self.of_system: list[tuple] = []
        for k, (dev, pl) in enumerate(plan.systems):
            cw = _bound(plan.model, dev, plan.phase, plan.prec, pl, plan.ideal, plan.overlap, Corner.NOMINAL).cw
            # a system with ranges runs the kernel of three corners per pass: three points per row
            src, per_row = (cw.fused_corners_source, 3) if plan.corners[k] else (cw.fused_source, 1)
            self.remaining.setdefault(src, [cw, 0])[1] += plan.per_system * per_row
            self.of_system.append((src, per_row))

    def before(self, k: int, rows: int) -> None:
        """Called before system ``k`` evaluates ``rows`` more points."""
        with self.lock:
            dispatch.prepare_all([(cw, n, src) for src, (cw, n) in self.remaining.items()])
            src, per_row = self.of_system[k]
            self.remaining[src][1] -= rows * per_row


#: the computed columns of a span and their types
_SPAN = (("batch", np.int64), ("context", np.int64), ("time_s", float), ("tokens_per_s_per_user", float),
         ("tokens_per_s", float), ("bound", np.int8), ("fits", bool))


def _span(plan: _Plan, k: int, lo: int, hi: int, out: dict | None = None) -> dict:
    """The computed columns of system ``k``'s rows ``lo:hi`` (batch, context, times, rates, binding-term
    codes, fits), written into ``out`` (views of the frame's columns) or into new arrays."""
    dev, pl = plan.systems[k]
    m = hi - lo
    if out is None:
        out = {c: np.empty(m, dtype=dt) for c, dt in _SPAN}
        out.update({f"time_s_{c}": np.empty(m) for c in _CORNERS if plan.any_corners})
    idx = np.arange(lo, hi)
    b, s = plan.B[idx // plan.S.size], plan.S[idx % plan.S.size]
    out["batch"][:], out["context"][:] = b, s
    fits = out["fits"]
    np.less_equal(_resident_per_device(plan.model, plan.prec, pl.parallel, b, s), dev.memory[pl.home].capacity_bytes,
                  out=fits)
    misfit = ~fits
    times, bi = _times(plan, k, {"b": b, plan.phase.length_symbol: s})
    names = ["time_s"] + ([f"time_s_{c}" for c in _CORNERS] if plan.any_corners else [])
    for j, name in enumerate(names):
        col = out[name]
        col[:] = times[j] if j < len(times) else np.nan
        col[misfit] = np.nan
    t = out["time_s"]
    np.divide(1.0, t, out=out["tokens_per_s_per_user"])
    np.divide(b, t, out=out["tokens_per_s"])
    np.take(plan.luts[k], bi, out=out["bound"])
    out["bound"][misfit] = len(plan.bounds) - 1
    return out


def _times(plan: _Plan, k: int, shapes) -> tuple[list, np.ndarray]:
    """System ``k``'s time at its corners (nominal first) and nominal binding term over ``shapes``: one pass
    of the fused corners kernel where it pays, else one evaluation per corner."""
    dev, pl = plan.systems[k]
    corners = (Corner.NOMINAL, *(_CORNERS if plan.corners[k] else ()))
    bws = [_bound(plan.model, dev, plan.phase, plan.prec, pl, plan.ideal, plan.overlap, c) for c in corners]
    if len(bws) > 1:
        fused = dispatch.corners_call(bws, shapes, workers=1)
        if fused is not None:
            return list(fused[0]), fused[1]
    with dispatch.no_background_compile() if len(bws) > 1 else nullcontext():  # the corners kernel is coming
        r = bws[0].evaluate(shapes, workers=1)
        rest = [bw.evaluate(shapes, workers=1, with_bound=False)["time_s"] for bw in bws[1:]]
    return [r["time_s"]] + rest, r["bound_index"]


_CONSTANT = ("model", "device", "devices", "tp", "pp", "level")


def _tasks(plan: _Plan, chunk: int):
    return [(k, lo, hi) for k in range(len(plan.systems)) for lo, hi in spans(plan.per_system, chunk)]


def _constants(plan: _Plan, k: int) -> dict:
    """System ``k``'s constant columns: model, device, devices, tp, pp, level."""
    dev, pl = plan.systems[k]
    return {"model": plan.model.key, "device": dev.key, "devices": pl.devices, "tp": pl.parallel.tp,
            "pp": pl.parallel.pp, "level": dev.memory[pl.home].name}


def _attrs(plan: _Plan, kind: str, columns) -> dict:
    """The metadata of a sweep frame: units, what was asked, and each system's constant columns."""
    systems = []
    for k, (dev, pl) in enumerate(plan.systems):
        c = _constants(plan, k)
        c.update(rows=[k * plan.per_system, (k + 1) * plan.per_system], ranges=plan.corners[k],
                 bound_labels=list(_bound(plan.model, dev, plan.phase, plan.prec, pl, plan.ideal, plan.overlap,
                                          Corner.NOMINAL).cw.labels))
        systems.append(c)
    const = {key: systems[0][key] for key in ("model", "device", "devices", "tp", "pp", "level")
             if systems and all(s[key] == systems[0][key] for s in systems)}
    return {"sweep": kind, "phase": str(plan.phase), "weight_dtype": plan.prec.weights,
            "activation_dtype": plan.prec.activations, "kv_dtype": plan.prec.kv, "ideal": plan.ideal,
            "overlap": plan.overlap, "units": _units(columns),
            "constants": const, "systems": systems}


def _units(columns) -> dict[str, str]:
    """The unit of each column (a corner column has its field's)."""
    out = {}
    for c in columns:
        base = c.rsplit("_", 1)[0] if c.endswith(("_best", "_worst")) else c
        if base in COLUMNS:
            out[c] = COLUMNS[base].unit
    return out


def _frame_columns(plan: _Plan) -> list[str]:
    base = ["model", "device", "devices", "tp", "pp", "batch", "context", "time_s", "tokens_per_s_per_user",
            "tokens_per_s", "bound", "fits", "level"]
    return base + ([f"time_s_{c}" for c in _CORNERS] if plan.any_corners else [])


def _in_memory(plan: _Plan, chunk: int, workers, tag: Mapping[str, str]):
    """The whole sweep as one DataFrame, its columns filled in place chunk by chunk (no concatenation)."""
    import pandas as pd

    check_budget(plan.n, ROW_BYTES + (CORNER_BYTES if plan.any_corners else 0), "decode_sweep")
    n, per = plan.n, plan.per_system
    cols = {c: np.empty(n, dtype=dt) for c, dt in (
        ("model", np.int8), ("device", np.int8), ("devices", np.int32), ("tp", np.int32), ("pp", np.int32),
        ("batch", np.int64), ("context", np.int64), ("time_s", float), ("tokens_per_s_per_user", float),
        ("tokens_per_s", float), ("bound", np.int8), ("fits", bool), ("level", np.int8))}
    cols.update({f"time_s_{c}": np.empty(n) for c in _CORNERS if plan.any_corners})
    cats = {"model": [plan.model.key], "device": plan.categories("device"), "level": plan.categories("level")}
    for k in range(len(plan.systems)):
        for c, v in _constants(plan, k).items():
            cols[c][k * per:(k + 1) * per] = cats[c].index(v) if c in cats else v

    kernels = _Kernels(plan)

    def fill(task) -> None:
        k, lo, hi = task
        kernels.before(k, hi - lo)
        sl = slice(k * per + lo, k * per + hi)
        _span(plan, k, lo, hi, {c: v[sl] for c, v in cols.items() if c not in _CONSTANT})

    pipeline(_tasks(plan, chunk), fill, sweep_workers(n, workers))
    cats["bound"] = plan.bounds
    data = {c: (pd.Categorical.from_codes(cols[c], categories=cats[c]) if c in cats else cols[c])
            for c in _frame_columns(plan)}
    data = _tagged(data, tag, n)
    df = pd.DataFrame(data, copy=False)
    df.attrs.update(_attrs(plan, "decode_sweep", df.columns))
    return df


def _tagged(data: dict, tag: Mapping[str, str] | None, n: int) -> dict:
    """``data`` with the constant ``tag`` columns (categoricals) right after ``model``."""
    if not tag:
        return data
    import pandas as pd

    out = {"model": data["model"]}
    out.update({k: pd.Categorical.from_codes(np.zeros(n, dtype=np.int8), categories=[str(v)]) for k, v in tag.items()})
    out.update({k: v for k, v in data.items() if k != "model"})
    return out


def _chunk_table(plan: _Plan, k: int, lo: int, hi: int, tag, pa):
    """System ``k``'s rows ``lo:hi`` as a pyarrow table, constants as dictionary arrays."""
    part = _span(plan, k, lo, hi)
    n = hi - lo
    zero = pa.array(np.zeros(n, dtype=np.int8))
    const = _constants(plan, k)
    cols = {}
    for c in ["model", *(tag or {}), *_frame_columns(plan)[1:]]:
        if c in part:
            cols[c] = (pa.DictionaryArray.from_arrays(pa.array(part[c]), pa.array(plan.bounds)) if c == "bound"
                       else pa.array(part[c]))
        elif c in ("devices", "tp", "pp"):
            cols[c] = pa.array(np.full(n, const[c], dtype=np.int32))
        else:
            cols[c] = pa.DictionaryArray.from_arrays(zero, pa.array([str(const[c] if c in const else tag[c])]))
    return pa.table(cols)


def _chunk_frame(plan: _Plan, k: int, lo: int, hi: int, tag):
    """System ``k``'s rows ``lo:hi`` as a DataFrame (CSV without pyarrow)."""
    import pandas as pd

    part, const = _span(plan, k, lo, hi), _constants(plan, k)
    part["bound"] = pd.Categorical.from_codes(part["bound"], categories=plan.bounds)
    data = {c: part.get(c, const.get(c)) for c in _frame_columns(plan)}
    return pd.DataFrame(_tagged(data, tag, hi - lo) if tag else data)


def _to_file(plan: _Plan, out, chunk: int, workers, tag, progress: bool) -> int:
    """Write the sweep to ``out`` (a path or an open :class:`~roofline.sweep.writer.FrameWriter`) as it
    is computed; returns the rows written."""
    if isinstance(out, FrameWriter):
        return _write_plan(plan, out, chunk, workers, tag, progress)
    with FrameWriter(out, attrs=_attrs(plan, "decode_sweep", _frame_columns(plan))) as w:
        return _write_plan(plan, w, chunk, workers, tag, progress)


def _write_plan(plan: _Plan, w: FrameWriter, chunk: int, workers, tag, progress: bool) -> int:
    bar = _bar(plan.n, progress)
    first = w.rows == 0
    start = w.rows

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

    kept: dict[int, dict | None] = {k: None for k in range(len(plan.systems))}
    bar = _bar(plan.n, progress)

    kernels = _Kernels(plan)

    def make(task):
        k, lo, hi = task
        kernels.before(k, hi - lo)
        part = _span(plan, k, lo, hi)
        part["tokens_per_s_per_device"] = part["tokens_per_s"] / plan.systems[k][1].devices
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
            const = _constants(plan, k)
            rows = dict(rows, bound=np.asarray(plan.bounds, dtype=object)[rows["bound"]])
            frames.append(_frame({**const, **{c: v for c, v in rows.items() if c in COLUMNS}}))
    if not frames:
        return pd.DataFrame()
    df = pd.concat(frames, ignore_index=True)
    df.attrs.update(_attrs(plan, f"decode_sweep(reduce={reduce!r})", df.columns))
    return df


def _check_reduce(reduce) -> None:
    if reduce is not None and reduce not in ("best", "pareto"):
        raise InputError(f"reduce must be 'best' or 'pareto', got {reduce!r}")


# ------------------------------------------------------------------------------------------------------
# the one entry point
# ------------------------------------------------------------------------------------------------------
def decode_sweep(model: str | ModelConfig, devices: Sequence[str | Device] | str | Device, batch, context,
                 device_counts: Sequence[int] | None = None, dtype: str = "bf16", prec: Precision | None = None,
                 ideal: bool = False, overlap: str = "max", phase: str = "decode", ranges: bool = True,
                 out=None, reduce: str | None = None, min_tokens_per_s_per_user: float = 0.0,
                 chunk: int = CHUNK, workers: int | None = None, progress: bool = False,
                 tag: Mapping[str, str] | None = None):
    """Decode (or prefill) time over batch × context × device count × device: a tidy DataFrame in memory,
    a file written chunk by chunk (``out``), or the best points (``reduce``) — one function, any size.

    Chunks of ``chunk`` points (on every core for large grids) are written into place: memory holds the
    result plus one chunk per thread. A row costs about :data:`ROW_BYTES` bytes; an in-memory grid over
    the budget (``ROOFLINE_MEMORY_BUDGET``) is refused, saying to pass ``out`` or ``reduce`` (any size).

    Parameters
    ----------
    model : str or ModelConfig
    devices : str, Device or sequence of them
    batch, context : array_like
        Sequences in flight; tokens in the KV cache (decode) or prompt tokens (prefill) [1].
    device_counts : sequence of int, optional
        Devices per system [1]; default the fewest that hold the model at batch 1.
    dtype, prec : str, Precision
        The data type of everything, or the data types (``prec`` wins).
    ideal, overlap, phase : bool, str, str
        Leave out latency terms; ``max`` or ``sum``; ``decode`` or ``prefill``.
    ranges : bool
        Add the best and worst corners of an estimate-based device.
    out : str, os.PathLike or FrameWriter, optional
        Write the rows to this ``.csv`` or ``.parquet`` file (pyarrow, atomically) instead.
    reduce : str, optional
        Per system, ``best``: the row of most tokens/s per device among those that fit and give each user
        ``min_tokens_per_s_per_user``; ``pareto``: the frontier of (tokens/s per user, per device).
    min_tokens_per_s_per_user : float
        The floor of ``reduce`` [1/s].
    chunk, workers : int, optional
        Points per chunk; threads (default every core allowed, from 131,072 points) [1].
    progress, tag : bool, mapping of str to str
        A progress bar (tqdm) on stderr; constant columns to add after ``model`` (the CLI: dtype, phase).

    Returns
    -------
    pandas.DataFrame or int
        One row per point: the :data:`COLUMNS` model, device, devices, tp, pp, batch, context, time_s [s]
        (NaN where the resident set does not fit), tokens_per_s_per_user, tokens_per_s [1/s], bound
        (categorical; ``capacity`` where it does not fit), fits, level; ``time_s_best``/``_worst`` [s] for
        an estimate-based device; ``attrs``: units, the request, each system's constants. ``out``: the
        rows written. ``reduce``: the kept rows, with ``tokens_per_s_per_device`` [1/s].

    Raises
    ------
    CapacityError
        An in-memory grid beyond the memory budget.
    """
    _check_reduce(reduce)
    plan = _plan(model, devices, batch, context, device_counts, dtype, prec, ideal, overlap, phase, ranges)
    if reduce is not None:
        return _reduce(plan, reduce, min_tokens_per_s_per_user, chunk, workers, progress)
    if out is not None:
        return _to_file(plan, out, chunk, workers, tag, progress)
    return _in_memory(plan, chunk, workers, tag)


def frontier(model: str | ModelConfig, device: str | Device, devices: int | None = None, context: int = 2048,
             batches: Iterable[int] | None = None, dtype: str = "bf16", prec: Precision | None = None,
             ideal: bool = False, overlap: str = "max", tp: int | None = None, pp: int | None = None):
    """Throughput against interactivity for one system (a device type × count) as batch grows.

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
    ideal : bool
        Leave out latency and overhead terms.
    overlap : str
        ``max`` or ``sum``.
    tp, pp : int, optional
        Force the layout [1].

    Returns
    -------
    pandas.DataFrame
        The :data:`COLUMNS` model, device, devices, batch, context, tpot_s [s], tokens_per_s_per_user
        (= 1 / tpot) [1/s], tokens_per_s [1/s], tokens_per_s_per_device [1/s], tokens_per_s_per_kw
        [1/(s kW)] and bound, up to the largest batch whose KV cache still fits beside the weights. For an
        estimate-based device, ``*_best`` and ``*_worst`` columns of the per-user and per-device rates give
        the band.

    Raises
    ------
    CapacityError
        When even batch 1 does not fit.
    """
    m = get_model(model)
    dev = get_device(device)
    prec = prec or Precision.of(dtype)
    pl = place(m, dev, prec, 1, context, devices, tp, pp)
    B = _fitting_batches(m, dev, prec, pl, context, batches)
    shapes = {"b": B, "s": np.full_like(B, context)}
    r = _run(m, dev, Phase.DECODE, prec, pl, shapes, ideal, overlap, Corner.NOMINAL)
    t = r["time_s"]
    power = dev.power_w
    corners = None
    if dev.is_estimate:  # the frontier of an estimate-based device is a band: best and worst corners
        tw = {c: _run(m, dev, Phase.DECODE, prec, pl, shapes, ideal, overlap, c)["time_s"] for c in _CORNERS}
        corners = {c: {"tokens_per_s_per_user": 1.0 / tw[c], "tokens_per_s_per_device": B / tw[c] / pl.devices}
                   for c in _CORNERS}
    plan = _Plan(m, prec, Phase.DECODE, [(dev, pl)], B, np.asarray([float(context)]), ideal, overlap,
                 [corners is not None])
    return _frontier_frame(plan, r, power, corners)


def _frontier_frame(plan: _Plan, r: dict, power, corners):
    import pandas as pd

    (dev, pl), B, t = plan.systems[0], plan.B, r["time_s"]
    df = _frame({
        "model": plan.model.key, "device": dev.key, "devices": pl.devices, "context": int(plan.S[0]),
        "batch": B.astype(np.int64), "tpot_s": t, "tokens_per_s_per_user": 1.0 / t, "tokens_per_s": B / t,
        "tokens_per_s_per_device": B / t / pl.devices,
        "tokens_per_s_per_kw": (B / t / (pl.devices * power / 1e3)) if power else np.nan,
        "bound": pd.Categorical.from_codes(r["bound_index"], categories=list(r["labels"]))}, corners)
    df.attrs.update(_attrs(plan, "frontier", df.columns))
    return df


def _fitting_batches(m: ModelConfig, dev: Device, prec: Precision, pl: Placement, context: int, batches):
    """The batches (default 160 from 1 to 65,536 on a log scale) whose KV cache fits beside the weights."""
    B = np.unique(np.asarray(list(batches) if batches is not None else np.unique(np.round(np.geomspace(1, 65536, 160))),
                             dtype=float))
    B = B[_resident_per_device(m, prec, pl.parallel, B, context) <= dev.memory[pl.home].capacity_bytes]
    if B.size == 0:
        raise CapacityError(f"{m.key} at context {context} does not fit {pl.devices} x {dev.key} even at batch 1")
    return B


# ------------------------------------------------------------------------------------------------------
# the chunked forms of 0.1 (decode_sweep with out= or reduce= does the same)
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
        part = _span(plan, k, lo, hi)
        const = _constants(plan, k)
        df = _frame({"model": const["model"], "device": const["device"], "devices": const["devices"],
                     "batch": part["batch"], "context": part["context"], "time_s": part["time_s"],
                     "tokens_per_s_per_user": part["tokens_per_s_per_user"], "tokens_per_s": part["tokens_per_s"],
                     "tokens_per_s_per_device": part["tokens_per_s"] / const["devices"],
                     "bound": pd.Categorical.from_codes(part["bound"], categories=plan.bounds),
                     "fits": part["fits"]})
        df.attrs.update(_attrs(plan, "llm_sweep_chunks", df.columns))
        yield df


def llm_sweep_to_parquet(path, model, devices, batch, context, device_counts=None, dtype: str = "bf16",
                         ideal: bool = False, phase: str = "decode", chunk: int = 1 << 20, progress: bool = True) -> int:
    """Evaluate the grid chunk by chunk and append each chunk to the Parquet file ``path``.

    The same as ``decode_sweep(..., out=path)``; memory stays at one chunk per thread whatever the grid's
    size, and each chunk is one row group.

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
    if frame_format(path) != "parquet":
        raise InputError(f"{path}: llm_sweep_to_parquet writes a .parquet file")
    return decode_sweep(model, devices, batch, context, device_counts, dtype, ideal=ideal, phase=phase, out=path,
                        chunk=chunk, progress=progress, ranges=False)


def llm_sweep_reduce(model, devices, batch, context, device_counts=None, dtype: str = "bf16", ideal: bool = False,
                     reduce: str = "best", min_tokens_per_s_per_user: float = 0.0, chunk: int = 1 << 20,
                     progress: bool = False):
    """Fold a grid of any size into a small result without holding its points:
    ``decode_sweep(..., reduce=reduce)``.

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
