"""The parser of ``roofline``: the top-level options, and one sub-command per module of
:mod:`roofline.outputs.cli.commands`, each registered by that module."""

from __future__ import annotations

import argparse

from .args import EXIT_USAGE, Parser, UsageError, add_mode
from .commands import COMMANDS

__all__ = ["EXIT_USAGE", "build_parser"]

# the names this module has always offered
_Parser, _UsageError = Parser, UsageError


def build_parser() -> argparse.ArgumentParser:
    """The argparse parser of ``roofline`` and all its commands (it takes no parameters).

    Returns
    -------
    argparse.ArgumentParser
        A parser whose errors raise :class:`~roofline.outputs.cli.args.UsageError` (one line) instead of
        exiting; ``args.command`` names the command chosen (``None`` for none).
    """
    parser = Parser(prog="roofline", description="Analytical roofline and memory-wall models of AI accelerators.")
    parser.add_argument("--version", action="store_true", help="print the version and exit")
    sub = parser.add_subparsers(dest="command", parser_class=Parser)
    for command in COMMANDS:
        _add_modes(command.register(sub))
    return parser


def _add_modes(p: argparse.ArgumentParser) -> None:
    """``--mode`` on every parser (and sub-command parser) that takes ``--ideal``."""
    if "--ideal" in p._option_string_actions:
        add_mode(p)
    for action in p._actions:
        if isinstance(action, argparse._SubParsersAction):
            for q in action.choices.values():
                _add_modes(q)
