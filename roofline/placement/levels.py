"""The memory level a working set lives in: the fastest one whose capacity holds it.

Policy, not physics: :func:`home_level` finds the *home* level :math:`h` of a working set :math:`W` spread
over :math:`n` devices,

.. math:: h = \\min\\{\\ell : W / n \\le C_\\ell\\}

over the levels fastest first (:math:`C_\\ell`: capacity of level :math:`\\ell`), point by point for arrays;
:func:`check_fits` does the same for one value and raises a :class:`~roofline.errors.CapacityError` that
says how much is needed against what there is. The engine then charges the traffic at :math:`h` and at
every faster level. Parallel layouts over several devices are decided in :mod:`roofline.placement.layout`.
"""

from __future__ import annotations

from ..errors import CapacityError
from ..hardware.device import Device

__all__ = ['home_level', 'check_fits']


# ----------------------------------------------------------------------------------------------------
# placement of the working set
# ----------------------------------------------------------------------------------------------------
def home_level(device: Device, working_set_bytes, devices: int = 1, level: str | None = None,
               which: str = "nominal"):
    """Index of the fastest memory level that holds ``working_set_bytes`` spread over ``devices`` devices.

    .. math:: h = \\min\\{\\ell : W / n \\le C_\\ell\\}

    Parameters
    ----------
    device : Device
        Its memory levels, fastest first, and their capacities.
    working_set_bytes : float or array_like
        Working set of the whole workload :math:`W` [B].
    devices : int
        Devices it is spread over :math:`n` [1].
    level : str, optional
        Force a level by name (no capacity check: see :func:`check_fits`).
    which : Corner or str
        Corner of estimated capacities (``nominal``, ``best``, ``worst``).

    Returns
    -------
    int or ndarray of int
        Level index per point, fastest first [1]; ``len(device.memory)`` where no level holds it.

    Raises
    ------
    UnknownNameError
        ``level`` names no level of ``device``.
    """
    import numpy as np

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
    """The home level index, or :class:`CapacityError` saying how much is needed against what there is.

    Parameters
    ----------
    device : Device
        Its memory levels, fastest first, and their capacities.
    working_set_bytes : float
        Working set of the whole workload [B].
    devices : int
        Devices it is spread over [1].
    what : str
        What the working set is, for the message (``"gemm working set"``).
    level : str, optional
        Force a level by name; it must then hold the working set.

    Returns
    -------
    int
        Index of the home level, fastest first [1].

    Raises
    ------
    CapacityError
        No level (or not the forced one) holds the working set per device.
    UnknownNameError
        ``level`` names no level of ``device``.
    """
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

