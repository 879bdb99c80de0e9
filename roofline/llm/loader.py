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
from pathlib import Path
from typing import Iterable, Mapping

from .. import _paths
from ..errors import SpecError, find_by_name
from ..hardware.library import file_stamp, path_stamps
from ..hardware.loader import parsed_toml
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
        else:  # a warm run reads the parsed document from the private cache (tomllib is slow)
            doc = parsed_toml(text.encode(), lambda: _loads_toml(text, p))
    except json.JSONDecodeError as exc:
        raise SpecError(p, "", f"cannot read model file ({exc})") from None
    if p.suffix == ".json":
        return from_hf_config(doc, key=p.parent.name or p.stem, file=p)
    return model_from_doc(doc, p)



def _loads_toml(text: str, p: Path) -> dict:
    """``text`` parsed as TOML; an error names file ``p`` (tomllib is imported only to parse)."""
    import tomllib

    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise SpecError(p, "", f"cannot read model file ({exc})") from None


class _HFConfig:
    """A config.json's values by the first of several keys that is set (not null), remembering which key
    filled each field of the schema so that an error names it."""

    def __init__(self, cfg: Mapping, prefix: str = ""):
        self.cfg = cfg
        self.prefix = prefix  # "text_config." when the model's settings sit in a multimodal config's text_config
        self.names: dict[str, str] = {}

    def get(self, field: str | None, *keys: str, default=None):
        for k in keys:
            if self.cfg.get(k) is not None:
                if field:
                    self.names[field] = self.prefix + k
                return self.cfg[k]
        if field:
            self.names.setdefault(field, self.prefix + keys[0])
        return default

    @property
    def model_type(self) -> str:
        return str(self.get(None, "model_type", default=""))


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
    llama4 = g.model_type.startswith("llama4")  # intermediate_size is the experts'; the dense MLP's is _mlp
    d_ff = g.get("architecture.d_ff", *(("intermediate_size_mlp",) if llama4 else ()), "intermediate_size", "n_inner",
                 "ffn_dim")
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
    if model_type in ("qwen3", "qwen3_moe"):
        arch["qk_norm"] = "rmsnorm"  # Qwen3Attention: q_norm and k_norm, RMSNorm(head_dim) each
    elif llama4 and g.get(None, "use_qk_norm"):
        arch["qk_norm"] = "l2"       # Llama4TextL2Norm, no weights, on the RoPE layers
    return arch


def _hf_list(g: _HFConfig, key: str, file, n_layers) -> list | None:
    """A per-layer list of config.json (``layer_types``, ``no_rope_layers``, ``moe_layers``...), checked."""
    v = g.get(None, key)
    if v is not None and not isinstance(v, list):
        raise SpecError(file, g.prefix + key, f"expected a list, got {v!r}")
    return v


def _hf_attention(g: _HFConfig, arch: dict, file) -> dict:
    """The ``[layers]`` attention and RoPE patterns: ``layer_types``, or Llama 4's ``no_rope_layers``
    (RoPE layers attend within their chunk, NoPE layers globally)."""
    n = arch["n_layers"]
    types, no_rope = _hf_list(g, "layer_types", file, n), _hf_list(g, "no_rope_layers", file, n)
    chunk = g.get("architecture.attention_chunk", "attention_chunk_size")
    if not no_rope and g.model_type.startswith("llama4") and chunk and isinstance(n, int):
        # absent or [] (as Meta's released configs have it): transformers derives it from the interval, 4
        every = g.get(None, "no_rope_layer_interval", default=4)
        no_rope = [int((i + 1) % every != 0) for i in range(n)]
    layers: dict = {}
    if types is not None:
        g.names["layers.attention"] = g.prefix + "layer_types"
        layers["attention"] = ["sliding" if "sliding" in str(x) else "chunked" if "chunked" in str(x) else "full"
                               for x in types]
    elif no_rope and chunk:
        g.names["layers.attention"] = g.prefix + "no_rope_layers"
        layers["attention"] = ["chunked" if r else "full" for r in no_rope]
    if no_rope:
        g.names["layers.rope"] = g.prefix + "no_rope_layers"
        layers["rope"] = [bool(r) for r in no_rope]
    kinds = layers.get("attention", ())
    if "sliding" in kinds:
        arch["sliding_window"] = g.get("architecture.sliding_window", "sliding_window")
    if "chunked" in kinds:
        arch["attention_chunk"] = chunk
    return layers


def _hf_moe(g: _HFConfig, d_ff) -> dict:
    n_exp = g.get("moe.n_experts", "num_local_experts", "n_routed_experts", "num_experts")
    if not n_exp:
        return {}
    llama4 = g.model_type.startswith("llama4")  # one shared expert of intermediate_size, not in the config
    moe = {
        "n_experts": n_exp,
        "experts_per_token": g.get("moe.experts_per_token", "num_experts_per_tok", "num_experts_per_token", default=2),
        "d_ff_expert": g.get("moe.d_ff_expert", "moe_intermediate_size", *(("intermediate_size",) if llama4 else ()),
                             default=d_ff),
        "n_shared_experts": 1 if llama4 else g.get("moe.n_shared_experts", "n_shared_experts", default=0),
        "first_dense_layers": g.get("moe.first_dense_layers", "first_k_dense_replace", default=0),
    }
    return {k: v for k, v in moe.items() if v is not None}


def _hf_mlp_pattern(g: _HFConfig, n_layers, file) -> list | None:
    """Which layers are MoE: Llama 4's ``moe_layers`` or ``interleave_moe_layer_step``, Qwen's
    ``decoder_sparse_step`` and ``mlp_only_layers``, DeepSeek's ``moe_layer_freq`` (None: every layer)."""
    if not isinstance(n_layers, int) or isinstance(n_layers, bool):
        return None
    listed = _hf_list(g, "moe_layers", file, n_layers)
    if listed is not None:
        g.names["layers.mlp"] = g.prefix + "moe_layers"
        return ["moe" if i in set(listed) else "dense" for i in range(n_layers)]
    for key, first in (("interleave_moe_layer_step", 1), ("decoder_sparse_step", 1), ("moe_layer_freq", 0)):
        step = g.get(None, key)
        if isinstance(step, int) and not isinstance(step, bool) and step > 0:
            only = set(_hf_list(g, "mlp_only_layers", file, n_layers) or ())
            g.names["layers.mlp"] = g.prefix + key
            # Llama 4 / Qwen: (i + 1) % step == 0; DeepSeek: i % freq == 0 (after first_k_dense_replace)
            return ["moe" if (i + first) % step == 0 and i not in only else "dense" for i in range(n_layers)]
    return None


def _hf_mla(g: _HFConfig) -> dict:
    if not g.get(None, "kv_lora_rank"):
        return {}
    keys = ("q_lora_rank", "kv_lora_rank", "qk_nope_head_dim", "qk_rope_head_dim", "v_head_dim")
    mla = {k: g.get(f"mla.{k}", k) for k in keys}
    return {k: v for k, v in mla.items() if v is not None}


def from_hf_config(cfg: Mapping, key: str = "custom", name: str | None = None, file="config.json") -> ModelConfig:
    """Build a :class:`ModelConfig` from a Hugging Face ``config.json`` (Llama, Llama 4, Mistral/Mixtral,
    Qwen2/Qwen3 and Qwen3-MoE, GPT-2, gpt-oss, DeepSeek-V3 and Kimi K2 style keys).

    Null values count as absent. A multimodal config (Llama 4) is read from its ``text_config``. The
    per-layer keys become ``[layers]`` patterns: ``layer_types`` (sliding, chunked or full attention),
    ``no_rope_layers`` with ``attention_chunk_size`` (Llama 4: RoPE layers attend within their chunk,
    NoPE layers globally), ``moe_layers`` / ``interleave_moe_layer_step`` / ``decoder_sparse_step`` with
    ``mlp_only_layers`` / ``moe_layer_freq`` (which layers are MoE); ``num_nextn_predict_layers`` becomes
    ``[mtp] modules``; Qwen3 and Llama 4's ``use_qk_norm`` set ``qk_norm``. Every value is validated as a
    model file's is; an error names the ``config.json`` key it came from.

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
    text = cfg.get("text_config")
    g = _HFConfig(text, "text_config.") if isinstance(text, Mapping) and "num_hidden_layers" not in cfg \
        else _HFConfig(cfg)
    arch = _hf_architecture(g, file)
    name = name or cfg.get("_name_or_path") or g.get("model.name", "_name_or_path", default=key)
    doc: dict = {"model": {"key": key, "name": name}, "architecture": arch}
    layers = _hf_attention(g, arch, file)
    moe = _hf_moe(g, arch.get("d_ff"))
    if moe:
        doc["moe"] = moe
        mlp = _hf_mlp_pattern(g, arch["n_layers"], file)
        if mlp is not None:
            layers["mlp"] = mlp
    if layers:
        doc["layers"] = layers
    mla = _hf_mla(g)
    if mla:
        doc["mla"] = mla
    mtp = g.get("mtp.modules", "num_nextn_predict_layers")
    if mtp:
        doc["mtp"] = {"modules": mtp}
    return model_from_doc(doc, file, g.names)


# ------------------------------------------------------------------------------------------------------
# the library
# ------------------------------------------------------------------------------------------------------
def _model_dirs(extra: Iterable) -> list[Path]:
    dirs = [_paths.data_dir("model_configs")] + _paths.model_paths()
    dirs += [Path(x) for x in extra]
    return dirs


def model_library(extra: Iterable[str | os.PathLike] = ()) -> dict[str, ModelConfig]:
    """Every known model: the shipped configs, then ``ROOFLINE_MODEL_PATH``, then ``extra``.

    Loaded once per distinct search path and kept in memory until a file or folder on it changes.

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
    return dict(_library(tuple(str(x) for x in extra) if extra else ())[0])


_SUFFIXES = (".toml", ".json")


def _library(extra: tuple[str, ...]) -> tuple[dict[str, ModelConfig], dict[str, ModelConfig], tuple[str, ...]]:
    """The library, an index of it by name (keys as they are, aliases lower-cased) and its folders and files,
    from memory while every stamp of them (:func:`~roofline.hardware.library.path_stamps`) holds."""
    dirs = tuple(str(d) for d in _model_dirs(extra))
    stamp = tuple(path_stamps(d, _SUFFIXES) for d in dirs)
    hit = _libraries.get(dirs)
    if hit is not None and hit[0] == stamp:
        return hit[1]
    out: dict[str, ModelConfig] = {}
    names: dict[str, str] = {}
    for d in map(Path, dirs):
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
    index = {a.lower(): m for m in out.values() for a in m.aliases}
    index.update({m.key: m for m in out.values()})  # find_by_name compares a key as it is
    if len(_libraries) >= 8:
        _libraries.clear()
    _by_name.clear()
    _libraries[dirs] = (stamp, (out, index, dirs))
    return out, index, dirs


#: ``{folders and files: (their stamps, (library, index, folders and files))}``
_libraries: dict[tuple, tuple] = {}
#: ``{(name, extra, ROOFLINE_MODEL_PATH): (model, ((path, stamp), ...))}``: a look-up by name answered from
#: the stamps of the search path's folders and the model's own file (see :func:`get_model`)
_by_name: dict[tuple, tuple[ModelConfig, tuple]] = {}


def get_model(name: str | ModelConfig, extra: Iterable[str | os.PathLike] = ()) -> ModelConfig:
    """The model whose key or alias is ``name``; a path to a TOML or config.json file also works.

    A name asked before is answered after a stat of each folder on the search path and of the model's file:
    a file edited, added, removed or renamed is seen (a key or alias used twice is refused, so another file
    cannot take the name without its folder changing).

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
    if os.path.sep in str(name) or str(name).endswith(_SUFFIXES):
        if Path(name).exists():
            return load_model_file(name)
    want, extra = str(name).strip().lower(), tuple(str(x) for x in extra) if extra else ()
    memo = (want, extra, tuple(map(str, _paths.model_paths())))
    hit = _by_name.get(memo)
    if hit is not None:
        for p, was in hit[1]:
            if file_stamp(p) != was:
                break
        else:
            return hit[0]
    lib, index, dirs = _library(extra)
    m = index.get(want)
    if m is None:
        return find_by_name("model", name, lib.values())
    files = dirs if m.file in dirs else (*dirs, m.file)
    if len(_by_name) >= 256:
        _by_name.clear()
    _by_name[memo] = (m, tuple((p, file_stamp(p)) for p in files))
    return m


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

