"""Command-line interface: a thin shell over the library (parse → call → format).

``python -m roofline COMMAND ...`` or ``roofline COMMAND ...``. User errors print one line on stderr and
exit with status 2; nothing here computes physics of its own.
"""

from __future__ import annotations

from ..format import render

__all__ = []


def _cmd_models(args) -> str:
    from ...llm.loader import list_models

    rows = [{"key": m.key, "name": m.name, "layers": m.n_layers, "d_model": m.d_model, "heads": m.n_heads,
             "kv_heads": m.n_kv_heads, "params": m.total_params(), "active_params": m.active_params(),
             "moe": m.is_moe, "source": m.source.get("url", "")} for m in list_models(args.model_path)]
    if args.format in ("json", "csv"):
        return render(rows, args.format)
    for r in rows:
        r["params"] = f"{r['params'] / 1e9:.2f} B"
        r["active_params"] = f"{r['active_params'] / 1e9:.2f} B"
        r.pop("source")
    return render(rows, args.format)

