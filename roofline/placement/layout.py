"""Parallel layouts: how many devices run a model, split how, over which links, with the weights where.

Policy, not physics. A *demand* is anything that can say how many bytes must stay resident per device
for a layout (an LLM's weights and KV cache: :class:`roofline.llm.ModelDemand`); this room decides the
layout and the memory level, and the engine times it.

Placement: weights and the KV cache (the *resident set*) live together in the device's main memory
(:attr:`roofline.hardware.Device.main_memory`: HBM on a GPU, SRAM on a wafer or tile). By default the
model is spread over the fewest devices whose main memory holds it: tensor parallelism inside a GPU's
NVLink domain (pipeline stages beyond it), pipeline stages across wafers and tiles (the mapping Cerebras
and Tesla describe). A user who forces fewer devices streams from the next level that holds the set
(Dojo's DIP HBM, a CS-3's MemoryX) at that level's bandwidth, or gets a
:class:`~roofline.errors.CapacityError` that says how much is needed.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Mapping, Protocol

from ..errors import CapacityError, InputError
from ..formulas import ceil_div
from ..hardware.device import Device
from ..vocab import DeviceKind, LinkRole

__all__ = ["Parallelism", "Placement", "Demand", "place", "link_for", "MAX_DEVICES"]

#: The largest system a placement may use. A larger answer is refused: it is a sign of a batch or a
#: context far beyond what any deployment serves, and the caller is told what fits instead.
MAX_DEVICES = 4096


class Demand(Protocol):
    """What placement needs to know of a model: its name, its shape limits and its resident bytes.

    Attributes
    ----------
    key : str
        The model's name, for messages.
    n_layers : int
        Layers: the most pipeline stages [1].
    n_heads : int
        Attention heads: a tensor-parallel degree must divide them [1].
    is_moe : bool
        Whether the model routes tokens to experts (then it also uses the ``ep`` link role).
    """

    key: str
    n_layers: int
    n_heads: int
    is_moe: bool

    def resident_bytes(self, par: "Parallelism", batch, context):
        """Bytes that stay resident on each device of layout ``par``.

        Parameters
        ----------
        par : Parallelism
            The layout.
        batch : int
            Sequences in flight [1].
        context : int
            Tokens per sequence held in the KV cache [1].

        Returns
        -------
        float
            Weights and KV cache per device [B].
        """

    def describe(self) -> str:
        """A short description for error messages (model and data type)."""


@dataclass(frozen=True)
class Parallelism:
    """Tensor-parallel degree ``tp`` (experts are spread over the same group) and pipeline stages ``pp``.

    Parameters
    ----------
    tp : int
        Devices each layer is split over [1].
    pp : int
        Pipeline stages [1].
    """

    tp: int = 1
    pp: int = 1

    @property
    def devices(self) -> int:
        """Devices in the layout, ``tp × pp`` [1]."""
        return self.tp * self.pp


@dataclass(frozen=True)
class Placement:
    """Where a model runs: the devices, their parallelism, the level holding the resident set, the links.

    Parameters
    ----------
    device : Device
        The device; every device of the system is one of these.
    parallel : Parallelism
        The layout.
    home : int
        Index of the memory level holding weights and KV cache [1].
    links : mapping of str to str
        Link role (``tp``, ``pp``, ``ep``) to the link that carries it.
    resident_bytes_per_device : float
        Weights and KV cache per device [B].
    forced : bool
        The user chose the layout (rather than the fewest devices that hold the model).
    """

    device: Device
    parallel: Parallelism
    home: int
    links: Mapping[str, str] = field(default_factory=dict)
    resident_bytes_per_device: float = 0.0
    forced: bool = False

    @property
    def devices(self) -> int:
        """Devices used [1]."""
        return self.parallel.devices

    @property
    def level(self) -> str:
        """Name of the memory level holding the resident set."""
        return self.device.memory[self.home].name


def link_for(device: Device, group: int) -> str | None:
    """The first link whose domain joins ``group`` devices (else the one that joins the most).

    Parameters
    ----------
    device : Device
        Its links, in the order the spec lists them.
    group : int
        Devices that must talk over the link [1].

    Returns
    -------
    str or None
        The link's name; None when the device has no link between devices.
    """
    cands = [lk for lk in device.interconnect if lk.devices_per_domain > 1]
    if not cands:
        return None
    for lk in cands:
        if lk.devices_per_domain >= group:
            return lk.name
    return max(cands, key=lambda lk: lk.devices_per_domain).name


def _links(device: Device, par: Parallelism, demand: Demand) -> dict[str, str]:
    out = {}
    for role, group in ((LinkRole.TP, par.tp), (LinkRole.EP, par.tp), (LinkRole.PP, par.devices)):
        if role == LinkRole.EP and not demand.is_moe:
            continue
        if (role in (LinkRole.TP, LinkRole.EP) and par.tp > 1) or (role == LinkRole.PP and par.pp > 1):
            ln = link_for(device, group)
            if ln is None:
                raise InputError(f"{device.key} has no link between devices; it cannot run with "
                                 f"tp={par.tp}, pp={par.pp}")
            out[str(role)] = ln
    return out


def _default_parallel(device: Device, n: int, demand: Demand) -> Parallelism:
    if n <= 1:
        return Parallelism(1, 1)
    if device.kind in (DeviceKind.WAFER, DeviceKind.TILE):
        return _wafer_parallel(n, demand)
    lname = link_for(device, 2)
    dom = device.link(lname).devices_per_domain if lname else 1
    tp = 1
    while tp < n and tp * 2 <= dom and demand.n_heads % (tp * 2) == 0:
        tp *= 2
    return Parallelism(tp, ceil_div(n, tp))


def _wafer_parallel(n: int, demand: Demand) -> Parallelism:
    """Wafers and tiles split layers across devices (the mapping Cerebras and Tesla describe); a model
    that needs more devices than it has layers also splits each layer over ``tp`` devices, the smallest
    degree that divides the heads."""
    if n <= demand.n_layers:
        return Parallelism(1, n)
    tp = ceil_div(n, demand.n_layers)
    while demand.n_heads % tp and tp < demand.n_heads:
        tp += 1
    return Parallelism(tp, ceil_div(n, tp))


def _check_layout(par: Parallelism, demand: Demand) -> None:
    """Refuse layouts the model cannot run: more stages than layers, a TP degree that splits a head."""
    if par.pp > demand.n_layers:
        raise InputError(f"{par.pp} pipeline stages exceed {demand.key}'s {demand.n_layers} layers "
                         f"(at most {demand.n_layers} stages)")
    if par.tp > 1 and demand.n_heads % par.tp:
        fits = [t for t in range(1, demand.n_heads + 1) if demand.n_heads % t == 0 and t <= 64]
        raise InputError(f"tensor-parallel degree {par.tp} does not divide {demand.key}'s {demand.n_heads} attention "
                         f"heads (use one of {', '.join(map(str, fits))})")
    if par.devices > MAX_DEVICES:
        raise InputError(f"{par.devices} devices is more than the {MAX_DEVICES} a placement may use")


def _forced_parallel(device: Device, demand: Demand, devices, tp, pp) -> Parallelism:
    if tp is not None or pp is not None:
        par = Parallelism(tp or (max(1, (devices or 1) // (pp or 1))), pp or max(1, (devices or 1) // (tp or 1)))
        if devices is not None and par.devices != devices:
            raise InputError(f"--devices {devices} does not equal tp x pp = {par.tp} x {par.pp}")
        return par
    par = _default_parallel(device, devices, demand)
    if par.devices != devices:
        par = Parallelism(1, devices) if device.kind in (DeviceKind.WAFER, DeviceKind.TILE) else Parallelism(devices, 1)
    return par


def _largest(fits, above: int) -> int:
    """The largest ``v`` in ``[1, above)`` with ``fits(v)`` (``fits`` is monotone: true up to a point), or 0."""
    lo, hi = 0, int(above)
    while hi - lo > 1:
        mid = (lo + hi) // 2
        lo, hi = (mid, hi) if fits(mid) else (lo, mid)
    return lo


def _what_fits(fits, batch: int, context: int) -> str:
    """What does fit, for a message: the largest batch at this context, else the longest context at batch 1."""
    b = _largest(lambda v: fits(v, context), batch)
    if b:
        return f"at most batch {b:,} fits at context {context:,}"
    c = _largest(lambda v: fits(1, v), context)
    if c:
        return f"not even batch 1 fits at context {context:,}; at batch 1 at most context {c:,} fits"
    return "not even batch 1 at context 1 fits"


def _place_forced(demand: Demand, device: Device, batch, context, devices, tp, pp) -> Placement:
    par = _forced_parallel(device, demand, devices, tp, pp)
    _check_layout(par, demand)
    need = float(demand.resident_bytes(par, batch, context))
    for i in device.resident_levels:
        if need <= device.memory[i].capacity_bytes:
            return Placement(device, par, i, _links(device, par, demand), need, True)
    top = device.memory[device.resident_levels[-1]]
    fits = lambda b, c: float(demand.resident_bytes(par, b, c)) <= top.capacity_bytes  # noqa: E731
    raise CapacityError(
        f"{demand.describe()} with batch {batch} x context {context} needs "
        f"{_gb(need * par.devices)} ({_gb(need)} per device on {par.devices}), but {device.key}'s largest level "
        f"({top.name}) holds {_gb(top.capacity_bytes)} per device; {_what_fits(fits, batch, context)} "
        f"on {par.devices} {device.key}")


def _search_auto(demand: Demand, device: Device, batch, context) -> Placement | None:
    """The fewest devices whose main memory holds the resident set, or None within :data:`MAX_DEVICES`."""
    primary = device.main_memory_index
    cap = device.memory[primary].capacity_bytes
    total = float(demand.resident_bytes(Parallelism(1, 1), batch, context))
    n = max(1, math.ceil(total / cap))
    while n <= MAX_DEVICES:
        par = _default_parallel(device, n, demand)
        need = float(demand.resident_bytes(par, batch, context))
        if need <= cap and par.pp <= demand.n_layers:
            return Placement(device, par, primary, _links(device, par, demand), need, False)
        if par.pp > demand.n_layers:
            break
        n = par.devices + 1
    return None


def _place_auto(demand: Demand, device: Device, batch, context) -> Placement:
    found = _search_auto(demand, device, batch, context)
    if found is not None:
        return found
    total = float(demand.resident_bytes(Parallelism(1, 1), batch, context))
    fits = lambda b, c: _search_auto(demand, device, b, c) is not None  # noqa: E731
    raise CapacityError(f"{demand.describe()} with batch {batch} x context {context} needs {_gb(total)}: it fits "
                        f"no layout of at most {MAX_DEVICES} {device.key} devices with one layer or more per stage; "
                        f"{_what_fits(fits, batch, context)}")


def place(demand: Demand, device: Device, batch: int = 1, context: int = 2048, devices: int | None = None,
          tp: int | None = None, pp: int | None = None) -> Placement:
    """Decide how many devices run ``demand``, with which parallelism, and where its resident set lives.

    Parameters
    ----------
    demand : Demand
        What is placed (an LLM: :class:`roofline.llm.ModelDemand`).
    device : Device
        One device of the system (all are alike).
    batch : int
        Sequences in flight [1].
    context : int
        Tokens per sequence held in the KV cache [1].
    devices, tp, pp : int, optional
        Force the number of devices, the tensor-parallel degree, the pipeline stages [1].

    Returns
    -------
    Placement
        Without ``devices``/``tp``/``pp``: the fewest devices whose main memory holds the resident set.
        With them: that many devices, the resident set in the fastest non-cache level that holds it.

    Raises
    ------
    InputError
        An impossible layout: more stages than layers, a TP degree that does not divide the heads,
        more than :data:`MAX_DEVICES` devices.
    CapacityError
        Nothing holds the resident set; the message says how much is needed against what there is.
    """
    for name, v in (("devices", devices), ("tp", tp), ("pp", pp), ("batch", batch), ("context", context)):
        if v is not None and (isinstance(v, bool) or int(v) != v or v <= 0):
            raise InputError(f"{name} must be a positive integer, got {v!r}")
    if not device.resident_levels:
        raise InputError(f"{device.key} has no memory level that can hold weights")
    if devices is not None or tp is not None or pp is not None:
        return _place_forced(demand, device, batch, context, devices, tp, pp)
    return _place_auto(demand, device, batch, context)


def _gb(x: float) -> str:
    return f"{x / 1e9:,.1f} GB" if x >= 1e8 else f"{x / 1e6:,.1f} MB"
