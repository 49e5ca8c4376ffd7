#!/usr/bin/env Rscript
# lme4 references for the nested-and-crossed lesson and the planner, for mmcore's tests.
#
# R is only the tool that makes these references: neither the app nor its tests run R.
#
# Run from the repository root, after the simulated data sets have been written:
#     .venv/bin/python scripts/references/nested_crossed_data.py
#     Rscript scripts/references/nested_crossed.R
# Reads lme4's own Pastes, and tests/reference/nested_crossed/*.csv (the lessons' simulated designs);
# writes tests/reference/nested_crossed.json: for each fit the best criterion of four optimizers
# (bobyqa, Nelder_Mead, nloptwrap's BOBYQA, nlminb through optimx when installed; the reference for an
# optimizer is R's best answer, not its default), and the estimates at that best fit: fixed effects,
# their SEs, VarCorr, sigma, theta, logLik, the groups; for models with a fixed effect beyond the
# intercept lmerTest's Satterthwaite and Kenward-Roger t tests; for one-intercept models lme4's
# profile interval of the intercept SD (confint(..., method = "profile", oldNames = FALSE)).

suppressPackageStartupMessages({
  library(lme4)
  library(lmerTest)
  library(jsonlite)
})
if (!file.exists("mmcore")) stop("run this script from the repository root")
DIR <- "tests/reference/nested_crossed"

data(Pastes, package = "lme4")
pastes <- data.frame(strength = Pastes$strength, batch = Pastes$batch, cask = Pastes$cask,
                     sample = Pastes$sample)
read_sim <- function(name, factors) {
  d <- read.csv(file.path(DIR, paste0(name, ".csv")))
  for (f in factors) d[[f]] <- factor(as.character(d[[f]]))
  d
}
frames <- list(
  pastes = pastes,
  statlab = read_sim("statlab", c("school", "student")),
  crossed = read_sim("crossed", c("condition", "subject", "item")),
  plan_between = read_sim("plan_between", c("treat", "group")),
  plan_between2 = read_sim("plan_between2", c("treat", "group")),
  plan_within = read_sim("plan_within", c("treat", "group")),
  plan_few = read_sim("plan_few", c("treat", "group"))
)

FITS <- list(
  list(id = "pastes_wrong_reml", data = "pastes", formula = "strength ~ 1 + (1 | batch) + (1 | cask)", REML = TRUE),
  list(id = "pastes_wrong_ml", data = "pastes", formula = "strength ~ 1 + (1 | batch) + (1 | cask)", REML = FALSE),
  list(id = "pastes_nested_reml", data = "pastes", formula = "strength ~ 1 + (1 | batch/cask)", REML = TRUE),
  list(id = "pastes_unique_reml", data = "pastes", formula = "strength ~ 1 + (1 | batch) + (1 | sample)", REML = TRUE),
  list(id = "statlab_nested", data = "statlab", formula = "score ~ 1 + (1 | school/student)", REML = TRUE),
  list(id = "statlab_wrong", data = "statlab", formula = "score ~ 1 + (1 | school) + (1 | student)", REML = TRUE),
  list(id = "crossed", data = "crossed", formula = "rt ~ condition + (1 | subject) + (1 | item)", REML = TRUE),
  list(id = "plan_between", data = "plan_between", formula = "y ~ treat + (1 | group)", REML = TRUE),
  list(id = "plan_between2", data = "plan_between2", formula = "y ~ treat + (1 | group)", REML = TRUE),
  list(id = "plan_within", data = "plan_within", formula = "y ~ treat + (1 | group)", REML = TRUE),
  list(id = "plan_few", data = "plan_few", formula = "y ~ treat + (1 | group)", REML = TRUE)
)

optimizers <- list(
  bobyqa = lmerControl(optimizer = "bobyqa", optCtrl = list(maxfun = 1e5)),
  Nelder_Mead = lmerControl(optimizer = "Nelder_Mead", optCtrl = list(maxfun = 1e5)),
  nloptwrap = lmerControl(optimizer = "nloptwrap", optCtrl = list(xtol_abs = 1e-10, ftol_abs = 1e-12, maxeval = 1e5))
)
if (suppressWarnings(requireNamespace("optimx", quietly = TRUE))) {
  suppressPackageStartupMessages(library(optimx))
  optimizers$nlminb <- lmerControl(optimizer = "optimx", optCtrl = list(method = "nlminb"))
}

criterion <- function(m) if (isREML(m)) REMLcrit(m) else deviance(m)

out <- list()
for (spec in FITS) {
  d <- frames[[spec$data]]
  tried <- list()
  for (name in names(optimizers)) {
    m <- tryCatch(suppressMessages(suppressWarnings(
      lmerTest::lmer(as.formula(spec$formula), data = d, REML = spec$REML, control = optimizers[[name]]))),
      error = function(e) NULL)
    if (!is.null(m)) tried[[name]] <- m
  }
  crits <- sapply(tried, criterion)
  best <- tried[[which.min(crits)]]
  vc <- as.data.frame(VarCorr(best))
  entry <- list(
    id = spec$id, data = spec$data, formula = spec$formula, REML = spec$REML,
    criteria = as.list(crits), optimizer = names(tried)[which.min(crits)], criterion = min(crits),
    fixef = as.list(fixef(best)), se = as.list(sqrt(diag(as.matrix(vcov(best))))),
    varcorr = list(grp = vc$grp, var1 = vc$var1, vcov = vc$vcov, sdcor = vc$sdcor),
    sigma = sigma(best), theta = unname(getME(best, "theta")), logLik = as.numeric(logLik(best)),
    ngroups = as.list(ngrps(best)), singular = isSingular(best)
  )
  if (length(fixef(best)) > 1 && spec$REML) {
    for (ddf in c("Satterthwaite", "Kenward-Roger")) {
      co <- coef(summary(best, ddf = ddf))
      entry[[ddf]] <- list(names = rownames(co), estimate = co[, "Estimate"], se = co[, "Std. Error"],
                           df = co[, "df"], t = co[, "t value"], p = co[, "Pr(>|t|)"])
    }
  }
  if (startsWith(spec$id, "plan_")) {
    ci <- suppressMessages(suppressWarnings(confint(as(best, "lmerMod"), method = "profile", oldNames = FALSE)))
    entry$profile_sd <- as.numeric(ci["sd_(Intercept)|group", ])
    entry$profile_sigma <- as.numeric(ci["sigma", ])
  }
  out[[spec$id]] <- entry
}

versions <- list(R = R.version.string, lme4 = as.character(packageVersion("lme4")),
                 lmerTest = as.character(packageVersion("lmerTest")), pbkrtest = as.character(packageVersion("pbkrtest")))
writeLines(toJSON(list(versions = versions, fits = out), auto_unbox = TRUE, digits = NA, pretty = TRUE),
           "tests/reference/nested_crossed.json")
cat("wrote tests/reference/nested_crossed.json\n")
