# References for random intercepts' sigma_b sweep (mmcore/lessons/sweeps.py: sigma_b_sweep): every step's
# data (tests/reference/sigma_b_sweep/*.csv, written by sigma_b_sweep_data.py) fitted by REML,
# y ~ 1 + (1 | group), the better of bobyqa and Nelder-Mead (R's best answer, not its default). Run from
# the project root after the data script:
#   Rscript scripts/references/sigma_b_sweep.R
# Writes tests/reference/sigma_b_sweep.json: per case and step, sigma_b, sigma, the intercept, each
# group's partial-pooling estimate (intercept + BLUP, groups g1, g2, ... in order) and isSingular.
# R 4.2, lme4, jsonlite.
suppressMessages({library(lme4); library(jsonlite)})
best <- function(data) {
  fits <- lapply(c("bobyqa", "Nelder_Mead"), function(o)
    suppressMessages(suppressWarnings(lmer(y ~ 1 + (1 | group), data, control = lmerControl(optimizer = o)))))
  fits[[which.min(sapply(fits, REMLcrit))]]
}
dir <- file.path("tests", "reference", "sigma_b_sweep")
cases <- sub("\\.csv$", "", list.files(dir, pattern = "\\.csv$"))
out <- lapply(setNames(cases, cases), function(name) {
  d <- read.csv(file.path(dir, paste0(name, ".csv")))
  lapply(split(d, d$step), function(s) {
    levels <- paste0("g", seq_along(unique(s$group)))
    s$group <- factor(s$group, levels = levels)
    m <- best(s)
    vc <- as.data.frame(VarCorr(m))
    list(step = s$step[1], sigma_b_truth = s$sigma_b[1], sigma_b = vc$sdcor[1], sigma = sigma(m),
         intercept = unname(fixef(m)[1]), partial = unname(fixef(m)[1] + ranef(m)$group[levels, 1]),
         singular = isSingular(m), reml = unname(REMLcrit(m)))
  })
})
writeLines(toJSON(list(cases = out, versions = list(R = R.version.string, lme4 = as.character(packageVersion("lme4")))),
                  pretty = TRUE, auto_unbox = TRUE, digits = NA), "tests/reference/sigma_b_sweep.json")
