"""The entry point of ``roofline`` and ``python -m roofline``: parse, run one command, print, exit status.

Whatever the user gives, the command ends in one of three ways: its output and status 0; one line on
standard error and status :data:`~roofline.outputs.cli.args.EXIT_USAGE` (a bad option or file, an
impossible input, a file that cannot be read or written, not enough memory); or, on Ctrl-C, one line and
status 130. Text reaches the terminal through :func:`roofline.outputs.format.for_terminal`: control
characters escaped, and ASCII spellings where the terminal's encoding lacks a symbol.
"""

from __future__ import annotations

import sys
from typing import Sequence

from ...errors import RooflineError
from ..format import for_terminal
from .args import EXIT_USAGE, UsageError, apply_mode
from .commands import NAMES, command
from .parser import build_parser

__all__ = ['main', 'EXIT_INTERRUPTED']

#: Exit status after Ctrl-C (128 + SIGINT, as shells report it).
EXIT_INTERRUPTED = 130


def _emit(text: str, stream) -> None:
    """Print ``text`` on ``stream`` in a form its encoding can show (see :func:`for_terminal`)."""
    stream.write(for_terminal(text, getattr(stream, "encoding", None)) + "\n")
    stream.flush()


def _os_message(exc: OSError) -> str:
    """One line for an error of the operating system: what failed, on which file."""
    what = exc.strerror or str(exc) or type(exc).__name__
    name = exc.filename if exc.filename is not None else ""
    return f"{what}: {name!r}" if name != "" else what


def _run(parser, argv) -> int:
    args = parser.parse_args(argv)
    if args.version:
        from roofline import __version__

        _emit(__version__, sys.stdout)
        return 0
    if not args.command:
        _emit(parser.format_help().rstrip("\n"), sys.stdout)
        return 0
    apply_mode(args)
    if args.command != "calibrate":  # it times matrix products; no other command multiplies matrices
        from ..._paths import no_blas_threads

        no_blas_threads()
    out = command(args.command).run(args)
    if out:
        _emit(out, sys.stdout)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line.

    A user error (a bad option, an unknown device or model, a model that does not fit, a bad file, a file
    that cannot be written, a grid too large for memory) prints one line on stderr and returns
    :data:`~roofline.outputs.cli.args.EXIT_USAGE`, without a traceback.

    Parameters
    ----------
    argv : sequence of str, optional
        The arguments after the program name (default: ``sys.argv[1:]``).

    Returns
    -------
    int
        Exit status: 0 on success, 2 on a user error, 130 after Ctrl-C.
    """
    argv = sys.argv[1:] if argv is None else list(argv)
    parser = build_parser(argv[0] if argv and argv[0] in NAMES else None)
    try:
        return _run(parser, argv)
    except UsageError as exc:
        message = str(exc)
    except RooflineError as exc:
        message = f"roofline: error: {exc}"
    except BrokenPipeError:  # pragma: no cover - `roofline ... | head`
        return 0
    except OSError as exc:  # a file that cannot be read or written: a full disk, no permission, no folder
        message = f"roofline: error: {_os_message(exc)}"
    except MemoryError:
        message = ("roofline: error: not enough memory for this command; use a smaller grid "
                   "(fewer batch, context or device values) or write it to a .parquet file")
    except SystemExit as exc:  # --help printed its text
        return exc.code if isinstance(exc.code, int) else 0
    except KeyboardInterrupt:
        _emit("roofline: interrupted (no file was left half-written)", sys.stderr)
        return EXIT_INTERRUPTED
    _emit(" ".join(message.split()) or "roofline: error", sys.stderr)
    return EXIT_USAGE
