"""Preformatted text on the page: a fit as R prints it, an anova table, the link to a view. An element
of our own (st.components.v2, in the page, no iframe): a <pre> with a copy button.

Why not st.code: speed (issue 16). st.code draws through Streamlit's syntax highlighter, a chunk the
browser fetches and evaluates (~0.2 s of its main thread on this machine, in a Chromium trace of the
ICC page) when the first code element arrives: the page's first chart waited for it. Nothing here
needs colouring: R's printouts are plain text. (Code in R and Python, which colouring helps, is
still st.markdown's fenced code, in expanders drawn when opened: lab.widgets.code_export.)

Its look (CSS) is in the page's style sheet (lab.page.page_start), not given to the component: Streamlit
1.67's component element puts its CSS back into the page (a new <style>) each time the element is drawn
again, and a new style sheet makes the browser restyle the whole page; plotly.js then measured its
text on a page whose styles were all dirty. The sidebar's link is drawn again on every press of a
lesson's truth slider: random slopes, 10 presses in a Chromium trace, the page's main thread 181 ->
140 ms a press (style recalculation 8.7 -> 3.7 ms).
"""
from __future__ import annotations

from pathlib import Path

import streamlit as st

CSS = """
.mmlab-code .mmlab-box { position: relative; }
.mmlab-code p.mmlab-caption[hidden] { display: none; }
.mmlab-code p.mmlab-caption { margin: 0 0 0.25rem; font-size: 0.875rem; line-height: 1.6; color: rgba(49, 51, 63, 0.6); }
.mmlab-code pre { margin: 0; padding: 1rem 2.75rem 1rem 1rem; overflow-x: auto; border-radius: 0.5rem;
  background: rgba(47, 45, 43, 0.035); font-family: "Source Code Pro", monospace; font-size: 0.875rem;
  line-height: 1.6; color: inherit; }
.mmlab-code code { font-family: inherit; white-space: pre; background: none; padding: 0; color: inherit; }
.mmlab-code.mmlab-wrap code { white-space: pre-wrap; overflow-wrap: anywhere; }
.mmlab-code button { position: absolute; top: 0.35rem; right: 0.35rem; padding: 0.3rem; line-height: 0;
  border: none; border-radius: 0.4rem; background: transparent; color: rgba(47, 45, 43, 0.55); cursor: pointer;
  opacity: 0; transition: opacity 0.15s; }
.mmlab-code:hover button, .mmlab-code button:focus-visible, .mmlab-code button.mmlab-copied { opacity: 1; }
.mmlab-code button:hover { background: rgba(47, 45, 43, 0.08); color: rgb(47, 45, 43); }
.mmlab-code button.mmlab-copied { color: #009E73; }
"""
_ELEMENT = st.components.v2.component("mmlab_code", js=(Path(__file__).parent / "code.js").read_text(),
                                      isolate_styles=False)


def code_text(text: str, wrap: bool = False, key: str | None = None, caption: str | None = None) -> None:
    """`text` as it is, in a fixed-width font, with a copy button, in the current container (st.sidebar,
    a column: `with` it). wrap: long lines wrap (a link) instead of scrolling sideways (a printout,
    whose columns must stay aligned). caption: plain text above it, in st.caption's look, in the same
    element (the sidebar's link: one element fewer on every press, issue 16)."""
    _ELEMENT(data={"text": text, "wrap": wrap, "caption": caption}, key=key, height="content")
