"""Cross-check roofline against llm-analysis 0.2.2 (github.com/cli99/llm-analysis) on identical inputs.

Inputs: Llama-2-7B, 16-bit weights, activations and KV cache, batch 1, a 1024-token prompt, 128 generated
tokens, one GPU (tp = pp = 1), on an A100 80 GB SXM and an H100 SXM. Both tools run as pure rooflines:
roofline with ``ideal=True`` (no launch overheads), llm-analysis with ``flops_efficiency=1`` and
``hbm_memory_efficiency=1`` and, separately, with its defaults (which in 0.2.2 are also 1 and 1, see
``llm_analysis/constant.py``). The findings are written up in ``docs/crosscheck.md``.

This is a script, not a test: it prints tables and exits 0. It is not run by the test suite.

How to run
----------
llm-analysis lives in its own virtual environment so that its pinned dependencies (transformers 4.31,
tokenizers 0.13, huggingface-hub 0.14) cannot disturb the project's::

    python3 -m venv /tmp/llma-venv
    /tmp/llma-venv/bin/pip install llm-analysis==0.2.2
    python validation/crosscheck_llm_analysis.py                 # with the python that imports roofline

This script runs under the project's python (it imports ``roofline``) and calls llm-analysis in a
subprocess with the venv's python. Options: ``--llma-python PATH`` (default ``$LLMA_PYTHON`` or
``/tmp/llma-venv/bin/python``) and ``--json FILE`` to also write every number as JSON.

Model names: llm-analysis's built-in Llama-2-7B config is ``NousResearch_Llama-2-7b-hf`` (file
``llm_analysis/model_configs/NousResearch_Llama-2-7b-hf.json``); a name it does not know makes it query
the Hugging Face Hub, which this script avoids. GPUs: ``a100-sxm-80gb`` and ``h100-sxm-80gb``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys

MODEL_RL = "llama-2-7b"
MODEL_LA = "NousResearch_Llama-2-7b-hf"
DEVICES = (("a100", "a100-sxm-80gb"), ("h100", "h100-sxm-80gb"))
BATCH, PROMPT, GENERATE = 1, 1024, 128

# ------------------------------------------------------------------------------------------------------
# llm-analysis side: run in the venv's python, prints one JSON line on stdout
# ------------------------------------------------------------------------------------------------------
_LLMA_CODE = r'''
import json, sys, importlib.metadata as md
from llm_analysis.analysis import infer, LLMAnalysis
from llm_analysis.config import get_model_config_by_name, get_gpu_config_by_name, get_dtype_config_by_name
from llm_analysis import constant as C

a = json.loads(sys.argv[1])
out = {"version": md.version("llm-analysis"), "transformers": md.version("transformers"),
       "FLOPS_EFFICIENCY": C.FLOPS_EFFICIENCY, "HBM_MEMORY_EFFICIENCY": C.HBM_MEMORY_EFFICIENCY,
       "python": sys.version.split()[0], "runs": {}, "inputs": {}}
mc = get_model_config_by_name(a["model"])
out["model_config"] = dict(mc.__dict__)
for gpu in a["gpus"]:
    gc = get_gpu_config_by_name(gpu)
    an = LLMAnalysis(mc, gc, get_dtype_config_by_name("w16a16e16"), flops_efficiency=1, hbm_memory_efficiency=1)
    out["inputs"][gpu] = {
        "gpu_config": dict(gc.__dict__),
        "tflops_used": an.get_TFLOPS_per_gpu(),
        "hbm_GBps_used": an.get_gpu_hbm_bandwidth(),
        "params_attn_per_layer": an.get_num_params_per_layer_attn(),
        "params_mlp_per_layer": an.get_num_params_per_layer_mlp(),
        "params_norm_per_layer": an.get_num_params_per_layer_layernorm(),
        "params_embedding": an.get_num_params_embedding(),
        "params_total": an.get_num_params_total(),
        "act_bytes_attn_per_layer_decode": an.get_activation_memory_per_layer_attn(a["batch"], 1),
        "act_bytes_mlp_per_layer_decode": an.get_activation_memory_per_layer_mlp(a["batch"], 1),
        "act_bytes_norm_decode": an.get_activation_memory_per_layernorm(a["batch"], 1),
        "flops_attn_per_layer_prefill": an.get_num_flops_fwd_per_layer_attn(a["batch"], a["prompt"]),
        "flops_mlp_per_layer_prefill": an.get_num_flops_fwd_per_layer_mlp(a["batch"], a["prompt"]),
        "flops_attn_scores_per_layer_prefill": 4 * a["batch"] * a["prompt"] ** 2 * mc.hidden_dim,
        "flops_lm_head_prefill": 2 * a["batch"] * a["prompt"] * mc.vocab_size * mc.hidden_dim,
    }
    for label, eff in (("pure", {"flops_efficiency": 1, "hbm_memory_efficiency": 1}), ("defaults", {})):
        for gen in a["generate"]:
            r = infer(model_name=a["model"], gpu_name=gpu, dtype_name="w16a16e16", log_level="ERROR",
                      batch_size_per_gpu=a["batch"], seq_len=a["prompt"], num_tokens_to_generate=gen,
                      tp_size=1, pp_size=1, **eff)
            out["runs"][f"{gpu}|{label}|{gen}"] = {k: v for k, v in r.items() if isinstance(v, (int, float, bool))}
print("LLMA_JSON " + json.dumps(out))
'''


def run_llm_analysis(python: str) -> dict:
    args = {"model": MODEL_LA, "gpus": [g for _, g in DEVICES], "batch": BATCH, "prompt": PROMPT,
            "generate": [GENERATE, 1]}
    env = dict(os.environ, TRANSFORMERS_OFFLINE="1", HF_HUB_OFFLINE="1")
    p = subprocess.run([python, "-c", _LLMA_CODE, json.dumps(args)], capture_output=True, text=True, env=env)
    line = next((ln for ln in p.stdout.splitlines() if ln.startswith("LLMA_JSON ")), None)
    if p.returncode or line is None:
        sys.exit(f"llm-analysis run failed (python {python}, rc {p.returncode}):\n{p.stderr[-4000:]}")
    return json.loads(line[len("LLMA_JSON "):])


# ------------------------------------------------------------------------------------------------------
# roofline side
# ------------------------------------------------------------------------------------------------------
def run_roofline() -> dict:
    import importlib.metadata as md

    import sympy as sp

    import roofline
    from roofline import engine, llm
    from roofline.devices import get_device
    from roofline.models import get_model
    from roofline.symbols import shape_symbol
    from roofline.workloads import Workload

    m = get_model(MODEL_RL)
    prec = llm.Precision.of("bf16")
    out = {"version": getattr(roofline, "__version__", None) or md.version("roofline"), "devices": {}}
    subs = {"prefill": {"b": BATCH, "p": PROMPT}, "decode": {"b": BATCH, "s": PROMPT}}
    for key, _ in DEVICES:
        dev = get_device(key)
        est = llm.estimate(MODEL_RL, key, batch=BATCH, context=PROMPT, prompt=PROMPT, generate=GENERATE, ideal=True)
        vals = dev.values("nominal")
        d = {
            "estimate": {k: est[k] for k in ("ttft_s", "tpot_s", "request_latency_s", "weights_bytes", "kv_cache_bytes",
                                             "bound", "prefill_bound", "decode_flops", "decode_bytes", "weights_level",
                                             "devices_used")},
            "peak_bf16_dense": vals["compute.bf16.dense"],
            "hbm_bandwidth": vals["memory.hbm.bandwidth"],
            "l2_bandwidth": vals["memory.l2.bandwidth"],
            "l2_capacity": vals["memory.l2.capacity"],
            "hbm_capacity": vals["memory.hbm.capacity"],
            "device_name": dev.name,
            "kv_bytes_at_1024": float(llm.kv_cache_bytes(m, prec, BATCH, PROMPT)),
            "kv_bytes_at_1152": float(llm.kv_cache_bytes(m, prec, BATCH, PROMPT + GENERATE)),
            "ops": {},
        }
        pl = llm.place(m, dev, prec, BATCH, PROMPT + GENERATE)
        for phase in ("prefill", "decode"):
            wl = llm.llm_workload(m, phase, prec, pl.parallel, pl.links)
            sh = {shape_symbol(k): v for k, v in subs[phase].items()}
            rows = []
            for op in wl.ops:
                one = Workload(op.name, (op,), resident=wl.resident)
                r = engine.evaluate(one, dev, subs[phase], ideal=True, level=pl.level, detail=False)
                by_role: dict[str, float] = {}
                for t in op.tensors:
                    by_role[t.role] = by_role.get(t.role, 0.0) + float(sp.sympify(t.bytes * op.count).subs(sh))
                rows.append({"op": op.name, "count": int(op.count), "time_s": float(r["time_s"]),
                             "bound": str(r["bound"]), "flops": float(sp.sympify(op.flops * op.count).subs(sh)),
                             "bytes_by_role": by_role})
            d["ops"][phase] = rows
            d[f"{phase}_op_sum_s"] = sum(x["time_s"] for x in rows)
        out["devices"][key] = d
    out["params_total"] = m.total_params()
    out["params"] = {"embedding": m.embedding_params(), "lm_head": m.lm_head_params()}
    return out


# ------------------------------------------------------------------------------------------------------
# tables
# ------------------------------------------------------------------------------------------------------
def ms(x: float) -> str:
    return f"{x * 1e3:9.3f}"


def pct(a: float, b: float) -> str:
    return f"{(a / b - 1) * 100:+6.1f}%"


def _group(rows, phase):
    """roofline ops grouped into llm-analysis's breakdown buckets."""
    g = {"attn": 0.0, "kv": 0.0, "mlp": 0.0, "norm": 0.0, "in_emb": 0.0, "out_emb": 0.0}
    for r in rows:
        n = r["op"]
        if n in ("qkv_proj", "o_proj"):
            g["attn"] += r["time_s"]
        elif n.startswith("attention"):
            g["kv" if phase == "decode" else "attn"] += r["time_s"]
        elif n.startswith("mlp"):
            g["mlp"] += r["time_s"]
        elif n in ("norm", "residual_add"):
            g["norm"] += r["time_s"]
        elif n == "embedding":
            g["in_emb"] += r["time_s"]
        elif n in ("lm_head", "final_norm"):
            g["out_emb"] += r["time_s"]
        else:
            raise KeyError(n)
    return g


def report(la: dict, rl: dict) -> None:
    print(f"roofline {rl['version']}   llm-analysis {la['version']} (transformers {la['transformers']}, "
          f"python {la['python']})")
    print(f"Llama-2-7B, 16-bit, batch {BATCH}, prompt {PROMPT}, generate {GENERATE}, 1 GPU\n")

    print("== Headline (ms) ==")
    hdr = f"{'device':6} {'quantity':32} {'roofline':>9} {'llm-a pure':>10} {'llm-a dflt':>10} {'llm-a/rl':>8}"
    print(hdr)
    print("-" * len(hdr))
    for key, gpu in DEVICES:
        e = rl["devices"][key]["estimate"]
        p = la["runs"][f"{gpu}|pure|{GENERATE}"]
        dft = la["runs"][f"{gpu}|defaults|{GENERATE}"]
        for name, a, b, c in (("prefill (TTFT)", e["ttft_s"], p["prefill_latency"], dft["prefill_latency"]),
                              ("decode step (ctx 1024 / 1152)", e["tpot_s"], p["decode_latency"], dft["decode_latency"]),
                              (f"request: prefill + {GENERATE} decode", e["request_latency_s"], p["total_latency"],
                               dft["total_latency"])):
            print(f"{key:6} {name:32} {ms(a)} {ms(b):>10} {ms(c):>10} {pct(b, a):>8}")
    print("(roofline decode step at KV context 1024; its request sums steps at 1024..1151. llm-analysis uses one\n"
          " decode step for all tokens, with the KV cache of the final context 1152 read and written in full.)\n")

    print("== Inputs each tool used ==")
    for key, gpu in DEVICES:
        d, li = rl["devices"][key], la["inputs"][gpu]
        p = la["runs"][f"{gpu}|pure|{GENERATE}"]
        implied_bw = 2 * p["kv_cache_memory_per_gpu"] / p["kv_cache_latency"]
        print(f"{key}: roofline '{d['device_name']}'  |  llm-analysis '{gpu}'")
        print(f"  peak 16-bit FLOP/s     roofline {d['peak_bf16_dense']:.4g}  llm-a {li['tflops_used'] * 1e12:.4g} "
              f"(peak_fp16_TFLOPS={li['gpu_config']['peak_fp16_TFLOPS']} x 1e12)")
        print(f"  HBM bandwidth B/s      roofline {d['hbm_bandwidth']:.4g}  llm-a {li['hbm_GBps_used'] * 1e9:.4g} "
              f"(hbm_bandwidth_in_GB_per_sec={li['gpu_config']['hbm_bandwidth_in_GB_per_sec']} x 1e9; implied by its "
              f"kv_cache_latency: {implied_bw:.6g})")
        print(f"  activations            roofline: L2 ({d['l2_bandwidth']:.3g} B/s, {d['l2_capacity']:.3g} B) when they fit,"
              f" else HBM  |  llm-a: HBM")
        print(f"  weight bytes           roofline {d['estimate']['weights_bytes']:.6g}  llm-a "
              f"{p['weight_memory_per_gpu']:.6g} (embedding counted once: tied)")
        print(f"  KV bytes (ctx 1152)    roofline {d['kv_bytes_at_1152']:.6g}  llm-a {p['kv_cache_memory_per_gpu']:.6g}")
        print(f"  KV bytes per decode    roofline {d['kv_bytes_at_1024']:.6g} read + {d['kv_bytes_at_1024'] / PROMPT:.6g} "
              f"written  |  llm-a {2 * p['kv_cache_memory_per_gpu']:.6g} (2 x cache at 1152)")
    li = la["inputs"][DEVICES[0][1]]
    mc = la["model_config"]
    print(f"  llm-a model config: layers {mc['num_layers']}, heads {mc['n_head']}, kv heads {mc['num_key_value_heads']}, "
          f"hidden {mc['hidden_dim']}, ffn_embed_dim {mc['ffn_embed_dim']}, vocab {mc['vocab_size']}")
    print(f"  params: roofline {rl['params_total']:,}  llm-a {li['params_total']:,}; per layer attn "
          f"{li['params_attn_per_layer']:,.0f} / mlp {li['params_mlp_per_layer']:,.0f} (llm-a)\n")

    print("== Breakdown (ms): llm-analysis bucket vs the roofline ops mapped onto it ==")
    names = {"attn": "attention (proj; +scores in prefill)", "kv": "KV cache traffic", "mlp": "MLP",
             "norm": "norms (+residual adds, roofline)", "in_emb": "input embedding",
             "out_emb": "lm_head / output embedding"}
    for key, gpu in DEVICES:
        d = rl["devices"][key]
        p = la["runs"][f"{gpu}|pure|{GENERATE}"]
        for phase in ("prefill", "decode"):
            g = _group(d["ops"][phase], phase)
            la_b = {"attn": p[f"{phase}_latency_fwd_attn"], "kv": p["kv_cache_latency"] if phase == "decode" else 0.0,
                    "mlp": p[f"{phase}_latency_fwd_mlp"], "norm": p[f"{phase}_latency_fwd_layernorm"],
                    "in_emb": p[f"{phase}_latency_fwd_input_embedding"],
                    "out_emb": p[f"{phase}_latency_fwd_output_embedding_loss"]}
            print(f"{key} {phase}:  {'bucket':38} {'roofline':>9} {'llm-a':>9} {'diff':>9}")
            for k, n in names.items():
                print(f"{'':14}{n:38} {ms(g[k])} {ms(la_b[k])} {ms(la_b[k] - g[k])}")
            tot_rl = sum(g.values())
            tot_la = sum(la_b.values())
            print(f"{'':14}{'total':38} {ms(tot_rl)} {ms(tot_la)} {ms(tot_la - tot_rl)}")
        print()

    print("== Counts behind the differences ==")
    d = rl["devices"]["a100"]
    L, h = mc["num_layers"], mc["hidden_dim"]
    pre = {r["op"]: r for r in d["ops"]["prefill"]}
    dec = {r["op"]: r for r in d["ops"]["decode"]}
    rl_scores = pre["attention"]["flops"]
    rl_mlp = pre["mlp_up"]["flops"] + pre["mlp_down"]["flops"]
    rl_proj = pre["qkv_proj"]["flops"] + pre["o_proj"]["flops"]
    print(f"prefill FLOP   attention scores: roofline {rl_scores:.4g} (causal, p^2/2 pairs)  llm-a "
          f"{L * li['flops_attn_scores_per_layer_prefill']:.4g} (4 b s^2 h per layer: all p^2 pairs)")
    print(f"               projections:      roofline {rl_proj:.4g}  llm-a "
          f"{L * (li['flops_attn_per_layer_prefill'] - li['flops_attn_scores_per_layer_prefill']):.4g}")
    print(f"               MLP:              roofline {rl_mlp:.4g} (3 x 2 b p h d_ff, d_ff 11008)  llm-a "
          f"{L * li['flops_mlp_per_layer_prefill']:.4g} (16 b s h^2, hard-coded)")
    print(f"               lm_head:          roofline {pre['lm_head']['flops']:.4g} (last position only)  llm-a "
          f"{li['flops_lm_head_prefill']:.4g} (all {PROMPT} positions)")
    print(f"               total:            roofline {sum(r['flops'] for r in d['ops']['prefill']):.4g}  llm-a "
          f"{la['runs']['a100-sxm-80gb|pure|' + str(GENERATE)]['prefill_num_flops_fwd_total']:.4g}")
    w_layers_rl = sum(r["bytes_by_role"].get("weight", 0.0) for r in d["ops"]["decode"]
                      if r["op"] not in ("embedding", "lm_head", "final_norm"))
    w_layers_la = L * (li["params_attn_per_layer"] + li["params_mlp_per_layer"]) * 2
    print(f"decode bytes   layer weights:    roofline {w_layers_rl:.6g} (incl. norm weights)  llm-a {w_layers_la:.6g} "
          f"(attn + MLP; norm weights not read)")
    print(f"               embedding read:   roofline {dec['embedding']['bytes_by_role']['weight']:.6g} (one row)  "
          f"llm-a {li['params_embedding'] * 2:.6g} (whole table)")
    print(f"               lm_head read:     roofline {dec['lm_head']['bytes_by_role']['weight']:.6g}  llm-a 0 "
          f"(compute only)")
    kv_rl = dec["attention"]["bytes_by_role"]["kv"]
    p = la["runs"][f"a100-sxm-80gb|pure|{GENERATE}"]
    p1 = la["runs"]["a100-sxm-80gb|pure|1"]
    print(f"               KV cache:         roofline {kv_rl:.6g} (read ctx 1024 + write 1 token)  llm-a "
          f"{2 * p['kv_cache_memory_per_gpu']:.6g} (2 x cache at ctx 1152); with generate=1: "
          f"{2 * p1['kv_cache_memory_per_gpu']:.6g}")
    print(f"llm-analysis decode step with generate=1 (KV at 1025): a100 {ms(p1['decode_latency']).strip()} ms, "
          f"h100 {ms(la['runs']['h100-sxm-80gb|pure|1']['decode_latency']).strip()} ms")
    print("\n== roofline per operator (ms, summed over layers; bound = binding term) ==")
    for key, _ in DEVICES:
        dd = rl["devices"][key]
        for phase in ("prefill", "decode"):
            cells = [f"{r['op']}x{r['count']} {r['time_s'] * 1e3:.3f} {r['bound']}" for r in dd["ops"][phase]]
            print(f"{key} {phase}: " + "; ".join(cells))
    for key, _ in DEVICES:
        dd = rl["devices"][key]
        print(f"check {key}: roofline per-op sums {ms(dd['prefill_op_sum_s']).strip()} / "
              f"{ms(dd['decode_op_sum_s']).strip()} ms = estimate {ms(dd['estimate']['ttft_s']).strip()} / "
              f"{ms(dd['estimate']['tpot_s']).strip()} ms")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--llma-python", default=os.environ.get("LLMA_PYTHON", "/tmp/llma-venv/bin/python"),
                    help="python of the venv where llm-analysis==0.2.2 is installed")
    ap.add_argument("--json", help="also write all numbers to this JSON file")
    a = ap.parse_args(argv)
    la = run_llm_analysis(a.llma_python)
    rl = run_roofline()
    report(la, rl)
    if a.json:
        with open(a.json, "w") as f:
            json.dump({"llm_analysis": la, "roofline": rl}, f, indent=1, default=str)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
