#!/usr/bin/env Rscript
# InstEval (lme4) as a shipped dataset, and lme4's optima of the crossed model the lesson and the
# scale benchmark use. R is only the tool that makes these files; neither the app nor its tests run R.
#
# Run from the repository root:   Rscript scripts/references/insteval.R
# Writes datasets/insteval.csv.gz and tests/reference/insteval.json.
suppressPackageStartupMessages({ library(lme4); library(jsonlite) })
data(InstEval)
d <- InstEval
out <- data.frame(s = as.character(d$s), d = as.character(d$d), studage = as.character(d$studage),
                  lectage = as.character(d$lectage), service = as.character(d$service),
                  dept = as.character(d$dept), y = d$y)
con <- gzfile("datasets/insteval.csv.gz", "w")
write.csv(out, con, row.names = FALSE, quote = FALSE)
close(con)
levels_of <- lapply(d[c("s", "d", "studage", "lectage", "service", "dept")], levels)
form <- y ~ service + (1 | s) + (1 | d) + (1 | dept:service)
fits <- list()
for (reml in c(TRUE, FALSE)) {
  t <- system.time(m <- lmer(form, d, REML = reml,
                             control = lmerControl(optimizer = "bobyqa",
                                                   optCtrl = list(rhobeg = 2e-3, rhoend = 1e-10, maxfun = 1e5))))
  fits[[if (reml) "REML" else "ML"]] <- list(
    criterion = if (reml) REMLcrit(m) else deviance(m), theta = unname(getME(m, "theta")),
    theta_names = names(getME(m, "theta")), beta = unname(fixef(m)), beta_names = names(fixef(m)),
    sigma = sigma(m), se = unname(sqrt(diag(as.matrix(vcov(m))))), seconds = t[["elapsed"]])
}
ref <- list(formula = "y ~ service + (1 | s) + (1 | d) + (1 | dept:service)", lme4 = as.character(packageVersion("lme4")),
            R = R.version.string, nobs = nrow(d), levels = levels_of, fits = fits)
writeLines(toJSON(ref, auto_unbox = TRUE, digits = NA, pretty = TRUE), "tests/reference/insteval.json")
cat("REML", sprintf("%.4f", fits$REML$criterion), "ML", sprintf("%.4f", fits$ML$criterion), "\n")
