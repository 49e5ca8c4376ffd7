"""The code a student would write for the current model: R (lme4), Python (statsmodels, mmcore).

statsmodels has no lme4 formula syntax: its MixedLM takes one grouping factor (`groups`), random
terms for it (`re_formula`), and independent variance components (`vc_formula`). Uncorrelated,
nested and crossed random effects are written with variance components; what it cannot express
is said in a comment rather than translated wrongly.
"""
from __future__ import annotations

import keyword

from ..model.formula import Formula, Part, parse_formula

R_DATA = {
    "sleepstudy": "data(sleepstudy, package = \"lme4\")\ndat <- sleepstudy",
    "penicillin": "# penicillin is in Julian Faraway's package: install.packages(\"faraway\")\n"
                  "data(penicillin, package = \"faraway\")\ndat <- penicillin",
    "dyestuff": "data(Dyestuff, package = \"lme4\")\ndat <- Dyestuff",
    "penicillin_lme4": "data(Penicillin, package = \"lme4\")\ndat <- Penicillin",
    "pastes": "data(Pastes, package = \"lme4\")\ndat <- Pastes",
    "ctsib": "data(ctsib, package = \"faraway\")\ndat <- ctsib\ndat$stable <- ifelse(dat$CTSIB == 1, 1, 0)",
    "cbpp": "data(cbpp, package = \"lme4\")\ndat <- cbpp",
    "grouseticks": "data(grouseticks, package = \"lme4\")\ndat <- grouseticks",
}


def _part_text(part: Part, factors: set = frozenset()) -> str:
    terms = [":".join(f"C({_pyname(v)})" if v in factors else _pyname(v) for v in t) for t in part.terms]
    if not part.intercept:
        return " + ".join(["0"] + terms)
    return " + ".join(terms) if terms else "1"


def _r_factors(factors) -> str:
    return "".join(f"dat${_rname(v)} <- factor(dat${_rname(v)})  # numbers used as categories\n" for v in factors)


def _rname(name: str) -> str:
    return name if name.replace(".", "").replace("_", "").isalnum() and not name[0].isdigit() else f"`{name}`"


def r_code(formula: str, dataset: str | None = None, reml: bool = True, csv_name: str = "data.csv",
           factors: tuple = ()) -> str:
    """lme4 code; `factors`: columns of numbers that the model uses as categories (R reads them as numbers)."""
    data = R_DATA.get(dataset, f'dat <- read.csv("{csv_name}")  # the data on screen, downloaded as CSV')
    return (
        "library(lme4)\n"
        f"{data}\n"
        f"{_r_factors(factors)}"
        f"fit <- lmer({formula}, data = dat, REML = {'TRUE' if reml else 'FALSE'})\n"
        "summary(fit)\n"
        "ranef(fit)   # the BLUPs (conditional modes)\n"
    )


def r_comparison_code(formula0: str, formula1: str, dataset: str | None = None, csv_name: str = "data.csv",
                      refit: bool = True) -> str:
    """Two models and lme4's anova() between them (refit = FALSE: the REML fits as they are)."""
    data = R_DATA.get(dataset, f'dat <- read.csv("{csv_name}")  # the data on screen, downloaded as CSV')
    return (
        "library(lme4)\n"
        f"{data}\n"
        f"m0 <- lmer({formula0}, data = dat)\n"
        f"m1 <- lmer({formula1}, data = dat)\n"
        + ("anova(m0, m1)   # refits both by ML\n" if refit else "anova(m0, m1, refit = FALSE)   # REML, same fixed effects\n")
    )


STATSMODELS_NOTE = (
    "# How statsmodels reports the model: 'Scale' is the residual variance sigma^2; 'Group Var' (and the\n"
    "# other 'Var'/'Cov' rows) are the random-effect variances and covariances on the data's scale, which it\n"
    "# estimates internally relative to Scale (as lme4's theta). Fixed effects get z tests (a normal\n"
    "# reference, no degrees of freedom), not t tests. The Std.Err. printed beside a variance is not a\n"
    "# standard error of that variance on this scale: do not build an interval from it.\n"
)


def statsmodels_code(formula: str, reml: bool = True, csv_name: str = "data.csv", factors: tuple = ()) -> str:
    f: Formula = parse_formula(formula)
    fixed = f"{_pyname(f.response)} ~ {_part_text(f.fixed, set(factors))}"
    groups = list(dict.fromkeys(r.group for r in f.random))
    head = ("import pandas as pd\nimport statsmodels.formula.api as smf\n\n"
            f'dat = pd.read_csv("{csv_name}")\n')
    note = ""
    if len(groups) == 1 and len(groups[0]) == 1:
        g = groups[0][0]
        terms = [r.lhs for r in f.random]
        if len(terms) == 1:
            re = _part_text(terms[0])
            call = f'smf.mixedlm("{fixed}", dat, groups=dat["{g}"], re_formula="~{re}")'
        else:  # (x || g): independent intercept and slope variances
            vc = {":".join(t.terms[0]): f"0 + {':'.join(map(_pyname, t.terms[0]))}" for t in terms if t.terms}
            re = "1" if any(t.intercept for t in terms) else "0"
            call = (f'smf.mixedlm("{fixed}", dat, groups=dat["{g}"], re_formula="~{re}",\n'
                    f"                  vc_formula={vc!r})")
    elif all(len(r.group) == 1 for r in f.random) and all(r.lhs == Part(True, ()) for r in f.random):
        vc = {r.group[0]: f"0 + C({r.group[0]})" for r in f.random}
        call = ('smf.mixedlm("' + fixed + '", dat, groups=np.ones(len(dat)), re_formula="0",\n'
                f"                  vc_formula={vc!r})")
        head = head.replace("import pandas", "import numpy as np\nimport pandas")
        note = "# crossed factors: one group holding everything, each factor a variance component\n"
    elif all(r.lhs == Part(True, ()) for r in f.random) and len(f.random[0].group) == 1:
        outer = f.random[0].group[0]
        vc = {r.group_name: f"0 + C({r.group[0]})" for r in f.random[1:]}
        call = (f'smf.mixedlm("{fixed}", dat, groups=dat["{outer}"], re_formula="1",\n'
                f"                  vc_formula={vc!r})")
        note = "# nested factors: the inner factor as a variance component within the outer groups\n"
    else:
        return head + f"# statsmodels' MixedLM cannot express {formula} directly; use R's lme4 or mmcore.\n"
    return head + note + STATSMODELS_NOTE + f"model = {call}\nresult = model.fit(reml={reml})\nprint(result.summary())\n"


def _pyname(name: str) -> str:
    """patsy evaluates names as Python: keywords (yield) and odd names go through Q()."""
    return name if name.isidentifier() and not keyword.iskeyword(name) else f"Q('{name}')"


def mmcore_code(formula: str, dataset: str | None = None, reml: bool = True, csv_name: str = "data.csv",
                factors: tuple = ()) -> str:
    load = f'load_dataset("{dataset}")' if dataset in R_DATA or dataset == "estrone" else f'read_csv("{csv_name}")'
    as_text = "".join(f'dat["{v}"] = dat["{v}"].astype(str)  # numbers used as categories\n' for v in factors)
    return (
        "from mmcore import fit, load_dataset, read_csv\n\n"
        f"dat = {load}\n"
        f"{as_text}"
        f'result = fit("{formula}", dat, reml={reml})\n'
        "print(result.summary())\n"
        "print(result.ranef)\n"
    )


def inference_code(formula: str, dataset: str | None = None, csv_name: str = "data.csv") -> tuple[str, str]:
    """Tests and intervals for the model: R (lmerTest, pbkrtest, lme4) and Python (mmcore)."""
    data = R_DATA.get(dataset, f'dat <- read.csv("{csv_name}")  # the data on screen, downloaded as CSV')
    r = ("library(lmerTest)   # lmer() with Satterthwaite's and Kenward-Roger's df (pbkrtest)\n"
         f"{data}\n"
         f"fit <- lmer({formula}, data = dat)\n"
         "summary(fit)                          # t tests, Satterthwaite's df\n"
         "summary(fit, ddf = \"Kenward-Roger\")\n"
         "anova(fit)                            # type III F tests\n"
         "anova(fit, ddf = \"Kenward-Roger\")\n"
         "confint(fit, oldNames = FALSE)        # profile likelihood (lme4)\n"
         "confint(fit, method = \"Wald\")\n"
         "confint(fit, method = \"boot\", nsim = 500)\n"
         "pr <- profile(fit); lattice::xyplot(pr)   # the zeta plots\n")
    load = (f'mmcore.load_dataset("{dataset}")' if dataset else f'pd.read_csv("{csv_name}")')
    py = ("import mmcore\n" + ("" if dataset else "import pandas as pd\n") +
          f"fit = mmcore.fit(\"{formula}\", {load})\n"
          "print(mmcore.summary(fit, ddf=\"satterthwaite\"))\n"
          "mmcore.coef_table(fit, ddf=\"kenward-roger\")\n"
          "print(mmcore.format_f_tests(mmcore.f_tests(fit)))\n"
          "mmcore.confint(fit, method=\"profile\")   # also \"wald\", \"boot\"\n"
          "profile = mmcore.profile(fit); profile.points()   # zeta against each parameter\n")
    return r, py


def comparison_code(right: str, wrong: str, dataset: str | None = None, csv_name: str = "data.csv",
                    unique: tuple | None = None) -> tuple[str, str]:
    """Two models of one design side by side (the right one and the mistaken one) in R and mmcore;
    unique = (new column, outer, inner): the inner factor given unique labels first, and that model too."""
    data = R_DATA.get(dataset, f'dat <- read.csv("{csv_name}")  # the data on screen, downloaded as CSV')
    r = ["library(lme4)", data]
    py = ["import mmcore", "", f'dat = mmcore.load_dataset("{dataset}")' if dataset in R_DATA
          else f'dat = mmcore.read_csv("{csv_name}")']
    if unique:
        new, outer, inner = unique
        r.append(f"dat${new} <- factor(paste(dat${outer}, dat${inner}, sep = \":\"))   # unique labels")
        py.append(f'dat["{new}"] = dat["{outer}"].astype(str) + ":" + dat["{inner}"].astype(str)   # unique labels')
    r += [f"right <- lmer({right}, data = dat)", f"wrong <- lmer({wrong}, data = dat)",
          "summary(right); summary(wrong)", "ngrps(right); ngrps(wrong)   # how many units each model sees",
          "with(dat, table(" + ", ".join(_rname(v) for v in _grouping(right)) + "))   # which levels meet which"]
    py += [f'right = mmcore.fit("{right}", dat)', f'wrong = mmcore.fit("{wrong}", dat)',
           "print(right.summary()); print(wrong.summary())", "print(right.ngroups, wrong.ngroups)"]
    if unique:
        same = right.replace(f"(1 | {unique[1]}/{unique[2]})", f"(1 | {unique[1]}) + (1 | {unique[0]})")
        r.append(f"same <- lmer({same}, data = dat)   # the nested model again")
        py.append(f'same = mmcore.fit("{same}", dat)   # the nested model again')
    return "\n".join(r) + "\n", "\n".join(py) + "\n"


def _grouping(formula: str) -> list[str]:
    """The grouping variables of a formula's random terms, in order, each once."""
    out = []
    for term in parse_formula(formula).random:
        for g in term.group:
            if g not in out:
                out.append(g)
    return out


def planning_code(design: str, groups: tuple, per_group: tuple, effect: float, sigma_b: float, sigma: float,
                  nsim: int) -> tuple[str, str]:
    """One design of the plan simulated in R (lme4, lmerTest: slow, one fit at a time) and the whole grid
    in mmcore."""
    g, n = groups[len(groups) // 2], per_group[len(per_group) // 2]
    treat = ("(as.integer(group) - 1) %% 2" if design == "between" else "rep((seq_len(n) - 1) %% 2, G)")
    r = f"""library(lmerTest)   # lme4's lmer with Satterthwaite's df
one_study <- function(G = {g}, n = {n}, effect = {effect:g}, sigma_b = {sigma_b:g}, sigma = {sigma:g}) {{
  group <- factor(rep(seq_len(G), each = n))
  treat <- factor({treat}, levels = 0:1, labels = c("A", "B"))   # treatment {design} groups
  y <- effect * (treat == "B") + rnorm(G, 0, sigma_b)[group] + rnorm(G * n, 0, sigma)
  m <- lmer(y ~ treat + (1 | group), data.frame(y, treat, group))
  co <- coef(summary(m))["treatB", ]   # Satterthwaite; summary(m, ddf = "Kenward-Roger") for KR
  half <- qt(0.975, co[["df"]]) * co[["Std. Error"]]
  ci <- confint(m, parm = "sd_(Intercept)|group", oldNames = FALSE, quiet = TRUE)   # profile
  lrt <- 2 * (logLik(refitML(m)) - logLik(lm(y ~ treat)))
  c(estimate = co[["Estimate"]], covered = abs(co[["Estimate"]] - effect) <= half, reject = co[["Pr(>|t|)"]] < 0.05,
    sd_covered = ci[1] <= sigma_b & sigma_b <= ci[2], var_reject = 0.5 * pchisq(lrt, 1, lower.tail = FALSE) < 0.05,
    singular = isSingular(m))
}}
set.seed(1)
res <- t(replicate({nsim}, one_study()))
colMeans(res[, -1]); sd(res[, "estimate"])   # coverage, power, singular share; the SE
"""
    py = f"""from mmcore import plan_study

table = plan_study(groups={tuple(groups)}, per_group={tuple(per_group)}, design="{design}",
                   effect={effect:g}, sigma_b={sigma_b:g}, sigma={sigma:g}, nsim={nsim}, seed=1)
print(table[["groups", "per_group", "effect_sd", "coverage_satterthwaite", "power_satterthwaite",
             "coverage_sigma_b", "power_variance", "singular"]])
"""
    return r, py
def glmer_code(formula: str, dataset: str | None, family: str, nagq: int = 1, link: str | None = None,
               csv_name: str = "data.csv") -> str:
    """R for a generalized model: glmer, odds ratios, and MASS's glmmPQL beside it."""
    data = R_DATA.get(dataset, f'dat <- read.csv("{csv_name}")  # the data on screen, downloaded as CSV')
    fam = f"{family}(link = \"{link}\")" if link and link not in ("logit", "log") else family
    f = parse_formula(formula)
    fixed = f"{f.response if not f.binomial else formula.split('~')[0].strip()} ~ {_part_text(f.fixed)}"
    pql = (f"library(MASS)   # PQL, as the lecture notes\npql <- glmmPQL({fixed}, random = ~ 1 | {f.random[0].group_name}, "
           f"family = {fam}, data = dat)\nsummary(pql)\n") if len(f.random) == 1 else ""
    return ("library(lme4)\n" + f"{data}\n"
            + f"fit <- glmer({formula}, data = dat, family = {fam}{f', nAGQ = {nagq}' if nagq != 1 else ''})\n"
            + "summary(fit)\nexp(fixef(fit))   # odds (or rate) ratios for the same subject\n"
            + "ranef(fit)        # conditional modes\n" + pql)


def glmm_python_code(formula: str, family: str, dataset: str | None = None, nagq: int = 1, link: str | None = None,
                     csv_name: str = "data.csv") -> str:
    """mmcore (glmer's numbers) and statsmodels' population-averaged GEE beside it (statsmodels has no
    maximum-likelihood GLMM; its Bayesian mixed GLM is a different estimator)."""
    f = parse_formula(formula)
    load = f'load_dataset("{dataset}")' if dataset in R_DATA else f'read_csv("{csv_name}")'
    extra = f", nagq={nagq}" if nagq != 1 else ""
    extra += f', link="{link}"' if link and link not in ("logit", "log") else ""
    code = ("from mmcore import fit, load_dataset, read_csv\n\n"
            f"dat = {load}\n"
            f'result = fit("{formula}", dat, family="{family}"{extra})\n'
            "print(result.summary())\nprint(result.coef_table)\n")
    if not f.binomial:
        fam = "Binomial" if family == "binomial" else "Poisson"
        code += ("\n# statsmodels: the population-averaged (marginal) model by GEE, exchangeable within groups\n"
                 "import statsmodels.api as sm\nimport statsmodels.formula.api as smf\n\n"
                 f'gee = smf.gee("{_pyname(f.response)} ~ {_part_text(f.fixed)}", groups="{f.random[0].group[0]}", '
                 f"data=dat,\n              family=sm.families.{fam}(), cov_struct=sm.cov_struct.Exchangeable())\n"
                 "print(gee.fit().summary())\n")
    return code
