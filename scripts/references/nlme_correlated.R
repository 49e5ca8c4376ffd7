# References for mmcore's correlated-errors engine: nlme::lme with corAR1 / corCAR1.
#
# Run from the repository root:  Rscript scripts/references/nlme_correlated.R
# Writes tests/reference/nlme_correlated.json and tests/reference/nlme_correlated_data.csv
# (the simulated designs; the real data are datasets/*.csv).
#
# Every model is fitted with both of lme's optimizers (lmeControl(opt = "nlminb"), the default,
# and opt = "optim", BFGS) and the fit with the higher log-likelihood is the reference; both
# log-likelihoods are kept so that the tests can say where one of nlme's optimizers stops short.
# R 4.2, nlme 3.1-162, jsonlite.
suppressPackageStartupMessages({library(nlme); library(jsonlite)})

read <- function(file, factors) {
  d <- read.csv(file.path("datasets", file), stringsAsFactors = FALSE)
  for (f in factors) d[[f]] <- factor(d[[f]])
  d
}
trees <- read("trees.csv", c("tree", "fert"))
ovary <- read("ovary.csv", "Mare")
bodyweight <- read("bodyweight.csv", c("Rat", "Diet"))
sleep <- read("sleepstudy.csv", "Subject")

# -- simulated designs (seeded) --------------------------------------------------------------
set.seed(20240519)
ar1_errors <- function(times, phi, sd) {  # corr phi^|t_i - t_j|, times sorted
  n <- length(times); e <- numeric(n); e[1] <- rnorm(1, 0, sd)
  if (n > 1) for (i in 2:n) {
    r <- phi^(times[i] - times[i - 1]); e[i] <- r * e[i - 1] + sqrt(1 - r^2) * rnorm(1, 0, sd)
  }
  e
}
designs <- list()
# gaps: 30 groups at whole-number times 1..10 with about a quarter of the rows missing (nlme's
# corAR1 then becomes corARMA(1, 0): correlation phi^|lag|), random intercept and slope
rows <- list()
for (g in 1:30) {
  t <- sort(sample(1:10, sample(6:9, 1)))
  b0 <- rnorm(1, 0, 1.5); b1 <- rnorm(1, 0, 0.3)
  y <- 10 + 0.5 * t + b0 + b1 * t + ar1_errors(t, 0.6, 1)
  rows[[g]] <- data.frame(design = "gaps", g = sprintf("G%02d", g), time = t, x = NA, trt = NA, y = y)
}
designs$gaps <- do.call(rbind, rows)
# continuous: 40 groups, 3-8 visits at continuous times in [0, 10], random intercept, a covariate
rows <- list()
for (g in 1:40) {
  t <- sort(round(runif(sample(3:8, 1), 0, 10), 3))
  x <- rnorm(length(t))
  y <- 5 + 0.8 * x - 0.2 * t + rnorm(1, 0, 1) + ar1_errors(t, 0.5, 0.8)
  rows[[g]] <- data.frame(design = "continuous", g = sprintf("G%02d", g), time = t, x = x, trt = NA, y = y)
}
designs$continuous <- do.call(rbind, rows)
# negative: 25 groups x 6, phi = -0.4, a two-level treatment within groups
rows <- list()
for (g in 1:25) {
  t <- 1:6; trt <- rep(c("a", "b"), 3)
  y <- 3 + 1.2 * (trt == "b") + rnorm(1, 0, 0.7) + ar1_errors(t, -0.4, 1)
  rows[[g]] <- data.frame(design = "negative", g = sprintf("G%02d", g), time = t, x = NA, trt = trt, y = y)
}
designs$negative <- do.call(rbind, rows)
# weak: 20 groups x 5, a tiny group variance and phi = 0.15 (near both boundaries)
rows <- list()
for (g in 1:20) {
  t <- 1:5
  y <- 2 + rnorm(1, 0, 0.05) + ar1_errors(t, 0.15, 1)
  rows[[g]] <- data.frame(design = "weak", g = sprintf("G%02d", g), time = t, x = NA, trt = NA, y = y)
}
designs$weak <- do.call(rbind, rows)
simdata <- do.call(rbind, designs)
simdata$y <- round(simdata$y, 6)
simdata$x <- round(simdata$x, 6)
write.csv(simdata, "tests/reference/nlme_correlated_data.csv", row.names = FALSE, na = "")
sim <- function(name) {
  d <- simdata[simdata$design == name, ]
  d$g <- factor(d$g); if (!all(is.na(d$trt))) d$trt <- factor(d$trt)
  d
}
gaps <- sim("gaps"); continuous <- sim("continuous"); negative <- sim("negative"); weak <- sim("weak")

# -- the models ------------------------------------------------------------------------------
# id, data name, our formula, correlation, time column (NULL = position), nlme's fixed, random, cor
M <- function(id, data, formula, correlation, time, fixed, random, cor, reml)
  list(id = id, data = data, formula = formula, correlation = correlation, time = time,
       fixed = fixed, random = random, cor = cor, reml = reml)
models <- list()
add <- function(...) { for (reml in c(TRUE, FALSE)) { m <- M(..., reml = reml); m$id <- paste0(m$id, if (reml) "_reml" else "_ml"); models[[length(models) + 1]] <<- m } }
add("ovary_diag_ar1", "ovary", "follicles ~ s + c + (s || Mare)", "ar1", "obs",
    "follicles ~ s + c", "list(Mare = pdDiag(~ s))", "corAR1(form = ~ obs | Mare)")
add("ovary_int_ar1", "ovary", "follicles ~ s + c + (1 | Mare)", "ar1", NA,
    "follicles ~ s + c", "~ 1 | Mare", "corAR1()")
add("ovary_int_car1", "ovary", "follicles ~ s + c + (1 | Mare)", "car1", "Time",
    "follicles ~ s + c", "~ 1 | Mare", "corCAR1(form = ~ Time | Mare)")
add("bodyweight_slope_car1", "bodyweight", "weight ~ Time * Diet + (Time | Rat)", "car1", "Time",
    "weight ~ Time * Diet", "~ Time | Rat", "corCAR1(form = ~ Time | Rat)")
add("bodyweight_int_car1", "bodyweight", "weight ~ Time * Diet + (1 | Rat)", "car1", "Time",
    "weight ~ Time * Diet", "~ 1 | Rat", "corCAR1(form = ~ Time | Rat)")
add("bodyweight_slope_ar1", "bodyweight", "weight ~ Time * Diet + (Time | Rat)", "ar1", NA,
    "weight ~ Time * Diet", "~ Time | Rat", "corAR1()")
add("trees_slope_ar1", "trees", "height ~ 0 + year:fert + (0 + year | tree)", "ar1", "year",
    "height ~ 0 + year:fert", "~ 0 + year | tree", "corAR1(form = ~ year | tree)")
add("trees_slope_car1", "trees", "height ~ 0 + year:fert + (0 + year | tree)", "car1", "year",
    "height ~ 0 + year:fert", "~ 0 + year | tree", "corCAR1(form = ~ year | tree)")
add("sleep_slope_ar1", "sleep", "Reaction ~ Days + (Days | Subject)", "ar1", "Days",
    "Reaction ~ Days", "~ Days | Subject", "corAR1(form = ~ Days | Subject)")
add("gaps_slope_ar1", "gaps", "y ~ time + (time | g)", "ar1", "time",
    "y ~ time", "~ time | g", "corAR1(form = ~ time | g)")
add("gaps_slope_car1", "gaps", "y ~ time + (time | g)", "car1", "time",
    "y ~ time", "~ time | g", "corCAR1(form = ~ time | g)")
add("continuous_int_car1", "continuous", "y ~ x + time + (1 | g)", "car1", "time",
    "y ~ x + time", "~ 1 | g", "corCAR1(form = ~ time | g)")
add("negative_int_ar1", "negative", "y ~ trt + (1 | g)", "ar1", NA,
    "y ~ trt", "~ 1 | g", "corAR1()")
add("weak_int_ar1", "weak", "y ~ 1 + (1 | g)", "ar1", "time",
    "y ~ 1", "~ 1 | g", "corAR1(form = ~ time | g)")

fit_one <- function(m, opt) {
  data <- get(m$data)
  ctrl <- lmeControl(opt = opt, maxIter = 500, msMaxIter = 500, niterEM = 100, msMaxEval = 2000,
                     returnObject = TRUE)
  warn <- NULL
  f <- withCallingHandlers(
    tryCatch(eval(parse(text = sprintf(
      "lme(%s, data = data, random = %s, correlation = %s, method = '%s', control = ctrl)",
      m$fixed, m$random, m$cor, if (m$reml) "REML" else "ML"))), error = function(e) e),
    warning = function(w) { warn <<- c(warn, conditionMessage(w)); invokeRestart("muffleWarning") })
  list(fit = f, warning = warn)
}

summarise <- function(f) {
  vc <- VarCorr(f)
  sds <- suppressWarnings(as.numeric(vc[, "StdDev"]))
  sds <- sds[-length(sds)]  # the residual is `sigma`
  corr <- if ("Corr" %in% colnames(vc)) suppressWarnings(as.numeric(vc[, "Corr"])) else numeric(0)
  corr <- corr[!is.na(corr)]
  re <- ranef(f)
  list(loglik = as.numeric(logLik(f)), aic = AIC(f), bic = BIC(f), sigma = f$sigma,
       phi = unname(coef(f$modelStruct$corStruct, unconstrained = FALSE)),
       fixef = as.list(fixef(f)), se = as.list(sqrt(diag(vcov(f)))), df = as.list(f$fixDF$X),
       random_sd = sds, random_cor = corr,
       ranef = list(levels = rownames(re), columns = colnames(re), values = unname(as.matrix(re))),
       acf_normalized = ACF(f, resType = "normalized")$ACF,
       acf_pearson = ACF(f, resType = "pearson")$ACF)
}

out <- list()
for (m in models) {
  a <- fit_one(m, "nlminb"); b <- fit_one(m, "optim")
  ll <- function(x) if (inherits(x$fit, "lme")) as.numeric(logLik(x$fit)) else -Inf
  brief <- function(x) if (inherits(x$fit, "lme")) list(
      loglik = ll(x), phi = unname(coef(x$fit$modelStruct$corStruct, unconstrained = FALSE)),
      fixef = as.list(fixef(x$fit)), se = as.list(sqrt(diag(vcov(x$fit))))) else
    list(error = conditionMessage(x$fit))
  best <- if (ll(a) >= ll(b)) a else b
  cat(sprintf("%-28s nlminb %.6f  optim %.6f\n", m$id, ll(a), ll(b)))
  out[[m$id]] <- c(m[c("id", "data", "formula", "correlation", "time", "reml")],
                   list(nlme = sprintf("lme(%s, random = %s, correlation = %s, method = '%s')",
                                       m$fixed, m$random, m$cor, if (m$reml) "REML" else "ML"),
                        loglik_nlminb = ll(a), loglik_optim = ll(b),
                        best = if (ll(a) >= ll(b)) "nlminb" else "optim",
                        warnings = c(a$warning, b$warning),
                        optimizers = list(nlminb = brief(a), optim = brief(b))),
                   summarise(best$fit))
}

# anova between the model with and without the correlation (nlme's anova.lme)
comparisons <- list()
cmp <- function(id, data, fixed, random, cor, reml) {
  d <- get(data)
  meth <- if (reml) "REML" else "ML"
  m0 <- eval(parse(text = sprintf("lme(%s, data = d, random = %s, method = '%s')", fixed, random, meth)))
  m1 <- eval(parse(text = sprintf("lme(%s, data = d, random = %s, correlation = %s, method = '%s')",
                                  fixed, random, cor, meth)))
  a <- anova(m0, m1)
  comparisons[[id]] <<- list(id = id, df = a$df, AIC = a$AIC, BIC = a$BIC, logLik = a$logLik,
                             L.Ratio = a$L.Ratio[2], p = a$`p-value`[2])
}
cmp("trees_reml", "trees", "height ~ 0 + year:fert", "~ 0 + year | tree", "corAR1(form = ~ year | tree)", TRUE)
cmp("trees_ml", "trees", "height ~ 0 + year:fert", "~ 0 + year | tree", "corAR1(form = ~ year | tree)", FALSE)
cmp("ovary_reml", "ovary", "follicles ~ s + c", "list(Mare = pdDiag(~ s))", "corAR1(form = ~ obs | Mare)", TRUE)
cmp("bodyweight_reml", "bodyweight", "weight ~ Time * Diet", "~ Time | Rat", "corCAR1(form = ~ Time | Rat)", TRUE)

res <- list(versions = list(R = R.version.string, nlme = as.character(packageVersion("nlme"))),
            fits = unname(out), anova = unname(comparisons))
writeLines(toJSON(res, auto_unbox = TRUE, digits = NA, null = "null", na = "null", pretty = TRUE),
           "tests/reference/nlme_correlated.json")
