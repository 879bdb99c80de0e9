"""Language models as a workload family: configurations, the per-block decomposition, inference estimates
and sweeps.

==================  ===================================================================================
module              holds
==================  ===================================================================================
``config``          :class:`ModelConfig`: a decoder-only transformer's architecture and parameter counts
``schema``          the model-file schema: a reader per section that names the file and field on errors
``loader``          loading: shipped configs, a user's TOML file, a Hugging Face ``config.json``
``precision``       :class:`Precision`: data types of weights, activations and KV cache
``sizes``           weights and KV-cache bytes, per model and per device; :func:`place`
``attention``       (query, key) pairs of full and sliding-window attention (pure formulas)
``blocks``          the per-block decomposition: one builder per block over a ``BlockContext``
``workload``        :func:`llm_workload`: the cached entry point to ``blocks``
``result``          :class:`LLMEstimate`: an estimate's result, ``to_dict()`` and ``_repr_html_``
``inference``       :func:`estimate`, :func:`estimate_result`, :func:`decode_break_even_batch`
``sweeps``          :func:`decode_sweep`, :func:`frontier`, chunked sweeps; the one column contract
``serving``         :func:`throughput`: the serving bound under continuous batching, over the best layout
``symbolic``        closed forms of the mesh model (token latency, latency/compute crossover batch, hand-off
                    dominance) and the engine's decode step as a SymPy expression
==================  ===================================================================================

No placement policy and no evaluation loop lives here: placement is :mod:`roofline.placement`, the
arithmetic of time is :mod:`roofline.engine`.
"""

from __future__ import annotations

from ..placement.layout import Parallelism, Placement
from .config import ModelConfig
from .inference import _compiled, _run  # noqa: F401 (benchmarks/run.py reaches these through roofline.llm)
from .inference import decode_break_even_batch, estimate, estimate_result
from .loader import (
    from_hf_config,
    get_model,
    list_models,
    load_model_file,
    model_library,
)
from .precision import Precision
from .result import LLMEstimate
from .sizes import (
    ModelDemand,
    kv_cache_bytes,
    kv_cache_elements,
    place,
    resident_bytes_per_device,
    weights_bytes,
)
from .workload import llm_workload

#: Names served from a submodule imported on first use (PEP 562): the sweeps (and with them the sweep room),
#: the serving bound and the closed forms are not needed to answer one estimate, and ``roofline llm`` does
#: not pay for importing them.
_LAZY = {
    **dict.fromkeys(("COLUMNS", "decode_sweep", "frontier", "llm_sweep_chunks", "llm_sweep_reduce",
                     "llm_sweep_to_parquet"), "sweeps"),
    **dict.fromkeys(("ThroughputResult", "throughput", "throughput_result"), "serving"),
    **dict.fromkeys(("crossover_batch", "decode_time_expr", "handoff_dominant_stages", "handoff_stages",
                     "latency_compute_batch", "mesh_token_latency"), "symbolic"),
}


def __getattr__(name: str):
    """A name of a lazily imported submodule (see :data:`_LAZY`).

    Parameters
    ----------
    name : str
        An attribute of the package.

    Returns
    -------
    object
    """
    if name in _LAZY:
        import importlib

        value = getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    """The module's names, the lazy ones included.

    Returns
    -------
    list of str
    """
    return sorted(set(globals()) | set(_LAZY))

__all__ = ['ModelConfig', 'load_model_file', 'from_hf_config', 'model_library', 'get_model', 'list_models',
           'Precision', 'Parallelism', 'Placement', 'place', 'ModelDemand', 'resident_bytes_per_device',
           'weights_bytes', 'kv_cache_elements', 'kv_cache_bytes', 'llm_workload', 'decode_sweep', 'frontier',
           'llm_sweep_chunks', 'llm_sweep_to_parquet', 'llm_sweep_reduce', 'COLUMNS', 'estimate',
           'estimate_result', 'LLMEstimate', 'decode_break_even_batch', 'throughput', 'throughput_result',
           'ThroughputResult', 'mesh_token_latency', 'latency_compute_batch', 'handoff_dominant_stages',
           'decode_time_expr', 'crossover_batch', 'handoff_stages']
