"""Load and validate device spec files (``hardware_specs/*.toml``) into immutable :class:`Device` objects.

The spec format is described in ``docs/spec-format.md``. Units are parsed here, once, with pint (see
:mod:`roofline.units`); derived figures are computed here from their formulas; and every schema problem
raises :class:`~roofline.errors.SpecError` naming the file, the field and what was expected. Nothing
downstream of this module knows about files or units.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..units import DIMENSIONS

__all__ = ['Figure']


@dataclass(frozen=True)
class Figure:
    """One number of a device, with its provenance.

    ``value``, ``low`` and ``high`` are SI floats (bytes, bytes/s, FLOP/s, s, W, Hz, or a count); ``low``
    and ``high`` equal ``value`` unless the figure is an estimate (or derived from one).
    """

    path: str
    value: float
    dimension: str
    basis: str
    sources: tuple[str, ...]
    low: float
    high: float
    text: str = ""
    note: str = ""
    locator: str = ""
    formula: str = ""
    published: float | None = None

    @property
    def is_range(self) -> bool:
        """True when the figure is known only as a range (an estimate, or derived from one)."""
        return self.low != self.value or self.high != self.value or self.basis == "estimate"

    def at(self, which: str = "nominal") -> float:
        """The value at ``which``: ``"nominal"``, ``"low"``, ``"high"``, or the end of the range that makes
        the device faster (``"best"``) or slower (``"worst"``): for a time (a latency) ``best`` is ``low``;
        for everything else (peaks, bandwidths, capacities) ``best`` is ``high``."""
        if which == "best":
            which = "low" if self.dimension == "seconds" else "high"
        elif which == "worst":
            which = "high" if self.dimension == "seconds" else "low"
        return {"nominal": self.value, "low": self.low, "high": self.high}[which]

    @property
    def unit(self) -> str:
        return DIMENSIONS[self.dimension][1]

