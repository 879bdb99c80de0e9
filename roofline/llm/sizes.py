"""What an LLM keeps in memory: weights and KV cache, per model and per device of a layout.

:class:`ModelDemand` is the model as the placement room sees it (:class:`roofline.placement.Demand`), and
:func:`place` places a model on a device.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass

from .. import formulas
from ..dtypes import bytes_per_element
from ..hardware.device import Device
from ..placement.layout import Parallelism, Placement
from ..placement.layout import place as _place
from ..vocab import IdentityMemo
from .config import ModelConfig
from .precision import Precision

__all__ = ["weights_bytes", "expert_weights_bytes", "weights_bytes_per_device", "kv_cache_elements", "kv_cache_bytes",
           "kv_elements_per_token_per_device", "kv_shards", "kv_cache_bytes_per_device", "resident_bytes_per_device",
           "ModelDemand", "place"]


def weights_bytes(model: ModelConfig, prec: Precision) -> float:
    """Bytes of every weight, the embedding table included (it is stored even if decode reads one row).

    Parameters
    ----------
    model : ModelConfig
    prec : Precision

    Returns
    -------
    float
        [B].
    """
    key = (id(model), prec)
    hit = _WEIGHTS.recall(key, (model,))
    if hit is not None:
        return hit
    return _WEIGHTS.remember(key, (model,), model.total_params() * bytes_per_element(prec.weights))


#: weights' bytes by model (held, so its ``id`` is not reused) and precision: a pure function of both
_WEIGHTS = IdentityMemo(4096)


def expert_weights_bytes(model: ModelConfig, prec: Precision) -> float:
    """Bytes of the routed experts of every MoE layer (0 for a dense model).

    Parameters
    ----------
    model : ModelConfig
    prec : Precision

    Returns
    -------
    float
        [B].
    """
    return model.moe_layers * model.n_experts * model.expert_params() * bytes_per_element(prec.weights)


def weights_bytes_per_device(model: ModelConfig, prec: Precision, par: Parallelism) -> float:
    """Weights one device of layout ``par`` holds.

    The routed experts of a stage are spread over all its ``tp`` devices (``ep`` ways, each expert split
    ``tp / ep`` ways); everything else (attention, shared experts, dense MLPs, embeddings, lm_head) is split
    over the attention group, so it is replicated on every device under data-parallel attention:

    .. math:: W_\\text{dev} = \\frac{W_\\text{experts}}{tp\\,pp} + \\frac{W - W_\\text{experts}}{tp_\\text{attn}\\,pp}

    Parameters
    ----------
    model : ModelConfig
    prec : Precision
    par : Parallelism

    Returns
    -------
    float
        [B].

    Examples
    --------
    >>> from roofline.llm import get_model
    >>> from roofline.placement import Parallelism
    >>> m = get_model("llama-3.1-70b")
    >>> weights_bytes_per_device(m, Precision(), Parallelism(tp=8)) == weights_bytes(m, Precision()) / 8
    True
    """
    key = (id(model), prec, id(par))
    hit = _PER_DEVICE.recall(key, (model, par))
    if hit is not None:
        return hit
    experts = expert_weights_bytes(model, prec)
    return _PER_DEVICE.remember(key, (model, par), experts / (par.tp * par.pp)
                                + (weights_bytes(model, prec) - experts) / (par.attention_tp * par.pp))


#: weights per device by model and layout (held: both immutable) and precision
_PER_DEVICE = IdentityMemo(4096)


def kv_cache_elements(model: ModelConfig, batch, context):
    """KV-cache elements for ``batch`` sequences of ``context`` tokens over all layers
    (:func:`roofline.formulas.kv_cache_elements`; sliding-window layers keep at most the window, chunked
    layers at most one chunk).

    Parameters
    ----------
    model : ModelConfig
    batch : float, ndarray or sympy.Expr
        Sequences [1].
    context : float, ndarray or sympy.Expr
        Tokens per sequence [1].

    Returns
    -------
    float, ndarray or sympy.Expr
        Elements [1].
    """
    return formulas.kv_cache_elements(batch, context, *_kv_layers(model))


def _kv_layers(model: ModelConfig) -> tuple:
    """The model's figures :func:`roofline.formulas.kv_cache_elements` reads after the batch and the context,
    read once per model object (it is immutable)."""
    hit = _KV_LAYERS.recall(id(model), (model,))
    if hit is None:
        hit = _KV_LAYERS.remember(id(model), (model,), (
            model.n_layers, model.kv_cache_elements_per_token_per_layer, model.attention_layers("sliding"),
            model.sliding_window, model.attention_layers("chunked"), model.attention_chunk))
    return hit


_KV_LAYERS = IdentityMemo(4096)


def kv_cache_bytes(model: ModelConfig, prec: Precision, batch, context):
    """KV-cache bytes: :func:`kv_cache_elements` times the KV data type's bytes per element
    (``batch × context × layers × 2 × n_kv_heads × head_dim × bytes`` for full grouped-query attention).

    Parameters
    ----------
    model : ModelConfig
    prec : Precision
    batch, context : float, ndarray or sympy.Expr
        Sequences and tokens per sequence [1].

    Returns
    -------
    float, ndarray or sympy.Expr
        [B].

    Examples
    --------
    >>> from roofline.llm import get_model
    >>> kv_cache_bytes(get_model("llama-3.1-70b"), Precision(), 1, 1)   # 2·8·128·80 values × 2 B
    327680
    """
    b = _KV_BYTES.get(prec.kv)
    if b is None:
        b = bytes_per_element(prec.kv)
        b = _KV_BYTES[prec.kv] = int(b) if float(b).is_integer() else b
    return kv_cache_elements(model, batch, context) * b


#: bytes per element of each KV data type, as :func:`kv_cache_bytes` multiplies by them (a whole number as
#: an int: the bytes of an int cache stay an int)
_KV_BYTES: dict = {}


def kv_elements_per_token_per_device(model: ModelConfig, tp: int) -> int:
    """KV-cache elements one token stores in one layer on one tensor-parallel rank.

    Grouped-query attention splits the KV heads over the ranks (a rank holding part of a head holds all
    of it); multi-head latent attention keeps one latent shared by every head, so each rank holds it whole:

    .. math::

        e_\\text{dev} = 2 \\lceil n_{kv} / t \\rceil d_h \\quad\\text{(GQA)}, \\qquad
        e_\\text{dev} = r_{kv} + d_\\text{rope} \\quad\\text{(MLA)}

    Parameters
    ----------
    model : ModelConfig
    tp : int
        Tensor-parallel degree :math:`t` [1].

    Returns
    -------
    int
        Elements [1].

    Examples
    --------
    >>> from roofline.llm import get_model
    >>> kv_elements_per_token_per_device(get_model("llama-3.1-70b"), 2)   # 2 x 4 KV heads x 128
    1024
    >>> kv_elements_per_token_per_device(get_model("deepseek-v3"), 8)     # 512 + 64, on every rank
    576
    """
    if model.is_mla:
        return model.kv_lora_rank + model.qk_rope_head_dim
    return 2 * formulas.ceil_div(model.n_kv_heads, tp) * model.head_dim


def kv_shards(model: ModelConfig, par: Parallelism) -> int:
    """Into how many distinct parts a layout splits the KV cache of one attention group's sequences:
    pipeline stages times the tensor-parallel ranks that hold distinct KV heads (at most ``n_kv_heads``;
    MLA's shared latent is not split by TP; data-parallel attention splits no head).

    Parameters
    ----------
    model : ModelConfig
    par : Parallelism

    Returns
    -------
    int
        Parts [1]; one device holds ``1 / kv_shards`` of the cache.
    """
    return par.pp * (1 if model.is_mla else min(par.attention_tp, model.n_kv_heads))


def kv_cache_bytes_per_device(model: ModelConfig, prec: Precision, par: Parallelism, batch, context):
    """KV-cache bytes one device of layout ``par`` holds when ``batch`` sequences are in flight in the layout.

    The sequences are shared out over the attention groups (``dp`` replicas, and every device of a stage
    under data-parallel attention); a group's cache splits over its pipeline stages and over the
    tensor-parallel ranks that hold distinct KV heads. MLA's latent is shared by all heads, so tensor-
    parallel attention replicates it on every rank, and data-parallel attention does not:

    .. math:: Q_{KV,\\text{dev}} = \\frac{Q_{KV}(b / n_\\text{groups}, s)}{pp \\cdot \\min(tp_\\text{attn}, h_{kv})}
        \\quad (\\text{MLA: } pp)

    Parameters
    ----------
    model : ModelConfig
    prec : Precision
    par : Parallelism
    batch, context : float, ndarray or sympy.Expr
        Sequences in flight in the layout, tokens per sequence [1].

    Returns
    -------
    float, ndarray or sympy.Expr
        [B].

    Examples
    --------
    >>> from roofline.llm import get_model
    >>> from roofline.placement import Parallelism
    >>> v3 = get_model("deepseek-v3")      # 61 layers x (512 + 64) latent x 2 B = 70,272 B per token
    >>> kv_cache_bytes_per_device(v3, Precision(), Parallelism(tp=8), 64, 1)   # every rank holds all 64
    4497408.0
    >>> kv_cache_bytes_per_device(v3, Precision(), Parallelism(tp=8, attention="dp"), 64, 1)  # 8 each
    562176.0
    """
    return _kv_per_device(model, prec, batch, context, par.groups, kv_shards(model, par))


def _kv_per_device(model: ModelConfig, prec: Precision, batch, context, groups: int, shards: int):
    """:func:`kv_cache_bytes_per_device` with the layout's attention groups and KV shards given."""
    return kv_cache_bytes(model, prec, batch / groups if groups > 1 else batch, context) / shards


def resident_bytes_per_device(model: ModelConfig, prec: Precision, par: Parallelism, batch, context):
    """Weights and KV cache one device of layout ``par`` holds (:func:`weights_bytes_per_device` plus
    :func:`kv_cache_bytes_per_device`).

    Parameters
    ----------
    model : ModelConfig
    prec : Precision
    par : Parallelism
    batch, context : float or ndarray
        Sequences in flight in the layout, tokens per sequence [1].

    Returns
    -------
    float or ndarray
        [B].
    """
    w = weights_bytes_per_device(model, prec, par)
    kv = kv_cache_bytes_per_device(model, prec, par, batch, context)
    np = sys.modules.get("numpy")  # an array means NumPy is loaded; a number never loads it
    return w + kv if np is not None and isinstance(kv, np.ndarray) else float(w + kv)


@dataclass(frozen=True)
class ModelDemand:
    """A model in a precision, as the placement room sees it (:class:`roofline.placement.Demand`).

    Attributes
    ----------
    model : ModelConfig
    prec : Precision
    """

    model: ModelConfig
    prec: Precision

    @property
    def key(self) -> str:
        """The model's key.

        Returns
        -------
        str
        """
        return self.model.key

    @property
    def n_layers(self) -> int:
        """Layers, the most pipeline stages the model can be cut into.

        Returns
        -------
        int
            [1].
        """
        return self.model.n_layers

    @property
    def n_heads(self) -> int:
        """Query heads, which tensor parallelism splits.

        Returns
        -------
        int
            [1].
        """
        return self.model.n_heads

    @property
    def is_moe(self) -> bool:
        """Whether the model is a mixture of experts.

        Returns
        -------
        bool
        """
        return self.model.is_moe

    def resident_bytes(self, par: Parallelism, batch, context):
        """Bytes one device of layout ``par`` holds (:func:`resident_bytes_per_device`).

        Parameters
        ----------
        par : Parallelism
        batch, context : float or ndarray
            Sequences in flight in the layout and tokens per sequence [1].

        Returns
        -------
        float or ndarray
            [B].
        """
        return resident_bytes_per_device(self.model, self.prec, par, batch, context)

    def describe(self) -> str:
        """A short description for messages: ``"<key> in <weight dtype>"``.

        Returns
        -------
        str
        """
        return f"{self.model.key} in {self.prec.weights}"


def place(model: ModelConfig, device: Device, prec: Precision = Precision(), batch: int = 1, context: int = 2048,
          devices: int | None = None, tp: int | None = None, pp: int | None = None, **layout) -> Placement:
    """Place ``model`` on ``device``: :func:`roofline.placement.place` for an LLM.

    Parameters
    ----------
    model : ModelConfig
    device : Device
    prec : Precision
    batch, context : int
        Sequences in flight and tokens per sequence the KV cache must hold [1].
    devices, tp, pp : int, optional
        Force the layout.
    **layout
        ``dp``, ``ep``, ``attention``, ``micro_batches``, ``imbalance`` (:func:`roofline.placement.place`).

    Returns
    -------
    Placement
        The same (immutable) object for the same question within a process: placements are memoised by
        the model's and device's identity and every other argument.
    """
    try:
        key = (id(model), id(device), prec, batch, context, devices, tp, pp, tuple(sorted(layout.items())),
               type(batch), type(context), type(devices), type(tp), type(pp))  # True is not 1 here
        hit = _PLACED.recall(key, (model, device))
    except TypeError:  # an unhashable argument (an array): no memo
        return _place(ModelDemand(model, prec), device, batch, context, devices, tp, pp, **layout)
    if hit is not None:
        return hit
    pl = _forced_again(model, device, prec, batch, context, key[5:9] + key[11:])
    if pl is None:
        pl = _place(ModelDemand(model, prec), device, batch, context, devices, tp, pp, **layout)
        if pl.forced and type(batch) is int and type(context) is int:
            _FORCED.remember((id(model), id(device), prec, key[5:9] + key[11:]), (model, device), _forced_figures(
                model, device, prec, pl))
    return _PLACED.remember(key, (model, device), pl)


def place_again(model: ModelConfig, device: Device, prec: Precision, batch: int, context: int,
                devices: int | None = None, tp: int | None = None, pp: int | None = None, **layout) -> Placement:
    """:func:`place` for a caller that remembers its own answers (an estimate): a forced layout placed before is
    placed again for this batch and context without entering :func:`place`'s memo, which an optimiser's new
    questions would fill; any other question is :func:`place`'s.

    Parameters
    ----------
    model : ModelConfig
    device : Device
    prec : Precision
    batch, context : int
        Sequences in flight and tokens per sequence the KV cache must hold [1].
    devices, tp, pp : int, optional
        Force the layout.
    **layout
        ``dp``, ``ep``, ``attention``, ``micro_batches``, ``imbalance``.

    Returns
    -------
    Placement
        Equal to :func:`place`'s (a new object for a forced layout placed again).
    """
    try:
        again = _forced_again(model, device, prec, batch, context, (devices, tp, pp, tuple(sorted(layout.items())),
                                                                     type(devices), type(tp), type(pp)))
    except TypeError:  # an unhashable argument
        again = None
    return again if again is not None else place(model, device, prec, batch, context, devices, tp, pp, **layout)


def _forced_again(model: ModelConfig, device: Device, prec: Precision, batch, context, layout: tuple):
    """A forced layout placed again for another batch or context, or None (not forced before, or nothing
    holds it: :func:`roofline.placement.place` then says so). A forced layout's parallelism, links and checks
    do not depend on the batch or the context; only the resident set and the level that holds it (the fastest
    resident level, as :func:`roofline.placement.place` chooses) do."""
    if type(batch) is not int or type(context) is not int or batch <= 0 or context <= 0:
        return None
    hit = _FORCED.recall((id(model), id(device), prec, layout), (model, device))
    if hit is None:
        return None
    first, w, groups, shards, levels = hit
    par, links = first.parallel, first.links
    need = float(w + _kv_per_device(model, prec, batch, context, groups, shards))  # resident_bytes_per_device
    for i, capacity in levels:
        if need <= capacity:
            pl = object.__new__(Placement)  # Placement(device, par, i, dict(links), need, True), which checks nothing
            pl.__dict__.update(device=device, parallel=par, home=i, links=dict(links), resident_bytes_per_device=need,
                               forced=True)
            return pl
    return None


def _forced_figures(model: ModelConfig, device: Device, prec: Precision, pl: Placement) -> tuple:
    """What :func:`_forced_again` reads of a forced layout's first placement ``pl``: the placement, the weights
    per device, the attention groups, the KV shards and each resident level with its capacity, fastest first."""
    par = pl.parallel
    return (pl, weights_bytes_per_device(model, prec, par), par.groups, kv_shards(model, par),
            tuple((i, device.memory[i].capacity_bytes) for i in device.resident_levels))


#: a forced layout's first placement and the figures :func:`_forced_again` reads of it (:func:`_forced_figures`),
#: by model and device (held) and every argument but the batch and context
_FORCED = IdentityMemo(4096)


#: placements of this process, by question (pure: the model and device are immutable and held here, so an
#: ``id`` is never reused while its entry lives); the bound keeps memory small, not a tuning knob
_PLACED = IdentityMemo(4096)
