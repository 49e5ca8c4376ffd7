"""What a student waits for, measured in headless Chromium against the running app (one user).

    python bench/browser.py                 # every core page, ~10 slider presses each
    python bench/browser.py --presses 20 --pages icc shrinkage
    python bench/browser.py --root DIR      # the app found in DIR (e.g. an older checkout)
    python bench/browser.py --profile 12    # and where each press's main-thread time goes, by script

Before measuring a page, it is opened once (the server's first run of a page, its imports and fits,
is not a student's wait) and the server is let go idle: what those runs queued in the background
(lab/prefetch.py) would otherwise share this machine's two cores with Chromium, which on a real server
it does not (the student's browser runs elsewhere). The wait is printed.

Per page:
- first chart: navigation start -> the first plotly chart drawn (a `.main-svg` in the document),
  read from the page's own clock (performance.now() is measured from navigation start); the median
  tab of --tabs fresh tabs (one tab varies by ±0.2 s from load to load here);
- slider press -> settled: a sidebar or page slider focused and moved one step with the arrow key,
  until Streamlit is idle and nothing on the page has changed for 400 ms; the time is that of the
  last change (a MutationObserver records it), so the quiet wait is not counted. p50 and p95;
- drag frame: the client-side sliders (plotly sliders of the figures, no server round trip), in the
  lesson's tabs that hold them (opened by their links after the presses): the mouse pressed on the rail
  and moved across it and back in 30 jumps (mouse events dispatched in the page, so no automation round
  trip is counted); the time from each move to the second animation frame after it (the browser has
  painted the new step). p50 and p95. Websocket frames sent while the button is held are counted: a
  client-side slider must send none (one the page follows sends one when let go: not counted).
- with --profile N: N more presses under Chromium's sampling profiler, the main thread's self time
  a press by script (plotly.js, React, Streamlit's markdown, native style/layout/paint...): shares
  that move less with the machine's load than the press's wall time.
Printed as one table with the targets beside it (issue 16), and the load average. Then the peer:
a Streamlit page holding one sidebar slider and a three-point plotly chart it moves, served by the same
Streamlit with the app's settings: its first chart, and its slider pressed as a lesson's is (what
Streamlit and its plotly.js cost before any page of ours; `--no-floor` skips it). Twice: as
`streamlit run` serves it with st.plotly_chart, and as this app is served (lab.server, lab.chart).
"""
from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from lab.server import CHROMIUM, CHROMIUM_ARGS, running  # noqa: E402

# page: (address, the label of the slider to press, the addresses of the tabs with its client-side sliders);
# simulate mode where the truth's slider is the lesson. Pages open on their first tab (lab.sections).
# Shrinkage's observations kept (both tabs) are client-side sliders the page follows on release (dragged);
# its server slider is the truth's sigma_b / sigma in simulate mode (a KaTeX label: found by its TeX).
SCENARIOS = {
    "random-intercepts": ("/random-intercepts?ri_dataset=simulate", "between-group SD",
                          ("/random-intercepts?ri_dataset=simulate&ri_tab=From%20complete%20to%20no%20pooling",)),
    "icc": ("/icc?ic_dataset=simulate", "ICC (the truth)", ("/icc?ic_dataset=simulate&ic_tab=What%20an%20ICC%20looks%20like",)),
    "random-slopes": ("/random-slopes?rs_dataset=simulate", "correlation",
                      ("/random-slopes?rs_dataset=simulate&rs_tab=Correlation",)),
    "shrinkage": ("/shrinkage?sh_dataset=simulate", r"\sigma_b / \sigma",
                  ("/shrinkage", "/shrinkage?sh_tab=All%20groups%2C%20one%20ratio",
                   "/shrinkage?sh_tab=Random%20slopes")),
}
TARGETS = {"first": 2.0, "press": 0.15, "frame": 0.050}

# Installed before any script of the page runs: the time of the first chart and of the last change, the
# page's clock at each message from the server, and the messages the page has sent, counted in the page.
# Not with Playwright's websocket events: listening to them sends every frame of the socket to Playwright,
# and a page's first chart came ~0.1 s later (medians of 6 fresh tabs: random slopes 2.02 s against 1.90,
# random intercepts 1.88 against 1.79).
WATCH = """
window.__firstChart = null; window.__lastChange = 0; window.__sent = 0;
const OwnSocket = window.WebSocket;
window.WebSocket = function (...args) {
  const ws = new OwnSocket(...args);
  ws.addEventListener('message', () => window.__received && window.__received(performance.now()));
  const send = ws.send.bind(ws);
  ws.send = (data) => { window.__sent += 1; return send(data); };
  return ws;
};
window.WebSocket.prototype = OwnSocket.prototype;
Object.assign(window.WebSocket, {CONNECTING: 0, OPEN: 1, CLOSING: 2, CLOSED: 3});
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


def wait_idle(pid: int, quiet: float = 0.02, timeout: float = 90.0) -> float:
    """Wait until the process used less than `quiet` s of CPU in each of three half seconds in a row
    (what the warm-up runs queued in lab/prefetch.py is done); the seconds waited."""
    def cpu() -> float:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime

    start = time.monotonic()
    last, calm = cpu(), 0
    while time.monotonic() - start < timeout and calm < 3:
        time.sleep(0.5)
        now = cpu()
        calm = calm + 1 if now - last < quiet else 0
        last = now
    return time.monotonic() - start


def first_chart(page, url: str, received: list) -> tuple[float, float, float]:
    """(first chart, the page's scripts loaded (DOMContentLoaded), the server's first message) in s."""
    page.goto(url)
    page.wait_for_selector(".js-plotly-plot .main-svg", state="attached", timeout=120_000)
    seconds = page.evaluate("() => window.__firstChart") / 1e3
    loaded = page.evaluate("() => performance.getEntriesByType('navigation')[0].domContentLoadedEventEnd") / 1e3
    first_message = (min(received) / 1e3) if received else float("nan")
    settle(page, 800)
    return seconds, loaded, first_message


def slider_presses(page, label: str, presses: int, received: list) -> tuple[list[float], list[float]]:
    """Move the slider labelled `label` one step per press (right, then back left at its end); the
    times until settled, and until the server's last message of that run arrived (`received`: the
    page's clock at each websocket message): the rest is the browser drawing."""
    box = page.locator("[data-testid=stSlider]").filter(has_text=label).first
    box.scroll_into_view_if_needed()
    thumb = box.locator("input[type=range]")  # streamlit 1.67: react-aria's slider, a hidden range input
    times, replies, key = [], [], "ArrowRight"
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
        replies.append((max([t for t in received if t > t0], default=t0) - t0) / 1e3)
    return times, replies


# A drag along plotly's slider, in the page (no Playwright round trip per frame): the mouse pressed on
# the rail, then moved step by step over the chart (plotly listens there while dragging); after each
# move, the time until two animation frames have passed: plotly restyles in the first, the browser
# has painted it by the second.
DRAG = """async (index) => {
  const rail = document.querySelectorAll('.js-plotly-plot .slider-rail-touch-rect')[index];
  const plot = rail.closest('.js-plotly-plot');
  rail.scrollIntoView({block: 'center'});
  await new Promise(r => setTimeout(r, 300));
  const box = rail.getBoundingClientRect(), y = box.top + box.height / 2;
  const fire = (el, type, x) => el.dispatchEvent(new MouseEvent(type, {bubbles: true, clientX: x, clientY: y,
                                                                         buttons: 1, view: window}));
  const frame = () => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)));
  fire(rail, 'mousedown', box.left + 2);
  await frame();
  const times = [], titles = new Set();
  for (let i = 0; i <= 30; i++) {
    const x = box.left + 2 + (box.width - 4) * (i % 2 ? 30 - i : i) / 30;  // across and back, jumping about
    const t0 = performance.now();
    fire(plot, 'mousemove', x);
    await frame();
    times.push(performance.now() - t0);
    titles.add((plot.querySelector('.gtitle') || {}).textContent);
  }
  return {times, titles: titles.size};  // the button still held: RELEASE lets go
}"""
RELEASE = """(index) => {
  const plot = document.querySelectorAll('.js-plotly-plot .slider-rail-touch-rect')[index].closest('.js-plotly-plot');
  plot.dispatchEvent(new MouseEvent('mouseup', {bubbles: true, view: window}));
}"""


def drag_frames(page) -> tuple[list[float], int, int]:
    """Drag every plotly slider on the page (DRAG, then RELEASE); (frame times in s, sliders, websocket
    frames sent while the button was held: a client-side slider sends none; one the page follows,
    shrinkage's observations kept, sends one when let go, which is not counted)."""
    sliders = page.locator(".js-plotly-plot .slider-rail-touch-rect").count()
    frames, during = [], 0
    for i in range(sliders):
        before = page.evaluate("() => window.__sent")
        result = page.evaluate(DRAG, i)
        page.wait_for_timeout(300)  # anything a move sent has left
        during += page.evaluate("() => window.__sent") - before
        page.evaluate(RELEASE, i)
        settle(page, 400)
        frames += [t / 1e3 for t in result["times"]]
        if result["titles"] < 5:
            print(f"warning: slider {i} showed only {result['titles']} titles while dragged")
    return frames, sliders, during


# Where a press's main-thread time goes (--profile): the sampling profiler's self time, by script.
WHO = (("plotly", "plotly.js"), ("react-dom", "React"), ("emotion", "styles (emotion)"),
       ("styled-components", "styles (emotion)"), ("StreamlitMarkdown", "Markdown, KaTeX"), ("rehype", "Markdown, KaTeX"),
       ("katex", "Markdown, KaTeX"), ("(program)", "native: style, layout, paint"), ("(garbage collector)", "GC"),
       ("index.", "Streamlit"), ("protobuf", "Streamlit"))


def press_profile(context, page, label: str, presses: int, received: list) -> tuple[float, dict]:
    """`presses` more presses under Chromium's sampling profiler: (busy ms a press, {part: ms a
    press}). The profiler slows the page: these times are shares, not the press's own time."""
    cdp = context.new_cdp_session(page)
    cdp.send("Profiler.enable")
    cdp.send("Profiler.setSamplingInterval", {"interval": 200})
    cdp.send("Profiler.start")
    slider_presses(page, label, presses, received)
    profile = cdp.send("Profiler.stop")["profile"]
    frames = {n["id"]: n["callFrame"] for n in profile["nodes"]}
    parts: dict = {}
    for node, us in zip(profile["samples"], profile["timeDeltas"]):
        frame = frames[node]
        if frame["functionName"] == "(idle)":
            continue
        where = frame["url"].rsplit("/", 1)[-1] or frame["functionName"]
        part = next((name for key, name in WHO if key in where), None)
        if part is None:  # no script: a native DOM call (getBoundingClientRect...) or Playwright's polling
            part = "other scripts" if frame["url"] else "no script: DOM calls, the bench's polling"
        parts[part] = parts.get(part, 0.0) + us / 1e3 / presses
    return sum(parts.values()), dict(sorted(parts.items(), key=lambda kv: -kv[1]))


FLOOR_APP = """import plotly.graph_objects as go
import streamlit as st

st.title("One chart")
middle = st.sidebar.slider("middle point", 0, 20, 3)
st.plotly_chart(go.Figure(go.Scatter(x=[1, 2, 3], y=[1, middle, 2])))
"""
# The same page as this app serves it: lab.server (its changes to Streamlit's serving) and lab.chart
FLOOR_APP_SERVED = FLOOR_APP.replace("import streamlit as st\n", "import streamlit as st\n\nfrom lab import chart\n").replace(
    "st.plotly_chart(", "chart.show(")


def floor(p, repeats: int = 3, presses: int = 0, served: bool = False,
          source: str | None = None) -> tuple[list[float], list[float]]:
    """The floor under every page, a Streamlit page with one sidebar slider and a three-point chart it
    moves: (first chart in s, in `repeats` fresh tabs; `presses` presses of the slider, each settled as
    a lesson's press is: what Streamlit costs a press before any element of ours). Served by
    `streamlit run` with st.plotly_chart, or (served) as this app is served, its chart our element.
    source: another page with that slider and chart (bench/elements.py: the floor with more elements)."""
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "app.py").write_text(source or (FLOOR_APP_SERVED if served else FLOOR_APP))
        shutil.copytree(ROOT / ".streamlit", Path(tmp) / ".streamlit")
        if served:
            shutil.copytree(ROOT / "static", Path(tmp) / "static")  # the chart element's plotly.js
        with running(**({"script": Path(tmp) / "app.py"} if served else {"root": tmp})) as (url, _):
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            out, pressed = [], []
            for i in range(repeats + 1):  # the first warms the server
                context = browser.new_context(viewport={"width": 1400, "height": 900})
                context.add_init_script(WATCH)
                page = context.new_page()
                out.append(first_chart(page, url, [])[0])
                if i == repeats and presses:
                    pressed = slider_presses(page, "middle point", presses, [])[0]
                context.close()
            browser.close()
    return out[1:], pressed


def pct(values, q) -> str:
    return f"{np.percentile(values, q):6.3f}" if values else "     -"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--pages", nargs="*", default=list(SCENARIOS), choices=list(SCENARIOS))
    ap.add_argument("--presses", type=int, default=10)
    ap.add_argument("--tabs", type=lambda v: max(1, int(v)), default=3,
                    help="fresh tabs per page for the first chart (the median tab's times)")
    ap.add_argument("--root", default=None, help="run the app in this directory instead")
    ap.add_argument("--no-floor", action="store_true", help="skip the one-chart page")
    ap.add_argument("--profile", type=int, default=0, metavar="N",
                    help="N more presses a page under the profiler: where the main thread's time goes")
    args = ap.parse_args()
    from playwright.sync_api import sync_playwright

    load_before = os.getloadavg()
    rows, starts, profiles = [], [], []
    with running(root=args.root) as (url, server), sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        idle = []
        for name in args.pages:
            address, label, drag_addresses = SCENARIOS[name]
            # the server's first run of the page (imports, fits) is not a student's wait, and neither is
            # what it queued (lab/prefetch.py: a truth slider's other values, computed in the background):
            # on a real server that does not share the student's CPU, here it would. Page by page, just
            # before it is measured: warmed all at once first, random slopes' first chart depended on the
            # pages measured before it (1.84 s measured first, 2.28 s after ICC's presses and drags)
            warm = browser.new_page()
            for warm_address in (address, *drag_addresses):
                warm.goto(url + warm_address)
                warm.wait_for_selector(".js-plotly-plot .main-svg", state="attached", timeout=120_000)
            warm.close()
            idle.append(wait_idle(server.pid))
            opened, context = [], None
            for _ in range(args.tabs):  # each a fresh tab: nothing cached; the last one is pressed
                if context is not None:
                    context.close()
                context = browser.new_context(viewport={"width": 1400, "height": 900})
                context.add_init_script(WATCH)
                page = context.new_page()
                received = []
                context.expose_function("__received", lambda t, received=received: received.append(t))
                opened.append(first_chart(page, url + address, received))
            first, loaded, first_message = sorted(opened)[(len(opened) - 1) // 2]  # the median tab's
            presses, replies = slider_presses(page, label, args.presses, received)
            if args.profile:
                profiles.append((name, *press_profile(context, page, label, args.profile, received)))
            height = page.evaluate("() => document.querySelector('[data-testid=stMain]').scrollHeight")
            frames, sliders, frames_sent = [], 0, 0
            for drag_address in drag_addresses:  # each tab with client-side sliders, opened as a link opens it
                page.goto(url + drag_address)
                page.wait_for_selector(".js-plotly-plot .slider-rail-rect", state="attached", timeout=120_000)
                settle(page, 800)
                more = drag_frames(page)
                frames, sliders, frames_sent = frames + more[0], sliders + more[1], frames_sent + more[2]
            rows.append((name, first, presses, replies, frames, sliders, frames_sent, height))
            starts.append((name, loaded, first_message, first, sorted(o[0] for o in opened)))
            context.close()
        browser.close()
        floors = [] if args.no_floor else [floor(p, presses=args.presses, served=served) for served in (False, True)]
    load_after = os.getloadavg()
    print(f"Chromium, one user, {args.presses} presses per page; load average "
          f"{load_before[0]:.2f} before, {load_after[0]:.2f} after (2 cores); the server idle "
          f"{', '.join(f'{v:.1f}' for v in idle)} s after each page's first runs")
    print(f"{'page':18} {'first chart s':>13} {'press p50':>9} {'p95':>6} {'reply p50':>9} {'drag p50':>9} "
          f"{'p95':>6} {'sliders':>7} {'ws sent':>7} {'page px':>7}")
    for name, first, presses, replies, frames, sliders, frames_sent, height in rows:
        print(f"{name:18} {first:13.2f} {pct(presses, 50):>9} {pct(presses, 95)} {pct(replies, 50):>9} "
              f"{pct(frames, 50):>9} {pct(frames, 95)} {sliders:7d} {frames_sent:7d} {height:7d}")
    print("reply: press -> the server's last message of the run arrived (the rest of 'press' is the browser drawing)")
    print(f"first chart, where the time goes (s from navigation, the median of {args.tabs} fresh tabs): scripts loaded / "
          "the server's first message / chart, and every tab's chart")
    for name, loaded, first_message, first, each in starts:
        print(f"  {name:18} {loaded:6.2f} {first_message:6.2f} {first:6.2f}   {', '.join(f'{v:.2f}' for v in each)}")
    print(f"{'target':18} {TARGETS['first']:13.2f} {'':>9} {TARGETS['press']:6.3f} {'':>9} {'':>9} {TARGETS['frame']:6.3f}")
    for (firsts, pressed), how in zip(floors, ("`streamlit run`, st.plotly_chart", "as this app serves it, our chart element")):
        print(f"the floor ({how}): a Streamlit page with one sidebar slider and the three-point plotly chart it "
              f"moves, first chart {', '.join(f'{v:.2f}' for v in firsts)} s; press p50 {pct(pressed, 50).strip()} "
              f"p95 {pct(pressed, 95).strip()} s")
    if profiles:
        print(f"main thread per press under the profiler ({args.profile} presses; ms of self time by script):")
        for name, busy, parts in profiles:
            print(f"  {name:18} busy {busy:4.0f}: " + ", ".join(f"{part} {ms:.0f}" for part, ms in parts.items() if ms >= 1))
    if rows:
        worst = max(max(r[2]) for r in rows)
        print(f"slowest press {worst:.3f} s; median of all presses {statistics.median(sum((r[2] for r in rows), [])):.3f} s")


if __name__ == "__main__":
    main()
