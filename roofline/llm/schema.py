"""The schema of a model file: the fields of each section, their types and limits, and a reader per section.

A model file (``model_configs/*.toml``, a user's TOML file, or a Hugging Face ``config.json`` translated by
:func:`roofline.llm.loader.from_hf_config`) has the tables ``[model]``, ``[architecture]`` and, for a
mixture of experts, ``[moe]``, for multi-head latent attention, ``[mla]``, for layers that differ,
``[layers]`` (per-layer patterns: ``attention``, ``mlp``, ``rope``), and for multi-token-prediction
modules, ``[mtp]``; ``schema = 1`` and a free ``[published]`` table may stand beside them.

A pattern is a list of per-layer kinds, one per layer or a shorter period that repeats from the first layer
(it must divide the number of layers): ``mlp = ["dense", "moe"]`` makes every other layer, from the second,
a mixture of experts. Each section is read by the same table-driven reader
(:func:`read_section`), then checked across its fields; every error is a
:class:`~roofline.errors.SpecError` naming the file, the field and what was expected, like a device spec's.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping

from ..errors import SpecError
from .config import ATTENTION_KINDS, MLP_KINDS, QK_NORMS, ModelConfig

__all__ = ["Field", "SECTIONS", "TOP_LEVEL", "read_section", "model_from_doc"]

#: the largest count or size a field may hold (no model comes near; larger ones would overflow the evaluator)
_MAX_INT = 2**31 - 1


@dataclass(frozen=True)
class Field:
    """One field of a model-file section.

    Attributes
    ----------
    name : str
        The key in its table.
    kind : str
        ``int`` (a whole number, never a bool or a fraction), ``bool``, ``text`` (a non-empty printable
        string), ``choice`` (one of ``choices``), ``texts`` (a list of texts, or one), ``table`` (text values),
        ``pattern`` (a non-empty list of ``choices``, per layer or repeating), ``flags`` (a non-empty list
        of true/false, per layer or repeating).
    required : bool
        Must be present.
    minimum : int
        The least value of an ``int`` [1].
    choices : tuple of str
        The values a ``choice`` may take.
    meaning : str
        What it is (and the Hugging Face key it comes from, where there is one).
    """

    name: str
    kind: str
    required: bool = False
    minimum: int = 1
    choices: tuple[str, ...] = ()
    meaning: str = ""


MODEL = (
    Field("key", "text", True, meaning="the name roofline knows the model by"),
    Field("name", "text", True, meaning="the display name"),
    Field("aliases", "texts", meaning="other names that find the model"),
    Field("family", "text", meaning="the model family"),
    Field("year", "int", minimum=1900, meaning="year of release"),
    Field("source", "table", meaning="where the numbers come from: title, url, date"),
)

ARCHITECTURE = (
    Field("n_layers", "int", True, meaning="transformer layers (num_hidden_layers)"),
    Field("d_model", "int", True, meaning="hidden size (hidden_size)"),
    Field("n_heads", "int", True, meaning="query heads (num_attention_heads)"),
    Field("n_kv_heads", "int", meaning="key-value heads (num_key_value_heads); default n_heads"),
    Field("head_dim", "int", meaning="size of a head; default d_model / n_heads"),
    Field("d_ff", "int", meaning="MLP width (intermediate_size); required without [moe]"),
    Field("vocab_size", "int", True, meaning="vocabulary size"),
    Field("mlp", "choice", choices=("gated", "standard"), meaning="gated (3 matrices) or standard (2)"),
    Field("activation", "text", meaning="the activation function (informative)"),
    Field("norm", "choice", choices=("rmsnorm", "layernorm"), meaning="the norm"),
    Field("tie_embeddings", "bool", meaning="the lm_head shares the embedding table"),
    Field("position", "choice", choices=("rope", "learned", "alibi", "none"), meaning="position encoding"),
    Field("max_context", "int", meaning="the longest context [tokens]; default 4096"),
    Field("attention_bias", "bool", meaning="q, k, v and o projections have biases"),
    Field("mlp_bias", "bool", meaning="MLP matrices have biases"),
    Field("sliding_window", "int", minimum=0, meaning="window of the local layers [tokens]; 0 for none"),
    Field("sliding_window_layers", "int", minimum=0, meaning="layers with a sliding window (a count; "
          "[layers] attention says which); default all"),
    Field("attention_chunk", "int", minimum=0, meaning="chunk of the chunked-attention layers [tokens] "
          "(attention_chunk_size); 0 for none"),
    Field("qk_norm", "choice", choices=QK_NORMS, meaning="norm of each head's queries and keys: none, rmsnorm "
          "(learned, head_dim each: Qwen3) or l2 (parameter-free, on the RoPE layers: Llama 4)"),
)

MOE = (
    Field("n_experts", "int", True, meaning="routed experts per layer (num_local_experts, n_routed_experts)"),
    Field("experts_per_token", "int", True, meaning="experts each token is routed to (num_experts_per_tok)"),
    Field("d_ff_expert", "int", True, meaning="width of one expert (moe_intermediate_size)"),
    Field("n_shared_experts", "int", minimum=0, meaning="experts every token passes through"),
    Field("d_ff_shared", "int", minimum=0, meaning="width of a shared expert; default d_ff_expert"),
    Field("first_dense_layers", "int", minimum=0, meaning="leading dense layers (first_k_dense_replace)"),
)

MLA = (
    Field("q_lora_rank", "int", minimum=0, meaning="query latent rank; 0 for a full query projection"),
    Field("kv_lora_rank", "int", True, meaning="key-value latent rank (the cached latent)"),
    Field("qk_nope_head_dim", "int", True, meaning="per-head query/key width without RoPE"),
    Field("qk_rope_head_dim", "int", True, meaning="per-head (shared) RoPE key width"),
    Field("v_head_dim", "int", True, meaning="per-head value width"),
)

LAYERS = (
    Field("attention", "pattern", choices=ATTENTION_KINDS, meaning="per layer: full, sliding (the "
          "sliding_window) or chunked (attention_chunk); default all full (layer_types, no_rope_layers)"),
    Field("mlp", "pattern", choices=MLP_KINDS, meaning="per layer: dense or moe; default dense for the "
          "first_dense_layers, moe after (interleave_moe_layer_step, decoder_sparse_step, mlp_only_layers)"),
    Field("rope", "flags", meaning="per layer: rotary positions (true) or none (false); default all true "
          "(no_rope_layers)"),
)

MTP = (
    Field("modules", "int", True, minimum=0, meaning="multi-token-prediction modules beside the main model "
          "(num_nextn_predict_layers)"),
)

#: every section: its fields and whether the file must have it
SECTIONS: Mapping[str, tuple[tuple[Field, ...], bool]] = {
    "model": (MODEL, True), "architecture": (ARCHITECTURE, True), "moe": (MOE, False), "mla": (MLA, False),
    "layers": (LAYERS, False), "mtp": (MTP, False)}

#: the keys a model file may hold at its top level
TOP_LEVEL = ("schema", "model", "architecture", "moe", "mla", "layers", "mtp", "published")


@dataclass(frozen=True)
class _Where:
    """The file being read and how its fields are called there (a config.json names them its own way)."""

    file: Any
    names: Mapping[str, str] = field(default_factory=dict)

    def error(self, path: str, message: str) -> SpecError:
        return SpecError(self.file, self.names.get(path, path), message)


# ------------------------------------------------------------------------------------------------------
# one reader per kind of field
# ------------------------------------------------------------------------------------------------------
def _read_int(v, f: Field, path: str, at: _Where) -> int:
    if isinstance(v, bool) or not isinstance(v, int) or v < f.minimum:
        raise at.error(path, f"expected an integer >= {f.minimum}, got {v!r}")
    if v > _MAX_INT:
        raise at.error(path, f"expected an integer <= {_MAX_INT}, got {v!r}")
    return v


def _read_bool(v, f: Field, path: str, at: _Where) -> bool:
    if not isinstance(v, bool):
        raise at.error(path, f"expected true or false, got {v!r}")
    return v


def _read_text(v, f: Field, path: str, at: _Where, allowed: str = "") -> str:
    if not isinstance(v, str):
        raise at.error(path, f"expected a string, got {v!r}")
    if not v.strip():
        raise at.error(path, "missing (expected a non-empty string)")
    if not all(c.isprintable() or c in allowed for c in v):  # an ANSI escape in a name would reach the terminal
        raise at.error(path, f"expected printable text (no control characters), got {v!r}")
    return v


def _read_choice(v, f: Field, path: str, at: _Where) -> str:
    if v not in f.choices:
        names = [repr(c) for c in f.choices]
        raise at.error(path, f"expected {', '.join(names[:-1])} or {names[-1]}, got {v!r}")
    return v


def _read_texts(v, f: Field, path: str, at: _Where) -> tuple[str, ...]:
    items = [v] if isinstance(v, str) else v
    if not isinstance(items, list):
        raise at.error(path, f"expected a list of strings, got {v!r}")
    return tuple(_read_text(x, f, path, at) for x in items)


def _read_table(v, f: Field, path: str, at: _Where) -> dict[str, str]:
    if not isinstance(v, dict):
        raise at.error(path, f"expected a table, got {v!r}")
    out = {}
    for k, x in v.items():
        dt = sys.modules.get("datetime")  # a TOML date means tomllib (and so datetime) is loaded
        x = x.isoformat() if dt is not None and isinstance(x, (dt.date, dt.datetime)) else x
        out[k] = _read_text(x, f, f"{path}.{k}", at, allowed="\n\t")  # a note may run over lines
    return out


def _read_pattern(v, f: Field, path: str, at: _Where) -> tuple:
    if not isinstance(v, list) or not v:
        raise at.error(path, f"expected a non-empty list (one entry per layer, or a period that repeats), got {v!r}")
    read = _read_bool if f.kind == "flags" else _read_choice
    return tuple(read(x, f, path, at) for x in v)


_READERS: Mapping[str, Callable] = {"int": _read_int, "bool": _read_bool, "text": _read_text,
                                    "choice": _read_choice, "texts": _read_texts, "table": _read_table,
                                    "pattern": _read_pattern, "flags": _read_pattern}


def read_section(doc: Mapping, name: str, at: Any) -> dict:
    """Read the table ``name`` of a model file: every field typed and in range, no unknown field.

    Parameters
    ----------
    doc : mapping
        The parsed file.
    name : str
        A key of :data:`SECTIONS`.
    at : path or _Where
        The file (for the messages).

    Returns
    -------
    dict
        The fields present, by name (absent optional fields are left out; an absent or empty optional
        section reads as ``{}``).

    Raises
    ------
    SpecError
        Naming the file, the field and what was expected.
    """
    at = at if isinstance(at, _Where) else _Where(at)
    fields, required = SECTIONS[name]
    if name not in doc:
        if required:
            raise at.error(name, f"missing (expected a [{name}] table)")
        return {}
    table = doc[name]
    if not isinstance(table, dict):
        raise at.error(name, f"expected a [{name}] table, got {table!r}")
    if not table and not required:
        return {}
    known = {f.name: f for f in fields}
    unknown = sorted(set(table) - set(known))
    if unknown:
        raise at.error(f"{name}.{unknown[0]}", f"unknown field; expected one of: {', '.join(sorted(known))}")
    out = {}
    for f in fields:
        path = f"{name}.{f.name}"
        if f.name not in table:
            if f.required:
                raise at.error(path, "missing (expected a positive integer)" if f.kind == "int"
                               else "missing (expected a string)")
            continue
        out[f.name] = _READERS[f.kind](table[f.name], f, path, at)
    return out


# ------------------------------------------------------------------------------------------------------
# checks across the fields of a section, and the model
# ------------------------------------------------------------------------------------------------------
def _top_level(doc, at: _Where) -> None:
    if not isinstance(doc, dict):
        raise at.error("", f"expected a table of model settings, got {type(doc).__name__}")
    unknown = sorted(set(doc) - set(TOP_LEVEL))
    if unknown:
        raise at.error(unknown[0], f"unknown table or key; expected: {', '.join(TOP_LEVEL)}")
    if "schema" in doc and (isinstance(doc["schema"], bool) or doc["schema"] != 1):
        raise at.error("schema", f"expected 1 (the model-file schema version), got {doc['schema']!r}")
    if "published" in doc and not isinstance(doc["published"], dict):
        raise at.error("published", f"expected a table, got {doc['published']!r}")


def _architecture(a: dict, has_moe: bool, at: _Where) -> dict:
    n_layers, d_model, n_heads = a["n_layers"], a["d_model"], a["n_heads"]
    kv = a.get("n_kv_heads", n_heads)
    if n_heads % kv:
        raise at.error("architecture.n_kv_heads", f"must divide n_heads ({n_heads}), got {kv}")
    if "head_dim" not in a and d_model < n_heads:
        raise at.error("architecture.d_model", f"must be at least n_heads ({n_heads}) unless head_dim is given "
                                               f"(the head size d_model / n_heads would be 0), got {d_model}")
    if "d_ff" not in a and not has_moe:
        raise at.error("architecture.d_ff", "missing (expected a positive integer)")
    window, layers = a.get("sliding_window", 0), a.get("sliding_window_layers", 0)
    if layers > n_layers:
        raise at.error("architecture.sliding_window_layers", f"cannot exceed n_layers ({n_layers}), got {layers}")
    if layers and not window:
        raise at.error("architecture.sliding_window_layers", f"needs a sliding_window above 0, got {layers} "
                                                             "layers and no window")
    return dict(n_layers=n_layers, d_model=d_model, n_heads=n_heads, n_kv_heads=kv,
                head_dim=a.get("head_dim", d_model // n_heads), d_ff=a.get("d_ff", 0), vocab_size=a["vocab_size"],
                mlp=a.get("mlp", "gated"), norm=a.get("norm", "rmsnorm"), position=a.get("position", "rope"),
                tie_embeddings=a.get("tie_embeddings", False), attention_bias=a.get("attention_bias", False),
                mlp_bias=a.get("mlp_bias", False), max_context=a.get("max_context", 4096),
                sliding_window=window, sliding_window_layers=layers if "sliding_window_layers" in a else None,
                attention_chunk=a.get("attention_chunk", 0), qk_norm=a.get("qk_norm", "none"))


def _expand(pattern: tuple, n_layers: int, path: str, at: _Where) -> tuple:
    """A per-layer pattern at full length: one entry per layer, or a period repeated from the first layer."""
    if len(pattern) > n_layers:
        raise at.error(path, f"cannot exceed n_layers ({n_layers}) entries, got {len(pattern)}")
    if n_layers % len(pattern):
        raise at.error(path, f"expected one entry per layer ({n_layers}) or a period that divides {n_layers}, "
                             f"got {len(pattern)} entries")
    return pattern * (n_layers // len(pattern))


def _attention_pattern(lay: dict, kw: dict, at: _Where) -> tuple[str, ...]:
    """Each layer's attention, from ``[layers] attention`` or the legacy ``sliding_window_layers`` count."""
    n, window, count = kw["n_layers"], kw["sliding_window"], kw["sliding_window_layers"]
    if "attention" in lay:
        kinds = _expand(lay["attention"], n, "layers.attention", at)
        if count is not None and count != kinds.count("sliding"):
            raise at.error("architecture.sliding_window_layers", f"must match the {kinds.count('sliding')} sliding "
                                                                 f"layers of [layers] attention, got {count}")
    else:  # a count without positions: the counts are what every result rests on
        count = n if count is None and window else (count or 0)
        kinds = ("sliding",) * count + ("full",) * (n - count)
    for kind, field_, size in (("sliding", "sliding_window", window), ("chunked", "attention_chunk",
                                                                        kw["attention_chunk"])):
        if kind in kinds and not size:
            raise at.error(f"architecture.{field_}", f"missing (the {kind} layers of [layers] attention need "
                                                     "a positive number of tokens)")
    return kinds


def _layers(lay: dict, kw: dict, at: _Where) -> dict:
    """Per-layer attention, MLP and RoPE, each at full length, checked against the sections they need."""
    n, attention = kw["n_layers"], _attention_pattern(lay, kw, at)
    mlp: tuple[str, ...] = ()
    if "mlp" in lay or kw.get("n_experts"):
        first = kw.get("first_dense_layers", 0)
        base = _expand(lay.get("mlp", ("moe",)), n, "layers.mlp", at)
        mlp = ("dense",) * first + base[first:]
        if "moe" in mlp and not kw.get("n_experts"):
            raise at.error("layers.mlp", "moe layers need a [moe] table")
        if "moe" not in mlp and kw.get("n_experts"):
            raise at.error("layers.mlp", "a [moe] table needs at least one moe layer")
        if "dense" in mlp and not kw["d_ff"]:
            raise at.error("architecture.d_ff", "missing (needed by the dense layers of [layers] mlp)")
    rope = _expand(lay["rope"], n, "layers.rope", at) if "rope" in lay else ()
    return dict(layer_attention=attention, layer_mlp=mlp, layer_rope=rope,
                sliding_window_layers=attention.count("sliding"))


def _moe(moe: dict, arch: dict, at: _Where) -> dict:
    if not moe:
        return {}
    E, k = moe["n_experts"], moe["experts_per_token"]
    if k > E:
        raise at.error("moe.experts_per_token", f"cannot exceed n_experts ({E}), got {k}")
    first = moe.get("first_dense_layers", 0)
    if first >= arch["n_layers"]:
        raise at.error("moe.first_dense_layers", f"must be below n_layers ({arch['n_layers']}): a mixture of "
                                                 f"experts needs at least one MoE layer; got {first}")
    if first and not arch["d_ff"]:
        raise at.error("architecture.d_ff", "missing (needed by the first_dense_layers)")
    return dict(n_experts=E, experts_per_token=k, d_ff_expert=moe["d_ff_expert"],
                n_shared_experts=moe.get("n_shared_experts", 0), d_ff_shared=moe.get("d_ff_shared", 0),
                first_dense_layers=first)


def _mla(mla: dict) -> dict:
    if not mla:
        return {}
    return dict(q_lora_rank=mla.get("q_lora_rank", 0), kv_lora_rank=mla["kv_lora_rank"],
                qk_nope_head_dim=mla["qk_nope_head_dim"], qk_rope_head_dim=mla["qk_rope_head_dim"],
                v_head_dim=mla["v_head_dim"])


def model_from_doc(doc: Mapping, file, names: Mapping[str, str] | None = None) -> ModelConfig:
    """A :class:`ModelConfig` from a parsed model file, every field validated.

    Parameters
    ----------
    doc : mapping
        The parsed TOML (or a translated config.json).
    file : str or os.PathLike
        The file, for the messages.
    names : mapping of str to str, optional
        What the file calls a field (``"architecture.n_layers"`` → ``"num_hidden_layers"``), for the messages.

    Returns
    -------
    ModelConfig

    Raises
    ------
    SpecError
        Naming the file, the field and what was expected.
    """
    at = _Where(file, names or {})
    _top_level(doc, at)
    m = read_section(doc, "model", at)
    a = read_section(doc, "architecture", at)
    moe, mla = read_section(doc, "moe", at), read_section(doc, "mla", at)
    kw = _architecture(a, bool(moe), at)
    kw.update(_moe(moe, kw, at))
    kw.update(_mla(mla))
    kw.update(_layers(read_section(doc, "layers", at), kw, at))
    kw["mtp_modules"] = read_section(doc, "mtp", at).get("modules", 0)
    return ModelConfig(key=m["key"], name=m["name"], aliases=m.get("aliases", ()), family=m.get("family", ""),
                       year=m.get("year"), source=m.get("source", {}), published=dict(doc.get("published", {})),
                       file=str(file), **kw)
