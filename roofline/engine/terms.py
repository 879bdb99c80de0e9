r"""The roofline engine: time terms, bounds, binding terms, ridge points, break-even points, sensitivities.

For one op on one device the time terms are

.. math::
    t_\text{compute} = \frac{F}{P_\text{dtype}}, \qquad
    t_{\text{memory}:\ell} = \frac{Q}{BW_\ell} \;(\ell \le h), \qquad
    t_{\text{interconnect}:k} = \frac{Q_k}{BW_k^{\rightarrow}} + n_k\,\tau_k, \qquad
    t_\text{latency} = \sum \tau_\text{overheads}

where :math:`h` is the *home* level: the fastest memory level that holds the working set (data there
passes through every faster level on its way to the cores, so each of those sees the same traffic), and
:math:`BW_k^{\rightarrow}` the bandwidth of link :math:`k` in one direction. The op's time is
``max`` of the terms under full overlap (the roofline) or their sum without overlap (an upper bound). A
workload's time is the sum of its ops' times (per-operator, not one roofline over the whole workload).
``ideal=True`` drops the latency term and link latencies: the pure roofline.

Symbolic expressions come from :func:`time_expr` and friends; numbers for whole grids come from
:func:`compile_workload`, which lambdifies the same expressions into NumPy functions.
"""

from __future__ import annotations

from typing import Mapping, Sequence

from ..errors import InputError
from ..hardware.device import Device

__all__ = ['OVERLAP_MODELS', 'term_labels', 'RESIDENT_ROLES', 'split_bytes', 'op_terms', 'default_home', 'time_expr']


#: Overlap models: ``max`` (full overlap of compute, memory and links: the roofline, a lower bound on
#: time) and ``sum`` (no overlap: an upper bound).
OVERLAP_MODELS = {"max": "max", "roofline": "max", "overlap": "max", "sum": "sum", "serial": "sum",
                  "no-overlap": "sum", "none": "sum"}


def _overlap(name: str) -> str:
    try:
        return OVERLAP_MODELS[name]
    except KeyError:
        raise InputError(f"unknown overlap model {name!r}; expected 'max' (full overlap) or 'sum' (none)") from None


# ----------------------------------------------------------------------------------------------------
# symbolic terms
# ----------------------------------------------------------------------------------------------------
def term_labels(device: Device, links: Sequence[str] = (), ideal: bool = False) -> tuple[str, ...]:
    """The time terms, in order: ``compute``, ``memory:<level>``..., ``interconnect:<link>``..., ``latency``."""
    return (("compute",) + tuple(f"memory:{m.name}" for m in device.memory)
            + tuple(f"interconnect:{lk}" for lk in links) + ("latency",))


def _overhead_paths(device: Device) -> list[str]:
    return [p for p in device.figures if p.startswith("overheads.")]


#: Tensor roles that stay resident between ops (weights, KV cache, a kernel's own operands); the rest
#: ("activation") are transient and live in the fastest level that holds them.
RESIDENT_ROLES = ("weight", "kv", "input", "output")


def split_bytes(op):
    """``(resident, transient)`` bytes of ``op`` [B]: resident tensors live at the home level, transient
    activations in the fastest level that holds them (never slower than the home)."""
    import sympy as sp

    res = sp.Add(*[t.bytes for t in op.tensors if t.role in RESIDENT_ROLES])
    act = sp.Add(*[t.bytes for t in op.tensors if t.role not in RESIDENT_ROLES])
    return sp.sympify(res), sp.sympify(act)


def op_terms(op, device: Device, links: Mapping[str, str] | None = None, ideal: bool = False,
             sparse: bool = False, home: int | None = None, act_home: int | None = None) -> dict[str, object]:
    """SymPy expressions of every time term of ``op`` on ``device`` [s].

    ``memory:<level>`` charges the resident bytes at every level up to ``home`` and the transient bytes
    at every level up to ``act_home`` (default: all levels, unmasked). ``links`` maps the op's link roles
    (``tp``, ``pp``, ``ep``) to the device's link names; by default every role uses the first link.
    """
    import sympy as sp

    device.peak_figure(op.dtype, sparse)  # clear error for a missing peak
    peak = device.symbol(f"compute.{op.dtype}.{'sparse' if sparse else 'dense'}")
    terms: dict[str, object] = {"compute": op.flops / peak}
    res, act = split_bytes(op)
    nlev = len(device.memory)
    h = nlev - 1 if home is None else home
    ha = h if act_home is None else min(act_home, h)
    for i, m in enumerate(device.memory):
        q = (res if i <= h else 0) + (act if i <= ha else 0)
        terms[f"memory:{m.name}"] = sp.sympify(q) / device.symbol(f"memory.{m.name}.bandwidth")
    for key, t in _link_terms(op, device, links, ideal).items():
        terms[key] = t
    terms["latency"] = _latency_term(device, ideal)
    return terms


def _link_terms(op, device: Device, links, ideal: bool) -> dict:
    import sympy as sp

    out: dict = {}
    for role in sorted(set(op.link_bytes) | set(op.link_steps)):
        lname = (links or {}).get(role) or (device.interconnect[0].name if device.interconnect else None)
        if lname is None:
            raise InputError(f"{device.key} has no interconnect for {role} traffic")
        lk = device.link(lname)
        t = sp.sympify(op.link_bytes.get(role, 0)) / (device.symbol(f"interconnect.{lname}.bandwidth")
                                                       * sp.nsimplify(lk.direction_factor))
        if not ideal and lk.latency is not None:
            t = t + sp.sympify(op.link_steps.get(role, 0)) * device.symbol(f"interconnect.{lname}.latency")
        key = f"interconnect:{lname}"
        out[key] = out.get(key, 0) + t
    return out


def _latency_term(device: Device, ideal: bool):
    import sympy as sp

    if ideal:
        return sp.Integer(0)
    return sp.Add(*[device.symbol(p) for p in _overhead_paths(device)])


def default_home(device: Device) -> int:
    """The main memory: the last level that is not external (HBM on a GPU, SRAM on a wafer)."""
    idx = [i for i, m in enumerate(device.memory) if m.kind != "external"]
    return idx[-1] if idx else len(device.memory) - 1


def time_expr(workload, device: Device, overlap: str = "max", ideal: bool = False, home: int | str | None = None,
              links: Mapping[str, str] | None = None, sparse: bool = False, act_home: int | str | None = 0):
    """The workload's time on ``device`` as a SymPy expression of shape and device symbols [s].

    ``home`` fixes where resident data (weights, KV cache, a kernel's operands) lives, as a level index or
    name (default: the main memory, see :func:`default_home`); ``act_home`` where transient activations
    live (default: the fastest level). Under ``overlap="max"`` each op contributes ``Max(terms)``, under
    ``"sum"`` their sum; ops add up, each times its ``count``.
    """
    import sympy as sp

    mode = _overlap(overlap)
    h = _home_index(device, home)
    ha = _home_index(device, act_home) if act_home is not None else h
    total = sp.Integer(0)
    for op in workload.ops:
        terms = [v for v in op_terms(op, device, links, ideal, sparse, h, ha).values() if v != 0]
        t = sp.Max(*terms) if mode == "max" else sp.Add(*terms)
        total += op.count * t
    return total


def _home_index(device: Device, home) -> int:
    if home is None:
        return default_home(device)
    if isinstance(home, str):
        return [m.name for m in device.memory].index(device.level(home).name)
    return int(home)

