"""llm"""

from __future__ import annotations

from ..placement.layout import Parallelism, Placement
from .blocks import llm_workload
from .config import ModelConfig
from .inference import decode_break_even_batch, estimate
from .loader import (
    from_hf_config,
    get_model,
    list_models,
    load_model_file,
    model_library,
)
from .precision import Precision
from .sizes import (
    ModelDemand,
    kv_cache_bytes,
    kv_cache_elements,
    place,
    resident_bytes_per_device,
    weights_bytes,
)
from .sweeps import (
    decode_sweep,
    frontier,
    llm_sweep_chunks,
    llm_sweep_reduce,
    llm_sweep_to_parquet,
)

__all__ = ['ModelConfig', 'load_model_file', 'from_hf_config', 'model_library', 'get_model', 'list_models', 'Precision', 'Parallelism', 'Placement', 'place', 'ModelDemand', 'resident_bytes_per_device', 'weights_bytes', 'kv_cache_elements', 'kv_cache_bytes', 'llm_workload', 'decode_sweep', 'frontier', 'llm_sweep_chunks', 'llm_sweep_to_parquet', 'llm_sweep_reduce', 'estimate', 'decode_break_even_batch']
