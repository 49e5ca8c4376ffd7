"""The house style of every figure, and the one way figures are constructed.

Why not `go.Scatter(...)` and `fig.add_trace`: plotly validates every property as it is set,
which costs 3-15 ms per figure, and a page draws up to ten figures per rerun. Builders here
assemble plain dicts, and a figure keeps them as dicts (DraftFigure: plotly's objects are made only if
something asks for them, which the app's chart element never does); tests/test_figures.py re-validates
every figure with plotly's full validator, so an invalid property still fails a test.

One palette (Okabe & Ito's, which colour-blind readers can tell apart), dashes that carry the same
meaning without colour, fonts that carry to the back of a lecture hall; `styled(fig, scale)`
enlarges everything for presenter mode. No plotly template: applying one costs ~7 ms a figure and
Streamlit themes charts in the browser anyway.
"""
from __future__ import annotations

import base64
import copy
import functools
import re
import threading

import numpy as np
import plotly.graph_objects as go
from _plotly_utils.basevalidators import is_homogeneous_array
from _plotly_utils.utils import is_skipped_key, plotlyjsShortTypes, to_typed_array_spec

# Okabe & Ito's palette without its yellow, too faint as a line on white; black is the population.
PALETTE = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#882255"]
# Beyond seven groups, Paul Tol's muted palette adds eight more distinct colours (15 before repeating).
PALETTE_MANY = PALETTE + ["#332288", "#88CCEE", "#44AA99", "#117733", "#999933", "#DDCC77", "#CC6677", "#AA4499"]
GREY, LIGHT = "#7F7F7F", "rgba(86,180,233,0.25)"
POOLING = {  # the three answers, and the population line: colour and dash both carry the meaning
    "complete": dict(name="complete pooling: one line for all", color=GREY, dash="dot"),
    "none": dict(name="no pooling: each group alone", color="#E69F00", dash="dash"),
    "partial": dict(name="partial pooling: mixed model", color="#0072B2", dash="solid"),
    "population": dict(name="population: fixed effects", color="#000000", dash="solid"),
}
MAX_POINTS = 5000  # beyond this a scatter is thinned, with a note on the figure
# Heatmap scales, given as colours (plotly.js does not know every name plotly.py does): white is 0.
SCALE_BLUE = [[0.0, "#FFFFFF"], [1.0, "#0072B2"]]
SCALE_ORANGE = [[0.0, "#FFFFFF"], [1.0, "#E69F00"]]
SCALE_DIVERGING = [[0.0, "#D55E00"], [0.5, "#FFFFFF"], [1.0, "#0072B2"]]  # with zmid=0
# A matrix's values (fig_matrix): white at 0, through sky blue and blue to a dark blue, so that middle values
# differ from small and large ones (a white-to-blue ramp left most cells of a matrix a similar pale blue).
SCALE_VALUES = [[0.0, "#FFFFFF"], [0.3, "#A6D4F2"], [0.65, "#0072B2"], [1.0, "#00304D"]]
# signed values (covariances, correlations, a covariance factor): vermillion below 0, blue above, zmin = -zmax
SCALE_SIGNED = [[0.0, "#7A2E00"], [0.25, "#D55E00"], [0.5, "#FFFFFF"], [0.75, "#0072B2"], [1.0, "#00304D"]]

# plotly creates its property validators lazily and not thread-safely: two sessions of the app
# building figures at the same moment (a class under load, bench/load.py) made plotly reject valid
# values now and then ("Invalid value ... for the 'textposition' property"). Every figure is built
# and styled through the two functions below, under this lock (construction takes about a ms).
_PLOTLY = threading.RLock()


def figure(traces: list[dict], layout: dict) -> go.Figure:
    """A figure from trace and layout dicts, without plotly's per-property validation; its plotly
    objects are made only if something asks for them (DraftFigure)."""
    base = dict(margin=dict(l=10, r=10, t=60, b=10), height=420)
    return DraftFigure(dict(data=traces, layout={**base, **layout}))


def styled(fig: go.Figure, scale: float = 1.0) -> go.Figure:
    """Fonts, markers and lines for the screen (scale 1) or a projector (scale > 1)."""
    with _PLOTLY:
        spec = fig.to_dict()
    style_dict(spec, scale)
    return DraftFigure(spec)


# Font sizes in px at scale 1 (the screen); presenter mode multiplies them (1.6: ticks 19 px, axis
# titles 22 px, the chart's title 27 px). Axes get explicit sizes: Streamlit's chart theme sets its own
# (12 px ticks, 14 px titles), which would otherwise win over the figure's base font.
TICK, AXIS_TITLE, TITLE, LEGEND, BASE = 12, 14, 17, 13, 14
PRESENTER_MAX_HEIGHT = 500  # px: a chart and its controls fit one 1280x720 screen
PRESENTER_LABELS_MAX_HEIGHT = 640  # px: a chart with a row per group, or a square one, alone on a 1280x720 screen


def _sub(d: dict, *path: str) -> dict:
    """d[path[0]][path[1]]..., made (as empty dicts) where missing: plotly's update() on a dict."""
    for key in path:
        if not isinstance(d.get(key), dict):
            d[key] = {}
        d = d[key]
    return d


@functools.cache
def _has_colorbar(trace_type: str) -> bool:
    return "colorbar" in go.Figure(dict(data=[dict(type=trace_type)]), _validate=False).data[0]._valid_props


def style_dict(spec: dict, scale: float) -> None:
    """The house style applied to a figure's dict in place (what plotly's update() calls did, without
    building and validating plotly objects on the way: 3-30 ms a figure, at every new slider value)."""
    layout, data = _sub(spec, "layout"), spec.setdefault("data", [])
    axes = sorted({"xaxis", "yaxis"} | {k for k in layout if re.fullmatch(r"[xy]axis\d*", k)})
    height = layout.get("height") or 420
    if scale != 1.0:  # taller, up to what fits one screen with its controls (never shorter)
        height = round(max(height, min(height * (1 + (scale - 1) * 0.25), PRESENTER_MAX_HEIGHT)))
        if any((layout.get(ax) or {}).get("scaleanchor") for ax in axes):
            # axes tied to a square box (the random-effects plane): its height is its size, and on a wide
            # projector row the box stayed a small square between empty margins, the labels on top of each other
            height = round(max(height, min(height * (1 + (scale - 1) * 0.5), PRESENTER_LABELS_MAX_HEIGHT)))
        # a row per category (a caterpillar's groups): room for every label at the larger font
        labels = max((len(set(t["y"])) for t in data if t.get("type", "scatter") == "scatter"  # (numbers may come
                      and isinstance(t.get("y"), (list, tuple, np.ndarray)) and len(t["y"])  # as a typed-array dict)
                      and isinstance(list(t["y"][:1])[0], str)), default=0)
        needed = round(labels * TICK * scale * 1.3) + 160
        height = max(height, min(needed, PRESENTER_LABELS_MAX_HEIGHT))
        if labels and needed <= height:
            for ax in axes:  # there is room: every label (plotly would drop every other one)
                if ax.startswith("y"):
                    _sub(layout, ax)["dtick"] = 1
        height = min(height, PRESENTER_LABELS_MAX_HEIGHT)  # a tall grid of panels still fits one screen
    margin = _sub(layout, "margin")
    top = margin["t"] if margin.get("t") is not None else 60
    _sub(layout, "font")["size"] = round(BASE * scale)
    _sub(layout, "legend", "font")["size"] = round(LEGEND * scale)
    _sub(layout, "title", "font")["size"] = round(TITLE * scale)
    if (layout["title"].get("subtitle") or {}).get("text"):
        _sub(layout, "title", "subtitle", "font")["size"] = round(LEGEND * scale)
    layout["height"] = height
    margin["t"] = round(top * (1 + (scale - 1) * 0.9))  # the title above a note, not on it
    for ax in axes:
        _sub(layout, ax, "tickfont")["size"] = round(TICK * scale)
        _sub(layout, ax, "title", "font")["size"] = round(AXIS_TITLE * scale)
        # plotly.js's default for a numeric axis, "hide past div", measures every tick label's box at
        # every draw to hide those past the chart's edge (automargin leaves none there): in Chromium,
        # Plotly.react of random slopes' lines chart took 17-25 ms with it, 12-16 ms without (issue 16)
        layout[ax].setdefault("ticklabeloverflow", "allow")
    if scale == 1.0:
        return
    # what is scaled below is multiplied, not set: a dict several traces share (random intercepts' ten
    # panels of data points, pooling.DATA; a deep copy keeps them shared) is copied first, or it was
    # enlarged once for every trace sharing it (6 px x 1.3^10 = 83 px: blobs over the panels)
    layout["legend"] = legend = dict(layout.get("legend") or {})
    if layout.get("annotations"):
        layout["annotations"] = [{**a, "font": dict(a.get("font") or {})} for a in layout["annotations"]]
    for trace in data:
        for key in ("marker", "line", "textfont"):
            if isinstance(trace.get(key), dict):
                trace[key] = dict(trace[key])
    if legend.get("orientation") == "h" and legend.get("y") is not None and legend["y"] < 0:  # below the axis title
        legend["y"] = legend["y"] * (1 + (scale - 1) * 0.75)
    for annotation in layout.get("annotations") or []:  # notes, panel titles
        font = _sub(annotation, "font")
        font["size"] = round((font.get("size") or BASE) * scale)
    for trace in data:
        kind = trace.get("type", "scatter")
        if kind in ("scatter", "scattergl"):
            marker = _sub(trace, "marker")
            size = marker.get("size")
            marker["size"] = round((size if isinstance(size, (int, float)) else 7) * (1 + (scale - 1) * 0.5))
        if kind == "scatter" and (trace.get("line") or {}).get("width"):
            trace["line"]["width"] = trace["line"]["width"] * scale
        if (trace.get("textfont") or {}).get("size"):
            trace["textfont"]["size"] = round(trace["textfont"]["size"] * (1 + (scale - 1) * 0.5))  # labels on points
        if _has_colorbar(kind):
            _sub(trace, "colorbar", "tickfont")["size"] = round(TICK * scale)


class _Lazy(go.Figure):
    """A figure held as its dict, whose plotly objects (traces, layout) are made only when something
    asks for them: the first attribute plotly's Figure has and this one lacks makes them, from a copy
    of the dict, and from then on it is an ordinary figure. The chart element (lab/chart.py) needs only
    the dict: making the objects was 6-12 ms of a slider press's server time for random intercepts'
    forty traces, and a builder's figure made them once more (~6 ms for the same forty)."""

    def __init__(self, spec: dict):
        object.__setattr__(self, "_frozen_dict", spec)
        object.__setattr__(self, "_frozen_made", False)

    def __getattr__(self, name):  # only for attributes not found: plotly's, before they are made
        if name.startswith(("__", "_frozen")):
            raise AttributeError(name)
        with _PLOTLY:  # a cached figure is shared: a second thread waits until the first has made them
            if not self.__dict__.get("_frozen_made", True):
                object.__setattr__(self, "_frozen_made", True)
                go.Figure.__init__(self, copy.deepcopy(self._frozen_dict), _validate=False)
        return object.__getattribute__(self, name)  # made now, or not an attribute: AttributeError


class DraftFigure(_Lazy):
    """What a builder returns (`figure`, `styled`). Its `to_dict()` is what plotly's
    go.Figure(spec, _validate=False).to_dict() gives, without plotly's default template (the module
    docstring says why): a deep copy, each trace's type last (scatter when it names none), numpy and
    pandas arrays as plotly's typed arrays. tests/test_figures.py holds the two equal on every builder."""

    def to_dict(self):
        if self.__dict__.get("_frozen_made"):  # its objects were made (and may have changed): plotly's
            return go.Figure.to_dict(self)
        spec = copy.deepcopy(self._frozen_dict)
        res = {"data": [{**{k: v for k, v in t.items() if k != "type"}, "type": t.get("type", "scatter")}
                        for t in spec.get("data", [])], "layout": spec.get("layout", {})}
        if spec.get("frames"):
            res["frames"] = spec["frames"]
        _typed_arrays(res)
        return res


def _typed_arrays(obj) -> None:
    """plotly's convert_to_base64 (arrays as plotly.js typed arrays, in place), with a short way for
    float arrays, nearly all of a figure's: plotly's own way takes each array through narwhals (~50 us
    an array, 4 ms of random intercepts' pooling chart). Other arrays go plotly's way."""
    if isinstance(obj, dict):
        for key, value in obj.items():
            if is_skipped_key(key):
                continue
            if isinstance(value, np.ndarray) and value.dtype.kind == "f" and value.size and str(value.dtype) in plotlyjsShortTypes:
                value = np.ascontiguousarray(value)
                obj[key] = {"dtype": plotlyjsShortTypes[str(value.dtype)], "bdata": base64.b64encode(value).decode("ascii")}
                if value.ndim > 1:
                    obj[key]["shape"] = str(value.shape)[1:-1]
            elif is_homogeneous_array(value):
                obj[key] = to_typed_array_spec(value)
            else:
                _typed_arrays(value)
    elif isinstance(obj, (list, tuple)):
        for value in obj:
            _typed_arrays(value)


class FrozenFigure(_Lazy):
    """A figure that will not change again (a cached one), with its dict made once.

    st.plotly_chart turns a figure into a dict with `to_dict()`, a deep copy, on every rerun of every
    session; a frozen figure hands out the dict made when it was frozen. (Handing st.plotly_chart a
    dict instead would be worse: Streamlit validates a dict anew each time.)"""

    def to_dict(self):
        return self._frozen_dict


def freeze(fig: go.Figure, scale: float | None = None) -> FrozenFigure:
    """The figure frozen; with `scale`, styled on the way (one copy of its dict instead of three)."""
    with _PLOTLY:
        spec = fig.to_dict()
        if scale is not None:
            style_dict(spec, scale)
    return FrozenFigure(spec)  # its plotly objects copy the dict when made: the two stay independent


def note(text: str) -> dict:
    """A small grey note above the plot area (thinning, groups shown...)."""
    return dict(text=text, xref="paper", yref="paper", x=0, y=1.02, showarrow=False, xanchor="left",
                yanchor="bottom", font=dict(size=12, color="#555555"))


def hline(y: float, color: str = GREY, dash: str = "dot") -> dict:
    return dict(type="line", xref="paper", x0=0, x1=1, y0=y, y1=y, line=dict(color=color, dash=dash))


def vline(x: float, color: str = GREY, dash: str = "dot") -> dict:
    return dict(type="line", yref="paper", y0=0, y1=1, x0=x, x1=x, line=dict(color=color, dash=dash))


def legend_below(y: float = -0.18) -> dict:
    return dict(orientation="h", y=y)


def panel_axes(k: int, n: int, cols: int, gap_x: float = 0.03, gap_y: float = 0.1) -> tuple[str, dict, dict]:
    """Panel k of n in a grid of `cols` columns (lattice style, shared axes): its axis suffix, its
    two axis dicts, and the label above it (an annotation without its text)."""
    nrows = int(np.ceil(n / cols))
    r, c = divmod(k, cols)
    ax = "" if k == 0 else str(k + 1)
    x0 = c / cols + gap_x / 2
    y1 = 1 - r / nrows - gap_y / 2
    axes = {f"xaxis{ax}": dict(domain=[x0, x0 + 1 / cols - gap_x], anchor=f"y{ax}", matches="x" if k else None,
                               showticklabels=r == nrows - 1 or k + cols >= n),
            f"yaxis{ax}": dict(domain=[y1 - 1 / nrows + gap_y, y1], anchor=f"x{ax}", matches="y" if k else None,
                               showticklabels=c == 0)}
    label = dict(x=x0 + (1 / cols - gap_x) / 2, y=y1, xref="paper", yref="paper", showarrow=False,
                 yanchor="bottom", font=dict(size=12))
    return ax, axes, label


def place_labels(x, y, texts, x_range, y_range, char: float = 0.022, height: float = 0.05) -> list[str]:
    """A textposition for each point's label so that no two labels overlap (greedy: above, below,
    right, left, in that order, in the plot's 0-1 box given by the axis ranges; "" where none fits:
    the hover label remains). char and height: a character's width and a label's height as shares
    of the box (for a box of about 400 px)."""
    x, y = np.asarray(x, float), np.asarray(y, float)
    u = (x - x_range[0]) / (x_range[1] - x_range[0])
    v = (y - y_range[0]) / (y_range[1] - y_range[0])
    boxes, out = [], []
    offsets = {"top center": (0.0, 0.6), "bottom center": (0.0, -0.6), "middle right": (0.6, 0.0),
               "middle left": (-0.6, 0.0)}
    for i, label in enumerate(texts):
        w = char * len(str(label))
        chosen = ""
        for pos, (dx, dy) in offsets.items():
            cx = u[i] + dx * (w + 0.02)
            cy = v[i] + dy * (height + 0.01) * 1.2
            box = (cx - w / 2, cx + w / 2, cy - height / 2, cy + height / 2)
            clear = all(box[1] < b[0] or box[0] > b[1] or box[3] < b[2] or box[2] > b[3] for b in boxes)
            points_clear = not np.any((u > box[0]) & (u < box[1]) & (v > box[2]) & (v < box[3]))
            if clear and points_clear:
                chosen = pos
                boxes.append(box)
                break
        out.append(chosen)
    return out


def steady_range(values, pad: float = 0.04, steps: int | None = 12) -> list[float]:
    """An axis range for these values, fixed in the figure instead of left to plotly.js's autorange:
    padded by `pad` of their span on each side, then widened to a multiple of a round step (1, 2,
    2.5 or 5 times a power of ten, about span / `steps`; None: not widened). A slider press that
    moves the points a little then mostly keeps the range, and lab/chart.js redraws the chart as an
    animation frame of its traces instead of a new plot."""
    v = np.asarray(values, float)
    v = v[np.isfinite(v)]
    if not v.size:
        return [0.0, 1.0]
    lo, hi = float(v.min()), float(v.max())
    span = hi - lo if hi > lo else max(abs(hi), 1.0) * 0.1
    lo, hi = lo - pad * span, hi + pad * span
    if steps is None:
        return [lo, hi]
    step = round_step(span / steps)
    return [float(np.floor(lo / step) * step), float(np.ceil(hi / step) * step)]


def round_step(raw: float) -> float:
    """The smallest round step (1, 2, 2.5 or 5 times a power of ten) at least `raw` (to 1e-9 of it): an
    axis's steady range, a slider's grid whose labels read as numbers."""
    power = 10.0 ** np.floor(np.log10(raw))
    return next(m * power for m in (1, 2, 2.5, 5, 10) if m * power >= raw * (1 - 1e-9))


def traces_range(traces: list[dict], key: str, **kw) -> list[float]:
    """steady_range of every trace's `key` ("x" or "y") values together (None: a gap, left out)."""
    return steady_range(np.concatenate([np.asarray(t[key], dtype=float) for t in traces]), **kw)
