"""MkDocs hook: the table of figure roles on the nomenclature page, generated from ``roofline.roles.ROLES``.

The spec reader takes each figure's dimension from the same table and ``roofline.symbols.symbol_name``
names SymPy symbols from it, so the page cannot disagree with the code. A missing marker stops the build.
"""

from __future__ import annotations

from mkdocs.exceptions import PluginError

MARKER = "<!-- roofline-roles -->"
PAGE = "nomenclature.md"


def on_page_markdown(markdown: str, page, config, files) -> str:
    if page.file.src_uri != PAGE:
        return markdown
    if MARKER not in markdown:
        raise PluginError(f"gen_nomenclature hook: {PAGE} has no {MARKER} marker for the table of roles")
    return markdown.replace(MARKER, render())


def render() -> str:
    """The Markdown table: figure path, symbol, meaning, unit, one row per role."""
    from roofline.roles import ROLES
    from roofline.symbols import symbol_name

    examples = {"<dtype>": "bf16", "<level>": "hbm", "<link>": "nvlink", "<name>": "x"}
    out = ["| figure path (spec file) | symbol | meaning | unit |", "|---|---|---|---|"]
    for r in ROLES:
        concrete = ".".join(examples.get(part, part) for part in r.path.split("."))
        sym = symbol_name(concrete).replace("_{x}", "_{<name>}")
        out.append(f"| `{r.path}` | `{sym}` | {r.meaning} | {r.unit} |")
    return "\n".join(out)
