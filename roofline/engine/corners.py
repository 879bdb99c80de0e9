"""Corners: a result at the nominal figures and at the best and worst ends of every estimated range.

The one place that decides which corners a device is evaluated at. A device whose figures are all
points (datasheet, measured, derived from points) is evaluated once; a device with any estimated figure
(:attr:`roofline.hardware.Device.is_estimate`) three times, and every result is a :class:`Ranged`.
"""

from __future__ import annotations

from typing import Callable

from ..hardware.device import Device
from ..vocab import Corner, Ranged

__all__ = ["corners_of", "evaluate_corners", "ranged"]


def corners_of(device: Device) -> tuple[Corner, ...]:
    """The corners to evaluate ``device`` at.

    Parameters
    ----------
    device : Device
        Its figures' bases decide (:attr:`roofline.hardware.Device.is_estimate`).

    Returns
    -------
    tuple of Corner
        ``(nominal,)`` or ``(nominal, best, worst)``.
    """
    return (Corner.NOMINAL, Corner.BEST, Corner.WORST) if device.is_estimate else (Corner.NOMINAL,)


def evaluate_corners(device: Device, fn: Callable[[Corner], dict]) -> dict[Corner, dict]:
    """Call ``fn(corner)`` at every corner of ``device`` (see :func:`corners_of`).

    Parameters
    ----------
    device : Device
        Decides the corners (:func:`corners_of`).
    fn : callable
        Computes a record of numbers at one corner.

    Returns
    -------
    dict
        ``{corner: record}``; the best and worst corners are absent for a device without ranges.
    """
    return {c: fn(c) for c in corners_of(device)}


def ranged(results: dict[Corner, dict], key: str) -> Ranged:
    """The value of ``key`` at each corner as a :class:`Ranged` (best = worst = nominal without ranges).

    Parameters
    ----------
    results : dict
        From :func:`evaluate_corners`.
    key : str
        A field of the records.

    Returns
    -------
    Ranged
        The field at the nominal, best and worst corners, in its own unit.

    Examples
    --------
    >>> ranged({Corner.NOMINAL: {"time_s": 2.0}}, "time_s")
    Ranged(nominal=2.0, best=2.0, worst=2.0)
    >>> ranged({Corner.NOMINAL: {"time_s": 2.0}, Corner.BEST: {"time_s": 1.5},
    ...         Corner.WORST: {"time_s": 3.0}}, "time_s").to_dict("time_s")
    {'time_s': 2.0, 'time_s_range': [1.5, 3.0]}
    """
    nom = float(results[Corner.NOMINAL][key])
    if Corner.BEST not in results:
        return Ranged(nom, nom, nom)
    return Ranged(nom, float(results[Corner.BEST][key]), float(results[Corner.WORST][key]))
