"""The output layout of a compiled workload: where each number sits in the flat vector its function returns.

A compiled workload is one function ``f(*shapes, *figures)`` returning one flat list, so that common
subexpressions are computed once per block of points. Its layout is::

    [flops, bytes, working set,
     op 0: compute, resident at level 0..L-1, transient at level 0..L-1, link 0..K-1,
           latency of the estimate 0..J-1, latency of the bound 0..J-1, act bytes, count,
     op 1: ...]

with :math:`J` the latency terms (:data:`N_LATENCY`: fabric, handoff, launch, link). The mode picks one
latency set at evaluation (none for the pure roofline), so one compiled function serves all three.

The NumPy evaluator (:mod:`roofline.engine.numpy_eval`) and the numba kernel generator
(:mod:`roofline.engine.fused`) both read positions from an :class:`OutputLayout`; neither does index
arithmetic of its own.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["OutputLayout", "N_LATENCY"]

#: Latency terms per op (:data:`roofline.engine.latency.LATENCY_TERMS`).
N_LATENCY = 4


@dataclass(frozen=True)
class OutputLayout:
    """Positions in a compiled workload's output vector, for ``n_levels`` memory levels and ``n_links`` links.

    Parameters
    ----------
    n_levels : int
        Memory levels of the device [1].
    n_links : int
        Links the workload uses [1].

    Examples
    --------
    >>> lay = OutputLayout(n_levels=2, n_links=1)
    >>> lay.per_op, lay.op(1).start, lay.resident(), lay.link(0), lay.latency(0), lay.latency(0, bound=True)
    (16, 19, slice(1, 3, None), 5, 6, 10)
    >>> lay.act_bytes, lay.count, lay.term_latency(0), lay.n_reported
    (14, 15, 4, 8)
    """

    n_levels: int
    n_links: int

    #: positions of the workload totals
    FLOPS = 0
    BYTES = 1
    WORKING_SET = 2
    HEAD = 3
    #: offset of the compute term inside an op's slice
    COMPUTE = 0

    @property
    def per_op(self) -> int:
        """Outputs per op [1]."""
        return 3 + 2 * self.n_levels + self.n_links + 2 * N_LATENCY

    @property
    def n_terms(self) -> int:
        """Outputs per op before its count [1] (the old ``n_terms``)."""
        return self.per_op - 1

    def op(self, o: int) -> slice:
        """The slice of op ``o``'s outputs in the flat vector.

        Parameters
        ----------
        o : int
            Index of the op in the workload [1].

        Returns
        -------
        slice
        """
        start = self.HEAD + o * self.per_op
        return slice(start, start + self.per_op)

    def resident(self, level: int | None = None):
        """Offset (or slice of all levels) of the resident-bytes terms inside an op's slice.

        Parameters
        ----------
        level : int, optional
            Memory level index, fastest first [1]; None: all levels.

        Returns
        -------
        int or slice
        """
        return slice(1, 1 + self.n_levels) if level is None else 1 + level

    def transient(self, level: int | None = None):
        """Offset (or slice) of the transient-bytes terms inside an op's slice.

        Parameters
        ----------
        level : int, optional
            Memory level index, fastest first [1]; None: all levels.

        Returns
        -------
        int or slice
        """
        base = 1 + self.n_levels
        return slice(base, base + self.n_levels) if level is None else base + level

    def link(self, j: int | None = None):
        """Offset (or slice) of the link terms inside an op's slice.

        Parameters
        ----------
        j : int, optional
            Index of the link among those the workload uses [1]; None: all links.

        Returns
        -------
        int or slice
        """
        base = 1 + 2 * self.n_levels
        return slice(base, base + self.n_links) if j is None else base + j

    def latency(self, j: int | None = None, bound: bool = False):
        """Offset (or slice) of the latency terms of the estimate, or of the bound, inside an op's slice.

        Parameters
        ----------
        j : int, optional
            Index of the latency term (:data:`roofline.engine.latency.LATENCY_TERMS`) [1]; None: all.
        bound : bool
            The latency-bound set rather than the estimate's.

        Returns
        -------
        int or slice
        """
        base = 1 + 2 * self.n_levels + self.n_links + (N_LATENCY if bound else 0)
        return slice(base, base + N_LATENCY) if j is None else base + j

    @property
    def act_bytes(self) -> int:
        """Offset of the transient bytes [B] inside an op's slice."""
        return 1 + 2 * self.n_levels + self.n_links + 2 * N_LATENCY

    @property
    def count(self) -> int:
        """Offset of the op's repeat count inside an op's slice."""
        return self.act_bytes + 1

    # -- the terms as reported (compute, memory per level, links, latencies) -------------------------------
    def term_of_level(self, level: int) -> int:
        """Index of the memory term of ``level`` in the reported terms.

        Parameters
        ----------
        level : int
            Memory level index, fastest first [1].

        Returns
        -------
        int
        """
        return 1 + level

    def term_of_link(self, j: int) -> int:
        """Index of link ``j``'s term in the reported terms.

        Parameters
        ----------
        j : int
            Index of the link among those the workload uses [1].

        Returns
        -------
        int
        """
        return 1 + self.n_levels + j

    def term_latency(self, j: int) -> int:
        """Index of latency term ``j`` in the reported terms.

        Parameters
        ----------
        j : int
            Index of the latency term [1].

        Returns
        -------
        int
        """
        return 1 + self.n_levels + self.n_links + j

    @property
    def n_work(self) -> int:
        """Reported terms whose maximum an op takes under full overlap: compute, levels, links [1]."""
        return 1 + self.n_levels + self.n_links

    @property
    def n_reported(self) -> int:
        """Number of reported terms (labels) [1]."""
        return self.n_work + N_LATENCY
