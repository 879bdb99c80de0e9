"""The physics of roofline, as pure functions over floats, NumPy arrays and SymPy expressions alike.

A leaf module: no devices, no I/O, no strings. Every other room calls these; none writes the arithmetic
again. Names follow :doc:`the nomenclature </nomenclature>`; units are SI (bytes, seconds, FLOP).

Each function accepts a Python number, a broadcasting :class:`numpy.ndarray` or a :class:`sympy.Expr`
and returns the same kind: SymPy is never imported unless a SymPy expression is passed in.
"""

from __future__ import annotations

import functools
import math
import sys

__all__ = [
    "ceil_div",
    "arithmetic_intensity",
    "achieved_performance",
    "decode_attention_pairs",
    "prefill_attention_pairs",
    "ridge_point",
    "attainable_performance",
    "bytes_per_flop",
    "flops_per_watt",
    "kv_cache_elements",
    "expected_experts_touched",
    "all_reduce_bytes",
    "all_reduce_steps",
    "all_to_all_bytes",
    "expected_groups_touched",
    "expert_exchange_bytes",
    "pipeline_cycle_time",
    "mean_decode_context",
    "prefill_tokens_per_step",
    "transfer_time",
    "energy_per_token",
    "usd_per_million_tokens",
    "tokens_per_s_per_mw",
    "growth_per_two_years",
    "interval_mul",
    "interval_div",
    "expected_tokens_per_step",
    "expected_tokens_per_step_positional",
    "speculative_speedup",
    "speculative_speedup_at_batch",
    "optimal_draft_tokens",
    "speculative_break_even_batch",
    "collective_bytes",
    "tree_steps",
    "line_hops",
    "ring_hops",
    "grid_diameter",
    "grid_radius",
    "group_shape",
    "collective_time",
    "mesh_cells",
    "mesh_band_crossing",
    "mesh_reduction_bound",
    "mesh_decode_latency",
    "latency_compute_crossover_batch",
    "handoff_dominance_stages",
]


def _is_sym(*xs) -> bool:
    sp = sys.modules.get("sympy")
    return any(type(x).__module__.startswith("sympy") or (sp is not None and isinstance(x, sp.Basic)) for x in xs)


def _mod(a, b: int):
    """``a mod b`` for a Python number, an array or a SymPy expression (``b`` a positive integer)."""
    if _is_sym(a):
        import sympy as sp

        return sp.Mod(a, b)
    return a % b
def _maximum(a, b):
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return max(a, b)
    if _is_sym(a, b):
        import sympy as sp

        return sp.Max(a, b)
    import numpy as np

    return np.maximum(a, b)


def _minimum(a, b):
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return min(a, b)
    if _is_sym(a, b):
        import sympy as sp

        return sp.Min(a, b)
    import numpy as np

    return np.minimum(a, b)


@functools.lru_cache(maxsize=None)
def _cheap_extrema():
    """``least(a, b)`` and ``most(a, b)``: SymPy functions that, unlike ``Min`` and ``Max``, do not try to
    order their arguments when built (which takes seconds for the mesh expressions of a whole model); they
    print as ``numpy.minimum`` / ``numpy.maximum`` and as Python's ``min`` / ``max``, and differentiate."""
    import sympy as sp

    def _make(name: str, pick, np_name: str, py_name: str):
        def _eval(cls, a, b):
            if a.is_Number and b.is_Number:
                return pick(a, b)
            return None

        def _fdiff(self, argindex=1):
            a, b = self.args
            first = sp.Heaviside(b - a) if np_name == "minimum" else sp.Heaviside(a - b)
            return first if argindex == 1 else 1 - first

        def _np(self, printer):
            return f"{printer._module_format('numpy.' + np_name)}({printer._print(self.args[0])}, " \
                   f"{printer._print(self.args[1])})"

        def _py(self, printer):
            return f"{py_name}({printer._print(self.args[0])}, {printer._print(self.args[1])})"

        return type(name, (sp.Function,), {"nargs": 2, "eval": classmethod(_eval), "fdiff": _fdiff,
                                            "_numpycode": _np, "_pythoncode": _py, "is_real": True})

    return (_make("least", lambda a, b: sp.Min(a, b), "minimum", "min"),
            _make("most", lambda a, b: sp.Max(a, b), "maximum", "max"))


def _lo(a, b):
    """The smaller of ``a`` and ``b``; on SymPy input a :func:`_cheap_extrema` ``least``."""
    if _is_sym(a, b):
        return _cheap_extrema()[0](a, b)
    return _minimum(a, b)


def _hi(a, b):
    """The larger of ``a`` and ``b``; on SymPy input a :func:`_cheap_extrema` ``most``."""
    if _is_sym(a, b):
        return _cheap_extrema()[1](a, b)
    return _maximum(a, b)


def _sqrt(x):
    if _is_sym(x):
        import sympy as sp

        return sp.sqrt(x)
    np = sys.modules.get("numpy")  # an array means NumPy is loaded; a number never loads it
    return np.sqrt(x) if np is not None and isinstance(x, np.ndarray) else math.sqrt(x)


def ceil_div(a: int, b: int) -> int:
    """The smallest integer not below ``a / b`` for positive integers.

    Parameters
    ----------
    a, b : int
        Numerator and denominator [1].

    Returns
    -------
    int
        :math:`\\lceil a / b \\rceil` [1].

    Examples
    --------
    >>> ceil_div(64, 3)
    22
    """
    return -(-a // b)


def ridge_point(peak_flops_per_s, bandwidth_bytes_per_s):
    """Ridge point, or machine balance: the arithmetic intensity above which a kernel is compute-bound.

    .. math:: I^* = \\frac{P}{BW}

    Parameters
    ----------
    peak_flops_per_s : float, ndarray or sympy.Expr
        :term:`Peak compute <P>` [FLOP/s].
    bandwidth_bytes_per_s : float, ndarray or sympy.Expr
        :term:`Bandwidth <BW>` of the memory level [B/s].

    Returns
    -------
    float, ndarray or sympy.Expr
        Ridge point [FLOP/B].

    References
    ----------
    S. Williams, A. Waterman, D. Patterson, "Roofline: an insightful visual performance model for
    multicore architectures", CACM 52(4), 2009.

    Examples
    --------
    >>> round(ridge_point(989.4e12, 3.35e12), 1)  # H100 SXM, BF16 dense, against HBM
    295.3
    """
    return peak_flops_per_s / bandwidth_bytes_per_s


def attainable_performance(intensity, peak_flops_per_s, bandwidth_bytes_per_s):
    """Attainable performance of a kernel of arithmetic intensity ``intensity``.

    .. math:: P_\\text{att} = \\min(P,\\; BW \\cdot I)

    Parameters
    ----------
    intensity : float, ndarray or sympy.Expr
        :term:`Arithmetic intensity <I>` [FLOP/B].
    peak_flops_per_s : float, ndarray or sympy.Expr
        :term:`Peak compute <P>` [FLOP/s].
    bandwidth_bytes_per_s : float, ndarray or sympy.Expr
        :term:`Bandwidth <BW>` [B/s].

    Returns
    -------
    float, ndarray or sympy.Expr
        Attainable rate [FLOP/s].

    References
    ----------
    Williams, Waterman and Patterson, CACM 52(4), 2009.

    Examples
    --------
    >>> float(attainable_performance(1.0, 989.4e12, 3.35e12))  # a GEMV on an H100: memory-bound
    3350000000000.0
    """
    return _minimum(peak_flops_per_s, bandwidth_bytes_per_s * intensity)


def bytes_per_flop(bandwidth_bytes_per_s, peak_flops_per_s):
    """Bytes a device can move per FLOP it can compute: the inverse of the ridge point.

    .. math:: \\beta = \\frac{BW}{P}

    Parameters
    ----------
    bandwidth_bytes_per_s : float, ndarray or sympy.Expr
        [B/s].
    peak_flops_per_s : float, ndarray or sympy.Expr
        [FLOP/s].

    Returns
    -------
    float, ndarray or sympy.Expr
        [B/FLOP].

    References
    ----------
    Williams, Waterman and Patterson, CACM 52(4), 2009 (the inverse of the ridge point).

    Examples
    --------
    >>> round(bytes_per_flop(3.35e12, 989.4e12), 5)
    0.00339
    """
    return bandwidth_bytes_per_s / peak_flops_per_s


def flops_per_watt(peak_flops_per_s, power_w):
    """Peak compute per watt of power.

    .. math:: \\eta = \\frac{P}{W}

    Parameters
    ----------
    peak_flops_per_s : float, ndarray or sympy.Expr
        [FLOP/s].
    power_w : float, ndarray or sympy.Expr
        :term:`Power <W>` [W].

    Returns
    -------
    float, ndarray or sympy.Expr
        [FLOP/J].

    Examples
    --------
    >>> round(flops_per_watt(989.4e12, 700) / 1e12, 4)  # H100 SXM: TFLOP/s per watt
    1.4134
    """
    return peak_flops_per_s / power_w


def kv_cache_elements(batch, context, layers: int, per_token_per_layer: int, window_layers: int = 0,
                      window: int = 0, chunk_layers: int = 0, chunk: int = 0):
    """Elements the KV cache holds for ``batch`` sequences of ``context`` tokens.

    Full-attention layers keep every token; sliding-window (local) layers keep at most ``window``, and
    chunked-attention layers at most one ``chunk`` (a token attends only to its own chunk's keys: the
    most a sequence holds up to ``context``, what its memory must allow):

    .. math:: N_{KV} = b \\cdot e \\cdot \\big((L - L_w - L_c)\\, s + L_w \\min(s, w) + L_c \\min(s, c)\\big)

    Parameters
    ----------
    batch : float, ndarray or sympy.Expr
        :term:`Sequences in flight <b>` [1].
    context : float, ndarray or sympy.Expr
        :term:`Tokens per sequence <s>` [1].
    layers : int
        Transformer layers :math:`L` [1].
    per_token_per_layer : int
        Elements one token stores in one layer, :math:`e` [1]: :math:`2 n_{kv} d_h` for (grouped-query)
        attention, :math:`r_{kv} + d_{rope}` for multi-head latent attention.
    window_layers : int
        Layers with a sliding window, :math:`L_w` [1].
    window : int
        The window :math:`w`, in tokens [1].
    chunk_layers : int
        Layers with chunked attention, :math:`L_c` [1].
    chunk : int
        The chunk :math:`c`, in tokens [1].

    Returns
    -------
    float, ndarray or sympy.Expr
        Elements [1]; multiply by the KV data type's bytes per element for bytes.

    References
    ----------
    Llama-3-70B: 8 KV heads of 128 over 80 layers hold 2·8·128·80 = 163,840 values per token
    (the grouped-query attention pitfall in ``shared/reference/modelling-pitfalls.md``). Chunked attention:
    Meta, Llama 4 (``attention_chunk_size`` 8192 in the models' config.json; Hugging Face transformers'
    ``Llama4TextAttention``).

    Examples
    --------
    >>> kv_cache_elements(1, 1, 80, 2 * 8 * 128)
    163840
    >>> kv_cache_elements(1, 8192, 2, 100, window_layers=1, window=128)  # one full, one local layer
    832000
    >>> kv_cache_elements(1, 20000, 4, 1, chunk_layers=3, chunk=8192)   # 20,000 + 3 x 8,192
    44576
    """
    full = layers - window_layers - chunk_layers
    if window_layers or chunk_layers:
        kept = full * context
        if window_layers:
            kept = kept + window_layers * _minimum(context, window)
        if chunk_layers:
            kept = kept + chunk_layers * _minimum(context, chunk)
        return batch * per_token_per_layer * kept
    return batch * per_token_per_layer * layers * context


def expected_experts_touched(experts, experts_per_token: int, total_experts: int, tokens):
    """Expected number of distinct experts, of ``experts`` held by a device, that a step's tokens pick.

    Each of ``tokens`` tokens picks ``k`` of ``E`` experts, so a given expert is missed by all of them with
    probability :math:`(1 - k/E)^T` (uniform routing, independent tokens):

    .. math:: E_\\text{touched} = E_\\text{dev} \\left(1 - \\left(1 - \\frac{k}{E}\\right)^{T}\\right)

    Parameters
    ----------
    experts : float or sympy.Expr
        Experts held by the device, :math:`E_\\text{dev}` [1].
    experts_per_token : int
        Experts each token is routed to, :math:`k` [1].
    total_experts : int
        Routed experts in the layer, :math:`E` [1].
    tokens : float, ndarray or sympy.Expr
        Tokens routed in the step, :math:`T` (batch × tokens per sequence) [1].

    Returns
    -------
    float, ndarray or sympy.Expr
        Experts whose weights are read in the step [1].

    Examples
    --------
    >>> round(expected_experts_touched(8, 2, 8, 1), 6)  # Mixtral, one token: exactly its 2 experts
    2.0
    >>> round(expected_experts_touched(256, 8, 256, 64), 2)  # DeepSeek-V3, 64 tokens
    222.44
    """
    if _is_sym(experts, tokens):
        import sympy as sp

        return experts * (1 - (1 - sp.Rational(experts_per_token, total_experts)) ** tokens)
    if isinstance(tokens, (int, float)):
        return experts * (1 - (1 - experts_per_token / total_experts) ** tokens)
    import numpy as np

    return experts * (1 - (1 - experts_per_token / total_experts) ** np.asarray(tokens, dtype=float))


def all_reduce_bytes(message_bytes, devices: int):
    """Bytes each device sends in a bandwidth-optimal (ring) all-reduce of a ``message_bytes`` message.

    A reduce-scatter then an all-gather, each moving :math:`(n-1)/n` of the message per device; no
    algorithm sends less, so the figure keeps the roofline a bound.

    .. math:: Q_{AR} = 2 \\frac{n-1}{n} M

    Parameters
    ----------
    message_bytes : float, ndarray or sympy.Expr
        :math:`M` [B].
    devices : int
        :math:`n` [1].

    Returns
    -------
    float, ndarray or sympy.Expr
        [B] per device.

    References
    ----------
    P. Patarasuk and X. Yuan, "Bandwidth optimal all-reduce algorithms for clusters of workstations",
    J. Parallel Distrib. Comput. 69(2), 2009.

    Examples
    --------
    >>> all_reduce_bytes(16384, 8)
    28672.0
    """
    if _is_sym(message_bytes):
        import sympy as sp

        return 2 * sp.Rational(devices - 1, devices) * message_bytes
    return 2 * (devices - 1) / devices * message_bytes


def all_reduce_steps(devices: int) -> int:
    """Latency-bearing message steps of a latency-optimal all-reduce (recursive doubling or a tree).

    .. math:: n_{AR} = 2 \\lceil \\log_2 n \\rceil

    Parameters
    ----------
    devices : int
        :math:`n` [1].

    Returns
    -------
    int
        Steps [1]; 0 for one device.

    References
    ----------
    R. Thakur, R. Rabenseifner, W. Gropp, "Optimization of collective communication operations in
    MPICH", IJHPCA 19(1), 2005.

    Examples
    --------
    >>> all_reduce_steps(8)
    6
    """
    return 2 * math.ceil(math.log2(devices)) if devices > 1 else 0


def all_to_all_bytes(tokens, experts_per_token: int, d_model: int, bytes_per_element, devices: int):
    """Bytes each device sends in one expert dispatch (or combine) all-to-all.

    Every routed (token, expert) pair moves one hidden state of ``d_model`` elements, and a fraction
    :math:`(n-1)/n` of them go to another device:

    .. math:: Q_{A2A} = T k d \\cdot \\text{bpe} \\cdot \\frac{n-1}{n}

    Parameters
    ----------
    tokens : float, ndarray or sympy.Expr
        Tokens :math:`T` whose routed pairs this device sends [1].
    experts_per_token : int
        :math:`k` [1].
    d_model : int
        Hidden size :math:`d` [1].
    bytes_per_element : float or sympy.Expr
        Activation data type [B].
    devices : int
        Devices the experts are spread over, :math:`n` [1].

    Returns
    -------
    float, ndarray or sympy.Expr
        [B] per device.

    Examples
    --------
    >>> all_to_all_bytes(1, 8, 7168, 2, 8)  # one DeepSeek-V3 token over 8 GPUs
    100352.0
    """
    if _is_sym(tokens, bytes_per_element):
        import sympy as sp

        return tokens * experts_per_token * d_model * bytes_per_element * sp.Rational(devices - 1, devices)
    return tokens * experts_per_token * d_model * bytes_per_element * (devices - 1) / devices


def expected_groups_touched(experts_per_token: int, total_experts: int, groups: float) -> float:
    """Expected number of distinct groups (devices, or nodes) that hold a token's routed experts.

    The :math:`E` routed experts are spread evenly over :math:`g` groups of :math:`E/g` experts; a token
    picks :math:`k` distinct experts uniformly. A given group holds none of them with probability
    :math:`\\binom{E - E/g}{k} / \\binom{E}{k}`, so

    .. math:: G = g \\left(1 - \\prod_{i=0}^{k-1} \\frac{E - E/g - i}{E - i}\\right)

    (the product is the ratio of binomials, valid for a fractional :math:`E/g` as well, and 0 once a
    factor reaches 0). A token's hidden state has to reach each such group once: the group fans it out
    to its experts itself, as DeepEP's dispatch does.

    Parameters
    ----------
    experts_per_token : int
        :math:`k` [1].
    total_experts : int
        :math:`E` [1].
    groups : float
        :math:`g` [1]: devices (or nodes) the experts are spread over.

    Returns
    -------
    float
        :math:`G` [1]: at most :math:`\\min(k, g)`, and 1 for one group.

    References
    ----------
    DeepSeek-AI, "DeepEP: an efficient expert-parallel communication library" (dispatch sends a token
    once per destination rank and node), https://github.com/deepseek-ai/DeepEP, 2025.

    Examples
    --------
    >>> round(expected_groups_touched(8, 256, 8), 4)     # DeepSeek-V3 over 8 GPUs of 32 experts
    5.2947
    >>> expected_groups_touched(2, 8, 1)                 # one group holds everything
    1.0
    """
    g = float(groups)
    if g <= 1:
        return 1.0
    per = total_experts / g
    miss = 1.0
    for i in range(experts_per_token):
        miss *= max(0.0, (total_experts - per - i) / (total_experts - i))
    return g * (1.0 - miss)


def expert_exchange_bytes(tokens, d_model: int, bytes_per_element, destinations):
    """Bytes one device sends in one expert dispatch (or receives in one combine) under data-parallel
    attention, where each device owns its own tokens.

    Each of the device's :math:`T_\\text{own}` tokens sends its hidden state once to every *other*
    destination that holds one of its experts (:math:`D` of them in expectation):

    .. math:: Q = T_\\text{own}\\, D\\, d \\cdot \\text{bpe}

    With tensor-parallel attention no dispatch is needed (every device already holds every token of the
    step) and the combine is an all-reduce (:func:`all_reduce_bytes`).

    Parameters
    ----------
    tokens : float, ndarray or sympy.Expr
        :math:`T_\\text{own}`, tokens this device owns in the step [1].
    d_model : int
        Hidden size :math:`d` [1].
    bytes_per_element : float or sympy.Expr
        Data type of the exchanged hidden states [B].
    destinations : float
        :math:`D`, expected other devices (or other nodes) a token is sent to
        (:func:`expected_groups_touched` times :math:`(g-1)/g`) [1].

    Returns
    -------
    float, ndarray or sympy.Expr
        [B] per device.

    Examples
    --------
    >>> expert_exchange_bytes(1, 7168, 1, 4.0)   # one token to 4 other GPUs in FP8
    28672.0
    """
    if _is_sym(tokens, bytes_per_element):
        import sympy as sp

        return tokens * d_model * bytes_per_element * sp.nsimplify(destinations)
    return tokens * d_model * bytes_per_element * float(destinations)


def pipeline_cycle_time(time_all_stages_s, stages: int, micro_batches: int):
    """Time for every micro-batch in flight through a pipeline to advance one step.

    A step of one micro-batch crosses all :math:`p` stages one after another (:math:`t_\\text{all}`, the sum
    of the stages' times); with :math:`m` micro-batches in flight the stages work on different micro-batches
    at once, and in steady state each stage is busy :math:`m\\,t_\\text{all}/p` per round (balanced stages:
    the slowest is at least the average, so this is a lower bound on the round):

    .. math:: t_\\text{cycle} = \\max\\left(t_\\text{all},\\; \\frac{m\\,t_\\text{all}}{p}\\right)

    It is the time per output token of every sequence; the pipeline produces :math:`m b_\\mu` tokens per
    cycle, so up to :math:`m = p` micro-batches multiply the throughput by :math:`m` at the same latency.

    Parameters
    ----------
    time_all_stages_s : float, ndarray or sympy.Expr
        :math:`t_\\text{all}`, one micro-batch's step through every stage, hand-offs included [s].
    stages : int
        :math:`p` [1].
    micro_batches : int
        :math:`m` [1].

    Returns
    -------
    float, ndarray or sympy.Expr
        [s].

    References
    ----------
    Y. Huang et al., "GPipe: Efficient Training of Giant Neural Networks using Pipeline Parallelism",
    NeurIPS 2019 (micro-batches keep the stages busy).

    Examples
    --------
    >>> pipeline_cycle_time(0.04, 4, 1), pipeline_cycle_time(0.04, 4, 4), pipeline_cycle_time(0.04, 4, 8)
    (0.04, 0.04, 0.08)
    """
    return time_all_stages_s * max(1.0, micro_batches / stages)


def mean_decode_context(input_tokens, output_tokens):
    """Mean number of tokens in a sequence's KV cache over its decode steps.

    The :math:`O` decode steps of a request with :math:`I` input tokens attend over :math:`I, I+1, \\dots,
    I+O-1` tokens; under continuous batching the sequences in flight are spread evenly over those steps,
    so a step reads, per sequence, the mean

    .. math:: \\bar s = I + \\frac{O - 1}{2}

    Parameters
    ----------
    input_tokens : float or ndarray
        :math:`I` [1].
    output_tokens : float or ndarray
        :math:`O` [1].

    Returns
    -------
    float or ndarray
        [1].

    Examples
    --------
    >>> mean_decode_context(1000, 1001)
    1500.0
    """
    return input_tokens + (output_tokens - 1) / 2


def prefill_tokens_per_step(batch, input_tokens, output_tokens):
    """Prompt tokens each step of a continuously batched machine must prefill to keep ``batch`` busy.

    In steady state :math:`b/O` requests finish per decode step (each stays :math:`O` steps), so as many
    start, each with :math:`I` prompt tokens to prefill:

    .. math:: T_\\text{prefill} = \\frac{b\\,I}{O}

    Parameters
    ----------
    batch : float or ndarray
        Sequences decoding in each step, :math:`b` [1].
    input_tokens : float
        :math:`I` [1].
    output_tokens : float
        :math:`O` [1].

    Returns
    -------
    float or ndarray
        [1] per step.

    References
    ----------
    A. Agrawal et al., "Taming Throughput-Latency Tradeoff in LLM Inference with Sarathi-Serve", OSDI 2024
    (prefill chunks ride along with decode steps).

    Examples
    --------
    >>> prefill_tokens_per_step(64, 2000, 500)
    256.0
    """
    return batch * input_tokens / output_tokens


def transfer_time(message_bytes, bandwidth_bytes_per_s, latency_s=0.0):
    """Time to move a message over a link: bandwidth term plus one latency.

    .. math:: t = \\frac{Q}{BW} + \\tau

    Parameters
    ----------
    message_bytes : float or ndarray
        :math:`Q` [B].
    bandwidth_bytes_per_s : float or ndarray
        :math:`BW`, in the direction of travel [B/s].
    latency_s : float or ndarray
        :math:`\\tau` [s].

    Returns
    -------
    float or ndarray
        [s].

    Examples
    --------
    >>> transfer_time(50e9, 50e9, 5e-6)
    1.000005
    """
    return message_bytes / bandwidth_bytes_per_s + latency_s


def energy_per_token(power_w, devices, time_per_step_s, tokens_per_step):
    """Energy per generated token at full power.

    .. math:: E_\\text{tok} = \\frac{W \\cdot n \\cdot t}{b}

    Parameters
    ----------
    power_w : float, ndarray or sympy.Expr
        :term:`Power <W>` of one device [W].
    devices : int
        Devices running the model [1].
    time_per_step_s : float, ndarray or sympy.Expr
        Time of one decode step [s].
    tokens_per_step : float, ndarray or sympy.Expr
        Tokens one step produces (the batch) [1].

    Returns
    -------
    float, ndarray or sympy.Expr
        [J] per token.

    Examples
    --------
    >>> energy_per_token(700, 8, 0.02, 16)
    7.0
    """
    return power_w * devices * time_per_step_s / tokens_per_step


def usd_per_million_tokens(price_usd_per_device_hour, devices, tokens_per_s):
    """What a million generated tokens cost at a rental price per device-hour.

    The system's devices are rented for the time the tokens take:

    .. math:: C_{10^6} = \\frac{p \\cdot n}{3600 \\cdot R} \\cdot 10^6

    Parameters
    ----------
    price_usd_per_device_hour : float, ndarray or sympy.Expr
        Price of one device for one hour, :math:`p` [USD/h].
    devices : int, float or ndarray
        Devices running the model, :math:`n` [1].
    tokens_per_s : float, ndarray or sympy.Expr
        Tokens the system generates per second, :math:`R` [1/s].

    Returns
    -------
    float, ndarray or sympy.Expr
        [USD] per million tokens.

    References
    ----------
    The price table's header (``prices/cloud-prices.toml``): USD per million tokens = price per
    device-hour x devices / (tokens per second x 3600) x 1e6.

    Examples
    --------
    >>> usd_per_million_tokens(3.6, 2, 1000.0)   # 7.20 USD/h buys 3.6 million tokens at 1000 tokens/s
    2.0
    """
    return price_usd_per_device_hour * devices / (tokens_per_s * 3600) * 1e6


def tokens_per_s_per_mw(tokens_per_s, power_w, devices):
    """Tokens per second for each megawatt the devices draw at full power.

    .. math:: R_\\text{MW} = \\frac{R}{n \\cdot W} \\cdot 10^6

    Parameters
    ----------
    tokens_per_s : float, ndarray or sympy.Expr
        Tokens the system generates per second, :math:`R` [1/s].
    power_w : float, ndarray or sympy.Expr
        :term:`Power <W>` of one device [W].
    devices : int, float or ndarray
        Devices running the model, :math:`n` [1].

    Returns
    -------
    float, ndarray or sympy.Expr
        [1/(s MW)].

    Examples
    --------
    >>> tokens_per_s_per_mw(7000.0, 700, 8)   # 8 x 700 W = 5.6 kW
    1250000.0
    """
    return tokens_per_s / (devices * power_w) * 1e6


def growth_per_two_years(years, values) -> float:
    """Growth factor per two years of ``values`` over ``years``: a least-squares line through their logs.

    .. math:: g = e^{2a}, \\quad \\ln v = a\\,t + c

    Parameters
    ----------
    years : array_like
        Years [a].
    values : array_like
        Positive values (peaks, bandwidths) in any one unit.

    Returns
    -------
    float
        Factor per two years [1].

    References
    ----------
    A. Gholami et al., "AI and Memory Wall", IEEE Micro 44(3), 2024 (3.0× per two years for peak
    compute, 1.6× for DRAM bandwidth).

    Examples
    --------
    >>> round(growth_per_two_years([2020, 2022, 2024], [1, 3, 9]), 6)
    3.0
    """
    import numpy as np

    y = np.log(np.asarray(values, dtype=float))
    t = np.asarray(years, dtype=float)
    return float(math.exp(2 * np.polyfit(t, y, 1)[0]))


def interval_mul(a: tuple[float, float], b: tuple[float, float]) -> tuple[float, float]:
    """The product of two intervals ``(low, high)``: the range of :math:`x y` over both.

    Parameters
    ----------
    a, b : tuple of float
        Intervals ``(low, high)``, each in its own unit.

    Returns
    -------
    tuple of float
        ``(low, high)`` in the product of the units.

    Examples
    --------
    >>> interval_mul((1, 2), (-3, 4))
    (-6, 8)
    """
    c = (a[0] * b[0], a[0] * b[1], a[1] * b[0], a[1] * b[1])
    return min(c), max(c)


def interval_div(a: tuple[float, float], b: tuple[float, float]) -> tuple[float, float]:
    """The quotient of two intervals; the divisor must not contain zero.

    Parameters
    ----------
    a, b : tuple of float
        Intervals ``(low, high)``, each in its own unit; ``b`` strictly positive or strictly negative.

    Returns
    -------
    tuple of float
        ``(low, high)`` in the quotient of the units.

    Raises
    ------
    ZeroDivisionError
        When ``b`` contains zero.

    Examples
    --------
    >>> interval_div((1, 2), (4, 8))
    (0.125, 0.5)
    """
    if b[0] <= 0 <= b[1]:
        raise ZeroDivisionError("interval division by an interval that contains zero")
    c = (a[0] / b[0], a[0] / b[1], a[1] / b[0], a[1] / b[1])  # each divided directly: one rounding
    return min(c), max(c)


def decode_attention_pairs(context, window: int = 0, chunk: int = 0, tokens=1):
    """(query, key) pairs one head scores for the new tokens of a sequence in a decode (or verify) step.

    Each new token attends to every token in the KV cache, to the last ``window`` of them in a
    sliding-window layer, or to the cached tokens of its own chunk in a chunked-attention layer (the chunk
    began at the last multiple of :math:`c`: :math:`s \\bmod c` keys). A speculative verify step scores :math:`q = \\gamma + 1` tokens at once, and the
    :math:`i`-th of them also attends to the :math:`i - 1` new tokens before it (counted without a window;
    with one, the window bounds the growth and the term is left out, which keeps the count a lower bound):

    .. math::

        N_\\text{pairs} = q \\min(s, w) + \\frac{q (q - 1)}{2} \\quad\\text{(full)}, \\qquad
        N_\\text{pairs} = q \\min(s, w) \\quad\\text{(sliding window)}, \\qquad
        N_\\text{pairs} = q\\,(s \\bmod c) \\quad\\text{(chunked)}

    Parameters
    ----------
    context : float, ndarray or sympy.Expr
        :term:`Tokens in the KV cache <s>` [1].
    window : int
        The sliding window :math:`w` [tokens]; 0 for full attention.
    chunk : int
        The attention chunk :math:`c` [tokens]; 0 for none. Takes precedence over ``window``.
    tokens : int, float, ndarray or sympy.Expr
        :term:`Tokens per sequence in the step <q>`, :math:`q` [1]: 1 for plain decode.

    Returns
    -------
    float, ndarray or sympy.Expr
        Pairs per head per sequence [1].

    References
    ----------
    Chunked attention: Meta, Llama 4 (``attention_chunk_size``); a query attends to the keys with
    :math:`\\lfloor j / c \\rfloor = \\lfloor i / c \\rfloor`, :math:`j \\le i` (Hugging Face transformers,
    ``chunked_causal_mask``).

    Examples
    --------
    >>> decode_attention_pairs(8192), decode_attention_pairs(8192, 128)
    (8192, 128)
    >>> decode_attention_pairs(10000, chunk=8192)   # 10,000 - 8,192 tokens of its chunk are cached
    1808
    >>> decode_attention_pairs(8192, tokens=5)   # 5 x 8192 + 5 x 4 / 2
    40970
    """
    if chunk:
        # a chunked layer: the keys of the token's own chunk; several new tokens (a verify step) count the
        # cached part of the chunk for each, a lower bound as for a window
        base = _mod(context, chunk)
        return base if isinstance(tokens, int) and tokens == 1 else tokens * base
    if isinstance(tokens, int) and tokens == 1:
        return _minimum(context, window) if window else context
    if window:
        return tokens * _minimum(context, window)
    return tokens * context + tokens * (tokens - 1) // 2 if isinstance(tokens, int) \
        else tokens * context + tokens * (tokens - 1) / 2


def prefill_attention_pairs(prompt, window: int = 0, chunk: int = 0):
    """(query, key) pairs one head scores in a causal prefill of ``prompt`` tokens.

    Query :math:`i` attends to :math:`\\min(i, w)` keys; summed over the prompt (as a continuous
    approximation, which drops terms of order :math:`p` against :math:`p^2`). With chunks of :math:`c`
    tokens each full chunk is a causal prefill of its own, and the remainder :math:`r = p \\bmod c` another:

    .. math::

        N_\\text{pairs} = \\frac{p^2}{2} \\quad\\text{(full)}, \\qquad
        N_\\text{pairs} = p\\,w' - \\frac{w'^2}{2},\\; w' = \\min(p, w) \\quad\\text{(sliding window)}, \\qquad
        N_\\text{pairs} = (p - r)\\,\\frac{c}{2} + \\frac{r^2}{2} \\quad\\text{(chunked)}

    Parameters
    ----------
    prompt : float, ndarray or sympy.Expr
        :term:`Prompt tokens per sequence <p>` [1].
    window : int
        The sliding window :math:`w` [tokens]; 0 for full attention.
    chunk : int
        The attention chunk :math:`c` [tokens]; 0 for none. Takes precedence over ``window``.

    Returns
    -------
    float, ndarray or sympy.Expr
        Pairs per head per sequence [1].

    Examples
    --------
    >>> prefill_attention_pairs(4096)
    8388608.0
    >>> prefill_attention_pairs(8192, 128)   # 8192 x 128 - 128^2 / 2
    1040384.0
    >>> prefill_attention_pairs(20000, chunk=8192)   # two chunks of 8192^2 / 2, then 3616^2 / 2
    73646592.0
    """
    if chunk:
        r = _mod(prompt, chunk)
        return (prompt - r) * chunk / 2 + r**2 / 2
    if window:
        w = _minimum(prompt, window)
        return prompt * w - w**2 / 2
    return prompt**2 / 2


def arithmetic_intensity(flops, bytes_moved):
    """Arithmetic intensity: the work done per byte moved.

    .. math:: I = \\frac{F}{Q}

    Parameters
    ----------
    flops : float, ndarray or sympy.Expr
        Work [FLOP].
    bytes_moved : float, ndarray or sympy.Expr
        Traffic to and from memory [B].

    Returns
    -------
    float, ndarray or sympy.Expr
        :term:`Arithmetic intensity <I>` [FLOP/B].

    References
    ----------
    S. Williams, A. Waterman, D. Patterson, "Roofline: an insightful visual performance model for
    multicore architectures", CACM 52(4), 2009.

    Examples
    --------
    >>> arithmetic_intensity(2 * 8192 * 8192, 2 * 8192 * 8192)  # a BF16 GEMV: 2 FLOP per 2-byte weight
    1.0
    """
    return flops / bytes_moved


def achieved_performance(flops, time_s):
    """The rate a workload achieves: its work over its time.

    .. math:: P = \\frac{F}{t}

    Parameters
    ----------
    flops : float, ndarray or sympy.Expr
        Work [FLOP].
    time_s : float, ndarray or sympy.Expr
        Time [s].

    Returns
    -------
    float, ndarray or sympy.Expr
        [FLOP/s].

    Examples
    --------
    >>> achieved_performance(1.0995e12, 1.1113e-3) / 1e12  # doctest: +ELLIPSIS
    989.38...
    """
    return flops / time_s


# ------------------------------------------------------------------------------------------------------
# speculative decoding
# ------------------------------------------------------------------------------------------------------
def expected_tokens_per_step(acceptance, draft_tokens):
    """Expected tokens one speculative step emits: the accepted prefix of the drafted tokens, plus one.

    The draft proposes :math:`\\gamma` tokens; the verify step accepts each with probability
    :math:`\\alpha` until the first rejection, then adds one token of its own (the correction, or the bonus
    token after a full acceptance). The accepted prefix is a truncated geometric variable:

    .. math::

        E[\\text{tokens}] = \\sum_{k=0}^{\\gamma} \\alpha^k = \\frac{1 - \\alpha^{\\gamma + 1}}{1 - \\alpha}
        \\qquad (\\gamma + 1 \\text{ at } \\alpha = 1)

    Parameters
    ----------
    acceptance : float, ndarray or sympy.Expr
        :term:`Acceptance rate <alpha>` :math:`\\alpha` of a drafted token, between 0 and 1 [1].
    draft_tokens : int, ndarray or sympy.Expr
        :term:`Draft tokens per step <gamma>` :math:`\\gamma` [1].

    Returns
    -------
    float, ndarray or sympy.Expr
        Tokens per step [1], between 1 and :math:`\\gamma + 1`.

    References
    ----------
    Y. Leviathan, M. Kalman and Y. Matias, "Fast Inference from Transformers via Speculative Decoding",
    ICML 2023 (arXiv 2211.17192), equation (1); C. Chen et al., "Accelerating Large Language Model
    Decoding with Speculative Sampling", arXiv 2302.01318, 2023.

    Examples
    --------
    >>> round(expected_tokens_per_step(0.8, 4), 4)    # 1 + 0.8 + 0.64 + 0.512 + 0.4096
    3.3616
    >>> expected_tokens_per_step(1.0, 4), expected_tokens_per_step(0.0, 4)
    (5.0, 1.0)
    """
    if _is_sym(acceptance, draft_tokens):
        return (1 - acceptance ** (draft_tokens + 1)) / (1 - acceptance)
    if isinstance(acceptance, (int, float)) and isinstance(draft_tokens, (int, float)):
        if acceptance == 1:
            return float(draft_tokens + 1)
        return (1 - acceptance ** (draft_tokens + 1)) / (1 - acceptance)
    import numpy as np

    a = np.asarray(acceptance, dtype=float)
    g = np.asarray(draft_tokens, dtype=float)
    one = a == 1.0
    safe = np.where(one, 0.5, a)
    return np.where(one, g + 1.0, (1 - safe ** (g + 1)) / (1 - safe))


def expected_tokens_per_step_positional(acceptances):
    """Expected tokens per speculative step when each draft position has its own acceptance rate.

    :math:`\\alpha_k` is the probability that the :math:`k`-th drafted token is accepted *given* that the
    tokens before it were (a conditional rate; with every :math:`\\alpha_k = \\alpha` this is
    :func:`expected_tokens_per_step`). Serving engines often print *unconditional* per-position rates
    :math:`p_k = \\prod_{i \\le k} \\alpha_i` instead; then :math:`E = 1 + \\sum_k p_k`.

    .. math:: E[\\text{tokens}] = 1 + \\sum_{k=1}^{\\gamma} \\prod_{i=1}^{k} \\alpha_i

    Parameters
    ----------
    acceptances : sequence of float, ndarray or sympy.Expr
        :math:`\\alpha_1, \\dots, \\alpha_\\gamma`, each between 0 and 1 [1]; its length is the draft length.

    Returns
    -------
    float, ndarray or sympy.Expr
        Tokens per step [1].

    References
    ----------
    Leviathan, Kalman and Matias, ICML 2023 (arXiv 2211.17192), section 3.3, with the i.i.d. assumption
    on :math:`\\alpha` relaxed to one rate per position.

    Examples
    --------
    >>> round(expected_tokens_per_step_positional([0.9, 0.8, 0.7]), 4)   # 1 + 0.9 + 0.72 + 0.504
    3.124
    """
    expected, prefix = 1.0, 1.0
    for a in acceptances:
        prefix = prefix * a
        expected = expected + prefix
    return expected


def speculative_speedup(acceptance, draft_tokens, cost_ratio, verify_ratio=1.0):
    """Speed-up of speculative decoding over plain decoding: tokens per step over the step's cost.

    With a draft step costing :math:`c` target decode steps and the verify step of :math:`\\gamma + 1`
    tokens costing :math:`v` of them (:math:`v \\approx 1` while the target is bandwidth- or latency-bound;
    it grows toward :math:`\\gamma + 1` as the batch makes the verify compute-bound):

    .. math:: S = \\frac{1 - \\alpha^{\\gamma + 1}}{(1 - \\alpha)(\\gamma c + v)}

    Parameters
    ----------
    acceptance : float, ndarray or sympy.Expr
        :term:`Acceptance rate <alpha>` :math:`\\alpha` [1].
    draft_tokens : int, ndarray or sympy.Expr
        :term:`Draft tokens per step <gamma>` :math:`\\gamma` [1].
    cost_ratio : float, ndarray or sympy.Expr
        :term:`Cost ratio <c>` :math:`c`: one draft step's time over one target decode step's [1].
    verify_ratio : float, ndarray or sympy.Expr
        :math:`v`: the verify step's time over one target decode step's [1].

    Returns
    -------
    float, ndarray or sympy.Expr
        Tokens/s with speculation over tokens/s without [1]; below 1 speculation costs time.

    References
    ----------
    Leviathan, Kalman and Matias, ICML 2023 (arXiv 2211.17192), theorem 3.8 (the case :math:`v = 1`).

    Examples
    --------
    >>> round(speculative_speedup(0.8, 4, 0.1), 4)   # 3.3616 / (4 x 0.1 + 1)
    2.4011
    >>> speculative_speedup(0.0, 4, 0.05) < 1       # nothing accepted: the draft is pure cost
    True
    """
    return expected_tokens_per_step(acceptance, draft_tokens) / (draft_tokens * cost_ratio + verify_ratio)


def _lambert_w_lower(log_minus_z):
    """The lower real branch :math:`W_{-1}(z)` from :math:`\\ell = \\ln(-z) \\le -1`, for :math:`-1/e \\le z < 0`.

    Solves :math:`W + \\ln(-W) = \\ell` (:math:`W \\le -1`) by Newton's method from the series about the
    branch point or the asymptote :math:`\\ell - \\ln(-\\ell)`; working with :math:`\\ln(-z)` keeps it exact where
    :math:`z` itself would underflow.
    """
    import numpy as np

    ell = np.minimum(np.asarray(log_minus_z, dtype=float), -1.0)
    p = -np.sqrt(2.0 * np.maximum(-np.expm1(ell + 1.0), 0.0))       # p = -sqrt(2 (1 + e z))
    near = -1.0 + p - p**2 / 3.0 + 11.0 / 72.0 * p**3
    w = np.where(ell > -3.0, near, ell - np.log(-ell))
    for _ in range(60):
        slope = 1.0 + 1.0 / w
        step = np.where(np.abs(slope) > 1e-12, (w + np.log(-w) - ell) / np.where(slope == 0, 1.0, slope), 0.0)
        w = np.minimum(w - step, -1.0)
    return w


def optimal_draft_tokens(acceptance, cost_ratio, verify_ratio=1.0):
    """The draft length that maximises the speed-up of :func:`speculative_speedup`, treated as continuous.

    Setting :math:`\\partial S / \\partial \\gamma = 0` gives
    :math:`\\alpha^{\\gamma+1}\\,(c - \\ln\\alpha\\,(c\\gamma + v)) = c`, whose root is on the lower branch
    of the Lambert W function:

    .. math::

        \\gamma^* = \\frac{1 + W_{-1}(z)}{\\ln \\alpha} - \\frac{v}{c}, \\qquad
        z = -\\frac{\\alpha^{v / c - 1}}{e}

    :math:`S` is unimodal in :math:`\\gamma`, so the best whole draft length is :math:`\\lfloor\\gamma^*\\rfloor`
    or :math:`\\lceil\\gamma^*\\rceil`. A draft that costs nothing (:math:`c = 0`) or is always accepted
    (:math:`\\alpha = 1`) has no finite optimum (infinity); one that costs as much as a verify step
    (:math:`c \\ge v`), or is never accepted (:math:`\\alpha = 0`), is best not run (0).

    Parameters
    ----------
    acceptance : float, ndarray or sympy.Expr
        :term:`Acceptance rate <alpha>` :math:`\\alpha` [1].
    cost_ratio : float, ndarray or sympy.Expr
        :term:`Cost ratio <c>` :math:`c` [1].
    verify_ratio : float, ndarray or sympy.Expr
        :math:`v` [1].

    Returns
    -------
    float, ndarray or sympy.Expr
        :math:`\\gamma^*` [1], at least 0; a SymPy expression (with ``LambertW(z, -1)``) for symbolic input.

    References
    ----------
    Leviathan, Kalman and Matias, ICML 2023 (arXiv 2211.17192), section 3.4 (the optimal :math:`\\gamma`,
    found there numerically); R. M. Corless et al., "On the Lambert W function", Adv. Comput. Math. 5, 1996.

    Examples
    --------
    >>> round(float(optimal_draft_tokens(0.8, 0.05)), 2)
    7.86
    >>> # the whole optimum is 8: (1 - 0.8^9) / (0.2 x (8 x 0.05 + 1)) = 0.86578 / 0.28
    >>> [round(speculative_speedup(0.8, k, 0.05), 4) for k in (7, 8, 9)]
    [3.0823, 3.0921, 3.078]
    """
    if _is_sym(acceptance, cost_ratio, verify_ratio):
        import sympy as sp

        z = -acceptance ** (verify_ratio / cost_ratio - 1) / sp.E
        return (1 + sp.LambertW(z, -1)) / sp.log(acceptance) - verify_ratio / cost_ratio
    import numpy as np

    a, c, v = (np.asarray(x, dtype=float) for x in (acceptance, cost_ratio, verify_ratio))
    a, c, v = np.broadcast_arrays(a, c, v)
    inside = (a > 0) & (a < 1) & (c > 0) & (c < v)
    sa, sc = np.where(inside, a, 0.5), np.where(inside, c, 0.25)
    sv = np.where(inside, v, 1.0)
    log_minus_z = (sv / sc - 1.0) * np.log(sa) - 1.0                   # ln(-z), z = -alpha^(v/c - 1) / e
    g = np.where(inside, (1.0 + _lambert_w_lower(log_minus_z)) / np.log(sa) - sv / sc, 0.0)
    g = np.where(((a >= 1) | (c <= 0)) & (a > 0) & (c < v), np.inf, np.maximum(g, 0.0))
    return float(g) if g.ndim == 0 else g


def speculative_speedup_at_batch(acceptance, draft_tokens, cost_ratio, batch, weight_time_s, kv_time_per_sequence_s,
                                 compute_time_per_token_s):
    """Speed-up of speculative decoding at a batch, on a whole-step roofline of the target.

    A decode step of :math:`b` sequences reads the weights and every sequence's KV cache, or computes one
    token per sequence, whichever takes longer; the verify step reads the same bytes and computes
    :math:`\\gamma + 1` tokens per sequence; a draft step costs :math:`c` decode steps:

    .. math::

        t_\\text{dec} = \\max(t_w + b\\,t_{kv},\\; b\\,t_f), \\qquad
        t_\\text{ver} = \\max(t_w + b\\,t_{kv},\\; (\\gamma + 1)\\, b\\,t_f), \\qquad
        S(b) = \\frac{E\\, t_\\text{dec}}{\\gamma c\\, t_\\text{dec} + t_\\text{ver}}

    with :math:`E` of :func:`expected_tokens_per_step`. :math:`S` is :func:`speculative_speedup` with
    :math:`v = t_\\text{ver} / t_\\text{dec}`: 1 while both steps are bandwidth-bound, :math:`\\gamma + 1` once
    both are compute-bound.

    Parameters
    ----------
    acceptance : float, ndarray or sympy.Expr
        :term:`Acceptance rate <alpha>` :math:`\\alpha` [1].
    draft_tokens : int, ndarray or sympy.Expr
        :term:`Draft tokens per step <gamma>` :math:`\\gamma` [1].
    cost_ratio : float, ndarray or sympy.Expr
        :term:`Cost ratio <c>` :math:`c` [1].
    batch : float, ndarray or sympy.Expr
        :term:`Sequences in flight <b>` [1].
    weight_time_s : float, ndarray or sympy.Expr
        :math:`t_w`: reading the weights once [s].
    kv_time_per_sequence_s : float, ndarray or sympy.Expr
        :math:`t_{kv}`: reading one sequence's KV cache [s].
    compute_time_per_token_s : float, ndarray or sympy.Expr
        :math:`t_f`: the FLOPs of one token at peak [s].

    Returns
    -------
    float, ndarray or sympy.Expr
        :math:`S(b)` [1].

    References
    ----------
    Leviathan, Kalman and Matias, ICML 2023 (arXiv 2211.17192), theorem 3.8, with the verify step's cost
    from the roofline of Williams, Waterman and Patterson (CACM 52(4), 2009).

    Examples
    --------
    >>> # E = 3.3616, gamma = 4, c = 0.1; t_w = 10 ms, t_kv = 10 us, t_f = 20 us
    >>> round(speculative_speedup_at_batch(0.8, 4, 0.1, 1, 10e-3, 10e-6, 20e-6), 4)   # 3.3616 / 1.4
    2.4011
    >>> round(speculative_speedup_at_batch(0.8, 4, 0.1, 2000, 10e-3, 10e-6, 20e-6), 4)  # 3.3616 / 5.4
    0.6225
    """
    e = expected_tokens_per_step(acceptance, draft_tokens)
    read = weight_time_s + batch * kv_time_per_sequence_s
    t_dec = _maximum(read, batch * compute_time_per_token_s)
    t_ver = _maximum(read, (draft_tokens + 1) * batch * compute_time_per_token_s)
    return e * t_dec / (draft_tokens * cost_ratio * t_dec + t_ver)


def speculative_break_even_batch(expected_tokens, draft_tokens, cost_ratio, weight_time_s,
                                 kv_time_per_sequence_s, compute_time_per_token_s):
    """The batch above which speculative decoding stops paying, on a whole-step roofline of the target.

    A decode step of :math:`b` sequences takes :math:`t_\\text{dec} = \\max(t_w + b\\,t_{kv},\\; b\\,t_f)`; a
    verify step of :math:`\\gamma + 1` tokens per sequence reads the same bytes and computes
    :math:`\\gamma + 1` times more, :math:`t_\\text{ver} = \\max(t_w + b\\,t_{kv},\\; (\\gamma + 1)\\, b\\,t_f)`;
    each draft step costs :math:`c\\,t_\\text{dec}`. The speed-up
    :math:`E\\,t_\\text{dec} / (\\gamma c\\,t_\\text{dec} + t_\\text{ver})` is :math:`E / (\\gamma c + 1)` while
    both steps are bandwidth-bound and falls through 1 (:func:`speculative_speedup_at_batch`) once the verify
    step is compute-bound and the decode step is not yet:

    .. math:: b^* = \\frac{(E - \\gamma c)\\, t_w}{(\\gamma + 1)\\, t_f - (E - \\gamma c)\\, t_{kv}}

    Parameters
    ----------
    expected_tokens : float, ndarray or sympy.Expr
        :math:`E`, tokens per step (:func:`expected_tokens_per_step`) [1].
    draft_tokens : int, ndarray or sympy.Expr
        :term:`Draft tokens per step <gamma>` :math:`\\gamma` [1].
    cost_ratio : float, ndarray or sympy.Expr
        :term:`Cost ratio <c>` :math:`c` [1].
    weight_time_s : float, ndarray or sympy.Expr
        :math:`t_w`: reading the weights once [s].
    kv_time_per_sequence_s : float, ndarray or sympy.Expr
        :math:`t_{kv}`: reading one sequence's KV cache [s].
    compute_time_per_token_s : float, ndarray or sympy.Expr
        :math:`t_f`: the FLOPs of one token at peak [s].

    Returns
    -------
    float, ndarray or sympy.Expr
        :math:`b^*` [1]; 0 where speculation never pays (:math:`E - \\gamma c \\le 1`), infinity where it
        pays at every batch (a denominator that is not positive: the KV cache dominates).

    References
    ----------
    The step model is the roofline of Williams, Waterman and Patterson (CACM 52(4), 2009) applied to the
    verify step of Leviathan, Kalman and Matias (ICML 2023, arXiv 2211.17192).

    Examples
    --------
    >>> # E = 3.3616, gamma = 4, c = 0.1; t_w = 10 ms, t_kv = 10 us, t_f = 20 us:
    >>> # (3.3616 - 0.4) x 10 ms / (5 x 20 us - 2.9616 x 10 us) = 29.616 / 0.070384
    >>> round(speculative_break_even_batch(3.3616, 4, 0.1, 10e-3, 10e-6, 20e-6), 1)
    420.8
    """
    gain = expected_tokens - draft_tokens * cost_ratio
    den = (draft_tokens + 1) * compute_time_per_token_s - gain * kv_time_per_sequence_s
    if _is_sym(gain, den, weight_time_s):
        return gain * weight_time_s / den
    import numpy as np

    gain, den, tw = (np.asarray(x, dtype=float) for x in (gain, den, weight_time_s))
    out = np.where(gain <= 1, 0.0, np.where(den <= 0, np.inf, gain * tw / np.where(den == 0, 1.0, den)))
    return float(out) if out.ndim == 0 else out


# ------------------------------------------------------------------------------------------------------
# collectives: bytes per device, and the hops and steps a topology charges
# ------------------------------------------------------------------------------------------------------
def collective_bytes(collective: str, message_bytes, devices: int):
    """Bytes each device sends in a bandwidth-optimal ``collective`` over ``devices`` devices.

    ``message_bytes`` is the whole message: the vector every device reduces (all-reduce, reduce-scatter),
    the gathered result (all-gather), everything one device holds for the others (all-to-all), or what is
    broadcast or sent. Bandwidth-optimal algorithms (ring, recursive halving) reach these figures and no
    algorithm sends less, so they keep a roofline a bound:

    .. math::

        Q_{AR} = 2\\frac{n-1}{n} M, \\quad Q_{RS} = Q_{AG} = Q_{A2A} = \\frac{n-1}{n} M, \\quad
        Q_{BC} = Q_{P2P} = M

    Parameters
    ----------
    collective : str
        ``all_reduce``, ``reduce_scatter``, ``all_gather``, ``all_to_all``, ``broadcast`` or
        ``point_to_point`` (a :class:`roofline.vocab.Collective`).
    message_bytes : float, ndarray or sympy.Expr
        :math:`M` [B].
    devices : int
        :math:`n` [1].

    Returns
    -------
    float, ndarray or sympy.Expr
        [B] per device; 0 for a group of one (except a point-to-point send).

    Raises
    ------
    ValueError
        For an unknown collective.

    References
    ----------
    E. Chan, M. Heimlich, A. Purkayastha, R. van de Geijn, "Collective communication: theory, practice,
    and experience", Concurrency Computat. 19(13), 2007 (the lower bounds); J. Austin et al., "How to
    Scale Your Model" (2025), part 3, "Sharded matrices and how to multiply them" (the costs on a TPU torus).

    Examples
    --------
    >>> collective_bytes("all_reduce", 16384, 8), collective_bytes("all_gather", 16384, 8)
    (28672.0, 14336.0)
    """
    c = str(collective)
    if c == "point_to_point":
        return message_bytes
    if devices <= 1:
        return 0 * message_bytes
    if c == "broadcast":
        return message_bytes
    factor = {"all_reduce": 2, "reduce_scatter": 1, "all_gather": 1, "all_to_all": 1}.get(c)
    if factor is None:
        raise ValueError(f"unknown collective {collective!r}")
    if _is_sym(message_bytes):
        import sympy as sp

        return factor * sp.Rational(devices - 1, devices) * message_bytes
    return factor * (devices - 1) / devices * message_bytes


def tree_steps(devices: int) -> int:
    """Message steps of a binomial tree or recursive doubling over ``devices`` devices.

    .. math:: n_\\text{tree} = \\lceil \\log_2 n \\rceil

    Parameters
    ----------
    devices : int
        :math:`n` [1].

    Returns
    -------
    int
        Steps [1]; 0 for one device.

    References
    ----------
    Thakur, Rabenseifner and Gropp, IJHPCA 19(1), 2005.

    Examples
    --------
    >>> tree_steps(8), tree_steps(9), tree_steps(1)
    (3, 4, 0)
    """
    return math.ceil(math.log2(devices)) if devices > 1 else 0


def line_hops(k: int) -> int:
    """Hops between the two ends of a line of ``k`` devices (a mesh axis, or a torus axis without its
    wraparound link).

    .. math:: h = k - 1

    Parameters
    ----------
    k : int
        Devices on the line [1].

    Returns
    -------
    int
        [1].

    Examples
    --------
    >>> line_hops(16)
    15
    """
    return max(k - 1, 0)


def ring_hops(k: int) -> int:
    """Hops between the two farthest devices of a ring of ``k`` (a torus axis with its wraparound link).

    .. math:: h = \\lfloor k / 2 \\rfloor

    Parameters
    ----------
    k : int
        Devices on the ring [1].

    Returns
    -------
    int
        [1].

    Examples
    --------
    >>> ring_hops(16), ring_hops(5)
    (8, 2)
    """
    return k // 2


def grid_diameter(shape, wrap) -> int:
    """Hops between the two farthest devices of a grid (mesh or torus), dimension-ordered routing.

    .. math:: D = \\sum_i h(k_i), \\quad h(k) = \\lfloor k/2 \\rfloor \\text{ (wraparound)},\\; k - 1 \\text{ (none)}

    Parameters
    ----------
    shape : sequence of int
        Devices along each dimension, :math:`k_i` [1].
    wrap : sequence of bool
        Whether each dimension has its wraparound link.

    Returns
    -------
    int
        [1].

    References
    ----------
    W. J. Dally and B. Towles, *Principles and Practices of Interconnection Networks*, Morgan Kaufmann,
    2004, ch. 5 (tori and meshes).

    Examples
    --------
    >>> grid_diameter((16, 16), (True, True)), grid_diameter((5, 5), (False, False))
    (16, 8)
    """
    return sum(ring_hops(k) if w else line_hops(k) for k, w in zip(shape, wrap))


def grid_radius(shape, wrap) -> int:
    """Hops from the most central device of a grid to the farthest one: the depth of a reduction to the
    centre (then a broadcast back).

    .. math:: R = \\sum_i \\lceil h(k_i) / 2 \\rceil \\text{ (mesh)}, \\qquad R = D \\text{ (torus: no centre)}

    Parameters
    ----------
    shape : sequence of int
        Devices along each dimension [1].
    wrap : sequence of bool
        Whether each dimension has its wraparound link.

    Returns
    -------
    int
        [1].

    Examples
    --------
    >>> grid_radius((5, 5), (False, False)), grid_radius((16,), (True,))
    (4, 8)
    """
    return sum(ring_hops(k) if w else math.ceil(line_hops(k) / 2) for k, w in zip(shape, wrap))


def group_shape(devices: int, dims) -> tuple[int, ...]:
    """The compact block ``devices`` devices occupy in a grid of ``dims``: the first dimension filled first.

    Parameters
    ----------
    devices : int
        Devices in the group [1].
    dims : sequence of int
        The grid's size along each dimension [1].

    Returns
    -------
    tuple of int
        Devices along each dimension the group spans (dimensions it does not span are left out) [1].

    Examples
    --------
    >>> group_shape(8, (16, 16)), group_shape(64, (16, 16)), group_shape(512, (16, 16))
    ((8,), (16, 4), (16, 16))
    """
    out, left = [], max(int(devices), 1)
    for k in dims:
        if left <= 1:
            break
        take = min(k, left)
        out.append(take)
        left = ceil_div(left, take)
    return tuple(out)


def collective_time(bytes_per_device, bandwidth_bytes_per_s, hops, hop_latency_s):
    """Time of a collective: its bytes at the bandwidth, plus its hops at the per-hop latency.

    .. math:: t = \\frac{Q}{BW} + h\\,\\tau

    Parameters
    ----------
    bytes_per_device : float, ndarray or sympy.Expr
        :math:`Q` (:func:`collective_bytes`) [B].
    bandwidth_bytes_per_s : float, ndarray or sympy.Expr
        What the device sends in one direction over the links the collective uses [B/s].
    hops : float, ndarray or sympy.Expr
        Latency-bearing hops or message steps in sequence [1].
    hop_latency_s : float, ndarray or sympy.Expr
        :math:`\\tau`, per hop or step [s].

    Returns
    -------
    float, ndarray or sympy.Expr
        [s].

    References
    ----------
    R. W. Hockney, "The communication challenge for MPP", Parallel Computing 20(3), 1994 (the
    :math:`\\alpha + \\beta n` model).

    Examples
    --------
    >>> round(collective_time(28672, 450e9, 6, 1e-6) * 1e6, 3)  # 8-GPU all-reduce of 16 KiB on H100
    6.064
    """
    return bytes_per_device / bandwidth_bytes_per_s + hops * hop_latency_s


# ------------------------------------------------------------------------------------------------------
# the mesh model: regions of a wafer or tile, reductions over them, hand-offs between them
# ------------------------------------------------------------------------------------------------------
def mesh_cells(bytes_held, capacity_bytes, width, height):
    """Cores (cells) of a mesh that ``bytes_held`` bytes need, at the per-core share of the capacity.

    .. math:: A = \\frac{Q}{C / (W H)}

    Parameters
    ----------
    bytes_held : float, ndarray or sympy.Expr
        Bytes the region holds (weights and KV cache) [B].
    capacity_bytes : float, ndarray or sympy.Expr
        The mesh's memory, all cores together [B].
    width, height : float, ndarray or sympy.Expr
        Cores along each side of the mesh [1].

    Returns
    -------
    float, ndarray or sympy.Expr
        Cores [1] (not rounded).

    Examples
    --------
    >>> round(mesh_cells(0.5e9, 44e9, 762, 1172))  # one Llama-3.1-8B layer on a WSE-3
    10148
    """
    return bytes_held * width * height / capacity_bytes


def mesh_band_crossing(cells, width, height):
    """Hops to reduce over a band of ``cells`` cores across a mesh's shorter side, and broadcast back.

    The region is laid across the shorter side :math:`s = \\min(W, H)` (a strip one or more rows deep),
    so consecutive regions are stacked along the longer side :math:`l` and share a whole edge. A
    reduction to the centre and the broadcast back cross each side once:

    .. math:: h = a + b, \\quad a = \\min(s, A), \\quad b = \\min(A / a,\\; l)

    Parameters
    ----------
    cells : float, ndarray or sympy.Expr
        Cores in the region, :math:`A` (:func:`mesh_cells`) [1].
    width, height : float, ndarray or sympy.Expr
        Cores along each side of the mesh [1].

    Returns
    -------
    float, ndarray or sympy.Expr
        Hops [1]; the whole mesh's :math:`W + H` when the region fills it.

    References
    ----------
    C. He et al., "WaferLLM: Large Language Model Inference at Wafer Scale", OSDI 2025 (arXiv
    2502.04563): the PLMR view of a wafer, where a reduction's latency grows with the hops across the
    region it spans.

    Examples
    --------
    >>> round(mesh_band_crossing(10148, 762, 1172), 1)  # a band 762 cores wide and ~13 deep
    775.3
    """
    short, long_ = _lo(width, height), _hi(width, height)
    a = _lo(short, cells)
    return a + _lo(cells / a, long_)


def mesh_reduction_bound(roofline_s, cells_fit, cells_total, hop_latency_s, crossings):
    """The least time a dependent reduction adds to an op on a mesh, over every size of the region it uses.

    An op whose work takes :math:`R` on the whole mesh of :math:`N` cores takes :math:`R N / A` on a
    region of :math:`A` of them, and a reduction over a square region reaches its centre from the farthest
    core in :math:`\\sqrt{A}` hops. The region must hold the op's data (:math:`A \\ge A_\\text{fit}`) and
    cannot exceed the mesh, so with :math:`\\kappa` dependent reductions the op takes at least

    .. math::

        \\min_{A_\\text{fit} \\le A \\le N} \\Big( R \\frac{N}{A} + \\kappa \\tau \\sqrt{A} \\Big),
        \\qquad A^* = \\Big(\\frac{2 R N}{\\kappa \\tau}\\Big)^{2/3}

    (convex in :math:`A`, so the clamped :math:`A^*` is the minimum), and the latency it adds to the
    roofline :math:`R` is that minimum less :math:`R`. Any :math:`R` not above the op's true time on the
    whole mesh keeps the result a lower bound.

    Parameters
    ----------
    roofline_s : float, ndarray or sympy.Expr
        :math:`R`, the op's time on the whole mesh [s].
    cells_fit : float, ndarray or sympy.Expr
        :math:`A_\\text{fit}`, cores that hold the op's data [1].
    cells_total : float, ndarray or sympy.Expr
        :math:`N`, cores of the mesh [1].
    hop_latency_s : float, ndarray or sympy.Expr
        :math:`\\tau` [s].
    crossings : int
        :math:`\\kappa`, dependent reductions in the op [1].

    Returns
    -------
    float, ndarray or sympy.Expr
        [s]; 0 without a reduction.

    References
    ----------
    WaferLLM (OSDI 2025): PLMR's trade of parallelism (P) against latency (L) across a mesh.

    Examples
    --------
    >>> round(mesh_reduction_bound(2.9e-9, 1024, 893064, 0.833e-9, 1) * 1e9, 1)  # an 8B QKV GEMV, WSE-3
    226.9
    """
    if not crossings:
        return 0 * roofline_s
    k_tau = crossings * hop_latency_s
    a_star = _lo(_hi(_two_thirds(2 * roofline_s * cells_total / k_tau), cells_fit), cells_total)
    return roofline_s * cells_total / a_star + k_tau * _sqrt(a_star) - roofline_s


def _two_thirds(x):
    if _is_sym(x):
        import sympy as sp

        return x ** sp.Rational(2, 3)
    return x ** (2 / 3)


def mesh_decode_latency(layers, crossings_per_layer, band_hops, hop_latency_s, devices, handoff_s):
    """Latency of one decode step on wafers or tiles in the mesh model: every layer's reductions across its
    band, and a hand-off over the system link between consecutive devices.

    .. math:: t = L \\,\\kappa\\, h_\\text{band}\\, \\tau + (n_w - 1)\\, \\tau_\\text{handoff}

    Parameters
    ----------
    layers : float or sympy.Expr
        :math:`L` [1].
    crossings_per_layer : float or sympy.Expr
        :math:`\\kappa`, dependent reductions and broadcasts in one layer [1].
    band_hops : float or sympy.Expr
        :math:`h_\\text{band}`, hops of one crossing (:func:`mesh_band_crossing`) [1].
    hop_latency_s : float or sympy.Expr
        :math:`\\tau` [s].
    devices : float or sympy.Expr
        :math:`n_w`, wafers or tiles in the pipeline [1].
    handoff_s : float or sympy.Expr
        :math:`\\tau_\\text{handoff}`, one hand-off between devices [s].

    Returns
    -------
    float or sympy.Expr
        [s].

    Examples
    --------
    >>> round(mesh_decode_latency(126, 8, 934, 0.909e-9, 19, 5e-6) * 1e3, 3)  # Llama-3.1-405B, 19 WSE-3
    0.946
    """
    return layers * crossings_per_layer * band_hops * hop_latency_s + (devices - 1) * handoff_s


def latency_compute_crossover_batch(latency_s, flops_per_token, peak_flops_per_s):
    """The batch above which a decode step's compute exceeds its latency (and turns compute-bound).

    .. math:: b^* = \\frac{t_\\text{latency} \\, P}{F_\\text{token}}

    Parameters
    ----------
    latency_s : float, ndarray or sympy.Expr
        The step's latency, independent of the batch [s].
    flops_per_token : float, ndarray or sympy.Expr
        Work per token [FLOP].
    peak_flops_per_s : float, ndarray or sympy.Expr
        :term:`Peak compute <P>` [FLOP/s].

    Returns
    -------
    float, ndarray or sympy.Expr
        [1].

    Examples
    --------
    >>> round(latency_compute_crossover_batch(180e-6, 16e9, 15.8e15))  # Llama-3.1-8B on one WSE-3
    178
    """
    return latency_s * peak_flops_per_s / flops_per_token


def handoff_dominance_stages(layers, layer_time_s, handoff_s):
    """Pipeline stages beyond which the hand-offs between them take longer than all the layers together.

    .. math:: n^* = 1 + \\frac{L \\, t_\\text{layer}}{\\tau_\\text{handoff}}

    Parameters
    ----------
    layers : float, ndarray or sympy.Expr
        :math:`L` [1].
    layer_time_s : float, ndarray or sympy.Expr
        Time of one layer [s].
    handoff_s : float, ndarray or sympy.Expr
        One hand-off between stages [s].

    Returns
    -------
    float, ndarray or sympy.Expr
        [1].

    Examples
    --------
    >>> round(handoff_dominance_stages(80, 7e-6, 5e-6), 1)
    113.0
    """
    return 1 + layers * layer_time_s / handoff_s
