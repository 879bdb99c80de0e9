"""Formatting for people and for machines: SI floats back into ``"3.35 TB/s"``, and rows as a text table,
Markdown, LaTeX, CSV or JSON.

Every number in the package is an SI float (bytes, B/s, FLOP/s, s, W); this module is the one place that
turns it back into text with a decimal prefix (:func:`human`, :func:`human_range`), turns a term label at
the edge into its short name (:func:`term_name`), and renders a list of records in one of :data:`FORMATS`
(:func:`render`). It computes nothing: a value is printed as the library returned it.

Human strings belong to :data:`HUMAN_FORMATS` (``table``, ``markdown``, ``latex``) only. The machine
formats (``csv``, ``json``) carry SI numbers, in columns whose names say the unit (``time_s``,
``bandwidth_bytes_per_s``) or beside a ``unit`` column where rows differ in unit; :func:`flat_record`
turns a nested record into such a row (a range ``<field>_range = [low, high]`` becomes ``<field>_low``
and ``<field>_high``).

>>> human(3.35e12, "B/s")
'3.35 TB/s'
>>> human_range(15.84e15, 14.4e15, 17.28e15, "FLOP/s")
'15.8 PFLOP/s (14.4–17.3)'
"""

from __future__ import annotations

import io
import json
import math
import sys
from typing import Iterable, Sequence

from ..vocab import Term

__all__ = ['FORMATS', 'HUMAN_FORMATS', 'MACHINE_FORMATS', 'human', 'human_range', 'term_name', 'to_jsonable',
           'flat_record', 'render', 'escape_controls', 'ASCII_SPELLINGS', 'for_terminal']


#: The output formats of every command: a text table, GitHub Markdown, a LaTeX tabular, CSV and JSON.
FORMATS = ("table", "markdown", "latex", "csv", "json")

#: Formats for people: numbers as text with their unit (``"3.35 TB/s"``).
HUMAN_FORMATS = ("table", "markdown", "latex")

#: Formats for machines: SI numbers, one table per stream, ids never cut.
MACHINE_FORMATS = ("csv", "json")


_PREFIXES = [(1e18, "E"), (1e15, "P"), (1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "k"), (1.0, "")]


_SMALL = [(1.0, ""), (1e-3, "m"), (1e-6, "µ"), (1e-9, "n"), (1e-12, "p")]


def human(value: float | None, unit: str = "", digits: int = 4) -> str:
    """A number with a decimal SI prefix: ``3.35e12, "B/s"`` → ``"3.35 TB/s"``.

    Seconds and per-FLOP units take the small prefixes (m, µ, n, p); counts (``unit`` empty or ``"1"``)
    take none and are grouped by thousands from 10^4; intensities (FLOP/B, B/FLOP) are printed as they are.

    Parameters
    ----------
    value : float or None
        The value in the SI unit ``unit`` [unit]; ``None`` or NaN prints ``"—"``, infinity ``"∞"``.
    unit : str
        The SI unit symbol (``"B/s"``, ``"FLOP/s"``, ``"s"``, ``"B"``, ``"W"``, ``"J"``...).
    digits : int
        Significant digits [1].

    Returns
    -------
    str

    Examples
    --------
    >>> human(989.4e12, "FLOP/s", 3), human(1.1e-3, "s"), human(12345.0)
    ('989 TFLOP/s', '1.1 ms', '12,345')
    """
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    if isinstance(value, float) and math.isinf(value):
        return "∞"
    v = float(value)
    if v == 0:
        return f"0 {unit}".strip()
    if unit in ("", "1"):
        if abs(v) >= 1e4:
            return f"{v:,.0f}"
        return f"{v:.{digits}g}"
    f, p = _scale(v, unit)
    if p == "" and abs(v) >= 1e3 and _table(unit) is _SMALL:
        return f"{v:,.0f} {unit}"
    return f"{_num(v / f, digits)} {p}{unit}"


def _table(unit: str):
    """The prefixes of ``unit``: none for counts and for intensities (FLOP/B, B/FLOP: a prefix such as
    ``mB/FLOP`` would read as megabytes), small ones for seconds and other per-FLOP units, else large."""
    if unit in ("", "1", "FLOP/B", "B/FLOP"):
        return None
    return _SMALL if (unit == "s" or unit.endswith("/FLOP")) else _PREFIXES


def _num(x: float, digits: int) -> str:
    """``x`` to ``digits`` significant digits, never in exponent notation from 1 to 10^15."""
    text = f"{x:.{digits}g}"
    if "e" in text and 1 <= abs(x) < 1e15:
        return f"{x:,.0f}"
    return text


def _scale(value: float, unit: str) -> tuple[float, str]:
    """The factor and prefix :func:`human` uses for ``value`` (one rule for a value and its range)."""
    table = _table(unit)
    if table is None:
        return 1.0, ""
    v = abs(float(value))
    for f, p in table:
        if v >= f:
            return f, p
    return table[-1]


def human_range(value: float, low: float, high: float, unit: str = "", digits: int = 3,
                min_width: float = 0.01) -> str:
    """A nominal value with its range in the same prefix: ``"15.8 PFLOP/s (14.4–17.3)"``.

    Parameters
    ----------
    value : float
        Nominal value [unit].
    low, high : float or None
        Ends of the range [unit]; ``None`` prints the value alone.
    unit : str
        The SI unit symbol, as for :func:`human`.
    digits : int
        Significant digits [1].
    min_width : float
        Relative width below which the range is left out [1].

    Returns
    -------
    str
    """
    text = human(value, unit, digits)
    if low is None or high is None or value in (None, 0):
        return text
    if abs(high - low) <= min_width * abs(value):
        return text
    f, _ = _scale(value, unit)
    return f"{text} ({_num(low / f, digits)}–{_num(high / f, digits)})"


def term_name(label: str) -> str:
    """The short name of a time term's text form: ``"memory:hbm"`` → ``"hbm"``, ``"compute"`` → ``"compute"``.

    Parameters
    ----------
    label : str
        A term label as results carry it (``kind`` or ``kind:name``, see :class:`roofline.vocab.Term`).

    Returns
    -------
    str
        The level or link the term charges, or its kind when it names none; ``label`` itself when it is
        not a term.

    Examples
    --------
    >>> term_name("interconnect:nvlink"), term_name("latency")
    ('nvlink', 'latency')
    """
    try:
        term = Term.parse(label)
    except ValueError:
        return label
    return term.name or str(term.kind)


def to_jsonable(x):
    """``x`` in plain JSON types: NumPy scalars and arrays to Python numbers and lists, NaN and inf to None.

    Parameters
    ----------
    x : object
        A number, array, dict, list or tuple (nested), or anything JSON takes as it is.

    Returns
    -------
    object
        The same structure, with string keys.
    """
    np = sys.modules.get("numpy")  # a NumPy value means NumPy is loaded; plain values never load it
    if np is not None:
        if isinstance(x, np.generic):
            x = x.item()
        elif isinstance(x, np.ndarray):
            return [to_jsonable(v) for v in x.tolist()]
    if isinstance(x, float) and (math.isnan(x) or math.isinf(x)):
        return None
    if isinstance(x, dict):
        return {str(k): to_jsonable(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [to_jsonable(v) for v in x]
    return x


def flat_record(record: dict, prefix: str = "") -> dict:
    """A nested record as one flat row for CSV: SI numbers stay numbers, names keep their unit.

    A nested mapping's keys are joined with ``.`` (``decode_terms_s.memory:hbm``); a range
    ``<field>_range = [low, high]`` becomes ``<field>_low`` and ``<field>_high``; a list of plain values
    is joined with ``;``.

    Parameters
    ----------
    record : dict
        A record as a library function returns it (SI floats, strings, flags, nested dicts).
    prefix : str
        Prepended to every key (used for nesting).

    Returns
    -------
    dict
        One flat row.

    Examples
    --------
    >>> flat_record({"tpot_s": 0.02, "tpot_s_range": [0.01, 0.03], "terms_s": {"compute": 1e-3}})
    {'tpot_s': 0.02, 'tpot_s_low': 0.01, 'tpot_s_high': 0.03, 'terms_s.compute': 0.001}
    """
    out: dict = {}
    for k, v in record.items():
        name = f"{prefix}{k}"
        if isinstance(v, dict):
            out.update(flat_record(v, name + "."))
        elif k.endswith("_range") and isinstance(v, (list, tuple)) and len(v) == 2:
            out[name[: -len("_range")] + "_low"], out[name[: -len("_range")] + "_high"] = v
        elif isinstance(v, (list, tuple)):
            out[name] = ";".join(str(x) for x in v)
        else:
            out[name] = v
    return to_jsonable(out)


def _latex(body: list, hdr: list, title: str | None) -> str:
    """A booktabs tabular (tabulate escapes LaTeX's special characters); the title as a comment above."""
    from tabulate import tabulate

    text = tabulate(body, hdr, tablefmt="latex_booktabs", disable_numparse=True)
    return (f"% {title}\n" if title else "") + text


def render(rows: Sequence[dict] | dict, fmt: str = "table", columns: Iterable[str] | None = None,
           headers: dict | None = None, title: str | None = None, json_obj=None) -> str:
    """``rows`` as text in ``fmt``: a plain table, GitHub Markdown, CSV or indented JSON.

    Parameters
    ----------
    rows : list of dict or dict
        Records; a single dict is one row. The values are printed as they are (format them first).
    fmt : str
        One of :data:`FORMATS` (``latex``: a booktabs ``tabular``, special characters escaped).
    columns : iterable of str, optional
        Columns in order (default: every key, in order of first appearance).
    headers : dict, optional
        Column headings for the table and Markdown formats, by column.
    title : str, optional
        A line above the table (bold in Markdown); not used by CSV and JSON.
    json_obj : object, optional
        For ``json``: the object to write instead of ``rows``.

    Returns
    -------
    str
        The text, without a trailing newline.
    """
    if fmt == "json":
        return json.dumps(to_jsonable(json_obj if json_obj is not None else rows), indent=2, ensure_ascii=False)
    if isinstance(rows, dict):
        rows = [rows]
    cols = list(columns) if columns is not None else list(dict.fromkeys(k for r in rows for k in r))
    if fmt == "csv":
        import csv

        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\n")
        w.writerow(cols)
        for r in rows:
            w.writerow([to_jsonable(r.get(c, "")) if r.get(c) is not None else "" for c in cols])
        return buf.getvalue().rstrip("\n")
    hdr = [(headers or {}).get(c, c) for c in cols]
    body = [[r.get(c, "") if r.get(c) is not None else "" for c in cols] for r in rows]
    if fmt == "latex":
        return _latex(body, hdr, title)
    if fmt == "markdown":
        from tabulate import tabulate

        text = tabulate(body, hdr, tablefmt="github", disable_numparse=True)
        return (f"**{title}**\n\n" if title else "") + text
    return (f"{title}\n" if title else "") + simple_table(body, hdr)


def _line(cells: Sequence[str], widths: Sequence[int]) -> str:
    """One line of :func:`simple_table`: each cell padded to its column's width, two spaces apart."""
    return "  ".join(c.ljust(w) for c, w in zip(cells, widths)).rstrip()


def simple_table(body: Sequence[Sequence[object]], hdr: Sequence[str]) -> str:
    """A plain table: left-aligned columns two spaces apart, the header underlined with dashes.

    The same text as tabulate's ``simple`` format with ``disable_numparse`` (a test holds the two equal),
    written here because importing tabulate (with wcwidth and importlib.metadata) costs ~60 ms, a third of
    a warm ``roofline llm``. Cells are stripped of surrounding whitespace; a table with line breaks in a
    cell or heading is left to tabulate. Widths count characters: no wide (CJK) characters are expected
    in roofline's tables.

    Parameters
    ----------
    body : sequence of sequences
        The rows; each cell printed with ``str`` (``None`` as an empty cell).
    hdr : sequence of str
        The column headings.

    Returns
    -------
    str
        Without a trailing newline.

    Examples
    --------
    >>> print(simple_table([["a", 1.5], ["bcd", None]], ["x", "value"]))
    x    value
    ---  -------
    a    1.5
    bcd
    """
    cells = [["" if c is None else str(c) for c in row] for row in body]
    if any("\n" in str(h) for h in hdr) or any("\n" in c for row in cells for c in row):
        from tabulate import tabulate  # multi-line cells: tabulate's own layout

        return tabulate(body, hdr, tablefmt="simple", disable_numparse=True)
    cells = [[c.strip() for c in row] for row in cells]
    head = [str(h) for h in hdr]
    # a column is as wide as its widest cell, and at least its heading plus two (tabulate's MIN_PADDING)
    widths = [max([len(h) + 2] + [len(row[i]) for row in cells]) for i, h in enumerate(head)]
    out = [_line(head, widths), "  ".join("-" * w for w in widths)] + [_line(row, widths) for row in cells]
    return "\n".join(out)



#: ASCII spellings of the symbols roofline prints, for a terminal whose encoding cannot show them.
ASCII_SPELLINGS = {"µ": "u", "μ": "u", "×": "x", "—": "-", "–": "-", "·": "*", "²": "^2", "³": "^3", "→": "->",
                   "∞": "inf", "…": "...", "÷": "/", "≤": "<=", "≥": ">=", "≈": "~", "\u00a0": " "}


def _escape(c: str) -> str:
    return c.encode("unicode_escape").decode("ascii")


def escape_controls(text: str) -> str:
    """``text`` with every control or invisible formatting character spelled as an escape (``\\x1b``).

    A name read from a spec, model or measurement file, or typed on the command line, could carry an ANSI
    escape sequence (recolour or clear the terminal, rewrite the title) or a bidirectional override that
    makes the text read differently from what it is. Line feeds and tabs are kept; nothing else that
    :meth:`str.isprintable` refuses reaches the terminal as it is.

    Parameters
    ----------
    text : str
        Text about to be printed.

    Returns
    -------
    str
        The same text when it is printable; else with each offending character escaped.

    Examples
    --------
    >>> escape_controls("Toy \\x1b[31mred\\x1b[0m")
    'Toy \\\\x1b[31mred\\\\x1b[0m'
    >>> escape_controls("a\\tb\\nc")
    'a\\tb\\nc'
    """
    if _printable(text):
        return text
    return _replace_each(text, {c: _escape(c) for c in set(text) if not (c.isprintable() or c in "\n\t")})


def for_terminal(text: str, encoding: str | None) -> str:
    """``text`` as a stream of ``encoding`` can print it: controls escaped (:func:`escape_controls`) and, where
    the encoding cannot show a symbol (``µ``, ``×``, ``—``), its ASCII spelling (:data:`ASCII_SPELLINGS`).

    Accented letters lose their accents where the encoding lacks them; any other character is written as a
    Python escape (``\\u2264``), so nothing raises :class:`UnicodeEncodeError`.

    Parameters
    ----------
    text : str
        Text about to be printed.
    encoding : str or None
        The stream's encoding (``sys.stdout.encoding``); None is taken as UTF-8.

    Returns
    -------
    str

    Examples
    --------
    >>> for_terminal("1.1 µs, 8×8 — ok", "ascii")
    '1.1 us, 8x8 - ok'
    >>> for_terminal("1.1 µs", "utf-8")
    '1.1 µs'
    """
    enc = encoding or "utf-8"
    try:
        if _printable(text):
            text.encode(enc)
            return text
    except UnicodeEncodeError:
        pass
    except LookupError:  # an encoding Python does not know: plain ASCII is safe everywhere
        enc = "ascii"
    table = {}
    for c in set(text):  # each distinct character once: output tables are long, their alphabets short
        if not (c.isprintable() or c in "\n\t"):
            table[c] = _escape(c)
        elif not _encodes(c, enc):
            table[c] = _spell(c)
    return _replace_each(text, table)


def _replace_each(text: str, table: dict) -> str:
    """``text`` with each character key of ``table`` replaced by its value, one pass at C speed per key
    (the backslash of an escape is printable, so no replacement is replaced again)."""
    for c, spelled in table.items():
        text = text.replace(c, spelled)
    return text


def _printable(text: str) -> bool:
    """Nothing but printable characters, line feeds and tabs (checked at C speed)."""
    return text.isprintable() or text.replace("\n", "").replace("\t", "").isprintable()


def _encodes(c: str, encoding: str) -> bool:
    try:
        c.encode(encoding)
        return True
    except (UnicodeEncodeError, LookupError):
        return False


def _spell(c: str) -> str:
    """The ASCII spelling of one character: a known symbol's, its letter without accents, or an escape."""
    import unicodedata

    plain = "".join(x for x in unicodedata.normalize("NFKD", c) if not unicodedata.combining(x))
    return ASCII_SPELLINGS.get(c) or (plain if plain.isascii() and plain else _escape(c))
