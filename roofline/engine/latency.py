r"""Latency terms: what an op adds to its roofline time, as the unavoidable floor and as an estimate.

Four terms (:class:`~roofline.vocab.Latency`), each built twice, as SymPy expressions of the device's
figures:

* ``latency:fabric`` — on a mesh (a wafer, a Dojo tile), the dependent reductions and broadcasts of an op
  across the region of cores that holds its data. *Estimate*: each of the op's ``reductions`` crosses its
  layer's region — a band across the mesh's shorter side, sized by the layer's weights and KV cache
  (:func:`~roofline.formulas.mesh_band_crossing`); with ``mesh.layer_locality`` below 1 the region widens
  towards the whole region of the device's stage. *Bound*: the fewest reductions the op's dependencies
  allow, over the square region that minimises work plus distance
  (:func:`~roofline.formulas.mesh_reduction_bound`), so no layout does better.
* ``latency:handoff`` — the hidden state moving on: from one layer's region to the next on a mesh (the
  depth of a band; nothing in the bound, where regions touch), and between pipeline stages over a link
  (one message step; on a mesh, estimated, also the way from the region to the mesh's edge and back).
* ``latency:launch`` — a kernel's launch and synchronisation (the device's ``overheads``): in the estimate
  only, since a persistent kernel avoids it.
* ``latency:link`` — the hops of a collective over a link, from the link's topology: the algorithms
  libraries use in the estimate, the fewest any algorithm needs in the bound
  (:meth:`roofline.hardware.topology.Topology.hops`).

The bound is added to the pure roofline at the favourable end of every range; no implementation can beat
it. The estimate is added at the nominal figures.
"""

from __future__ import annotations

from dataclasses import dataclass

from .. import formulas
from ..hardware.device import Device
from ..vocab import Collective, Latency, LinkRole

__all__ = ["LATENCY_TERMS", "Region", "is_mesh", "op_latencies", "collective_share"]

#: The latency terms, in the order results list them.
LATENCY_TERMS: tuple[Latency, ...] = (Latency.FABRIC, Latency.HANDOFF, Latency.LAUNCH, Latency.LINK)

_MESH = ("mesh.width", "mesh.height", "mesh.hop_latency")


@dataclass(frozen=True)
class Region:
    """The bytes that size an op's mesh region: the device's whole resident set (its stage) and one layer's.

    Attributes
    ----------
    stage_bytes : sympy.Expr or None
        Weights and KV cache one device holds [B].
    layer_bytes : sympy.Expr or None
        What one layer holds on its device [B].
    """

    stage_bytes: object = None
    layer_bytes: object = None


def is_mesh(device: Device) -> bool:
    """Whether the device is a mesh of cores the fabric term applies to (it states ``mesh`` width, height and
    hop latency).

    Parameters
    ----------
    device : Device

    Returns
    -------
    bool
    """
    return all(p in device.figures for p in _MESH)


class _Mesh:
    """The symbols of a mesh device: sides, per-hop latency (die crossings folded in), per-core capacity."""

    def __init__(self, device: Device):
        sym = device.symbol
        self.w, self.h = sym("mesh.width"), sym("mesh.height")
        self.tau = sym("mesh.hop_latency")
        if "mesh.die_crossing" in device.figures:  # a boundary every die-width hops, on average
            self.tau = self.tau + 2 * sym("mesh.die_crossing") / (sym("mesh.die_width") + sym("mesh.die_height"))
        self.cap = sym(f"memory.{device.main_memory.name}.capacity")
        self.locality = sym("mesh.layer_locality") if "mesh.layer_locality" in device.figures else None

    def cells(self, nbytes):
        return formulas.mesh_cells(nbytes, self.cap, self.w, self.h)

    def crossing(self, region_bytes, stage_bytes):
        """Hops of one reduction and broadcast across the region, widened towards the stage by locality."""
        band = formulas.mesh_band_crossing(self.cells(region_bytes), self.w, self.h)
        if self.locality is None or stage_bytes is None:
            return band
        stage = formulas.mesh_band_crossing(self.cells(stage_bytes), self.w, self.h)
        return stage - self.locality * (stage - band)

    def band_depth(self, region_bytes):
        """Rows of a band: the distance from one layer's region to the next."""
        cells = self.cells(region_bytes)
        return cells / formulas._lo(formulas._lo(self.w, self.h), cells)


def _fabric(op, m: _Mesh, res_bytes, region: Region, peak) -> tuple:
    import sympy as sp

    est_n, low_n = op.reductions
    if not (est_n or low_n):
        return sp.Integer(0), sp.Integer(0)
    own = res_bytes if res_bytes != 0 else sp.Integer(1)
    tau_bound = m.tau
    if not isinstance(op.region, str):  # MoE experts: dispatch and combine cross the experts' region; the GEMVs
        # (the rest) of each chosen expert reduce over that expert's own weights, the experts side by side
        experts, piece = (sp.sympify(x) for x in op.region)
        piece = formulas._lo(piece, own)
        area = sp.Max(experts, own)
        est = (2 * m.crossing(area, region.stage_bytes) + (est_n - 2) * m.crossing(piece, region.stage_bytes)) * m.tau
        # p independent pieces on a total area A each reach sqrt(A / p): the bound's hop latency over sqrt(p)
        tau_bound = m.tau / sp.sqrt(formulas._hi(own / piece, 1))
    else:
        area = region.layer_bytes if (op.region == "layer" and region.layer_bytes is not None) else own
        est = est_n * m.crossing(area, region.stage_bytes) * m.tau
    bound = formulas.mesh_reduction_bound(op.flops / peak, formulas._hi(m.cells(own), 1), m.w * m.h, tau_bound, low_n)
    return est, bound


def _link_latency(device: Device, lname: str):
    import sympy as sp

    lk = device.link(lname)
    return device.symbol(f"interconnect.{lname}.latency") if lk.latency is not None else sp.Integer(0)


def _collective_terms(op, device: Device, link_of, m: _Mesh | None) -> dict:
    """Link and hand-off latencies of the op's collectives and explicit steps, by latency term."""
    import sympy as sp

    out = {Latency.LINK: [0, 0], Latency.HANDOFF: [0, 0]}
    for role in sorted(set(op.collectives) | set(op.link_steps)):
        lname = link_of(role)
        tau = _link_latency(device, lname)
        term = Latency.HANDOFF if role == LinkRole.PP else Latency.LINK
        if role in op.collectives:
            kind, n = op.collectives[role]
            shape = device.link(lname).shape
            est, low = shape.hops(kind, n, bound=False) * tau, shape.hops(kind, n, bound=True) * tau
            if term is Latency.HANDOFF and m is not None:  # from the stage's last region to the edge and on
                est = est + (m.w + m.h) / 2 * m.tau
        else:
            est = low = sp.sympify(op.link_steps[role]) * tau
        out[term][0] += est
        out[term][1] += low
    return out


def op_latencies(op, device: Device, link_of, region: Region, res_bytes, peak) -> dict:
    """Every latency term of ``op`` on ``device``: ``{Latency: (estimate, bound)}``, SymPy expressions [s].

    Parameters
    ----------
    op : roofline.workloads.Op
        Its ``reductions``, ``region``, ``handoffs``, ``collectives`` and ``link_steps``.
    device : Device
        Its mesh, links and overheads become symbols.
    link_of : callable
        Link role to the name of the link that carries it.
    region : Region
        The bytes of the device's stage and of one layer.
    res_bytes : sympy.Expr
        The op's resident bytes (weights, KV cache) [B].
    peak : sympy.Symbol
        The peak of the op's data type [FLOP/s].

    Returns
    -------
    dict
        ``{Latency: (estimate, bound)}`` in the order of :data:`LATENCY_TERMS`.
    """
    import sympy as sp

    zero = sp.Integer(0)
    m = _Mesh(device) if is_mesh(device) else None
    fabric = _fabric(op, m, res_bytes, region, peak) if m is not None else (zero, zero)
    coll = _collective_terms(op, device, link_of, m)
    hand_est = coll[Latency.HANDOFF][0]
    if op.handoffs and m is not None and region.layer_bytes is not None:
        depth = m.band_depth(region.layer_bytes)
        hand_est = hand_est + op.handoffs * (depth if m.locality is None else m.locality * depth) * m.tau
    launch = zero if op.kind == "handoff" else sp.Add(*[device.symbol(p) for p in device.figures
                                                        if p.startswith("overheads.")])
    return {Latency.FABRIC: fabric, Latency.HANDOFF: (sp.sympify(hand_est), sp.sympify(coll[Latency.HANDOFF][1])),
            Latency.LAUNCH: (launch, zero),
            Latency.LINK: (sp.sympify(coll[Latency.LINK][0]), sp.sympify(coll[Latency.LINK][1]))}


def collective_share(device: Device, lname: str, op, role) -> float:
    """The share of a link's per-direction bandwidth the op's collective on ``role`` can drive.

    Parameters
    ----------
    device : Device
    lname : str
        The link's name.
    op : roofline.workloads.Op
    role : str
        The link role.

    Returns
    -------
    float
        [1] (see :meth:`roofline.hardware.device.Link.collective_share`).
    """
    if role not in op.collectives:
        return 1.0
    kind, n = op.collectives[role]
    if Collective(kind) is Collective.POINT_TO_POINT:
        return 1.0
    return device.link(lname).collective_share(int(n))
