"""What a student waits for, measured in headless Chromium against the running app (one user).

    python bench/browser.py                 # every core page, ~10 slider presses each
    python bench/browser.py --presses 20 --pages icc shrinkage
    python bench/browser.py --root DIR      # the app found in DIR (e.g. an older checkout)

Per page:
- first chart: navigation start -> the first plotly chart drawn (a `.main-svg` in the document),
  read from the page's own clock (performance.now() is measured from navigation start);
- slider press -> settled: a sidebar or page slider focused and moved one step with the arrow key,
  until Streamlit is idle and nothing on the page has changed for 400 ms; the time is that of the
  last change (a MutationObserver records it), so the quiet wait is not counted. p50 and p95;
- drag frame: the client-side sliders (plotly sliders of the figures, no server round trip): the
  grip dragged across its rail step by step; the time from each mouse move to the second animation
  frame after it (the browser has painted the new frame). p50 and p95. Websocket frames sent during
  the drag are counted: a client-side slider must send none.
Printed as one table with the targets beside it (issue 16), and the load average.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from lab.server import CHROMIUM, CHROMIUM_ARGS, running  # noqa: E402

# page: (address, the label of the slider to press); simulate mode where the truth's slider is the lesson
SCENARIOS = {
    "random-intercepts": ("/random-intercepts?ri_dataset=simulate", "between-group SD"),
    "icc": ("/icc?ic_dataset=simulate", "ICC (the truth)"),
    "random-slopes": ("/random-slopes?rs_dataset=simulate", "correlation"),
    "shrinkage": ("/shrinkage", "kept (spread over its rows)"),
}
TARGETS = {"first": 2.0, "press": 0.15, "frame": 0.050}

# Installed before any script of the page runs: the time of the first chart and of the last change.
WATCH = """
window.__firstChart = null; window.__lastChange = 0;
new MutationObserver(() => {
  window.__lastChange = performance.now();
  if (window.__firstChart === null && document.querySelector('.js-plotly-plot .main-svg'))
    window.__firstChart = performance.now();
}).observe(document, {subtree: true, childList: true, attributes: true, characterData: true});
"""
IDLE = "() => !document.querySelector('[data-testid=stStatusWidget]')"
QUIET = "(ms) => performance.now() - window.__lastChange > ms"
PAINTED = "() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(() => r(performance.now()))))"


def settle(page, quiet_ms: int = 400) -> None:
    page.wait_for_function(IDLE, timeout=120_000)
    page.wait_for_function(QUIET, arg=quiet_ms, timeout=120_000, polling=50)
    page.wait_for_function(IDLE, timeout=120_000)


def first_chart(page, url: str) -> float:
    page.goto(url)
    page.wait_for_selector(".js-plotly-plot .main-svg", state="attached", timeout=120_000)
    seconds = page.evaluate("() => window.__firstChart") / 1e3
    settle(page, 800)
    return seconds


def slider_presses(page, label: str, presses: int) -> list[float]:
    """Move the slider labelled `label` one step per press (right, then back left at its end)."""
    box = page.locator("[data-testid=stSlider]").filter(has_text=label).first
    box.scroll_into_view_if_needed()
    thumb = box.locator("input[type=range]")  # streamlit 1.67: react-aria's slider, a hidden range input
    times, key = [], "ArrowRight"
    for _ in range(presses):
        before = thumb.input_value()
        thumb.focus()
        t0 = page.evaluate("() => performance.now()")
        page.keyboard.press(key)
        if thumb.input_value() == before:  # at the end of its range: go back
            key = "ArrowLeft" if key == "ArrowRight" else "ArrowRight"
            page.keyboard.press(key)
        settle(page)
        times.append((page.evaluate("() => window.__lastChange") - t0) / 1e3)
    return times


def drag_frames(page, sent: list) -> tuple[list[float], int, int]:
    """Drag the grip of every plotly slider on the page across its rail; (frame times, sliders,
    websocket frames sent during the drags)."""
    rails = page.locator(".js-plotly-plot .slider-rail-rect")
    frames, before = [], len(sent)
    for i in range(rails.count()):
        rail = rails.nth(i)
        rail.scroll_into_view_if_needed()
        page.wait_for_timeout(300)
        box = rail.bounding_box()
        grip = page.locator(".js-plotly-plot .slider-grip-rect").nth(i).bounding_box()
        y = grip["y"] + grip["height"] / 2
        page.mouse.move(grip["x"] + grip["width"] / 2, y)
        page.mouse.down()
        for x in np.linspace(box["x"] + 2, box["x"] + box["width"] - 2, 25):
            t0 = page.evaluate("() => performance.now()")
            page.mouse.move(float(x), y)
            frames.append((page.evaluate(PAINTED) - t0) / 1e3)
        page.mouse.up()
    return frames, rails.count(), len(sent) - before


def pct(values, q) -> str:
    return f"{np.percentile(values, q):6.3f}" if values else "     -"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--pages", nargs="*", default=list(SCENARIOS), choices=list(SCENARIOS))
    ap.add_argument("--presses", type=int, default=10)
    ap.add_argument("--root", default=None, help="run the app in this directory instead")
    args = ap.parse_args()
    from playwright.sync_api import sync_playwright

    load_before = os.getloadavg()
    rows = []
    with running(root=args.root) as (url, _), sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        warm = browser.new_page()  # the server's first run of each page (imports, fits) is not a student's wait
        for name in args.pages:
            warm.goto(url + SCENARIOS[name][0])
            warm.wait_for_selector(".js-plotly-plot .main-svg", state="attached", timeout=120_000)
        warm.close()
        for name in args.pages:
            address, label = SCENARIOS[name]
            context = browser.new_context(viewport={"width": 1400, "height": 900})  # a fresh tab: nothing cached
            context.add_init_script(WATCH)
            page = context.new_page()
            sent: list = []
            page.on("websocket", lambda ws, sent=sent: ws.on("framesent", lambda _: sent.append(time.time())))
            first = first_chart(page, url + address)
            presses = slider_presses(page, label, args.presses)
            frames, sliders, frames_sent = drag_frames(page, sent)
            height = page.evaluate("() => document.querySelector('[data-testid=stMain]').scrollHeight")
            rows.append((name, first, presses, frames, sliders, frames_sent, height))
            context.close()
        browser.close()
    load_after = os.getloadavg()
    print(f"Chromium, one user, {args.presses} presses per page; load average "
          f"{load_before[0]:.2f} before, {load_after[0]:.2f} after (2 cores)")
    print(f"{'page':18} {'first chart s':>13} {'press p50':>9} {'p95':>6} {'drag p50':>9} {'p95':>6} "
          f"{'sliders':>7} {'ws sent':>7} {'page px':>7}")
    for name, first, presses, frames, sliders, frames_sent, height in rows:
        print(f"{name:18} {first:13.2f} {pct(presses, 50):>9} {pct(presses, 95)} {pct(frames, 50):>9} "
              f"{pct(frames, 95)} {sliders:7d} {frames_sent:7d} {height:7d}")
    print(f"{'target':18} {TARGETS['first']:13.2f} {'':>9} {TARGETS['press']:6.3f} {'':>9} {TARGETS['frame']:6.3f}")
    worst = max((max(r[2]) for r in rows), default=float("nan"))
    print(f"slowest press {worst:.3f} s; median of all presses {statistics.median(sum((r[2] for r in rows), [])):.3f} s")


if __name__ == "__main__":
    main()
