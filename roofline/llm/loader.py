"""Loading models: the shipped configs, a user's TOML file, a Hugging Face ``config.json``, and the library.

:func:`load_model_file` reads a file (UTF-8 TOML or JSON) and hands it to the schema
(:func:`roofline.llm.schema.model_from_doc`), which validates every field; :func:`from_hf_config`
translates a ``config.json``'s keys into the schema's and names the ``config.json`` key on an error;
:func:`model_library`, :func:`get_model` and :func:`list_models` find models by key or alias in
``model_configs/``, ``ROOFLINE_MODEL_PATH`` and extra folders.
"""

from __future__ import annotations

import json
import os
import tomllib
from functools import lru_cache
from pathlib import Path
from typing import Iterable, Mapping

from ..errors import SpecError, find_by_name
from .config import ModelConfig
from .schema import model_from_doc

__all__ = ['load_model_file', 'from_hf_config', 'model_library', 'get_model', 'list_models']


# ------------------------------------------------------------------------------------------------------
# one file
# ------------------------------------------------------------------------------------------------------
def _read_text(p: Path) -> str:
    """The file's text; a file that is not UTF-8 (a UTF-16 export, say) is refused with the file named."""
    try:
        data = p.read_bytes()
    except OSError as exc:
        raise SpecError(p, "", f"cannot read model file ({exc})") from None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        hint = " (it looks like UTF-16)" if data[:2] in (b"\xff\xfe", b"\xfe\xff") else ""
        raise SpecError(p, "", f"cannot read model file: not UTF-8 text{hint}; save it as UTF-8") from None


def load_model_file(path: str | os.PathLike) -> ModelConfig:
    """Load a model from a roofline TOML file or a Hugging Face ``config.json``.

    Parameters
    ----------
    path : str or os.PathLike
        A ``.json`` file is read as a Hugging Face ``config.json`` (its key is its folder's name); any
        other as a roofline TOML model file.

    Returns
    -------
    ModelConfig

    Raises
    ------
    SpecError
        For a file that cannot be read or parsed, or a field that breaks the schema (the message names
        the file, the field and what was expected).
    """
    p = Path(path)
    text = _read_text(p)
    try:
        if p.suffix == ".json":
            doc = json.loads(text)
        else:
            doc = tomllib.loads(text)
    except (json.JSONDecodeError, tomllib.TOMLDecodeError) as exc:
        raise SpecError(p, "", f"cannot read model file ({exc})") from None
    if p.suffix == ".json":
        return from_hf_config(doc, key=p.parent.name or p.stem, file=p)
    return model_from_doc(doc, p)


class _HFConfig:
    """A config.json's values by the first of several keys that is set (not null), remembering which key
    filled each field of the schema so that an error names it."""

    def __init__(self, cfg: Mapping):
        self.cfg = cfg
        self.names: dict[str, str] = {}

    def get(self, field: str | None, *keys: str, default=None):
        for k in keys:
            if self.cfg.get(k) is not None:
                if field:
                    self.names[field] = k
                return self.cfg[k]
        if field:
            self.names.setdefault(field, keys[0])
        return default


def _hf_architecture(g: _HFConfig, file) -> dict:
    arch = {
        "n_layers": g.get("architecture.n_layers", "num_hidden_layers", "n_layer", "num_layers"),
        "d_model": g.get("architecture.d_model", "hidden_size", "n_embd", "d_model"),
        "n_heads": g.get("architecture.n_heads", "num_attention_heads", "n_head"),
        "vocab_size": g.get("architecture.vocab_size", "vocab_size"),
    }
    missing = [k for k, v in arch.items() if v is None]
    if missing:
        raise SpecError(file, g.names[f"architecture.{missing[0]}"], "missing from config.json (needed: "
                        "num_hidden_layers, hidden_size, num_attention_heads, vocab_size)")
    arch["n_kv_heads"] = g.get("architecture.n_kv_heads", "num_key_value_heads", default=arch["n_heads"])
    if g.get("architecture.head_dim", "head_dim"):
        arch["head_dim"] = g.get("architecture.head_dim", "head_dim")
    d_ff = g.get("architecture.d_ff", "intermediate_size", "n_inner", "ffn_dim")
    d_model = arch["d_model"]
    if d_ff is None and g.get(None, "n_embd") is not None and isinstance(d_model, int) and not isinstance(d_model, bool):
        d_ff = 4 * d_model  # GPT-2 convention: n_inner = 4 * n_embd when null
    if d_ff is not None:
        arch["d_ff"] = d_ff
    model_type = str(g.get(None, "model_type", default=""))
    gated = g.get(None, "hidden_act", "activation_function", default="silu") in ("silu", "swiglu", "geglu") \
        and model_type not in ("gpt2", "gpt_neox", "opt")
    arch["mlp"] = "gated" if gated else "standard"
    arch["norm"] = "layernorm" if model_type in ("gpt2", "gpt_neox", "opt", "gptj") else "rmsnorm"
    arch["position"] = "learned" if model_type in ("gpt2", "opt") else "rope"
    arch["tie_embeddings"] = g.get("architecture.tie_embeddings", "tie_word_embeddings", default=model_type == "gpt2")
    arch["max_context"] = g.get("architecture.max_context", "max_position_embeddings", "n_positions", default=4096)
    arch["attention_bias"] = g.get("architecture.attention_bias", "attention_bias",
                                   default=model_type in ("gpt2", "qwen2"))
    arch["mlp_bias"] = g.get("architecture.mlp_bias", "mlp_bias", default=model_type == "gpt2")
    window, types = g.get("architecture.sliding_window", "sliding_window"), g.get(None, "layer_types")
    if window and types:
        if not isinstance(types, list):
            raise SpecError(file, "layer_types", f"expected a list of layer types, got {types!r}")
        g.names["architecture.sliding_window_layers"] = "layer_types"
        arch["sliding_window"] = window
        arch["sliding_window_layers"] = sum(1 for t in types if "sliding" in str(t))
    return arch


def _hf_moe(g: _HFConfig, d_ff) -> dict:
    n_exp = g.get("moe.n_experts", "num_local_experts", "n_routed_experts", "num_experts")
    if not n_exp:
        return {}
    moe = {
        "n_experts": n_exp,
        "experts_per_token": g.get("moe.experts_per_token", "num_experts_per_tok", "num_experts_per_token", default=2),
        "d_ff_expert": g.get("moe.d_ff_expert", "moe_intermediate_size", default=d_ff),
        "n_shared_experts": g.get("moe.n_shared_experts", "n_shared_experts", default=0),
        "first_dense_layers": g.get("moe.first_dense_layers", "first_k_dense_replace", default=0),
    }
    return {k: v for k, v in moe.items() if v is not None}


def _hf_mla(g: _HFConfig) -> dict:
    if not g.get(None, "kv_lora_rank"):
        return {}
    keys = ("q_lora_rank", "kv_lora_rank", "qk_nope_head_dim", "qk_rope_head_dim", "v_head_dim")
    mla = {k: g.get(f"mla.{k}", k) for k in keys}
    return {k: v for k, v in mla.items() if v is not None}


def from_hf_config(cfg: Mapping, key: str = "custom", name: str | None = None, file="config.json") -> ModelConfig:
    """Build a :class:`ModelConfig` from a Hugging Face ``config.json`` (Llama, Mistral/Mixtral, Qwen, GPT-2,
    gpt-oss and DeepSeek-V3 style keys).

    Null values count as absent. Every value is validated as a model file's is; an error names the
    ``config.json`` key it came from.

    Parameters
    ----------
    cfg : mapping
        The parsed ``config.json``.
    key : str
        The model's key.
    name : str, optional
        Its display name; default ``_name_or_path`` or ``key``.
    file : str or os.PathLike
        The file, for the messages.

    Returns
    -------
    ModelConfig

    Raises
    ------
    SpecError
        For a missing or invalid value, naming the file and the ``config.json`` key.
    """
    if not isinstance(cfg, Mapping):
        raise SpecError(file, "", f"expected a JSON object of model settings, got {type(cfg).__name__}")
    g = _HFConfig(cfg)
    arch = _hf_architecture(g, file)
    doc: dict = {"model": {"key": key, "name": name or g.get("model.name", "_name_or_path", default=key)},
                 "architecture": arch}
    moe = _hf_moe(g, arch.get("d_ff"))
    if moe:
        doc["moe"] = moe
    mla = _hf_mla(g)
    if mla:
        doc["mla"] = mla
    return model_from_doc(doc, file, g.names)


# ------------------------------------------------------------------------------------------------------
# the library
# ------------------------------------------------------------------------------------------------------
def _model_dirs(extra: Iterable) -> list[Path]:
    from .._paths import data_dir, model_paths

    dirs = [data_dir("model_configs")] + model_paths()
    dirs += [Path(x) for x in extra]
    return dirs


def model_library(extra: Iterable[str | os.PathLike] = ()) -> dict[str, ModelConfig]:
    """Every known model: the shipped configs, then ``ROOFLINE_MODEL_PATH``, then ``extra``.

    Parameters
    ----------
    extra : iterable of str or os.PathLike
        More model files or folders (``*.toml`` and ``*.json`` in a folder).

    Returns
    -------
    dict of str to ModelConfig
        By key.

    Raises
    ------
    SpecError
        For a missing folder, a broken file, or a key or alias used twice.
    """
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

    Parameters
    ----------
    name : str or ModelConfig
        A key, an alias (any case), a file path, or a model (returned as is).
    extra : iterable of str or os.PathLike
        More model files or folders to search.

    Returns
    -------
    ModelConfig

    Raises
    ------
    UnknownNameError
        With the nearest names.
    """
    if isinstance(name, ModelConfig):
        return name
    if os.path.sep in str(name) or str(name).endswith((".toml", ".json")):
        if Path(name).exists():
            return load_model_file(name)
    return find_by_name("model", name, model_library(extra).values())


def list_models(extra: Iterable[str | os.PathLike] = ()) -> list[ModelConfig]:
    """Every known model, sorted by key (:func:`model_library`).

    Parameters
    ----------
    extra : iterable of str or os.PathLike
        More model files or folders.

    Returns
    -------
    list of ModelConfig
    """
    return sorted(model_library(extra).values(), key=lambda m: m.key)

