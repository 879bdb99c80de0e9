"""``roofline calibrate``: measure the machine at hand and write its ceilings as a spec file.

Memory bandwidth is measured with the STREAM kernels *copy* (``b = a``: 2 arrays of traffic) and *triad*
(``a = b + s c``: 3 arrays), the matmul rate per data type with square matrix products (``2 n^3`` FLOP).
Each is run ``repeats`` times after a warm-up and the median is kept (all times are reported). NumPy runs
them on the CPU; PyTorch on a GPU when PyTorch and a GPU are present. Arrays default to 4x the largest
CPU cache (at least 64 MiB each), so that the memory figures are main memory's, not a cache's.

NumPy has no fused triad: ``np.multiply(c, s, out=a); a += b`` moves 5 arrays where STREAM counts 3, so
the CPU triad figure counts STREAM's 3 and reads low; copy is a single pass.

:func:`calibrate` returns the measurements; :func:`spec_text` writes them as a spec file: a whole spec
for the host (``host-<name>``), or, for a known device key, an overlay: a copy of that device's spec under
the key ``<key>-calibrated`` whose ``[measured]`` table holds the new figures (load it with ``--spec FILE``).
"""

from __future__ import annotations

import datetime
import glob
import platform
import re
import statistics
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

__all__ = ["Calibration", "calibrate", "comparison", "default_array_bytes", "spec_text"]

#: NumPy's name of each data type a CPU calibration measures.
_NUMPY_DTYPES = {"fp64": "float64", "fp32": "float32"}
#: PyTorch's name of each data type a GPU calibration measures.
_TORCH_DTYPES = {"fp32": "float32", "bf16": "bfloat16", "fp16": "float16"}


@dataclass
class Calibration:
    """What :func:`calibrate` measured.

    Attributes
    ----------
    backend : str
        ``numpy`` (the CPU) or ``torch`` (a GPU).
    device_name : str
        The processor or GPU as the system names it.
    memory : dict
        ``{"copy": [B/s, ...], "triad": [B/s, ...]}``: one rate per repeat.
    matmul : dict
        ``{dtype: [FLOP/s, ...]}``: one rate per repeat.
    array_bytes, matmul_n : int
        The size of each array [B] and of the square matrices [1].
    versions : dict
        Library versions (``numpy``, ``torch``, ``python``).
    date : str
        ISO date of the measurement.
    capacity_bytes : float
        Main memory of the host or the GPU [B].
    """

    backend: str
    device_name: str
    memory: dict = field(default_factory=dict)
    matmul: dict = field(default_factory=dict)
    array_bytes: int = 0
    matmul_n: int = 0
    versions: dict = field(default_factory=dict)
    date: str = ""
    capacity_bytes: float = 0.0

    def median(self, kind: str, name: str) -> float:
        """The median rate of one measurement.

        Parameters
        ----------
        kind : str
            ``memory`` or ``matmul``.
        name : str
            ``copy``/``triad`` or a data type.

        Returns
        -------
        float
            [B/s] or [FLOP/s].
        """
        return statistics.median(getattr(self, kind)[name])


def default_array_bytes() -> int:
    """Four times the largest CPU cache the system reports, and at least 64 MiB [B].

    Returns
    -------
    int
    """
    largest = 0
    for f in glob.glob("/sys/devices/system/cpu/cpu0/cache/index*/size"):
        m = re.fullmatch(r"(\d+)([KMG]?)", Path(f).read_text().strip())
        if m:
            largest = max(largest, int(m.group(1)) * {"": 1, "K": 2**10, "M": 2**20, "G": 2**30}[m.group(2)])
    return max(4 * largest, 64 * 2**20)


def _timed(fn: Callable[[], None], repeats: int, sync: Callable[[], None]) -> list[float]:
    """Seconds of each of ``repeats`` calls of ``fn`` after one warm-up call."""
    fn()
    sync()
    out = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        sync()
        out.append(time.perf_counter() - t0)
    return out


def _numpy_kernels(array_bytes: int, n: int):
    import numpy as np

    count = array_bytes // 8
    a, b, c = (np.full(count, x) for x in (1.0, 2.0, 0.5))

    def triad():
        np.multiply(c, 3.0, out=a)
        a.__iadd__(b)

    mem = {"copy": (lambda: np.copyto(b, a), 2 * 8 * count), "triad": (triad, 3 * 8 * count)}
    mats = {}
    for dt, name in _NUMPY_DTYPES.items():
        x, y = np.ones((n, n), dtype=name), np.ones((n, n), dtype=name)
        mats[dt] = (lambda x=x, y=y: x @ y, 2.0 * n ** 3)
    return mem, mats, (lambda: None)


def _torch_kernels(array_bytes: int, n: int):
    import torch

    count = array_bytes // 4
    a, b, c = (torch.full((count,), x, device="cuda") for x in (1.0, 2.0, 0.5))
    mem = {"copy": (lambda: b.copy_(a), 2 * 4 * count),
           "triad": (lambda: torch.add(b, c, alpha=3.0, out=a), 3 * 4 * count)}
    mats = {}
    for dt, name in _TORCH_DTYPES.items():
        x = torch.ones((n, n), dtype=getattr(torch, name), device="cuda")
        mats[dt] = (lambda x=x: x @ x, 2.0 * n ** 3)
    return mem, mats, torch.cuda.synchronize


def _backend(prefer_gpu: bool) -> str:
    if prefer_gpu:
        try:
            import torch

            if torch.cuda.is_available():
                return "torch"
        except ImportError:
            pass
    return "numpy"


def _host() -> tuple[str, float]:
    """The CPU's model name and the host's memory [B], from /proc where it exists."""
    name, mem = platform.processor() or platform.machine(), 0.0
    try:
        text = Path("/proc/cpuinfo").read_text()
        m = re.search(r"model name\s*:\s*(.+)", text)
        name = m.group(1).strip() if m else name
        m = re.search(r"MemTotal:\s*(\d+) kB", Path("/proc/meminfo").read_text())
        mem = int(m.group(1)) * 1024.0 if m else 0.0
    except OSError:
        pass
    return name, mem


def calibrate(array_bytes: int | None = None, matmul_n: int = 2048, repeats: int = 5,
              prefer_gpu: bool = True) -> Calibration:
    """Measure memory bandwidth (copy, triad) and the matmul rate per data type on this machine.

    Parameters
    ----------
    array_bytes : int, optional
        The size of each array of the bandwidth kernels [B] (default :func:`default_array_bytes`).
    matmul_n : int
        The order of the square matrices [1].
    repeats : int
        Timed runs of each kernel after one warm-up [1]; the median is the result.
    prefer_gpu : bool
        Use PyTorch on a GPU when both are present.

    Returns
    -------
    Calibration
    """
    import numpy as np

    backend = _backend(prefer_gpu)
    array_bytes = array_bytes or default_array_bytes()
    versions = {"python": platform.python_version(), "numpy": np.__version__}
    if backend == "torch":
        import torch

        mem, mats, sync = _torch_kernels(array_bytes, matmul_n)
        versions.update(torch=torch.__version__, cuda=str(torch.version.cuda))
        name = torch.cuda.get_device_name(0)
        capacity = float(torch.cuda.get_device_properties(0).total_memory)
    else:
        mem, mats, sync = _numpy_kernels(array_bytes, matmul_n)
        name, capacity = _host()
    cal = Calibration(backend, name, array_bytes=array_bytes, matmul_n=matmul_n, versions=versions,
                      date=datetime.date.today().isoformat(), capacity_bytes=capacity)
    for k, (fn, nbytes) in mem.items():
        cal.memory[k] = [nbytes / t for t in _timed(fn, repeats, sync)]
    for dt, (fn, flops) in mats.items():
        cal.matmul[dt] = [flops / t for t in _timed(fn, repeats, sync)]
    return cal


def _q(x: float, unit: str) -> str:
    """A quantity as a spec writes it, in tera- or giga-units."""
    return f"{x / 1e12:.6g} T{unit}" if x >= 1e12 else f"{x / 1e9:.6g} G{unit}"


def _provenance(cal: Calibration) -> tuple[str, str]:
    software = "; ".join(f"{k} {v}" for k, v in cal.versions.items())
    bench = (f"roofline calibrate ({cal.backend}): median of {len(next(iter(cal.memory.values())))} runs after "
             f"a warm-up; arrays of {cal.array_bytes / 2**20:.0f} MiB, matrices {cal.matmul_n}x{cal.matmul_n}")
    return software, bench


def _measured_tables(cal: Calibration, level: str, dtypes) -> str:
    software, bench = _provenance(cal)
    copy, triad = cal.median("memory", "copy"), cal.median("memory", "triad")
    lo, hi = sorted((copy, triad))
    lines = [f"[measured.memory.{level}]",
             f'bandwidth = {{ value = "{_q(hi, "B/s")}", low = "{_q(lo, "B/s")}", high = "{_q(hi, "B/s")}", '
             f'basis = "measured", source = "calibrate", benchmark = "STREAM copy {_q(copy, "B/s")} and triad '
             f'{_q(triad, "B/s")}; {bench}", software = "{software}", date = "{cal.date}" }}', ""]
    for dt in cal.matmul:
        if dt in dtypes:
            lines += [f"[measured.compute.{dt}]",
                      f'dense = {{ value = "{_q(cal.median("matmul", dt), "FLOP/s")}", basis = "measured", '
                      f'source = "calibrate", benchmark = "square matmul; {bench}", software = "{software}", '
                      f'date = "{cal.date}" }}', ""]
    return "\n".join(lines)


def _source_table(cal: Calibration) -> str:
    return (f'[sources.calibrate]\ntitle = "roofline calibrate on {platform.node() or "this host"}: '
            f'{cal.device_name}"\npublisher = "roofline calibrate"\ndate = "{cal.date}"\n')


def _host_spec(cal: Calibration, key: str) -> str:
    copy, triad = cal.median("memory", "copy"), cal.median("memory", "triad")
    head = [f"# Written by roofline calibrate on {cal.date}: every figure measured on this machine.", "schema = 1", "",
            "[device]", f'key = "{key}"', f'name = "{cal.device_name} (calibrated {cal.date})"',
            f'vendor = "{cal.device_name.split()[0] if cal.device_name else "unknown"}"', 'kind = "other"',
            'status = "released"', f'summary = "measured by roofline calibrate with {cal.backend}"', "",
            _source_table(cal)]
    for dt in cal.matmul:
        head += [f"[compute.{dt}]", f'dense = {{ value = "{_q(cal.median("matmul", dt), "FLOP/s")}", '
                 f'basis = "measured", source = "calibrate", note = "median square matmul" }}', ""]
    cap = cal.capacity_bytes or 2**30
    head += ["[[memory]]", 'name = "dram"', 'label = "main memory"', 'kind = "dram"',
             f'capacity = {{ value = "{cap / 1e9:.6g} GB", basis = "measured", source = "calibrate", '
             f'note = "as the operating system reports it" }}',
             f'bandwidth = {{ value = "{_q(max(copy, triad), "B/s")}", basis = "measured", source = "calibrate", '
             f'note = "the faster of STREAM copy and triad" }}', ""]
    return "\n".join(head) + "\n" + _measured_tables(cal, "dram", cal.matmul)


def _overlay(cal: Calibration, device) -> str:
    text = Path(device.file).read_text()
    text = text.split("# ---- measured ceilings", 1)[0]
    text = re.sub(r"(?m)^\[measured\..*?(?=^\[(?!measured\.)|\Z)", "", text, flags=re.S)
    text = re.sub(r'(?m)^key = "[^"]*"', f'key = "{device.key}-calibrated"', text, count=1)
    text = re.sub(r"(?m)^aliases = \[.*\]\n", "", text, count=1)
    text = re.sub(r'(?m)^name = "([^"]*)"', rf'name = "\1 (calibrated {cal.date})"', text, count=1)
    return (text.rstrip() + f"\n\n# ---- measured ceilings: roofline calibrate on {cal.date} ----\n"
            + _source_table(cal) + "\n" + _measured_tables(cal, device.main_memory.name, device.compute))


def spec_text(cal: Calibration, device=None, key: str | None = None) -> str:
    """The calibration as a spec file: an overlay of ``device`` or a whole spec of the host.

    Parameters
    ----------
    cal : Calibration
        From :func:`calibrate`.
    device : Device, optional
        A known device: the result is its spec under the key ``<key>-calibrated`` with a new ``[measured]``.
    key : str, optional
        The key of a host spec (default ``host-<hostname>``).

    Returns
    -------
    str
        TOML text that :func:`roofline.hardware.loader.load_spec_file` reads.
    """
    if device is not None:
        return _overlay(cal, device)
    key = key or "host-" + (re.sub(r"[^a-z0-9-]+", "-", platform.node().lower()).strip("-") or "machine")
    return _host_spec(cal, key)


def comparison(cal: Calibration, device=None) -> list[dict]:
    """Each measured ceiling beside the datasheet's (where ``device`` publishes one) and their ratio.

    Parameters
    ----------
    cal : Calibration
        From :func:`calibrate`.
    device : Device, optional
        The device whose datasheet figures the measurements are set against.

    Returns
    -------
    list of dict
        ``measurement``, ``unit``, ``median`` and ``runs`` (every repeat) [B/s or FLOP/s], ``datasheet``
        (or None) and ``ratio`` = median / datasheet (or None).
    """
    rows = []
    for kind, unit in (("memory", "B/s"), ("matmul", "FLOP/s")):
        for name, runs in getattr(cal, kind).items():
            ds = None
            if device is not None:
                path = (f"memory.{device.main_memory.name}.bandwidth" if kind == "memory"
                        else f"compute.{name}.dense")
                fig = device.figures.get(path)
                ds = fig.value if fig is not None else None
            med = statistics.median(runs)
            rows.append({"measurement": f"{'memory ' if kind == 'memory' else 'matmul '}{name}", "unit": unit,
                         "median": med, "runs": list(runs), "datasheet": ds, "ratio": med / ds if ds else None})
    return rows
