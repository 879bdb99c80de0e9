"""Exceptions for user-facing errors, and the name look-up that suggests the nearest known names.

A leaf module: it imports nothing of the package. Every error caused by the user's input rather than by a
bug is a :class:`RooflineError`; the CLI turns each into one line on stderr and exit status 2.
"""

from __future__ import annotations


__all__ = ["find_by_name", "RooflineError", "SpecError", "UnknownNameError", "InputError", "CapacityError", "suggest"]


class RooflineError(Exception):
    """Base class of every error caused by the user's input rather than by a bug."""


class SpecError(RooflineError):
    """A spec file breaks the schema. The message names the file, the field and what was expected.

    Parameters
    ----------
    file : str or os.PathLike
        The spec file.
    field : str
        The field's path in the file (``memory.hbm.bandwidth``); empty for the whole file.
    message : str
        What was expected.
    """

    def __init__(self, file, field: str, message: str):
        self.file = str(file)
        self.field = field
        super().__init__(f"{self.file}: {field}: {message}" if field else f"{self.file}: {message}")


class InputError(RooflineError, ValueError):
    """An impossible value: a zero or negative shape, an unknown data type, a malformed range."""


class UnknownNameError(RooflineError, KeyError):
    """An unknown device, model or data type; the message suggests the nearest known names.

    Parameters
    ----------
    what : str
        What was looked up (``"device"``, ``"data type"``).
    name : str
        The name given.
    known : iterable of str
        The names that exist.

    Examples
    --------
    >>> str(UnknownNameError("device", "h1", ["h100", "a100"]))
    "unknown device 'h1'; did you mean 'h100'?"
    """

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
    """The item whose ``key`` or one of whose ``aliases`` is ``name`` (case-insensitive).

    Parameters
    ----------
    what : str
        What is looked up, for the message (``"device"``, ``"model"``).
    name : str
        The name given; matched lower-cased and stripped against the keys (lower-case) and the aliases.
    items : iterable
        Objects with a ``key`` (str) and ``aliases`` (sequence of str).

    Returns
    -------
    object
        The first matching item.

    Raises
    ------
    UnknownNameError
        No item matches; the message names the nearest keys.

    Examples
    --------
    >>> from types import SimpleNamespace
    >>> find_by_name("device", " H100 ", [SimpleNamespace(key="h100", aliases=("H100-SXM",))]).key
    'h100'
    """
    items = list(items)
    want = str(name).strip().lower()
    for it in items:
        if want == it.key or want in (a.lower() for a in it.aliases):
            return it
    raise UnknownNameError(what, str(name), [it.key for it in items])


def suggest(name: str, known, n: int = 3) -> list[str]:
    """The nearest known names to ``name``: similar strings first, else prefix and substring matches.

    Similarity is :func:`difflib.get_close_matches` on the lower-cased strings (ratio at least 0.6).

    Parameters
    ----------
    name : str
        The name given.
    known : iterable of str
        The names that exist.
    n : int
        Most suggestions [1].

    Returns
    -------
    list of str
        Known names as spelled in ``known``, best first; empty when nothing is close.

    Examples
    --------
    >>> suggest("H10", ["h100", "h200", "mi300x"])
    ['h100']
    >>> suggest("mi3", ["h100", "mi300x"])
    ['mi300x']
    """
    import difflib  # only when a name was not found

    known = list(known)
    low = {k.lower(): k for k in known}
    hits = difflib.get_close_matches(name.lower(), list(low), n=n, cutoff=0.6)
    if not hits:  # prefix / substring matches ("h1" -> "h100")
        hits = [k for k in low if k.startswith(name.lower()) or name.lower() in k][:n]
    return [low[h] for h in hits]
