"""What the pages compute, cached once per server process and shared by every session: data,
fits, figures, comparisons. No Streamlit in here; pages reach it through the lab package.

Keys are `DataSpec`s (what the data are: a shipped dataset, or a simulator with its parameters and
seed, plus any transformation), never DataFrames, so a look-up is a dictionary access. The caches
are functools.lru_cache (through lab/memo.py: one computation per key when sessions ask for it at
once), not st.cache_data: Streamlit's caches hash their arguments on every call and st.cache_data
hands out an unpickled copy of the value; with about a dozen look-ups per rerun, times a class of 50 moving sliders, that was a large share of the server's time (bench/load.py).
A DataSpec is a frozen, hashable dataclass, so the LRU key is exact. Values are shared objects:
LmmFit is immutable, and pages never modify a cached table or figure.
"""
from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, field

import pandas as pd

import mmcore
from lab.memo import lru_cache  # functools.lru_cache, computed once when sessions ask at the same moment
from lab.worker import fit_isolated
from mmcore.figures import (
    fig_centring,
    fig_incidence,
    fig_profiles,
    fig_surface,
    fig_theory,
    fig_truth_sweep,
    fig_variance_components,
    fig_variance_shares,
    fig_zeta,
    freeze,
    styled,
)
from mmcore.figures.sweeps import draw_deletion_sweep, draw_slope_deletion
from mmcore.glmm.marginal import fit_marginal
from mmcore.inference.compare import format_anova
from mmcore.lessons import designs, planning
from mmcore.lessons.centring import centring_study
from mmcore.lessons.correlated import acf
from mmcore.lessons.criteria import criterion_curves
from mmcore.lessons.glmm import attenuation_table, compare_methods, theory_curves
from mmcore.lessons.inference_tables import t_tests
from mmcore.lessons.matrices import marginal
from mmcore.lessons.pooling import pooling
from mmcore.lessons.shrinkage import keep_spread, shrinkage_intercepts
from mmcore.lessons.sweeps import deletion_fits, deletion_sweep

SIMULATE, UPLOAD = "simulate", "upload"
SIMULATORS = {
    "intercepts": mmcore.simulate_intercepts,
    "slopes": mmcore.simulate_slopes,
    "shrinkage": lambda ratio, sigma, **kw: mmcore.simulate_intercepts(sigma_b=ratio * sigma, sigma=sigma, beta0=100.0,
                                                                       beta1=0.0, **kw),
    "trees": mmcore.simulate_trees,
    "icc": lambda icc, **kw: mmcore.simulate_intercepts(sigma_b=10 * icc**0.5, sigma=10 * (1 - icc) ** 0.5,
                                                         beta0=50.0, beta1=0.0, **kw),
    "tests": lambda n_blocks, effect, sigma_block, sigma, **kw: mmcore.simulate_blocks(
        n_treatments=4, n_blocks=int(n_blocks), effects=(0.0, effect, 0.0, 0.0), mean=85.0, sigma_block=sigma_block,
        sigma=sigma, **kw),
    "statlab": lambda **kw: mmcore.simulate_statlab(**{k: int(v) if k.startswith(("n_", "students", "tests")) else v
                                                       for k, v in kw.items()}),
    "crossed": lambda n_subjects, n_items, **kw: mmcore.simulate_crossed(int(n_subjects), int(n_items), **kw),
    "planning": lambda n_groups, n_per_group, **kw: planning.example_study(int(n_groups), int(n_per_group), **kw),
    "binary": mmcore.simulate_binary,
}


@dataclass(frozen=True)
class DataSpec:
    """What the data are, hashable: the cache key of data, fits and figures."""

    dataset: str  # a shipped dataset's name, SIMULATE or UPLOAD
    simulator: str = ""
    params: tuple = ()
    seed: int = 0
    transform: tuple = field(default=())  # e.g. (("scale", "Days", 0.1),), (("keep", "Subject", "308", 3),)

    @property
    def simulated(self) -> bool:
        return self.dataset == SIMULATE

    @property
    def truth(self) -> dict:
        return dict(self.params)

    def with_transform(self, *ops: tuple) -> DataSpec:
        return DataSpec(self.dataset, self.simulator, self.params, self.seed, self.transform + tuple(ops))

    def with_truth(self, name: str, value) -> DataSpec:
        """The same data drawn with the truth's `name` at `value` (its parameters kept sorted: one cache key)."""
        return DataSpec(self.dataset, self.simulator, tuple(sorted({**self.truth, name: value}.items())), self.seed,
                        self.transform)


# Users' tables, by key; bounded, newest kept. A session whose table was evicted registers it again
# from its own upload on its next rerun.
_UPLOADS: OrderedDict = OrderedDict()
MAX_UPLOADS = 12


def register_upload(key: str, frame: pd.DataFrame) -> DataSpec:
    _UPLOADS[key] = frame
    _UPLOADS.move_to_end(key)
    while len(_UPLOADS) > MAX_UPLOADS:
        _UPLOADS.popitem(last=False)
    return DataSpec(UPLOAD, params=(("key", key),))


def get_data(spec: DataSpec) -> pd.DataFrame:
    if spec.dataset == UPLOAD:
        return _UPLOADS[dict(spec.params)["key"]]
    return _made_data(spec)


@lru_cache(maxsize=256)
def _made_data(spec: DataSpec) -> pd.DataFrame:
    if spec.simulated:
        data = SIMULATORS[spec.simulator](**dict(spec.params), seed=spec.seed)
    else:
        data = mmcore.load_dataset(spec.dataset)
    for op, column, *args in spec.transform:
        if op == "scale":
            data[column] = data[column] * args[0]
        elif op == "shift":  # measure a column from another origin
            data[column] = data[column] - args[0]
        elif op == "keep":  # keep k rows of one group, spread evenly over its rows
            data = keep_spread(data, column, *args)
        elif op == "combine":  # unique labels for a nested factor: (("combine", "sample", "batch", "cask"),)
            data[column] = designs.combined(data, *args)
    return data


@lru_cache(maxsize=1024)
def _fit(spec: DataSpec, formula: str, reml: bool) -> mmcore.LmmFit:
    return mmcore.fit(formula, get_data(spec), reml=reml)


_UPLOAD_FITS: OrderedDict = OrderedDict()
MAX_UPLOAD_FITS = 32


def get_fit(spec: DataSpec, formula: str, reml: bool = True, progress=None) -> mmcore.LmmFit:
    """The fit of a model to these data, shared by every session. Users' tables are fitted under the
    resource budget, large ones in a limited worker process (lab/worker.py); progress(text, share)
    hears how a worker fit is going."""
    if spec.dataset != UPLOAD:
        return _fit(spec, formula, reml)
    key = (spec, formula, reml)
    found = _UPLOAD_FITS.get(key)
    if found is None:
        found = fit_isolated(formula, get_data(spec), reml, progress=progress)
        _UPLOAD_FITS[key] = found
        while len(_UPLOAD_FITS) > MAX_UPLOAD_FITS:
            _UPLOAD_FITS.popitem(last=False)
    return found


@lru_cache(maxsize=1024)
def get_figure(builder, spec: DataSpec, formula: str, reml: bool = True, scale: float = 1.0, options: tuple = ()):
    """builder(fit, **options), a `fig_*` function of mmcore.figures, built once per (builder, data,
    model, options, scale) and shared by every session, frozen (figures.style.FrozenFigure: its dict
    for st.plotly_chart is made once, not every rerun)."""
    return freeze(builder(get_fit(spec, formula, reml), **dict(options)), scale)


@lru_cache(maxsize=512)
def get_comparison(spec: DataSpec, formulas: tuple, names: tuple, refit: bool = True) -> pd.DataFrame:
    """lme4's anova() of several models on one data set: from the cached ML fits (refit = TRUE), or
    from the REML fits as they are (refit = FALSE; valid when the fixed effects are the same)."""
    fits = [get_fit(spec, f, reml=not refit) for f in formulas]
    table = mmcore.anova(*fits, names=list(names), refit=False)
    if refit:
        table.attrs["note"] = "refitting model(s) with ML (instead of REML)"
    return table


@lru_cache(maxsize=512)
def get_anova_text(spec: DataSpec, formulas: tuple, names: tuple, refit: bool = True) -> str:
    return format_anova(get_comparison(spec, formulas, names, refit))


@lru_cache(maxsize=512)
def get_components_figure(spec: DataSpec, formulas: tuple, names: tuple, scale: float = 1.0):
    return freeze(fig_variance_components({n: get_fit(spec, f) for n, f in zip(names, formulas)}), scale)


@lru_cache(maxsize=256)
def get_predictions(spec: DataSpec, formula: str, who: tuple, x: str, g: str) -> pd.DataFrame:
    """Observed values beside the predictions with and without random effects, for chosen groups."""
    fit = get_fit(spec, formula)
    pool = pooling(fit).assign(**{x: fit.data[x].to_numpy()})
    rows = pool[pool["group"].isin(who)][["group", x, "y", "population", "partial", "none"]].round(1)
    rows.columns = [g, x, "observed", "fixed effects only", "with random effects", "own line (no pooling)"]
    return rows


@lru_cache(maxsize=128)
def get_curves(spec: DataSpec, formula: str):
    return criterion_curves(formula, get_data(spec))


@lru_cache(maxsize=256)
def get_curves_figure(spec: DataSpec, formula: str, kind: str, which: str, scale: float = 1.0):
    """The ML vs REML curves (kind 'profiles', which = sigma_b or sigma) or surface (kind 'surface',
    which = ml or reml), built once per data and model."""
    builder = fig_profiles if kind == "profiles" else fig_surface
    return freeze(builder(get_curves(spec, formula), which), scale)


@lru_cache(maxsize=256)
def get_shrinkage_table(spec: DataSpec, formula: str, reml: bool = True) -> pd.DataFrame:
    return shrinkage_intercepts(get_fit(spec, formula, reml))


@lru_cache(maxsize=64)
def get_matrices(spec: DataSpec, formula: str) -> dict:
    return marginal(get_fit(spec, formula))


# -- tests and intervals ------------------------------------------------------------------------------
@lru_cache(maxsize=256)
def get_t_tests(spec: DataSpec, formula: str) -> pd.DataFrame:
    """Each fixed effect's t test with every choice of df (z, n - p, Satterthwaite, Kenward-Roger)."""
    return t_tests(get_fit(spec, formula))


@lru_cache(maxsize=256)
def get_summary_text(spec: DataSpec, formula: str, ddf: str) -> str:
    return mmcore.summary(get_fit(spec, formula), ddf)


@lru_cache(maxsize=256)
def get_f_tests(spec: DataSpec, formula: str, ddf: str) -> pd.DataFrame:
    return mmcore.f_tests(get_fit(spec, formula), ddf)


@lru_cache(maxsize=128)
def get_profile(spec: DataSpec, formula: str, level: float = 0.95) -> mmcore.Profile:
    """lme4's profile of every parameter (a tenth of a second or so), shared by every session."""
    return mmcore.profile(get_fit(spec, formula), level=level)


@lru_cache(maxsize=256)
def get_zeta_figure(spec: DataSpec, formula: str, parameter: str, scale: float = 1.0):
    profile = get_profile(spec, formula)
    return freeze(fig_zeta(profile[parameter], profile.level), scale)


CENTRING_ORIGINS = tuple(float(c) for c in range(-10, 21, 2))


@lru_cache(maxsize=64)
def get_centring(spec: DataSpec, response: str, x: str, group: str):
    """The correlated fit and the uncorrelated model refitted at each origin of x (CENTRING_ORIGINS)."""
    return centring_study(get_data(spec), response, x, group, CENTRING_ORIGINS)


@lru_cache(maxsize=256)
def get_deletion(spec: DataSpec, formula: str, level: str):
    """The random-intercept fit refitted with 1..n of one group's rows kept (shrinkage's slider)."""
    return deletion_sweep(get_fit(spec, formula), level)


@lru_cache(maxsize=256)
def get_deletion_figure(spec: DataSpec, formula: str, level: str, scale: float = 1.0):
    """Its chart, the slider at all kept (lab.chart.at_step: at another step)."""
    return freeze(draw_deletion_sweep(get_deletion(spec, formula, level), get_fit(spec, formula).response), scale)


@lru_cache(maxsize=64)
def get_deletion_fits(spec: DataSpec, formula: str, level: str, first: int) -> tuple:
    """The fit refitted with first..n of one group's rows kept (shrinkage's random-slopes slider)."""
    return deletion_fits(get_fit(spec, formula), level, first)


@lru_cache(maxsize=256)
def get_slope_deletion_figure(spec: DataSpec, formula: str, level: str, scale: float = 1.0):
    """Its chart from 2 rows kept, the slider at all kept (lab.chart.at_step: at another step)."""
    return freeze(draw_slope_deletion(get_deletion_fits(spec, formula, level, 2), level), scale)


@lru_cache(maxsize=128)
def get_truth_sweep_figure(kind: str, truth: tuple, active: float | None, scale: float = 1.0):
    """A client-side slider's figure in simulate mode, keyed by the truth without the swept parameter
    (mmcore.figures.fig_truth_sweep): the sidebar's own slider for that parameter leaves it alone."""
    return freeze(fig_truth_sweep(kind, truth, active), scale)


@lru_cache(maxsize=256)
def get_centring_figure(spec: DataSpec, response: str, x: str, group: str, origin: float, scale: float = 1.0):
    return freeze(fig_centring(get_centring(spec, response, x, group), origin), scale)


# -- nested and crossed ------------------------------------------------------------------------------------
@lru_cache(maxsize=256)
def get_incidence_figure(spec: DataSpec, rows: str, cols: str, title: str, scale: float = 1.0):
    """Which levels of two factors meet, drawn once per data set and pair of factors."""
    return freeze(styled(fig_incidence(designs.incidence_picture(get_data(spec), rows, cols), title), scale))


@lru_cache(maxsize=256)
def get_variance_table(spec: DataSpec, formula: str) -> pd.DataFrame:
    return designs.variance_table(get_fit(spec, formula))


@lru_cache(maxsize=256)
def get_variance_shares_figure(spec: DataSpec, formulas: tuple, names: tuple, scale: float = 1.0):
    tables = {n: get_variance_table(spec, f) for n, f in zip(names, formulas)}
    return freeze(styled(fig_variance_shares(tables), scale))


@lru_cache(maxsize=256)
def get_relation(spec: DataSpec, a: str, b: str) -> designs.Relation:
    return designs.relation(get_data(spec), a, b)


@lru_cache(maxsize=256)
def get_reused_labels(spec: DataSpec, outer: str, inner: str) -> str | None:
    return designs.reused_labels(get_data(spec), outer, inner)


def get_se(spec: DataSpec, formula: str, term: str) -> float:
    return float(get_fit(spec, formula).se[term])


@lru_cache(maxsize=256)
def get_pitfall_table(spec: DataSpec, right: str, wrong: str, outer: str, inner: str) -> pd.DataFrame:
    """The nested model and the crossed one that reused labels make, side by side."""
    return designs.pitfall_table({"right": (get_fit(spec, right), outer, f"{inner}:{outer}"),
                                  "wrong": (get_fit(spec, wrong), outer, inner)})
# -- generalized mixed models (glmer): fits, figures, the lesson's tables ----------------------------
@lru_cache(maxsize=512)
def get_glmm_fit(spec: DataSpec, formula: str, family: str, nagq: int = 1, link: str | None = None):
    return mmcore.fit(formula, get_data(spec), family=family, nagq=nagq, link=link)


@lru_cache(maxsize=1024)
def get_glmm_figure(builder, spec: DataSpec, formula: str, family: str, nagq: int = 1, link: str | None = None,
                    scale: float = 1.0, options: tuple = ()):
    """builder(glmm fit, **options), built once and shared, as get_figure."""
    return freeze(builder(get_glmm_fit(spec, formula, family, nagq, link), **dict(options)), scale)


@lru_cache(maxsize=256)
def get_theory_figure(beta0: float, beta1: float, sigma: float, link: str, scale: float = 1.0):
    return freeze(fig_theory(theory_curves(beta0, beta1, sigma, link), link, sigma), scale)


@lru_cache(maxsize=128)
def get_methods(spec: DataSpec, formula: str, family: str) -> pd.DataFrame:
    """Laplace, adaptive quadrature and PQL fits of one model, side by side."""
    return compare_methods(formula, get_data(spec), family)


@lru_cache(maxsize=128)
def get_attenuation(spec: DataSpec, formula: str, family: str) -> pd.DataFrame:
    fit = get_glmm_fit(spec, formula, family)
    method = "gee" if fit.trials.max() == 1 or family == "poisson" else "glm"
    return attenuation_table(fit, fit_marginal(formula, get_data(spec), family, method))


@lru_cache(maxsize=256)
def get_glmm_anova_text(spec: DataSpec, formulas: tuple, names: tuple, family: str) -> str:
    fits = [get_glmm_fit(spec, f, family) for f in formulas]
    return format_anova(mmcore.anova(*fits, names=list(names)))


# -- models with correlated errors (nlme's lme with corAR1 / corCAR1) ---------------------------------
@lru_cache(maxsize=512)
def get_lme(spec: DataSpec, formula: str, correlation: str, time: str | None, reml: bool = True) -> mmcore.LmeFit:
    return mmcore.fit(formula, get_data(spec), reml=reml, correlation=correlation, time=time)


@lru_cache(maxsize=256)
def get_lme_figure(builder, spec: DataSpec, formula: str, correlation: str, time: str | None, scale: float = 1.0,
                   options: tuple = ()):
    """As get_figure, for a model with correlated errors."""
    return freeze(builder(get_lme(spec, formula, correlation, time), **dict(options)), scale)


@lru_cache(maxsize=256)
def get_lme_anova_text(spec: DataSpec, formula: str, correlation: str, time: str | None, reml: bool = True) -> str:
    """nlme's anova(m0, m1): the model without the correlation against the model with it."""
    return format_anova(mmcore.anova(get_fit(spec, formula, reml), get_lme(spec, formula, correlation, time, reml),
                                     names=["m0", "m1"]))


@lru_cache(maxsize=256)
def get_acf(spec: DataSpec, formula: str, correlation: str | None, time: str | None, residuals: str = "pearson"):
    """nlme's ACF of a fit's residuals (correlation None: the model with independent errors)."""
    fit = get_fit(spec, formula) if correlation is None else get_lme(spec, formula, correlation, time)
    return acf(fit, residuals, time=time)
