"""Every figure builder, on every kind of model: it builds, and plotly's full validator accepts it
(builders skip validation for speed, see mmcore/figures/style.py)."""
import numpy as np
import pandas as pd
import plotly.graph_objects as go
import pytest

from mmcore import fit, load_dataset, simulate_intercepts
from mmcore.figures import model as FM
from mmcore.figures import views as F
from mmcore.figures.pooling import fig_pooling
from mmcore.figures.style import styled

MODELS = {
    "slopes": ("Reaction ~ Days + (Days|Subject)", lambda: load_dataset("sleepstudy")),
    "uncorrelated": ("Reaction ~ Days + (Days||Subject)", lambda: load_dataset("sleepstudy")),
    "blocks": ("yield ~ treat + (1|blend)", lambda: load_dataset("penicillin")),
    "one-way": ("Yield ~ 1 + (1|Batch)", lambda: load_dataset("dyestuff")),
    "crossed": ("diameter ~ 1 + (1|plate) + (1|sample)", lambda: load_dataset("penicillin_lme4")),
    "big": ("y ~ x + (1|group)", lambda: simulate_intercepts(n_groups=700, n_per_group=10, seed=1)),
}


def valid(fig: go.Figure) -> go.Figure:
    go.Figure(fig.to_dict())  # raises on any invalid property
    return fig


@pytest.fixture(scope="module", params=list(MODELS))
def model(request):
    formula, data = MODELS[request.param]
    return request.param, fit(formula, data())


def test_every_builder_makes_a_valid_figure(model):
    name, f = model
    builders = [F.fig_lines, F.fig_panels, F.fig_caterpillar, F.fig_qq_residuals, F.fig_qq_ranef, F.fig_residuals,
                lambda m: FM.fig_design(m, "X"), lambda m: FM.fig_design(m, "Z"),
                lambda m: FM.fig_variance_components({"a": m, "b": m})]
    if f.ranef[next(iter(f.ranef))].shape[1] > 1:
        builders.append(FM.fig_ranef_plane)
    for build in builders:
        fig = valid(build(f))
        assert fig.data, build
        valid(styled(fig, 1.6))


def test_lines_show_each_kind_of_pooling():
    f = fit("Reaction ~ Days + (Days|Subject)", load_dataset("sleepstudy"))
    fig = F.fig_lines(f, show=("complete", "none", "partial", "population"))
    names = {t.name for t in fig.data}
    assert {"complete pooling: one line for all", "no pooling: each group alone", "partial pooling: mixed model",
            "population: fixed effects"} <= names
    assert len(fig.data) <= 2 + 2 * 16 + 2  # one trace per colour (15 beyond seven groups) and kind of line, not per group


def test_big_data_is_thinned_with_a_note():
    f = fit("y ~ x + (1|group)", simulate_intercepts(n_groups=700, n_per_group=10, seed=1))
    fig = F.fig_residuals(f)
    assert len(fig.data[0].x) == 5000 and "5,000 of 7,000" in fig.layout.annotations[0].text


def test_presenter_scale_enlarges_fonts():
    f = fit("Yield ~ 1 + (1|Batch)", load_dataset("dyestuff"))
    assert styled(F.fig_caterpillar(f), 1.6).layout.font.size > styled(F.fig_caterpillar(f), 1.0).layout.font.size


def test_inference_figures_are_valid():
    import numpy as np

    import mmcore
    from mmcore.figures import fig_centring, fig_intervals, fig_null_rejections, fig_zeta
    from mmcore.lessons.centring import centring_study
    from mmcore.lessons.inference_tables import fixed_intervals, variance_intervals
    from mmcore.lessons.testing import null_study

    f = fit("yield ~ treat + (1|blend)", load_dataset("penicillin"))
    profile = mmcore.profile(f)
    boot = mmcore.bootstrap_parameters(f, nsim=50, seed=1)
    for p in profile.parameters:
        fig = valid(fig_zeta(p))
        assert len(fig.data) == 2 if np.isfinite(p.wald_se) else 1
    valid(fig_intervals(fixed_intervals(f, profile, boot), "fixed"))
    valid(fig_intervals(variance_intervals(f, profile, boot), "variances"))
    study = null_study("between", 4, 2, nsim=20, seed=1)
    valid(fig_null_rejections(study.rejection, study.level, 4, "between"))
    sleep = load_dataset("sleepstudy")
    valid(styled(fig_centring(centring_study(sleep, "Reaction", "Days", "Subject", [-4.0, 0.0, 4.0]), 2.0), 1.6))


def test_interval_figure_gives_each_parameter_a_band_and_dodges_the_methods():
    """One labelled band per parameter (not a label per method and parameter, which crowded the axis);
    inside it the methods one above the other in the legend's order, the numbers those of the table."""
    import pandas as pd

    from mmcore.figures import fig_intervals

    methods = ["Wald", "Satterthwaite t", "Kenward-Roger t", "profile", "bootstrap"]
    rows = [(p, m, est, est - 2 - j, est + 3 + j) for p, est in [("treatB", 1.0), ("treatC", 5.0), ("treatD", 2.0)]
            for j, m in enumerate(methods)]
    table = pd.DataFrame(rows, columns=["parameter", "method", "estimate", "lower", "upper"])
    spec = valid(fig_intervals(table, "fixed")).to_dict()
    y = spec["layout"]["yaxis"]
    assert list(y["ticktext"]) == ["treatB", "treatC", "treatD"] and list(y["tickvals"]) == [0, 1, 2]
    lines = [t for t in spec["data"] if t.get("showlegend") is not False]
    assert [t["name"] for t in lines] == methods  # the legend, left to right
    for p_i, p in enumerate(["treatB", "treatC", "treatD"]):
        heights = [t["y"][3 * p_i] for t in lines]  # each method's row in this parameter's band
        assert heights == sorted(heights) and len(set(heights)) == len(methods)  # dodged, in the legend's order
        assert all(abs(h - p_i) < 0.5 for h in heights)  # inside the band
        for t, m in zip(lines, methods):
            r = table[(table.parameter == p) & (table.method == m)].iloc[0]
            assert t["x"][3 * p_i: 3 * p_i + 2] == [r.lower, r.upper]  # the numbers are the table's
    assert spec["layout"]["height"] >= 150 + 3 * 5 * 22  # at least 22 px a method
    assert spec["layout"]["legend"]["y"] < 0  # below the axis, never on the intervals
    assert "e+" not in " ".join(t["customdata"][0] for t in lines)


def test_presenter_fonts_reach_every_axis_and_heights_fit_a_screen(model):
    """Streamlit's chart theme sets 12 px ticks and 14 px axis titles unless the figure says otherwise:
    presenter mode says so on every axis (panels have one per group)."""
    _, f = model
    for build in (F.fig_lines, F.fig_panels, F.fig_caterpillar, F.fig_residuals):
        fig = styled(build(f), 1.6)
        axes = [fig.layout[k] for k in fig.layout if k.startswith(("xaxis", "yaxis"))]
        assert axes and all(a.tickfont.size >= 18 and a.title.font.size >= 22 for a in axes), build
        assert fig.layout.title.font.size >= 22
        assert fig.layout.height <= 640, build  # one 1280x720 screen, a grid of panels too


def test_presenter_scale_enlarges_each_trace_once(model):
    """A marker or line style shared by several traces (random intercepts' ten panels of data points
    share pooling.DATA) is enlarged once per trace, not once for every trace that shares it: the data
    points had grown to 6 x 1.3^10 = 83 px, blobs over the panels in presenter mode."""
    _, f = model
    builders = [fig_pooling, F.fig_lines, F.fig_panels, F.fig_caterpillar, F.fig_residuals]
    for build in builders if len(f.ranef) == 1 and f.ranef[next(iter(f.ranef))].shape[1] == 1 else builders[1:]:
        for plain, large in zip(styled(build(f), 1.0).to_dict()["data"], styled(build(f), 1.6).to_dict()["data"]):
            size = (plain.get("marker") or {}).get("size")
            if isinstance(size, (int, float)):
                assert large["marker"]["size"] == round(size * 1.3), (build, plain.get("name"))
            width = (plain.get("line") or {}).get("width")
            if width and plain.get("type", "scatter") == "scatter":
                assert large["line"]["width"] == pytest.approx(width * 1.6), (build, plain.get("name"))


def test_no_axis_asks_plotly_to_measure_its_tick_labels(model):
    """plotly.js's default on a numeric axis ("hide past div") measures every tick label's box at every
    draw; the house style sets "allow" on every axis, panels included, at both scales (issue 16)."""
    _, f = model
    for scale in (1.0, 1.6):
        for build in (F.fig_lines, F.fig_panels, F.fig_caterpillar, F.fig_residuals):
            layout = styled(build(f), scale).to_dict()["layout"]
            axes = [layout[k] for k in layout if k.startswith(("xaxis", "yaxis"))]
            assert len(axes) >= 2 and all(a["ticklabeloverflow"] == "allow" for a in axes), build


def test_presenter_caterpillar_has_room_for_every_group_label():
    f = fit("Reaction ~ Days + (1|Subject)", load_dataset("sleepstudy"))
    fig = styled(F.fig_caterpillar(f), 1.6)
    rows = fig.layout.height - fig.layout.margin.t - 60
    assert rows / 18 >= fig.layout.yaxis.tickfont.size  # 18 subjects, one label each


def test_a_frozen_figure_makes_its_plotly_objects_only_when_asked():
    """freeze keeps the dict; the traces and layout of plotly's Figure are made on first use (the chart
    element never asks), from a copy: the dict handed out does not change with them."""
    import json

    import plotly.io as pio

    from mmcore.figures.style import freeze

    f = fit("Reaction ~ Days + (Days|Subject)", load_dataset("sleepstudy"))
    frozen = freeze(F.fig_lines(f), 1.0)
    spec = frozen.to_dict()
    assert not frozen._frozen_made and isinstance(frozen, go.Figure)
    assert len(frozen.data) == len(spec["data"]) and frozen._frozen_made
    made = json.loads(pio.to_json(frozen.to_plotly_json(), validate=False))  # from the objects it made
    assert made == json.loads(pio.to_json(spec, validate=False))
    frozen.layout.title.text = "changed"
    assert frozen.to_dict() is spec and spec["layout"].get("title", {}).get("text") != "changed"


def test_freezing_with_a_scale_is_styling_then_freezing():
    """freeze(fig, scale) styles the dict on the way (style.style_dict): the same figure as styled()
    and the house style's numbers at presenter scale (fonts, capped height, markers, legend below)."""
    import json

    import plotly.io as pio

    from mmcore.figures.style import BASE, PRESENTER_LABELS_MAX_HEIGHT, TICK, freeze

    f = fit("Reaction ~ Days + (Days|Subject)", load_dataset("sleepstudy"))
    for build in (F.fig_lines, F.fig_panels, F.fig_caterpillar, lambda m: FM.fig_design(m, "Z")):
        for scale in (1.0, 1.6):
            a, b = styled(build(f), scale), freeze(build(f), scale)
            assert json.loads(pio.to_json(a, validate=False)) == json.loads(pio.to_json(b, validate=False))
            valid(b)
            layout = b.to_dict()["layout"]
            assert layout["font"]["size"] == round(BASE * scale)
            assert layout["xaxis"]["tickfont"]["size"] == round(TICK * scale) == layout["yaxis"]["tickfont"]["size"]
            assert layout["height"] <= (PRESENTER_LABELS_MAX_HEIGHT if scale > 1 else 10_000)
    lines = styled(F.fig_lines(f), 1.6).to_dict()
    assert all(t["marker"]["size"] == round(7 * 1.3) for t in lines["data"] if t["type"] == "scatter"
               and not isinstance(t.get("marker", {}).get("size"), list))
    # a square box (axes tied) is as large as its height: on a projector it may use the taller limit
    from mmcore.figures.style import PRESENTER_MAX_HEIGHT
    plane = freeze(FM.fig_ranef_plane(f), 1.6).to_dict()["layout"]["height"]
    assert PRESENTER_MAX_HEIGHT < plane <= PRESENTER_LABELS_MAX_HEIGHT


def test_labels_of_nearby_groups_are_raised_apart():
    """The shrinkage axis: labels of groups with nearly the same own mean go to different rows; a
    group far from the others keeps the first row."""
    from mmcore.figures.lessons import fig_shrinkage, label_tiers

    x = np.array([0.0, 0.1, 0.2, 5.0, 10.0])
    tiers = label_tiers(x, ["Blend1", "Blend2", "Blend3", "Blend4", "Blend5"])
    assert len(set(tiers[:3])) == 3 and tiers[3] == 0 and tiers[4] == 0
    fig = fig_shrinkage(fit("Reaction ~ Days + (1|Subject)", load_dataset("sleepstudy")))
    text = next(t for t in fig.data if t.mode == "text")
    assert len(set(text.y)) > 1 and max(text.y) < fig.layout.yaxis.range[1]



def test_shrinkage_labels_never_overlap_and_name_the_groups_that_moved_most():
    """Many groups close together (an upload of 60): the labels drawn do not overlap (each row's
    labels, as the figure draws them, are apart); the groups that moved most are labelled, those left
    without a label are still named on hover; the highlighted group is always labelled."""
    from mmcore.figures.lessons import fig_shrinkage_axis

    rng = np.random.default_rng(3)
    own = rng.normal(250, 20, 60)
    table = pd.DataFrame({"own estimate": own, "mixed-model estimate": 250 + (own - 250) * rng.uniform(0.3, 0.9, 60),
                          "population": 250.0}, index=[f"S{300 + i}" for i in range(60)])
    for highlight in (None, "S330"):
        fig = fig_shrinkage_axis(table, "Reaction", highlight)
        text = next(t for t in fig.data if t.mode == "text")
        drawn = [(x, y, s) for x, y, s in zip(text.x, text.y, text.text) if s]
        span = float(np.ptp(own))
        for y in {y for _, y, _ in drawn}:
            row = sorted((x, s) for x, yy, s in drawn if yy == y)
            for (x0, s0), (x1, s1) in zip(row, row[1:]):  # half-widths as label_tiers counts them
                assert x1 - x0 > (len(s0) + len(s1) + 2) * 0.013 * span / 2
        assert 10 <= len(drawn) < 60 and len({y for _, y, _ in drawn}) <= 3
        moved = (table["own estimate"] - table["mixed-model estimate"]).abs().sort_values(ascending=False)
        assert set(moved.index[:3]) <= {s for _, _, s in drawn}
        assert all(set(t.text) == set(table.index) for t in fig.data if t.mode == "markers" and t.text is not None)
        if highlight:
            assert highlight in {s for _, _, s in drawn}

def test_steady_ranges_hold_every_point_and_move_seldom():
    """Charts whose points move with a slider fix their axis ranges (lab/chart.js then plays the move
    as a frame): the range holds every value with room to spare, lies on a round step, and stays put
    when the values move a little."""
    from mmcore.figures.pooling import fig_pooling
    from mmcore.figures.style import steady_range
    assert steady_range([190.0, 390.0]) == [180.0, 400.0]  # padded by 4% of the span, then steps of 20
    assert steady_range([0.0, 7.0], pad=0.05, steps=None) == pytest.approx([-0.35, 7.35])
    assert steady_range([np.nan, None, 3.0, 3.0])[0] < 3.0 < steady_range([3.0, 3.0])[1]  # one value
    assert steady_range([np.nan]) == [0.0, 1.0]
    for shift in (0.0, 1.0, 2.0):  # points moved by up to 1% of the span: the same range
        assert steady_range(np.array([190.0, 390.0]) + shift) == [180.0, 400.0]
    for f, build in ((fit("Reaction ~ Days + (Days|Subject)", load_dataset("sleepstudy")), F.fig_lines),
                     (fit("y ~ x + (1|group)", simulate_intercepts(n_groups=10, n_per_group=8, seed=3)), fig_pooling)):
        fig = build(f)
        ys = np.concatenate([np.asarray(t.y, dtype=float) for t in fig.data])
        xs = np.concatenate([np.asarray(t.x, dtype=float) for t in fig.data])
        lo, hi = fig.layout.yaxis.range
        assert lo < np.nanmin(ys) and np.nanmax(ys) < hi
        lo, hi = fig.layout.xaxis.range
        assert lo < np.nanmin(xs) and np.nanmax(xs) < hi


def test_a_builders_figure_gives_the_dict_plotly_would():
    """figure() keeps a builder's dicts (DraftFigure, no plotly objects made): its to_dict() must be what
    plotly's go.Figure(spec, _validate=False).to_dict() gives (arrays as typed arrays, every trace typed),
    less the default template, on every kind of figure: lines, panels, bars, heatmaps, sweeps' sliders."""
    import copy
    import json

    from plotly.utils import PlotlyJSONEncoder

    import mmcore.figures as figs
    from mmcore.figures.style import DraftFigure

    slopes = fit(MODELS["slopes"][0], MODELS["slopes"][1]())
    sim = fit("y ~ x + (1 | group)", simulate_intercepts(n_groups=10, n_per_group=8, seed=1))
    blocks = fit(MODELS["blocks"][0], MODELS["blocks"][1]())
    made = [figs.fig_pooling(sim), figs.fig_pooling(blocks), figs.fig_pooling(fit("Yield ~ 1 + (1|Batch)", load_dataset("dyestuff"))),
            figs.fig_shrinkage(sim), figs.fig_shrinkage_sweep(sim), figs.fig_rho_sweep(slopes), figs.fig_ranef_plane(slopes),
            figs.fig_design(blocks, "Z"), figs.fig_caterpillar(slopes), figs.fig_qq_ranef(slopes), figs.fig_decomposition(sim),
            figs.fig_variance_components({"a": slopes}), styled(figs.fig_lines(slopes), 1.6)]
    typed = 0
    for fig in made:
        assert isinstance(fig, DraftFigure) and not fig.__dict__["_frozen_made"]
        plotly_made = go.Figure(copy.deepcopy(fig._frozen_dict), _validate=False).to_dict()
        plotly_made["layout"].pop("template")
        ours = fig.to_dict()
        text = json.dumps(ours, cls=PlotlyJSONEncoder, sort_keys=True)
        typed += '"bdata"' in text  # numpy arrays went as typed arrays
        assert text == json.dumps(plotly_made, cls=PlotlyJSONEncoder, sort_keys=True)
        assert not fig.__dict__["_frozen_made"]  # to_dict made no plotly objects
        fig.layout  # asked for an attribute: now an ordinary figure, the same
        assert fig.__dict__["_frozen_made"] and fig.to_dict()["data"] == go.Figure(fig).to_dict()["data"]
    assert typed >= len(made) - 3


def test_ml_and_reml_are_told_apart():
    """The ML vs REML lesson's figures: each method its own colour and mark, named in the legend. The
    profiled criteria: ML dashed over REML (for sigma the two curves often coincide, and ML vanished
    under REML), and a y title short enough per line for the plot's height at presenter size (one
    27-character line was cut off). The simulation's estimates: the same bins, REML as light bars and
    ML as an outline (two overlaid translucent histograms mixed into one muddy colour), the truth named."""
    import pandas as pd

    from mmcore.figures import fig_estimates, fig_profiles
    from mmcore.figures.style import PALETTE
    from mmcore.lessons.criteria import criterion_curves

    curves = criterion_curves("Yield ~ 1 + (1|Batch)", load_dataset("dyestuff"))
    for over in ("sigma_b", "sigma"):
        fig = valid(styled(fig_profiles(curves, over), 1.6)).to_dict()
        lines = {t["name"].split(":")[0]: t["line"] for t in fig["data"]}
        assert set(lines) == {"ML", "REML"} and lines["ML"]["color"] != lines["REML"]["color"]
        assert lines["ML"]["dash"] == "dash" and lines["REML"]["dash"] == "solid"
        assert [t["name"][:2] for t in fig["data"]][-1] == "ML"  # drawn last: on top
        title = fig["layout"]["yaxis"]["title"]["text"]
        assert max(len(part) for part in title.split("<br>")) <= 20

    rng = np.random.default_rng(1)
    results = pd.DataFrame({"ML sigma_b^2": rng.gamma(2, 40, 500), "REML sigma_b^2": rng.gamma(2, 50, 500)})
    fig = valid(styled(fig_estimates(results, 100.0), 1.6)).to_dict()
    assert fig["layout"].get("barmode") != "overlay" and not any(t.get("type") == "histogram" for t in fig["data"])
    named = [t for t in fig["data"] if t.get("showlegend", True)]
    assert [t["name"].split()[0] for t in named] == ["REML", "ML", "truth"]
    bars, step = named[0], named[1]
    assert step["line"]["color"] in PALETTE and step["line"]["shape"] == "hv" and step["line"]["color"] != bars["marker"]["line"]["color"]
    reml = np.asarray(fig_estimates(results, 100.0).data[0].y)
    ml = np.asarray(fig_estimates(results, 100.0).data[1].y)
    assert reml.sum() == ml.sum() == 500  # every estimate in a bin, over the same bins
    assert f"{results['ML sigma_b^2'].mean():.4g}" in step["name"] and "100" in named[2]["name"]


def test_matrices_are_read_by_colour_bar_sign_and_number():
    """fig_matrix (under the hood): a colour bar wherever the values vary; a diverging scale symmetric
    about 0 where signs matter (Lambda, D); the values written in the cells of a small matrix; an
    indicator matrix (Z) without a bar."""
    from mmcore.figures.model import TEXT_CELLS, fig_matrix
    from mmcore.figures.style import SCALE_SIGNED
    from mmcore.lessons.matrices import marginal

    m = marginal(fit(MODELS["slopes"][0], MODELS["slopes"][1]()))
    k = TEXT_CELLS
    lam = valid(styled(fig_matrix(m["Lambda"][:k, :k], m["z_names"][:k], "Lambda", m["z_names"][:k], signed=True), 1.6))
    trace = lam.to_dict()["data"][0]
    assert trace["showscale"] and trace["colorscale"] == SCALE_SIGNED and trace["zmin"] == -trace["zmax"] < 0
    assert trace["text"][1][0] == f"{m['Lambda'][1, 0]:.3g}" and trace["text"][0][1] == ""  # off-diagonal written; 0 blank
    big = fig_matrix(m["D"][:36, :36], m["z_names"][:36], "D", signed=True).to_dict()["data"][0]
    assert "text" not in big and big["showscale"]
    x = fig_matrix(m["X"], m["x_names"], "X").to_dict()["data"][0]
    assert x["showscale"] and x["zmin"] == 0 and x["zmax"] == 9  # Days 0-9 beside the intercept's 1
    z = FM.fig_design(fit(*[MODELS["one-way"][0], MODELS["one-way"][1]()]), "Z").to_dict()["data"][0]
    assert not z["showscale"]  # 0 and 1 only
    negative = fig_matrix(np.array([[1.0, -0.5], [-0.5, 2.0]]), ["a", "b"], "C").to_dict()["data"][0]
    assert negative["colorscale"] == SCALE_SIGNED and negative["zmin"] == -2.0 and negative["text"][0][1] == "-0.5"
