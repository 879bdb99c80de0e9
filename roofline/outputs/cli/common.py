"""Command-line interface: a thin shell over the library (parse → call → format).

``python -m roofline COMMAND ...`` or ``roofline COMMAND ...``. User errors print one line on stderr and
exit with status 2; nothing here computes physics of its own.
"""

from __future__ import annotations

__all__ = []


def _check_plot_path(path: str) -> None:
    import os

    from ...errors import InputError

    ext = os.path.splitext(path)[1].lower()
    if ext not in (".png", ".svg", ".pdf"):
        raise InputError(f"cannot write a chart to {path!r}: use a .png, .svg or .pdf file name")
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise InputError(f"cannot write {path!r}: no folder {folder!r}")

