"""What each kind of element adds to a slider press: bench/browser.py's floor page (one sidebar slider
and the three-point chart it moves, served as this app is: lab.server, lab.chart) with N more elements
of one kind, pressed as a lesson's slider is, in headless Chromium. (issue 16)

    python bench/elements.py                  # N = 10 of every kind, twice each (about 8 minutes)
    python bench/elements.py --n 20 --kinds markdown chart

A lesson's press is a Streamlit rerun of its page: every element the run sends is marked stale when
the run starts and drawn again when its message comes, changed or not. The floor is what Streamlit
costs with one slider and one chart; each row says what N more elements of that kind cost on top of
it (press p50 / p95 in s, and the p50 difference from the floor in ms per element). A lesson page
holds ~20-30 elements: this is the price list of a page's press, the floor under any page of ~25
elements that Streamlit reruns. The last row has the paragraphs outside a fragment that holds the
slider and its chart: what they cost a press when the press reruns only the fragment.
"""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
from browser import FLOOR_APP_SERVED, floor  # noqa: E402

# kind -> the lines added to the floor page (N of them); each as a lesson uses it
KINDS = {
    "floor": "",
    "markdown (same text)": "for i in range(N): st.markdown(f'Some **text**, number {i}: a sentence of ordinary length.')",
    "markdown (new numbers)": "for i in range(N): st.markdown(f'An estimate: **{middle * 1.37 + i:.3f}**, and {i}.')",
    "equation (st.latex)": "for i in range(N): st.latex(r'y_{ij} = \\mu + b_i + \\varepsilon_{ij} + %d' % i)",
    "button": "for i in range(N): st.button(f'Button {i}', key=f'b{i}')",
    "sidebar slider": "for i in range(N): st.sidebar.slider(f'other {i}', 0, 20, 3, key=f's{i}')",
    "segmented control": "for i in range(N): st.segmented_control('part', ['One', 'Two', 'Three', 'Four', 'Five', 'Six'], "
                         "default='One', key=f'g{i}', label_visibility='collapsed')",
    "chart (same figure)": "for i in range(N): chart.show(go.Figure(go.Scatter(x=[1, 2, 3], y=[1, i, 2])), key=f'c{i}')",
}
# The same paragraphs as "markdown (same text)", with the slider and its chart in a fragment (st.fragment,
# the slider written into the sidebar from it): a press reruns the fragment, not the page.
FRAGMENT = "markdown outside a fragment"
FRAGMENT_APP = FLOOR_APP_SERVED.split('middle = ')[0] + """N = {n}
for i in range(N): st.markdown(f'Some **text**, number {{i}}: a sentence of ordinary length.')


@st.fragment
def live():
    middle = st.sidebar.slider("middle point", 0, 20, 3)
    chart.show(go.Figure(go.Scatter(x=[1, 2, 3], y=[1, middle, 2])))


live()
"""


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=10, help="elements of each kind added")
    ap.add_argument("--kinds", nargs="*", default=list(KINDS), help="by the start of their names")
    ap.add_argument("--presses", type=int, default=20)
    ap.add_argument("--repeats", type=int, default=2, help="runs of each kind, interleaved")
    args = ap.parse_args()
    kinds = ["floor"] + [k for k in [*KINDS, FRAGMENT] if k != "floor" and any(k.startswith(w) for w in args.kinds)]
    from playwright.sync_api import sync_playwright

    load_before = os.getloadavg()
    runs: dict[str, list[list[float]]] = {k: [] for k in kinds}
    with sync_playwright() as p:
        for _ in range(args.repeats):
            for kind in kinds:  # each on a fresh server and in a fresh tab (bench/browser.py's floor)
                source = (FRAGMENT_APP.format(n=args.n) if kind == FRAGMENT
                          else FLOOR_APP_SERVED + f"N = {args.n}\n" + KINDS[kind] + "\n")
                runs[kind].append(floor(p, repeats=0, presses=args.presses, served=True, source=source)[1])
    print(f"Chromium, one user; the floor page plus {args.n} elements of one kind; {args.presses} presses a run, "
          f"{args.repeats} runs each; load average {load_before[0]:.2f} before, {os.getloadavg()[0]:.2f} after (2 cores)")
    base = np.median([np.percentile(t, 50) for t in runs["floor"]])
    print(f"{'kind':24} {'press p50 / p95 s, each run':>40} {'ms a press per element':>24}")
    for kind in kinds:
        each = ", ".join(f"{np.percentile(t, 50):.3f} / {np.percentile(t, 95):.3f}" for t in runs[kind])
        extra = (np.median([np.percentile(t, 50) for t in runs[kind]]) - base) * 1e3 / args.n
        print(f"{kind:24} {each:>40} {'' if kind == 'floor' else f'{extra:+.1f}':>24}")


if __name__ == "__main__":
    main()
