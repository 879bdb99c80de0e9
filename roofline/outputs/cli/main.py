"""Command-line interface: a thin shell over the library (parse → call → format).

``python -m roofline COMMAND ...`` or ``roofline COMMAND ...``. User errors print one line on stderr and
exit with status 2; nothing here computes physics of its own.
"""

from __future__ import annotations

import sys
from typing import Sequence

from ...errors import RooflineError
from .cmd_compare import _cmd_compare
from .cmd_gemm import _cmd_gemm
from .cmd_list import _cmd_list
from .cmd_llm import _cmd_llm
from .cmd_models import _cmd_models
from .cmd_plot import _cmd_plot
from .cmd_show import _cmd_show
from .cmd_sweep import _cmd_sweep
from .cmd_validate import _cmd_validate
from .parser import EXIT_USAGE, _UsageError, build_parser

__all__ = ['main']


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; returns the exit status (0 ok, 2 user error)."""
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
        out = _COMMANDS[args.command](args)
        if out:
            print(out)
        return 0
    except _UsageError as exc:
        print(str(exc), file=sys.stderr)
        return EXIT_USAGE
    except RooflineError as exc:
        print(f"roofline: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except BrokenPipeError:  # pragma: no cover - `roofline ... | head`
        return 0


_COMMANDS = {"validate": _cmd_validate, "compare": _cmd_compare, "sweep": _cmd_sweep, "plot": _cmd_plot, "list": _cmd_list, "show": _cmd_show, "gemm": _cmd_gemm, "llm": _cmd_llm, "models": _cmd_models}

