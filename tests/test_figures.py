"""Every figure builder, on every kind of model: it builds, and plotly's full validator accepts it
(builders skip validation for speed, see mmcore/figures/style.py)."""
import numpy as np
import plotly.graph_objects as go
import pytest

from mmcore import fit, load_dataset, simulate_intercepts
from mmcore.figures import model as FM
from mmcore.figures import views as F
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
