"""Topologies of link domains: how many hops separate the devices of a group, and what each collective
charges in hops and in links.

A :class:`Topology` is hardware data (the ``topology`` table of an ``[[interconnect]]`` entry): its kind
(:class:`~roofline.vocab.TopologyKind`), its dimensions and, with the link's per-hop latency and per-link
bandwidth, everything a collective's time needs. The arithmetic is in :mod:`roofline.formulas`
(:func:`~roofline.formulas.collective_bytes`, :func:`~roofline.formulas.grid_diameter`...); this module
only decides which formula a topology uses.

Two answers for every collective:

* :meth:`Topology.hops` with ``bound=True``: the fewest hops any algorithm needs. An all-reduce,
  reduce-scatter, all-gather or all-to-all needs data from the farthest device of the group (the
  diameter: one switch traversal, ``⌊k/2⌋`` per torus axis, ``k - 1`` per mesh axis); a broadcast reaches
  the farthest device from its root (the radius); a point-to-point send goes to a neighbour (one hop).
* with ``bound=False``: what the algorithms libraries use for latency-bound messages. On a switch or a
  fully connected group, NCCL's tree or recursive doubling (``2⌈log₂ n⌉`` steps for an all-reduce,
  ``⌈log₂ n⌉`` for the halves, one step for an all-to-all); on a ring, the ring (``2(n - 1)`` steps); on a
  torus, bidirectional rings along each axis (the JAX scaling book: a reduce-scatter and an all-gather
  each cost the axes' diameters); on a mesh, a reduction to the centre and a broadcast back.

References: J. Austin et al., "How to Scale Your Model" (2025), part 3 (collectives on a TPU torus);
NCCL's tuning model (``src/graph/tuning.cc``: per-step latency by algorithm and protocol); R. Thakur,
R. Rabenseifner, W. Gropp, IJHPCA 19(1), 2005 (tree and recursive-doubling algorithms).
"""

from __future__ import annotations

from dataclasses import dataclass

from .. import formulas
from ..vocab import Collective, TopologyKind

__all__ = ["Topology", "SWITCH"]

_DIRECT = (TopologyKind.SWITCH, TopologyKind.FULL, TopologyKind.DRAGONFLY)
_GRIDS = (TopologyKind.TORUS, TopologyKind.MESH, TopologyKind.RING)


@dataclass(frozen=True)
class Topology:
    """How a link domain joins its devices.

    Attributes
    ----------
    kind : TopologyKind
        ``switch``, ``full``, ``ring``, ``torus``, ``mesh`` or ``dragonfly``.
    dimensions : tuple of int
        Devices along each dimension (ring, torus, mesh); for a dragonfly, devices per group and groups;
        empty for a switch or a fully connected group [1].
    basis : str
        Where the topology comes from (``datasheet``, ``estimate``...).
    sources : tuple of str
        Ids of the device's ``[sources]`` entries.
    note : str
        What it rests on.

    Examples
    --------
    >>> t = Topology(TopologyKind.TORUS, (16, 16))
    >>> t.hops("all_reduce", 16, bound=True), t.hops("all_reduce", 16, bound=False), t.hops("all_reduce", 64)
    (8, 16, 22)
    >>> SWITCH.hops("all_reduce", 8, bound=True), SWITCH.hops("all_reduce", 8, bound=False)
    (1, 6)
    """

    kind: TopologyKind
    dimensions: tuple[int, ...] = ()
    basis: str = "datasheet"
    sources: tuple[str, ...] = ()
    note: str = ""

    # -- the group -----------------------------------------------------------------------------------
    def shape(self, devices: int) -> tuple[int, ...]:
        """The block a group of ``devices`` occupies, filling the first dimension first.

        Parameters
        ----------
        devices : int
            Devices in the group [1].

        Returns
        -------
        tuple of int
            Devices along each dimension the group spans [1]; ``(devices,)`` for a direct topology.
        """
        if self.kind in _DIRECT or not self.dimensions:
            return (devices,) if devices > 1 else ()
        return formulas.group_shape(devices, self.dimensions)

    def _wrap(self, shape: tuple[int, ...]) -> tuple[bool, ...]:
        """Whether each axis of a group's block closes into a ring (a torus or ring axis used whole)."""
        if self.kind is TopologyKind.MESH:
            return tuple(False for _ in shape)
        full = self.dimensions or shape
        return tuple(k == n for k, n in zip(shape, full))

    def diameter(self, devices: int) -> int:
        """Hops between the two farthest devices of a group of ``devices``.

        Parameters
        ----------
        devices : int
            Devices in the group [1].

        Returns
        -------
        int
            [1]: 1 through a switch or a direct link; 3 across the groups of a dragonfly (local, global,
            local); the grid's diameter on a ring, torus or mesh.
        """
        if devices <= 1:
            return 0
        if self.kind is TopologyKind.DRAGONFLY:
            return 1 if not self.dimensions or devices <= self.dimensions[0] else 3
        if self.kind in _DIRECT:
            return 1
        shape = self.shape(devices)
        return formulas.grid_diameter(shape, self._wrap(shape))

    def radius(self, devices: int) -> int:
        """Hops from the most central device of a group to the farthest.

        Parameters
        ----------
        devices : int
            Devices in the group [1].

        Returns
        -------
        int
            [1].
        """
        if devices <= 1:
            return 0
        if self.kind in _DIRECT:
            return min(self.diameter(devices), 2)
        shape = self.shape(devices)
        return formulas.grid_radius(shape, self._wrap(shape))

    # -- a collective ----------------------------------------------------------------------------------
    def hops(self, collective: Collective | str, devices: int, bound: bool = False) -> int:
        """Latency-bearing hops (message steps through a switch) of ``collective`` over ``devices``.

        Parameters
        ----------
        collective : Collective or str
            The operation.
        devices : int
            Devices in the group [1].
        bound : bool
            The fewest any algorithm needs (see the module) rather than what libraries use.

        Returns
        -------
        int
            Hops in sequence [1]; 0 for a group of one.
        """
        c = Collective(collective)
        if c is Collective.POINT_TO_POINT:
            return 1 if bound else max(self.diameter(2), 1)
        if devices <= 1:
            return 0
        if bound:
            return self.radius(devices) if c is Collective.BROADCAST else self.diameter(devices)
        if self.kind in _DIRECT:
            return self._direct_steps(c, devices) * self.diameter(devices)
        return self._grid_hops(c, devices)

    @staticmethod
    def _direct_steps(c: Collective, devices: int) -> int:
        """Steps of the tree / recursive-doubling algorithms on a switch or a fully connected group."""
        if c is Collective.ALL_TO_ALL:
            return 1
        steps = formulas.tree_steps(devices)
        return 2 * steps if c is Collective.ALL_REDUCE else steps

    def _grid_hops(self, c: Collective, devices: int) -> int:
        """Hops of the ring algorithms along each axis of a ring, torus or mesh."""
        if self.kind is TopologyKind.RING and not self.dimensions:
            ring = formulas.line_hops(devices) + 1
            return 2 * (ring - 1) if c is Collective.ALL_REDUCE else ring - 1
        if c is Collective.BROADCAST:
            return self.radius(devices)
        if self.kind is TopologyKind.MESH:
            r = self.radius(devices)
            return 2 * r if c is Collective.ALL_REDUCE else r
        d = self.diameter(devices)
        return 2 * d if c is Collective.ALL_REDUCE else d

    def link_share(self, devices: int, ports: int | None) -> float:
        """The share of a device's links a collective over ``devices`` can drive at once.

        Through a switch or over direct links every link carries part of the collective; on a ring, torus
        or mesh a group drives the two links of each axis it spans (JAX scaling book, part 3).

        Parameters
        ----------
        devices : int
            Devices in the group [1].
        ports : int or None
            Links per device (None: all of the published bandwidth is usable) [1].

        Returns
        -------
        float
            [1], in (0, 1].

        Examples
        --------
        >>> Topology(TopologyKind.TORUS, (16, 16)).link_share(8, 4)  # one axis of a 2-D torus: 2 of 4 links
        0.5
        """
        if self.kind in _DIRECT or not ports:
            return 1.0
        used = 2 * max(len(self.shape(devices)), 1)
        return min(used, ports) / ports


#: What a link without a stated topology is taken to be: one message step between any two devices.
SWITCH = Topology(TopologyKind.SWITCH, (), "derived", (), "default for a link that states no topology")
