"""The commands of ``roofline``, one module each, in the order ``roofline --help`` lists them.

Every module defines ``NAME`` (the command), ``register(subparsers)`` (its parser: options, help and an
example) and ``run(args) -> str`` (call the library, format the result). A new command is a new module
here and one entry in :data:`NAMES`.
"""

from __future__ import annotations

import importlib

__all__ = ["COMMANDS", "BY_NAME", "NAMES", "command"]

#: The commands' names, in help order; each is the module of that name here (``list`` in ``list.py``).
NAMES = ("list", "show", "gemm", "llm", "throughput", "compare", "sweep", "plot", "report", "validate", "calibrate",
         "models")


def command(name: str):
    """The module of command ``name``, imported on first use (a command line loads its own command only).

    Parameters
    ----------
    name : str
        One of :data:`NAMES`.

    Returns
    -------
    module
        With ``NAME``, ``register`` and ``run``.
    """
    return importlib.import_module(f"{__name__}.{name}")


def __getattr__(name: str):
    """``COMMANDS`` (the command modules, in help order) and ``BY_NAME`` (by command name), every command
    imported."""
    if name == "COMMANDS":
        return tuple(command(n) for n in NAMES)
    if name == "BY_NAME":
        return {n: command(n) for n in NAMES}
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
