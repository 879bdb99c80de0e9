"""Kernel recipes: a kernel named by its kind and shape, checked and keyed without building expressions.

``Recipe("gemm", m=8192, n=8192, k=8192, dtype="bf16")`` validates its inputs (positive integer shapes,
known data types) with no SymPy, knows its cache key, and builds the :class:`~roofline.workloads.Workload`
only when the compiled function is not cached yet.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..dtypes import bytes_per_element, compute_dtype
from ..errors import InputError

__all__ = ['KINDS', 'Recipe']


#: kind -> (shape parameters, data-type parameters)
KINDS = {
    "gemm": (("m", "n", "k"), ("dtype", "dtype_a", "dtype_b", "dtype_c")),
    "gemv": (("n", "k"), ("dtype",)),
    "batched_gemm": (("batch", "m", "n", "k"), ("dtype",)),
}


@dataclass(frozen=True)
class Recipe:
    kind: str
    params: tuple

    def __init__(self, kind: str, **params):
        if kind not in KINDS:
            raise InputError(f"unknown kernel {kind!r}; expected one of {', '.join(KINDS)}")
        shapes, dts = KINDS[kind]
        for name in shapes:
            v = params.get(name)
            if isinstance(v, bool) or not isinstance(v, (int, float)) or v <= 0 or float(v) != int(v):
                raise InputError(f"{name} must be a positive integer, got {v!r}")
            params[name] = int(v)
        for name in dts:
            if params.get(name) is not None:
                bytes_per_element(params[name])
        unknown = set(params) - set(shapes) - set(dts)
        if unknown:
            raise InputError(f"{kind} takes no parameter {sorted(unknown)[0]!r}")
        object.__setattr__(self, "kind", kind)
        object.__setattr__(self, "params", tuple(sorted((k, v) for k, v in params.items() if v is not None)))

    @property
    def key(self) -> str:
        return f"kernel:{self.kind}:" + ",".join(f"{k}={v}" for k, v in self.params)

    @property
    def compute_dtype(self) -> str:
        p = dict(self.params)
        base = p.get("dtype", "bf16")
        return compute_dtype(p.get("dtype_a") or base, p.get("dtype_b") or base)

    @property
    def dtypes(self) -> tuple[str, ...]:
        return (self.compute_dtype,)

    @property
    def name(self) -> str:
        return self.kind

    def build(self):
        from . import kernels as workloads

        return getattr(workloads, self.kind)(**dict(self.params))

