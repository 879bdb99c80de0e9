r"""Symbolic forms of an LLM's decode step: the engine's expression, and the closed forms of the mesh model.

Three questions the mesh model of wafers and tiles (:mod:`roofline.engine.latency`) answers in closed form,
each a SymPy expression that can be printed, solved and differentiated:

* :func:`mesh_token_latency` — the latency of one decode step as a function of the mesh's sides, the
  per-hop latency, the number of layers and of wafers (or tiles):
  :math:`t = L\,\kappa\,h_\text{band}(W, H, Q_\ell, C)\,\tau + (n_w - 1)\,\tau_\text{handoff}`;
* :func:`latency_compute_batch` — the batch at which a wafer's decode turns from latency- to compute-bound,
  solved from :math:`b\,F / P = t_\text{lat}`;
* :func:`handoff_dominant_stages` — the pipeline stages beyond which the hand-offs take longer than all the
  layers, solved from :math:`(n - 1)\,\tau_\text{handoff} = L\,t_\text{layer}`.

:func:`decode_time_expr` is the engine's own symbolic path for a model on a device (the expression the
numeric evaluators compile), and :func:`crossover_batch` and :func:`handoff_stages` fill the closed forms
from a model, a device and that path. SymPy is imported only when these are called.
"""

from __future__ import annotations

from .. import formulas
from ..hardware.device import Device
from ..hardware.library import get_device
from ..vocab import Corner, Latency, Mode, Phase
from .config import ModelConfig
from .loader import get_model
from .precision import Precision
from .sizes import place
from .workload import llm_workload

__all__ = ["MESH_SYMBOLS", "mesh_token_latency", "latency_compute_batch", "handoff_dominant_stages",
           "decode_time_expr", "evaluate_expr", "decode_latency_s", "crossover_batch", "handoff_stages"]

#: Names of the symbols of the closed forms, with their meaning and unit.
MESH_SYMBOLS: dict[str, str] = {
    "W": "cores along the mesh's width [1]", "H": "cores along the mesh's height [1]",
    "tau": "latency of one hop between neighbouring cores [s]", "L": "layers of the model [1]",
    "kappa": "dependent reductions (and broadcasts) in one layer [1]",
    "Q_l": "bytes one layer holds: weights and KV cache [B]", "C": "the mesh's memory, all cores [B]",
    "n_w": "wafers or tiles in the pipeline [1]", "tau_h": "one hand-off between wafers or tiles [s]",
    "b": "sequences in the decode batch [1]", "F": "work of one token on the device [FLOP]",
    "P": "peak compute [FLOP/s]", "t_lat": "latency of one decode step, independent of the batch [s]",
    "t_layer": "time of one layer [s]", "n": "pipeline stages [1]",
}


def _sym(name: str):
    import sympy as sp

    integer = name in ("L", "n_w", "n", "b")
    return sp.Symbol(name, positive=True, integer=integer) if integer else sp.Symbol(name, positive=True)


def mesh_token_latency():
    r"""Latency of one decode step on wafers or tiles, as a SymPy expression of the mesh model's symbols.

    Each layer's region is a band across the mesh's shorter side, sized by what the layer holds
    (:func:`~roofline.formulas.mesh_cells`); each of its :math:`\kappa` reductions crosses the band
    (:func:`~roofline.formulas.mesh_band_crossing`); consecutive wafers hand the hidden state on:

    .. math:: t = L\,\kappa\,\big(a + \min(A/a,\ \max(W,H))\big)\,\tau + (n_w - 1)\,\tau_h,
              \quad A = \frac{Q_\ell\,W H}{C},\ a = \min(\min(W,H), A)

    Parameters
    ----------
    None; the symbols are those of :data:`MESH_SYMBOLS` (``W``, ``H``, ``tau``, ``L``, ``kappa``, ``Q_l``,
    ``C``, ``n_w``, ``tau_h``).

    Returns
    -------
    sympy.Expr
        [s].

    References
    ----------
    C. He et al., "WaferLLM: Large Language Model Inference at Wafer Scale", OSDI 2025 (arXiv 2502.04563).

    Examples
    --------
    >>> t = mesh_token_latency()
    >>> sorted(str(s) for s in t.free_symbols)
    ['C', 'H', 'L', 'Q_l', 'W', 'kappa', 'n_w', 'tau', 'tau_h']
    >>> v = dict(W=762, H=1172, tau=1e-9, L=32, kappa=8, Q_l=0.5e9, C=44e9, n_w=1, tau_h=5e-6)
    >>> round(float(t.subs({s: v[str(s)] for s in t.free_symbols})) * 1e6, 1)  # 32 x 8 x 775.3 hops x 1 ns
    198.5
    """
    w, h, tau, layers, kappa, q_l, cap, n_w, tau_h = (_sym(s) for s in
                                                       ("W", "H", "tau", "L", "kappa", "Q_l", "C", "n_w", "tau_h"))
    band = formulas.mesh_band_crossing(formulas.mesh_cells(q_l, cap, w, h), w, h)
    return formulas.mesh_decode_latency(layers, kappa, band, tau, n_w, tau_h)


def latency_compute_batch():
    r"""The batch at which a decode step's compute catches up with its latency, solved with SymPy.

    A wafer's decode step at batch :math:`b` computes :math:`b F / P` and waits a latency :math:`t_\text{lat}`
    that does not grow with the batch; below the solution the step is latency-bound, above it compute-bound:

    .. math:: b\,\frac{F}{P} = t_\text{lat} \;\Rightarrow\; b^* = \frac{t_\text{lat}\,P}{F}

    Parameters
    ----------
    None; symbols ``b``, ``F``, ``P``, ``t_lat`` (:data:`MESH_SYMBOLS`).

    Returns
    -------
    sympy.Expr
        :math:`b^*` [1].

    Examples
    --------
    >>> latency_compute_batch()
    P*t_lat/F
    """
    import sympy as sp

    b, f, p, t = (_sym(s) for s in ("b", "F", "P", "t_lat"))
    return sp.solve(sp.Eq(b * f / p, t), b)[0]


def handoff_dominant_stages():
    r"""Pipeline stages beyond which the hand-offs between them take longer than every layer together.

    .. math:: (n - 1)\,\tau_h = L\,t_\text{layer} \;\Rightarrow\; n^* = 1 + \frac{L\,t_\text{layer}}{\tau_h}

    Parameters
    ----------
    None; symbols ``n``, ``L``, ``t_layer``, ``tau_h`` (:data:`MESH_SYMBOLS`).

    Returns
    -------
    sympy.Expr
        :math:`n^*` [1].

    Examples
    --------
    >>> handoff_dominant_stages()
    L*t_layer/tau_h + 1
    """
    import sympy as sp

    n, layers, t_layer, tau_h = (_sym(s) for s in ("n", "L", "t_layer", "tau_h"))
    return sp.expand(sp.solve(sp.Eq((n - 1) * tau_h, layers * t_layer), n)[0])


def _setup(model, device, dtype: str, devices, context: int, batch: int):
    m = model if isinstance(model, ModelConfig) else get_model(model)
    dev = device if isinstance(device, Device) else get_device(device)
    prec = Precision.of(dtype)
    return m, dev, prec, place(m, dev, prec, batch, context, devices)


def decode_time_expr(model: str | ModelConfig, device: str | Device, dtype: str = "bf16", devices: int | None = None,
                     mode: Mode | str = Mode.ESTIMATE, context: int = 2048, batch: int = 1, overlap: str = "max"):
    """The engine's decode step of ``model`` on ``device`` as one SymPy expression (every stage of the
    placement, shape symbols ``b`` and ``s`` free, device figures as symbols).

    Parameters
    ----------
    model : str or ModelConfig
        A model key, alias or file, or a model.
    device : str or Device
        A device key or alias, or a device.
    dtype : str
        Data type of weights, activations and KV cache.
    devices : int, optional
        Devices of the placement (default: the fewest that hold the model).
    mode : Mode or str
        ``ideal``, ``latency_bound`` or ``estimate``.
    context, batch : int
        What the placement must hold [1] (the expression stays a function of ``b`` and ``s``).
    overlap : str
        ``max`` or ``sum``.

    Returns
    -------
    tuple of (sympy.Expr, dict)
        The step time [s] and ``{symbol: value}`` of the device's figures at the mode's corner (the best
        corner for a bound, nominal for the estimate).
    """
    from ..engine.terms import time_expr

    m, dev, prec, pl = _setup(model, device, dtype, devices, context, batch)
    wl = llm_workload(m, Phase.DECODE, prec, pl.parallel.step, pl.links)
    expr = time_expr(wl, dev, overlap, home=pl.home, links=pl.links, mode=Mode(mode))
    corner = Corner.NOMINAL if Mode(mode) is Mode.ESTIMATE else Corner.BEST
    return expr, dev.subs(corner)


def evaluate_expr(expr, values, **shapes) -> float:
    """Evaluate an expression of :func:`decode_time_expr` by ``lambdify`` (NumPy), as the engine does: the
    mesh model's extrema and the capacities' ``Piecewise`` become NumPy calls.

    Parameters
    ----------
    expr : sympy.Expr
        The expression.
    values : mapping
        ``{symbol: value}`` of the device's figures (the second item :func:`decode_time_expr` returns).
    **shapes : float
        The shape symbols by name, such as ``b=1, s=2048`` [1].

    Returns
    -------
    float
        The value, in the expression's unit.
    """
    import sympy as sp

    syms = sorted(expr.free_symbols, key=str)
    by_name = {**{str(k): v for k, v in values.items()}, **shapes}
    return float(sp.lambdify(syms, expr, "numpy")(*[by_name[str(x)] for x in syms]))


def decode_latency_s(model: str | ModelConfig, device: str | Device, dtype: str = "bf16",
                     devices: int | None = None, context: int = 2048) -> float:
    """The latency terms of one decode step in the estimate (fabric, hand-off, launch, link) at batch 1 [s].

    Parameters
    ----------
    model, device, dtype, devices, context
        As for :func:`decode_time_expr`.

    Returns
    -------
    float
        [s].
    """
    from .inference import estimate

    e = estimate(model, device, batch=1, context=context, dtype=dtype, devices=devices)
    return sum(v for k, v in e["decode_terms_s"].items() if k in {f"latency:{t}" for t in Latency})


def _flops_per_step(model, device, dtype, devices, context) -> tuple[float, float]:
    """Work of one decode step at batch 1 over the same ops as the estimate's terms [FLOP], and the peak of
    the activations' data type [FLOP/s]."""
    import sympy as sp

    from ..dtypes import peak_dtype

    m, dev, prec, pl = _setup(model, device, dtype, devices, context, 1)
    wl = llm_workload(m, Phase.DECODE, prec, pl.parallel.step, pl.links)
    f = sp.sympify(sp.Add(*[op.count * op.flops for op in wl.ops]))
    f = float(f.subs({s: 1 if s.name == "b" else context for s in f.free_symbols}))
    dt = peak_dtype(prec.activations, dev.compute) or prec.activations
    return f, dev.values()[f"compute.{dt}.dense"]


def crossover_batch(model: str | ModelConfig, device: str | Device, dtype: str = "bf16",
                    devices: int | None = None, context: int = 2048) -> float:
    """:func:`latency_compute_batch` for ``model`` on ``device``: the estimate's step latency, the step's
    work per sequence and the peak of the data type substituted (latency and work over the same ops, so
    the stages of a pipeline cancel) [1].

    Parameters
    ----------
    model, device, dtype, devices, context
        As for :func:`decode_time_expr`.

    Returns
    -------
    float
        The batch at which compute catches up with the latency [1].
    """
    f, p = _flops_per_step(model, device, dtype, devices, context)
    t = decode_latency_s(model, device, dtype, devices, context)
    b = latency_compute_batch()
    return float(b.subs({s: {"F": f, "P": p, "t_lat": t}[s.name] for s in b.free_symbols}))


def handoff_stages(layers: float, layer_time_s: float, handoff_s: float) -> float:
    """:func:`handoff_dominant_stages` with numbers substituted [1].

    Parameters
    ----------
    layers : float
        Layers of the model [1].
    layer_time_s : float
        Time of one layer [s].
    handoff_s : float
        One hand-off between stages [s].

    Returns
    -------
    float
        [1].

    Examples
    --------
    >>> handoff_stages(80, 7e-6, 5e-6)  # 80 layers of 7 us, 5 us per hand-off: 1 + 560/5
    113.0
    """
    n = handoff_dominant_stages()
    vals = {"L": layers, "t_layer": layer_time_s, "tau_h": handoff_s}
    return float(n.subs({s: vals[s.name] for s in n.free_symbols}))
