"""MkDocs hook: the CLI reference, generated at build time from the argparse parser.

``docs/cli.md`` holds the introduction and the marker ``<!-- roofline-cli-reference -->``; this hook
replaces the marker with one section per command (and per sub-command, such as ``plot roofline``), read
from :func:`roofline.outputs.cli.build_parser`: its help line, its usage, a table of its arguments and the
example its command module gives. A new command or option appears on the next build; nothing is written
to disk. A missing marker stops the build.
"""

from __future__ import annotations

import argparse
import functools
import html

from mkdocs.exceptions import PluginError

MARKER = "<!-- roofline-cli-reference -->"
PAGE = "cli.md"
WIDTH = 96  # usage lines are wrapped at this width, whatever the terminal that runs the build


def on_page_markdown(markdown: str, page, config, files) -> str:
    if page.file.src_uri != PAGE:
        return markdown
    if MARKER not in markdown:
        raise PluginError(f"gen_cli hook: {PAGE} has no {MARKER} marker for the generated CLI reference")
    from roofline.outputs.cli import build_parser

    return markdown.replace(MARKER, render(build_parser()))


def render(parser: argparse.ArgumentParser) -> str:
    """Markdown for ``parser`` and each of its sub-commands."""
    _fix_width(parser)
    out = ["## `roofline`", "", _text(parser.description or ""), "", "```text", parser.format_usage().strip(),
           "```", "", _table(parser), ""]
    for name, sub, help_ in _subcommands(parser):
        _fix_width(sub)
        out += [f"## `roofline {name}`", "", _text(help_ or sub.description or ""), "", "```text",
                sub.format_usage().strip(), "```", "", _table(sub), ""]
        out += _example(sub)
    return "\n".join(out)


def _example(p: argparse.ArgumentParser) -> list[str]:
    """The example a command module gives in its epilog (``example:`` and indented command lines)."""
    lines = (p.epilog or "").splitlines()
    if not lines or lines[0].strip() != "example:":
        return []
    return ["Example:", "", "```text", *(line.strip() for line in lines[1:] if line.strip()), "```", ""]


def _fix_width(p: argparse.ArgumentParser) -> None:
    p.formatter_class = functools.partial(argparse.HelpFormatter, width=WIDTH)


def _subcommands(parser: argparse.ArgumentParser, prefix: str = ""):
    """``(name, parser, help)`` of every sub-command, depth first (``plot``, then ``plot roofline``...)."""
    for action in parser._actions:  # argparse keeps its sub-parsers here; there is no public accessor
        if isinstance(action, argparse._SubParsersAction):
            helps = {a.dest: a.help for a in action._choices_actions}
            for name, sub in action.choices.items():
                yield prefix + name, sub, helps.get(name)
                yield from _subcommands(sub, prefix + name + " ")


def _table(p: argparse.ArgumentParser) -> str:
    rows = []
    fmt = p._get_formatter()
    for a in p._actions:
        if isinstance(a, (argparse._HelpAction, argparse._SubParsersAction)) or a.help == argparse.SUPPRESS:
            continue
        if a.option_strings:
            name = ", ".join(a.option_strings)
            if a.nargs != 0:
                name += " " + (a.metavar or a.dest.upper())
            required = "yes" if a.required else ""
        else:
            name = a.metavar or a.dest
            required = "yes"
        if isinstance(a, argparse._AppendAction):
            name += " (repeatable)"
        default = ""
        if a.nargs != 0 and a.default not in (None, [], argparse.SUPPRESS):
            default = f"`{a.default}`"
        choices = ", ".join(f"`{c}`" for c in a.choices) if a.choices else ""
        help_ = fmt._expand_help(a) if a.help else ""
        rows.append(f"| `{name}` | {required} | {default} | {choices} | {_text(help_)} |")
    if not rows:
        return ""
    return "\n".join(["| argument | required | default | choices | meaning |", "|---|---|---|---|---|", *rows])


def _text(s: str) -> str:
    """Plain text for a Markdown table cell or paragraph: no HTML, no table breaks, no emphasis."""
    s = html.escape(" ".join(s.split()), quote=False)
    for ch, ent in (("|", "&#124;"), ("*", "&#42;"), ("_", "&#95;"), ("`", "&#96;"), ("[", "&#91;"),
                    ("]", "&#93;")):
        s = s.replace(ch, ent)
    return s
