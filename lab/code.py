"""Preformatted text on the page: a fit as R prints it, an anova table, the link to a view. An element
of our own (st.components.v2, in the page, no iframe): a <pre> with a copy button.

Why not st.code: speed (issue 16). st.code draws through Streamlit's syntax highlighter, a chunk the
browser fetches and evaluates (~0.2 s of its main thread on this machine, in a Chromium trace of the
ICC page) when the first code element arrives: the page's first chart waited for it. Nothing here
needs colouring: R's printouts are plain text. (Code in R and Python, which colouring helps, is
still st.markdown's fenced code, in expanders drawn when opened: lab.widgets.code_export.)
"""
from __future__ import annotations

from pathlib import Path

import streamlit as st

CSS = """
.mmlab-code { position: relative; }
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
                                      css=CSS, isolate_styles=False)


def code_text(text: str, wrap: bool = False, key: str | None = None) -> None:
    """`text` as it is, in a fixed-width font, with a copy button, in the current container (st.sidebar,
    a column: `with` it). wrap: long lines wrap (a link) instead of scrolling sideways (a printout,
    whose columns must stay aligned)."""
    _ELEMENT(data={"text": text, "wrap": wrap}, key=key, height="content")
