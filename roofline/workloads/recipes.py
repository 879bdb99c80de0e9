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
    """A kernel named by its kind and shape: validated, keyed and built on demand, without SymPy.

    Parameters
    ----------
    kind : str
        A key of :data:`KINDS`: ``gemm``, ``gemv`` or ``batched_gemm``.
    **params : int or str
        The kind's shape parameters (positive integers [1]) and data types (names from
        :mod:`roofline.dtypes`), as for the kernel function of the same name.

    Raises
    ------
    InputError
        An unknown kind or parameter, or a shape that is not a positive integer.
    UnknownNameError
        An unknown data type.

    Examples
    --------
    >>> r = Recipe("gemm", m=8192, n=8192, k=8192)
    >>> r.key, r.compute_dtype
    ('kernel:gemm:k=8192,m=8192,n=8192', 'bf16')
    """

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
        """The cache key: kind and every given parameter, sorted (``kernel:gemm:k=8192,m=8192,n=8192``)."""
        return f"kernel:{self.kind}:" + ",".join(f"{k}={v}" for k, v in self.params)

    @property
    def compute_dtype(self) -> str:
        """The data type the kernel computes in: the wider of A's and B's (``bf16`` by default)."""
        p = dict(self.params)
        base = p.get("dtype", "bf16")
        return compute_dtype(p.get("dtype_a") or base, p.get("dtype_b") or base)

    @property
    def dtypes(self) -> tuple[str, ...]:
        """``(compute_dtype,)``, as :attr:`roofline.workloads.Workload.dtypes` spells it."""
        return (self.compute_dtype,)

    @property
    def name(self) -> str:
        """The kind, which is also the name of the workload :meth:`build` returns."""
        return self.kind

    def build(self):
        """Build the kernel's :class:`~roofline.workloads.Workload` (imports SymPy).

        Returns
        -------
        Workload
            The kernel function of :attr:`kind` called with :attr:`params`.
        """
        from . import kernels as workloads

        return getattr(workloads, self.kind)(**dict(self.params))

