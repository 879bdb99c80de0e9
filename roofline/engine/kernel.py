"""One kernel on one device: the result record behind ``roofline gemm`` and the kernel rows of ``compare``.

A standalone kernel reads its operands from the level they live in between calls: the device's main
memory (HBM on a GPU) unless the caller says the data is *warm* (``warm=True``: the kernel re-reads data it
has just touched, so operands that fit a cache are read from it). A working set larger than the main
memory lives in the slower level that holds it either way.

:func:`kernel_result` returns a :class:`KernelReport`; :func:`kernel_report` its plain dict (for JSON,
tables and notebooks). Numbers are SI floats; a result for a device with estimated figures carries its
range as ``<field>_range = [low, high]`` (:class:`roofline.vocab.Ranged`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping

from ..dtypes import peak_dtype
from ..formulas import ridge_point
from ..hardware.device import Device
from ..hardware.measured import device_for
from ..vocab import Corner, Ranged, Record
from .corners import evaluate_corners, ranged

__all__ = ["KernelReport", "kernel_result", "kernel_report"]


@dataclass(frozen=True)
class KernelReport:
    """A kernel's time, work, traffic and binding term on a device.

    Parameters
    ----------
    device, workload, dtype, overlap : str
        What ran where, and how the terms combined.
    ideal : bool
        Latency terms dropped.
    time : Ranged
        Time of one run [s].
    flops, bytes : float
        Work [FLOP] and traffic [B].
    arithmetic_intensity : float
        [FLOP/B].
    attainable_flops_per_s : Ranged
        Work over time [FLOP/s].
    peak_flops_per_s : float
        The peak that applies [FLOP/s].
    bound : str
        The binding term's text form.
    home_level : str
        The memory level the operands live in.
    working_set_bytes : float
        [B].
    ridge_flops_per_byte : float
        Peak over the home level's bandwidth [FLOP/B].
    terms_s : dict
        Each term's total [s].
    warm : bool
        The operands were taken to be in the fastest level that holds them (else: cold, in main memory).
    """

    device: str
    workload: str
    dtype: str
    overlap: str
    ideal: bool
    time: Ranged
    flops: float
    bytes: float
    arithmetic_intensity: float
    attainable_flops_per_s: Ranged
    peak_flops_per_s: float
    bound: str
    home_level: str
    working_set_bytes: float
    ridge_flops_per_byte: float
    terms_s: dict = field(default_factory=dict)
    warm: bool = False

    def to_dict(self) -> dict:
        """The record as ``roofline gemm --format json`` prints it.

        Returns
        -------
        dict
        """
        out = {"device": self.device, "workload": self.workload, "dtype": self.dtype, "overlap": self.overlap,
               "ideal": self.ideal, "time_s": self.time.nominal, "flops": self.flops, "bytes": self.bytes,
               "arithmetic_intensity": self.arithmetic_intensity,
               "attainable_flops_per_s": self.attainable_flops_per_s.nominal,
               "peak_flops_per_s": self.peak_flops_per_s, "bound": self.bound, "home_level": self.home_level,
               "working_set_bytes": self.working_set_bytes, "ridge_flops_per_byte": self.ridge_flops_per_byte,
               "terms_s": dict(self.terms_s), "warm": self.warm}
        if self.time.has_range:
            out["time_s_range"] = [self.time.low, self.time.high]
            out["attainable_flops_per_s_range"] = [self.attainable_flops_per_s.low, self.attainable_flops_per_s.high]
        return out

    def _repr_html_(self) -> str:
        """An HTML table of the record, the terms included (for notebooks; it takes no parameters).

        Returns
        -------
        str
        """
        import html

        rec = {k: v for k, v in self.to_dict().items() if k != "terms_s"}
        rec.update({f"term {k} [s]": v for k, v in self.terms_s.items()})
        rows = "".join(f"<tr><th style='text-align:left'>{html.escape(str(k))}</th><td>"
                       f"{html.escape(f'{v:.4g}' if isinstance(v, float) else str(v))}</td></tr>" for k, v in rec.items())
        cap = html.escape(f"{self.workload} on {self.device} ({self.dtype})")
        return f"<table><caption>{cap}</caption>{rows}</table>"

    def to_frame(self):
        """The report as a one-row tidy DataFrame: ranges as ``<field>_best`` / ``<field>_worst``, terms as
        ``terms_s.<term>``, each column's unit in ``attrs["units"]`` (it takes no parameters).

        Returns
        -------
        pandas.DataFrame
        """
        import pandas as pd

        from ..units import unit_of_column

        row = {k: v for k, v in self.to_dict().items() if k != "terms_s" and not k.endswith("_range")}
        row.update(self.time.to_columns("time_s"))
        row.update(self.attainable_flops_per_s.to_columns("attainable_flops_per_s"))
        row.update({f"terms_s.{k}": v for k, v in self.terms_s.items()})
        df = pd.DataFrame([row])
        df.attrs.update(device=self.device, workload=self.workload,
                        units={c: unit_of_column(c) for c in df.columns if unit_of_column(c)})
        return df


def _compiled(workload, device: Device, overlap: str, ideal: bool, sparse: bool):
    from ..workloads.recipes import Recipe
    from .cache import compile_recipe
    from .compiled import compile_workload

    if isinstance(workload, Recipe):
        return compile_recipe(workload, device, overlap, ideal, sparse)
    return compile_workload(workload, device, overlap, ideal, sparse=sparse)


def _cold_level(device: Device, ws: float, devices: int, level: str | None, warm: bool) -> str | None:
    """The level a kernel's operands are read from: as forced; the fastest that holds them when warm; else
    the main memory, or the slower level that holds them when it does not."""
    from ..placement.levels import home_level

    if level is not None or warm:
        return level
    h = int(home_level(device, ws, devices))
    main = device.main_memory_index
    return device.memory[main].name if h < main else None


def kernel_result(workload, device: Device, shapes: Mapping[str, float] | None = None, overlap: str = "max",
                  ideal: bool = False, level: str | None = None, sparse: bool = False,
                  devices: int = 1, warm: bool = False) -> KernelReport:
    """A single kernel on a device: time, work, traffic, intensity, attainable rate and the binding term.

    .. math:: t = \\max_j t_j \\;(\\text{or } \\textstyle\\sum_j t_j), \\qquad I = F / Q, \\qquad P_\\text{att} = F / t

    Parameters
    ----------
    workload : roofline.workloads.Workload or roofline.workloads.Recipe
        A recipe's compiled function comes from the disk cache, so no SymPy is needed on a warm run.
    device : Device
    shapes : mapping of str to float, optional
        Values of the workload's free shape symbols [1].
    overlap, ideal, sparse : str, bool, bool
        ``max`` or ``sum``; drop latency terms; use the 2:4-sparse peak.
    level : str, optional
        Force the memory level the operands live in.
    devices : int
        Devices the working set is spread over [1].
    warm : bool
        The operands are in the fastest level that holds them (a kernel re-reading data it just touched);
        by default they are cold: read from the main memory, where they live between calls.

    Returns
    -------
    KernelReport

    Raises
    ------
    CapacityError
        The working set fits no memory level.

    References
    ----------
    Williams, Waterman and Patterson, "Roofline", CACM 52(4), 2009.
    """
    from ..placement.levels import check_fits
    from .compiled import evaluate
    from .terms import _overlap

    shapes = dict(shapes or {})
    run = device_for(device, ideal)  # not ideal: the estimate, on measured ceilings (the peak stays the datasheet's)
    cw = _compiled(workload, run, overlap, ideal, sparse)
    ws = float(cw.working_set(shapes, device.values()))
    level = _cold_level(device, ws, devices, level, warm)
    home = check_fits(device, ws, devices, what=f"{cw.name} working set", level=level)
    res = evaluate_corners(run, lambda c: evaluate(None, run, shapes, overlap, ideal, c, devices, level, compiled=cw))
    r = res[Corner.NOMINAL]
    time = ranged(res, "time_s")
    flops = float(r["flops"])
    peak = device.peak(peak_dtype(cw.dtypes[0], device.compute) or cw.dtypes[0], sparse)
    return KernelReport(
        device=device.key, workload=cw.name, dtype=",".join(cw.dtypes), overlap=_overlap(overlap), ideal=ideal,
        time=time, flops=flops, bytes=float(r["bytes"]), arithmetic_intensity=float(r["arithmetic_intensity"]),
        attainable_flops_per_s=Ranged(float(r["attainable_flops_per_s"]), flops / time.best, flops / time.worst),
        peak_flops_per_s=peak, bound=str(r["bound"]), home_level=device.memory[home].name, working_set_bytes=ws,
        ridge_flops_per_byte=ridge_point(peak, device.memory[home].bandwidth_bytes_per_s),
        terms_s={lbl: float(t) for lbl, t in zip(r["labels"], r["term_totals"])}, warm=warm)


def kernel_report(workload, device: Device, shapes: Mapping[str, float] | None = None, overlap: str = "max",
                  ideal: bool = False, level: str | None = None, sparse: bool = False, devices: int = 1,
                  warm: bool = False) -> dict:
    """:func:`kernel_result` as a plain dict (what ``roofline gemm --format json`` prints).

    Parameters
    ----------
    workload : roofline.workloads.Workload or roofline.workloads.Recipe
        The kernel (a recipe runs warm from the disk cache).
    device : Device
    shapes : mapping of str to float, optional
        Values of the workload's free shape symbols [1].
    overlap : str
        ``max`` or ``sum``.
    ideal : bool
        Drop latency terms.
    level : str, optional
        Force the memory level the operands live in.
    sparse : bool
        Use the 2:4-sparse peak.
    devices : int
        Devices the working set is spread over [1].
    warm : bool
        Operands in the fastest level that holds them (default: cold, in main memory).

    Returns
    -------
    dict
        :meth:`KernelReport.to_dict`: ``time_s`` [s], ``flops`` [FLOP], ``bytes`` [B], ... and, for a device
        with estimated figures, ``time_s_range`` and ``attainable_flops_per_s_range``.

    Raises
    ------
    CapacityError
        The working set fits no memory level.
    """
    result = kernel_result(workload, device, shapes, overlap, ideal, level, sparse, devices, warm)
    return Record(result.to_dict(), result)
