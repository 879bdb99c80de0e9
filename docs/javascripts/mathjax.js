// MathJax 2 (shipped with the site, see docs/hooks/offline_assets.py) for pymdownx.arithmatex (generic
// mode: \( \) inline, \[ \] display) and for the notebooks' Markdown cells ($ $ and $$ $$ as Jupyter writes them).
window.MathJax = {
  tex2jax: {
    inlineMath: [["\\(", "\\)"], ["$", "$"]],
    displayMath: [["\\[", "\\]"], ["$$", "$$"]],
    processEscapes: true,
    processEnvironments: true,
    ignoreClass: ".*",
    processClass: "arithmatex|jp-RenderedMarkdown|jp-MarkdownOutput|text_cell_render"
  },
  // the web font shipped with the site (jupyter-server-mathjax carries STIX-Web), never one from elsewhere
  "HTML-CSS": { availableFonts: ["STIX-Web"], preferredFont: "STIX-Web", webFont: "STIX-Web", imageFont: null },
  showMathMenu: false,
  messageStyle: "none"
};

// Material's instant navigation swaps pages without a reload: typeset each new page.
if (typeof document$ !== "undefined") {
  document$.subscribe(function () {
    if (window.MathJax && MathJax.Hub) {
      MathJax.Hub.Queue(["Typeset", MathJax.Hub]);
    }
  });
}
