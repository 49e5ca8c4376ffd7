# References for mmcore/inference: lmerTest summaries and type III anova (Satterthwaite and
# Kenward-Roger), lme4 profile and Wald confidence intervals, for more models than
# tests/reference/features.json holds. Run from the project root:
#   Rscript scripts/references/inference.R
# Writes tests/reference/inference.json and the derived data sets in tests/reference/inference_data/.
# R 4.2, lme4 1.1-31, lmerTest 3.1-3, pbkrtest 0.5.2, jsonlite.
suppressMessages({library(lmerTest); library(jsonlite)})
options(warn = 1)
ds <- function(f) read.csv(file.path("datasets", f), stringsAsFactors = FALSE)
sleep <- ds("sleepstudy.csv"); sleep$Subject <- factor(sleep$Subject)
pen <- ds("penicillin.csv"); pen$treat <- factor(pen$treat); pen$blend <- factor(pen$blend)
dye <- ds("dyestuff.csv"); dye$Batch <- factor(dye$Batch)
pastes <- ds("pastes.csv"); pastes$batch <- factor(pastes$batch); pastes$cask <- factor(pastes$cask)
crossed <- ds("penicillin_lme4.csv"); crossed$plate <- factor(crossed$plate); crossed$sample <- factor(crossed$sample)
estrone <- ds("estrone.csv"); estrone$Subject <- factor(estrone$Subject)

# An unbalanced sleepstudy: rows dropped by a fixed rule (between 1 and 5 per subject), a three-level
# within-subject factor (period) and a two-level between-subject factor (grp).
i <- as.integer(sleep$Subject) - 1
unbal <- sleep[!((3 * i + sleep$Days) %% 7 == 0 | (i < 5 & sleep$Days >= 10 - i)), ]
unbal$period <- factor(ifelse(unbal$Days <= 2, "adapt", ifelse(unbal$Days <= 5, "early", "late")))
unbal$grp <- factor(ifelse(as.integer(unbal$Subject) <= 9, "A", "B"))
dir.create("tests/reference/inference_data", showWarnings = FALSE)
write.csv(unbal, "tests/reference/inference_data/sleep_unbalanced.csv", row.names = FALSE, quote = FALSE)
# A term with three random effects (correlations among three): a quadratic in Days.
sleep_d2 <- sleep; sleep_d2$D2 <- (sleep_d2$Days - 4.5)^2 / 10
# A boundary fit (the group variance estimated as 0): inference_data/singular.csv was drawn by the project's
# mmcore.simulate_intercepts(n_groups = 4, n_per_group = 3, beta0 = 250, beta1 = 10, sigma_b = 0, sigma = 25,
# seed = 1); and lme4's Dyestuff2, whose between-batch variance is estimated as 0.
singular <- read.csv("tests/reference/inference_data/singular.csv"); singular$group <- factor(singular$group)
dye2 <- lme4::Dyestuff2
write.csv(dye2, "tests/reference/inference_data/dyestuff2.csv", row.names = FALSE, quote = FALSE)
data_sets <- list(sleep = sleep, sleep_d2 = sleep_d2, singular = singular, dye2 = dye2, pen = pen, dye = dye, pastes = pastes, crossed = crossed, estrone = estrone,
                  unbal = unbal)
files <- c(sleep = "sleepstudy.csv", sleep_d2 = "sleepstudy.csv (D2 = (Days - 4.5)^2 / 10)",
           singular = "inference_data/singular.csv", dye2 = "inference_data/dyestuff2.csv", pen = "penicillin.csv", dye = "dyestuff.csv", pastes = "pastes.csv",
           crossed = "penicillin_lme4.csv", estrone = "estrone.csv", unbal = "inference_data/sleep_unbalanced.csv")

# The best of lme4's optimizers, as the project's references always are.
best_fit <- function(formula, data, REML) {
  # do.call puts the data into the call, so lmerTest can rebuild the deviance function from it
  fits <- lapply(c("nloptwrap", "bobyqa", "Nelder_Mead"), function(opt) suppressMessages(
    do.call(lmerTest::lmer, list(formula, data = data, REML = REML, control = lmerControl(optimizer = opt)))))
  crit <- sapply(fits, function(m) -2 * c(logLik(m)))
  fits[[which.min(crit)]]
}

coef_rows <- function(tab) lapply(seq_len(nrow(tab)), function(j) list(
  term = rownames(tab)[j], estimate = tab[j, "Estimate"], se = tab[j, "Std. Error"], df = tab[j, "df"],
  t = tab[j, "t value"], p = tab[j, "Pr(>|t|)"]))
anova_rows <- function(tab) lapply(seq_len(nrow(tab)), function(j) list(
  term = rownames(tab)[j], sumsq = tab[j, "Sum Sq"], meansq = tab[j, "Mean Sq"], numdf = tab[j, "NumDF"],
  dendf = tab[j, "DenDF"], F = tab[j, "F value"], p = tab[j, "Pr(>F)"]))

ddf_models <- list(
  list(id = "sleep_slopes", data = "sleep", formula = "Reaction ~ Days + (Days | Subject)", REML = TRUE),
  list(id = "sleep_uncorrelated", data = "sleep", formula = "Reaction ~ Days + (Days || Subject)", REML = TRUE),
  list(id = "sleep_intercept_ml", data = "sleep", formula = "Reaction ~ Days + (1 | Subject)", REML = FALSE),
  list(id = "penicillin", data = "pen", formula = "yield ~ treat + (1 | blend)", REML = TRUE),
  list(id = "dyestuff", data = "dye", formula = "Yield ~ 1 + (1 | Batch)", REML = TRUE),
  list(id = "pastes_nested", data = "pastes", formula = "strength ~ 1 + (1 | batch/cask)", REML = TRUE),
  list(id = "pastes_cask", data = "pastes", formula = "strength ~ cask + (1 | batch)", REML = TRUE),
  list(id = "crossed", data = "crossed", formula = "diameter ~ 1 + (1 | plate) + (1 | sample)", REML = TRUE),
  list(id = "unbalanced_slopes", data = "unbal", formula = "Reaction ~ Days + (Days | Subject)", REML = TRUE),
  list(id = "unbalanced_factorial", data = "unbal", formula = "Reaction ~ period * grp + (1 | Subject)", REML = TRUE),
  list(id = "unbalanced_period_days", data = "unbal", formula = "Reaction ~ Days * period + (Days | Subject)",
       REML = TRUE),
  list(id = "unbalanced_factorial_ml", data = "unbal", formula = "Reaction ~ period * grp + (1 | Subject)",
       REML = FALSE),
  list(id = "three_effects", data = "sleep_d2", formula = "Reaction ~ Days + D2 + (Days + D2 | Subject)", REML = TRUE),
  list(id = "singular", data = "singular", formula = "y ~ x + (1 | group)", REML = TRUE)
)
ddf <- lapply(ddf_models, function(s) {
  m <- (best_fit(as.formula(s$formula), data_sets[[s$data]], s$REML))
  out <- list(id = s$id, data = files[[s$data]], formula = s$formula, REML = s$REML,
              theta = unname(getME(m, "theta")),
              satterthwaite = coef_rows(summary(m, ddf = "Satterthwaite")$coefficients),
              anova_type3_satterthwaite = anova_rows(anova(m, type = 3, ddf = "Satterthwaite")),
              anova_type1_satterthwaite = anova_rows(anova(m, type = 1, ddf = "Satterthwaite")))
  if (s$REML) {
    out$kenward_roger <- coef_rows(summary(m, ddf = "Kenward-Roger")$coefficients)
    out$anova_type3_kenward_roger <- anova_rows(anova(m, type = 3, ddf = "Kenward-Roger"))
  }
  out
})

ci_models <- list(
  list(id = "sleep_slopes", data = "sleep", formula = "Reaction ~ Days + (Days | Subject)", REML = TRUE),
  list(id = "sleep_uncorrelated", data = "sleep", formula = "Reaction ~ Days + (Days || Subject)", REML = TRUE),
  list(id = "sleep_intercept", data = "sleep", formula = "Reaction ~ Days + (1 | Subject)", REML = TRUE),
  list(id = "sleep_intercept_ml", data = "sleep", formula = "Reaction ~ Days + (1 | Subject)", REML = FALSE),
  list(id = "penicillin", data = "pen", formula = "yield ~ treat + (1 | blend)", REML = TRUE),
  list(id = "dyestuff", data = "dye", formula = "Yield ~ 1 + (1 | Batch)", REML = TRUE),
  list(id = "pastes_nested", data = "pastes", formula = "strength ~ 1 + (1 | batch/cask)", REML = TRUE),
  list(id = "crossed", data = "crossed", formula = "diameter ~ 1 + (1 | plate) + (1 | sample)", REML = TRUE),
  list(id = "estrone", data = "estrone", formula = "Estrone ~ 1 + (1 | Subject)", REML = TRUE),
  list(id = "unbalanced_slopes", data = "unbal", formula = "Reaction ~ Days + (Days | Subject)", REML = TRUE),
  list(id = "three_effects", data = "sleep_d2", formula = "Reaction ~ Days + D2 + (Days + D2 | Subject)", REML = TRUE),
  list(id = "dyestuff2_singular", data = "dye2", formula = "Yield ~ 1 + (1 | Batch)", REML = TRUE)
)
ci_rows <- function(ci) lapply(seq_len(nrow(ci)), function(j) list(
  par = rownames(ci)[j], lower = unname(ci[j, 1]), upper = unname(ci[j, 2])))
confint_refs <- lapply(ci_models, function(s) {
  m <- best_fit(as.formula(s$formula), data_sets[[s$data]], s$REML)
  m <- as(m, "lmerMod")
  pr <- profile(m, signames = FALSE)
  zeta <- lapply(split(as.data.frame(pr), pr$.par), function(d) {
    par <- as.character(d$.par[1]); list(par = par, value = d[[par]], zeta = d$.zeta)
  })
  list(id = s$id, data = files[[s$data]], formula = s$formula, REML = s$REML,
       profile = ci_rows(confint(pr, level = 0.95)), profile_90 = ci_rows(confint(pr, level = 0.90)),
       wald = ci_rows(confint(m, method = "Wald", oldNames = FALSE)), zeta = unname(zeta))
})

# Printed tables, to check the layout of summary(ddf = ...) and f_tests against R's own print.
printed <- function(x) { out <- capture.output(print(x)); sub(" +$", "", out) }
fixed_block <- function(s) {  # the "Fixed effects:" block of a printed summary, up to the codes
  out <- printed(s); i <- grep("^Fixed effects:", out); j <- grep("^Signif. codes", out)
  out[(i + 1):j] }
m1 <- best_fit(Reaction ~ Days + (Days | Subject), sleep, TRUE)
m2 <- best_fit(yield ~ treat + (1 | blend), pen, TRUE)
m3 <- best_fit(Reaction ~ period * grp + (1 | Subject), unbal, TRUE)
printed_refs <- list(
  sleep_slopes_satterthwaite = fixed_block(summary(m1, ddf = "Satterthwaite")),
  penicillin_kenward_roger = fixed_block(summary(m2, ddf = "Kenward-Roger")),
  unbalanced_factorial_summary = fixed_block(summary(m3)),
  unbalanced_factorial_anova = printed(anova(m3)),
  penicillin_anova = printed(anova(m2)))

writeLines(toJSON(list(
  printed = printed_refs,
  versions = list(R = R.version.string, lme4 = as.character(packageVersion("lme4")),
                  lmerTest = as.character(packageVersion("lmerTest")),
                  pbkrtest = as.character(packageVersion("pbkrtest"))),
  ddf = ddf, confint = confint_refs), auto_unbox = TRUE, digits = NA, na = "null", pretty = TRUE),
  "tests/reference/inference.json")
