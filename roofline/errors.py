"""Exceptions for user-facing errors. The CLI turns each into one line on stderr and exit status 2."""

from __future__ import annotations

import difflib

__all__ = ["find_by_name", "RooflineError", "SpecError", "UnknownNameError", "InputError", "CapacityError", "suggest"]


class RooflineError(Exception):
    """Base class of every error caused by the user's input rather than by a bug."""


class SpecError(RooflineError):
    """A spec file breaks the schema. The message names the file, the field and what was expected."""

    def __init__(self, file, field: str, message: str):
        self.file = str(file)
        self.field = field
        super().__init__(f"{self.file}: {field}: {message}" if field else f"{self.file}: {message}")


class InputError(RooflineError, ValueError):
    """An impossible value: a zero or negative shape, an unknown data type, a malformed range."""


class UnknownNameError(RooflineError, KeyError):
    """An unknown device, model or data type; the message suggests the nearest known names."""

    def __init__(self, what: str, name: str, known):
        self.what, self.name = what, name
        self.suggestions = suggest(name, known)
        msg = f"unknown {what} {name!r}"
        if self.suggestions:
            msg += "; did you mean " + " or ".join(repr(s) for s in self.suggestions) + "?"
        else:
            msg += "; known: " + ", ".join(sorted(known))
        self.message = msg
        super().__init__(msg)

    def __str__(self) -> str:  # KeyError would repr() the message
        return self.message


class CapacityError(RooflineError):
    """A workload that fits no placement: says how much memory it needs against how much there is."""


def find_by_name(what: str, name: str, items):
    """The item whose ``key`` or one of whose ``aliases`` is ``name`` (case-insensitive), else
    :class:`UnknownNameError` naming the nearest keys."""
    items = list(items)
    want = str(name).strip().lower()
    for it in items:
        if want == it.key or want in (a.lower() for a in it.aliases):
            return it
    raise UnknownNameError(what, str(name), [it.key for it in items])


def suggest(name: str, known, n: int = 3) -> list[str]:
    """The nearest known names to ``name`` (edit distance on the lower-cased strings)."""
    known = list(known)
    low = {k.lower(): k for k in known}
    hits = difflib.get_close_matches(name.lower(), list(low), n=n, cutoff=0.6)
    if not hits:  # prefix / substring matches ("h1" -> "h100")
        hits = [k for k in low if k.startswith(name.lower()) or name.lower() in k][:n]
    return [low[h] for h in hits]
