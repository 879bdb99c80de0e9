"""Attention arithmetic: how many (query, key) pairs one head scores in a decode step or a causal prefill.

Pure functions over floats, NumPy arrays and SymPy expressions alike, like :mod:`roofline.formulas`
(where they belong; they live here until they are moved there). Full attention attends to every earlier
token; a sliding-window (local) layer to at most the last ``window`` tokens.
"""

from __future__ import annotations

import numpy as np

__all__ = ["decode_attention_pairs", "prefill_attention_pairs"]


def _is_sym(*xs) -> bool:
    return any(type(x).__module__.startswith("sympy") for x in xs)


def _minimum(a, b):
    if _is_sym(a, b):
        import sympy as sp

        return sp.Min(a, b)
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return min(a, b)
    return np.minimum(a, b)


def decode_attention_pairs(context, window: int = 0):
    """(query, key) pairs one head scores for one new token of a sequence.

    The new token attends to every token in the KV cache, or to the last ``window`` of them in a
    sliding-window layer:

    .. math:: N_\\text{pairs} = \\min(s, w) \\qquad (w = \\infty \\text{ without a window})

    Parameters
    ----------
    context : float, ndarray or sympy.Expr
        :term:`Tokens in the KV cache <s>` [1].
    window : int
        The sliding window :math:`w` [tokens]; 0 for full attention.

    Returns
    -------
    float, ndarray or sympy.Expr
        Pairs per head per sequence [1].

    Examples
    --------
    >>> decode_attention_pairs(8192), decode_attention_pairs(8192, 128)
    (8192, 128)
    """
    return _minimum(context, window) if window else context


def prefill_attention_pairs(prompt, window: int = 0):
    """(query, key) pairs one head scores in a causal prefill of ``prompt`` tokens.

    Query :math:`i` attends to :math:`\\min(i, w)` keys; summed over the prompt (as a continuous
    approximation, which drops terms of order :math:`p` against :math:`p^2`):

    .. math::

        N_\\text{pairs} = \\frac{p^2}{2} \\quad\\text{(full)}, \\qquad
        N_\\text{pairs} = p\\,w' - \\frac{w'^2}{2},\\; w' = \\min(p, w) \\quad\\text{(sliding window)}

    Parameters
    ----------
    prompt : float, ndarray or sympy.Expr
        :term:`Prompt tokens per sequence <p>` [1].
    window : int
        The sliding window :math:`w` [tokens]; 0 for full attention.

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
    """
    if window:
        w = _minimum(prompt, window)
        return prompt * w - w**2 / 2
    return prompt**2 / 2
