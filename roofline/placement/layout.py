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

A layout (:class:`Parallelism`) has independent degrees: ``tp`` devices per pipeline stage, ``pp``
stages, ``dp`` independent replicas, ``ep`` devices the routed experts of a stage are spread over (each
expert tensor-parallel over ``tp / ep``), attention tensor- or data-parallel over the stage
(:class:`~roofline.vocab.AttentionMode`), micro-batches in flight through the pipeline, and the expected
load of the busiest expert device over the mean. :func:`layout_candidates` lists the layouts a system of
``n`` devices can express (the layout search of :mod:`roofline.llm.serving`); :class:`Pool` is a group of
devices serving prefill, decode or both.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from typing import Mapping, Protocol

from ..errors import CapacityError, InputError
from ..formulas import ceil_div
from ..hardware.device import Device
from ..vocab import AttentionMode, DeviceKind, LinkRole, PoolRole

__all__ = ["Parallelism", "Placement", "Demand", "Pool", "place", "link_for", "links_for", "layout_candidates",
           "check_layout", "MAX_DEVICES"]

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
            Sequences in flight in the whole layout (over its replicas and attention groups) [1].
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
    """A parallel layout: how one model is split over devices, and how many copies of it run.

    Parameters
    ----------
    tp : int
        Devices per pipeline stage [1]: attention heads, dense MLPs and the lm_head are split over them
        (tensor-parallel attention), and the routed experts are spread over them.
    pp : int
        Pipeline stages [1].
    dp : int
        Independent replicas of the ``tp × pp`` instance [1]; they share nothing.
    ep : int
        Devices each stage's routed experts are spread over [1]; divides ``tp``, each expert is split
        tensor-parallel over ``tp / ep`` devices. 0 (the default) means ``tp``.
    attention : AttentionMode or str
        ``tp``: attention tensor-parallel over the stage, every device holds every token of the step.
        ``dp``: attention, shared experts, dense MLPs and the lm_head data-parallel, every device with its
        own sequences (and whole KV cache of them); only the routed experts are shared (``ep = tp``).
    micro_batches : int
        Micro-batches in flight through the pipeline [1] (1: one batch crosses the stages at a time).
    imbalance : float
        Expected routed-expert load of the busiest device over the mean [1]; 1 is balanced routing.
    node : int
        Devices per link domain when a stage spans several (then expert traffic to other domains crosses
        the network link); 0 when one domain holds the stage [1]. Set by placement.

    Examples
    --------
    >>> Parallelism(tp=8).devices, Parallelism(tp=2, dp=4).devices, Parallelism(tp=8).ep
    (8, 8, 8)
    >>> Parallelism(tp=8, attention="dp").attention_tp, Parallelism(tp=8, attention="dp").groups
    (1, 8)
    """

    tp: int = 1
    pp: int = 1
    dp: int = 1
    ep: int = 0
    attention: AttentionMode = AttentionMode.TP
    micro_batches: int = 1
    imbalance: float = 1.0
    node: int = 0

    def __post_init__(self):
        for name in ("tp", "pp", "dp", "micro_batches"):
            v = getattr(self, name)
            if isinstance(v, bool) or int(v) != v or v < 1:
                raise InputError(f"{name} must be a positive integer, got {v!r}")
        if isinstance(self.ep, bool) or int(self.ep) != self.ep or self.ep < 0:
            raise InputError(f"ep must be a positive integer, got {self.ep!r}")
        if not float(self.imbalance) >= 1.0:
            raise InputError(f"imbalance is the busiest expert device's load over the mean: at least 1, got "
                             f"{self.imbalance!r}")
        object.__setattr__(self, "attention", AttentionMode(self.attention))
        object.__setattr__(self, "ep", int(self.ep) or int(self.tp))
        object.__setattr__(self, "imbalance", float(self.imbalance))

    @property
    def devices(self) -> int:
        """Devices in the layout, ``tp × pp × dp`` [1]."""
        return self.tp * self.pp * self.dp

    @property
    def instance_devices(self) -> int:
        """Devices of one replica, ``tp × pp`` [1]."""
        return self.tp * self.pp

    @property
    def attention_tp(self) -> int:
        """Devices one attention layer's heads are split over: ``tp``, or 1 with data-parallel attention [1]."""
        return self.tp if self.attention is AttentionMode.TP else 1

    @property
    def attention_dp(self) -> int:
        """Attention groups in a stage that hold distinct sequences: 1, or ``tp`` with data-parallel attention [1]."""
        return 1 if self.attention is AttentionMode.TP else self.tp

    @property
    def groups(self) -> int:
        """Attention groups in the whole layout, each with its own sequences, ``dp × attention_dp`` [1]."""
        return self.dp * self.attention_dp

    @property
    def expert_tp(self) -> int:
        """Devices each routed expert is split over, ``tp / ep`` [1]."""
        return max(1, self.tp // self.ep)

    @property
    def step(self) -> "Parallelism":
        """The layout as one device's step sees it: no replicas, one micro-batch (the workload's cache key)."""
        return Parallelism(self.tp, self.pp, 1, self.ep, self.attention, 1, self.imbalance, self.node)

    def describe(self) -> str:
        """A short label: ``tp=8 pp=1 dp=1 ep=8 attention=tp`` (and micro-batches, imbalance when set).

        Returns
        -------
        str
        """
        out = f"tp={self.tp} pp={self.pp} dp={self.dp} ep={self.ep} attention={self.attention}"
        if self.micro_batches > 1:
            out += f" micro_batches={self.micro_batches}"
        if self.imbalance != 1.0:
            out += f" imbalance={self.imbalance:g}"
        return out

    def to_dict(self) -> dict:
        """The layout as plain values (for JSON).

        Returns
        -------
        dict
            ``tp``, ``pp``, ``dp``, ``ep``, ``attention``, ``micro_batches``, ``imbalance``.
        """
        return {"tp": self.tp, "pp": self.pp, "dp": self.dp, "ep": self.ep, "attention": str(self.attention),
                "micro_batches": self.micro_batches, "imbalance": self.imbalance}


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


def _need_link(device: Device, group: int, par: Parallelism) -> str:
    ln = link_for(device, group)
    if ln is None:
        raise InputError(f"{device.key} has no link between devices; it cannot run {par.describe()}")
    return ln


def links_for(device: Device, par: Parallelism, moe: bool) -> dict[str, str]:
    """The link each role of layout ``par`` uses on ``device``.

    Tensor-parallel traffic (``tp``) uses the first link whose domain joins the attention group; expert
    traffic (``ep``) the one that joins the stage, or, when the stage spans several domains of the fastest
    link, that link for traffic inside a domain and the link that joins the stage for the rest
    (``ep_network``); pipeline hand-offs (``pp``) the link that joins the instance.

    Parameters
    ----------
    device : Device
        Its links.
    par : Parallelism
        The layout.
    moe : bool
        The model routes tokens to experts.

    Returns
    -------
    dict of str to str
        Link role to link name.

    Raises
    ------
    InputError
        A layout over several devices on a device without a link between devices.
    """
    out: dict[str, str] = {}
    if par.attention_tp > 1:
        out[str(LinkRole.TP)] = _need_link(device, par.attention_tp, par)
    if moe and par.tp > 1:
        whole = _need_link(device, par.tp, par)
        inner = _need_link(device, 2, par)
        out[str(LinkRole.EP)] = whole
        if par.node and inner != whole:
            out[str(LinkRole.EP)], out[str(LinkRole.EP_NETWORK)] = inner, whole
    if par.pp > 1:
        out[str(LinkRole.PP)] = _need_link(device, par.instance_devices, par)
    return out


def _node(device: Device, par: Parallelism) -> int:
    """Devices per domain of the fastest link when a stage spans several of them (0 otherwise)."""
    inner = link_for(device, 2)
    if inner is None or par.tp <= 1:
        return 0
    dom = device.link(inner).devices_per_domain
    return dom if 1 < dom < par.tp else 0


def _with_node(device: Device, par: Parallelism) -> Parallelism:
    return replace(par, node=_node(device, par))


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


def check_layout(par: Parallelism, demand: Demand) -> None:
    """Refuse layouts the model cannot run.

    Parameters
    ----------
    par : Parallelism
        The layout.
    demand : Demand
        The model's layers, heads and whether it has experts.

    Returns
    -------
    None

    Raises
    ------
    InputError
        More stages than layers, an attention tensor-parallel degree that splits a head, an expert degree
        that does not divide the stage, data-parallel attention with experts not spread over the whole
        stage, more than :data:`MAX_DEVICES` devices.
    """
    if par.pp > demand.n_layers:
        raise InputError(f"{par.pp} pipeline stages exceed {demand.key}'s {demand.n_layers} layers "
                         f"(at most {demand.n_layers} stages)")
    if par.attention_tp > 1 and demand.n_heads % par.attention_tp:
        fits = [t for t in range(1, demand.n_heads + 1) if demand.n_heads % t == 0 and t <= 64]
        raise InputError(f"tensor-parallel degree {par.attention_tp} does not divide {demand.key}'s {demand.n_heads} "
                         f"attention heads (use one of {', '.join(map(str, fits))}, or --attention dp)")
    if par.tp % par.ep:
        raise InputError(f"expert-parallel degree {par.ep} does not divide the {par.tp} devices of a stage")
    if par.attention is AttentionMode.DP and demand.is_moe and par.ep != par.tp:
        raise InputError(f"data-parallel attention spreads the experts over the whole stage: ep must be "
                         f"{par.tp}, got {par.ep}")
    if par.devices > MAX_DEVICES:
        raise InputError(f"{par.devices} devices is more than the {MAX_DEVICES} a placement may use")


#: layout options that change no device count: expert degree, attention mode, micro-batches, imbalance
_MODIFIERS = ("ep", "attention", "micro_batches", "imbalance")


def _modified(par: Parallelism, mods: Mapping) -> Parallelism:
    """``par`` with the modifiers the user gave (data-parallel attention spreads experts over the stage)."""
    kw = {k: v for k, v in mods.items() if v is not None}
    return replace(par, **kw) if kw else par


def _forced_parallel(device: Device, demand: Demand, devices, tp, pp, dp) -> Parallelism:
    dp = dp or 1
    if devices is not None and devices % dp:
        raise InputError(f"--devices {devices} is not a multiple of dp = {dp}")
    inst = None if devices is None else devices // dp
    if tp is not None or pp is not None:
        par = Parallelism(tp or max(1, (inst or 1) // (pp or 1)), pp or max(1, (inst or 1) // (tp or 1)), dp)
        if devices is not None and par.devices != devices:
            raise InputError(f"--devices {devices} does not equal tp x pp x dp = {par.tp} x {par.pp} x {dp}")
        return par
    inst = inst or 1
    par = _default_parallel(device, inst, demand)
    if par.instance_devices != inst:
        par = Parallelism(1, inst) if device.kind in (DeviceKind.WAFER, DeviceKind.TILE) else Parallelism(inst, 1)
    return replace(par, dp=dp)


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


def _place_forced(demand: Demand, device: Device, batch, context, counts: tuple, mods: Mapping) -> Placement:
    par = _with_node(device, _modified(_forced_parallel(device, demand, *counts), mods))
    check_layout(par, demand)
    need = float(demand.resident_bytes(par, batch, context))
    for i in device.resident_levels:
        if need <= device.memory[i].capacity_bytes:
            return Placement(device, par, i, links_for(device, par, demand.is_moe), need, True)
    top = device.memory[device.resident_levels[-1]]
    fits = lambda b, c: float(demand.resident_bytes(par, b, c)) <= top.capacity_bytes  # noqa: E731
    raise CapacityError(
        f"{demand.describe()} with batch {batch} x context {context} needs "
        f"{_gb(need * par.devices)} ({_gb(need)} per device on {par.devices}, {par.describe()}), but "
        f"{device.key}'s largest level ({top.name}) holds {_gb(top.capacity_bytes)} per device; "
        f"{_what_fits(fits, batch, context)} on {par.devices} {device.key}")


def _search_auto(demand: Demand, device: Device, batch, context, mods: Mapping) -> Placement | None:
    """The fewest devices whose main memory holds the resident set, or None within :data:`MAX_DEVICES`."""
    primary = device.main_memory_index
    cap = device.memory[primary].capacity_bytes
    total = float(demand.resident_bytes(Parallelism(1, 1), batch, context))
    n = max(1, math.ceil(total / cap))
    while n <= MAX_DEVICES:
        par = _with_node(device, _modified(_default_parallel(device, n, demand), mods))
        need = float(demand.resident_bytes(par, batch, context))
        if need <= cap and par.pp <= demand.n_layers:
            check_layout(par, demand)
            return Placement(device, par, primary, links_for(device, par, demand.is_moe), need, False)
        if par.pp > demand.n_layers:
            break
        n = par.devices + 1
    return None


def _place_auto(demand: Demand, device: Device, batch, context, mods: Mapping) -> Placement:
    found = _search_auto(demand, device, batch, context, mods)
    if found is not None:
        return found
    total = float(demand.resident_bytes(Parallelism(1, 1), batch, context))
    fits = lambda b, c: _search_auto(demand, device, b, c, mods) is not None  # noqa: E731
    raise CapacityError(f"{demand.describe()} with batch {batch} x context {context} needs {_gb(total)}: it fits "
                        f"no layout of at most {MAX_DEVICES} {device.key} devices with one layer or more per stage; "
                        f"{_what_fits(fits, batch, context)}")


def place(demand: Demand, device: Device, batch: int = 1, context: int = 2048, devices: int | None = None,
          tp: int | None = None, pp: int | None = None, *, dp: int | None = None, ep: int | None = None,
          attention: AttentionMode | str | None = None, micro_batches: int | None = None,
          imbalance: float | None = None) -> Placement:
    """Decide how many devices run ``demand``, with which parallelism, and where its resident set lives.

    Parameters
    ----------
    demand : Demand
        What is placed (an LLM: :class:`roofline.llm.ModelDemand`).
    device : Device
        One device of the system (all are alike).
    batch : int
        Sequences in flight in the whole system [1].
    context : int
        Tokens per sequence held in the KV cache [1].
    devices, tp, pp, dp : int, optional
        Force the number of devices, the tensor-parallel degree, the pipeline stages, the replicas [1].
    ep : int, optional
        Devices the routed experts of a stage are spread over [1] (default: the whole stage).
    attention : AttentionMode or str, optional
        ``tp`` (default) or ``dp``.
    micro_batches : int, optional
        Micro-batches in flight through the pipeline [1].
    imbalance : float, optional
        Busiest expert device's load over the mean [1].

    Returns
    -------
    Placement
        Without ``devices``/``tp``/``pp``/``dp``: the fewest devices whose main memory holds the resident
        set. With them: that many devices, the resident set in the fastest non-cache level that holds it.

    Raises
    ------
    InputError
        An impossible layout (:func:`check_layout`), or a device count that the degrees do not multiply to.
    CapacityError
        Nothing holds the resident set; the message says how much is needed against what there is.
    """
    for name, v in (("devices", devices), ("tp", tp), ("pp", pp), ("dp", dp), ("ep", ep),
                    ("micro_batches", micro_batches), ("batch", batch), ("context", context)):
        if v is not None and (isinstance(v, bool) or int(v) != v or v <= 0):
            raise InputError(f"{name} must be a positive integer, got {v!r}")
    if not device.resident_levels:
        raise InputError(f"{device.key} has no memory level that can hold weights")
    mods = dict(zip(_MODIFIERS, (ep, attention, micro_batches, imbalance)))
    if any(v is not None for v in (devices, tp, pp, dp)):
        return _place_forced(demand, device, batch, context, (devices, tp, pp, dp), mods)
    return _place_auto(demand, device, batch, context, mods)


# ------------------------------------------------------------------------------------------------------
# the layouts a system can express, and pools of devices
# ------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Pool:
    """A group of devices of one type serving prefill, decode or both.

    Parameters
    ----------
    device : Device
        The device type of the pool.
    devices : int
        Devices in the pool [1].
    role : PoolRole or str
        ``colocated`` (both phases), ``prefill`` or ``decode``.
    layout : Parallelism, optional
        A forced layout of one instance (its ``dp`` is ignored: the pool runs as many replicas as fit);
        None: the layout search decides.
    """

    device: Device
    devices: int
    role: PoolRole = PoolRole.COLOCATED
    layout: Parallelism | None = None

    def __post_init__(self):
        if isinstance(self.devices, bool) or int(self.devices) != self.devices or self.devices < 1:
            raise InputError(f"a pool needs a positive number of devices, got {self.devices!r}")
        object.__setattr__(self, "role", PoolRole(self.role))


#: largest tensor-parallel degree, and pipeline depth, the layout search tries beyond the fewest stages
_SEARCH_POWERS = tuple(2 ** i for i in range(13))


def _stage_widths(device: Device, demand: Demand, devices: int) -> list[tuple[int, AttentionMode]]:
    """Stage widths and attention modes worth trying: tensor-parallel attention inside the fastest link's
    domain (powers of two that divide the heads); for a mixture of experts also data-parallel attention
    over powers of two and multiples of the domain (the experts spread over the whole stage)."""
    inner = link_for(device, 2)
    dom = device.link(inner).devices_per_domain if inner else 1
    out = [(t, AttentionMode.TP) for t in _SEARCH_POWERS if t <= min(devices, dom) and demand.n_heads % t == 0]
    if demand.is_moe and inner is not None:
        widths = set(_SEARCH_POWERS) | {dom * k for k in range(1, 33)} | {dom * p for p in _SEARCH_POWERS}
        out += [(w, AttentionMode.DP) for w in sorted(widths) if 1 < w <= devices]
    return out


def _pipeline_depths(demand: Demand, need_one: float, cap: float, room: int) -> list[int]:
    """Pipeline depths to try for a stage: the fewest that hold the weights, a few more, and powers of two."""
    fewest = max(1, math.ceil(need_one / cap)) if cap > 0 else 1
    cands = {fewest, 2 * fewest, 4 * fewest} | {p for p in _SEARCH_POWERS if p >= fewest}
    return sorted(p for p in cands if p <= min(room, demand.n_layers))


def layout_candidates(demand: Demand, device: Device, devices: int, context: int = 1,
                      micro_batches: bool = True) -> list[Parallelism]:
    """The instance layouts a system of ``devices`` devices can run ``demand`` with, for the layout search.

    Every layout holds the weights and one sequence of ``context`` tokens in the device's main memory;
    each is one instance (``dp = 1``): a system runs ``devices // instance_devices`` of them. The set only
    grows with ``devices``, so a bound maximised over it never falls when devices are added.

    Parameters
    ----------
    demand : Demand
        The model.
    device : Device
        The device type.
    devices : int
        Devices available [1].
    context : int
        Tokens of the sequence that must fit beside the weights [1].
    micro_batches : bool
        Keep as many micro-batches in flight as there are stages (the most that raise throughput).

    Returns
    -------
    list of Parallelism
        Tensor-parallel and (for a mixture of experts) data-parallel attention stages, each with the
        pipeline depths from the fewest that fit up; empty when nothing fits.
    """
    cap = device.main_memory.capacity_bytes
    out = []
    for width, mode in _stage_widths(device, demand, devices):
        stage = _with_node(device, Parallelism(width, 1, attention=mode))
        need_one = float(demand.resident_bytes(stage, stage.groups, context))
        for pp in _pipeline_depths(demand, need_one, cap, devices // width):
            par = replace(stage, pp=pp, micro_batches=pp if micro_batches else 1)
            if float(demand.resident_bytes(par, par.groups, context)) <= cap:
                out.append(par)
    return out


def _gb(x: float) -> str:
    return f"{x / 1e9:,.1f} GB" if x >= 1e8 else f"{x / 1e6:,.1f} MB"
