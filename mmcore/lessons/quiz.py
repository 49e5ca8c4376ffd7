"""Checks of understanding, built from the data on screen where they can be: each question has
options, the right answer and an explanation of why. Pages only render them (lab.quiz)."""
from __future__ import annotations

from dataclasses import dataclass

from ..lmm.results import LmmFit


@dataclass(frozen=True)
class Question:
    key: str
    text: str
    options: tuple[str, ...]
    answer: str
    why: str
    group: str = ""  # questions about one design share it (shown once, as a heading)


def _pick(levels: list[str], right: str, k: int = 4) -> tuple[str, ...]:
    """The right answer among k options, in a fixed order (the data's), others spread over the list."""
    others = [lv for lv in levels if lv != right]
    step = max(1, len(others) // (k - 1))
    chosen = set(others[::step][: k - 1]) | {right}
    return tuple(lv for lv in levels if lv in chosen)


def random_intercepts(fit: LmmFit) -> list[Question]:
    group = next(iter(fit.ranef))
    blup = fit.ranef[group].iloc[:, 0]
    top = str(blup.idxmax())
    sb = float(fit.varcorr.sdcor.iloc[0])
    return [
        Question("ri_top", f"Which {group} has the highest level, by its BLUP?", _pick([str(i) for i in blup.index], top),
                 top, f"{group} {top}: its BLUP is {blup.max():+.4g}, the largest in the caterpillar plot."),
        Question("ri_sd", f"What does the {group} (Intercept) Std.Dev. ({sb:.4g}) measure?",
                 ("the spread of the measurements within a group", "the spread of the groups' own levels around the population",
                  "the standard error of the intercept"), "the spread of the groups' own levels around the population",
                 "sigma_b is the SD of the random intercepts b_i; the residual SD measures the spread within a group."),
        Question("ri_zero", "If sigma_b were estimated as 0, the partial-pooling lines would ...",
                 ("match each group's own line", "all coincide with the population line", "disappear"),
                 "all coincide with the population line",
                 "With no between-group variance every BLUP is 0: complete pooling. The fit is then singular."),
    ]


def icc(value: float, n_per_group: float, groups: int) -> list[Question]:
    eff = n_per_group / (1 + (n_per_group - 1) * value)
    shares = sorted({round(value, 2), round(1 - value, 2), round(value / 2, 2), round(min(1.0, value + 0.3), 2)})
    return [
        Question("icc_share", "What share of the variance lies between groups here?", tuple(f"{s:.2f}" for s in shares),
                 f"{round(value, 2):.2f}", f"The ICC, sigma_b^2 / (sigma_b^2 + sigma^2) = {value:.3f}."),
        Question("icc_eff", f"The {n_per_group:.0f} measurements of one group are worth about how many independent ones?",
                 tuple(sorted({f"{n_per_group:.0f}", f"{eff:.1f}", f"{n_per_group / 2:.1f}", "1.0"}, key=float)),
                 f"{eff:.1f}", f"J / (1 + (J - 1) ICC) = {n_per_group:.0f} / {1 + (n_per_group - 1) * value:.3g} = {eff:.1f}: "
                 "measurements of one group are correlated, so they repeat each other."),
        Question("icc_boundary", "Why is the chi-square(1) p-value for H0: sigma_b^2 = 0 too large?",
                 ("because the data are not normal", "because sigma_b^2 = 0 is on the boundary of its range",
                  "because REML was used"), "because sigma_b^2 = 0 is on the boundary of its range",
                 "A variance cannot be negative, so under H0 the LRT statistic is 0 about half the time: the 50:50 "
                 "mixture halves the p-value."),
    ]


def random_slopes(corr: float, p_value: float) -> list[Question]:
    bucket = "near 0 (weak)" if abs(corr) < 0.3 else ("positive" if corr > 0 else "negative")
    prefer = "(Days | Subject)" if p_value < 0.05 else "(1 | Subject)"
    return [
        Question("rs_corr", "The estimated correlation between intercepts and slopes is ...",
                 ("negative", "near 0 (weak)", "positive"), bucket, f"The fitted correlation is {corr:.2f}."),
        Question("rs_lrt", "Which random-effects structure do the data support?", ("(1 | Subject)", "(Days | Subject)"),
                 prefer, f"The LRT of the slope variance gives p = {p_value:.2g}"
                 + (": drivers' slopes differ." if p_value < 0.05 else ": no evidence that slopes differ.")),
        Question("rs_scale", "Measuring Days in tens of days multiplies the slope variance by ...",
                 ("1/100", "1/10", "10", "100"), "100",
                 "A slope per ten days is ten times a slope per day, and a variance scales with the square: 100."),
    ]


def shrinkage(lambdas: dict, edited: str, kept: int, full: int) -> list[Question]:
    levels = list(lambdas)
    least = min(lambdas, key=lambdas.get)
    return [
        Question("sh_most", "Which group is pulled toward the population the most (smallest lambda)?",
                 _pick(levels, least), least, f"{least} has lambda = {lambdas[least]:.3f}: it has the fewest observations "
                 "or, with equal sizes, every group has the same lambda and the one farthest out moves farthest."),
        Question("sh_delete", f"Keeping fewer observations of {edited} makes its lambda ...",
                 ("smaller: it moves toward the population", "larger: it keeps more of its own mean", "unchanged"),
                 "smaller: it moves toward the population",
                 f"lambda = sigma_b^2 / (sigma_b^2 + sigma^2 / n): a smaller n makes sigma^2 / n larger (now {kept} of {full})."),
        Question("sh_mse", "Over many data sets, whose estimates of the individual effects are closer to the truth?",
                 ("each individual's own mean (fixed effects)", "the BLUPs (random effects)", "they are equally good"),
                 "the BLUPs (random effects)", "Shrinkage adds a little bias and removes much variance: lower mean squared error."),
    ]


def ml_vs_reml(ml_sb: float, reml_sb: float) -> list[Question]:
    larger = "REML" if reml_sb > ml_sb else "ML"
    return [
        Question("mr_larger", "Which gives the larger sigma_b here?", ("ML", "REML", "they agree"), larger,
                 f"ML {ml_sb:.4g}, REML {reml_sb:.4g}: ML treats the fixed effects as known and underestimates variances."),
        Question("mr_test", "To compare models with different fixed effects by a likelihood-ratio test, fit them by ...",
                 ("ML", "REML", "either"), "ML", "REML likelihoods of models with different fixed effects are not comparable."),
        Question("mr_anova", "For a balanced one-way design, REML's sigma_b^2 equals ...",
                 ("the ML estimate", "the ANOVA estimator (MSA - MSE) / J", "the variance of the group means"),
                 "the ANOVA estimator (MSA - MSE) / J", "When the ANOVA estimate is positive, the two are equal."),
    ]


def model_comparison(aic0: float, aic1: float, random_differs: bool) -> list[Question]:
    better = "the bigger model (m1)" if aic1 < aic0 else "the smaller model (m0)"
    return [
        Question("mc_aic", "Which model does AIC prefer here?", ("the smaller model (m0)", "the bigger model (m1)"), better,
                 f"AIC m0 = {aic0:.2f}, m1 = {aic1:.2f}: smaller is better."),
        Question("mc_refit", "Why does lme4's anova() refit REML fits by ML?",
                 ("ML is faster", "REML likelihoods of models with different fixed effects cannot be compared",
                  "to get smaller p-values"), "REML likelihoods of models with different fixed effects cannot be compared",
                 "REML is the likelihood of residuals after the fixed effects; other fixed effects, other data."),
        Question("mc_boundary", "Testing a variance component with the chi-square reference gives p-values that are ...",
                 ("too small", "too large (conservative)", "exact"), "too large (conservative)",
                 "Under H0 the variance is on its boundary; the true null distribution has extra mass at 0"
                 + (" (this comparison is such a test)." if random_differs else ".")),
    ]


FIXED_OR_RANDOM = [
    ("Forest types: yield of 5 forest types of interest, 4 plots each", "forest type", "fixed",
     "The 5 types are the ones we care about, not a sample of types: compare them as fixed effects."),
    ("Tree species in blocks: 3 species planted in 10 blocks of land", "species", "fixed",
     "The species are chosen on purpose and compared with each other."),
    ("Tree species in blocks: 3 species planted in 10 blocks of land", "block", "random",
     "Blocks are a sample of the land's patches; we want the variation between blocks, not each block's effect."),
    ("Dogs given a drug, measured over 8 weeks", "dog", "random",
     "The dogs are a sample from all dogs; each dog's repeated measurements are correlated."),
    ("Dogs given a drug, measured over 8 weeks", "week (time)", "fixed",
     "How the response changes with time is a question about these weeks: a fixed effect (possibly with random slopes)."),
    ("Crop yield with nitrogen (N) and phosphorus (P) levels, in field blocks", "N and P", "fixed",
     "The fertiliser levels are set by the experimenter; their effects are the question."),
    ("Crop yield with nitrogen (N) and phosphorus (P) levels, in field blocks", "field block", "random",
     "Blocks group plots that share soil and weather; they are a sample of possible blocks."),
]



def fixed_or_random() -> list[Question]:
    """Lesson 1's questions: for each design, is the factor named fixed or random?"""
    return [Question(f"for_{i}", f"**{factor}**: fixed or random?", ("fixed", "random"), answer,
                     f"{answer.capitalize()}: {why}", design)
            for i, (design, factor, answer, why) in enumerate(FIXED_OR_RANDOM)]
