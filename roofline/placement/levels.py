r"""The roofline engine: time terms, bounds, binding terms, ridge points, break-even points, sensitivities.

For one op on one device the time terms are

.. math::
    t_\text{compute} = \frac{F}{P_\text{dtype}}, \qquad
    t_{\text{memory}:\ell} = \frac{Q}{BW_\ell} \;(\ell \le h), \qquad
    t_{\text{interconnect}:k} = \frac{Q_k}{BW_k^{\rightarrow}} + n_k\,\tau_k, \qquad
    t_\text{latency} = \sum \tau_\text{overheads}

where :math:`h` is the *home* level: the fastest memory level that holds the working set (data there
passes through every faster level on its way to the cores, so each of those sees the same traffic), and
:math:`BW_k^{\rightarrow}` the bandwidth of link :math:`k` in one direction. The op's time is
``max`` of the terms under full overlap (the roofline) or their sum without overlap (an upper bound). A
workload's time is the sum of its ops' times (per-operator, not one roofline over the whole workload).
``ideal=True`` drops the latency term and link latencies: the pure roofline.

Symbolic expressions come from :func:`time_expr` and friends; numbers for whole grids come from
:func:`compile_workload`, which lambdifies the same expressions into NumPy functions.
"""

from __future__ import annotations

import numpy as np

from ..errors import CapacityError
from ..hardware.device import Device

__all__ = ['home_level', 'check_fits']


# ----------------------------------------------------------------------------------------------------
# placement of the working set
# ----------------------------------------------------------------------------------------------------
def home_level(device: Device, working_set_bytes, devices: int = 1, level: str | None = None,
               which: str = "nominal"):
    """Index of the fastest memory level that holds ``working_set_bytes`` spread over ``devices`` devices.

    Returns an integer array (or scalar) of level indices, ``len(device.memory)`` where nothing holds it.
    ``level`` forces a level by name (no capacity check: see :func:`check_fits`).
    """
    if level is not None:
        names = [m.name for m in device.memory]
        if level not in names:
            from ..errors import UnknownNameError

            raise UnknownNameError(f"memory level of {device.key}", level, names)
        return np.full(np.shape(working_set_bytes), names.index(level), dtype=np.int64)[()]
    ws = np.asarray(working_set_bytes, dtype=float) / devices
    home = np.full(ws.shape, len(device.memory), dtype=np.int64)
    for i in reversed(range(len(device.memory))):
        home = np.where(ws <= device.memory[i].capacity.at(which), i, home)
    return home[()]


def check_fits(device: Device, working_set_bytes: float, devices: int = 1, what: str = "working set",
               level: str | None = None) -> int:
    """The home level index, or :class:`CapacityError` saying how much is needed against what there is."""
    h = int(home_level(device, working_set_bytes, devices, level))
    lvl = device.memory[min(h, len(device.memory) - 1)]
    need = float(working_set_bytes) / devices
    if h >= len(device.memory) or (level is not None and need > lvl.capacity_bytes):
        have = device.memory[-1] if level is None else lvl
        per = f" per device over {devices} devices" if devices > 1 else ""
        raise CapacityError(
            f"{what} needs {_fmt_bytes(need)}{per} but {device.key}'s largest level "
            f"({have.name}) holds {_fmt_bytes(have.capacity_bytes)}"
            if level is None else
            f"{what} needs {_fmt_bytes(need)}{per} but {device.key}'s {lvl.name} holds {_fmt_bytes(lvl.capacity_bytes)}")
    return h


def _fmt_bytes(b: float) -> str:
    for unit, f in (("TB", 1e12), ("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if b >= f:
            return f"{b / f:.3g} {unit}"
    return f"{b:.3g} B"

