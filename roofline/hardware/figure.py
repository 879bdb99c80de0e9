"""One number of a device with its provenance: :class:`Figure`.

A figure holds an SI float and where it comes from: its basis (``datasheet``, ``measured``, ``derived``,
``estimate``), its source ids, the text or formula it was read from, and its range. Its range is the one
definition of "known only as a range" for a single figure (:attr:`Figure.is_range`); a device with any such
figure is an estimate (:attr:`roofline.hardware.Device.is_estimate`).
"""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import InputError
from ..units import DIMENSIONS
from ..vocab import Corner

__all__ = ['Figure']


@dataclass(frozen=True)
class Figure:
    """One number of a device, with its provenance.

    Attributes
    ----------
    path : str
        Where the figure sits in the spec (``"memory.hbm.bandwidth"``).
    value : float
        The nominal value, in the SI unit of ``dimension`` [B, B/s, FLOP/s, s, W, Hz, 1, FLOP, m, m²].
    dimension : str
        One of :data:`roofline.units.DIMENSIONS` (``"bytes_per_s"``...).
    basis : str
        ``datasheet``, ``measured``, ``derived`` or ``estimate`` (see :class:`roofline.vocab.Basis`).
    sources : tuple of str
        Ids of the device's ``[sources]`` entries.
    low, high : float
        The ends of the range, in the unit of ``value``; equal to ``value`` unless the figure is an estimate
        (or derived from one).
    text : str
        The quantity or formula as written in the spec.
    note, locator : str
        What an estimate rests on; where in the source the number is printed.
    formula : str
        The formula of a derived figure ("" otherwise).
    published : float or None
        The figure the vendor prints for a derived figure, if the spec states it [unit of ``value``].
    benchmark, software, date : str
        For a figure of ``[measured]``: the benchmark it was measured with, the software and library
        versions, and the date of the measurement ("" otherwise).
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
    benchmark: str = ""
    software: str = ""
    date: str = ""

    @property
    def is_range(self) -> bool:
        """Whether the figure is known only as a range: an estimate, or derived from one.

        Returns
        -------
        bool
        """
        return self.low != self.value or self.high != self.value or self.basis == "estimate"

    def at(self, which: Corner | str = Corner.NOMINAL) -> float:
        """The value at a corner of the figure's range.

        ``best`` is the end that makes the device faster and ``worst`` the other: for a time (a latency)
        ``best`` is ``low``; for everything else (peaks, bandwidths, capacities) ``best`` is ``high``.

        Parameters
        ----------
        which : Corner or str
            ``nominal``, ``low``, ``high``, ``best`` or ``worst`` (a :class:`roofline.vocab.Corner` or its
            text).

        Returns
        -------
        float
            The value in the figure's SI unit (:attr:`unit`).

        Raises
        ------
        InputError
            If ``which`` is no corner.
        """
        try:
            corner = Corner(which)
        except ValueError:
            raise InputError(f"unknown corner {which!r}; expected one of {', '.join(Corner)}") from None
        if corner is Corner.BEST:
            corner = Corner.LOW if self.dimension == "seconds" else Corner.HIGH
        elif corner is Corner.WORST:
            corner = Corner.HIGH if self.dimension == "seconds" else Corner.LOW
        if corner is Corner.LOW:
            return self.low
        return self.high if corner is Corner.HIGH else self.value

    @property
    def unit(self) -> str:
        """The SI unit of the figure's floats.

        Returns
        -------
        str
            ``"B"``, ``"B/s"``, ``"FLOP/s"``, ``"s"``, ``"W"``, ``"Hz"``, ``"1"``, ``"FLOP"``, ``"m"`` or
            ``"m^2"``.
        """
        return DIMENSIONS[self.dimension][1]
