"""Helpers of the browser tests (test_browser.py, test_lecture.py): pages opened in a context that
counts every request to another machine, a page's run waited for, and what presenter mode must show
measured from the rendered page."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from lab.server import CHROMIUM
from tests.conftest import ROOT

ARTIFACTS = ROOT / "tests" / "artifacts"
LOCAL = ("http://127.0.0.1", "ws://127.0.0.1", "data:", "blob:", "about:")


def need_chromium() -> None:
    if not Path(CHROMIUM).exists():
        if os.environ.get("CI"):
            raise RuntimeError("CI needs Debian's chromium for the browser tests (make test installs it)")
        pytest.skip("chromium is not installed (sudo apt-get install chromium)", allow_module_level=True)


def offline_context(browser, outside: list, **kwargs):
    """A fresh browser profile (no cookies) whose requests to other machines are recorded in `outside`
    (the browser fixture already makes them fail)."""
    context = browser.new_context(**kwargs)
    context.on("request", lambda r: None if r.url.startswith(LOCAL) else outside.append(r.url))
    return context


def settle(page, extra_ms: int = 800) -> None:
    """Wait until the page's run has ended: its title, then the link to the view (drawn by page_end,
    the last thing a page does), and no 'running' indicator."""
    page.wait_for_selector("[data-testid=stMainBlockContainer] h1", timeout=90_000)
    page.wait_for_selector("[data-testid=stSidebar] .mmlab-code", state="attached", timeout=90_000)
    page.wait_for_function("() => !document.querySelector('[data-testid=stStatusWidget]')", timeout=90_000)
    page.wait_for_timeout(extra_ms)


def main_text(page) -> str:
    return page.locator("[data-testid=stMain]").inner_text()


def view_link(page) -> str:
    return page.locator("[data-testid=stSidebar] .mmlab-code code").last.inner_text().strip()


def sidebar_open(page) -> bool:
    return page.locator("[data-testid=stSidebar]").bounding_box()["x"] >= 0


def open_sidebar(page) -> None:
    if not sidebar_open(page):
        page.locator("[data-testid=stExpandSidebarButton]").click()
        page.wait_for_timeout(600)


def full_screenshot(page, path: Path) -> None:
    """The whole page at the viewport's width (Streamlit scrolls inside its main element, so a 'full
    page' screenshot would show only one screen): the viewport is made as tall as the page, then restored."""
    size = page.viewport_size
    height = page.evaluate("() => document.querySelector('[data-testid=stMain]').scrollHeight")
    page.set_viewport_size({"width": size["width"], "height": min(height, 16000)})
    page.wait_for_timeout(600)  # same width: nothing is laid out again, the rest of the page is painted
    path.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(path))
    page.set_viewport_size(size)
    page.wait_for_timeout(300)


# What presenter mode must show, read from the rendered page: the charts' fonts (px, from the SVG the
# browser drew), and whatever does not fit its box.
MEASURE = r"""() => {
  const px = e => parseFloat(getComputedStyle(e).fontSize);
  const main = document.querySelector('[data-testid=stMain]');
  const over = (sel, root = main) => Array.from(root.querySelectorAll(sel)).filter(e => e.scrollWidth > e.clientWidth + 1);
  const charts = Array.from(main.querySelectorAll('.js-plotly-plot')).filter(p => p.getBoundingClientRect().width > 0)
    .map(p => { const box = p.getBoundingClientRect(), title = p.querySelector('.gtitle');
      const sizes = sel => Array.from(p.querySelectorAll(sel)).map(px);
      const tb = title ? title.getBoundingClientRect() : null;
      return {width: box.width, height: box.height, ticks: sizes('.xtick text, .ytick text'),
              titles: sizes('.gtitle, .xtitle, .ytitle'),
              title: title ? title.textContent : '', titleInside: !tb || (tb.left >= box.left - 1 && tb.right <= box.right + 1)}; });
  return {charts, pageWider: document.documentElement.scrollWidth - window.innerWidth,
          pills: over('[data-testid=stButtonGroup] button').map(e => e.innerText),
          equations: over('.katex-display').map(e => e.innerText.slice(0, 40)),
          code: over(".mmlab-code pre").length,
          text: px(main.querySelector('[data-testid=stMarkdown] [data-testid=stMarkdownContainer] p')),
          equation: Array.from(main.querySelectorAll('.katex-display .katex')).map(px)};
}"""
NAV_CLIPPED = """() => Array.from(document.querySelectorAll('[data-testid=stSidebarNavLink] span'))
  .filter(s => s.scrollWidth > s.clientWidth + 1).map(s => s.innerText)"""
