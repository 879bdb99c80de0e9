"""Griffe extension: read the package's reST-flavoured numpydoc docstrings as Markdown for mkdocstrings.

The docstrings in ``roofline/`` are written for numpydoc (Sphinx roles, ``.. math::`` blocks, bare doctests).
mkdocstrings renders docstrings as Markdown, so before rendering this extension rewrites, in memory only:

- ``:func:`~roofline.engine.time_expr``` (and ``:class:``, ``:meth:``, ``:mod:``, ``:data:``, ``:attr:``,
  ``:exc:``, ``:obj:``) into an optional autorefs cross-reference: a link when the target is rendered
  somewhere in the site, plain code when it is not (never a warning). Relative names are resolved in the
  scope of the object whose docstring it is.
- ``:math:`x``` into ``$x$`` and ``.. math::`` blocks into ``$$ ... $$`` (pymdownx.arithmatex).
- doctest lines (``>>>``) outside a numpydoc *Examples* section into ``pycon`` code blocks (inside that
  section griffe's numpy parser already does it).
- ``#:`` comments right above a module or class attribute (the Sphinx convention the package uses for
  constants such as ``engine.OVERLAP_MODELS``) into that attribute's docstring, which griffe does not read.

Loaded by mkdocstrings-python through ``extensions:`` in ``mkdocs.yml``. The source files are not touched.
"""

from __future__ import annotations

import html
import re

import griffe

_ROLE = re.compile(r":(?:py:)?(func|class|meth|mod|data|attr|exc|obj|const):`([^`]+)`")
_MATH_ROLE = re.compile(r":math:`([^`]+)`")
_SECTION_UNDERLINE = re.compile(r"^\s*-{3,}\s*$")


def _identifier(obj: griffe.Object, target: str) -> str:
    """The full path of ``target`` as written in ``obj``'s docstring (best effort)."""
    name = target.lstrip("~.").strip()
    if name.startswith("roofline"):
        return name
    head, _, rest = name.partition(".")
    try:
        path = obj.resolve(head)
    except Exception:  # noqa: BLE001 - griffe raises NameResolutionError or an alias error: leave it as written
        return name
    return f"{path}.{rest}" if rest else path


def _role(obj: griffe.Object):
    def sub(m: re.Match) -> str:
        kind, target = m.group(1), m.group(2).strip()
        # "title <target>" form
        explicit = re.match(r"^(.*?)\s*<([^>]+)>$", target)
        if explicit:
            title, target = explicit.group(1), explicit.group(2)
        else:
            title = target.lstrip("~.").split(".")[-1] if target.startswith("~") else target.lstrip(".")
        ident = _identifier(obj, target)
        if kind in ("func", "meth"):
            title += "()"
        return (f'<autoref identifier="{html.escape(ident, quote=True)}" optional>'
                f"<code>{html.escape(title)}</code></autoref>")

    return sub


def _math_blocks(lines: list[str]) -> list[str]:
    """``.. math:: body`` or ``.. math::`` + indented body → a ``$$`` block at the directive's indent."""
    out: list[str] = []
    i = 0
    while i < len(lines):
        line = lines[i]
        m = re.match(r"^(\s*)\.\. math::\s*(.*)$", line)
        if not m:
            out.append(line)
            i += 1
            continue
        indent, first = m.group(1), m.group(2).strip()
        body = [first] if first else []
        i += 1
        while i < len(lines) and (not lines[i].strip() or len(lines[i]) - len(lines[i].lstrip()) > len(indent)):
            body.append(lines[i].strip())
            i += 1
        while body and not body[-1]:
            body.pop()
        if out and out[-1].strip():
            out.append("")
        out += [indent + "$$"] + [indent + b for b in body if b] + [indent + "$$", ""]
    return out


def _doctests(lines: list[str]) -> list[str]:
    """Fence runs of ``>>>`` lines (and their output) that numpydoc's Examples section does not handle."""
    out: list[str] = []
    section = ""
    i = 0
    while i < len(lines):
        line = lines[i]
        if i + 1 < len(lines) and line.strip() and _SECTION_UNDERLINE.match(lines[i + 1]) \
                and len(lines[i + 1].strip()) >= len(line.strip()) - 1:
            section = line.strip().lower()
        if line.lstrip().startswith(">>>") and section != "examples":
            indent = line[: len(line) - len(line.lstrip())]
            block = []
            while i < len(lines) and lines[i].strip():
                block.append(lines[i][len(indent):] if lines[i].startswith(indent) else lines[i].strip())
                i += 1
            if out and out[-1].strip():
                out.append("")
            out += [indent + "```pycon"] + [indent + b for b in block] + [indent + "```", ""]
            continue
        out.append(line)
        i += 1
    return out


def markdownify(obj: griffe.Object, text: str) -> str:
    """The docstring ``text`` of ``obj`` with its reST constructs turned into Markdown."""
    lines = _doctests(_math_blocks(text.splitlines()))
    text = "\n".join(lines)
    text = _MATH_ROLE.sub(lambda m: f"${m.group(1).strip()}$", text)
    return _ROLE.sub(_role(obj), text)


def _comment_docstring(attr: griffe.Object) -> None:
    """Give ``attr`` the docstring written as ``#:`` comment lines just above its assignment."""
    try:
        lines = attr.module.lines
    except Exception:  # noqa: BLE001 - no source (compiled or inspected module): nothing to read
        return
    i = (attr.lineno or 0) - 2
    comment: list[str] = []
    while 0 <= i < len(lines) and lines[i].strip().startswith("#:"):
        comment.insert(0, lines[i].strip()[2:].strip())
        i -= 1
    if comment:
        model = attr.module.docstring
        attr.docstring = griffe.Docstring(
            "\n".join(comment), lineno=i + 2, endlineno=attr.lineno - 1, parent=attr,
            parser=model.parser if model else None, parser_options=model.parser_options if model else None)


class ReSTToMarkdown(griffe.Extension):
    """Rewrite every docstring of the loaded package (see the module docstring)."""

    def __init__(self) -> None:
        super().__init__()
        self._done: set[str] = set()

    def on_package(self, *, pkg: griffe.Module, **kwargs) -> None:  # noqa: D102 - griffe >= 2
        self._rewrite(pkg)

    def on_package_loaded(self, *, pkg: griffe.Module, **kwargs) -> None:  # noqa: D102 - griffe 1.x
        self._rewrite(pkg)

    def _rewrite(self, pkg: griffe.Module) -> None:
        if pkg.path in self._done:
            return
        self._done.add(pkg.path)
        seen: set[int] = set()

        def walk(obj: griffe.Object) -> None:
            if id(obj) in seen:
                return
            seen.add(id(obj))
            if obj.docstring is None and obj.is_attribute:
                _comment_docstring(obj)
            if obj.docstring is not None:
                obj.docstring.value = markdownify(obj, obj.docstring.value)
            for member in obj.members.values():
                if not member.is_alias:
                    walk(member)

        walk(pkg)
