r"""Speculative decoding and multi-token prediction: a draft phase, then one verify step of the target.

A speculative step drafts :math:`\gamma` tokens, then runs the target once over :math:`q = \gamma + 1`
tokens of each of the :math:`b` sequences (the *verify* step, :attr:`roofline.vocab.Phase.VERIFY`). With
acceptance rate :math:`\alpha` it emits :math:`E = (1 - \alpha^{\gamma+1}) / (1 - \alpha)` tokens per
sequence (:func:`roofline.formulas.expected_tokens_per_step`), so

.. math:: t_\text{token} = \frac{\gamma\, t_\text{draft} + t_\text{verify}(q = \gamma + 1)}{E}

The verify step reads the weights once for all :math:`q` tokens, so on a bandwidth- or latency-bound
device it costs about one decode step; as the batch grows it turns compute-bound and costs up to
:math:`q` of them, and the gain falls below 1. Both times come from the engine, op by op, like every other
step.

What drafts (:class:`Speculation`, kind :class:`~roofline.vocab.DraftKind`):

* ``model``: a separate, smaller model with the target's vocabulary, run autoregressively. It is placed
  like any model: on the target's devices (its weights and KV cache counted toward their capacity, split
  the same way as far as its heads and layers allow) or on ``draft_devices`` of its own.
* ``mtp``: ``K`` multi-token-prediction modules of the target (DeepSeek-V3: one), each one layer of the
  target's own kind with a :math:`2d \times d` input projection, sharing the embedding and the lm_head; a
  draft step runs one module.
* ``eagle``: an EAGLE-style head of ``K`` dense decoder layers of the target's attention, the same input
  projection and the shared lm_head; a draft step runs the whole head.
* ``ideal``: a draft that costs nothing and holds nothing, the favourable end when a source does not say
  what drafted (used by validation).

Heads live on the target's devices (tensor-parallel like the target, on one pipeline stage); their weights
and KV cache count toward capacity. Acceptance rates are workload properties, not device properties: they
are arguments here, with the published defaults of :data:`ACCEPTANCE`, and never live in spec files.

Symbolic forms: :func:`speedup_closed_form`, :func:`optimal_draft_tokens` (the Lambert-W closed form and the
best whole draft length located on the engine), :func:`break_even_batch` (the batch above which
speculation stops paying: a closed form on a whole-step roofline, and the batch located on the engine).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from types import MappingProxyType
from typing import TYPE_CHECKING, Mapping, Sequence

from .. import formulas
from ..dtypes import bytes_per_element, compute_dtype
from ..errors import InputError
from ..hardware.device import Device
from ..placement.layout import Parallelism, Placement
from ..placement.layout import place as _place
from ..vocab import Corner, DraftKind, Phase
from .config import ModelConfig
from .loader import get_model
from .precision import Precision
from .sizes import ModelDemand, kv_cache_bytes, kv_shards, resident_bytes_per_device

if TYPE_CHECKING:  # annotations only: NumPy is imported where arrays are made
    import numpy as np

__all__ = ["AcceptanceFigure", "ACCEPTANCE", "ACCEPTANCE_HIGH", "MAX_DRAFT_TOKENS", "Speculation",
           "SpeculativePlacement", "head_config", "place_speculative", "resident_bytes", "speculative_step", "draft_prefill_s",
           "corner_fields", "result_fields", "speedup_closed_form", "optimal_draft_tokens", "break_even_batch"]

#: The longest draft a :class:`Speculation` may ask for [tokens].
MAX_DRAFT_TOKENS = 64


@dataclass(frozen=True)
class AcceptanceFigure:
    """A published acceptance rate: the default :math:`\\alpha` of a kind of draft, its range, its source.

    Attributes
    ----------
    nominal, low, high : float
        :math:`\\alpha` [1]: the default, and the ends of the published range.
    draft_tokens : int
        The draft length the figure was measured at, the default :math:`\\gamma` [1].
    source : str
        Where it is published, and how :math:`\\alpha` follows from what is printed there.
    """

    nominal: float
    low: float
    high: float
    draft_tokens: int
    source: str


#: Published acceptance rates, the defaults of each kind of draft (see the sources; acceptance lengths
#: :math:`\tau` are turned into :math:`\alpha` by solving :math:`(1 - \alpha^{\gamma+1}) / (1 - \alpha) = \tau`).
ACCEPTANCE: Mapping[DraftKind, AcceptanceFigure] = MappingProxyType({
    DraftKind.MTP: AcceptanceFigure(
        0.85, 0.85, 0.90, 1,
        "DeepSeek-AI, 'DeepSeek-V3 Technical Report', arXiv 2412.19437 (2024-12), section 5.4.3: 'the "
        "acceptance rate of the second token prediction ranges between 85% and 90%' (one MTP module)"),
    DraftKind.EAGLE: AcceptanceFigure(
        0.80, 0.66, 0.83, 3,
        "RedHatAI/Llama4-Maverick-17B-128E-Instruct-speculator.eagle3 model card (2025-09-17, converted from "
        "nvidia/Llama-4-Maverick-17B-128E-Eagle3, a one-layer EAGLE-3 head), table 'Acceptance lengths' at "
        "k = 3: 2.94 (coding), 3.08 (math), 2.37 (summarization), i.e. alpha = 0.80, 0.83, 0.66"),
    DraftKind.MODEL: AcceptanceFigure(
        0.88, 0.88, 0.89, 8,
        "DevQuasar, 'Speculative decoding tradeoffs: GPU with large models (Llama 70B, 8B)' "
        "(devquasar.com): llama.cpp, Llama-3-70B-Instruct with a Llama-3-8B-Instruct draft (Q4_K_M, greedy), "
        "58.68 % of 8 and 54.58 % of 10 drafted tokens accepted, i.e. alpha = 0.880 and 0.886 (a blog "
        "measurement: the weakest of these figures)"),
    DraftKind.IDEAL: AcceptanceFigure(
        0.90, 0.90, 0.90, 8, "the highest published rate above (DeepSeek-V3's MTP, 90 %): a favourable end"),
})

#: The favourable end of every published acceptance rate in :data:`ACCEPTANCE` [1].
ACCEPTANCE_HIGH = max(f.high for f in ACCEPTANCE.values())


# ------------------------------------------------------------------------------------------------------
# the configuration
# ------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Speculation:
    """How a decode step speculates: what drafts, how many tokens, how often they are accepted.

    Build one with :meth:`of` (the checks and the published defaults) rather than directly.

    Attributes
    ----------
    kind : DraftKind
    draft : str
        The draft model's key (kind ``model``); empty otherwise.
    head_size : int
        ``mtp``: modules; ``eagle``: layers of the head [1].
    draft_tokens : int
        :term:`Draft tokens per step <gamma>` :math:`\\gamma` [1].
    acceptance : tuple of float
        :math:`\\alpha`: one rate for every position, or one per position (conditional on the ones before)
        [1].
    draft_devices : int or None
        Devices of the draft model's own (kind ``model``); None: on the target's devices [1].
    acceptance_source : str
        Where the rates come from (``"given"`` or a published figure).
    """

    kind: DraftKind
    draft: str = ""
    head_size: int = 1
    draft_tokens: int = 1
    acceptance: tuple[float, ...] = (0.0,)
    draft_devices: int | None = None
    acceptance_source: str = field(default="given", compare=False)

    @classmethod
    def of(cls, draft: str | None = None, mtp: int | None = None, eagle: int | None = None,
           draft_tokens: int | None = None, acceptance: float | Sequence[float] | None = None,
           draft_devices: int | None = None, ideal: bool = False) -> "Speculation | None":
        """The speculation the options ask for, with checks and the published defaults; None for none.

        Parameters
        ----------
        draft : str, optional
            A draft model (key, alias or file).
        mtp : int, optional
            Multi-token-prediction modules [1].
        eagle : int, optional
            Layers of an EAGLE-style head [1].
        draft_tokens : int, optional
            :math:`\\gamma` [1]; default: the draft length of the published figure (``mtp``: ``K``).
        acceptance : float or sequence of float, optional
            :math:`\\alpha` [1], one value or one per position; default :data:`ACCEPTANCE` of the kind.
        draft_devices : int, optional
            Run a draft model on devices of its own [1].
        ideal : bool
            A draft that costs nothing (the favourable end of an unstated draft).

        Returns
        -------
        Speculation or None

        Raises
        ------
        InputError
            More than one kind of draft, a length or rate out of range, a per-position list whose length is
            not the draft length, or draft options without a draft.
        """
        kinds = [k for k, v in ((DraftKind.MODEL, draft), (DraftKind.MTP, mtp), (DraftKind.EAGLE, eagle),
                                (DraftKind.IDEAL, ideal or None)) if v is not None]
        if len(kinds) > 1:
            raise InputError("choose one draft: --draft MODEL, --mtp K or --eagle K")
        if not kinds:
            if draft_tokens is not None or acceptance is not None or draft_devices is not None:
                raise InputError("--draft-tokens, --acceptance and --draft-devices need a draft "
                                 "(--draft MODEL, --mtp K or --eagle K)")
            return None
        kind = kinds[0]
        size = _positive("head size", mtp if kind is DraftKind.MTP else eagle if kind is DraftKind.EAGLE else 1)
        rates, source = _rates(kind, acceptance)
        gamma = _draft_length(kind, size, draft_tokens, rates)
        if len(rates) == 1:
            rates = rates * gamma
        if kind is not DraftKind.MODEL and draft_devices is not None:
            raise InputError("--draft-devices is for a draft model (--draft MODEL); heads run on the target's devices")
        return cls(kind, str(draft or ""), size, gamma, tuple(rates),
                   None if draft_devices is None else _positive("draft devices", draft_devices), source)

    @property
    def tokens_per_step(self) -> float:
        """Expected tokens per step, :math:`1 + \\sum_k \\prod_{i \\le k} \\alpha_i` [1]
        (:func:`roofline.formulas.expected_tokens_per_step_positional`)."""
        return float(formulas.expected_tokens_per_step_positional(self.acceptance))

    @property
    def verify_tokens(self) -> int:
        """Tokens each sequence's verify step scores, :math:`q = \\gamma + 1` [1]."""
        return self.draft_tokens + 1

    def with_draft_tokens(self, draft_tokens: int) -> "Speculation":
        """The same draft and per-token rate at another draft length.

        Parameters
        ----------
        draft_tokens : int
            :math:`\\gamma` [1].

        Returns
        -------
        Speculation
        """
        g = int(draft_tokens)
        rates = (self.acceptance + (self.acceptance[-1],) * g)[:g]
        return replace(self, draft_tokens=g, acceptance=rates)

    def describe(self) -> str:
        """A short label: ``"llama-3.1-8b, gamma 4"``, ``"mtp x1, gamma 1"``, ``"eagle x1, gamma 3"``.

        Returns
        -------
        str
        """
        what = {DraftKind.MODEL: self.draft, DraftKind.IDEAL: "ideal draft"}.get(self.kind,
                                                                                  f"{self.kind} x{self.head_size}")
        return f"{what}, gamma {self.draft_tokens}"

    def to_dict(self) -> dict:
        """The record form (in a result's JSON).

        Returns
        -------
        dict
            ``kind``, ``draft``, ``head_size``, ``draft_tokens``, ``acceptance`` (one value when all
            positions share it), ``draft_devices``, ``acceptance_source``.
        """
        same = len(set(self.acceptance)) == 1
        return {"kind": str(self.kind), "draft": self.draft, "head_size": self.head_size,
                "draft_tokens": self.draft_tokens, "acceptance": self.acceptance[0] if same else list(self.acceptance),
                "draft_devices": self.draft_devices, "acceptance_source": self.acceptance_source}


def _positive(name: str, v) -> int:
    if isinstance(v, bool) or v is None or int(v) != v or v <= 0:
        raise InputError(f"{name} must be a positive integer, got {v!r}")
    return int(v)


def _rates(kind: DraftKind, acceptance) -> tuple[list[float], str]:
    """The acceptance rates asked for (checked), or the kind's published default and its source."""
    if acceptance is None:
        fig = ACCEPTANCE[kind]
        return [fig.nominal], fig.source
    vals = [acceptance] if isinstance(acceptance, (int, float)) else list(acceptance)
    if not vals:
        raise InputError("--acceptance needs at least one rate")
    for a in vals:
        if isinstance(a, bool) or not isinstance(a, (int, float)) or not 0.0 <= float(a) <= 1.0:
            raise InputError(f"an acceptance rate is a probability in [0, 1], got {a!r}")
    return [float(a) for a in vals], "given"


def _draft_length(kind: DraftKind, size: int, draft_tokens, rates: list[float]) -> int:
    """The draft length: given, or the length of a per-position list, or the kind's default."""
    if draft_tokens is not None:
        g = _positive("draft tokens", draft_tokens)
    elif len(rates) > 1:
        g = len(rates)
    else:
        g = size if kind is DraftKind.MTP else ACCEPTANCE[kind].draft_tokens
    if g > MAX_DRAFT_TOKENS:
        raise InputError(f"draft tokens {g} is more than the {MAX_DRAFT_TOKENS} a step may draft")
    if len(rates) > 1 and len(rates) != g:
        raise InputError(f"{len(rates)} per-position acceptance rates for {g} draft tokens; give one rate, "
                         f"or one per drafted token")
    return g


# ------------------------------------------------------------------------------------------------------
# the draft as a model: a separate model, or a head built from the target's own layers
# ------------------------------------------------------------------------------------------------------
def head_config(target: ModelConfig, spec: Speculation) -> ModelConfig:
    """The architecture one draft step of an MTP module or an EAGLE head runs, as a :class:`ModelConfig`.

    ``mtp``: one layer of the target's own kind (a mixture of experts when the target is one; DeepSeek-V3's
    module, arXiv 2412.19437 section 2.2). ``eagle``: ``head_size`` dense decoder layers with the target's
    attention and its dense MLP width (EAGLE, arXiv 2401.15077 section 4.1). Both read the shared embedding
    row and lm_head; neither has a sliding window.

    Parameters
    ----------
    target : ModelConfig
    spec : Speculation
        Of kind ``mtp`` or ``eagle``.

    Returns
    -------
    ModelConfig
        Keyed ``"<target>/mtp"`` or ``"<target>/eagle<K>"``.

    Raises
    ------
    InputError
        For a speculation that is not a head.
    """
    # a head's layers are full-attention layers with rotary positions (no chunks, no windows); the target's
    # per-layer patterns do not carry over
    common = dict(aliases=(), sliding_window=0, sliding_window_layers=0, first_dense_layers=0, attention_chunk=0,
                  layer_attention=(), layer_mlp=(), layer_rope=(), mtp_modules=0)
    if spec.kind is DraftKind.MTP:
        return replace(target, key=f"{target.key}/mtp", name=f"{target.name} MTP module", n_layers=1, **common)
    if spec.kind is DraftKind.EAGLE:
        return replace(target, key=f"{target.key}/eagle{spec.head_size}", name=f"{target.name} EAGLE head",
                       n_layers=spec.head_size, n_experts=0, experts_per_token=0, d_ff_expert=0,
                       n_shared_experts=0, d_ff_shared=0, **common)
    raise InputError(f"a {spec.kind} draft is not a head")


def _head_resident(target: ModelConfig, spec: Speculation, prec: Precision, par: Parallelism, batch, context):
    """Bytes a head adds to each device of the target's layout: its layers and input projections (the
    embedding and the lm_head are the target's), split over the tensor-parallel ranks, and its KV cache."""
    step = head_config(target, spec)
    layers = spec.head_size  # mtp: K modules of one layer each; eagle: one head of K layers
    projections = spec.head_size if spec.kind is DraftKind.MTP else 1
    d = step.d_model
    params = layers * step.layer_params(step.is_moe) + projections * (2 * d * d + step.norm_params())
    kv_model = replace(step, n_layers=layers)
    head_par = Parallelism(par.tp, 1)
    return (params * bytes_per_element(prec.weights) / par.tp
            + kv_cache_bytes(kv_model, prec, batch, context) / kv_shards(kv_model, head_par))


def _shared_parallel(par: Parallelism, draft: ModelConfig) -> Parallelism:
    """A draft model on the target's devices, split as far as its heads and layers allow."""
    tp = max(t for t in range(1, par.tp + 1) if draft.n_heads % t == 0)
    return Parallelism(tp, min(par.pp, draft.n_layers))


@dataclass(frozen=True)
class _SpeculativeDemand:
    """The target and, on the same devices, its draft (a model or a head): one demand for placement."""

    target: ModelDemand
    spec: Speculation
    draft: ModelConfig | None

    @property
    def key(self) -> str:
        return self.target.key

    @property
    def n_layers(self) -> int:
        return self.target.n_layers

    @property
    def n_heads(self) -> int:
        return self.target.n_heads

    @property
    def is_moe(self) -> bool:
        return self.target.is_moe

    def resident_bytes(self, par: Parallelism, batch, context):
        return self.target.resident_bytes(par, batch, context) + self.draft_bytes(par, batch, context)

    def draft_bytes(self, par: Parallelism, batch, context):
        """Bytes the draft adds to each of the target's devices [B] (the most any one of them holds)."""
        s = self.spec
        if s.kind is DraftKind.IDEAL or (s.kind is DraftKind.MODEL and s.draft_devices):
            return 0.0
        prec = self.target.prec
        if s.kind is DraftKind.MODEL:
            return resident_bytes_per_device(self.draft, prec, _shared_parallel(par, self.draft), batch, context)
        return _head_resident(self.target.model, s, prec, par, batch, context)

    def describe(self) -> str:
        return f"{self.target.describe()} with its draft ({self.spec.describe()})"


@dataclass(frozen=True)
class SpeculativePlacement:
    """Where the target and its draft run.

    Attributes
    ----------
    target : Placement
        The target's layout; its resident bytes include a draft that shares its devices.
    draft : Placement or None
        The layout one draft step runs on (None for an ideal draft).
    draft_model : ModelConfig or None
        What one draft step runs: the draft model, or the head of :func:`head_config`.
    draft_bytes_per_device : float
        What the draft adds to each of the target's devices [B].
    own_devices : int
        Devices a draft model has of its own (0 when it shares the target's) [1].
    head : bool
        The draft is a head (MTP modules or an EAGLE head) on the target's hidden state.
    """

    target: Placement
    draft: Placement | None
    draft_model: ModelConfig | None
    draft_bytes_per_device: float = 0.0
    own_devices: int = 0
    head: bool = False

    @property
    def devices(self) -> int:
        """Devices of the whole system: the target's and a draft model's own [1]."""
        return self.target.devices + self.own_devices


def resident_bytes(model: ModelConfig, prec: Precision, spec: Speculation, sp: SpeculativePlacement, batch, context):
    """Bytes each of the target's devices holds with its draft, at ``batch`` sequences of ``context`` tokens
    (plus the :math:`\\gamma + 1` a verify step appends).

    Parameters
    ----------
    model : ModelConfig
        The target.
    prec : Precision
    spec : Speculation
    sp : SpeculativePlacement
    batch, context : float or ndarray
        [1].

    Returns
    -------
    float or ndarray
        [B].
    """
    import numpy as np

    demand = _SpeculativeDemand(ModelDemand(model, prec), spec, sp.draft_model if sp.draft_model is not None
                                and spec.kind is DraftKind.MODEL else None)
    return demand.resident_bytes(sp.target.parallel, batch, np.asarray(context) + spec.verify_tokens)


def _draft_model(target: ModelConfig, spec: Speculation) -> ModelConfig | None:
    if spec.kind is DraftKind.MODEL:
        draft = get_model(spec.draft)
        if draft.vocab_size != target.vocab_size:
            raise InputError(f"draft model {draft.key} has a vocabulary of {draft.vocab_size:,} tokens, "
                             f"{target.key} one of {target.vocab_size:,}: a draft must share the target's tokens")
        return draft
    if spec.kind in (DraftKind.MTP, DraftKind.EAGLE):
        return head_config(target, spec)
    return None


def place_speculative(model: ModelConfig, device: Device, prec: Precision, spec: Speculation, batch: int = 1,
                      context: int = 2048, devices: int | None = None, tp: int | None = None,
                      pp: int | None = None) -> SpeculativePlacement:
    """Place a target with its draft: the fewest devices (or the forced layout) that hold both.

    The KV caches hold ``context`` tokens plus the :math:`\\gamma + 1` a verify step appends.

    Parameters
    ----------
    model : ModelConfig
        The target.
    device : Device
    prec : Precision
        Data types of target and draft.
    spec : Speculation
    batch, context : int
        Sequences and tokens per sequence the KV caches must hold [1].
    devices, tp, pp : int, optional
        Force the target's layout [1].

    Returns
    -------
    SpeculativePlacement

    Raises
    ------
    InputError
        A draft model whose vocabulary is not the target's, or an impossible layout.
    CapacityError
        When target and draft do not fit.
    """
    draft = _draft_model(model, spec)
    demand = _SpeculativeDemand(ModelDemand(model, prec), spec, draft)
    ctx = int(context) + spec.verify_tokens
    pl = _place(demand, device, batch, ctx, devices, tp, pp)
    extra = float(demand.draft_bytes(pl.parallel, batch, ctx))
    if draft is None:
        return SpeculativePlacement(pl, None, None, extra)
    if spec.kind is DraftKind.MODEL and spec.draft_devices:
        own = _place(ModelDemand(draft, prec), device, batch, ctx, devices=spec.draft_devices)
        return SpeculativePlacement(pl, own, draft, extra, own.devices)
    if spec.kind is DraftKind.MODEL:
        par = _shared_parallel(pl.parallel, draft)
        shared = _place(ModelDemand(draft, prec), device, batch, ctx, devices=par.devices, tp=par.tp, pp=par.pp)
        return SpeculativePlacement(pl, replace(shared, home=pl.home), draft, extra)
    links = {k: v for k, v in pl.links.items() if k != "pp"}
    head = Placement(device, Parallelism(pl.parallel.tp, 1), pl.home, links, extra, True)
    return SpeculativePlacement(pl, head, draft, extra, head=True)


# ------------------------------------------------------------------------------------------------------
# evaluation: the draft phase and the verify step, op by op on the engine
# ------------------------------------------------------------------------------------------------------
def _head_workload(head: ModelConfig, phase: Phase, prec: Precision, par: Parallelism):
    """One step of a draft head: its input projection, then its layers, norm and the shared lm_head."""
    from ..workloads.ir import Workload
    from .blocks import BlockContext, assemble, draft_input_projection

    c = BlockContext.of(head, phase, prec, par)
    wl = assemble(c)
    return Workload(f"{head.key} {phase}", draft_input_projection(c) + tuple(wl.ops), resident=wl.resident,
                    meta=dict(wl.meta))


def _compiled(model: ModelConfig, device: Device, phase: Phase, prec: Precision, pl: Placement, ideal: bool,
              overlap: str, head: bool = False):
    """A model's (or a head's) workload for this placement, lambdified, through the cache; a plain model
    shares its key with :mod:`roofline.llm.inference`."""
    from ..engine.cache import cached_compile, device_signature
    from ..engine.compiled import compile_workload
    from .workload import llm_workload

    key = (f"llm|{model!r}|{phase}|{prec!r}|{pl.parallel!r}|{sorted(pl.links.items())!r}|"
           f"{device_signature(device)}|{ideal}|{overlap}" + ("|draft-head" if head else ""))

    def build():
        wl = (_head_workload(model, phase, prec, pl.parallel) if head
              else llm_workload(model, phase, prec, pl.parallel, pl.links))
        return compile_workload(wl, device, overlap, ideal, pl.links)

    return cached_compile(key, build)


def _run(cw, device: Device, pl: Placement, shapes: Mapping, corner: Corner, detail: bool = False) -> dict:
    """Evaluate a compiled step at ``shapes`` and corner ``corner``, its data in the placement's home level."""
    import numpy as np

    vals = device.values(corner)
    caps = [vals[f"memory.{lvl.name}.capacity"] for lvl in device.memory]
    out = cw.evaluate(shapes, vals, caps, devices=1, home=pl.home, detail=detail)
    out["labels"] = cw.labels
    out["bound"] = np.asarray(cw.labels, dtype=object)[out["bound_index"]]
    return out


def _draft_step(device: Device, prec: Precision, sp: SpeculativePlacement, phase: Phase, shapes: Mapping,
                ideal: bool, overlap: str, corner: Corner, detail: bool = False) -> dict | None:
    """One draft step (or the draft's prefill) at ``shapes``; None for an ideal draft."""
    if sp.draft_model is None:
        return None
    cw = _compiled(sp.draft_model, device, phase, prec, sp.draft, ideal, overlap, head=sp.head)
    return _run(cw, device, sp.draft, shapes, corner, detail)


def speculative_step(model: ModelConfig, device: Device, prec: Precision, sp: SpeculativePlacement,
                     spec: Speculation, batch, context, ideal: bool = False, overlap: str = "max",
                     corner: Corner = Corner.NOMINAL, detail: bool = False) -> dict:
    """One speculative step at the points ``(batch, context)``: :math:`\\gamma` draft steps, one verify step.

    Parameters
    ----------
    model : ModelConfig
        The target.
    device : Device
    prec : Precision
    sp : SpeculativePlacement
        From :func:`place_speculative`.
    spec : Speculation
    batch, context : int or array_like
        Sequences in flight and tokens in the KV cache [1] (broadcasting).
    ideal : bool
        Leave out latency and overhead terms.
    overlap : str
        ``max`` or ``sum``.
    corner : Corner
        Corner of the device's figures.
    detail : bool
        Keep the verify step's term times (``verify["term_times"]``).

    Returns
    -------
    dict
        ``draft_time_s`` (all :math:`\\gamma` draft steps) [s], ``verify_time_s`` [s], ``time_s`` (their sum)
        [s], ``tokens_per_step`` [1], ``tpot_s`` (time per output token, ``time_s / tokens_per_step``) [s],
        ``bound`` (of the verify step), ``draft_bound``, and the engine's records ``verify`` and ``draft``.
    """
    import numpy as np

    shapes = {"b": batch, "s": context}
    ver = _run(_compiled(model, device, Phase.VERIFY, prec, sp.target, ideal, overlap), device, sp.target,
               {**shapes, "q": spec.verify_tokens}, corner, detail)
    drf = _draft_step(device, prec, sp, Phase.DECODE, shapes, ideal, overlap, corner)
    t_draft = spec.draft_tokens * drf["time_s"] if drf is not None else np.zeros_like(ver["time_s"])
    e = spec.tokens_per_step
    total = t_draft + ver["time_s"]
    return {"draft_time_s": t_draft, "verify_time_s": ver["time_s"], "time_s": total, "tokens_per_step": e,
            "tpot_s": total / e, "bound": ver["bound"], "draft_bound": drf["bound"] if drf is not None else "none",
            "verify": ver, "draft": drf}


def draft_prefill_s(device: Device, prec: Precision, sp: SpeculativePlacement, batch, prompt, target_prefill_s,
                    ideal: bool = False, overlap: str = "max", corner: Corner = Corner.NOMINAL):
    """What the draft adds to the time to first token: its own prefill of the prompt.

    A head or a draft model on the target's devices prefills after the target (a head needs its hidden
    states); a draft model on devices of its own prefills at the same time, and adds only what it takes
    beyond the target's prefill.

    Parameters
    ----------
    device : Device
    prec : Precision
    sp : SpeculativePlacement
    batch, prompt : int or array_like
        Sequences and prompt tokens per sequence [1].
    target_prefill_s : float or array_like
        The target's prefill [s].
    ideal : bool
    overlap : str
    corner : Corner

    Returns
    -------
    float or ndarray
        [s]; 0 for an ideal draft.
    """
    import numpy as np

    run = _draft_step(device, prec, sp, Phase.PREFILL, {"b": batch, "p": prompt}, ideal, overlap, corner)
    if run is None:
        return 0.0 * np.asarray(target_prefill_s)
    if sp.own_devices:
        return np.maximum(run["time_s"] - target_prefill_s, 0.0)
    return run["time_s"]


# ------------------------------------------------------------------------------------------------------
# symbolic forms, and where they land on a device
# ------------------------------------------------------------------------------------------------------
def speedup_closed_form():
    """The speed-up of speculative decoding as a SymPy expression of :math:`\\alpha, \\gamma, c, v`.

    .. math:: S = \\frac{1 - \\alpha^{\\gamma + 1}}{(1 - \\alpha)(\\gamma c + v)}

    (:func:`roofline.formulas.speculative_speedup`): :math:`c` is one draft step over one target decode
    step, :math:`v` the verify step over one decode step; both depend on the batch through the device's
    roofline, which :func:`break_even_batch` follows.

    Returns
    -------
    sympy.Expr
        In the positive symbols ``alpha``, ``gamma``, ``c`` and ``v``.
    """
    import sympy as sp

    a, g, c, v = (sp.Symbol(n, positive=True) for n in ("alpha", "gamma", "c", "v"))
    return formulas.speculative_speedup(a, g, c, v)


def _setup(model, device, spec: Speculation, batch, context, prec, dtype, devices, ideal=False):
    from ..hardware.library import get_device
    from ..hardware.measured import device_for

    m = get_model(model)
    dev = device_for(get_device(device), ideal)  # not ideal: the estimate, on measured ceilings
    prec = prec or Precision.of(dtype)
    return m, dev, prec, place_speculative(m, dev, prec, spec, batch, context, devices)


def _decode_time(m, dev, prec, sp: SpeculativePlacement, b, s, ideal, overlap, corner=Corner.NOMINAL):
    """A plain decode step of the target on the same placement [s]."""
    return _run(_compiled(m, dev, Phase.DECODE, prec, sp.target, ideal, overlap), dev, sp.target,
                {"b": b, "s": s}, corner)["time_s"]


def _tokens(spec: Speculation, gammas: np.ndarray) -> np.ndarray:
    """Expected tokens per step at each draft length, extending the last per-position rate."""
    import numpy as np

    return np.array([spec.with_draft_tokens(int(g)).tokens_per_step for g in gammas])


def optimal_draft_tokens(model: str | ModelConfig, device: str | Device, spec: Speculation, batch: int = 1,
                         context: int = 2048, max_draft_tokens: int = 16, dtype: str = "bf16",
                         prec: Precision | None = None, devices: int | None = None, ideal: bool = False,
                         overlap: str = "max") -> dict:
    """The draft length that maximises tokens/s per user: a closed form, and the whole optimum on the engine.

    The closed form is :func:`roofline.formulas.optimal_draft_tokens`,
    :math:`\\gamma^* = (1 + W_{-1}(-\\alpha^{v/c - 1}/e)) / \\ln\\alpha - v/c`, with :math:`c` (one draft step
    over one decode step) and :math:`v` (the verify step at the best length over one decode step) measured
    on the device. The engine then evaluates the verify step at every :math:`q = \\gamma + 1` (one compiled
    function: ``q`` is a shape symbol) and picks the best whole :math:`\\gamma`.

    Parameters
    ----------
    model : str or ModelConfig
        The target.
    device : str or Device
    spec : Speculation
        The draft and its acceptance (a per-position list is extended with its last rate).
    batch, context : int
        [1].
    max_draft_tokens : int
        The longest draft tried [1].
    dtype : str
    prec : Precision, optional
    devices : int, optional
        Force the target's device count [1].
    ideal : bool
    overlap : str

    Returns
    -------
    dict
        ``closed_form`` (SymPy, in ``alpha``, ``c``, ``v``), ``gamma_closed_form`` [1], ``draft_tokens`` (the
        best whole length on the engine) [1], ``draft_tokens_grid`` and ``tokens_per_s_per_user`` (per length)
        [1], [1/s], ``cost_ratio`` and ``verify_ratio`` [1].
    """
    import numpy as np
    import sympy as sp

    m, dev, prec, spl = _setup(model, device, spec.with_draft_tokens(max_draft_tokens), batch, context, prec,
                               dtype, devices, ideal)
    g = np.arange(1, int(max_draft_tokens) + 1, dtype=float)
    t_dec = float(_decode_time(m, dev, prec, spl, batch, context, ideal, overlap))
    t_ver = _run(_compiled(m, dev, Phase.VERIFY, prec, spl.target, ideal, overlap), dev, spl.target,
                 {"b": batch, "s": context, "q": g + 1}, Corner.NOMINAL)["time_s"]
    drf = _draft_step(dev, prec, spl, Phase.DECODE, {"b": batch, "s": context}, ideal, overlap, Corner.NOMINAL)
    t_d = float(drf["time_s"]) if drf is not None else 0.0
    rate = _tokens(spec, g) / (g * t_d + t_ver)
    best = int(np.argmax(rate))
    c, v = t_d / t_dec, float(t_ver[best]) / t_dec
    a, cs, vs = (sp.Symbol(n, positive=True) for n in ("alpha", "c", "v"))
    return {"closed_form": formulas.optimal_draft_tokens(a, cs, vs),
            "gamma_closed_form": float(formulas.optimal_draft_tokens(spec.acceptance[0], c, v)),
            "draft_tokens": int(g[best]), "draft_tokens_grid": g.astype(int), "tokens_per_s_per_user": rate,
            "cost_ratio": c, "verify_ratio": v}


def _step_roofline(m, dev, prec, sp: SpeculativePlacement, context, ideal, overlap):
    """The decode step's whole-step roofline: weight time, KV time per sequence, compute time per token [s]."""
    import numpy as np

    cw = _compiled(m, dev, Phase.DECODE, prec, sp.target, ideal, overlap)
    r = _run(cw, dev, sp.target, {"b": np.array([1.0, 2.0]), "s": context}, Corner.NOMINAL)
    q1, q2 = (float(x) for x in r["bytes"])
    bw = dev.memory[sp.target.home].bandwidth_bytes_per_s
    peak = dev.peak(compute_dtype(prec.weights, prec.activations))
    return (q1 - (q2 - q1)) / bw, (q2 - q1) / bw, float(r["flops"][0]) / peak


def break_even_batch(model: str | ModelConfig, device: str | Device, spec: Speculation, context: int = 2048,
                     dtype: str = "bf16", prec: Precision | None = None, devices: int | None = None,
                     ideal: bool = False, overlap: str = "max", max_batch: int = 65536) -> dict:
    """The batch above which speculation stops paying on a device: a closed form, and the batch on the engine.

    The closed form (:func:`roofline.formulas.speculative_break_even_batch`) reads the step as one roofline,
    :math:`b^* = (E - \\gamma c)\\, t_w / ((\\gamma + 1) t_f - (E - \\gamma c)\\, t_{kv})`, with :math:`t_w`,
    :math:`t_{kv}`, :math:`t_f` and :math:`c` taken from the engine's decode step; the engine's own answer
    sums every op's roofline and is located by bisection on the speed-up
    :math:`E\\,t_\\text{dec}(b) / (\\gamma t_\\text{draft}(b) + t_\\text{verify}(b))`.

    Parameters
    ----------
    model : str or ModelConfig
        The target.
    device : str or Device
    spec : Speculation
    context : int
        [1].
    dtype : str
    prec : Precision, optional
    devices : int, optional
        Force the target's device count [1].
    ideal : bool
    overlap : str
    max_batch : int
        The largest batch looked at (fewer when the KV caches stop fitting) [1].

    Returns
    -------
    dict
        ``closed_form`` (SymPy, in ``E``, ``gamma``, ``c``, ``t_w``, ``t_kv``, ``t_f``), ``closed_form_value``
        [1], ``batch`` (on the engine; None when speculation pays at every batch that fits, 0 when it never
        pays) [1], ``speedup_at_batch_1`` [1], ``max_batch`` (the largest that fits) [1].
    """
    import numpy as np
    import sympy as sp

    m, dev, prec, spl = _setup(model, device, spec, 1, context, prec, dtype, devices, ideal)
    grid = np.unique(np.round(np.geomspace(1, max_batch, 200)))
    fits = np.asarray(resident_bytes(m, prec, spec, spl, grid, context)) <= dev.memory[spl.target.home].capacity_bytes
    grid = grid[fits]

    def gain(b):
        step = speculative_step(m, dev, prec, spl, spec, b, context, ideal, overlap)
        return spec.tokens_per_step * _decode_time(m, dev, prec, spl, b, context, ideal, overlap) / step["time_s"]

    s = np.asarray(gain(grid), dtype=float)
    tw, tkv, tf = _step_roofline(m, dev, prec, spl, context, ideal, overlap)
    c = float(speculative_step(m, dev, prec, spl, spec, 1, context, ideal, overlap)["draft_time_s"]) \
        / spec.draft_tokens / float(_decode_time(m, dev, prec, spl, 1, context, ideal, overlap))
    syms = sp.symbols("E gamma c t_w t_kv t_f", positive=True)
    closed = formulas.speculative_break_even_batch(*syms)
    value = float(formulas.speculative_break_even_batch(spec.tokens_per_step, spec.draft_tokens, c, tw, tkv, tf))
    return {"closed_form": closed, "closed_form_value": value, "batch": _crossing(gain, grid, s),
            "speedup_at_batch_1": float(s[0]), "max_batch": int(grid[-1])}


def _crossing(gain, grid: np.ndarray, s: np.ndarray) -> float | None:
    """The first batch where ``gain`` falls through 1, refined by bisection; 0 if never above, None if never below."""
    import numpy as np

    if s[0] < 1.0:
        return 0.0
    below = np.nonzero(s < 1.0)[0]
    if below.size == 0:
        return None
    lo, hi = float(grid[below[0] - 1]), float(grid[below[0]])
    for _ in range(60):
        mid = 0.5 * (lo + hi)
        lo, hi = (mid, hi) if float(gain(mid)) >= 1.0 else (lo, mid)
    return 0.5 * (lo + hi)


# ------------------------------------------------------------------------------------------------------
# the fields an estimate reports (roofline.llm.inference)
# ------------------------------------------------------------------------------------------------------
def corner_fields(model: ModelConfig, device: Device, prec: Precision, sp: SpeculativePlacement, spec: Speculation,
                  batch: int, context: int, prompt: int, generate: int, prefill_s: float, ideal: bool = False,
                  overlap: str = "max", corner: Corner = Corner.NOMINAL) -> dict:
    """An estimate's numbers at one corner with speculation: what replaces the plain decode step.

    Parameters
    ----------
    model : ModelConfig
        The target.
    device : Device
    prec : Precision
    sp : SpeculativePlacement
    spec : Speculation
    batch, context, prompt, generate : int
        As in :func:`roofline.llm.inference.estimate` [1] (``generate`` 0 without a request).
    prefill_s : float
        The target's prefill [s].
    ideal : bool
    overlap : str
    corner : Corner

    Returns
    -------
    dict
        ``ttft_s`` (with the draft's prefill), ``tpot_s`` (step over tokens per step), ``bound`` and
        ``decode`` (the verify step's), ``draft_time_s``, ``verify_time_s`` [s], ``tokens_per_step`` [1],
        ``draft_bound``; with ``generate``, ``request_latency_s`` [s].
    """
    st = speculative_step(model, device, prec, sp, spec, batch, context, ideal, overlap, corner, detail=True)
    ttft = prefill_s + float(draft_prefill_s(device, prec, sp, batch, prompt, prefill_s, ideal, overlap, corner))
    out = {"ttft_s": ttft, "tpot_s": float(st["tpot_s"]), "bound": str(st["bound"]), "decode": st["verify"],
           "draft_time_s": float(st["draft_time_s"]), "verify_time_s": float(st["verify_time_s"]),
           "tokens_per_step": float(st["tokens_per_step"]), "draft_bound": str(st["draft_bound"])}
    if generate:
        import numpy as np

        # generate / E steps, each at the mean step time over the contexts the request passes through
        steps = speculative_step(model, device, prec, sp, spec, batch, prompt + np.arange(generate), ideal,
                                 overlap, corner)
        out["request_latency_s"] = ttft + float(np.mean(steps["time_s"])) * generate / st["tokens_per_step"]
    return out


def result_fields(spec: Speculation, sp: SpeculativePlacement, corners: Mapping) -> dict:
    """The speculative fields of an :class:`~roofline.llm.result.LLMEstimate` from its corners' records.

    Parameters
    ----------
    spec : Speculation
    sp : SpeculativePlacement
    corners : mapping of Corner to dict
        The records of :func:`corner_fields` merged into each corner's estimate.

    Returns
    -------
    dict
        ``tokens_per_step`` [1], ``draft_time_s`` and ``verify_time_s`` (:class:`~roofline.vocab.Ranged`)
        [s], ``speculation`` (:meth:`Speculation.to_dict` with ``draft_bound``,
        ``draft_bytes_per_device`` [B] and ``system_devices`` [1]).
    """
    from ..engine.corners import ranged

    nom = corners[Corner.NOMINAL]
    info = {**spec.to_dict(), "draft_bound": nom["draft_bound"],
            "draft_bytes_per_device": sp.draft_bytes_per_device, "system_devices": sp.devices}
    return {"tokens_per_step": nom["tokens_per_step"], "draft_time_s": ranged(corners, "draft_time_s"),
            "verify_time_s": ranged(corners, "verify_time_s"), "speculation": info}
