r"""Time terms: one builder for the symbolic and the numeric path.

For one op on one device the time terms are

.. math::
    t_\text{compute} = \frac{F}{P_\text{dtype}}, \qquad
    t_{\text{memory}:\ell} = \frac{Q_\text{res}[\ell \le h] + Q_\text{act}[\ell \le h_a]}{BW_\ell}, \qquad
    t_{\text{interconnect}:k} = \frac{Q_k}{s_k\,BW_k^{\rightarrow}}, \qquad
    t_{\text{latency}:j} \;\text{(fabric, handoff, launch, link: see roofline.engine.latency)}

where :math:`h` is the *home* level of resident data (weights, KV cache, a kernel's operands): data there
passes through every faster level on its way to the cores, so each of those sees the same traffic.
Transient activations follow **one rule** on both paths: they live in the fastest level that holds them,
never slower than the home, :math:`h_a = \min(h, \min\{\ell : Q_\text{act} \le C_\ell\})`.
:math:`BW_k^{\rightarrow}` is the bandwidth of link :math:`k` in one direction and :math:`s_k` the share of
its links a collective can drive (its topology). Under full overlap an op's time is the ``max`` of its
compute, memory and link terms **plus** its latency terms (a latency is paid on top of the work, never
hidden under it); without overlap, the sum of them all. A workload's time is the sum over its ops
(per-operator, never one roofline over the whole workload). The :class:`~roofline.vocab.Mode` picks the
latency terms: none (``ideal``, the pure roofline), the unavoidable ones (``latency_bound``) or the
realistic ones (``estimate``).

:func:`op_parts` builds the pieces once; :func:`op_terms` / :func:`time_expr` assemble them into SymPy
expressions (the activation rule as a ``Piecewise`` over capacities), and
:func:`roofline.engine.compiled.compile_workload` lambdifies the same pieces for grids.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping, Sequence

from ..dtypes import peak_dtype
from ..errors import InputError
from ..hardware.device import Device
from ..vocab import RESIDENT_ROLES, Latency, Mode, Overlap, Term, TermKind
from .latency import LATENCY_TERMS, Region, collective_share, op_latencies

__all__ = ["OVERLAP_MODELS", "RESIDENT_ROLES", "OpParts", "terms_of", "term_labels", "split_bytes", "op_parts",
           "op_terms", "default_home", "home_index", "time_expr", "links_used", "mode_of", "Region"]

#: Overlap models and their synonyms: ``max`` (full overlap of compute, memory and links: the roofline, a
#: lower bound on time) and ``sum`` (no overlap: an upper bound).
OVERLAP_MODELS = {"max": "max", "roofline": "max", "overlap": "max", "sum": "sum", "serial": "sum",
                  "no-overlap": "sum", "none": "sum"}


def _overlap(name: str) -> str:
    return str(Overlap.parse(name))


def mode_of(mode: Mode | str | None = None, ideal: bool = False) -> Mode:
    """The mode a call means: ``mode`` when given, else ``ideal`` or ``estimate`` from the old flag.

    Parameters
    ----------
    mode : Mode or str, optional
        ``ideal``, ``latency_bound`` or ``estimate``.
    ideal : bool
        The old flag: the pure roofline.

    Returns
    -------
    Mode
    """
    if mode is not None:
        return Mode(mode)
    return Mode.IDEAL if ideal else Mode.ESTIMATE


def terms_of(device: Device, links: Sequence[str] = ()) -> tuple[Term, ...]:
    """The time terms, in order: compute, one per memory level, one per link used, the four latencies.

    Parameters
    ----------
    device : Device
        Its memory levels, fastest first.
    links : sequence of str
        Names of the links the workload uses.

    Returns
    -------
    tuple of Term
        ``compute``, ``memory:<level>`` per level, ``interconnect:<link>`` per link, then
        ``latency:fabric``, ``latency:handoff``, ``latency:launch``, ``latency:link``.
    """
    return ((Term(TermKind.COMPUTE),) + tuple(Term(TermKind.MEMORY, m.name) for m in device.memory)
            + tuple(Term(TermKind.INTERCONNECT, lk) for lk in links)
            + tuple(Term(TermKind.LATENCY, str(j)) for j in LATENCY_TERMS))


def term_labels(device: Device, links: Sequence[str] = (), ideal: bool = False) -> tuple[str, ...]:
    """The text form of :func:`terms_of` (``compute``, ``memory:hbm``..., ``latency:fabric``...), for the edges.

    Parameters
    ----------
    device : Device
        Its memory levels, fastest first.
    links : sequence of str
        Links the workload uses.
    ideal : bool
        Unused (kept for the old signature): the latency term is listed either way.

    Returns
    -------
    tuple of str
        The labels of results' ``bound`` and ``terms_s`` (see the nomenclature's term labels).

    Examples
    --------
    >>> from types import SimpleNamespace
    >>> dev = SimpleNamespace(memory=[SimpleNamespace(name="sram"), SimpleNamespace(name="hbm")])
    >>> term_labels(dev, ["nvlink"])[:4]
    ('compute', 'memory:sram', 'memory:hbm', 'interconnect:nvlink')
    >>> term_labels(dev, ["nvlink"])[4:]
    ('latency:fabric', 'latency:handoff', 'latency:launch', 'latency:link')
    """
    return tuple(str(t) for t in terms_of(device, links))


def split_bytes(op):
    """``(resident, transient)`` bytes of ``op`` [B] as SymPy expressions.

    Parameters
    ----------
    op : roofline.workloads.Op
        The op whose tensors are split by role.

    Returns
    -------
    tuple of sympy.Expr
        Bytes [B] of the resident tensors (roles in :data:`~roofline.vocab.RESIDENT_ROLES`) live at the home level;
        transient activations in the fastest level that holds them.
    """
    import sympy as sp

    res = sp.Add(*[t.bytes for t in op.tensors if t.role in RESIDENT_ROLES])
    act = sp.Add(*[t.bytes for t in op.tensors if t.role not in RESIDENT_ROLES])
    return sp.sympify(res), sp.sympify(act)


@dataclass(frozen=True)
class OpParts:
    """The pieces of one op's time terms on a device, before placement decides the home levels.

    ``resident[i]`` and ``transient[i]`` are the times the resident and transient bytes would take at
    level ``i`` [s]; ``links`` maps link names to their bandwidth time [s]; ``latency`` maps each
    :class:`~roofline.vocab.Latency` to its ``(estimate, bound)`` times [s]; ``act_bytes`` is the transient
    bytes [B].
    """

    compute: object
    resident: tuple
    transient: tuple
    links: Mapping[str, object]
    latency: Mapping[Latency, tuple]
    act_bytes: object

    def latencies(self, mode: Mode) -> tuple:
        """The latency times of ``mode``, in the order of :data:`~roofline.engine.latency.LATENCY_TERMS`.

        Parameters
        ----------
        mode : Mode
            ``ideal`` (all zero), ``latency_bound`` or ``estimate``.

        Returns
        -------
        tuple of sympy.Expr
            [s].
        """
        import sympy as sp

        if mode is Mode.IDEAL:
            return tuple(sp.Integer(0) for _ in LATENCY_TERMS)
        k = 0 if mode is Mode.ESTIMATE else 1
        return tuple(self.latency[j][k] for j in LATENCY_TERMS)


def links_used(workload, device: Device, links: Mapping[str, str] | None = None) -> list[str]:
    """Names of the device links the workload's ops send over, in first-use order.

    Parameters
    ----------
    workload : roofline.workloads.Workload
    device : Device
        Its links (``interconnect``).
    links : mapping of str to str, optional
        Link role (``tp``, ``pp``, ``ep``) to link name; unmapped roles use the device's first link.

    Returns
    -------
    list of str
        Link names, each once.

    Raises
    ------
    InputError
        An op sends over a link role and the device has no link.
    """
    used: list[str] = []
    for op in workload.ops:
        for role in sorted(set(op.link_bytes) | set(op.link_steps) | set(op.collectives)):
            ln = _link_name(device, links, role)
            if ln not in used:
                used.append(ln)
    return used


def _link_name(device: Device, links, role) -> str:
    lname = (links or {}).get(role) or (device.interconnect[0].name if device.interconnect else None)
    if lname is None:
        raise InputError(f"{device.key} has no interconnect for {role} traffic")
    return lname


def _link_terms(op, device: Device, links) -> dict:
    """Each link's bandwidth time: the op's bytes over the share of the link its collective drives."""
    import sympy as sp

    out: dict = {}
    for role in sorted(set(op.link_bytes) | set(op.link_steps) | set(op.collectives)):
        lname = _link_name(device, links, role)
        lk = device.link(lname)
        share = sp.nsimplify(lk.direction_factor * collective_share(device, lname, op, role))
        t = sp.sympify(op.link_bytes.get(role, 0)) / (device.symbol(f"interconnect.{lname}.bandwidth") * share)
        out[lname] = out.get(lname, 0) + t
    return out


def op_parts(op, device: Device, links: Mapping[str, str] | None = None, ideal: bool = False,
             sparse: bool = False, region: Region | None = None) -> OpParts:
    """Build the pieces of ``op``'s time terms on ``device`` (SymPy expressions in shape and figure symbols).

    Parameters
    ----------
    op : roofline.workloads.Op
    device : Device
        Its figures become symbols (``P_{bf16}``, ``BW_{hbm}``...; see the nomenclature).
    links : mapping of str to str, optional
        Link role to link name.
    ideal : bool
        Unused (kept for the old signature): both latency sets are built, and the mode picks one.
    sparse : bool
        Use the 2:4-sparse peak.
    region : Region, optional
        The bytes that size mesh regions (the device's stage, one layer); by default the op's own.

    Returns
    -------
    OpParts
        :math:`F/P`, resident and transient bytes over each level's bandwidth, link times, the latencies
        of the estimate and of the bound [s], and the transient bytes [B].
    """
    dt = peak_dtype(op.dtype, device.compute) or op.dtype  # bf16 at the fp16 peak on a device without bf16
    device.peak_figure(dt, sparse)  # clear error for a missing peak
    peak = device.symbol(f"compute.{dt}.{'sparse' if sparse else 'dense'}")
    res, act = split_bytes(op)
    bws = [device.symbol(f"memory.{m.name}.bandwidth") for m in device.memory]
    lat = op_latencies(op, device, lambda role: _link_name(device, links, role), region or Region(), res, peak)
    return OpParts(compute=op.flops / peak, resident=tuple(res / bw for bw in bws),
                   transient=tuple(act / bw for bw in bws), links=_link_terms(op, device, links),
                   latency=lat, act_bytes=act)


def _transient_at(parts: OpParts, device: Device, i: int, act_home: int | None):
    """The transient term at level ``i``: charged at level 0 always, at a slower level only when the
    activations fit no faster one (the one activation rule), or up to ``act_home`` when it is forced."""
    import sympy as sp

    x = parts.transient[i]
    if x == 0:
        return x
    if act_home is not None:
        return x if i <= act_home else sp.Integer(0)
    if i == 0:
        return x
    cap = device.symbol(f"memory.{device.memory[i - 1].name}.capacity")
    return sp.Piecewise((x, parts.act_bytes > cap), (0, True))


def op_terms(op, device: Device, links: Mapping[str, str] | None = None, ideal: bool = False,
             sparse: bool = False, home: int | None = None, act_home: int | None = None,
             mode: Mode | str | None = None, region: Region | None = None) -> dict[str, object]:
    """SymPy expressions of every time term of ``op`` on ``device`` [s], keyed by the term's text form.

    .. math:: t_{\\text{memory}:\\ell} = \\frac{Q_\\text{res}[\\ell \\le h] + Q_\\text{act}[\\ell \\le h_a]}{BW_\\ell}

    and the other terms as in the module's description.

    Parameters
    ----------
    op : roofline.workloads.Op
    device : Device
        Its figures become symbols.
    links : mapping of str to str, optional
        Link role (``tp``, ``pp``, ``ep``) to link name; by default every role uses the first link.
    ideal : bool
        Drop latencies (the old flag; ``mode`` wins when given).
    sparse : bool
        Use the 2:4-sparse peak.
    home : int, optional
        Level index of the resident bytes (default: the slowest level).
    act_home : int, optional
        Force the level of the transient bytes; by default the activation rule decides (fastest level
        that holds them, as a ``Piecewise`` over the capacities), never slower than ``home``.
    mode : Mode or str, optional
        ``ideal``, ``latency_bound`` or ``estimate`` (the latency terms).
    region : Region, optional
        The bytes that size mesh regions.

    Returns
    -------
    dict of str to sympy.Expr
        Term label (``compute``, ``memory:hbm``..., ``latency:fabric``...) to its time [s], in the order of
        :func:`terms_of`.
    """
    import sympy as sp

    parts = op_parts(op, device, links, ideal, sparse, region)
    h = len(device.memory) - 1 if home is None else home
    ha = None if act_home is None else min(act_home, h)
    terms: dict[str, object] = {str(Term(TermKind.COMPUTE)): parts.compute}
    for i, m in enumerate(device.memory):
        q = (parts.resident[i] if i <= h else 0) + (_transient_at(parts, device, i, ha) if i <= h else 0)
        terms[str(Term(TermKind.MEMORY, m.name))] = sp.sympify(q)
    for lname, t in parts.links.items():
        terms[str(Term(TermKind.INTERCONNECT, lname))] = t
    for j, t in zip(LATENCY_TERMS, parts.latencies(mode_of(mode, ideal))):
        terms[str(Term(TermKind.LATENCY, str(j)))] = t
    return terms


def default_home(device: Device) -> int:
    """Index of the device's main memory (:attr:`roofline.hardware.Device.main_memory_index`).

    Parameters
    ----------
    device : Device
        Its memory levels and their kinds.

    Returns
    -------
    int
        The fastest level that is not a cache or a register (the last when all are) [1].
    """
    return device.main_memory_index


def home_index(device: Device, home) -> int:
    """A level given as an index, a name or None (the main memory), as an index.

    Parameters
    ----------
    device : Device
        Its memory levels, fastest first.
    home : int, str or None
        A level index [1], a level name (``"hbm"``) or None (the main memory).

    Returns
    -------
    int
        Level index, fastest first [1].

    Raises
    ------
    UnknownNameError
        ``home`` names no level of ``device``.
    """
    if home is None:
        return default_home(device)
    if isinstance(home, str):
        return [m.name for m in device.memory].index(device.level(home).name)
    return int(home)


def time_expr(workload, device: Device, overlap: str = "max", ideal: bool = False, home: int | str | None = None,
              links: Mapping[str, str] | None = None, sparse: bool = False, act_home: int | str | None = None,
              mode: Mode | str | None = None):
    r"""The workload's time on ``device`` as a SymPy expression of shape and device symbols.

    .. math:: T = \sum_i c_i \Big(\max_j t_{ij} + \sum_k \lambda_{ik}\Big) \;\text{(overlap max)}, \qquad
              T = \sum_i c_i \Big(\sum_j t_{ij} + \sum_k \lambda_{ik}\Big) \;\text{(overlap sum)}

    with :math:`t_{ij}` the compute, memory and link terms of :func:`op_terms`, :math:`\lambda_{ik}` its
    latency terms and :math:`c_i` the op's count.

    Parameters
    ----------
    workload : roofline.workloads.Workload
    device : Device
    overlap : str
        ``max`` (each op contributes ``Max(terms)``) or ``sum``.
    ideal : bool
        Drop latencies (the old flag; ``mode`` wins when given).
    home : int or str, optional
        Where resident data lives (default: the main memory).
    links : mapping, optional
        Link role to link name.
    sparse : bool
        Use the 2:4-sparse peak.
    act_home : int or str, optional
        Force where activations live; by default the one activation rule (see the module).
    mode : Mode or str, optional
        ``ideal``, ``latency_bound`` or ``estimate``.

    Returns
    -------
    sympy.Expr
        Time [s]; ops add up, each times its ``count``.

    References
    ----------
    Williams, Waterman and Patterson, "Roofline", CACM 52(4), 2009 (the ``max`` of compute and traffic).
    """
    import sympy as sp

    how = _overlap(overlap)
    h = home_index(device, home)
    ha = home_index(device, act_home) if act_home is not None else None
    region = Region(workload.resident, workload.layer_bytes)
    total = sp.Integer(0)
    for op in workload.ops:
        terms = op_terms(op, device, links, ideal, sparse, h, ha, mode, region)
        work = [v for k, v in terms.items() if not k.startswith(str(TermKind.LATENCY)) and v != 0]
        lat = sp.Add(*[v for k, v in terms.items() if k.startswith(str(TermKind.LATENCY))])
        t = (sp.Max(*work) if work else sp.Integer(0)) if how == "max" else sp.Add(*work)
        total += op.count * (t + lat)
    return total
