"""The LLM workload of one prefill or one decode step: :func:`llm_workload`, cached.

The per-block decomposition lives in :mod:`roofline.llm.blocks`; this module is its entry point and keeps
SymPy off the import path (``blocks`` is loaded on the first call, so a warm command line that reads its
compiled functions from the cache never imports SymPy).
"""

from __future__ import annotations

from functools import lru_cache
from typing import Mapping

from ..errors import InputError
from ..placement.layout import Parallelism
from ..vocab import Phase
from .config import ModelConfig
from .precision import Precision

__all__ = ["llm_workload"]

#: models by ``(key, hash)``: :class:`ModelConfig` holds a dict (its sources), so it is not hashable
#: as an lru_cache argument itself
_MODELS: dict[tuple, ModelConfig] = {}


@lru_cache(maxsize=256)
def _workload_cached(model_id: tuple, phase: Phase, prec: Precision, par: Parallelism, links: tuple):
    from .blocks import BlockContext, assemble

    return assemble(BlockContext.of(_MODELS[model_id], phase, prec, par))


def llm_workload(model: ModelConfig, phase: Phase | str, prec: Precision = Precision(),
                 par: Parallelism = Parallelism(), links: Mapping[str, str] | None = None):
    """The per-device workload of one prefill (``phase="prefill"``), one decode step (``"decode"``) or one
    speculative verify step (``"verify"``: ``q`` tokens per sequence).

    Cached: the same model, phase, precision, parallelism and links return the same object.

    Parameters
    ----------
    model : ModelConfig
    phase : Phase or str
        ``prefill`` (shape symbols ``b``, ``p``), ``decode`` (``b``, ``s``) or ``verify`` (``b``, ``s``, ``q``).
    prec : Precision
        Data types of weights, activations and KV cache.
    par : Parallelism
        Tensor-parallel degree and pipeline stages [1].
    links : mapping of str to str, optional
        Link role (``tp``, ``pp``, ``ep``) to link name; part of the cache key only.

    Returns
    -------
    roofline.workloads.Workload
        The ops of one device (:func:`roofline.llm.blocks.assemble`).

    Raises
    ------
    InputError
        For an unknown phase.
    """
    if phase not in (Phase.PREFILL, Phase.DECODE, Phase.VERIFY):
        raise InputError(f"unknown phase {phase!r}; expected 'prefill', 'decode' or 'verify'")
    mid = (model.key, hash(model))
    _MODELS[mid] = model
    return _workload_cached(mid, Phase(phase), prec, par, tuple(sorted((links or {}).items())))
