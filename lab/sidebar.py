"""The data a page shows: the shared sidebar (a real dataset, or data simulated from a truth set
with sliders), and each dataset's random-intercept model."""
from __future__ import annotations

from dataclasses import dataclass

import streamlit as st

import mmcore
from lab.cache import SIMULATE, DataSpec
from lab.links import bind

# Each dataset's random-intercept model: the lessons on intercepts, shrinkage and ML vs REML share it.
INTERCEPT_MODELS = {
    "sleepstudy": "Reaction ~ Days + (1 | Subject)",
    "penicillin": "yield ~ treat + (1 | blend)",
    "estrone": "Estrone ~ 1 + (1 | Subject)",
    "dyestuff": "Yield ~ 1 + (1 | Batch)",
}


def intercept_model(spec: DataSpec, covariate: bool = True) -> str:
    """The random-intercept model for the chosen data; simulated data with or without their x."""
    if spec.simulated:
        return "y ~ x + (1 | group)" if covariate else "y ~ 1 + (1 | group)"
    return INTERCEPT_MODELS[spec.dataset]


# The truth's sliders: name -> (label, min, max, default, step)
TRUTHS = {
    "intercepts": {
        "n_groups": ("number of groups", 2, 60, 10, 1),
        "n_per_group": ("observations per group", 2, 30, 8, 1),
        "beta0": ("intercept $\\beta_0$", 0.0, 500.0, 250.0, 5.0),
        "beta1": ("slope $\\beta_1$", -30.0, 30.0, 10.0, 0.5),
        "sigma_b": ("between-group SD $\\sigma_b$", 0.0, 100.0, 30.0, 1.0),
        "sigma": ("residual SD $\\sigma$", 1.0, 100.0, 25.0, 1.0),
    },
    "shrinkage": {
        "n_groups": ("number of groups", 2, 40, 10, 1),
        # defaults that show shrinkage: 3 per group at ratio 0.5 drew a singular fit (every lambda 0) at seed 1
        "n_per_group": ("observations per group", 1, 30, 5, 1),
        "ratio": ("$\\sigma_b / \\sigma$", 0.0, 3.0, 1.0, 0.05),
        "sigma": ("residual SD $\\sigma$", 1.0, 50.0, 20.0, 1.0),
    },
    "icc": {
        "icc": ("ICC (the truth)", 0.0, 0.95, 0.5, 0.05),
        "n_groups": ("number of groups", 2, 50, 10, 1),
        "n_per_group": ("group size $n$", 2, 50, 10, 1),
    },
    "tests": {
        "n_blocks": ("number of blocks (groups)", 2, 15, 5, 1),
        "effect": ("effect of treatment B (A, C, D: 0)", -10.0, 10.0, 0.0, 0.5),
        "sigma_block": ("between-block SD", 0.0, 10.0, 3.0, 0.5),
        "sigma": ("residual SD sigma", 1.0, 10.0, 4.0, 0.5),
    },
    "statlab": {
        "n_schools": ("number of schools", 2, 40, 10, 1),
        "students_per_school": ("students per school", 2, 30, 8, 1),
        "tests_per_student": ("tests per student", 2, 10, 4, 1),
        "sigma_school": ("between-school SD", 0.0, 20.0, 5.0, 0.5),
        "sigma_student": ("between-student SD (within a school)", 0.0, 20.0, 8.0, 0.5),
        "sigma": ("residual SD (test to test)", 0.5, 20.0, 6.0, 0.5),
    },
    "crossed": {
        "n_subjects": ("number of subjects", 2, 60, 20, 1),
        "n_items": ("number of items", 2, 40, 12, 1),
        "effect": ("effect of condition B", -100.0, 100.0, 30.0, 5.0),
        "sigma_subject": ("between-subject SD", 0.0, 150.0, 50.0, 5.0),
        "sigma_item": ("between-item SD", 0.0, 150.0, 30.0, 5.0),
        "sigma": ("residual SD", 5.0, 150.0, 60.0, 5.0),
    },
    "planning": {
        "effect": ("effect of the treatment $\\beta_1$", -5.0, 5.0, 1.0, 0.1),
        "sigma_b": ("between-group SD $\\sigma_b$", 0.0, 5.0, 1.0, 0.1),
        "sigma": ("residual SD $\\sigma$", 0.1, 5.0, 2.0, 0.1),
        "n_groups": ("groups in the example study", 4, 60, 10, 2),
        "n_per_group": ("observations per group in the example", 2, 40, 6, 2),
    },
    "binary": {
        "n_groups": ("number of subjects", 5, 100, 30, 1),
        "n_per_group": ("trials per subject", 2, 30, 6, 1),
        "beta0": ("intercept beta0 (log odds at x = 0)", -3.0, 3.0, -0.5, 0.1),
        "beta1": ("slope beta1 (log odds per unit of x)", -3.0, 3.0, 1.0, 0.1),
        "sigma_b": ("between-subject SD sigma_b", 0.0, 4.0, 1.5, 0.1),
    },
    "trees": {
        "phi": ("share of a year's deviation carried on, phi", 0.0, 1.0, 1.0, 0.05),
        "sd_tree": ("tree-to-tree SD of the yearly growth", 0.0, 1.0, 0.3, 0.05),
        "sd_year": ("yearly SD (a year's own deviation)", 0.05, 1.5, 0.5, 0.05),
    },
    "slopes": {
        "n_groups": ("number of groups", 3, 60, 18, 1),
        "n_per_group": ("observations per group", 3, 20, 10, 1),
        "beta0": ("intercept $\\beta_0$", 0.0, 500.0, 250.0, 5.0),
        "beta1": ("slope $\\beta_1$", -30.0, 30.0, 10.0, 0.5),
        "sigma_b0": ("SD of intercepts $\\sigma_{b0}$", 0.0, 60.0, 25.0, 1.0),
        "sigma_b1": ("SD of slopes $\\sigma_{b1}$", 0.0, 20.0, 6.0, 0.5),
        "rho": ("correlation $\\rho$", -1.0, 1.0, 0.0, 0.05),
        "sigma": ("residual SD $\\sigma$", 1.0, 60.0, 25.0, 1.0),
    },
}


def slider_values(simulator: str, name: str) -> list:
    """Every value a truth slider can take (sidebar.TRUTHS: label, lo, hi, default, step), on its grid."""
    _, lo, hi, _, step = TRUTHS[simulator][name]
    n = int(round((hi - lo) / step))
    return [on_grid(lo + i * step, lo, step) for i in range(n + 1)]


def on_grid(value, lo, step):
    """A slider's value as the grid has it: 0.15, not 0.15000000000000002 (one cache key per value)."""
    if isinstance(step, int) and isinstance(lo, int):
        return int(round(value))
    return round(lo + round((value - lo) / step) * step, 10)


@dataclass(frozen=True)
class LiveSlider:
    """A truth slider that a lesson's fragment draws (lab.page._part), in its place in the sidebar."""

    place: object  # the sidebar's container where it goes
    name: str
    key: str


def sidebar_data(page: str, datasets: list[str], simulator: str | dict, live: str | None = None) -> DataSpec:
    """The shared sidebar: dataset (or simulate), and the truth's sliders, seed and new sample.
    simulator: one simulator's name, or {label: name} for a choice of designs to simulate (their
    sliders are then keyed by page and simulator, f"{page}_{simulator}_{name}").

    live: the truth slider that carries the lesson (the ICC): not drawn here but kept a place, and
    drawn by the lesson's fragment (lab.sections with prepare), so that its moves rerun the part alone.
    The spec returned then lacks its value: only the parts see it (live_slider)."""
    sb = st.sidebar
    options = datasets + [SIMULATE]
    key = f"{page}_dataset"
    chosen = sb.selectbox("Data", options, help="A real data set, or 'simulate': data drawn from a truth you set",
                          **bind(key))
    if chosen != SIMULATE:
        info = mmcore.list_datasets()[chosen]
        sb.caption(f"**{info.title}.** {info.description}")
        return DataSpec(chosen)
    prefix = page
    if isinstance(simulator, dict):
        label = sb.selectbox("Design to simulate", list(simulator), **bind(f"{page}_design"))
        simulator = simulator[label]
        prefix = f"{page}_{simulator}"
    sb.markdown("**The truth** (what the simulation draws from)")
    params = {}
    for name, (label, lo, hi, default, step) in TRUTHS[simulator].items():
        if name == live:
            bind(f"{prefix}_{name}")  # in the link in the sidebar's order
            st.session_state["_live_slider"] = LiveSlider(sb.container(), name, f"{prefix}_{name}")
            continue
        params[name] = on_grid(sb.slider(label, lo, hi, default, step, **bind(f"{prefix}_{name}")), lo, step)
    seed_key = f"{page}_seed"
    if sb.button("New sample", key=f"{page}_new", help="Draw new data from the same truth"):
        st.session_state[seed_key] = int(st.session_state.get(seed_key, 1)) + 1
    seed = sb.number_input("seed", 0, 10**6, 1, step=1, **bind(seed_key))
    return DataSpec(SIMULATE, simulator, tuple(sorted(params.items())), int(seed))


def live_slider(spec: DataSpec, slider: LiveSlider) -> DataSpec:
    """Draw the live truth slider in its place (sidebar_data's live); the spec with its value."""
    label, lo, hi, default, step = TRUTHS[spec.simulator][slider.name]
    with slider.place:
        value = on_grid(st.slider(label, lo, hi, default, step, **bind(slider.key)), lo, step)
    return spec.with_truth(slider.name, value)
