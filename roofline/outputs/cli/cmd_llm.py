"""Command-line interface: a thin shell over the library (parse → call → format).

``python -m roofline COMMAND ...`` or ``roofline COMMAND ...``. User errors print one line on stderr and
exit with status 2; nothing here computes physics of its own.
"""

from __future__ import annotations

from ..format import human, render

__all__ = []


def _precision(args):
    from ...llm.precision import Precision

    return Precision.of(args.dtype, weights=args.weight_dtype, activations=args.act_dtype, kv=args.kv_dtype)


def _cmd_llm(args) -> str:
    from ...llm.inference import estimate

    rec = estimate(args.model, _device(args), batch=args.batch, context=args.context, generate=args.generate,
                   prec=_precision(args), devices=args.devices, tp=args.tp, pp=args.pp, ideal=args.ideal,
                   overlap=args.overlap, prompt=args.prompt)
    if args.format == "json":
        return render(None, "json", json_obj=rec)
    return render(_llm_rows(rec), args.format, title=(
        f"{rec['model']} on {rec['devices_used']} x {rec['device']} (tp={rec['tp']}, pp={rec['pp']}), "
        f"{rec['weight_dtype']} weights, batch {rec['batch']}, context {rec['context']}"
        + (" (ideal)" if rec["ideal"] else "")))


def _device(args):
    from ...hardware.library import get_device

    return get_device(args.device, args.spec)


def _llm_rows(rec: dict) -> list[dict]:
    def rng(key, unit):
        r = rec.get(key + "_range")
        return f"{human(r[0], unit)} – {human(r[1], unit)}" if r else ""

    rows = [
        ("devices used", f"{rec['devices_used']} (tp={rec['tp']}, pp={rec['pp']}, {rec['placement']})", ""),
        ("weights live in", rec["weights_level"], ""),
        ("weights", human(rec["weights_bytes"], "B"), ""),
        ("KV cache", human(rec["kv_cache_bytes"], "B"), ""),
        ("per device", f"{human(rec['resident_bytes_per_device'], 'B')} of {human(rec['capacity_bytes_per_device'], 'B')}", ""),
        ("time to first token", human(rec["ttft_s"], "s"), rng("ttft_s", "s")),
        ("prefill bound", rec["prefill_bound"], ""),
        ("time per output token", human(rec["tpot_s"], "s"), rng("tpot_s", "s")),
        ("decode bound", rec["bound"], ""),
        ("tokens/s per user", f"{rec['tokens_per_s_per_user']:,.1f}", _rate_rng(rec, "tokens_per_s_per_user")),
        ("tokens/s (batch)", f"{rec['tokens_per_s']:,.1f}", _rate_rng(rec, "tokens_per_s")),
        ("energy per token", human(rec["energy_per_token_j"], "J"), rng("energy_per_token_j", "J")),
    ]
    if "request_latency_s" in rec:
        rows += [("request latency", human(rec["request_latency_s"], "s"), rng("request_latency_s", "s")),
                 ("request tokens/s per user", f"{rec['request_tokens_per_s_per_user']:,.1f}", "")]
    for lbl, t in rec["decode_terms_s"].items():
        if t > 0:
            rows.append((f"  decode time bound by {lbl}", human(t, "s"), ""))
    return [{"quantity": a, "value": b, "range": c} for a, b, c in rows]


def _rate_rng(rec, key):
    r = rec.get(key + "_range")
    return f"{r[0]:,.1f} – {r[1]:,.1f}" if r else ""

