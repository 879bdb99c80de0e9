"""Command-line interface: a thin shell over the library (parse → call → format).

``python -m roofline COMMAND ...`` or ``roofline COMMAND ...``. User errors print one line on stderr and
exit with status 2; nothing here computes physics of its own.
"""

from __future__ import annotations

from ..format import render

__all__ = []


def _cmd_show(args) -> str:
    from ...hardware.library import get_device
    from ..report import device_record, device_rows

    dev = get_device(args.device, args.spec)
    if args.format == "json":
        return render(None, "json", json_obj=device_record(dev))
    title = f"{dev.name} ({dev.key}) — {dev.vendor}, {dev.kind}, {dev.year or ''} [{dev.status}]"
    rows = device_rows(dev)
    text = render(rows, args.format, title=title)
    if args.format == "table":
        srcs = "\n".join(f"  [{k}] {v.get('title', '')}, {v.get('publisher', '')} ({v.get('date', '')}) {v.get('url', '')}"
                         for k, v in dev.sources.items())
        text += f"\n\nSources:\n{srcs}\nFile: {dev.file}"
    return text

