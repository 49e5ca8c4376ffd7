# References for the printed summaries (mmcore/lmm/rprint.py): print(summary(.)) of lmer and glmer
# fits as lme4 lays them out. Run from the project root:
#   Rscript scripts/references/summaries.R
# Writes tests/reference/summaries.json. R 4.2, lme4 1.1-31, jsonlite. These are R's default fits:
# the tests compare the layout exactly and, for LMMs, the numbers to optimizer tolerance (R's default
# optimizer is not the best answer; tests/reference/optimum holds that).
suppressMessages({library(lme4); library(jsonlite)})
ds <- function(f) read.csv(file.path("datasets", f), stringsAsFactors = TRUE)
sleep <- ds("sleepstudy.csv"); sleep$Subject <- factor(sleep$Subject)
pen <- ds("penicillin_lme4.csv"); pen$plate <- factor(pen$plate); pen$sample <- factor(pen$sample)
pastes <- ds("pastes.csv"); dye <- ds("dyestuff.csv"); dye$Batch <- factor(dye$Batch)
estrone <- ds("estrone.csv"); estrone$Subject <- factor(estrone$Subject)
cbpp <- ds("cbpp.csv"); cbpp$herd <- factor(cbpp$herd); cbpp$period <- factor(cbpp$period)
unbal <- read.csv("tests/reference/inference_data/sleep_unbalanced.csv", stringsAsFactors = TRUE)
unbal$Subject <- factor(unbal$Subject)
singular <- read.csv("tests/reference/inference_data/singular.csv"); singular$group <- factor(singular$group)
fits <- list(
  sleep_slopes = list("Reaction ~ Days + (Days | Subject)", "sleepstudy", lmer(Reaction ~ Days + (Days | Subject), sleep)),
  sleep_uncorrelated = list("Reaction ~ Days + (Days || Subject)", "sleepstudy", lmer(Reaction ~ Days + (Days || Subject), sleep)),
  sleep_ml = list("Reaction ~ Days + (1 | Subject)", "sleepstudy", lmer(Reaction ~ Days + (1 | Subject), sleep, REML = FALSE)),
  penicillin = list("diameter ~ 1 + (1 | plate) + (1 | sample)", "penicillin_lme4", lmer(diameter ~ 1 + (1 | plate) + (1 | sample), pen)),
  pastes = list("strength ~ 1 + (1 | batch/cask)", "pastes", lmer(strength ~ 1 + (1 | batch/cask), pastes)),
  dyestuff = list("Yield ~ 1 + (1 | Batch)", "dyestuff", lmer(Yield ~ 1 + (1 | Batch), dye)),
  estrone = list("Estrone ~ 1 + (1 | Subject)", "estrone", lmer(Estrone ~ 1 + (1 | Subject), estrone)),
  unbalanced = list("Reaction ~ period * grp + (1 | Subject)", "sleep_unbalanced", lmer(Reaction ~ period * grp + (1 | Subject), unbal)),
  singular = list("y ~ x + (1 | group)", "singular", lmer(y ~ x + (1 | group), singular)),
  cbpp = list("cbind(incidence, size - incidence) ~ period + (1 | herd)", "cbpp",
              glmer(cbind(incidence, size - incidence) ~ period + (1 | herd), cbpp, binomial)))
out <- lapply(fits, function(f) list(formula = f[[1]], data = f[[2]], glmm = isGLMM(f[[3]]),
                                     reml = isREML(f[[3]]), text = capture.output(print(summary(f[[3]])))))
write_json(list(fits = out, versions = list(R = R.version.string, lme4 = as.character(packageVersion("lme4")))),
           "tests/reference/summaries.json", auto_unbox = TRUE, pretty = TRUE)
