"""Devices side by side: their figures, their balance, and the same workloads timed on each.

:func:`compare` returns plain dicts (for JSON, tables, charts and notebooks); :func:`figure_rows` is its
first half, the devices' figures alone; :func:`comparison_rows` flattens a result into table rows. Rates
carry a ``ratio`` against the first device: above 1 the first device is faster (or larger, or more
efficient).

Nothing is computed here that the library does not define: main memory is :attr:`Device.main_memory`,
the ridge point, bytes per FLOP and FLOP/s per watt are :mod:`roofline.formulas`, and their ranges come
from each figure's values at the device's corners (:func:`roofline.engine.corners.corners_of`), combined
with :func:`roofline.formulas.interval_div` (exact for a quotient of two independent positive figures).
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Callable, Sequence

from ..dtypes import DTYPES, peak_dtype
from ..engine.corners import corners_of
from ..errors import CapacityError, InputError, RooflineError
from ..formulas import bytes_per_flop, flops_per_watt, interval_div, ridge_point
from ..hardware.device import Device, MemoryLevel
from ..hardware.figure import Figure
from ..hardware.library import get_device
from ..vocab import Corner, MemoryKind
from .format import human_range, term_name

__all__ = ['DEFAULT_MODELS', 'TABLES', 'compare', 'figure_rows', 'comparison_rows', 'tidy_rows']


#: The default LLM workloads of ``roofline compare``.
DEFAULT_MODELS = ("llama-3.1-8b", "llama-3.1-70b")


#: Data types compared, in the order of the dtype table; the comparison has never listed the FP64 tensor
#: peak or int4 (a weight-only type), and keeps its rows as they were.
_COMPARED_DTYPES = tuple(d for d in DTYPES if d not in ("fp64_tensor", "int4"))


def _fig(value, fig=None, unit="", rng=None):
    out = {"value": value, "unit": unit}
    if fig is not None and fig.is_range:
        out["range"] = [fig.low, fig.high]
    elif rng is not None:
        out["range"] = list(rng)
    return out


def _span(dev: Device, at: Callable[[Corner], float]) -> tuple[float, float]:
    """(low, high) of a figure over the corners of ``dev``."""
    values = [at(c) for c in corners_of(dev)]
    return min(values), max(values)


def _quotient(dev: Device, formula, num: Figure, num_at, den: Figure, den_at, unit: str) -> dict:
    """``formula(numerator, denominator)`` at the nominal figures, with its range where either is a range."""
    out = _fig(formula(num_at(Corner.NOMINAL), den_at(Corner.NOMINAL)), unit=unit)
    if num.is_range or den.is_range:
        out["range"] = list(interval_div(_span(dev, num_at), _span(dev, den_at)))
    return out


def _per_device(devs: list[Device], fn) -> dict:
    out = {}
    for dev in devs:
        try:
            out[dev.key] = fn(dev)
        except (RooflineError, ZeroDivisionError):  # a device without this data type or figure
            out[dev.key] = None
    return out


def _compute_rows(devs: list[Device]) -> list[dict]:
    dts = [d for d in _COMPARED_DTYPES if any(d in dev.compute for dev in devs)]
    return [{"section": "compute", "quantity": f"{dt.upper()} dense", "unit": "FLOP/s", "better": "higher",
             "values": {dev.key: (_fig(dev.peak(dt), dev.peak_figure(dt), "FLOP/s") if dt in dev.compute else None)
                        for dev in devs}}
            for dt in dts]


def _level_row(devs: list[Device], name: str, pick: Callable[[Device], MemoryLevel | None], attr: str,
               unit: str) -> dict:
    vals = {}
    for dev in devs:
        lvl = pick(dev)
        if lvl is None:
            vals[dev.key] = None
            continue
        f = getattr(lvl, attr)
        vals[dev.key] = {**_fig(f.value, f, unit), "level": lvl.name} if attr == "capacity" else _fig(f.value, f, unit)
    return {"section": "memory", "quantity": name, "unit": unit, "better": "higher", "values": vals}


def _external(dev: Device) -> MemoryLevel | None:
    return next((m for m in dev.memory if m.kind == MemoryKind.EXTERNAL), None)


def _memory_rows(devs: list[Device]) -> list[dict]:
    fastest = lambda dev: dev.memory[0]  # noqa: E731
    main = lambda dev: dev.main_memory  # noqa: E731
    rows = [_level_row(devs, "fastest memory", fastest, "capacity", "B"),
            _level_row(devs, "fastest memory BW", fastest, "bandwidth", "B/s"),
            _level_row(devs, "main memory", main, "capacity", "B"),
            _level_row(devs, "main memory BW", main, "bandwidth", "B/s")]
    if any(_external(d) for d in devs):
        rows += [_level_row(devs, "external memory", _external, "capacity", "B"),
                 _level_row(devs, "external memory BW", _external, "bandwidth", "B/s")]
    return rows


def _balance_rows(devs: list[Device], dtype: str) -> list[dict]:
    def ridge(dev):
        bw = dev.main_memory.bandwidth
        return _quotient(dev, ridge_point, dev.peak_figure(dtype), lambda c: dev.peak(dtype, which=c),
                         bw, bw.at, "FLOP/B")

    def bpf(dev):
        bw = dev.main_memory.bandwidth
        return _quotient(dev, bytes_per_flop, bw, bw.at, dev.peak_figure(dtype),
                         lambda c: dev.peak(dtype, which=c), "B/FLOP")

    return [{"section": "balance", "quantity": f"ridge point ({dtype.upper()}, main)", "unit": "FLOP/B",
             "better": "lower", "values": _per_device(devs, ridge)},
            {"section": "balance", "quantity": "bytes per FLOP (main)", "unit": "B/FLOP",
             "better": "higher", "values": _per_device(devs, bpf)}]


def _link(dev: Device) -> dict | None:
    lk = next((lk for lk in dev.interconnect if lk.devices_per_domain > 1), None)
    if lk is None:
        return None
    per_direction = lk.per_direction
    out = _fig(lk.per_direction_bytes_per_s, unit="B/s",
               rng=_span(dev, per_direction) if lk.bandwidth.is_range else None)
    out.update(link=lk.name, domain=lk.devices_per_domain)
    return out


def _power_rows(devs: list[Device], dtype: str) -> list[dict]:
    def power(dev):
        return _fig(dev.power_w, dev.figures["power.tdp"], "W") if dev.power_w else None

    def efficiency(dev):
        w = dev.figures.get("power.tdp")
        if w is None:
            return None
        return _quotient(dev, flops_per_watt, dev.peak_figure(dtype), lambda c: dev.peak(dtype, which=c),
                         w, w.at, "FLOP/s/W")

    return [{"section": "power", "quantity": "power", "unit": "W", "better": "lower",
             "values": _per_device(devs, power)},
            {"section": "power", "quantity": f"{dtype.upper()} per watt", "unit": "FLOP/s/W",
             "better": "higher", "values": _per_device(devs, efficiency)}]


def figure_rows(devices: Sequence[Device], dtype: str = "bf16") -> list[dict]:
    """The devices' figures side by side: peaks, memories, balance, link and power.

    The balance rows are taken against main memory (:attr:`Device.main_memory`):

    .. math:: I^* = \\frac{P}{BW_\\text{main}}, \\qquad \\beta = \\frac{BW_\\text{main}}{P},
              \\qquad \\eta = \\frac{P}{W}

    (:func:`~roofline.formulas.ridge_point`, :func:`~roofline.formulas.bytes_per_flop`,
    :func:`~roofline.formulas.flops_per_watt`), each with its range where a figure is a range.

    Parameters
    ----------
    devices : sequence of Device
        The devices, the first one the reference of the ratios.
    dtype : str
        Data type of the peak in the balance and efficiency rows.

    Returns
    -------
    list of dict
        One row per quantity: ``section``, ``quantity``, ``unit``, ``better`` (``"higher"`` or
        ``"lower"``) and ``values``, by device key, ``{"value", "unit", "range"?, "level"?, "link"?,
        "domain"?}`` or ``None`` where a device has no such figure. Without ``ratio_vs_first``.
    """
    devs = list(devices)
    link = {"section": "interconnect", "quantity": "link to other devices", "unit": "B/s", "better": "higher",
            "values": _per_device(devs, _link)}
    return (_compute_rows(devs) + _memory_rows(devs) + _balance_rows(devs, dtype) + [link]
            + _power_rows(devs, dtype))


def _kernel_rows(devs: list[Device], dtype: str, ideal: bool, size: int) -> list[dict]:
    from ..engine.kernel import kernel_report
    from ..workloads.recipes import Recipe

    rows = []
    for name, wl in ((f"GEMM {size}³", Recipe("gemm", m=size, n=size, k=size, dtype=dtype)),
                     (f"GEMV {size}²", Recipe("gemv", n=size, k=size, dtype=dtype))):
        vals = {}
        for dev in devs:
            try:
                r = kernel_report(wl, dev, ideal=ideal)
            except (CapacityError, InputError) as exc:
                vals[dev.key] = _error_cell(exc)
                continue
            vals[dev.key] = {"value": r["time_s"], "unit": "s", "bound": r["bound"]}
            if "time_s_range" in r:
                vals[dev.key]["range"] = r["time_s_range"]
        rows.append({"section": "kernels", "workload": name + " time", "metric": "time", "unit": "s", "better": "lower",
                     "values": vals})
    return rows


def _llm_cells(r: dict) -> tuple[dict, dict]:
    """The decode and prefill cells of one :func:`~roofline.llm.inference.estimate` result."""
    dec = {"value": r["tokens_per_s_per_user"], "unit": "tokens/s", "bound": r["bound"],
           "devices_used": r["devices_used"], "level": r["weights_level"]}
    if "tokens_per_s_per_user_range" in r:
        dec["range"] = r["tokens_per_s_per_user_range"]
    pre = {"value": r["ttft_s"], "unit": "s", "bound": r["prefill_bound"], "devices_used": r["devices_used"]}
    if "ttft_s_range" in r:
        pre["range"] = r["ttft_s_range"]
    return dec, pre


def _cost_cells(r: dict) -> tuple[dict | None, dict | None]:
    """The cost cells (USD per million tokens, tokens/s per MW) of one estimate; None where it has none."""
    cells = []
    for key, unit in (("usd_per_million_tokens", "USD"), ("tokens_per_s_per_mw", "tokens/s/MW")):
        if r.get(key) is None:
            cells.append(None)
            continue
        cell = {"value": r[key], "unit": unit}
        if f"{key}_range" in r:
            cell["range"] = r[f"{key}_range"]
        if key == "usd_per_million_tokens":
            cell["price_source"] = r["price_source"]
        cells.append(cell)
    return cells[0], cells[1]


def _llm_rows(devs: list[Device], models: Sequence[str], batch: int, context: int, dtype: str,
              ideal: bool, price=None, speculation=None, layout=None) -> list[dict]:
    from ..llm.inference import estimate
    from ..llm.precision import Precision

    prec = Precision.of(dtype)
    rows = []
    for model in models:
        dec, pre, usd, mw = {}, {}, {}, {}
        for dev in devs:
            try:
                r = estimate(model, dev, batch=batch, context=context, prec=prec, ideal=ideal, price=price,
                             speculation=speculation, **dict(layout or {}))
            except (CapacityError, InputError) as exc:
                dec[dev.key] = pre[dev.key] = usd[dev.key] = mw[dev.key] = _error_cell(exc)
                continue
            dec[dev.key], pre[dev.key] = _llm_cells(r)
            usd[dev.key], mw[dev.key] = _cost_cells(r)
        rows.append({"section": "llm", "workload": f"{model} tokens/s/user", "model": model, "phase": "decode",
                     "metric": "tokens/s per user", "unit": "tokens/s", "better": "higher", "values": dec})
        rows.append({"section": "llm", "workload": f"{model} first token", "model": model, "phase": "prefill",
                     "metric": "time to first token", "unit": "s", "better": "lower", "values": pre})
        rows.append({"section": "cost", "workload": f"{model} USD/M tokens", "model": model,
                     "phase": "decode", "metric": "USD per million tokens", "unit": "USD", "better": "lower",
                     "values": usd})
        rows.append({"section": "cost", "workload": f"{model} tokens/s/MW", "model": model, "phase": "decode",
                     "metric": "tokens/s per MW", "unit": "tokens/s/MW", "better": "higher", "values": mw})
    return rows


def _error_cell(exc: RooflineError) -> dict:
    """A cell for a workload that cannot run on a device: why, in words and as a reason code."""
    return {"value": None, "error": str(exc), "reason": "capacity" if isinstance(exc, CapacityError) else "input"}


def _ratios(rows: list[dict], devs: list[Device]) -> None:
    first = devs[0].key
    for row in rows:
        base = (row["values"].get(first) or {}).get("value")
        ratios = {}
        for dev in devs[1:]:
            v = (row["values"].get(dev.key) or {}).get("value")
            if base and v:
                ratios[dev.key] = (base / v) if row["better"] in ("higher",) else (v / base)
            else:
                ratios[dev.key] = None
        row["ratio_vs_first"] = ratios


def _devices(devices: Sequence[str | Device], dtype: str, spec_paths) -> list[Device]:
    from ..dtypes import bytes_per_element

    if len(devices) < 2:
        raise InputError("compare needs at least two devices")
    devs = [get_device(d, spec_paths) for d in devices]
    if len({d.key for d in devs}) != len(devs):
        raise InputError("compare needs different devices")
    bytes_per_element(dtype)
    missing = [d.key for d in devs if peak_dtype(dtype, d.compute) is None]
    if missing:
        raise InputError(f"{', '.join(missing)} publish no {dtype} peak; choose another --dtype")
    return devs


def compare(devices: Sequence[str | Device], models: Sequence[str] | None = None, batch: int = 1,
            context: int = 2048, dtype: str = "bf16", ideal: bool = False, spec_paths=(), price=None,
            speculation=None, layout=None, fork: bool = False) -> dict:
    """Compare ``devices``: their figures (:func:`figure_rows`), and default (or given) workloads timed on each.

    The workloads are a square GEMM and a GEMV of 8192 and, per model, decode (tokens/s per user),
    prefill (time to first token) and the decode's cost (USD per million tokens at the price per
    device-hour, tokens/s per MW) on the fewest devices that hold the model.

    Parameters
    ----------
    devices : sequence of str or Device
        Two or more different devices (keys, aliases or devices); the first is the reference.
    models : sequence of str, optional
        LLMs to time (default :data:`DEFAULT_MODELS`).
    batch : int
        Sequences decoded together [1].
    context : int
        Tokens in context, and the prompt length of prefill [1].
    dtype : str
        Data type of the workloads and of the balance rows; every device must publish its peak.
    ideal : bool
        Drop the latency terms (the pure roofline).
    spec_paths : iterable of path
        Extra spec files or folders.
    price : float or mapping of str to float, optional
        Rental price per device-hour [USD/h], for every device or per device key; default the price
        table's (a device without one gets no cost cell).
    speculation : Speculation, optional
        Speculative decoding for the LLM rows (:class:`roofline.llm.speculative.Speculation`).
    layout : mapping, optional
        Layout of the LLM rows: ``tp``, ``pp``, ``dp``, ``ep``, ``attention``, ``micro_batches``,
        ``imbalance`` (:func:`roofline.placement.place`); default the fewest devices that hold the model.
    fork : bool
        On a comparison's first run, build the later devices' workloads on other cores (:func:`_build_side_by_side`).

    Returns
    -------
    dict
        ``{"devices": [...], "dtype", "batch", "context", "ideal", "specs": [rows], "workloads": [rows]}``
        (and ``"speculation"`` with a draft).
        Each row maps a device key to ``{"value", "unit", "range"?, "bound"?, "devices_used"?}`` and has
        ``ratio_vs_first`` (above 1: the first device is ahead). A device's ``estimate`` is
        :attr:`Device.is_estimate`.

    Raises
    ------
    InputError
        Fewer than two devices, the same device twice, or a device without a ``dtype`` peak.
    """
    devs = _devices(devices, dtype, spec_paths)
    specs = figure_rows(devs, dtype)
    loads = _workload_rows(devs, list(models) if models else list(DEFAULT_MODELS), batch, context, dtype, ideal,
                           price, speculation, layout, fork)
    _ratios(specs, devs)
    _ratios(loads, devs)
    return {"devices": [{"key": d.key, "name": d.name, "vendor": d.vendor, "kind": d.kind, "status": d.status,
                         "estimate": d.is_estimate} for d in devs],
            "dtype": dtype, "batch": batch, "context": context, "ideal": ideal, "specs": specs, "workloads": loads,
            **({"speculation": speculation.to_dict()} if speculation is not None else {})}


def _workload_rows(devs: list[Device], models: list[str], batch: int, context: int, dtype: str, ideal: bool,
                   price, speculation, layout, fork: bool) -> list[dict]:
    """The kernel and LLM rows of :func:`compare`; with ``fork``, a cold first run builds side by side."""
    marker = _built_marker(devs, models, batch, context, dtype, ideal, price, speculation, layout) if fork else None
    cold = marker is not None and not marker.exists()
    if cold:
        # the same rows, one device and one model (or the kernels) at a time: the units of work shared out
        tasks = [([d], [m]) for m in models for d in devs] + [([d], None) for d in devs]
        _build_side_by_side(marker.parent, tasks, lambda on, only: (
            _llm_rows(on, only, batch, context, dtype, ideal, price, speculation, layout) if only
            else _kernel_rows(on, dtype, ideal, 8192)), prepare=lambda: _prepare(models))
    loads = (_kernel_rows(devs, dtype, ideal, 8192)
             + _llm_rows(devs, models, batch, context, dtype, ideal, price, speculation, layout))
    if cold:
        _touch(marker)
        _prune_markers(marker)
    return loads


def _built_marker(devs: list[Device], *question) -> Path | None:
    """The file in the private cache folder that says this comparison ran once with this code (so its compiled
    workloads are on disk), ``compare-<version of the code>-<question>.built``; None with the cache off, or
    where building in parallel is not possible (one core, no ``fork``)."""
    if not hasattr(os, "fork") or _cores() < 2:
        return None
    from .._paths import cache_dir, package_digest

    folder = cache_dir()
    if folder is None:
        return None
    code = package_digest()
    text = repr((code, [d.key for d in devs], [_stamp(d) for d in devs], question))
    return folder / f"compare-{code[:16]}-{hashlib.sha256(text.encode()).hexdigest()[:32]}.built"


def _stamp(dev: Device) -> str:
    """What of a device a comparison rests on, as text (its file and name; a changed spec file changes the
    compiled workloads' keys anyway, so a stale marker only costs building in one process)."""
    return f"{dev.key}|{dev.file}|{dev.name}"


def _cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def _touch(path: Path) -> None:
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600))
    except OSError:
        pass


#: markers kept per version of the code (the newest; each is an empty file naming one comparison asked)
_MAX_MARKERS = 64
#: age after which a claims folder is taken to be left by a comparison that was killed [s]
_STALE_CLAIMS_S = 3600.0


def _prune_markers(keep: Path, most: int = _MAX_MARKERS) -> None:
    """After a new marker ``keep``: remove the markers of other versions of the code (their compiled workloads'
    keys are dead too; older markers without a version are among them), all but the ``most`` newest of this
    version, and the claims folders a killed comparison left behind (older than :data:`_STALE_CLAIMS_S`). Only
    names this module makes, in the private cache folder; any failure leaves a file for the next time.

    Parameters
    ----------
    keep : Path
        The marker just made: its folder is pruned, its name says the version of the code.
    most : int
        Markers of this version kept [1].
    """
    import shutil
    import time

    version = keep.name.split("-")[1]
    mine, old = [], time.time() - _STALE_CLAIMS_S
    try:
        with os.scandir(keep.parent) as entries:
            for e in entries:
                name = e.name
                if name.startswith("compare-claims-"):
                    if e.is_dir(follow_symlinks=False) and e.stat(follow_symlinks=False).st_mtime < old:
                        shutil.rmtree(e.path, ignore_errors=True)
                elif name.startswith("compare-") and name.endswith(".built"):
                    if name.split("-")[1] == version and name.count("-") == 2:
                        mine.append((e.stat(follow_symlinks=False).st_mtime, name))
                    else:
                        _unlink(e.path)
    except OSError:
        return
    mine.sort(reverse=True)
    for _, name in mine[most:]:
        if name != keep.name:
            _unlink(keep.parent / name)


def _unlink(path) -> None:
    try:
        os.unlink(path)
    except OSError:  # gone already (another comparison pruned it), or not ours to remove
        pass


def _prepare(models: list[str]) -> None:
    """Load, once before the fork, what every process that builds loads on its first task (else each loads it
    again: the same wall time on two cores, twice the CPU): NumPy, the SymPy module every sum loads on first use,
    the kernel and LLM rooms and the models' configs. A model that cannot be read is left to the comparison,
    which says why. (The command line has NumPy start no BLAS threads: the fork copies a one-thread process.)"""
    import numpy  # noqa: F401

    try:
        import sympy.tensor.tensor  # noqa: F401 - ~25 ms, loaded by SymPy's first sum (``Add.flatten``)
    except ImportError:  # another SymPy, laid out otherwise: each process loads what its sums need
        pass

    from ..engine import kernel, pointcode  # noqa: F401
    from ..llm import get_model, inference  # noqa: F401
    from ..workloads import kernels  # noqa: F401

    for m in models:
        try:
            get_model(m)
        except RooflineError:
            pass


def _build_side_by_side(folder: Path, tasks: list[tuple], run: Callable[..., object],
                        prepare: Callable[[], None] | None = None) -> None:
    """A first comparison with a cold cache: its workloads are built (SymPy, the cost of a cold run) by this
    process and forked ones on the other cores, each taking the next task nobody has claimed (a file created
    exclusively in a private folder); they leave the compiled workloads in the disk cache, where the
    comparison proper then finds them. Nothing of a child's reaches the result: a child that fails only
    leaves its tasks to be built again here.

    Parameters
    ----------
    folder : Path
        The private cache folder.
    tasks : list of tuple
        The arguments of each call of ``run``, the largest first.
    run : callable
        Builds (and evaluates) one task.
    prepare : callable, optional
        Loads, before the fork, what every task needs (:func:`_prepare`).
    """
    import gc
    import shutil
    import tempfile

    try:
        claims = Path(tempfile.mkdtemp(dir=folder, prefix="compare-claims-"))  # mode 0700
    except OSError:
        return  # a read-only cache: everything is built by the comparison itself
    collecting = gc.isenabled()
    gc.disable()  # SymPy's import and builds make few cycles: the collector's passes cost ~15 % of them
    import sympy  # noqa: F401 - imported once, before the fork, for every process

    if prepare is not None:
        prepare()

    pids: list[int] = []
    try:
        for _ in range(min(len(tasks), _cores()) - 1):
            try:
                pid = os.fork()
            except OSError:  # no process to spare: this one builds alone
                break
            if pid == 0:
                _child(claims, tasks, run)
            pids.append(pid)
        _claim_and_run(claims, tasks, run)
    finally:
        for pid in pids:
            os.waitpid(pid, 0)
        shutil.rmtree(claims, ignore_errors=True)
        if collecting:
            # the objects made meanwhile are left out of later collections (a first pass over them, made by the
            # first allocation after the collector is back, cost ~0.055 s of CPU: 6 % of a cold comparison)
            gc.freeze()
            gc.enable()


def _child(claims: Path, tasks: list[tuple], run) -> None:
    """A forked builder: claim and build, say nothing, exit without running the parent's cleanup."""
    code = 1
    try:
        null = os.open(os.devnull, os.O_WRONLY)
        os.dup2(null, 1)
        os.dup2(null, 2)
        _claim_and_run(claims, tasks, run)
        code = 0
    finally:
        os._exit(code)


def _claim_and_run(claims: Path, tasks: list[tuple], run) -> None:
    for i, task in enumerate(tasks):
        try:
            os.close(os.open(claims / str(i), os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
        except FileExistsError:
            continue  # another process builds it
        run(*task)


def _cell(v: dict | None) -> str:
    if v is None:
        return "—"
    if "level" in v and "bound" not in v:
        return f"{_cell({k: x for k, x in v.items() if k != 'level'})} {v['level']}"
    if "link" in v:
        return f"{_cell({k: x for k, x in v.items() if k not in ('link', 'domain')})} {v['link']}"
    if v.get("value") is None:
        return "does not fit" if v.get("reason") == "capacity" else "n/a"
    unit = v.get("unit", "")
    lo, hi = v.get("range", (None, None))
    if unit in ("tokens/s/MW", "USD"):
        text = human_range(v["value"], lo, hi, "tok/s/MW" if unit == "tokens/s/MW" else unit)
    elif unit == "tokens/s":
        fmt = (lambda x: f"{x:,.0f}") if v["value"] >= 100 else (lambda x: f"{x:,.1f}")  # noqa: E731
        text = fmt(v["value"])
        if lo is not None and hi - lo > 0.01 * v["value"]:
            text += f" ({fmt(lo)}–{fmt(hi)})"
    else:  # a range narrower than 5 % (a few launches' worth on a long GPU step) is left out of the table
        text = human_range(v["value"], lo, hi, unit, min_width=0.05)
    if "devices_used" in v and v["devices_used"] > 1:
        text += f" ×{v['devices_used']}"
    return text


def _ratio_text(r) -> str:
    if not r:
        return "—"
    return f"{r:,.0f}×" if r >= 100 else f"{r:.3g}×"


def comparison_rows(result: dict, bounds: bool = True) -> tuple[list[dict], list[dict]]:
    """Flatten a :func:`compare` result into two lists of table rows: the figures and the workloads.

    Parameters
    ----------
    result : dict
        From :func:`compare`.
    bounds : bool
        Add each workload's binding term to its cell (``"[hbm]"``).

    Returns
    -------
    tuple of list of dict
        Figure rows (``figure`` and one text cell per device key) and workload rows (``workload`` and one
        per device), each with ``ratio`` when two devices are compared.
    """
    keys = [d["key"] for d in result["devices"]]
    spec_rows = []
    for row in result["specs"]:
        r = {"figure": row["quantity"]}
        for k in keys:
            r[k] = _cell(row["values"].get(k))
        if len(keys) == 2:
            ratio = row["ratio_vs_first"].get(keys[1])
            r["ratio"] = _ratio_text(ratio)
        spec_rows.append(r)
    load_rows = []
    for row in result["workloads"]:
        r = {"workload": row["workload"]}
        for k in keys:
            cell = _cell(row["values"].get(k))
            b = (row["values"].get(k) or {}).get("bound")
            r[k] = f"{cell} [{term_name(b)}]" if (bounds and b) else cell
        if len(keys) == 2:
            ratio = row["ratio_vs_first"].get(keys[1])
            r["ratio"] = _ratio_text(ratio)
        load_rows.append(r)
    return spec_rows, load_rows



#: The two tables of a comparison: the devices' figures and the workloads timed on each.
TABLES = ("specs", "workloads")


def _tidy_cell(table: str, row: dict, key: str, cell: dict | None) -> dict:
    lo, hi = (cell or {}).get("range", (None, None))
    value = (cell or {}).get("value")
    return {"table": table, "section": row["section"], "quantity": row.get("quantity") or row.get("workload"),
            "unit": row["unit"], "better": row["better"], "device": key, "value": value,
            "low": lo if lo is not None else value, "high": hi if hi is not None else value,
            "devices_used": (cell or {}).get("devices_used", 1 if value is not None else None),
            "bound": (cell or {}).get("bound"), "level": (cell or {}).get("level") or (cell or {}).get("link"),
            "reason": (cell or {}).get("reason"), "ratio_vs_first": row.get("ratio_vs_first", {}).get(key)}


def tidy_rows(result: dict, table: str | None = None) -> list[dict]:
    """A :func:`compare` result as one tidy table for machines: one row per (quantity, device), SI numbers.

    Parameters
    ----------
    result : dict
        From :func:`compare`.
    table : str, optional
        One of :data:`TABLES` (default: both, told apart by the ``table`` column).

    Returns
    -------
    list of dict
        ``table``, ``section``, ``quantity``, ``unit`` (the SI unit of ``value``, ``low`` and ``high``),
        ``better``, ``device``, ``value``, ``low``, ``high`` (the range; the value itself for an exact
        figure), ``devices_used`` (devices a workload needs), ``bound`` (the binding term's text form),
        ``level`` (the memory level or link), ``reason`` (why a workload cannot run: ``capacity`` or
        ``input``) and ``ratio_vs_first`` (above 1: the first device is ahead).

    Raises
    ------
    InputError
        ``table`` is not one of :data:`TABLES`.
    """
    if table is not None and table not in TABLES:
        raise InputError(f"unknown table {table!r}; expected one of {', '.join(TABLES)}")
    keys = [d["key"] for d in result["devices"]]
    return [_tidy_cell(t, row, k, row["values"].get(k))
            for t in TABLES if table in (None, t) for row in result[t] for k in keys]
