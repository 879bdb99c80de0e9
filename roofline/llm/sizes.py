"""What an LLM keeps in memory: weights and KV cache, per model and per device of a layout.

:class:`ModelDemand` is the model as the placement room sees it (:class:`roofline.placement.Demand`), and
:func:`place` places a model on a device.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .. import formulas
from ..dtypes import bytes_per_element
from ..hardware.device import Device
from ..placement.layout import Parallelism, Placement
from ..placement.layout import place as _place
from .config import ModelConfig
from .precision import Precision

__all__ = ["weights_bytes", "kv_cache_elements", "kv_cache_bytes", "resident_bytes_per_device", "ModelDemand",
           "place"]


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
    return model.total_params() * bytes_per_element(prec.weights)


def kv_cache_elements(model: ModelConfig, batch, context):
    """KV-cache elements for ``batch`` sequences of ``context`` tokens over all layers
    (:func:`roofline.formulas.kv_cache_elements`; sliding-window layers keep at most the window).

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
    return formulas.kv_cache_elements(batch, context, model.n_layers, model.kv_cache_elements_per_token_per_layer,
                                      model.sliding_window_layers, model.sliding_window)


def kv_cache_bytes(model: ModelConfig, prec: Precision, batch, context):
    """KV-cache bytes: ``batch × context × layers × 2 × n_kv_heads × head_dim × bytes(kv dtype)``.

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
    b = bytes_per_element(prec.kv)
    b = int(b) if float(b).is_integer() else b
    return kv_cache_elements(model, batch, context) * b


def resident_bytes_per_device(model: ModelConfig, prec: Precision, par: Parallelism, batch, context):
    """Weights and KV cache one device of layout ``par`` holds.

    Weights split evenly over every device. The KV cache splits over pipeline stages and over the
    tensor-parallel ranks that hold distinct KV heads (at most ``n_kv_heads`` of them); MLA's latent
    cache is shared by all heads and so replicated on every tensor-parallel rank.

    Parameters
    ----------
    model : ModelConfig
    prec : Precision
    par : Parallelism
    batch, context : float or ndarray
        [1].

    Returns
    -------
    float or ndarray
        [B].
    """
    w = weights_bytes(model, prec) / par.devices
    kv_split = par.pp * (1 if model.is_mla else min(par.tp, model.n_kv_heads))
    kv = kv_cache_bytes(model, prec, batch, context) / kv_split
    return w + kv if isinstance(kv, np.ndarray) else float(w + kv)


@dataclass(frozen=True)
class ModelDemand:
    """A model in a precision, as the placement room sees it (:class:`roofline.placement.Demand`)."""

    model: ModelConfig
    prec: Precision

    @property
    def key(self) -> str:
        return self.model.key

    @property
    def n_layers(self) -> int:
        return self.model.n_layers

    @property
    def n_heads(self) -> int:
        return self.model.n_heads

    @property
    def is_moe(self) -> bool:
        return self.model.is_moe

    def resident_bytes(self, par: Parallelism, batch, context):
        """Bytes per device of layout ``par`` [B] (:func:`resident_bytes_per_device`)."""
        return resident_bytes_per_device(self.model, self.prec, par, batch, context)

    def describe(self) -> str:
        return f"{self.model.key} in {self.prec.weights}"


def place(model: ModelConfig, device: Device, prec: Precision = Precision(), batch: int = 1, context: int = 2048,
          devices: int | None = None, tp: int | None = None, pp: int | None = None) -> Placement:
    """Place ``model`` on ``device``: :func:`roofline.placement.place` for an LLM.

    Parameters
    ----------
    model : ModelConfig
    device : Device
    prec : Precision
    batch, context : int
        Sequences and tokens per sequence the KV cache must hold [1].
    devices, tp, pp : int, optional
        Force the layout.

    Returns
    -------
    Placement
    """
    return _place(ModelDemand(model, prec), device, batch, context, devices, tp, pp)
