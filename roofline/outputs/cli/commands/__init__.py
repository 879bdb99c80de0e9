"""The commands of ``roofline``, one module each, in the order ``roofline --help`` lists them.

Every module defines ``NAME`` (the command), ``register(subparsers)`` (its parser: options, help and an
example) and ``run(args) -> str`` (call the library, format the result). A new command is a new module
here and one entry in :data:`COMMANDS`.
"""

from __future__ import annotations

from . import calibrate, compare, gemm, llm, models, plot, report, show, sweep, throughput, validate
from . import list as list_

__all__ = ["COMMANDS", "BY_NAME"]

#: The command modules, in help order.
COMMANDS = (list_, show, gemm, llm, throughput, compare, sweep, plot, report, validate, calibrate, models)

#: The command modules by command name.
BY_NAME = {c.NAME: c for c in COMMANDS}
