"""The entry point of ``roofline`` and ``python -m roofline``: parse, run one command, print, exit status."""

from __future__ import annotations

import sys
from typing import Sequence

from ...errors import RooflineError
from .args import EXIT_USAGE, UsageError, apply_mode
from .commands import BY_NAME
from .parser import build_parser

__all__ = ['main']


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line.

    A user error (a bad option, an unknown device or model, a model that does not fit, a bad file) prints
    one line on stderr and returns :data:`~roofline.outputs.cli.args.EXIT_USAGE`, without a traceback.

    Parameters
    ----------
    argv : sequence of str, optional
        The arguments after the program name (default: ``sys.argv[1:]``).

    Returns
    -------
    int
        Exit status: 0 on success, 2 on a user error.
    """
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
        if args.version:
            from roofline import __version__

            print(__version__)
            return 0
        if not args.command:
            parser.print_help()
            return 0
        apply_mode(args)
        out = BY_NAME[args.command].run(args)
        if out:
            print(out)
        return 0
    except UsageError as exc:
        print(str(exc), file=sys.stderr)
        return EXIT_USAGE
    except RooflineError as exc:
        print(f"roofline: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except BrokenPipeError:  # pragma: no cover - `roofline ... | head`
        return 0
