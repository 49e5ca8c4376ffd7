# Reference results for the GLMM engine (mmcore/glmm): lme4's glmer, MASS's glmmPQL, glm and
# geepack's GEE, on the shipped data and on designs simulated here (seeded; written beside the JSON).
#
#   Rscript scripts/references/glmm_references.R     (from the project root; about a minute)
#
# Writes tests/reference/glmm_reference.json and tests/reference/glmm_sim_*.csv. R 4.2, lme4 1.1-31.
#
# Every glmer fit is the best (highest log-likelihood) of several optimizers, run with a tight PIRLS
# tolerance (tolPwrss = 1e-10): with lme4's default 1e-7 the objective itself is off by up to 1e-3
# (PIRLS stops early), and the finite-difference Hessian behind vcov() inherits that (cbpp's SEs move
# by 1.3%). The default optimizer's log-likelihood, at the default tolerance, is kept beside it.
# At nAGQ > 1 lme4 leaves the saturated model's log-likelihood out of logLik; `loglik_full` adds it.
suppressMessages({library(lme4); library(jsonlite); library(MASS); library(geepack)})

out_dir <- "tests/reference"
OPTIMIZERS <- list(bobyqa = "bobyqa", Nelder_Mead = "Nelder_Mead", nloptwrap = "nloptwrap",
                   nlminbwrap = "nlminbwrap")

read_data <- function(name) {
  d <- read.csv(file.path("datasets", paste0(name, ".csv")))
  if (name == "ctsib") { d$stable <- as.integer(d$CTSIB == 1); d$Subject <- factor(d$Subject) }
  if (name == "cbpp") { d$herd <- factor(d$herd); d$period <- factor(d$period) }
  if (name == "grouseticks") for (v in c("INDEX", "BROOD", "LOCATION", "YEAR")) d[[v]] <- factor(d[[v]])
  d
}

saturated <- function(m) {  # log-likelihood of the saturated model (mu = y), as mmcore adds it
  y <- m@resp$y; w <- m@resp$weights; fam <- family(m)$family
  if (fam == "poisson") return(sum(w * dpois(y, y, log = TRUE)))
  sum(dbinom(round(w * y), round(w), y, log = TRUE))
}

describe <- function(m, id, data_name, nagq, extra = list()) {
  re <- as.data.frame(ranef(m, condVar = TRUE))
  vc <- as.data.frame(VarCorr(m))
  ll <- as.numeric(logLik(m))
  c(list(
    id = id, data = data_name, formula = paste(deparse(formula(m), width.cutoff = 500), collapse = ""),
    family = family(m)$family, link = family(m)$link, nAGQ = nagq,
    fixef = as.list(fixef(m)), se = as.list(sqrt(diag(as.matrix(vcov(m))))),
    theta = unname(getME(m, "theta")),
    varcorr = lapply(seq_len(nrow(vc)), function(i) list(grp = vc$grp[i], var1 = if (is.na(vc$var1[i])) NULL else vc$var1[i],
                                                         var2 = if (is.na(vc$var2[i])) NULL else vc$var2[i],
                                                         vcov = vc$vcov[i], sdcor = vc$sdcor[i])),
    loglik = ll, loglik_full = if (nagq > 1) ll + saturated(m) else ll,
    deviance = deviance(m), aic = AIC(m), bic = BIC(m), nobs = nobs(m), singular = isSingular(m),
    ranef = lapply(seq_len(nrow(re)), function(i) list(group = as.character(re$grpvar[i]), term = as.character(re$term[i]),
                                                       level = as.character(re$grp[i]), mode = re$condval[i],
                                                       condsd = re$condsd[i]))
  ), extra)
}

best_fit <- function(id, formula, data_name, family, nagq = 1, link = NULL) {
  d <- read_data_any(data_name)
  fam <- if (is.null(link)) get(family)() else get(family)(link = link)
  quiet <- function(expr) tryCatch(suppressWarnings(suppressMessages(expr)), error = function(e) NULL)
  default <- quiet(glmer(formula, d, fam, nAGQ = nagq))
  fits <- list(default = default)
  start <- if (is.null(default)) NULL else
    if (nagq > 0) list(theta = getME(default, "theta"), fixef = fixef(default)) else list(theta = getME(default, "theta"))
  for (name in names(OPTIMIZERS)) {  # each optimizer from lme4's start, and from the default's answer
    opt <- OPTIMIZERS[[name]]
    ctrl <- glmerControl(optimizer = c(opt, opt), tolPwrss = 1e-10)
    fits[[name]] <- quiet(glmer(formula, d, fam, nAGQ = nagq, control = ctrl))
    if (!is.null(start)) fits[[paste0(name, "_restart")]] <- quiet(glmer(formula, d, fam, nAGQ = nagq, control = ctrl, start = start))
  }
  fits <- Filter(Negate(is.null), fits)
  lls <- sapply(fits, function(m) as.numeric(logLik(m)))
  best <- fits[[which.max(lls)]]
  t <- system.time(for (i in 1:3) suppressWarnings(suppressMessages(glmer(formula, d, fam, nAGQ = nagq))))[["elapsed"]] / 3
  cat(sprintf("%-28s best %-12s logLik %.6f (default %.6f)  %.2f s\n", id, names(fits)[which.max(lls)],
              max(lls), as.numeric(logLik(default)), t))
  describe(best, id, data_name, nagq, list(optimizer = names(fits)[which.max(lls)], loglik_by_optimizer = as.list(lls),
                                          default_loglik = as.numeric(logLik(default)),
                                          default_se = as.list(sqrt(diag(as.matrix(vcov(default))))),
                                          glmer_seconds = t))
}

# -- simulated designs (seeded), written as CSV beside the JSON -----------------------------------
simulated <- list()
set.seed(20240518)
local({
  ns <- 40; ni <- 24  # binary, crossed subjects x items
  d <- expand.grid(subject = factor(1:ns), item = factor(1:ni))
  d$x <- rnorm(nrow(d))
  eta <- -0.5 + 0.8 * d$x + rnorm(ns)[d$subject] + rnorm(ni, sd = 0.7)[d$item]
  d$y <- rbinom(nrow(d), 1, plogis(eta))
  simulated$crossed <<- d
  ng <- 30; nj <- 12  # Poisson counts, correlated random slopes
  d <- data.frame(g = factor(rep(1:ng, each = nj)), x = rep(seq(0, 1, length.out = nj), ng))
  S <- matrix(c(0.25, 0.3 * 0.5 * 0.4, 0.3 * 0.5 * 0.4, 0.16), 2)
  b <- MASS::mvrnorm(ng, c(0, 0), S)
  d$y <- rpois(nrow(d), exp(1 + 0.5 * d$x + b[d$g, 1] + b[d$g, 2] * d$x))
  simulated$slopes <<- d
  d <- expand.grid(pupil = 1:8, class = factor(letters[1:4]), school = factor(1:12))  # binary, nested
  d$x <- rnorm(nrow(d))
  cl <- interaction(d$school, d$class)
  d$y <- rbinom(nrow(d), 1, plogis(0.3 + 0.6 * d$x + rnorm(12, sd = 0.8)[d$school] + rnorm(48, sd = 0.5)[cl]))
  d$pupil <- NULL
  simulated$nested <<- d
  d <- data.frame(g = factor(rep(1:20, each = 5)), x = rnorm(100))  # binomial counts, no group variance
  d$n <- sample(5:15, 100, replace = TRUE)
  d$k <- rbinom(100, d$n, plogis(-0.3 + 0.5 * d$x))
  simulated$singular <<- d
  d <- data.frame(g = factor(rep(1:25, each = 10)), x = rnorm(250))  # probit
  d$y <- rbinom(250, 1, pnorm(0.2 + 0.7 * d$x + rnorm(25, sd = 1.2)[d$g]))
  simulated$probit <<- d
})
for (name in names(simulated)) write.csv(simulated[[name]], file.path(out_dir, paste0("glmm_sim_", name, ".csv")), row.names = FALSE)
read_data_any <- function(name) {
  if (startsWith(name, "glmm_sim_")) {
    d <- read.csv(file.path(out_dir, paste0(name, ".csv")))
    for (v in intersect(names(d), c("subject", "item", "g", "school", "class"))) d[[v]] <- factor(d[[v]])
    return(d)
  }
  read_data(name)
}

ctsib_f <- stable ~ Sex + Age + Height + Weight + Surface + Vision + (1 | Subject)
fits <- list(
  best_fit("ctsib_laplace", ctsib_f, "ctsib", "binomial"),
  best_fit("ctsib_nagq0", ctsib_f, "ctsib", "binomial", 0),
  best_fit("ctsib_agq2", ctsib_f, "ctsib", "binomial", 2),
  best_fit("ctsib_agq5", ctsib_f, "ctsib", "binomial", 5),
  best_fit("ctsib_agq10", ctsib_f, "ctsib", "binomial", 10),
  best_fit("ctsib_agq25", ctsib_f, "ctsib", "binomial", 25),
  best_fit("ctsib_probit", ctsib_f, "ctsib", "binomial", 1, "probit"),
  best_fit("ctsib_surface_vision", stable ~ Surface * Vision + (1 | Subject), "ctsib", "binomial"),
  best_fit("ctsib_slopes", stable ~ Surface + Vision + (Surface | Subject), "ctsib", "binomial"),
  best_fit("cbpp_laplace", cbind(incidence, size - incidence) ~ period + (1 | herd), "cbpp", "binomial"),
  best_fit("cbpp_agq25", cbind(incidence, size - incidence) ~ period + (1 | herd), "cbpp", "binomial", 25),
  best_fit("cbpp_null", cbind(incidence, size - incidence) ~ 1 + (1 | herd), "cbpp", "binomial"),
  best_fit("grouseticks_laplace", TICKS ~ YEAR + cHEIGHT + (1 | BROOD) + (1 | INDEX) + (1 | LOCATION), "grouseticks", "poisson"),
  best_fit("grouseticks_no_olre", TICKS ~ YEAR + cHEIGHT + (1 | BROOD) + (1 | LOCATION), "grouseticks", "poisson"),
  best_fit("sim_crossed", y ~ x + (1 | subject) + (1 | item), "glmm_sim_crossed", "binomial"),
  best_fit("sim_slopes", y ~ x + (x | g), "glmm_sim_slopes", "poisson"),
  best_fit("sim_slopes_uncorrelated", y ~ x + (x || g), "glmm_sim_slopes", "poisson"),
  best_fit("sim_slopes_agq10", y ~ x + (1 | g), "glmm_sim_slopes", "poisson", 10),
  best_fit("sim_slope_only_agq25", y ~ x + (0 + x | g), "glmm_sim_slopes", "poisson", 25),
  best_fit("sim_nested", y ~ x + (1 | school/class), "glmm_sim_nested", "binomial"),
  best_fit("sim_singular", cbind(k, n - k) ~ x + (1 | g), "glmm_sim_singular", "binomial"),
  best_fit("sim_probit", y ~ x + (1 | g), "glmm_sim_probit", "binomial", 1, "probit")
)
names(fits) <- sapply(fits, `[[`, "id")

# likelihood-ratio tests as lme4's anova() computes them (Chisq = 2 (logLik1 - logLik0), Df the difference in
# the number of parameters), between the best fits above: on ctsib, anova() on glmer's default fits would
# test a model that stopped short (its logLik -114.79 against the best -114.70)
lrt <- function(id, f0, f1) {
  chisq <- 2 * (f1$loglik - f0$loglik)
  df <- (length(f1$fixef) + length(f1$theta)) - (length(f0$fixef) + length(f0$theta))
  list(id = id, data = f1$data, formula0 = f0$formula, formula1 = f1$formula, family = f1$family,
       chisq = chisq, df = df, p = pchisq(chisq, df, lower.tail = FALSE), loglik0 = f0$loglik, loglik1 = f1$loglik,
       aic = c(f0$aic, f1$aic), bic = c(f0$bic, f1$bic))
}
ctsib_no_sex <- best_fit("ctsib_no_sex", stable ~ Age + Height + Weight + Surface + Vision + (1 | Subject), "ctsib", "binomial")
lrts <- list(
  lrt("cbpp_period", fits$cbpp_null, fits$cbpp_laplace),
  lrt("ctsib_sex", ctsib_no_sex, fits$ctsib_laplace),
  lrt("grouseticks_olre", fits$grouseticks_no_olre, fits$grouseticks_laplace)
)

# MASS::glmmPQL (lme by ML in each iteration). SEs as vcov() gives them, the lecture notes' table; summary()'s
# tTable inflates them by sqrt(N / (N - p)) for ML fits (nlme's small-sample adjustment)
pql <- function(id, fixed, random, data_name, family) {
  d <- read_data_any(data_name)
  m <- glmmPQL(fixed, random = random, family = get(family)(), data = d, verbose = FALSE)
  vc <- nlme::VarCorr(m)
  list(id = id, data = data_name, fixed = deparse(fixed, width.cutoff = 500), random = deparse(random), family = family,
       fixef = as.list(nlme::fixef(m)), se = as.list(sqrt(diag(vcov(m)))),
       sd_random = as.numeric(vc[1, "StdDev"]), sd_residual = m$sigma)
}
pqls <- list(
  pql("ctsib_pql", stable ~ Sex + Age + Height + Weight + Surface + Vision, ~ 1 | Subject, "ctsib", "binomial"),
  pql("cbpp_pql", cbind(incidence, size - incidence) ~ period, ~ 1 | herd, "cbpp", "binomial"),
  pql("sim_probit_pql", y ~ x, ~ 1 | g, "glmm_sim_probit", "binomial")
)

# marginal fits: glm ignoring the groups, and GEE with an exchangeable working correlation
d <- read_data("ctsib")
g <- glm(stable ~ Sex + Age + Height + Weight + Surface + Vision, binomial, d)
ge <- geeglm(stable ~ Sex + Age + Height + Weight + Surface + Vision, binomial, d, id = Subject, corstr = "exchangeable")
marginal <- list(
  glm = list(formula = "stable ~ Sex + Age + Height + Weight + Surface + Vision", fixef = as.list(coef(g)),
             se = as.list(sqrt(diag(vcov(g)))), loglik = as.numeric(logLik(g))),
  gee = list(formula = "stable ~ Sex + Age + Height + Weight + Surface + Vision", id = "Subject", corstr = "exchangeable",
             fixef = as.list(coef(ge)), se = as.list(summary(ge)$coefficients[, "Std.err"]),
             alpha = as.numeric(summary(ge)$corr$Estimate))
)

versions <- list(R = R.version.string, lme4 = as.character(packageVersion("lme4")),
                 MASS = as.character(packageVersion("MASS")), nlme = as.character(packageVersion("nlme")),
                 geepack = as.character(packageVersion("geepack")))
write(toJSON(list(versions = versions, fits = unname(fits), lrt = lrts, pql = pqls, marginal = marginal),
             auto_unbox = TRUE, digits = NA, null = "null", pretty = TRUE),
      file.path(out_dir, "glmm_reference.json"))
cat("wrote", file.path(out_dir, "glmm_reference.json"), "\n")
