"""The result of an LLM inference estimate: :class:`LLMEstimate`, with ``to_dict()`` for JSON and
``_repr_html_`` for notebooks.

Times and rates that depend on estimated device figures are :class:`~roofline.vocab.Ranged` (nominal,
best, worst); the record form spells a range as ``<field>_range = [low, high]`` beside ``<field>``.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field, fields
from typing import Mapping

from ..vocab import Ranged

__all__ = ["LLMEstimate"]

#: fields present only when a whole request (``generate`` tokens) was estimated
_REQUEST_FIELDS = ("generate", "request_latency_s", "request_tokens_per_s_per_user", "request_tokens_per_s")

#: fields present only with speculative decoding (``tokens_per_step`` is None without it)
_SPECULATIVE_FIELDS = ("tokens_per_step", "draft_time_s", "verify_time_s", "speculation")

#: rates whose range follows the decode step's (they are present only when ``tpot_s`` has one)
_DECODE_RATES = ("tokens_per_s_per_user", "tokens_per_s", "energy_per_token_j")

#: cost figures, whose range also follows the price's and the power's
_COST_FIELDS = ("price_usd_per_device_hour", "usd_per_million_tokens", "tokens_per_s_per_mw")

#: ``<field>_range`` of the fields that can have a range (spelled once, not per record)
_RANGE_NAME = {n: f"{n}_range" for n in ("ttft_s", "tpot_s", "request_latency_s", "draft_time_s", "verify_time_s",
                                         *_DECODE_RATES, *_COST_FIELDS)}


def _ranged_names(request: bool, speculative: bool, decode_range: bool) -> tuple[tuple[str, str], ...]:
    """The fields whose range the record form spells (:meth:`LLMEstimate._ranges`), in its order, each with
    the name of its range: the times, the request's and the speculative ones when present, the decode rates
    when the decode step has a range, the cost figures."""
    names = ("ttft_s", "tpot_s") + (("request_latency_s",) if request else ()) \
        + (("draft_time_s", "verify_time_s") if speculative else ()) + (_DECODE_RATES if decode_range else ())
    return tuple((n, _RANGE_NAME.get(n) or f"{n}_range") for n in names + _COST_FIELDS)


_RANGED_NAMES = {(r, s, d): _ranged_names(r, s, d) for r in (False, True) for s in (False, True) for d in (False, True)}


@functools.lru_cache(maxsize=1)
def _field_table() -> tuple[frozenset, frozenset, tuple]:
    """The names of :class:`LLMEstimate`'s fields, those without a default, and ``(name, make default)``."""
    from dataclasses import MISSING

    fs = fields(LLMEstimate)
    required = frozenset(f.name for f in fs if f.default is MISSING and f.default_factory is MISSING)
    defaults = tuple((f.name, f.default_factory if f.default_factory is not MISSING else (lambda v=f.default: v))
                     for f in fs if f.name not in required)
    return frozenset(f.name for f in fs), required, defaults


@functools.lru_cache(maxsize=4)
def _record_names(request: bool, speculative: bool) -> tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...],
                                                               list, tuple[str, ...]]:
    """The fields of the record form (:meth:`LLMEstimate.to_dict`) in order, without ``modes`` (last, on its
    own), with or without the request's and the speculative fields; those of them that are mappings (copied
    into plain dicts); those that may hold a :class:`~roofline.vocab.Ranged` (spelled by its nominal); every
    field in order (a list, to compare a state's keys with); and the fields the record leaves out, ``modes``
    last."""
    skip = {"modes"} | (set() if request else set(_REQUEST_FIELDS)) | (set() if speculative else
                                                                       set(_SPECULATIVE_FIELDS))
    every = [f.name for f in fields(LLMEstimate)]
    names = tuple(n for n in every if n not in skip)
    maps = tuple(f.name for f in fields(LLMEstimate) if f.name in names and "Mapping" in str(f.type))
    ranged = tuple(f.name for f in fields(LLMEstimate) if f.name in names and "Ranged" in str(f.type))
    return names, maps, ranged, every, tuple(n for n in every if n in skip and n != "modes") + ("modes",)


@dataclass(frozen=True)
class LLMEstimate:
    """Prefill and decode of one model on one placement; field order is the order of :meth:`to_dict`.

    Attributes
    ----------
    model, device : str
        Keys.
    weight_dtype, activation_dtype, kv_dtype : str
    batch : int
        Sequences in flight [1].
    context : int
        Tokens in the KV cache at the decode step [1].
    prompt : int
        Prompt tokens per sequence [1].
    ideal : bool
        Latency and overhead terms left out.
    overlap : str
        ``max`` or ``sum``.
    devices_used, tp, pp : int
        The layout [1].
    placement : str
        ``auto`` or ``forced``.
    weights_level : str
        The memory level holding the resident set.
    weights_bytes, kv_cache_bytes : float
        Whole model [B].
    resident_bytes_per_device, capacity_bytes_per_device : float
        [B].
    links : mapping of str to str
        Link role to link name.
    ttft_s, tpot_s : Ranged
        Time to first token (the prefill) and per output token (one decode step) [s].
    tokens_per_s_per_user, tokens_per_s : Ranged
        :math:`1 / t_\\text{tpot}` and :math:`b / t_\\text{tpot}` [1/s].
    bound, prefill_bound : str
        The term that binds the decode step and the prefill.
    energy_per_token_j : Ranged or None
        At the device's power [J]; None without a power figure.
    decode_terms_s, prefill_terms_s : mapping of str to float
        Time of each term summed over ops [s].
    decode_flops, decode_bytes, prefill_flops, prefill_bytes : float
        Per device [FLOP], [B].
    generate : int
        Tokens generated per request [1]; 0 without a request.
    request_latency_s : Ranged or None
        Prefill plus ``generate`` decode steps [s].
    request_tokens_per_s_per_user, request_tokens_per_s : float or None
        [1/s].
    price_usd_per_device_hour : Ranged or None
        Rental price of one device for one hour [USD/h]: given, or from the price table (its range:
        cheapest and dearest list price); None without either.
    price_source : str or None
        Where the price comes from: ``"given"`` or the price table's entry and sources.
    usd_per_million_tokens : Ranged or None
        What a million generated tokens cost at the decode rate ``tokens_per_s`` on ``devices_used``
        devices [USD] (:func:`~roofline.formulas.usd_per_million_tokens`); prefill is not charged. The best
        corner takes the cheapest price and the fastest step. None without a price.
    tokens_per_s_per_mw : Ranged or None
        Generated tokens per second per megawatt of device power [1/(s MW)]
        (:func:`~roofline.formulas.tokens_per_s_per_mw`); None without a power figure.
    compute_fallback : mapping of str to str
        Data types computed at another type's peak because the device publishes none for them
        (``{"bf16": "fp16"}`` on a device without bf16; :func:`roofline.dtypes.peak_dtype`); empty otherwise.
    tokens_per_step : float or None
        With speculative decoding: tokens each step emits per sequence [1]; ``tpot_s`` is then the step's
        time over them, and ``bound``, ``decode_terms_s``, ``decode_flops`` and ``decode_bytes`` describe
        the verify step.
    draft_time_s, verify_time_s : Ranged or None
        The draft phase (all its steps) and the verify step [s].
    speculation : mapping or None
        What drafts and how much is accepted (:meth:`roofline.llm.speculative.Speculation.to_dict`), the
        draft's bound, the bytes it adds per device and the devices of the whole system.
    dp, ep : int
        Replicas, and devices the routed experts of a stage are spread over [1].
    attention : str
        ``tp`` or ``dp``: tensor- or data-parallel attention.
    micro_batches : int
        Micro-batches in flight through the pipeline [1].
    imbalance : float
        Busiest expert device's load over the mean [1].
    modes : mapping of str to mapping
        ``ideal``, ``latency_bound`` and ``estimate``, each with ``ttft_s`` [s], ``tpot_s`` [s],
        ``tokens_per_s_per_user`` [1/s], ``tokens_per_s`` [1/s], ``bound`` and ``prefill_bound`` (the binding
        terms) and the ``corner`` it is evaluated at (the bounds at ``best``, the estimate at ``nominal``,
        with ``<field>_range`` for a device with ranges); see :data:`roofline.llm.inference.MODES`.
    """

    model: str
    device: str
    weight_dtype: str
    activation_dtype: str
    kv_dtype: str
    batch: int
    context: int
    prompt: int
    ideal: bool
    overlap: str
    devices_used: int
    tp: int
    pp: int
    placement: str
    weights_level: str
    weights_bytes: float
    kv_cache_bytes: float
    resident_bytes_per_device: float
    capacity_bytes_per_device: float
    links: Mapping[str, str]
    ttft_s: Ranged
    tpot_s: Ranged
    tokens_per_s_per_user: Ranged
    tokens_per_s: Ranged
    bound: str
    prefill_bound: str
    energy_per_token_j: Ranged | None
    decode_terms_s: Mapping[str, float]
    prefill_terms_s: Mapping[str, float]
    decode_flops: float
    decode_bytes: float
    prefill_flops: float
    prefill_bytes: float
    price_usd_per_device_hour: Ranged | None = None
    price_source: str | None = None
    usd_per_million_tokens: Ranged | None = None
    tokens_per_s_per_mw: Ranged | None = None
    compute_fallback: Mapping[str, str] = field(default_factory=dict)
    generate: int = 0
    request_latency_s: Ranged | None = None
    request_tokens_per_s_per_user: float | None = None
    request_tokens_per_s: float | None = None
    # speculative decoding (present only with a draft)
    tokens_per_step: float | None = None
    draft_time_s: Ranged | None = None
    verify_time_s: Ranged | None = None
    speculation: Mapping[str, object] | None = None
    dp: int = 1
    ep: int = 1
    attention: str = "tp"
    micro_batches: int = 1
    imbalance: float = 1.0
    modes: Mapping[str, Mapping] = field(default_factory=dict)

    @classmethod
    def of(cls, **values) -> "LLMEstimate":
        """``LLMEstimate(**values)`` without the frozen dataclass's ``object.__setattr__`` per field (about 55
        of them: a tenth of a warm estimate); the same checks of missing and unknown fields, the same
        defaults.

        Parameters
        ----------
        **values
            Every field without a default, and any with one.

        Returns
        -------
        LLMEstimate

        Raises
        ------
        TypeError
            A field without a default is missing, or a name is not a field.
        """
        names, required, defaults = _field_table()
        if not values.keys() <= names or not required <= values.keys():
            return cls(**values)  # the dataclass's own message
        obj = object.__new__(cls)
        state = obj.__dict__
        made = dict(defaults)
        for name in _record_names(False, False)[3]:  # in field order, as the dataclass's own __init__ sets them
            state[name] = values[name] if name in values else made[name]()
        return obj

    @classmethod
    def _of_state(cls, state: dict) -> "LLMEstimate":
        """An estimate whose state is ``state``, a dict of every field in field order (no check, no default, no
        copy: the estimate holds ``state`` itself): for a caller that writes every field itself
        (:func:`roofline.llm.inference._direct`)."""
        obj = object.__new__(cls)
        _set(obj, "__dict__", state)
        return obj

    def _ranges(self, out: dict | None = None) -> dict:
        """``<field>_range = [low, high]`` of each field with a range, in record order, written into ``out``."""
        state = self.__dict__
        tpot = state["tpot_s"]
        names = _RANGED_NAMES[(bool(state["generate"]), state["tokens_per_step"] is not None, tpot.has_range)]
        out = {} if out is None else out
        for name, range_name in names:
            value = state[name]
            if value is not None:
                lo, hi = value.best, value.worst
                if lo != hi:  # Ranged.has_range, inline (equal ends have none; NaN fails every test below)
                    if lo > hi:
                        lo, hi = hi, lo
                    big = hi if hi > -lo else -lo  # max(|best|, |worst|); hi - lo is |best - worst| exactly
                    if hi - lo > 1e-9 * (big if big > 1e-300 else 1e-300):
                        out[range_name] = [lo, hi]
        return out

    def to_dict(self) -> dict:
        """The record form (the JSON of ``roofline llm``): nominal values, then ``<field>_range`` entries.

        Returns
        -------
        dict
            Keys in field order; the request fields only with ``generate``, the speculative ones only with a
            draft; ``<field>_range = [low, high]`` for each time and rate that has a range.
        """
        return self._record_into({})

    def _record_into(self, out: dict) -> dict:
        """:meth:`to_dict` written into ``out`` (an empty dict, or a :class:`~roofline.vocab.Record`)."""
        state = self.__dict__
        names, mappings, ranged, every, left = _record_names(bool(state["generate"]),
                                                            state["tokens_per_step"] is not None)
        if not out and list(state) == every:  # the state in field order (as made here): copied in one step
            out.update(state)
            for n in left:
                del out[n]
        else:
            for n in names:
                out[n] = state[n]
        for n in ranged:
            v = out[n]
            if type(v) is Ranged:
                out[n] = v.nominal
        for n in mappings:
            if out[n] is not None:
                out[n] = dict(out[n])
        self._ranges(out)
        out["modes"] = {k: dict(v) for k, v in self.modes.items()}
        return out

    def to_frame(self):
        """The estimate as a one-row tidy DataFrame (for pandas, notebooks and reports).

        A range is spelled ``<field>_best`` / ``<field>_worst`` (:meth:`Ranged.to_columns`), a term
        mapping ``decode_terms_s.<term>``; ``attrs`` carries the model, the device and each column's unit
        (:func:`roofline.units.unit_of_column`).

        Returns
        -------
        pandas.DataFrame
        """
        import pandas as pd

        from ..units import unit_of_column

        row: dict = {}
        for f in fields(self):
            if f.name in _REQUEST_FIELDS and not self.generate:
                continue
            v = getattr(self, f.name)
            if isinstance(v, Ranged):
                row.update(v.to_columns(f.name))
            elif isinstance(v, Mapping):
                row.update({f"{f.name}.{k}": x for k, x in v.items()})
            else:
                row[f.name] = v
        df = pd.DataFrame([row])
        df.attrs.update(model=self.model, device=self.device, devices=self.devices_used,
                        units={c: unit_of_column(c) for c in df.columns if unit_of_column(c)})
        return df

    def _repr_html_(self) -> str:
        """A small HTML table of the headline numbers, with ranges where the device has them (for notebooks).

        Returns
        -------
        str
            An HTML ``<table>``.
        """
        import html

        rows = [("placement", f"{self.devices_used} × {self.device} (tp={self.tp}, pp={self.pp}, dp={self.dp}, "
                              f"ep={self.ep}, attention {self.attention}), weights in {self.weights_level}", ""),
                ("time to first token [s]", *_cells(self.ttft_s)), ("prefill bound", self.prefill_bound, ""),
                ("time per output token [s]", *_cells(self.tpot_s)), ("decode bound", self.bound, ""),
                ("tokens/s per user", *_cells(self.tokens_per_s_per_user)),
                ("tokens/s", *_cells(self.tokens_per_s))]
        if self.energy_per_token_j is not None:
            rows.append(("energy per token [J]", *_cells(self.energy_per_token_j)))
        if self.tokens_per_s_per_mw is not None:
            rows.append(("tokens/s per MW", *_cells(self.tokens_per_s_per_mw)))
        if self.usd_per_million_tokens is not None:
            rows.append(("USD per million tokens", *_cells(self.usd_per_million_tokens)))
        if self.compute_fallback:
            rows.append(("computed at", ", ".join(f"{a} at the {b} peak" for a, b in self.compute_fallback.items()),
                         ""))
        if self.generate:
            rows.append((f"request latency ({self.generate} tokens) [s]", *_cells(self.request_latency_s)))
        if self.tokens_per_step is not None:
            rows += [("tokens per step", f"{self.tokens_per_step:.4g}", ""),
                     ("draft time per step [s]", *_cells(self.draft_time_s)),
                     ("verify time per step [s]", *_cells(self.verify_time_s))]
        for name, rec in self.modes.items():
            rows.append((f"tokens/s per user, {name} ({rec.get('corner', '')})",
                         f"{rec['tokens_per_s_per_user']:.4g}", str(rec.get("bound", ""))))
        body = "".join(f"<tr><td>{html.escape(a)}</td><td>{html.escape(str(b))}</td><td>{html.escape(c)}</td></tr>"
                       for a, b, c in rows)
        title = html.escape(f"{self.model} on {self.device}, batch {self.batch}, context {self.context}")
        return (f"<table><caption>{title}</caption><thead><tr><th>quantity</th><th>value</th><th>range</th>"
                f"</tr></thead><tbody>{body}</tbody></table>")


_set = object.__setattr__


def _cells(r: Ranged) -> tuple[str, str]:
    return f"{r.nominal:.4g}", (f"{r.low:.4g} – {r.high:.4g}" if r.has_range else "")
