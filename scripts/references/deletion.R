# References for shrinkage's deletion sweeps (mmcore/lessons/sweeps.py: deletion_fits): a random-
# intercept (or random-slope) model refitted with k = 1, ..., n of one group's rows kept, spread over its rows (rows
# round(seq(0, n - 1, length.out = k)) + 1, as mmcore.lessons.shrinkage.keep_spread). Each fit is the
# better of bobyqa and Nelder-Mead (R's best answer, not its default). Run from the project root:
#   Rscript scripts/references/deletion.R
# Writes tests/reference/deletion.json. R 4.2, lme4, jsonlite.
suppressMessages({library(lme4); library(jsonlite)})
ds <- function(f) read.csv(file.path("datasets", f), stringsAsFactors = FALSE)
best <- function(formula, data) {
  fits <- lapply(c("bobyqa", "Nelder_Mead"), function(o)
    suppressMessages(suppressWarnings(lmer(formula, data, control = lmerControl(optimizer = o)))))
  fits[[which.min(sapply(fits, deviance))]]
}
cases <- list(
  list(data = "sleepstudy", formula = "Reaction ~ Days + (1 | Subject)", group = "Subject", level = "308"),
  list(data = "sleepstudy", formula = "Reaction ~ Days + (1 | Subject)", group = "Subject", level = "335"),
  list(data = "dyestuff", formula = "Yield ~ 1 + (1 | Batch)", group = "Batch", level = "E"),
  list(data = "estrone", formula = "Estrone ~ 1 + (1 | Subject)", group = "Subject", level = "3"),
  # the random-slopes tab: from 2 days kept (an own line needs two)
  list(data = "sleepstudy", formula = "Reaction ~ Days + (Days | Subject)", group = "Subject", level = "335",
       first = 2))
out <- lapply(cases, function(case) {
  d <- ds(paste0(case$data, ".csv"))
  d[[case$group]] <- factor(d[[case$group]])
  rows <- which(as.character(d[[case$group]]) == case$level)
  first <- if (is.null(case$first)) 1 else case$first
  steps <- lapply(first:length(rows), function(k) {
    kept <- rows[unique(round(seq(0, length(rows) - 1, length.out = k))) + 1]
    drop <- setdiff(rows, kept)
    dk <- if (length(drop)) d[-drop, , drop = FALSE] else d
    m <- best(as.formula(case$formula), dk)
    vc <- as.data.frame(VarCorr(m))
    list(kept = k, sigma_b = vc$sdcor[1], sigma = sigma(m), deviance = deviance(m), sdcor = vc$sdcor,
         blup = ranef(m)[[case$group]][case$level, 1], ranef = unname(unlist(ranef(m)[[case$group]][case$level, ])),
         fixef = unname(fixef(m)))
  })
  c(case, list(steps = steps))
})
writeLines(toJSON(list(cases = out, versions = list(R = R.version.string, lme4 = as.character(packageVersion("lme4")))),
                  pretty = TRUE, auto_unbox = TRUE, digits = NA), "tests/reference/deletion.json")
