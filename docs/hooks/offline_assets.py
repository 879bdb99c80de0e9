"""MkDocs hook: everything a page needs is shipped with the site, nothing is fetched from elsewhere.

- **Maths.** MathJax comes from a package registry (PyPI's ``jupyter-server-mathjax``, which ships
  MathJax 2.7 as files), is copied into the site under ``javascripts/mathjax/`` and configured by
  ``javascripts/mathjax.js``; the methodology page's formulas and the notebooks' render offline.
- **Notebooks.** mkdocs-jupyter's pages load MathJax (and nbconvert's Mermaid) from a CDN, or from an
  empty address; those script tags are removed after each page is rendered (the site's own MathJax
  typesets the notebook too).
- **The landing chart.** ``assets/landing-roofline.svg`` is drawn at build time by the library itself
  (``roofline.outputs.plot.roofline_chart``), with its text kept as text.

:func:`check_site` is run at the end of the build: a page that still loads a script, a stylesheet, a font
or an image from the network stops the build.
"""

from __future__ import annotations

import re
from pathlib import Path

from mkdocs.exceptions import PluginError
from mkdocs.structure.files import File

MATHJAX_DEST = "javascripts/mathjax"
LANDING_CHART = "assets/landing-roofline.svg"

# what a TeX page does not need: localisations and unpacked sources (the package ships one web font for
# HTML-CSS output, STIX-Web, which javascripts/mathjax.js selects)
_SKIP = ("localization/", "unpacked/")

_REMOTE_SCRIPT = re.compile(r"""<script\b[^>]*\bsrc=["']https?://[^"']*(mathjax|mermaid|require)[^"']*["'][^>]*>\s*</script>""",
                            re.I)
_EMPTY_SCRIPT = re.compile(r"""<script src="">\s*</script>""")
_MERMAID_MODULE = re.compile(r"""<script type="module">[^<]*https?://[^<]*mermaid[^<]*</script>""", re.I | re.S)
_REMOTE_LOAD = re.compile(r"""<(?:script|img|iframe|source)\b[^>]*\bsrc=["'](https?:)?//|<link\b[^>]*\bhref=["'](https?:)?//"""
                          r"""|@import\s+url\(["']?https?:|url\(["']?https?://""", re.I)


def _mathjax_root() -> Path:
    try:
        import jupyter_server_mathjax
    except ImportError as exc:
        raise PluginError("offline_assets hook: install the docs extra (pip install -e '.[docs]'): "
                          "jupyter-server-mathjax ships the MathJax the site needs") from exc
    return Path(jupyter_server_mathjax.__file__).parent / "static"


def on_files(files, config):
    root = _mathjax_root()
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root).as_posix()
        if path.is_file() and not rel.startswith(_SKIP):
            f = File(f"{MATHJAX_DEST}/{rel}", str(root.parent), config["site_dir"], config["use_directory_urls"])
            f.abs_src_path = str(path)
            files.append(f)
    files.append(File.generated(config, LANDING_CHART, content=landing_chart()))
    return files


def landing_chart() -> str:
    """The landing page's chart: a wafer, a GPU and an unreleased chip (its band) on one roofline."""
    from roofline.hardware.library import get_device
    from roofline.outputs import plot
    from roofline.outputs.report import roofline_points

    devs = [get_device(k) for k in ("wse3", "h100", "ai5")]
    pts = [p for p in roofline_points(devs, models=["llama-3.1-8b"]) if p.get("phase") == "decode"]
    fig = plot.roofline_chart(devs, points=pts, title="Llama-3.1-8B decode (batch 1) under three rooflines")
    return plot.to_svg(fig)


def on_post_page(output: str, page, config) -> str:
    output = _EMPTY_SCRIPT.sub("", _REMOTE_SCRIPT.sub("", output))
    return _MERMAID_MODULE.sub("", output)


def on_post_build(config):
    check_site(Path(config["site_dir"]))


def check_site(site: Path) -> None:
    """Stop the build when a built page loads anything from the network (links to sources are fine)."""
    bad = []
    for page in site.rglob("*.html"):
        m = _REMOTE_LOAD.search(page.read_text(encoding="utf-8", errors="replace"))
        if m:
            bad.append(f"{page.relative_to(site)}: {m.group(0)[:80]}")
    if bad:
        raise PluginError("offline_assets hook: pages load from the network:\n  " + "\n  ".join(bad[:20]))
