"""Charts: a plotly figure drawn by an element of our own (st.components.v2: in the page, no iframe)
with a plotly.js of our own build (static/plotly-lab.min.js), instead of st.plotly_chart.

Why our own: speed (issue 16). st.plotly_chart's chunk holds all of plotly.js, 4.7 MB, which the
browser requests only when the first chart element arrives and then evaluates for ~0.8 s on this
machine before anything is drawn. Ours is plotly.js's core with the trace types the figures use (TRACES;
scripts/plotly/build.sh, the plotly.js version the Python package ships, MIT; vendored in static/ and
served by Streamlit's static serving, so the app stays offline): 1.25 MB, evaluated in ~0.15-0.17 s
(a blank page, median of 6 fresh tabs) where npm's cartesian bundle, used before, took ~0.46-0.53 s:
its ternary, pie, violin, image and 2-D histogram traces and its world calendars were evaluated by
every page and drawn by none. In a trace of a lesson's first load that evaluation was one 0.36 s task
just before the first chart. The page's index.html
preloads it (lab.server.load_plotly_with_the_page: 50-125 ms sooner to the first chart); evaluating it
there instead, before the page's elements mount, delayed the server's first message and the chart
with it. The figure is the same JSON plotly.js draws either way; what Streamlit's chart theme gave
(font, grid colour) the element's script sets where the figure does not. The build has no WebGL: a scattergl trace of up
to SVG_POINTS points is drawn as an SVG scatter (the same look); a figure with a larger one, or with
another trace type the bundle lacks, still goes to st.plotly_chart.

A chart is drawn only when it is on screen or within a screen's height of it (an IntersectionObserver
in chart.js); one further down keeps its figure and its place (the figure's height) and is drawn as
it scrolls near. On a long page a slider press then redraws the charts in view, not all of them, and
the first chart is not queued behind the others. A chart whose figure did not change is left as it
is (Streamlit's frontend keeps an element whose message is the same; tests/test_browser.py).

A plotly slider whose steps restyle traces and set the title (the sweeps of mmcore/figures/sweeps.py)
is played as animation frames without a redraw of axes and legend, the title set apart: drag frames
of ~33 ms in bench/browser.py (two animation frames: the measure's floor) instead of 35-65 ms at p50
and 56-82 ms at p95.

A new figure that moves only the points of a drawn one (its scatter traces' x and y and their labels'
text and place; linear axes whose ranges the figure fixes, mmcore.figures.style.steady_range; its
title) is played the same way: random intercepts' pooling chart of ten panels, which Plotly.react
redrew at each press of the truth's sigma_b, and random slopes' intercept-slope plane.
bench/browser.py press on random intercepts p50 / p95: 0.24-0.25 / 0.29-0.32 s, from 0.31 / 0.37-0.38 s
(interleaved runs).
"""
from __future__ import annotations

import base64
from pathlib import Path

import numpy as np
import plotly.io as pio
import streamlit as st

from lab.links import bound_value
from mmcore.figures.style import PALETTE_MANY, FrozenFigure

TRACES = frozenset({"bar", "box", "contour", "heatmap", "histogram", "scatter"})  # scripts/plotly/entry.js's
_ELEMENT = st.components.v2.component("mmlab_chart", js=(Path(__file__).parent / "chart.js").read_text(),
                                      isolate_styles=False)


SVG_POINTS = 1000  # a scattergl trace up to this size is drawn as an SVG scatter: the same look, no WebGL


def _size(values) -> int:
    """The number of values of a trace's array: a list, a numpy array, or plotly's typed-array dict
    (to_dict encodes numpy arrays as {"dtype", "bdata": base64, "shape"})."""
    if values is None:
        return 0
    if isinstance(values, dict):
        if "shape" in values:
            return int(np.prod([int(v) for v in str(values["shape"]).split(",")]))
        return len(base64.b64decode(values.get("bdata", ""))) // np.dtype(values.get("dtype", "f8")).itemsize
    return len(values)


def _for_bundle(spec: dict) -> dict | None:
    """The figure's dict for our plotly.js, or None if a trace needs another bundle: small
    scattergl traces as scatter, and without the plotly template Streamlit makes the default when it
    is imported (placeholder colours, #000001..., that only st.plotly_chart's frontend replaces);
    the house palette as the colour way instead."""
    data = []
    for trace in spec.get("data", []):
        kind = trace.get("type") or "scatter"
        if kind == "scattergl" and max(_size(trace.get("x")), _size(trace.get("y"))) <= SVG_POINTS:
            trace = {**trace, "type": "scatter"}
        elif kind not in TRACES:
            return None
        data.append(trace)
    layout = {key: value for key, value in spec.get("layout", {}).items() if key != "template"}
    layout.setdefault("colorway", PALETTE_MANY)
    return {**spec, "data": data, "layout": layout}


def spec_json(fig) -> bytes | None:
    """The figure as plotly.js's JSON for our plotly.js, UTF-8, or None if it cannot draw it; a
    frozen (cached) figure's is made once and kept on it.

    Bytes, not a str: Streamlit forwards bytes as they are and hashes them for the element's identity,
    while a str is JSON-encoded again (every quote escaped), encoded once more to hash it, and parsed
    twice in the browser."""
    if isinstance(fig, FrozenFigure) and hasattr(fig, "_frozen_json"):
        return fig._frozen_json
    spec = _for_bundle(fig.to_dict())
    made = None if spec is None else pio.to_json(spec, validate=False).encode()
    if isinstance(fig, FrozenFigure):
        fig._frozen_json = made
    return made


def show(fig, key: str | None = None, on_step=None) -> None:
    """The figure on the page: our element if the bundle draws it, else st.plotly_chart.

    on_step(index): for a figure with a plotly slider whose landing the page needs (the numbers below
    the chart, the link to the view): called with the step's index when the student lets go of the
    slider (one rerun per release, none while dragging; chart.js says it as the element's trigger
    "landed"). The page then draws the same figure with that step active, which the element keeps as
    it is. Needs a key."""
    spec = spec_json(fig)
    if spec is None:
        st.plotly_chart(fig, key=key, config={"displaylogo": False})
    elif on_step is None:
        _ELEMENT(data=spec, key=key, height="content")
    else:
        def landed() -> None:
            step = (st.session_state.get(key) or {}).get("landed")
            if isinstance(step, int):
                on_step(step)

        _ELEMENT(data=b'{"mmlabReport":true,' + spec[1:], key=key, height="content", on_landed_change=landed)


def at_step(fig: FrozenFigure, step: int) -> FrozenFigure:
    """The figure as its first slider shows it at `step` (an `update` step: its traces' new values and
    title applied, the slider there): what the chart shows once the student has moved the slider there.
    Made once per step and kept on the figure."""
    made = fig.__dict__.get("_frozen_steps")
    if made is None:
        made = {}
        object.__setattr__(fig, "_frozen_steps", made)
    if step not in made:
        spec = fig.to_dict()
        sliders = spec["layout"]["sliders"]
        values, layout_update, traces = sliders[0]["steps"][step]["args"]
        data = list(spec["data"])
        for j, k in enumerate(traces):
            data[k] = {**data[k], **{key: column[j] for key, column in values.items()}}
        layout = {**spec["layout"], "sliders": [{**sliders[0], "active": step}, *sliders[1:]]}
        if (layout_update or {}).get("title.text") is not None:
            layout["title"] = {**(layout.get("title") or {}), "text": layout_update["title.text"]}
        made[step] = FrozenFigure({**spec, "data": data, "layout": layout})
    return made[step]


def show_followed(fig: FrozenFigure, key: str, reset_when=None) -> int:
    """A figure with a plotly slider that the page follows: shown at the step where the student last let
    go of it (kept as f"{key}_step": in the link and the address bar, lab.bound_value; back to the
    figure's own start when its steps change or `reset_when` does), so a link or a reload shows the
    chart as it was left. The step (an index of the slider's steps)."""
    slider = fig.to_dict()["layout"]["sliders"][0]
    start = int(slider.get("active") or 0)
    state = f"{key}_step"
    step = bound_value(state, start, range(len(slider["steps"])),
                       reset_when=(tuple(s.get("label") for s in slider["steps"]), reset_when))
    show(fig if step == start else at_step(fig, step), key=key, on_step=lambda i: st.session_state.update({state: i}))
    return step
