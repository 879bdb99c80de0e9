"""The parser of ``roofline``: the top-level options, and one sub-command per module of
:mod:`roofline.outputs.cli.commands`, each registered by that module."""

from __future__ import annotations

import argparse

from .args import EXIT_USAGE, Parser, UsageError, add_mode
from .commands import NAMES, command

__all__ = ["EXIT_USAGE", "build_parser"]

# the names this module has always offered
_Parser, _UsageError = Parser, UsageError


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The argparse parser of ``roofline`` and all its commands.

    Parameters
    ----------
    only : str, optional
        Register this command alone: what :func:`~roofline.outputs.cli.main.main` does when the arguments
        start with a command's name (a command's options, errors and help do not depend on the others, and
        building every command's parser costs more than a warm ``roofline llm`` computes). Default: all.

    Returns
    -------
    argparse.ArgumentParser
        A parser whose errors raise :class:`~roofline.outputs.cli.args.UsageError` (one line) instead of
        exiting; ``args.command`` names the command chosen (``None`` for none).
    """
    parser = Parser(prog="roofline", description="Analytical roofline and memory-wall models of AI accelerators.")
    parser.add_argument("--version", action="store_true", help="print the version and exit")
    sub = parser.add_subparsers(dest="command", parser_class=Parser)
    for name in NAMES if only is None else (only,):
        _add_modes(command(name).register(sub))
    return parser


def _add_modes(p: argparse.ArgumentParser) -> None:
    """``--mode`` on every parser (and sub-command parser) that takes ``--ideal``."""
    if "--ideal" in p._option_string_actions:
        add_mode(p)
    for action in p._actions:
        if isinstance(action, argparse._SubParsersAction):
            for q in action.choices.values():
                _add_modes(q)
