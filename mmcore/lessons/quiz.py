"""Checks of understanding, built from the data on screen where they can be: each question has
options, the right answer and an explanation of why. Pages only render them (lab.quiz)."""
from __future__ import annotations

from dataclasses import dataclass

from ..lmm.results import LmmFit
from ..lmm.rprint import signif_text


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
                 r"$\sigma_b$ is the SD of the random intercepts $b_i$; the residual SD measures the spread within a group."),
        Question("ri_zero", r"If $\sigma_b$ were estimated as 0, the partial-pooling lines would ...",
                 ("match each group's own line", "all coincide with the population line", "disappear"),
                 "all coincide with the population line",
                 "With no between-group variance every BLUP is 0: complete pooling. The fit is then singular."),
        Question("ri_size", r"Two studies have the same $\sigma_b$ and $\sigma$: groups of 4 observations in one, of 16 "
                 r"in the other. In which does each group keep more of its own deviation (a larger $\lambda$)?",
                 ("in the study with groups of 4", "in the study with groups of 16", "the same in both"),
                 "in the study with groups of 16",
                 r"$\lambda = \sigma_b^2 / (\sigma_b^2 + \sigma^2/n)$: a group's own mean is less noisy with more "
                 r"observations ($\sigma^2/n$ smaller), so the model pulls it less toward the population."),
    ]


def icc(value: float, n_per_group: float, groups: int) -> list[Question]:
    eff = n_per_group / (1 + (n_per_group - 1) * value)
    shares = sorted({round(value, 2), round(1 - value, 2), round(value / 2, 2), round(min(1.0, value + 0.3), 2)})
    return [
        Question("icc_share", "What share of the variance lies between groups here?", tuple(f"{s:.2f}" for s in shares),
                 f"{round(value, 2):.2f}", rf"The ICC, $\sigma_b^2 / (\sigma_b^2 + \sigma^2)$ = {value:.3f}."),
        Question("icc_eff", f"The {n_per_group:.0f} measurements of one group are worth about how many independent ones?",
                 tuple(sorted({f"{n_per_group:.0f}", f"{eff:.1f}", f"{n_per_group / 2:.1f}", "1.0"}, key=float)),
                 f"{eff:.1f}", f"n / (1 + (n - 1) ICC) = {n_per_group:.0f} / {1 + (n_per_group - 1) * value:.3g} = {eff:.1f}: "
                 "measurements of one group are correlated, so they repeat each other."),
        Question("icc_boundary", r"Why is the chi-square(1) p-value for H0: $\sigma_b^2 = 0$ too large?",
                 ("because the data are not normal", r"because $\sigma_b^2 = 0$ is on the boundary of its range",
                  "because REML was used"), r"because $\sigma_b^2 = 0$ is on the boundary of its range",
                 "A variance cannot be negative, so under H0 the LRT statistic is 0 about half the time: the 50:50 "
                 "mixture halves the p-value."),
    ]


def random_slopes(corr: float, p_value: float, x: str = "Days", group: str = "Subject") -> list[Question]:
    bucket = "near 0 (weak)" if abs(corr) < 0.3 else ("positive" if corr > 0 else "negative")
    slope, intercept = f"({x} | {group})", f"(1 | {group})"
    prefer = slope if p_value < 0.05 else intercept
    return [
        Question("rs_corr", "The estimated correlation between intercepts and slopes is ...",
                 ("negative", "near 0 (weak)", "positive"), bucket, f"The fitted correlation is {corr:.2f}."),
        Question("rs_lrt", "Which random-effects structure do the data support?", (intercept, slope),
                 prefer, f"The LRT of the slope variance gives p = {p_value:.2g}"
                 + (f": the {group}s' slopes differ." if p_value < 0.05 else ": no evidence that slopes differ.")
                 + " (Halving it for the boundary does not change the answer here.)" * (0.05 < p_value < 0.1)),
        Question("rs_scale", f"Measuring {x} in tens of its units multiplies the slope variance by ...",
                 ("1/100", "1/10", "10", "100"), "100",
                 "A slope per ten units is ten times a slope per unit, and a variance scales with the square: 100."),
    ]


def shrinkage(table, edited: str, kept: int, full: int) -> list[Question]:
    """table: mmcore.lessons.shrinkage.shrinkage_intercepts' (n, own deviation, lambda, BLUP per group)."""
    levels = [str(i) for i in table.index]
    lam = dict(zip(levels, table["lambda"]))
    moved = dict(zip(levels, (table["own deviation"] - table["BLUP"]).abs()))
    if max(lam.values()) - min(lam.values()) > 1e-9:  # groups of different sizes: lambda tells them apart
        least = min(lam, key=lam.get)
        first = Question("sh_most", r"Which group is shrunk the most, in relative terms (smallest $\lambda$)?",
                         _pick(levels, least), least,
                         f"{least} has $\\lambda$ = {lam[least]:.3f}: it has the fewest observations, so its own mean "
                         "says least and it keeps the smallest share of its own deviation.")
    else:  # balanced: one lambda for all; the group farthest out moves farthest
        far = max(moved, key=moved.get)
        first = Question("sh_most", f"Every group has the same $\\lambda$ ({next(iter(lam.values())):.3f}) here. Which "
                         "group's estimate moves the farthest toward the population?", _pick(levels, far), far,
                         f"{far}: the same share ($1 - \\lambda$) of every deviation is removed, so the group with the "
                         f"largest own deviation moves farthest ({moved[far]:.4g}).")
    return [
        first,
        Question("sh_delete", f"Keeping fewer observations of {edited} makes its $\\lambda$ ...",
                 ("smaller: it moves toward the population", "larger: it keeps more of its own mean", "unchanged"),
                 "smaller: it moves toward the population",
                 rf"$\lambda = \sigma_b^2 / (\sigma_b^2 + \sigma^2 / n)$: a smaller $n$ makes $\sigma^2 / n$ larger (now {kept} of {full})."),
        Question("sh_mse", "Over many data sets, whose estimates of the individual effects are closer to the truth?",
                 ("each individual's own mean (fixed effects)", "the BLUPs (random effects)", "they are equally good"),
                 "the BLUPs (random effects)", "Shrinkage adds a little bias and removes much variance: lower mean squared error."),
    ]


def ml_vs_reml(ml_sb: float, reml_sb: float) -> list[Question]:
    agree = abs(reml_sb - ml_sb) <= 1e-6 * max(1.0, abs(reml_sb))  # e.g. both 0: a singular fit either way
    larger = "they agree" if agree else "REML" if reml_sb > ml_sb else "ML"
    why = (rf"Both estimate $\sigma_b$ as {reml_sb:.4g}" + (": the fit is singular by either criterion." if reml_sb == 0 else ".")
           if agree else f"ML {ml_sb:.4g}, REML {reml_sb:.4g}: ML treats the fixed effects as known and underestimates "
           "variances.")
    return [
        Question("mr_larger", r"Which gives the larger $\hat\sigma_b$ here?", ("ML", "REML", "they agree"), larger, why),
        Question("mr_test", "To compare models with different fixed effects by a likelihood-ratio test, fit them by ...",
                 ("ML", "REML", "either"), "ML", "REML likelihoods of models with different fixed effects are not comparable."),
        Question("mr_anova", r"For a balanced one-way design, REML's $\hat\sigma_b^2$ equals ...",
                 ("the ML estimate", "the ANOVA estimator (MSA - MSE) / n", "the variance of the group means"),
                 "the ANOVA estimator (MSA - MSE) / n", "When the ANOVA estimate is positive, the two are equal."),
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


def glmm(term: str, ratio: float, sigma_b: float, factor: float, family: str) -> list[Question]:
    """Questions on the generalized lesson, from the fit on screen: an odds (rate) ratio, sigma_b
    and the attenuation factor it implies."""
    what = "rate" if family == "poisson" else "odds"
    shown = signif_text(ratio)  # 2120, not 2.12e+03
    right = f"for the same subject, the {what} are multiplied by {shown}"
    return [
        Question("gl_ratio", f"exp(beta) for {term} is {shown}. What does it say?",
                 (right, f"the probability is multiplied by {shown}",
                  f"averaged over the population, the {what} are multiplied by {shown}"), right,
                 "A GLMM's coefficients are conditional: they compare two situations for one subject (the same "
                 "random effect b_i). Ratios of odds are not ratios of probabilities, and the population-averaged "
                 "ratio is closer to 1."),
        Question("gl_flat", f"With sigma_b = {sigma_b:.3g}, the population-averaged curve is ...",
                 ("steeper than the median subject's", "flatter than the median subject's", "the same"),
                 "flatter than the median subject's",
                 f"Averaging S-curves that are shifted by b_i gives a flatter S: its slope is about {factor:.2f} times the "
                 "conditional one (exactly 1 / sqrt(1 + sigma_b^2) for the probit link)."),
        Question("gl_pql", "For binary outcomes with few observations per subject, PQL's estimate of sigma_b tends to be ...",
                 ("too small", "too large", "unbiased"), "too small",
                 "PQL fits a linear mixed model to a working response whose approximation is poor for 0/1 data; "
                 "Breslow and Clayton (1993) and the simulation on this page show the bias toward 0."),
        Question("gl_olre", "A random effect with one level per observation, (1 | obs), in a Poisson model captures ...",
                 ("overdispersion: more spread than the Poisson allows", "the residual variance sigma^2",
                  "nothing: it cannot be estimated"), "overdispersion: more spread than the Poisson allows",
                 "A Poisson count has variance equal to its mean; an observation-level effect lets each count have "
                 "its own rate, a lognormal-Poisson mixture with extra variance (grouseticks)."),
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



def tests_and_intervals(name: str, t: float, df: float, naive_df: int, wald_lower: float, wald_upper: float,
                        group: str) -> list[Question]:
    """Built from the table and the intervals on screen: one fixed effect's t and df, and the Wald
    interval of the between-group variance."""
    why_df = ("The residual df count every observation as independent. Observations of one group share its "
              "random effect, so the information about this effect is smaller: fewer df, a heavier-tailed t, a "
              "larger p-value.")
    direction = "smaller (too optimistic)" if df < naive_df - 0.5 else "about the same" if abs(df - naive_df) <= 0.5 \
        else "larger (too cautious)"
    below = wald_lower < 0
    return [
        Question("ti_why", f"lme4 prints t = {t:.2f} for {name}, but no p-value. Why?",
                 ("the t statistic's denominator degrees of freedom are not known and must be approximated",
                  "lme4 cannot compute standard errors", "p-values cannot be defined for random effects"),
                 "the t statistic's denominator degrees of freedom are not known and must be approximated",
                 "Under H0 the statistic is only approximately t, with df that depend on the variance components: "
                 "Satterthwaite and Kenward-Roger estimate them, lmerTest prints the result."),
        Question("ti_naive", f"Satterthwaite gives {name} {df:.1f} denominator df; the residual df are n - p = "
                 f"{naive_df}. With the residual df, the p-value would be ...",
                 ("smaller (too optimistic)", "about the same", "larger (too cautious)"), direction, why_df),
        Question("ti_wald", f"The Wald interval for the {group} variance is ({wald_lower:.3g}, {wald_upper:.3g}). "
                 "What is wrong with it?",
                 ("its lower end is below zero, impossible for a variance",
                  "it is symmetric, while the likelihood is skewed toward large variances", "nothing"),
                 "its lower end is below zero, impossible for a variance" if below else
                 "it is symmetric, while the likelihood is skewed toward large variances",
                 "A variance estimated from few groups has a skewed sampling distribution, bounded by 0: the profile "
                 "and the bootstrap follow the likelihood, the Wald interval assumes a symmetric normal one."),
    ]


def nested_crossed(kind: str, outer: str, inner: str, labels: int, units: int, right: str, wrong: str,
                   corr_label: str, corr: float, shares: list[float], se_right: float, se_wrong: float,
                   term: str) -> list[Question]:
    """Built from the design and the fits on screen. kind: 'nested' (inner within outer, maybe with
    reused labels; labels: the inner labels, units: the inner units) or 'crossed' (labels: the pairs of
    levels there could be, units: the pairs that occur); right and wrong: the model and the mistaken one shown beside it;
    corr: the correlation of two observations sharing `corr_label`; se_*: the SE of `term` in each."""
    if kind == "nested":
        first = Question("nc_units", f"How many different {inner} units are there in these data?",
                         tuple(sorted({str(labels), str(units), str(units * 2)}, key=int)), str(units),
                         f"Each {inner} belongs to one {outer}: {units} {outer}-{inner} combinations, whatever the "
                         f"{labels} labels say.")
    else:
        full = units == labels  # here: the pairs that occur against all possible pairs
        first = Question("nc_kind", f"In these data, {outer} and {inner} are ...",
                         ("nested", "crossed", "partially crossed"), "crossed" if full else "partially crossed",
                         f"Every {outer} meets every {inner}: the incidence picture is filled." if full else
                         f"Each {outer} meets some of the {inner}s, not all ({units:,} of {labels:,} pairs): the "
                         "picture is speckled, neither full nor block diagonal.")
    options = tuple(sorted({f"{round(corr, 2):.2f}", *(f"{round(s, 2):.2f}" for s in shares[:3])}, key=float))
    smaller = se_wrong < se_right
    return [
        first,
        Question("nc_formula", "Which formula describes this design?", tuple(sorted({right, wrong})), right,
                 f"{right}: " + (f"{inner} within {outer}, counted as {units} units." if kind == "nested"
                                 else "both crossed factors, each with its own variance.")),
        Question("nc_corr", f"Two observations that share {corr_label} correlate by about ...", options,
                 f"{round(corr, 2):.2f}", "The correlation is the share of the variance they have in common: the "
                 "variance of every factor they share, over the total."),
        Question("nc_se", f"The mistaken model, {wrong}, makes the SE of {term} ...",
                 ("smaller", "larger", "no different"), "smaller" if smaller else "larger",
                 f"SE {se_wrong:.3g} against {se_right:.3g}: "
                 + ("it counts observations that share a unit as independent, so it claims more precision than "
                    "the data hold." if smaller else "it puts the missing variance elsewhere; here that made it larger.")),
    ]


def planning(design: str, sigma_b: float, sigma: float, se_of, coverage_z_few: float | None = None,
             few: int = 4) -> list[Question]:
    """Built from the truth and the design on screen; se_of(groups, per_group) is the effect's SE with
    the variances known. coverage_z_few: the simulated coverage of z intervals with `few` groups, if run."""
    options = {f"{g} groups of {n}": se_of(g, n) for g, n in ((10, 20), (20, 10), (50, 4))}
    best = min(options, key=options.get)
    same = max(options.values()) - min(options.values()) < 1e-9 * max(options.values())
    between = design == "between"
    limit = f"2 sigma_b / sqrt(G) = {2 * sigma_b:.3g} / sqrt(G)" if between else "0"
    questions = [
        Question("pl_total", "200 observations in all: which design estimates the treatment effect most precisely?",
                 (*options, "all three equally"), "all three equally" if same else best,
                 ("Within groups the effect is a difference inside each group: the group effects cancel, and only the "
                  "total number of observations counts." if same else
                  f"SEs {', '.join(f'{k}: {v:.3g}' for k, v in options.items())}. Between groups each group is one "
                  "draw of its group effect: more groups average over more of them.")),
        Question("pl_limit", "With the number of groups fixed, more and more observations per group bring the "
                 "effect's SE down to ...", ("0", "2 sigma_b / sqrt(G) = " + f"{2 * sigma_b:.3g} / sqrt(G)",
                                             "sigma / sqrt(G)"), limit,
                 ("Between groups, Var = 4 (sigma_b^2 + sigma^2 / n) / G: the sigma^2 / n part goes, sigma_b^2 / G "
                  "stays." if between else "Within groups, Var = 4 sigma^2 / (n G): more observations always help.")),
    ]
    fact = (f" In your simulation with {few} groups it covered {coverage_z_few:.0%}." if coverage_z_few is not None
            else "")
    questions.append(Question(
        "pl_z", f"With {few} groups, a z interval for the effect (estimate +- 1.96 SE) covers the truth ...",
        ("less than 95% of the time", "95% of the time", "more than 95% of the time"), "less than 95% of the time",
        "It treats the estimated SE as known; with few groups the estimate's t has few df and heavier tails, so "
        "+-1.96 SE is too short." + fact))
    questions.append(Question(
        "pl_singular", f"A study's fit is singular although the truth has sigma_b = {sigma_b:.3g}. This means ...",
        ("the data of that study cannot tell the group variance from zero", "the software failed",
         "the truth was sigma_b = 0"), "the data of that study cannot tell the group variance from zero",
        "With few groups or a small sigma_b, the group means can vary less than sigma^2 / n alone predicts; the "
        "estimate then sits on the boundary. It happens in a share of studies: the planner counts it."))
    return questions
def correlated_errors(phi: float, p_value: float, step: str) -> list[Question]:
    """The correlated-errors lesson: built from the fitted phi and the LRT on screen; step names one
    step of the time scale ('year', 'day', 'time unit')."""
    two = f"{phi ** 2:.3f}"
    options = tuple(dict.fromkeys([f"{phi:.3f}", two, f"{min(1.0, 2 * abs(phi)):.3f}", "0.000"]))
    prefer = "yes" if p_value < 0.05 else "no"
    return [
        Question("ce_lag2", f"The fitted phi is {phi:.3f}. What correlation does the model give two errors of the same "
                 f"group two {step}s apart?", options, two,
                 f"AR(1): corr = phi^(distance) = {phi:.3f}^2 = {two}. The correlation fades with distance."),
        Question("ce_lrt", "Does the likelihood-ratio test (same fixed effects, REML) prefer the AR(1) errors at 5%?",
                 ("yes", "no"), prefer, f"p = {p_value:.3g}: " + ("the correlation improves the fit clearly." if
                                                                 prefer == "yes" else "no clear improvement.")),
        Question("ce_acf", "If the AR(1) model is right, which residuals should look uncorrelated in the ACF plot?",
                 ("the residuals of the model with independent errors", "the normalized residuals of the AR(1) model",
                  "neither: residuals of one group are always correlated"),
                 "the normalized residuals of the AR(1) model",
                 "Normalized residuals are whitened by the fitted correlation: if it is right, what is left is "
                 "independent noise."),
        Question("ce_walk", "Each year's deviation is carried into all later heights (a random walk). What is "
                 "independent again?", ("the heights", "the yearly growth increments (height differences)",
                                        "the residuals of any mixed model"),
                 "the yearly growth increments (height differences)",
                 "height_t - height_(t-1) = growth rate + this year's own deviation: the carried-over part cancels."),
    ]


def fixed_or_random() -> list[Question]:
    """Lesson 1's questions: for each design, is the factor named fixed or random?"""
    return [Question(f"for_{i}", f"**{factor}**: fixed or random?", ("fixed", "random"), answer,
                     f"{answer.capitalize()}: {why}", design)
            for i, (design, factor, answer, why) in enumerate(FIXED_OR_RANDOM)]
