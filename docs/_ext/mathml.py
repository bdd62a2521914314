"""Sphinx math as MathML, converted at build time with latex2mathml.

Browsers render MathML themselves, so the pages need no MathJax: no script from a CDN,
and the math shows offline. Registered as the HTML math renderer ``mathml``.
"""

from __future__ import annotations

from docutils import nodes
from latex2mathml.converter import convert


def _visit_math(self, node):
    self.body.append(self.starttag(node, "span", "", CLASS="math"))
    self.body.append(convert(node.astext(), display="inline") + "</span>")
    raise nodes.SkipNode


def _visit_displaymath(self, node):
    self.body.append(self.starttag(node, "div", CLASS="math"))
    for part in (p for p in node.astext().split("\n\n") if p.strip()):
        self.body.append(convert(part, display="block"))
    self.body.append("</div>\n")
    raise nodes.SkipNode


def setup(app):
    """Register the renderer (select it with ``html_math_renderer = "mathml"``)."""
    app.add_html_math_renderer("mathml", (_visit_math, None), (_visit_displaymath, None))
    return {"parallel_read_safe": True, "parallel_write_safe": True}
