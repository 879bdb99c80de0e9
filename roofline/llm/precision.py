"""Data types of an LLM's weights, activations and KV cache."""

from __future__ import annotations

from dataclasses import dataclass

from ..dtypes import activation_dtype, bytes_per_element

__all__ = ["Precision"]


@dataclass(frozen=True)
class Precision:
    """Data types of the weights, the activations and the KV cache.

    Parameters
    ----------
    weights, activations, kv : str
        Names from :data:`roofline.dtypes.TABLE`.
    """

    weights: str = "bf16"
    activations: str = "bf16"
    kv: str = "bf16"

    def __post_init__(self):
        for d in (self.weights, self.activations, self.kv):
            bytes_per_element(d)

    @classmethod
    def of(cls, dtype: str = "bf16", weights: str | None = None, activations: str | None = None,
           kv: str | None = None) -> "Precision":
        """All three in ``dtype`` unless overridden; a weight-only type (fp4, int4, fp6) keeps activations and
        the KV cache in bf16.

        Parameters
        ----------
        dtype : str
            The data type of everything not overridden.
        weights, activations, kv : str, optional
            Overrides.

        Returns
        -------
        Precision
        """
        base_act = activation_dtype(dtype)
        return cls(weights or dtype, activations or base_act, kv or activations or base_act)
