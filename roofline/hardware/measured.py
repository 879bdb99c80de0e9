"""The ceilings of the ``estimate`` mode: measured rates where published, a class efficiency elsewhere.

``ideal`` and ``latency_bound`` read the datasheet's peaks; the ``estimate`` reads what a device achieves.
:func:`ceilings` is the one function that decides, for every rate an estimate uses (the main memory's
bandwidth, the peak of each data type, each link's bandwidth), which figure stands in for the datasheet's:

1. a figure of the spec's ``[measured]`` table (basis ``measured``: a published microbenchmark such as
   STREAM copy and triad, the maximum achievable matmul rate, NCCL bus bandwidth), clipped at the
   datasheet figure (an estimate is never faster than the roofline);
2. for a data type without its own measurement, the measured efficiency of a data type of the same
   device with the same datasheet peak (BF16 and FP16 run on the same tensor cores);
3. else the efficiency of the device's class (:data:`CLASS_EFFICIENCY`: its vendor's, e.g. AMD GPUs, else its
   kind's: GPUs, TPUs), an estimate with a range;
4. else the datasheet figure (SRAM dataflow chips, wafers and tiles, :data:`DATASHEET_KINDS`: no published
   microbenchmark and no DRAM losses to carry over; the estimate's rates equal the bound's there).

:func:`estimate_values` gives the ceilings as ``{path: value}`` at a corner, to pass as the device values of
a compiled workload; :func:`estimate_device` gives a copy of the device that carries them (and keeps the
datasheet figures it replaced, under ``datasheet.<path>``, so that :func:`datasheet_device` restores them);
:func:`mode_device` gives the device each mode reads: the estimate device for ``estimate``, the datasheet
device for ``ideal`` and ``latency_bound``. Both are idempotent.
"""

from __future__ import annotations

import dataclasses
from types import MappingProxyType

from ..vocab import Corner, DeviceKind, IdentityMemo, Mode
from .device import Device
from .figure import Figure

__all__ = ["CLASS_EFFICIENCY", "DATASHEET_KINDS", "DATASHEET_PREFIX", "DATASHEET_SUFFIX", "class_efficiency",
           "datasheet_pinned", "device_for", "ESTIMATE_SUFFIX", "ClassEfficiency", "ceilings", "datasheet_device",
           "estimate_device", "estimate_values", "has_estimate_ceilings", "measured", "mode_device"]


#: A device name with this suffix (``h100@estimate``) names the device with its estimate ceilings
#: (:func:`roofline.hardware.library.get_device`).
ESTIMATE_SUFFIX = "@estimate"

#: A device name with this suffix (``h100@datasheet``) names the device whose estimate reads its datasheet
#: rates (:func:`datasheet_pinned`): what ``--mode latency_bound`` shows.
DATASHEET_SUFFIX = "@datasheet"

#: An estimate device (:func:`estimate_device`) keeps each datasheet figure it replaced under this prefix.
DATASHEET_PREFIX = "datasheet."


@dataclasses.dataclass(frozen=True)
class ClassEfficiency:
    """The achievable share of a datasheet rate on a class of device: an estimate with a range.

    Attributes
    ----------
    nominal, low, high : float
        The share [1] and its range.
    note : str
        What it rests on.
    """

    nominal: float
    low: float
    high: float
    note: str


#: Efficiency per device class and kind of rate (``memory``, ``matmul``, ``link``): the measured ceilings of
#: the library's GPUs against their datasheets (the ``[measured]`` tables of a100, h100, h200, b200; sources
#: there). Memory: STREAM copy/triad 1.61/2.039 = 0.79 (A100), 4.01/4.8 = 0.84 (H200), 2.935/3.35 = 0.88
#: (H100). Matmul (MAMF): 0.71 (H100 FP8), 0.73 (H200 FP8), 0.76 (B200 FP8), 0.78 (B200 BF16), 0.80 (H100
#: BF16), 0.87 (A100 BF16). Links (NCCL all-reduce bus bandwidth): 0.80 (A100 NVLink 3), 1.0 (H100 NVLink 4
#: with NVLS, clipped). The nominal is the median, the range the extremes rounded outwards to two decimals. Independent reports agree: pure
#: rooflines come out 1.5-2x optimistic and one bandwidth derate closes about 12 points (issue 18).
CLASS_EFFICIENCY: dict[str, dict[str, ClassEfficiency]] = {
    DeviceKind.GPU: {
        "memory": ClassEfficiency(0.84, 0.78, 0.88, "median (range) of STREAM copy/triad over datasheet "
                                  "bandwidth on A100, H100, H200"),
        "matmul": ClassEfficiency(0.77, 0.70, 0.87, "median (range) of the maximum achievable matmul rate "
                                  "(mamf-finder) over the dense datasheet peak on A100, H100, H200, B200"),
        "link": ClassEfficiency(0.85, 0.77, 1.0, "NCCL all-reduce bus bandwidth over the per-direction link "
                                "rate: 0.77-0.83 on A100 NVLink 3, at or above 1 on H100 NVLink 4 (NVLS)"),
    },
    # AMD's matrix cores reach a smaller share of their peak than NVIDIA's tensor cores with the same benchmark
    # (stas00 MAMF tables, [measured] of mi300x and mi325x): 668.4/1307.4 = 0.51 (MI300X, ROCm 6.3), 781.9/1307.4
    # = 0.60 (MI300X, ROCm 6.2, v1 table), 784.9/1307.4 = 0.60 (MI325X). Memory and links: the GPU class.
    f"{DeviceKind.GPU}:AMD": {
        "matmul": ClassEfficiency(0.60, 0.51, 0.61, "median (range) of the maximum achievable matmul rate "
                                  "(mamf-finder) over the dense datasheet peak on MI300X and MI325X"),
    },
    # No published TPU microbenchmark of HBM bandwidth or matmul rate with its software stack was found. Memory:
    # the same HBM DRAM loses the same share to refresh, bank conflicts and read-write turnarounds as on the
    # GPUs (0.78-0.88 measured there), widened to 0.70-0.95. Matmul: a systolic MXU fed from VMEM keeps its
    # array busy on large tiles (no tensor-core issue limits), but XLA's tiling and pipeline fill cost a share
    # that nobody publishes; the GPU range (0.70-0.87) widened to 0.60-0.95. Links: the GPU class.
    DeviceKind.TPU: {
        "memory": ClassEfficiency(0.84, 0.70, 0.95, "estimate: the HBM efficiency measured on GPUs (same DRAM "
                                  "physics), widened; no published TPU STREAM-style measurement"),
        "matmul": ClassEfficiency(0.80, 0.60, 0.95, "estimate: the GPU matmul range widened; no published TPU "
                                  "maximum-achievable-matmul measurement"),
        "link": ClassEfficiency(0.85, 0.70, 1.0, "estimate: the GPU class's collective efficiency, widened"),
    },
}

#: Device kinds whose estimate reads the datasheet (no class efficiency, said so): SRAM dataflow chips,
#: wafers and tiles (Groq LPU, SambaNova SN40L, Cerebras WSE, Tesla Dojo) publish no microbenchmark of their
#: own memories, and their on-chip SRAM is fed by a compiler-scheduled dataflow without DRAM's refresh and
#: turnaround losses: there is no measured share to apply. A ``[measured]`` table still wins where one is given.
DATASHEET_KINDS = (DeviceKind.WAFER, DeviceKind.TILE, DeviceKind.CHIP, DeviceKind.SOC, DeviceKind.OTHER)


def class_efficiency(device: Device, rate: str) -> ClassEfficiency | None:
    """The class efficiency of one kind of rate on ``device``: its vendor's class, else its kind's, else None.

    Parameters
    ----------
    device : Device
        Its ``kind`` and ``vendor``.
    rate : str
        ``memory``, ``matmul`` or ``link``.

    Returns
    -------
    ClassEfficiency or None
        None for a kind of :data:`DATASHEET_KINDS` (the estimate reads the datasheet there).
    """
    vendor = CLASS_EFFICIENCY.get(f"{device.kind}:{device.vendor}", {})
    return vendor.get(rate) or CLASS_EFFICIENCY.get(device.kind, {}).get(rate)


def _kind_of_rate(path: str) -> str | None:
    """``memory``, ``matmul`` or ``link`` for a rate an estimate derates; None for any other figure."""
    parts = path.split(".")
    if parts[0] == "compute":
        return "matmul"
    if parts[0] == "interconnect" and parts[-1] == "bandwidth":
        return "link"
    return None


def measured(device: Device) -> dict[str, Figure]:
    """The device's ``[measured]`` figures by the path of the datasheet figure they measure.

    Parameters
    ----------
    device : Device
        A device of the library or of a spec file.

    Returns
    -------
    dict of str to Figure
        ``{"memory.hbm.bandwidth": Figure(basis="measured"...), ...}``; empty without measurements.
    """
    return {p[len("measured."):]: f for p, f in device.figures.items() if p.startswith("measured.")}


def _scaled(fig: Figure, eff: tuple[float, float, float], basis: str, note: str, sources=None) -> Figure:
    """``fig`` times an efficiency ``(nominal, low, high)``, never above ``fig``'s own value."""
    v, lo, hi = (min(fig.value * e, fig.value) for e in eff)
    return dataclasses.replace(fig, value=v, low=lo, high=hi, basis=basis, note=note, formula="", published=None,
                               sources=tuple(sources or fig.sources))


def _clipped(ds: Figure, m: Figure) -> Figure:
    """A measured figure at the datasheet's path, clipped at the datasheet value."""
    v, lo, hi = (min(x, ds.value) for x in (m.value, m.low, m.high))
    note = m.note + (" [clipped at the datasheet figure]" if m.high > ds.value else "")
    return dataclasses.replace(m, path=ds.path, value=v, low=lo, high=hi, note=note.strip())


def _same_peak(device: Device, path: str, meas: dict[str, Figure]) -> Figure | None:
    """A measured compute figure of another data type with the same datasheet peak as ``path``."""
    kind = path.split(".")[-1]
    ds = device.figures[path].value
    for p, m in meas.items():
        if p.startswith("compute.") and p.endswith("." + kind) and device.figures[p].value == ds:
            return m
    dense = path.rsplit(".", 1)[0] + ".dense"
    if kind == "sparse" and dense in meas:  # the sparse peak derated like the dense one
        return meas[dense]
    return None


def _ceiling(device: Device, path: str, meas: dict[str, Figure], rate: str) -> Figure:
    ds = device.figures[path]
    if path in meas:
        return _clipped(ds, meas[path])
    other = _same_peak(device, path, meas) if rate == "matmul" else None
    if other is not None:
        base = device.figures[other.path[len("measured."):]]
        eff = tuple(x / base.value for x in (other.value, other.low, other.high))
        return _scaled(ds, eff, "derived", f"the measured efficiency of {other.path} (same datasheet peak)",
                       other.sources)
    cls = class_efficiency(device, rate)
    if cls is None:
        return ds
    return _scaled(ds, (cls.nominal, cls.low, cls.high), "estimate", f"{device.kind} class efficiency: {cls.note}")


def ceilings(device: Device) -> dict[str, Figure]:
    """The figures an estimate uses in place of the datasheet's, with their basis (see the module's rules).

    Parameters
    ----------
    device : Device
        Its datasheet figures, its ``[measured]`` table and its kind (:data:`CLASS_EFFICIENCY`).

    Returns
    -------
    dict of str to Figure
        ``{path: Figure}`` for the main memory's bandwidth, every compute peak and every link's bandwidth;
        each figure is at most the datasheet's, with basis ``measured``, ``derived`` (another data type's
        measured efficiency), ``estimate`` (a class efficiency) or ``datasheet`` (nothing better known).
    """
    meas = measured(device)
    out = {}
    main = f"memory.{device.main_memory.name}.bandwidth"
    done = has_estimate_ceilings(device)  # its rates are the ceilings already: derate nothing twice
    for path in device.figures:
        rate = "memory" if path == main else _kind_of_rate(path)
        if rate is not None:
            out[path] = device.figures[path] if done else _ceiling(device, path, meas, rate)
    return out


def has_estimate_ceilings(device: Device) -> bool:
    """Whether ``device`` carries its estimate ceilings in place of its datasheet rates (:func:`estimate_device`).

    Parameters
    ----------
    device : Device

    Returns
    -------
    bool
    """
    hit = _recall(_HAS_CEILINGS, device)  # an LLM estimate asks about the same devices a dozen times
    if hit is not None:
        return hit
    return _remember(_HAS_CEILINGS, device, any(p.startswith(DATASHEET_PREFIX) for p in device.figures))


def _recall(memo: IdentityMemo, device: Device):
    """What ``memo`` holds for this very device object, or None (:class:`~roofline.vocab.IdentityMemo`)."""
    return memo.recall(id(device), (device,))


def _remember(memo: IdentityMemo, device: Device, value):
    """Store ``value`` for ``device`` in ``memo`` and return it."""
    return memo.remember(id(device), (device,), value)


#: :func:`has_estimate_ceilings` of each device asked about, by its id (each entry holds its device)
_HAS_CEILINGS = IdentityMemo(256)


def estimate_values(device: Device, which: Corner | str = Corner.NOMINAL) -> dict[str, float]:
    """The ceilings of :func:`ceilings` as ``{path: value}`` at a corner, to override the device's values.

    Parameters
    ----------
    device : Device
        See :func:`ceilings`.
    which : Corner or str
        The corner of each ceiling's range (``nominal``, ``best``, ``worst``).

    Returns
    -------
    dict of str to float
        In each figure's SI unit [B/s, FLOP/s].
    """
    return {p: f.at(which) for p, f in ceilings(device).items()}


def estimate_device(device: Device) -> Device:
    """A copy of ``device`` whose rates are the ceilings of :func:`ceilings` (same key, name marked).

    Parameters
    ----------
    device : Device
        See :func:`ceilings`.

    Returns
    -------
    Device
        Its main memory's bandwidth, compute peaks and link bandwidths replaced, each datasheet figure kept
        under ``datasheet.<path>``; everything else as it was. A device that carries its ceilings already is
        returned as it is.
    """
    if has_estimate_ceilings(device):
        return device
    hit = _recall(_ESTIMATE_DEVICES, device)
    if hit is not None:
        return hit
    figs = dict(device.figures)
    ceil = ceilings(device)
    figs.update({DATASHEET_PREFIX + p: device.figures[p] for p in ceil})
    figs.update(ceil)
    out = _remember(_ESTIMATE_DEVICES, device, _with_figures(device, figs, f"{device.name} (estimate ceilings)"))
    _remember(_DATASHEET_DEVICES, out, device)  # and the way back
    return out


#: Estimate devices already built, by the id of their datasheet device (which each entry holds).
_ESTIMATE_DEVICES = IdentityMemo(256)
#: The inverse: the datasheet device of each estimate device built here (by the id of the estimate device).
_DATASHEET_DEVICES = IdentityMemo(256)


def datasheet_device(device: Device) -> Device:
    """The device with its datasheet rates: the inverse of :func:`estimate_device` (any other device as it is).

    Parameters
    ----------
    device : Device

    Returns
    -------
    Device
    """
    if not has_estimate_ceilings(device):
        return device
    hit = _recall(_DATASHEET_DEVICES, device)
    if hit is not None:
        return hit
    figs = {p: f for p, f in device.figures.items() if not p.startswith(DATASHEET_PREFIX)}
    figs.update({p[len(DATASHEET_PREFIX):]: f for p, f in device.figures.items() if p.startswith(DATASHEET_PREFIX)})
    name = device.name.removesuffix(" (estimate ceilings)")
    return _remember(_DATASHEET_DEVICES, device, _with_figures(device, figs, name))


def mode_device(device: Device, mode: Mode | str) -> Device:
    """The device a mode evaluates: its estimate ceilings for ``estimate``, its datasheet for the two bounds.

    Exact whatever variant of the device is given (an estimate device, a pinned one of
    :func:`datasheet_pinned`): the ``modes`` of a result always mean the same.

    ``ideal`` and ``latency_bound`` are bounds and read the datasheet's peaks (a measured ceiling may be
    beaten by a better kernel); the ``estimate`` reads what the device achieves (:func:`ceilings`).

    Parameters
    ----------
    device : Device
        A device of the library, of a spec file, or an estimate device (:func:`estimate_device`).
    mode : Mode or str
        ``ideal``, ``latency_bound`` or ``estimate``.

    Returns
    -------
    Device
    """
    ds = datasheet_device(device)
    return estimate_device(ds) if Mode(mode) is Mode.ESTIMATE else ds


def device_for(device: Device, ideal: bool) -> Device:
    """The device an evaluation with the ``ideal`` flag reads: the datasheet for the pure roofline, the
    estimate's ceilings otherwise (every path that is not ideal evaluates the ``estimate`` mode), unless the
    device carries its rates already (:func:`estimate_device`, :func:`datasheet_pinned`).

    Parameters
    ----------
    device : Device
    ideal : bool
        The pure roofline (datasheet peaks, no latency terms).

    Returns
    -------
    Device
    """
    if ideal:
        return datasheet_device(device)
    return estimate_device(device)  # a device that carries its ceilings (or pinned datasheet rates) as it is


def datasheet_pinned(device: Device) -> Device:
    """The device whose estimate reads its datasheet rates: an estimate device whose ceilings are the peaks.

    With it, a path that is not ideal shows the latency terms on the datasheet's peaks (``--mode
    latency_bound`` of the commands), while the ``modes`` of an LLM estimate stay exact.

    Parameters
    ----------
    device : Device

    Returns
    -------
    Device
    """
    ds = datasheet_device(device)
    figs = dict(ds.figures)
    figs.update({DATASHEET_PREFIX + p: ds.figures[p] for p in ceilings(ds)})
    return _with_figures(ds, figs, ds.name)


def _with_figures(device: Device, figs: dict, name: str) -> Device:
    """A copy of ``device`` whose memory, links and compute read their rates from ``figs``."""
    memory = tuple(dataclasses.replace(m, bandwidth=figs[f"memory.{m.name}.bandwidth"]) for m in device.memory)
    links = tuple(dataclasses.replace(lk, bandwidth=figs[f"interconnect.{lk.name}.bandwidth"])
                  for lk in device.interconnect)
    compute = MappingProxyType({dt: MappingProxyType({k: figs[f"compute.{dt}.{k}"] for k in kinds})
                                for dt, kinds in device.compute.items()})
    return dataclasses.replace(device, name=name, memory=memory,
                               interconnect=links, compute=compute, figures=MappingProxyType(figs))
