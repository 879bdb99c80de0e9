"""LLM model configurations: load the shipped configs, a user's TOML file, or a Hugging Face config.json.

A :class:`ModelConfig` holds the architecture only (no data types, no devices). Its parameter counts are
computed from the architecture and checked against the authors' published totals in the tests.
"""

from __future__ import annotations

import json
import os
import tomllib
from functools import lru_cache
from pathlib import Path
from typing import Iterable, Mapping

from ..errors import SpecError, find_by_name
from .config import _ARCH_INT, ModelConfig

__all__ = ['load_model_file', 'from_hf_config', 'model_library', 'get_model', 'list_models']


# ------------------------------------------------------------------------------------------------------
# loading
# ------------------------------------------------------------------------------------------------------
_ARCH_KEYS = {"n_layers", "d_model", "n_heads", "n_kv_heads", "head_dim", "d_ff", "vocab_size", "mlp", "activation",
              "norm", "tie_embeddings", "position", "max_context", "attention_bias", "mlp_bias", "sliding_window",
              "sliding_window_layers"}


_MOE_KEYS = {"n_experts", "experts_per_token", "d_ff_expert", "n_shared_experts", "d_ff_shared", "first_dense_layers"}


_MLA_KEYS = {"q_lora_rank", "kv_lora_rank", "qk_nope_head_dim", "qk_rope_head_dim", "v_head_dim"}


def _int(d: dict, k: str, f, path: str, required: bool = True, minimum: int = 1) -> int:
    if k not in d:
        if required:
            raise SpecError(f, path, "missing (expected a positive integer)")
        return 0
    v = d[k]
    if isinstance(v, bool) or not isinstance(v, int) or v < minimum:
        raise SpecError(f, path, f"expected an integer >= {minimum}, got {v!r}")
    return v


def _from_doc(doc: dict, f) -> ModelConfig:
    if "model" not in doc or not isinstance(doc["model"], dict):
        raise SpecError(f, "model", "missing (expected a [model] table with key and name)")
    m, a = doc["model"], doc.get("architecture")
    if not isinstance(a, dict):
        raise SpecError(f, "architecture", "missing (expected an [architecture] table)")
    for k in ("key", "name"):
        if not isinstance(m.get(k), str) or not m[k]:
            raise SpecError(f, f"model.{k}", "missing (expected a string)")
    unknown = set(a) - _ARCH_KEYS
    if unknown:
        raise SpecError(f, f"architecture.{sorted(unknown)[0]}", f"unknown field; expected one of: {', '.join(sorted(_ARCH_KEYS))}")
    kw: dict = {}
    for k in _ARCH_INT:
        kw[k] = _int(a, k, f, f"architecture.{k}")
    kw["n_kv_heads"] = _int(a, "n_kv_heads", f, "architecture.n_kv_heads", required=False) or kw["n_heads"]
    if kw["n_heads"] % kw["n_kv_heads"]:
        raise SpecError(f, "architecture.n_kv_heads", f"must divide n_heads ({kw['n_heads']}), got {kw['n_kv_heads']}")
    kw["head_dim"] = _int(a, "head_dim", f, "architecture.head_dim", required=False) or kw["d_model"] // kw["n_heads"]
    moe = doc.get("moe", {})
    kw["d_ff"] = _int(a, "d_ff", f, "architecture.d_ff", required=not moe)
    mlp = a.get("mlp", "gated")
    if mlp not in ("gated", "standard"):
        raise SpecError(f, "architecture.mlp", f"expected 'gated' or 'standard', got {mlp!r}")
    norm = a.get("norm", "rmsnorm")
    if norm not in ("rmsnorm", "layernorm"):
        raise SpecError(f, "architecture.norm", f"expected 'rmsnorm' or 'layernorm', got {norm!r}")
    pos = a.get("position", "rope")
    if pos not in ("rope", "learned", "alibi", "none"):
        raise SpecError(f, "architecture.position", f"expected 'rope', 'learned', 'alibi' or 'none', got {pos!r}")
    kw.update(mlp=mlp, norm=norm, position=pos, tie_embeddings=bool(a.get("tie_embeddings", False)),
              attention_bias=bool(a.get("attention_bias", False)), mlp_bias=bool(a.get("mlp_bias", False)))
    kw["max_context"] = _int(a, "max_context", f, "architecture.max_context", required=False) or 4096
    kw["sliding_window"] = _int(a, "sliding_window", f, "architecture.sliding_window", required=False, minimum=0)
    kw["sliding_window_layers"] = _int(a, "sliding_window_layers", f, "architecture.sliding_window_layers",
                                       required=False, minimum=0)
    if kw["sliding_window"] and not kw["sliding_window_layers"]:
        kw["sliding_window_layers"] = kw["n_layers"]
    if moe:
        unknown = set(moe) - _MOE_KEYS
        if unknown:
            raise SpecError(f, f"moe.{sorted(unknown)[0]}", f"unknown field; expected one of: {', '.join(sorted(_MOE_KEYS))}")
        kw["n_experts"] = _int(moe, "n_experts", f, "moe.n_experts")
        kw["experts_per_token"] = _int(moe, "experts_per_token", f, "moe.experts_per_token")
        if kw["experts_per_token"] > kw["n_experts"]:
            raise SpecError(f, "moe.experts_per_token", "cannot exceed n_experts")
        kw["d_ff_expert"] = _int(moe, "d_ff_expert", f, "moe.d_ff_expert")
        kw["n_shared_experts"] = _int(moe, "n_shared_experts", f, "moe.n_shared_experts", required=False, minimum=0)
        kw["d_ff_shared"] = _int(moe, "d_ff_shared", f, "moe.d_ff_shared", required=False, minimum=0)
        kw["first_dense_layers"] = _int(moe, "first_dense_layers", f, "moe.first_dense_layers", required=False, minimum=0)
        if kw["first_dense_layers"] and not kw["d_ff"]:
            raise SpecError(f, "architecture.d_ff", "missing (needed by the first_dense_layers)")
    mla = doc.get("mla", {})
    if mla:
        unknown = set(mla) - _MLA_KEYS
        if unknown:
            raise SpecError(f, f"mla.{sorted(unknown)[0]}", f"unknown field; expected one of: {', '.join(sorted(_MLA_KEYS))}")
        kw["q_lora_rank"] = _int(mla, "q_lora_rank", f, "mla.q_lora_rank", required=False, minimum=0)
        for k in ("kv_lora_rank", "qk_nope_head_dim", "qk_rope_head_dim", "v_head_dim"):
            kw[k] = _int(mla, k, f, f"mla.{k}")
    aliases = m.get("aliases", [])
    return ModelConfig(key=m["key"], name=m["name"], aliases=tuple(aliases), family=m.get("family", ""),
                       year=m.get("year"), source=dict(m.get("source", {})), published=dict(doc.get("published", {})),
                       file=str(f), **kw)


def load_model_file(path: str | os.PathLike) -> ModelConfig:
    """Load a model from a roofline TOML file or a Hugging Face ``config.json``."""
    p = Path(path)
    try:
        if p.suffix == ".json":
            with open(p) as fh:
                return from_hf_config(json.load(fh), key=p.parent.name or p.stem, file=p)
        with open(p, "rb") as fh:
            return _from_doc(tomllib.load(fh), p)
    except (OSError, json.JSONDecodeError, tomllib.TOMLDecodeError) as exc:
        raise SpecError(p, "", f"cannot read model file ({exc})") from None


def from_hf_config(cfg: Mapping, key: str = "custom", name: str | None = None, file="config.json") -> ModelConfig:
    """Build a :class:`ModelConfig` from a Hugging Face ``config.json`` (Llama, Mistral/Mixtral, Qwen, GPT-2,
    gpt-oss and DeepSeek-V3 style keys)."""
    g = lambda *ks, default=None: next((cfg[k] for k in ks if k in cfg and cfg[k] is not None), default)  # noqa: E731
    arch = {
        "n_layers": g("num_hidden_layers", "n_layer", "num_layers"),
        "d_model": g("hidden_size", "n_embd", "d_model"),
        "n_heads": g("num_attention_heads", "n_head"),
        "vocab_size": g("vocab_size"),
    }
    missing = [k for k, v in arch.items() if v is None]
    if missing:
        raise SpecError(file, missing[0], "missing from config.json (needed: num_hidden_layers, hidden_size, "
                        "num_attention_heads, vocab_size)")
    arch["n_kv_heads"] = g("num_key_value_heads", default=arch["n_heads"])
    if g("head_dim"):
        arch["head_dim"] = g("head_dim")
    d_ff = g("intermediate_size", "n_inner", "ffn_dim")
    if d_ff is None and g("n_embd") is not None:
        d_ff = 4 * arch["d_model"]  # GPT-2 convention: n_inner = 4 * n_embd when null
    if d_ff is not None:
        arch["d_ff"] = d_ff
    model_type = str(g("model_type", default=""))
    gated = g("hidden_act", "activation_function", default="silu") in ("silu", "swiglu", "geglu") \
        and model_type not in ("gpt2", "gpt_neox", "opt")
    arch["mlp"] = "gated" if gated else "standard"
    arch["norm"] = "layernorm" if model_type in ("gpt2", "gpt_neox", "opt", "gptj") else "rmsnorm"
    arch["position"] = "learned" if model_type in ("gpt2", "opt") else "rope"
    arch["tie_embeddings"] = bool(g("tie_word_embeddings", default=model_type == "gpt2"))
    arch["max_context"] = g("max_position_embeddings", "n_positions", default=4096)
    arch["attention_bias"] = bool(g("attention_bias", default=model_type in ("gpt2", "qwen2")))
    arch["mlp_bias"] = bool(g("mlp_bias", default=model_type == "gpt2"))
    if g("sliding_window") and g("layer_types"):
        arch["sliding_window"] = g("sliding_window")
        arch["sliding_window_layers"] = sum(1 for t in cfg["layer_types"] if "sliding" in str(t))
    doc: dict = {"model": {"key": key, "name": name or g("_name_or_path", default=key)}, "architecture": arch}
    n_exp = g("num_local_experts", "n_routed_experts", "num_experts")
    if n_exp:
        doc["moe"] = {
            "n_experts": n_exp,
            "experts_per_token": g("num_experts_per_tok", "num_experts_per_token", default=2),
            "d_ff_expert": g("moe_intermediate_size", default=d_ff),
            "n_shared_experts": g("n_shared_experts", default=0),
            "first_dense_layers": g("first_k_dense_replace", default=0),
        }
    if g("kv_lora_rank"):
        doc["mla"] = {k: g(k) for k in ("q_lora_rank", "kv_lora_rank", "qk_nope_head_dim", "qk_rope_head_dim", "v_head_dim")}
        doc["mla"] = {k: v for k, v in doc["mla"].items() if v is not None}
    return _from_doc(doc, file)


def _model_dirs(extra: Iterable) -> list[Path]:
    from .._paths import data_dir, model_paths

    dirs = [data_dir("model_configs")] + model_paths()
    dirs += [Path(x) for x in extra]
    return dirs


def model_library(extra: Iterable[str | os.PathLike] = ()) -> dict[str, ModelConfig]:
    """Every known model ``{key: ModelConfig}``: shipped configs, ``ROOFLINE_MODEL_PATH`` and ``extra``."""
    from .._paths import model_paths

    return dict(_library(tuple(str(x) for x in extra), os.pathsep.join(map(str, model_paths()))))


@lru_cache(maxsize=8)
def _library(extra: tuple, _env: str) -> dict[str, ModelConfig]:
    out: dict[str, ModelConfig] = {}
    names: dict[str, str] = {}
    for d in _model_dirs(extra):
        files = sorted(d.glob("*.toml")) + sorted(d.glob("*.json")) if d.is_dir() else [d]
        if not d.exists():
            raise SpecError(d, "", "no such model file or folder")
        for f in files:
            m = load_model_file(f)
            for n in (m.key, *m.aliases):
                if n.lower() in names:
                    raise SpecError(f, "model.key", f"duplicate model key or alias {n!r}: already used by {names[n.lower()]}")
                names[n.lower()] = str(f)
            out[m.key] = m
    return out


def get_model(name: str | ModelConfig, extra: Iterable[str | os.PathLike] = ()) -> ModelConfig:
    """The model whose key or alias is ``name``; a path to a TOML or config.json file also works.

    Raises :class:`UnknownNameError` with the nearest names.
    """
    if isinstance(name, ModelConfig):
        return name
    if os.path.sep in str(name) or str(name).endswith((".toml", ".json")):
        if Path(name).exists():
            return load_model_file(name)
    return find_by_name("model", name, model_library(extra).values())


def list_models(extra: Iterable[str | os.PathLike] = ()) -> list[ModelConfig]:
    return sorted(model_library(extra).values(), key=lambda m: m.key)

