"""Validation against published measurements: every measurement set against roofline's bound for it.

A roofline is an upper bound on speed (a lower bound on time). A measurement that beats its *ideal*
bound is a bug in the model or a spec; a measurement far below it says what the model leaves out. The
data set is ``measurements/measurements.csv`` (each row with its configuration and source).

Each row is set against three figures (:data:`roofline.llm.inference.MODES`): the **ideal** bound (the pure
roofline) and the **latency bound** (the roofline plus the latency no implementation avoids), both with every
estimated figure at its favourable end, which no measurement may beat; and the **estimate** (realistic
latency terms, at the nominal figures, with its best-to-worst range), which a measurement should land near.
:func:`category_summary` gives, per category, the distribution of measured against estimated speed. The
metrics:

* ``membw`` — the main memory's datasheet bandwidth;
* ``gemm`` — the attainable FLOP/s of that GEMM shape (columns ``gemm_m``, ``gemm_n``, ``gemm_k``,
  ``gemm_dtype``);
* ``tokens_per_s_per_user`` — 1 / time per output token at the row's batch and context (prompt plus
  half the output; 128 tokens when unstated, which favours the device);
* ``time_per_output_token_s`` / ``time_to_first_token_s`` — the decode-step / prefill time;
* ``tokens_per_s`` (a whole system) — with a stated batch, batch / time per token; with input and output
  lengths and no batch, the serving bound of :mod:`roofline.llm.serving` (continuous batching, the best
  layout and pool split the system can express); otherwise the most any batch that fits can reach;
* ``input_tokens_per_s`` — the prompt tokens a prefill pool can take per second (serving bound).

A row may state its layout in the trailing column ``layout``, ``key=value`` pairs joined by ``;`` (a file
may leave the column out; an empty cell states nothing): ``tp``, ``pp``, ``dp``, ``ep``, ``attention`` (``tp``
or ``dp``), ``micro_batches``, ``imbalance``, and for a disaggregated system ``pool`` (``prefill`` or ``decode``: the
row measures that pool alone, the other phase taken as free, as DeepSeek and SGLang measure theirs) and
``pool_devices`` (the devices of the pool, when the value is stated per node or per device:
``device_count`` then names the devices the value is per). A pool whose size the source leaves out is
taken as large as the device's fastest link domain (the favourable end: a wider pool spreads the experts
thinner and holds more sequences).

Where a row leaves the precision unstated, the bounds take the most favourable: the narrowest type the device
computes (FP4 on B200, FP8 on Hopper, 16-bit elsewhere) and any weight type the model is published in
(``[published] weight_dtypes`` of its config) that is narrower still, run weight-only: on a wafer, 8- or
4-bit weights buy no compute but need fewer wafers. The estimate spans the plausible ones: on a device that
computes nothing narrower than 16 bits the model's published types (the native release nominal) and, at the worst
end, the weights widened to 16 bits (whether a server keeps 8- or 4-bit weights narrow in its memory or widens
them to the type it computes in is not published), elsewhere the narrowest computed type (nominal) and narrower
published ones. The row says so in ``assumptions``.

Rows that use speculative decoding are compared like every other row, against a speculative bound
(:mod:`roofline.llm.speculative`). Their column ``speculative`` is ``true`` (nothing stated) or the
configuration the source states, ``key=value`` pairs joined by ``;``: ``draft=<model>``, ``mtp=<K>``,
``eagle=<K>`` or ``medusa[=<K>]`` (heads whose cost is not modelled: a free draft of ``K`` tokens), then
``gamma=<tokens drafted>`` and ``alpha=<acceptance>``. What the source leaves out is read, in the bounds, at
its favourable end: a draft that costs nothing and the highest published acceptance rate of that kind of
draft (:data:`roofline.llm.speculative.ACCEPTANCE`); in the estimate at the nominal one: the smallest model
that shares the target's vocabulary as the draft (else a one-layer EAGLE head), on the target's devices, at
the kind's nominal acceptance. Both take the best draft length up to :data:`UNSTATED_DRAFT_TOKENS`.
"""

from __future__ import annotations

import csv
import math
import os
from pathlib import Path

from ..errors import CapacityError, InputError, SpecError
from ..hardware.library import get_device
from ..hardware.measured import datasheet_pinned, mode_device
from ..vocab import Corner, Mode

#: Estimates of the rows being validated, by row, speculative configuration and options (each row's
#: estimate carries every mode, so one call serves all three figures)
_ESTIMATES: dict = {}

__all__ = ['FIELDS', 'OPTIONAL_FIELDS', 'UNSTATED_DRAFT_TOKENS', 'default_path', 'load_measurements', 'validate',
           'validation_frame', 'category_summary']


#: The columns of the measurement file, in order.
FIELDS = ("id", "category", "device", "device_count", "model", "weight_dtype", "kv_dtype", "batch",
          "input_tokens", "output_tokens", "context", "tp", "pp", "software", "gemm_m", "gemm_n", "gemm_k",
          "gemm_dtype", "speculative", "metric", "value", "unit", "source_title", "source_url", "source_date",
          "locator", "note", "layout")
#: Columns a measurement file may leave out (each row then states nothing there).
OPTIONAL_FIELDS = ("layout",)
#: The longest draft a bound tries when a source does not state the draft length: twice the 8 of the deepest
#: configuration behind :data:`roofline.llm.speculative.ACCEPTANCE` [tokens].
UNSTATED_DRAFT_TOKENS = 16

#: The keys of a stated speculative configuration, and how each value is read.
_SPEC_KEYS = {"draft": str, "mtp": int, "eagle": int, "medusa": int, "gamma": int, "alpha": float}

_INTS = ("device_count", "batch", "input_tokens", "output_tokens", "context", "tp", "pp", "gemm_m", "gemm_n", "gemm_k")

#: The keys of the optional ``layout`` column, and how each value is read.
_LAYOUT_KEYS = {"tp": int, "pp": int, "dp": int, "ep": int, "micro_batches": int, "attention": str,
                "imbalance": float, "pool": str, "pool_devices": int}


def default_path() -> Path:
    """The shipped measurement file.

    Returns
    -------
    pathlib.Path
    """
    from .._paths import data_dir

    return data_dir("measurements") / "measurements.csv"


#: The largest count a measurement row may give (float64 holds whole numbers exactly up to 2**53).
_MAX_COUNT = 2**53


def _count(text: str, p: Path, where: str) -> int | None:
    """A whole number of at least 1 (``"8"``, ``"1e3"``), or None for an empty cell; never truncated."""
    if not text.strip():
        return None
    try:
        v = float(text)
    except ValueError:
        raise SpecError(p, where, f"expected a whole number, got {text!r}") from None
    if not (math.isfinite(v) and v.is_integer() and 1 <= v <= _MAX_COUNT):
        raise SpecError(p, where, f"expected a whole number from 1 to 2**53, got {text!r}")
    return int(v)


def _parse_row(r: dict, p: Path, line: int) -> dict:
    if None in r or any(v is None for v in r.values()):  # csv.DictReader: extra cells under None, missing ones None
        cells = sum(v is not None for k, v in r.items() if k is not None) + len(r.get(None) or ())
        raise SpecError(p, f"line {line}", f"expected {len(FIELDS)} columns, got {cells}")
    try:
        r["value"] = float(r["value"])
    except ValueError:
        raise SpecError(p, f"line {line}: value", f"expected a number, got {r['value']!r}") from None
    if not (math.isfinite(r["value"]) and 0 < r["value"] <= 1e30):
        raise SpecError(p, f"line {line}: value", f"expected a positive finite number, got {r['value']!r}")
    for k in _INTS:
        r[k] = _count(r[k], p, f"line {line}: {k}")
    r["speculative_config"] = _speculative_config(r["speculative"], p, line)
    r["speculative"] = r["speculative_config"] is not None
    r["layout"] = _layout_config(r.get("layout") or "", p, line)
    if r["metric"] == "flops_per_s" and not all(r[k] for k in ("gemm_m", "gemm_n", "gemm_k")):
        raise SpecError(p, f"line {line}: gemm_m", "a GEMM row needs gemm_m, gemm_n, gemm_k and gemm_dtype")
    return r


def _speculative_config(text: str, p: Path, line: int) -> dict | None:
    """``false`` → None; ``true`` → ``{}`` (speculative, nothing stated); ``k=v;k=v`` → the stated values."""
    t = text.strip()
    if t.lower() in ("true", "false"):
        return {} if t.lower() == "true" else None
    out: dict = {}
    for part in filter(None, (x.strip() for x in t.split(";"))):
        key, _, val = part.partition("=")
        key = key.strip().lower()
        if key not in _SPEC_KEYS or (not val.strip() and key != "medusa"):
            raise SpecError(p, f"line {line}: speculative", f"expected true, false or key=value pairs of "
                            f"{', '.join(_SPEC_KEYS)} joined by ';', got {text!r}")
        try:
            out[key] = _SPEC_KEYS[key](val.strip()) if val.strip() else None
        except ValueError:
            raise SpecError(p, f"line {line}: speculative", f"{key}={val.strip()!r} is not a {_SPEC_KEYS[key].__name__}") \
                from None
    return out


def _layout_config(text: str, p: Path, line: int) -> dict:
    """The ``layout`` column: ``key=value`` pairs joined by ``;`` (empty: nothing stated)."""
    out: dict = {}
    for part in filter(None, (x.strip() for x in text.split(";"))):
        key, _, val = (x.strip() for x in part.partition("="))
        if key not in _LAYOUT_KEYS or not val:
            raise SpecError(p, f"line {line}: layout", f"expected key=value pairs of {', '.join(_LAYOUT_KEYS)} "
                            f"joined by ';', got {text!r}")
        try:
            out[key] = _LAYOUT_KEYS[key](val)
        except ValueError:
            raise SpecError(p, f"line {line}: layout", f"{key}={val!r} is not a {_LAYOUT_KEYS[key].__name__}") \
                from None
    if out.get("pool", "decode") not in ("prefill", "decode", "colocated"):
        raise SpecError(p, f"line {line}: layout", f"pool must be prefill, decode or colocated, got {out['pool']!r}")
    return out


def load_measurements(path: str | os.PathLike | None = None) -> list[dict]:
    """Rows of the measurement data set, with numbers parsed.

    Parameters
    ----------
    path : path-like, optional
        A CSV file with the columns :data:`FIELDS`, :data:`OPTIONAL_FIELDS` may be left out (default: the
        shipped one).

    Returns
    -------
    list of dict

    Raises
    ------
    SpecError
        A missing column or a malformed row, naming the file and the line.
    """
    p = Path(path) if path else default_path()
    try:
        with open(p, newline="", encoding="utf-8") as fh:
            reader = csv.DictReader(fh)
            missing = [f for f in FIELDS if f not in (reader.fieldnames or []) and f not in OPTIONAL_FIELDS]
            if missing:
                raise SpecError(p, missing[0], "missing column")
            return [_parse_row(r, p, i) for i, r in enumerate(reader, start=2)]
    except OSError as exc:
        what = "it is a folder" if p.is_dir() else (exc.strerror or str(exc))
        raise SpecError(p, "", f"cannot read the measurement file ({what})") from None
    except UnicodeDecodeError:
        raise SpecError(p, "", "cannot read the measurement file: not UTF-8 text") from None
    except csv.Error as exc:
        raise SpecError(p, "", f"not a valid CSV file ({exc})") from None


def _sixteen(dev) -> str:
    """The device's 16-bit type (bf16 unless it only has fp16)."""
    return "bf16" if "bf16" in dev.compute or "fp16" not in dev.compute else "fp16"


def _on_device(w: str, kv: str, dev, assumed: list):
    """Weights of type ``w`` as the device runs them: in their own type where it has a peak for it (W8A8,
    W4A4), else in 16 bits after dequantising (weight-only)."""
    from ..llm.precision import Precision

    sixteen = _sixteen(dev)
    w = "bf16" if w == "fp16" and "bf16" in dev.compute else w
    if not kv:
        kv = "fp8" if ("fp8" in dev.compute and w in ("fp8", "fp4", "int4", "int8", "mxfp4", "int4_g32")) else sixteen
        if kv == "fp8":
            assumed.append("KV-cache precision not stated: fp8 assumed")
    from ..dtypes import peak_dtype

    act = peak_dtype(w, dev.compute) or sixteen  # a block-scaled type at its element type's peak (mxfp4: fp4)
    if act != w and act == sixteen:
        assumed.append(f"{w} weights dequantised to {act} (no {w} peak)")
    return Precision(w, act, kv)


def _precision(r: dict, dev):
    """The row's precision, read in the way most favourable to the device (so the bound stays a bound): the
    stated one, else the narrowest type the device computes (fp4, fp8, else 16 bits)."""
    w = r["weight_dtype"].strip()
    assumed = []
    if not w:
        w = "fp4" if "fp4" in dev.compute else ("fp8" if "fp8" in dev.compute else _sixteen(dev))
        assumed.append(f"precision not stated: {w} assumed (the most favourable)")
    return _on_device(w, r["kv_dtype"].strip(), dev, assumed), assumed


def _published(r: dict) -> list[str]:
    """The weight types the model's authors publish it in (``[published] weight_dtypes`` of its config,
    the native release first); empty when the config does not say."""
    from ..dtypes import bytes_per_element

    names = list(getattr(r["model"], "published", {}).get("weight_dtypes", ()) or ())
    for n in names:
        bytes_per_element(n)  # an unknown name fails here, with the known ones
    return names


def _precisions(r: dict, dev, mode: Mode) -> tuple[list, list[str]]:
    """The precisions a row is evaluated at, and the assumptions: one when the row states it; else the
    device's narrowest computed type (:func:`_precision`) and any published weight type narrower still
    (fewer bytes: fewer wafers or devices, less to read), of which a bound takes the best. The estimate
    (first: its nominal) spans the plausible ones: on a device that computes nothing narrower than 16 bits
    the model's published types, native release first (quantised weights buy no compute there, only
    capacity and bytes); elsewhere the narrowest computed type, as providers serve, and the narrower
    published ones."""
    from ..dtypes import bytes_per_element

    prec, assumed = _precision(r, dev)
    published = _published(r) if r["metric"] in _LLM_METRICS else []
    if r["weight_dtype"].strip() or not published:
        return [prec], assumed
    narrower = [w for w in published if bytes_per_element(w) < bytes_per_element(prec.weights)]
    names = [prec.weights] + narrower
    if mode is Mode.ESTIMATE and prec.weights == _sixteen(dev):
        # whether a server keeps narrow weights narrow in its memory or widens them to the 16 bits it computes
        # in is not published: the worst corner widens them (more bytes, more wafers)
        names = published + [prec.weights]
    assumed[-1] = (f"precision not stated: {' or '.join(dict.fromkeys(names))} (the model is published in "
                   f"{', '.join(published)}; " + ("the first nominal, the range spans them)" if mode is Mode.ESTIMATE
                                                  else "the most favourable bounds)"))
    kv = r["kv_dtype"].strip()
    return [_on_device(w, kv, dev, assumed) for w in dict.fromkeys(names)], assumed


def _context(r: dict, assumed: list) -> int:
    if r["context"]:
        return r["context"]
    if r["input_tokens"] or r["output_tokens"]:
        return max(1, (r["input_tokens"] or 0) + (r["output_tokens"] or 0) // 2)
    assumed.append("context not stated: 128 tokens assumed")
    return 128


def _membw(r: dict, dev, mode: Mode):
    lvl = dev.main_memory
    det = {"level": lvl.name}
    if mode is Mode.ESTIMATE:
        det["estimate_range"] = [lvl.bandwidth.low, lvl.bandwidth.high]
        return lvl.bandwidth_bytes_per_s, "rate", [], det
    return lvl.bandwidth.at(Corner.BEST), "rate", [], det


def _gemm(r: dict, dev, mode: Mode):
    from ..engine.kernel import kernel_result
    from ..workloads import kernels

    wl = kernels.gemm(r["gemm_m"], r["gemm_n"], r["gemm_k"], dtype=r["gemm_dtype"])
    # one kernel: its launch is avoidable (a persistent kernel), so the latency bound is the roofline
    # a benchmark that repeats one GEMM may find its operands in a cache: the warm case is the bound
    rep = kernel_result(wl, dev, ideal=mode is not Mode.ESTIMATE, warm=True)
    rate, det = rep.attainable_flops_per_s, {"bound_term": rep.bound, "level": rep.home_level}
    if mode is Mode.ESTIMATE:
        det["estimate_range"] = [rate.low, rate.high]
        return rate.nominal, "rate", [], det
    return rate.best, "rate", [], det


def _layout(r: dict, assumed: list) -> dict:
    """The row's device count and layout as ``estimate`` options."""
    extra = {k: v for k, v in r["layout"].items() if k in ("dp", "ep", "attention", "micro_batches", "imbalance")}
    return {**_counts(r, assumed), **extra}


def _counts(r: dict, assumed: list) -> dict:
    """The row's device count and tensor-parallel degree as ``estimate`` options."""
    n = r["device_count"]
    kw = dict(devices=n, tp=r["tp"] if r["tp"] and n and r["tp"] <= n else None)
    if kw["tp"] and n:
        kw["pp"] = max(1, n // kw["tp"])
        kw["devices"] = None if kw["tp"] * kw["pp"] != n else n
        if kw["devices"] is None:
            kw = dict(devices=n, tp=None)
    if n is None:
        assumed.append("device count not stated: the fewest that hold the model")
    return kw


def _estimate(r: dict, dev, spec, **kw) -> dict:
    """The row's estimate (every mode at once), computed once per row and speculative configuration."""
    from ..llm.inference import estimate

    key = (r["id"], spec.describe() if spec is not None else None, tuple(sorted(kw.items())))
    if key not in _ESTIMATES:
        _ESTIMATES[key] = estimate(r["model"], dev, speculation=spec, **kw)
    return _ESTIMATES[key]


def _mode_figure(e: dict, mode: Mode, key: str, det: dict) -> float:
    """The figure ``key`` of ``mode`` in an estimate record; the estimate's range goes into ``det``."""
    rec = e["modes"][str(mode)]
    if mode is Mode.ESTIMATE:
        det["estimate_range"] = rec.get(f"{key}_range", [rec[key], rec[key]])
    return rec[key]


def _per_user(r: dict, dev, mode: Mode, prec, ctx: int, assumed: list, kw: dict, spec=None):
    metric = r["metric"]
    batch = r["batch"] or 1
    if not r["batch"]:
        assumed.append("batch not stated: 1 assumed")
    ttft = metric == "time_to_first_token_s"
    if ttft and not r["input_tokens"]:
        assumed.append("prompt length not stated: 128 tokens assumed")
    e = _estimate(r, dev, spec, batch=batch, context=ctx, prec=prec,
                  prompt=(r["input_tokens"] or 128) if ttft else None, **kw)
    det = {"devices_used": e["devices_used"], "bound_term": e["modes"][str(mode)]["prefill_bound" if ttft else "bound"],
           "level": e["weights_level"], "precision": prec.weights}
    if metric == "tokens_per_s_per_user":
        return _mode_figure(e, mode, "tokens_per_s_per_user", det), "rate", assumed, det
    return _mode_figure(e, mode, "ttft_s" if ttft else "tpot_s", det), "time", assumed, det


def _serves(r: dict, spec) -> bool:
    """Whether a system row is bounded by the serving model: a pool, or request lengths without a batch."""
    return spec is None and (bool(r["layout"].get("pool")) or r["metric"] == "input_tokens_per_s"
                             or (not r["batch"] and bool(r["input_tokens"]) and bool(r["output_tokens"])))


def _pool_size(r: dict, dev, assumed: list) -> int:
    """Devices of the pool (or system) a row measures: stated, or the device's fastest link domain."""
    n = r["layout"].get("pool_devices") or (None if r["layout"].get("pool") else r["device_count"])
    if n:
        return n
    from ..placement.layout import link_for

    lk = link_for(dev, 2)
    n = max(r["device_count"] or 1, dev.link(lk).devices_per_domain if lk else 1)
    assumed.append(f"pool size not stated: {n} devices (the device's fastest link domain)")
    return n


def _serving(r: dict, dev, mode: Mode, prec, ctx: int, assumed: list, kw: dict, spec=None):
    """Output (or, for a prefill pool, input) tokens per second that the serving bound allows the row's
    devices: the pool's bound, shared out per device and multiplied by the devices the value is per."""
    from ..llm.serving import throughput

    lay = dict(r["layout"])
    pool = lay.pop("pool", None) or ("prefill" if r["metric"] == "input_tokens_per_s" else None)
    pool = None if pool == "colocated" else pool
    n = _pool_size(r, dev, assumed)
    lay.pop("pool_devices", None)
    I = r["context"] if pool == "decode" and r["context"] else (r["input_tokens"] or ctx)
    O = 1 if pool == "prefill" else (r["output_tokens"] or 1)
    if pool == "decode" and not r["output_tokens"]:
        assumed.append("output length not stated: the decode steps at the stated context alone")
    t = throughput(r["model"], dev, n, I, O, prec=prec, ideal=mode is Mode.IDEAL, pool=pool, **lay)
    per = (r["device_count"] or n) / n
    value = (t["input_tokens_per_s"] if r["metric"] == "input_tokens_per_s" else t["output_tokens_per_s"]) * per
    return value, "rate", assumed, {"devices_used": n, "bound_term": t["bound"], "precision": prec.weights,
                                    "layout": " ".join(f"{k}={v}" for k, v in t["layout"].items() if k != "pools")}


def _system(r: dict, dev, mode: Mode, prec, ctx: int, assumed: list, kw: dict, spec=None):
    from ..llm.sweeps import frontier

    if _serves(r, spec):
        return _serving(r, dev, mode, prec, ctx, assumed, kw, spec)
    if r["batch"]:
        e = _estimate(r, dev, spec, batch=r["batch"], context=ctx, prec=prec, **kw)
        det = {"devices_used": e["devices_used"], "bound_term": e["modes"][str(mode)]["bound"],
               "precision": prec.weights}
        return _mode_figure(e, mode, "tokens_per_s", det), "rate", assumed, det
    # the best batch that fits; the latency bound is taken as the ideal one there (at large batches latency
    # costs little, and the ideal frontier is a bound on it)
    assumed.append("batch not stated: the best batch that fits")
    f = frontier(r["model"], dev, devices=r["device_count"], context=ctx, prec=prec, ideal=mode is not Mode.ESTIMATE,
                 speculation=spec)
    i = int(f["tokens_per_s"].values.argmax())
    return float(f["tokens_per_s"].iloc[i]), "rate", assumed, {
        "devices_used": int(f["devices"].iloc[0]), "bound_term": str(f["bound"].iloc[i]),
        "batch_at_bound": int(f["batch"].iloc[i]), "precision": prec.weights}


_KERNEL_METRICS = {"bandwidth_bytes_per_s": _membw, "flops_per_s": _gemm}
_LLM_METRICS = {"tokens_per_s_per_user": _per_user, "time_per_output_token_s": _per_user,
                "time_to_first_token_s": _per_user, "tokens_per_s": _system, "input_tokens_per_s": _serving}


def _resolve(r: dict, spec_paths, model_paths) -> dict:
    """The row with its device (and, for an LLM metric, its model) looked up, the extra paths included."""
    out = dict(r, device=get_device(r["device"], spec_paths))
    if r["metric"] in _LLM_METRICS and r["model"]:
        from ..llm.loader import get_model

        out["model"] = get_model(r["model"], model_paths)
    return out


def _bound(r: dict, mode: Mode) -> tuple[float, str, list[str], dict]:
    """(the figure of ``mode``, the sense: 'rate' (measured <= bound) or 'time' (measured >= bound),
    assumptions, details)."""
    # the estimate's measured ceilings; the bounds' datasheet, pinned so that no path derates it
    base = get_device(r["device"])
    dev = mode_device(base, mode) if mode is Mode.ESTIMATE else datasheet_pinned(base)
    metric = r["metric"]
    if metric in _KERNEL_METRICS:
        return _KERNEL_METRICS[metric](r, dev, mode)
    if metric not in _LLM_METRICS:
        raise InputError(f"{r['id']}: unknown metric {metric!r}")
    precs, assumed = _precisions(r, dev, mode)
    ctx = _context(r, assumed)
    kw = _layout(r, assumed)
    specs = _speculations(r, assumed, mode)
    results, failure = [], None
    for prec in precs:
        try:
            results.append(_best(r, dev, mode, prec, ctx, assumed, kw, specs))
        except CapacityError as exc:  # a precision that no longer fits the stated devices: the others bound
            failure = exc
    if not results:
        raise failure
    if mode is not Mode.ESTIMATE:
        return max(results, key=lambda res: _speed(res[0], res[1]))
    nominal = results[0]
    if len(results) > 1:  # the estimate's range spans the plausible precisions
        ends = [_speed(x, res[1]) for res in results for x in res[3].get("estimate_range", [res[0]])]
        lo, hi = min(ends), max(ends)
        nominal[3]["estimate_range"] = [lo, hi] if nominal[1] == "rate" else [1 / lo, 1 / hi]
        nominal[3]["precisions"] = [res[3].get("precision") for res in results]
    return nominal


def _best(r: dict, dev, mode: Mode, prec, ctx: int, assumed: list, kw: dict, specs: list):
    """The most favourable figure over the speculative configurations (the draft lengths tried)."""
    metric = r["metric"]
    best, failure = None, None
    for spec in specs:
        try:
            res = _LLM_METRICS[metric](r, dev, mode, prec, ctx, list(assumed), kw, spec)
        except CapacityError as exc:  # a longer draft that no longer fits: the others still bound the row
            failure = exc
            continue
        if spec is not None:
            res[3].update(speculation=spec.describe(), tokens_per_step=spec.tokens_per_step)
        if best is None or (res[0] > best[0] if res[1] == "rate" else res[0] < best[0]):
            best = res
    if best is None:
        raise failure
    return best


def _speculations(r: dict, assumed: list, mode: Mode = Mode.IDEAL) -> list:
    """The speculative configurations a row's figure tries (``[None]`` for a plain row): what the source
    states, and for what it leaves out, the favourable end in a bound (a draft that costs nothing, the
    highest published acceptance) or the nominal one in the estimate (:func:`_estimate_draft`); both take
    the best draft length up to :data:`UNSTATED_DRAFT_TOKENS` when none is stated (a deployment tunes it)."""
    cfg = r["speculative_config"]
    if cfg is None:
        return [None]
    from ..llm.speculative import ACCEPTANCE, ACCEPTANCE_HIGH, Speculation
    from ..vocab import DraftKind

    kind = next((k for key, k in (("draft", DraftKind.MODEL), ("mtp", DraftKind.MTP), ("eagle", DraftKind.EAGLE))
                 if cfg.get(key)), DraftKind.IDEAL)
    opts = {DraftKind.MODEL: {"draft": cfg.get("draft")}, DraftKind.MTP: {"mtp": cfg.get("mtp")},
            DraftKind.EAGLE: {"eagle": cfg.get("eagle")}, DraftKind.IDEAL: {"ideal": True}}[kind]
    if kind is DraftKind.IDEAL and mode is Mode.ESTIMATE and "medusa" not in cfg:
        kind, opts = _estimate_draft(r, assumed)
    elif kind is DraftKind.IDEAL:
        assumed.append("draft: Medusa heads, not modelled: taken to cost nothing" if "medusa" in cfg
                       else "draft not stated: one that costs nothing")
    alpha = cfg.get("alpha")
    if alpha is None:
        fig = ACCEPTANCE[kind]
        alpha = fig.nominal if mode is Mode.ESTIMATE else (ACCEPTANCE_HIGH if kind is DraftKind.IDEAL else fig.high)
        assumed.append(f"acceptance not stated: {alpha} (" + ("the published nominal rate of this kind of draft)"
                       if mode is Mode.ESTIMATE else "the highest published for this kind of draft)"))
    gamma = cfg.get("gamma") or cfg.get("medusa")
    if not gamma:
        assumed.append(f"draft length not stated: the best of 1 to {UNSTATED_DRAFT_TOKENS} tokens")
    return [Speculation.of(**opts, draft_tokens=g, acceptance=alpha)
            for g in ([gamma] if gamma else range(1, UNSTATED_DRAFT_TOKENS + 1))]


def _estimate_draft(r: dict, assumed: list) -> tuple:
    """The draft an estimate assumes when a source does not say what drafts: the smallest model in the
    library that shares the target's vocabulary (a draft must propose the target's tokens; Cerebras's
    Oct-2024 release describes "a small model and large model in tandem"), run on the target's devices; a
    target with no such model gets a one-layer EAGLE head of its own layers (:mod:`roofline.llm.speculative`),
    the cheapest draft with a published acceptance rate. Returns (kind, options of ``Speculation.of``)."""
    from ..llm.loader import list_models
    from ..vocab import DraftKind

    m = r["model"]
    smaller = [d for d in list_models() if d.vocab_size == m.vocab_size and d.key != m.key
               and d.total_params() < m.total_params()]
    if smaller:
        d = min(smaller, key=lambda d: d.total_params())
        assumed.append(f"draft not stated: {d.key} (the smallest model with the target's vocabulary), "
                       f"on the target's devices")
        return DraftKind.MODEL, {"draft": d.key}
    assumed.append("draft not stated: a one-layer EAGLE head (no smaller model shares the target's vocabulary)")
    return DraftKind.EAGLE, {"eagle": 1}


def _speed(v: float, sense: str) -> float:
    """A figure as a speed (a rate as it is, a time inverted), so that larger is faster."""
    return v if sense == "rate" else 1.0 / v


def _judge(v: float, ideal: float, lat: float, est: float, est_range, sense: str) -> dict:
    """Efficiencies against each bound, the measured/estimate speed ratio, and whether it lies in the range."""
    speed = _speed(v, sense)
    lo, hi = sorted(_speed(x, sense) for x in est_range)
    out = {"bound_ideal": ideal, "bound_latency": lat, "estimate": est, "estimate_range": list(est_range),
           "sense": sense, "efficiency_ideal": speed / _speed(ideal, sense),
           "efficiency_latency": speed / _speed(lat, sense), "ratio_estimate": speed / _speed(est, sense),
           "in_estimate_range": bool(lo * (1 - 1e-9) <= speed <= hi * (1 + 1e-9))}
    out["bound"], out["efficiency"] = out["bound_latency"], out["efficiency_latency"]
    out["violation"] = max(out["efficiency_ideal"], out["efficiency_latency"]) > 1 + 1e-9
    return out


def _row(r: dict, spec_paths=(), model_paths=()) -> dict:
    """One row's record: its configuration and source, its three figures and how it compares."""
    rec = {k: r[k] for k in ("id", "category", "device", "device_count", "model", "weight_dtype", "batch",
                             "input_tokens", "output_tokens", "software", "metric", "value", "unit",
                             "source_title", "source_url", "source_date", "locator")}
    rec["stated_layout"] = ";".join(f"{k}={v}" for k, v in r["layout"].items())
    rec["speculative"] = r["speculative"]
    try:
        rr = _resolve(r, spec_paths, model_paths)
        b_ideal, sense, assumed, det = _bound(rr, Mode.IDEAL)
        b_lat, _, _, det_lat = _bound(rr, Mode.LATENCY_BOUND)
        b_est, _, assumed_est, det_est = _bound(rr, Mode.ESTIMATE)
    except (CapacityError, InputError) as exc:
        rec.update(error=str(exc), efficiency_ideal=None, efficiency=None, ratio_estimate=None, violation=False)
        return rec
    rec.update(assumptions="; ".join(assumed), assumptions_estimate="; ".join(assumed_est), **det)
    rec.update(_judge(r["value"], b_ideal, b_lat, b_est, det_est.get("estimate_range", [b_est, b_est]), sense))
    rec.update(estimate_precision=det_est.get("precision"), estimate_speculation=det_est.get("speculation"))
    rec.update(bound_term_latency=det_lat.get("bound_term"), bound_term_estimate=det_est.get("bound_term"),
               bound_term_with_latency=det_est.get("bound_term"))
    return rec


def validate(path: str | os.PathLike | None = None, spec_paths=(), model_paths=()) -> list[dict]:
    """Each measurement with its ideal bound, its latency bound and its estimate.

    Parameters
    ----------
    path : path-like, optional
        The measurement file (default: the shipped one).
    spec_paths : iterable of path-like
        Extra spec files or folders, where the rows' devices are looked up too.
    model_paths : iterable of path-like
        Extra model files or folders, where the rows' models are looked up too.

    Returns
    -------
    list of dict
        One record per row: the row's configuration and source; ``bound_ideal``, ``bound_latency`` and
        ``estimate`` (with ``estimate_range``) in the row's unit; ``efficiency_ideal`` and
        ``efficiency_latency`` (measured / bound as speeds: at most 1 when the model bounds the measurement;
        ``bound`` and ``efficiency`` repeat the latency bound's); ``ratio_estimate`` (measured / estimated
        speed) and ``in_estimate_range``; ``violation`` (a measurement faster than either bound, speculative
        or not); the binding terms (``bound_term`` of the ideal bound, ``bound_term_latency``,
        ``bound_term_estimate``) and the assumptions made; a speculative row adds the configuration of its
        bound (``speculation``, ``tokens_per_step``).
    """
    _ESTIMATES.clear()
    try:
        return [_row(r, spec_paths, model_paths) for r in load_measurements(path)]
    finally:
        _ESTIMATES.clear()


def category_summary(rows: list[dict], key: str = "ratio_estimate") -> dict[str, dict]:
    """Per category, the distribution of ``key`` (by default measured / estimated speed) over the rows that
    are not speculative and have one.

    Parameters
    ----------
    rows : list of dict
        From :func:`validate`.
    key : str
        The field to summarise [1].

    Returns
    -------
    dict
        ``{category: {"n", "median", "min", "max", "within_2x"}}``; ``within_2x`` counts rows between 0.5
        and 2.
    """
    import statistics

    out: dict[str, dict] = {}
    for cat in dict.fromkeys(r["category"] for r in rows):
        xs = [r[key] for r in rows if r["category"] == cat and not r["speculative"] and r.get(key) is not None]
        if xs:
            out[cat] = {"n": len(xs), "median": statistics.median(xs), "min": min(xs), "max": max(xs),
                        "within_2x": sum(0.5 <= x <= 2 for x in xs)}
    return out


def validation_frame(path: str | os.PathLike | None = None, spec_paths=(), model_paths=()):
    """:func:`validate` as a pandas DataFrame.

    Parameters
    ----------
    path : path-like, optional
        The measurement file.
    spec_paths, model_paths : iterable of path-like
        Extra spec and model files or folders (see :func:`validate`).

    Returns
    -------
    pandas.DataFrame
    """
    import pandas as pd

    return pd.DataFrame(validate(path, spec_paths, model_paths))

