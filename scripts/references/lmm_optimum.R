#!/usr/bin/env Rscript
# Reference optima of linear mixed models from R's lme4, for mmcore's test-suite.
#
# R is only the tool that makes these references: neither the app nor its tests run R.
#
# Run from the repository root:
#     Rscript scripts/references/lmm_optimum.R
# Writes (and overwrites) tests/reference/optimum/:
#     designs.csv.gz      seeded random designs (column `ds` names the design)
#     real/*.csv          real data sets exported from R packages (one CSV each)
#     lme4_optimum.json   one entry per fit: criterion reached by each optimizer, the best
#                         optimum found, and the estimates at that optimum
#     README.md           what is in these files, versions, and a summary of the optimizers
#
# Environment: MMREF_NDESIGNS (default 250) sets how many random designs are drawn (each is
# fitted by REML and by ML); a smaller number is only for trying the script out.
#
# Everything is deterministic: the designs come from a fixed seed and fixed RNG kinds, and
# the optimizers are deterministic.

t_start <- Sys.time()
suppressPackageStartupMessages({
  library(lme4)
  library(jsonlite)
})
if (!file.exists("mmcore") || !file.exists("scripts/references")) {
  stop("run this script from the repository root (the folder holding mmcore/)")
}
has_optimx <- suppressWarnings(requireNamespace("optimx", quietly = TRUE))
if (has_optimx) suppressPackageStartupMessages(library(optimx))
pkg_ok <- function(p) suppressWarnings(requireNamespace(p, quietly = TRUE))

OUT <- "tests/reference/optimum"
REAL <- file.path(OUT, "real")
dir.create(REAL, recursive = TRUE, showWarnings = FALSE)
unlink(list.files(REAL, full.names = TRUE))

N_DESIGNS <- as.integer(Sys.getenv("MMREF_NDESIGNS", "250"))
SING_TOL <- 1e-4

# ---------------------------------------------------------------------------------------------
# Numbers as text: the shortest of 15, 16, 17 significant digits that reads back as the same
# double (17 always does), so the CSVs and the JSON carry the exact values R used.
fmt_num <- function(x) {
  out <- rep("null", length(x))
  ok <- !is.na(x) & is.finite(x)
  v <- x[ok]
  s <- sprintf("%.15g", v)
  for (d in c(16, 17)) {
    bad <- as.numeric(s) != v
    if (!any(bad)) break
    s[bad] <- sprintf(paste0("%.", d, "g"), v[bad])
  }
  out[ok] <- s
  out
}
jraw <- function(s) structure(s, class = "json")
j_num <- function(x) jraw(if (length(x) == 0 || is.null(x)) "null" else fmt_num(x[[1]]))
j_arr <- function(x) jraw(paste0("[", paste(fmt_num(as.numeric(x)), collapse = ","), "]"))
j_str <- function(s) as.character(toJSON(s, auto_unbox = TRUE))
j_obj <- function(x) {  # named numeric vector -> JSON object, in order
  if (length(x) == 0) return(jraw("{}"))
  jraw(paste0("{", paste0(vapply(names(x), j_str, ""), ":", fmt_num(as.numeric(x)),
                          collapse = ","), "}"))
}

# pandas reads these labels as missing values by default: no factor label may be one of them.
PANDAS_NA <- c("", "#N/A", "#N/A N/A", "#NA", "-1.#IND", "-1.#QNAN", "-NaN", "-nan", "1.#IND",
               "1.#QNAN", "<NA>", "N/A", "NA", "NULL", "NaN", "None", "n/a", "nan", "null")

# Levels in the order the Python side gives them (sorted text, by code point), so that the
# baseline level of every treatment contrast is the same on both sides.
as_factor_sorted <- function(x) {
  x <- as.character(x)
  factor(x, levels = sort(unique(x), method = "radix"))
}

# Data frame -> text columns for the CSV; factors become their labels.
to_text_frame <- function(df) {
  out <- lapply(df, function(col) {
    if (is.numeric(col)) fmt_num(col) else as.character(col)
  })
  as.data.frame(out, stringsAsFactors = FALSE, check.names = FALSE)
}
write_frame <- function(df, path) {
  txt <- to_text_frame(df)
  quote_cols <- which(!vapply(df, is.numeric, TRUE))
  con <- if (grepl("\\.gz$", path)) gzfile(path, "w", compression = 9) else file(path, "w")
  write.csv(txt, con, row.names = FALSE, quote = if (length(quote_cols)) quote_cols else FALSE,
            na = "")
  close(con)
  # Read back: the numbers must come back exactly, the labels unchanged.
  back <- read.csv(path, stringsAsFactors = FALSE, check.names = FALSE,
                   colClasses = ifelse(vapply(df, is.numeric, TRUE), "numeric", "character"))
  stopifnot(identical(names(back), names(df)), nrow(back) == nrow(df))
  for (nm in names(df)) {
    if (is.numeric(df[[nm]])) {
      if (!identical(as.numeric(back[[nm]]), as.numeric(df[[nm]])))
        stop("numbers of column ", nm, " of ", path, " do not read back exactly")
    } else if (!identical(back[[nm]], as.character(df[[nm]]))) {
      stop("labels of column ", nm, " of ", path, " do not read back unchanged")
    }
  }
  invisible(path)
}

# The frame lme4 fits: numbers as they are, every text column a factor with sorted levels,
# every grouping variable a factor (numeric grouping columns too, as the Python side does).
model_frame_for <- function(df, formulas) {
  gvars <- unique(unlist(lapply(formulas, function(f) {
    unlist(lapply(findbars(as.formula(f)), function(b) all.vars(b[[3]])))
  })))
  for (nm in names(df)) {
    if (!is.numeric(df[[nm]]) || nm %in% gvars) df[[nm]] <- as_factor_sorted(df[[nm]])
  }
  df
}

# Checks that a formula is in the Python grammar's reach for this frame: its variables exist,
# fixed-effect factors have labels that pandas keeps as text.
check_formula <- function(f, df) {
  ff <- as.formula(f)
  vars <- all.vars(ff)
  miss <- setdiff(vars, names(df))
  if (length(miss)) stop("formula ", f, ": no column ", paste(miss, collapse = ", "))
  fixed_vars <- all.vars(nobars(ff)[[3]])
  for (v in fixed_vars) {
    if (is.factor(df[[v]]) || is.character(df[[v]])) {
      lab <- unique(as.character(df[[v]]))
      if (all(!is.na(suppressWarnings(as.numeric(lab)))))
        stop("formula ", f, ": fixed factor ", v, " has numeric-looking labels")
    }
  }
  for (v in vars) {
    if (!is.numeric(df[[v]])) {
      lab <- unique(as.character(df[[v]]))
      if (any(lab %in% PANDAS_NA)) stop("column ", v, " has a label pandas reads as missing")
    }
    if (anyNA(df[[v]])) stop("column ", v, " has missing values")
  }
  invisible(TRUE)
}

# ---------------------------------------------------------------------------------------------
# Optimizers. The default is lmerControl() itself (nloptwrap, with lme4's checks and
# derivatives); the others skip the finite-difference derivatives, which only feed the
# convergence check.
OPTIMIZERS <- c("nloptwrap", "bobyqa", "Nelder_Mead", "nlminbwrap",
                if (has_optimx) "optimx_LBFGSB")
ctrl_for <- function(o) switch(o,
  nloptwrap = lmerControl(),
  bobyqa = lmerControl(optimizer = "bobyqa", calc.derivs = FALSE),
  Nelder_Mead = lmerControl(optimizer = "Nelder_Mead", calc.derivs = FALSE),
  nlminbwrap = lmerControl(optimizer = "nlminbwrap", calc.derivs = FALSE),
  optimx_LBFGSB = lmerControl(optimizer = "optimx", optCtrl = list(method = "L-BFGS-B"),
                              calc.derivs = FALSE))
# Polishing runs, started at the best theta found by the five above.
POLISHERS <- c("bobyqa_polish", "nloptwrap_polish")
polish_ctrl <- function(o) switch(o,
  bobyqa_polish = lmerControl(optimizer = "bobyqa", calc.derivs = FALSE,
                              optCtrl = list(rhobeg = 1e-3, rhoend = 1e-11, maxfun = 1e5)),
  nloptwrap_polish = lmerControl(optimizer = "nloptwrap", calc.derivs = FALSE,
                                 optCtrl = list(xtol_abs = 1e-12, ftol_abs = 1e-14,
                                                ftol_rel = 1e-15, xtol_rel = 1e-12,
                                                maxeval = 1e5)))

run_lmer <- function(form, data, REML, control, start = NULL) {
  msgs <- character()
  fit <- withCallingHandlers(
    tryCatch(lmer(as.formula(form), data = data, REML = REML, control = control, start = start),
             error = function(e) {
               msgs <<- c(msgs, paste0("error: ", conditionMessage(e)))
               NULL
             }),
    warning = function(w) {
      msgs <<- c(msgs, conditionMessage(w))
      invokeRestart("muffleWarning")
    },
    message = function(m) {
      msgs <<- c(msgs, sub("\n+$", "", conditionMessage(m)))
      invokeRestart("muffleMessage")
    })
  if (!is.null(fit)) msgs <- c(msgs, unlist(fit@optinfo$conv$lme4$messages))
  list(fit = fit, msgs = unique(msgs))
}
criterion <- function(fit) {
  cmp <- fit@devcomp$cmp
  unname(if (isREML(fit)) cmp[["REML"]] else cmp[["dev"]])
}

# extra_starts: named list of theta vectors; from each, both polishers run and the better is
# recorded under that name.
fit_entry <- function(id, source, data_ref, form, df, REML, extra = list(), extra_starts = list()) {
  runs <- list()
  for (o in OPTIMIZERS) runs[[o]] <- run_lmer(form, df, REML, ctrl_for(o))
  crit <- vapply(runs, function(r) if (is.null(r$fit)) NA_real_ else criterion(r$fit), 0)
  if (all(is.na(crit))) {
    return(list(refused = TRUE, id = id, formula = form, msgs = runs[[1]]$msgs))
  }
  best0 <- names(crit)[which.min(crit)]
  theta0 <- getME(runs[[best0]]$fit, "theta")
  for (o in POLISHERS) {
    runs[[o]] <- run_lmer(form, df, REML, polish_ctrl(o), start = unname(theta0))
    crit[[o]] <- if (is.null(runs[[o]]$fit)) NA_real_ else criterion(runs[[o]]$fit)
  }
  for (nm in names(extra_starts)) {
    rr <- lapply(POLISHERS, function(o) run_lmer(form, df, REML, polish_ctrl(o),
                                                 start = unname(extra_starts[[nm]])))
    cc <- vapply(rr, function(r) if (is.null(r$fit)) NA_real_ else criterion(r$fit), 0)
    runs[[nm]] <- if (all(is.na(cc))) rr[[1]] else rr[[which.min(cc)]]
    crit[[nm]] <- if (all(is.na(cc))) NA_real_ else min(cc, na.rm = TRUE)
  }
  best_opt <- names(crit)[which.min(crit)]  # ties: the first in the order above
  fit <- runs[[best_opt]]$fit
  vc <- as.data.frame(VarCorr(fit))
  varcorr <- lapply(seq_len(nrow(vc)), function(i) list(
    grp = vc$grp[i], var1 = if (is.na(vc$var1[i])) NULL else vc$var1[i],
    var2 = if (is.na(vc$var2[i])) NULL else vc$var2[i],
    vcov = j_num(vc$vcov[i]), sdcor = j_num(vc$sdcor[i])))
  varcorr <- lapply(varcorr, function(r) {
    if (is.null(r$var1)) r["var1"] <- list(NULL)
    if (is.null(r$var2)) r["var2"] <- list(NULL)
    r[c("grp", "var1", "var2", "vcov", "sdcor")]
  })
  thetas <- lapply(runs, function(r) if (is.null(r$fit)) jraw("null") else j_arr(getME(r$fit, "theta")))
  fevals <- lapply(runs, function(r) if (is.null(r$fit)) jraw("null") else j_num(r$fit@optinfo$feval))
  crit_json <- lapply(as.list(crit), j_num)
  lower <- getME(fit, "lower")
  entry <- c(list(
    id = id, source = source, data = data_ref, formula = form, REML = REML,
    n = nobs(fit),
    ngroups = as.list(ngrps(fit)),
    criterion = crit_json,
    default = j_num(crit[["nloptwrap"]]),
    best = j_num(min(crit, na.rm = TRUE)),
    best_optimizer = best_opt,
    theta_names = names(getME(fit, "theta")),
    best_theta = j_arr(getME(fit, "theta")),
    best_fixef = j_obj(fixef(fit)),
    best_se = j_obj(setNames(sqrt(diag(as.matrix(vcov(fit)))), names(fixef(fit)))),
    best_sigma = j_num(sigma(fit)),
    best_varcorr = varcorr,
    best_loglik = j_num(as.numeric(logLik(fit))),
    singular = isSingular(fit, tol = SING_TOL),
    lower = j_arr(lower),
    messages = as.list(runs[["nloptwrap"]]$msgs),
    thetas = thetas,
    fevals = fevals),
    extra)
  if (length(entry$messages) == 0) entry$messages <- I(list())
  if (length(entry$theta_names) == 1) entry$theta_names <- I(entry$theta_names)
  attr(entry, "crit") <- crit
  entry
}

entries <- list()
refused <- list()
add_entry <- function(e) {
  if (isTRUE(e$refused)) {
    refused[[length(refused) + 1]] <<- e
    cat(sprintf("  REFUSED %s: %s\n", e$id, paste(e$msgs, collapse = " | ")))
  } else {
    entries[[length(entries) + 1]] <<- e
  }
}

# ---------------------------------------------------------------------------------------------
# Real data sets
getdata <- function(name, pkg) {
  e <- new.env()
  utils::data(list = name, package = pkg, envir = e)
  d <- get(name, envir = e)
  d <- as.data.frame(d, stringsAsFactors = FALSE)
  attr(d, "formula") <- NULL
  for (nm in names(d)) {
    col <- d[[nm]]
    if (is.factor(col)) d[[nm]] <- trimws(as.character(col))
    else if (is.numeric(col)) d[[nm]] <- as.numeric(unclass(col))  # drop names / classes
    attributes(d[[nm]]) <- NULL
  }
  d
}
relabel <- function(x, prefix) paste0(prefix, trimws(as.character(x)))

REAL_SETS <- list()   # file -> list(source, df, formulas, note)
# ml: which formulas are also fitted by ML (TRUE: all, FALSE: none, or their indices);
# every formula is fitted by REML.
real <- function(file, source, df, formulas, note = "", ml = TRUE) {
  stopifnot(all(make.names(names(df)) == names(df)))
  ml_idx <- if (isTRUE(ml)) seq_along(formulas) else if (isFALSE(ml)) integer() else ml
  REAL_SETS[[file]] <<- list(source = source, df = df, formulas = formulas, note = note,
                             ml = ml_idx)
}

build_real <- function() {
  # ---- lme4
  d <- getdata("sleepstudy", "lme4")
  d$Days_m <- d$Days * 1e-3
  d$Days_k <- d$Days * 1e3
  d$Reaction_k <- d$Reaction * 1e3
  d$Days_c <- d$Days - 4.5
  real("sleepstudy.csv", "real:lme4::sleepstudy", d, c(
    "Reaction ~ Days + (Days | Subject)",
    "Reaction ~ Days + (Days || Subject)",
    "Reaction ~ Days + (1 | Subject)",
    "Reaction ~ Days + (0 + Days | Subject)",
    "Reaction ~ Days + (1 | Subject) + (0 + Days | Subject)",
    "Reaction ~ Days_m + (Days_m | Subject)",
    "Reaction ~ Days_k + (Days_k | Subject)",
    "Reaction_k ~ Days_m + (Days_m | Subject)",
    "Reaction ~ Days_c + (Days_c | Subject)"),
    "Days_m = Days*1e-3, Days_k = Days*1e3, Reaction_k = Reaction*1e3, Days_c = Days - 4.5", ml = c(1, 6, 7, 8))

  real("dyestuff.csv", "real:lme4::Dyestuff", getdata("Dyestuff", "lme4"),
       "Yield ~ 1 + (1 | Batch)")
  real("dyestuff2.csv", "real:lme4::Dyestuff2", getdata("Dyestuff2", "lme4"),
       "Yield ~ 1 + (1 | Batch)", "truly singular: between-batch variance estimate 0")
  real("penicillin.csv", "real:lme4::Penicillin", getdata("Penicillin", "lme4"),
       "diameter ~ 1 + (1 | plate) + (1 | sample)")
  real("pastes.csv", "real:lme4::Pastes", getdata("Pastes", "lme4"), c(
    "strength ~ 1 + (1 | batch/cask)",
    "strength ~ 1 + (1 | batch) + (1 | sample)",
    "strength ~ 1 + (1 | batch)"), ml = 1)
  d <- getdata("cake", "lme4")
  d$temperature <- NULL  # the ordered factor; temp is its numeric value
  d$temp_c <- d$temp - 200
  real("cake.csv", "real:lme4::cake", d, c(
    "angle ~ recipe * temp + (1 | recipe:replicate)",
    "angle ~ recipe + temp + (1 | replicate) + (1 | recipe:replicate)",
    "angle ~ recipe + temp + (1 | replicate/recipe)",
    "angle ~ recipe * temp_c + (temp_c | replicate)"),
    "temperature (ordered factor) dropped; temp is numeric; temp_c = temp - 200", ml = c(1, 4))

  # ---- nlme
  d <- getdata("Orthodont", "nlme")
  d$age_c <- d$age - 11
  d$age_m <- d$age * 1e-3
  d$age_k <- d$age * 1e3
  real("orthodont.csv", "real:nlme::Orthodont", d, c(
    "distance ~ age + (age | Subject)",
    "distance ~ age + Sex + (age | Subject)",
    "distance ~ age * Sex + (age | Subject)",
    "distance ~ age * Sex + (1 | Subject)",
    "distance ~ age + (age || Subject)",
    "distance ~ age_c * Sex + (age_c | Subject)",
    "distance ~ age_m * Sex + (age_m | Subject)",
    "distance ~ age_k + (age_k | Subject)"),
    "age_c = age - 11, age_m = age*1e-3, age_k = age*1e3", ml = c(1, 3, 7, 8))
  d <- getdata("Oxboys", "nlme")
  d$age2 <- d$age^2
  real("oxboys.csv", "real:nlme::Oxboys", d, c(
    "height ~ age + (age | Subject)",
    "height ~ age + age2 + (age + age2 | Subject)",
    "height ~ age + age2 + (age + age2 || Subject)",
    "height ~ age + (1 | Subject) + (1 | Occasion)"), "age2 = age^2", ml = c(1, 2, 4))
  real("rail.csv", "real:nlme::Rail", getdata("Rail", "nlme"), "travel ~ 1 + (1 | Rail)")
  real("machines.csv", "real:nlme::Machines", getdata("Machines", "nlme"), c(
    "score ~ Machine + (1 | Worker) + (1 | Worker:Machine)",
    "score ~ Machine - 1 + (1 | Worker/Machine)",
    "score ~ Machine + (1 | Worker)",
    "score ~ Machine + (0 + Machine | Worker)"), ml = 4)
  real("ergostool.csv", "real:nlme::ergoStool", getdata("ergoStool", "nlme"), c(
    "effort ~ Type + (1 | Subject)",
    "effort ~ 0 + Type + (1 | Subject)"), ml = 1)
  d <- getdata("Oats", "nlme")
  d$nitro2 <- d$nitro^2
  real("oats_nlme.csv", "real:nlme::Oats", d, c(
    "yield ~ nitro * Variety + (1 | Block/Variety)",
    "yield ~ nitro + Variety + (1 | Block/Variety)",
    "yield ~ nitro + (1 | Block/Variety)",
    "yield ~ (nitro + nitro2) * Variety + (1 | Block/Variety)",
    "yield ~ nitro + (1 | Block) + (1 | Block:Variety)"), "nitro2 = nitro^2", ml = c(1, 4))
  d <- getdata("Pixel", "nlme")
  d$day2 <- d$day^2
  real("pixel.csv", "real:nlme::Pixel", d, c(
    "pixel ~ day + day2 + (day | Dog) + (1 | Side:Dog)",
    "pixel ~ day + day2 + Side + (day | Dog) + (1 | Dog:Side)"), "day2 = day^2", ml = 1)
  d <- getdata("Alfalfa", "nlme")
  d$Date[d$Date == "None"] <- "Nil"
  real("alfalfa.csv", "real:nlme::Alfalfa", d,
       "Yield ~ Date + Variety + (1 | Block/Variety)",
       "Date label 'None' written as 'Nil' (pandas reads 'None' as missing)", ml = FALSE)
  d <- getdata("Assay", "nlme")
  d$dilut <- relabel(d$dilut, "d")
  real("assay.csv", "real:nlme::Assay", d, c(
    "logDens ~ sample + dilut + (1 | Block) + (1 | Block:sample) + (1 | Block:dilut)",
    "logDens ~ sample * dilut + (1 | Block) + (1 | Block:sample) + (1 | Block:dilut)"),
    "dilut labels prefixed with 'd'", ml = 2)
  d <- getdata("BodyWeight", "nlme")
  d$Diet <- relabel(d$Diet, "D")
  d$Time_w <- d$Time / 7
  real("bodyweight.csv", "real:nlme::BodyWeight", d, c(
    "weight ~ Time * Diet + (Time | Rat)",
    "weight ~ Time_w * Diet + (Time_w | Rat)"), "Diet labels prefixed with 'D'; Time_w = Time/7", ml = 1)
  d <- getdata("Ovary", "nlme")
  d$sin2pi <- sin(2 * pi * d$Time)
  d$cos2pi <- cos(2 * pi * d$Time)
  real("ovary.csv", "real:nlme::Ovary", d, c(
    "follicles ~ sin2pi + cos2pi + (1 | Mare)",
    "follicles ~ sin2pi + cos2pi + (sin2pi | Mare)"),
    "sin2pi = sin(2*pi*Time), cos2pi = cos(2*pi*Time)", ml = 2)
  real("wheat2.csv", "real:nlme::Wheat2", getdata("Wheat2", "nlme"), c(
    "yield ~ 1 + (1 | variety) + (1 | Block)"), ml = FALSE)
  d <- getdata("Gasoline", "nlme")
  d$endpoint_c <- d$endpoint - 300
  real("gasoline.csv", "real:nlme::Gasoline", d, c(
    "yield ~ endpoint + (1 | Sample)",
    "yield ~ endpoint_c + (endpoint_c | Sample)"), "endpoint_c = endpoint - 300", ml = 2)
  real("fatigue.csv", "real:nlme::Fatigue", getdata("Fatigue", "nlme"), c(
    "relLength ~ cycles + (cycles | Path)"), ml = FALSE)
  d <- getdata("MathAchieve", "nlme")
  s <- getdata("MathAchSchool", "nlme")
  d$Sector <- s$Sector[match(d$School, s$School)]
  d$cses <- d$SES - d$MEANSES
  d$SES_k <- d$SES * 1e3
  real("mathachieve.csv", "real:nlme::MathAchieve", d, c(
    "MathAch ~ SES + (SES | School)",
    "MathAch ~ cses * Sector + MEANSES + (cses | School)",
    "MathAch ~ SES + Minority + Sex + (1 | School)",
    "MathAch ~ SES_k + (SES_k | School)"),
    "Sector joined from MathAchSchool by School; cses = SES - MEANSES; SES_k = SES*1e3", ml = 4)
  d <- getdata("Milk", "nlme")
  real("milk.csv", "real:nlme::Milk", d, c(
    "protein ~ Diet * Time + (Time | Cow)",
    "protein ~ Diet + Time + (1 | Cow)"), ml = 1)
  d <- getdata("Spruce", "nlme")
  d$days_k <- d$days / 1000
  real("spruce.csv", "real:nlme::Spruce", d, c(
    "logSize ~ days + (days | Tree)",
    "logSize ~ days_k + (1 | plot) + (days_k | Tree)"), "days_k = days/1000", ml = 1)
  d <- getdata("PBG", "nlme")
  d$log_dose <- log(d$dose)
  real("pbg.csv", "real:nlme::PBG", d, c(
    "deltaBP ~ log_dose * Treatment + (log_dose | Rabbit)",
    "deltaBP ~ log_dose * Treatment + (1 | Rabbit/Run)"), "log_dose = log(dose)", ml = 1)
  real("glucose2.csv", "real:nlme::Glucose2", getdata("Glucose2", "nlme"), c(
    "glucose ~ Time + (1 | Subject/Date)"), ml = FALSE)
  d <- getdata("Dialyzer", "nlme")
  d$QB <- relabel(d$QB, "QB")
  d$pressure2 <- d$pressure^2
  real("dialyzer.csv", "real:nlme::Dialyzer", d, c(
    "rate ~ pressure * QB + (pressure | Subject)",
    "rate ~ (pressure + pressure2) * QB + (pressure + pressure2 | Subject)"),
    "QB labels prefixed with 'QB'; pressure2 = pressure^2", ml = 2)
  d <- getdata("Earthquake", "nlme")
  d$soil <- as.numeric(d$soil)
  d$log_accel <- log(d$accel)
  d$log_distance <- log(d$distance)
  real("earthquake.csv", "real:nlme::Earthquake", d, c(
    "log_accel ~ log_distance + Richter + soil + (1 | Quake)",
    "log_accel ~ log_distance + Richter + (log_distance | Quake)"),
    "soil written as numeric 0/1; log_accel = log(accel), log_distance = log(distance)", ml = 2)
  real("igf.csv", "real:nlme::IGF", getdata("IGF", "nlme"), c(
    "conc ~ age + (age | Lot)", "conc ~ age + (1 | Lot)"), ml = 1)
  d <- getdata("Soybean", "nlme")
  d$log_weight <- log(d$weight)
  d$Year <- relabel(d$Year, "Y")
  real("soybean.csv", "real:nlme::Soybean", d, c(
    "log_weight ~ Time * Variety + Year + (Time | Plot)"),
    "Year labels prefixed with 'Y'; log_weight = log(weight)", ml = FALSE)
  d <- getdata("Wafer", "nlme")
  d$voltage2 <- d$voltage^2
  real("wafer.csv", "real:nlme::Wafer", d, c(
    "current ~ voltage + voltage2 + (voltage | Wafer) + (1 | Wafer:Site)",
    "current ~ voltage + voltage2 + (voltage + voltage2 || Wafer) + (1 | Wafer:Site)"),
    "voltage2 = voltage^2", ml = 2)
  real("gun.csv", "real:nlme::Gun", getdata("Gun", "nlme"),
       "rounds ~ Method + Physique + (1 | Team)", ml = FALSE)
  real("muscle.csv", "real:nlme::Muscle", getdata("Muscle", "nlme"),
       c("length ~ conc + (conc | Strip)", "length ~ conc + (1 | Strip)"), ml = 1)
  real("wheat.csv", "real:nlme::Wheat", getdata("Wheat", "nlme"),
       "DryMatter ~ fertilizer + Moisture + (1 | Tray)", ml = FALSE)
  d <- getdata("Tetracycline1", "nlme")
  d$log_conc <- log(d$conc)
  real("tetracycline1.csv", "real:nlme::Tetracycline1", d,
       "log_conc ~ Time + Formulation + (1 | Subject)", "log_conc = log(conc)", ml = FALSE)
  d <- getdata("Meat", "nlme")
  d$Storage <- relabel(d$Storage, "S")
  real("meat.csv", "real:nlme::Meat", d, "score ~ Storage + (1 | Block) + (1 | Pair)",
       "Storage labels prefixed with 'S'", ml = FALSE)
  d <- getdata("bdf", "nlme")
  keep <- c("schoolNR", "pupilNR", "IQ.verb", "IQ.perf", "sex", "Minority", "aritPRET",
            "aritPOST", "langPRET", "langPOST", "ses", "schoolSES")
  d <- d[, keep]
  d$sex <- as.numeric(d$sex)
  real("bdf.csv", "real:nlme::bdf", d, c(
    "langPOST ~ IQ.verb + ses + (IQ.verb | schoolNR)",
    "langPOST ~ IQ.verb + ses + Minority + (1 | schoolNR)"),
    "12 of the 28 columns kept; sex written as numeric 0/1", ml = 1)

  # ---- R datasets
  d <- getdata("ChickWeight", "datasets")
  d$Diet <- relabel(d$Diet, "D")
  d$Time_w <- d$Time / 7
  d$Time2 <- d$Time^2
  d$Time_c <- d$Time - 10
  real("chickweight.csv", "real:datasets::ChickWeight", d, c(
    "weight ~ Time * Diet + (Time | Chick)",
    "weight ~ Time_w * Diet + (Time_w | Chick)",
    "weight ~ Time_c * Diet + (Time_c | Chick)",
    "weight ~ Diet * (Time + Time2) + (Time | Chick)",
    "weight ~ Time + Time2 + (Time + Time2 | Chick)"),
    "Diet labels prefixed with 'D'; Time_w = Time/7; Time2 = Time^2; Time_c = Time - 10", ml = c(1, 5))
  d <- getdata("CO2", "datasets")
  d$conc_k <- d$conc / 1000
  d$conc_m <- d$conc * 1e-3 * 1e-3
  d$log_conc <- log(d$conc)
  d$conc_c <- d$conc - 435
  real("co2.csv", "real:datasets::CO2", d, c(
    "uptake ~ conc + (conc | Plant)",
    "uptake ~ conc_k + (conc_k | Plant)",
    "uptake ~ conc_m + (conc_m | Plant)",
    "uptake ~ log_conc + (log_conc | Plant)",
    "uptake ~ conc_c * Type + (conc_c | Plant)",
    "uptake ~ (conc_k + Type) * Treatment + (conc_k | Plant)",
    "uptake ~ Type * (conc_k + Treatment) + (1 | Plant)",
    "uptake ~ log_conc * Type * Treatment + (log_conc || Plant)"),
    "conc_k = conc/1000, conc_m = conc*1e-6, log_conc = log(conc), conc_c = conc - 435", ml = c(1, 2, 3, 6))
  d <- getdata("Orange", "datasets")
  d$age_k <- d$age / 1000
  real("orange.csv", "real:datasets::Orange", d, c(
    "circumference ~ age + (age | Tree)",
    "circumference ~ age_k + (age_k | Tree)",
    "circumference ~ age + (1 | Tree)"), "age_k = age/1000", ml = c(1, 2))
  d <- getdata("Loblolly", "datasets")
  d$age2 <- d$age^2
  real("loblolly.csv", "real:datasets::Loblolly", d, c(
    "height ~ age + age2 + (age | Seed)",
    "height ~ age + age2 + (age + age2 | Seed)"), "age2 = age^2", ml = 2)
  d <- getdata("Indometh", "datasets")
  d$log_conc <- log(d$conc)
  real("indometh.csv", "real:datasets::Indometh", d,
       "log_conc ~ time + (time | Subject)", "log_conc = log(conc)", ml = FALSE)
  d <- getdata("DNase", "datasets")
  d$log_conc <- log(d$conc)
  real("dnase.csv", "real:datasets::DNase", d, c(
    "density ~ log_conc + (log_conc | Run)"), "log_conc = log(conc)", ml = FALSE)
  d <- getdata("sleep", "datasets")
  d$group <- relabel(d$group, "G")
  real("sleep.csv", "real:datasets::sleep", d, "extra ~ group + (1 | ID)",
       "group labels prefixed with 'G'", ml = FALSE)
  real("orchardsprays.csv", "real:datasets::OrchardSprays", getdata("OrchardSprays", "datasets"),
       "decrease ~ treatment + (1 | rowpos) + (1 | colpos)", ml = FALSE)
  d <- getdata("npk", "datasets")
  for (v in c("N", "P", "K")) d[[v]] <- as.numeric(d[[v]])
  real("npk.csv", "real:datasets::npk", d, "yield ~ N * P * K + (1 | block)",
       "N, P, K written as numeric 0/1", ml = FALSE)
  real("insectsprays.csv", "real:datasets::InsectSprays", getdata("InsectSprays", "datasets"),
       "count ~ 1 + (1 | spray)", ml = FALSE)
  real("warpbreaks.csv", "real:datasets::warpbreaks", getdata("warpbreaks", "datasets"),
       "breaks ~ wool + (1 | tension)", ml = FALSE)

  # ---- MASS
  if (pkg_ok("MASS")) {
    real("oats_mass.csv", "real:MASS::oats", getdata("oats", "MASS"), c(
      "Y ~ N + V + (1 | B/V)",
      "Y ~ N * V + (1 | B/V)"), ml = 1)
    d <- getdata("petrol", "MASS")
    d$SG_c <- d$SG - mean(d$SG)
    d$VP_c <- d$VP - mean(d$VP)
    d$V10_c <- d$V10 - mean(d$V10)
    d$EP_k <- d$EP * 1e3
    real("petrol.csv", "real:MASS::petrol", d, c(
      "Y ~ SG + VP + V10 + EP + (1 | No)",
      "Y ~ SG_c + VP_c + V10_c + EP + (1 | No)",
      "Y ~ EP + (1 | No)",
      "Y ~ EP_k + (EP_k | No)"),
      "SG_c, VP_c, V10_c centred at their means; EP_k = EP*1e3", ml = c(1, 4))
    d <- getdata("Rabbit", "MASS")
    d$log_Dose <- log(d$Dose)
    real("rabbit.csv", "real:MASS::Rabbit", d, c(
      "BPchange ~ log_Dose * Treatment + (1 | Animal/Run)",
      "BPchange ~ log_Dose * Treatment + (log_Dose | Animal)"), "log_Dose = log(Dose)", ml = 2)
    d <- getdata("Sitka", "MASS")
    d$Time_k <- d$Time / 1000
    real("sitka.csv", "real:MASS::Sitka", d, c(
      "size ~ Time * treat + (Time | tree)",
      "size ~ Time_k * treat + (Time_k | tree)"), "Time_k = Time/1000")
    real("coop.csv", "real:MASS::coop", getdata("coop", "MASS"), c(
      "Conc ~ Spc + (1 | Lab/Bat)",
      "Conc ~ 1 + (1 | Lab/Spc/Bat)",
      "Conc ~ Spc + (1 | Lab) + (1 | Lab:Spc)"), ml = 2)
  }

  # ---- lmerTest
  if (pkg_ok("lmerTest")) {
    d <- getdata("ham", "lmerTest")
    d$Product <- relabel(d$Product, "P")
    d$Information <- relabel(d$Information, "I")
    d$Gender <- relabel(d$Gender, "G")
    d$Age_c <- d$Age - mean(d$Age)
    real("ham.csv", "real:lmerTest::ham", d, c(
      "Informed.liking ~ Product * Information + (1 | Consumer) + (1 | Product:Consumer)",
      "Informed.liking ~ Product * Information + (1 | Consumer) + (1 | Product:Consumer) + (1 | Information:Consumer)",
      "Informed.liking ~ Product + Information + Gender + Age_c + (1 | Consumer)"),
      "Product, Information, Gender labels prefixed with 'P', 'I', 'G'; Age_c = Age - mean(Age)", ml = 1)
    d <- getdata("carrots", "lmerTest")
    d <- d[, c("Consumer", "Homesize", "Preference", "sens1", "sens2", "Product", "Gender")]
    d <- d[complete.cases(d), ]
    d$Homesize <- relabel(d$Homesize, "H")
    d$Gender <- relabel(d$Gender, "G")
    real("carrots.csv", "real:lmerTest::carrots", d, c(
      "Preference ~ sens2 + Homesize + (1 + sens2 | Consumer)",
      "Preference ~ sens1 + sens2 + Homesize + (1 | Consumer) + (1 | Product)",
      "Preference ~ sens2 + (1 + sens1 + sens2 | Consumer)"),
      "7 columns kept, rows with a missing value dropped; Homesize, Gender labels prefixed", ml = c(1, 3))
    d <- getdata("TVbo", "lmerTest")
    d <- d[, c("Assessor", "TVset", "Repeat", "Picture", "Coloursaturation", "Sharpness")]
    d$Picture <- relabel(d$Picture, "Pic")
    real("tvbo.csv", "real:lmerTest::TVbo", d, c(
      "Coloursaturation ~ TVset * Picture + (1 | Assessor) + (1 | Assessor:TVset) + (1 | Assessor:Picture)",
      "Sharpness ~ TVset * Picture + (1 | Assessor) + (1 | Assessor:TVset)"),
      "6 of the 19 columns kept; Picture labels prefixed with 'Pic'", ml = 1)
  }
}

# ---------------------------------------------------------------------------------------------
# Seeded random designs
SHAPES <- list(
  int        = list(re = "(1 | g)", q = c(g = 1), kind = "g"),
  slope      = list(re = "(x1 | g)", q = c(g = 2), kind = "g"),
  slope2     = list(re = "(x1 + x2 | g)", q = c(g = 3), kind = "g"),
  slope2_noint = list(re = "(0 + x1 + x2 | g)", q = c(g = 2), kind = "g"),
  slope_diag = list(re = "(x1 || g)", q = c(g = 2), kind = "g", diag = TRUE),
  slope2_diag = list(re = "(x1 + x2 || g)", q = c(g = 3), kind = "g", diag = TRUE),
  slope_crossed = list(re = "(x1 | g) + (1 | h)", q = c(g = 2, h = 1), kind = "crossed"),
  int_crossed = list(re = "(1 | g) + (1 | h)", q = c(g = 1, h = 1), kind = "crossed"),
  int_nested = list(re = "(1 | g/h)", q = c(g = 1, h = 1), kind = "nested"),
  slope_nested = list(re = "(x1 | g/h)", q = c(g = 2, h = 2), kind = "nested"),
  slope3     = list(re = "(x1 + x2 + x3 | g)", q = c(g = 4), kind = "g"))
RATIOS <- c(0, 0, 0.01, 0.05, 0.1, 0.3, 0.5, 1, 2, 3)
CORRS <- c(-0.99, -0.9, -0.5, -0.2, 0, 0.3, 0.7, 0.9, 0.99)

pick <- function(x, ...) x[sample.int(length(x), 1, ...)]

draw_sizes <- function(ng, mode, mbar) {
  if (mode == "balanced") return(rep(mbar, ng))
  s <- 1 + rnbinom(ng, size = 1.2, mu = mbar - 1)
  if (mode == "unbalanced" || mode == "tiny") {
    k <- min(ng, if (mode == "tiny") max(2, ng %/% 2) else 2)
    s[seq_len(k)] <- rep(c(1, 2), length.out = k)   # some groups with 1-2 rows
  }
  s[sample.int(ng)]
}

make_design <- function(k) {
  shape_name <- names(SHAPES)[(k - 1) %% length(SHAPES) + 1]
  sh <- SHAPES[[shape_name]]
  qsum <- sh$q
  ng <- pick(c(3, 4, 5, 6, 8, 10, 15, 20, 30, 50, 100))
  if (shape_name == "slope3" && ng < 5) ng <- pick(c(5, 6, 8, 12, 20, 40))
  size_mode <- pick(c("balanced", "unbalanced", "tiny", "skewed"))
  mbar <- pick(c(3, 4, 6, 8, 12, 20))
  if (sh$kind == "nested") mbar <- pick(c(2, 3, 4, 6))          # rows per g:h cell
  if (ng * mbar > 1500) mbar <- max(2, 1500 %/% ng)
  if (sh$kind == "nested") {
    nh_per <- pick(2:5)
    cells <- expand.grid(h = seq_len(nh_per), g = seq_len(ng))
    sizes <- draw_sizes(nrow(cells), if (size_mode == "balanced") "balanced" else "skewed", mbar)
    if (size_mode %in% c("unbalanced", "tiny")) sizes[sample.int(nrow(cells), min(3, nrow(cells)))] <- 1
    gi <- rep(cells$g, sizes)
    hi <- rep(cells$h, sizes)
    hlab <- paste0("h", hi)                    # labels repeat across g: nesting is explicit
  } else {
    sizes <- draw_sizes(ng, size_mode, mbar)
    gi <- rep(seq_len(ng), sizes)
    nh <- pick(c(3, 4, 5, 8, 12, 20, 40))
    if (sh$kind == "crossed" && pick(c(TRUE, FALSE))) {  # fully crossed, balanced in h
      hi <- unlist(lapply(sizes, function(m) ((seq_len(m) - 1) %% nh) + 1))
    } else {
      hi <- sample.int(nh, length(gi), replace = TRUE)
    }
    hlab <- paste0("h", hi)
  }
  n <- length(gi)
  # predictors: scale, type (iid / time within group / with a between-group part), offset
  scale_mode <- pick(c("unit", "unit", "mixed", "small", "large"))
  scales <- switch(scale_mode, unit = c(1, 1, 1), mixed = c(1e-3, 1e3, 1),
                   small = c(1e-3, 1, 1e-3), large = c(1e3, 1, 1))
  xs <- sapply(1:3, function(j) {
    # only x1 may be a time within group: two of them would be collinear with each other
    type <- if (j == 1) pick(c("iid", "time", "between")) else pick(c("iid", "between"))
    x <- switch(type,
      iid = rnorm(n),
      time = {t <- ave(seq_len(n), gi, FUN = seq_along) - 1; (t - mean(t)) / max(sd(t), 1) },
      between = rnorm(max(gi))[gi] + 0.7 * rnorm(n))
    if (pick(c(TRUE, FALSE, FALSE))) x <- x + pick(c(3, 10, -5))   # not centred
    x * scales[j]
  })
  xs <- signif(xs, 7)
  sdx <- pmax(apply(xs, 2, sd), 1e-300)
  sigma <- pick(c(1, 1, 1, 0.01, 100))
  # random effects of the g term
  qg <- qsum[["g"]]
  cols_g <- switch(shape_name, int = , int_crossed = , int_nested = "1",
                   slope = , slope_diag = , slope_crossed = , slope_nested = c("1", "x1"),
                   slope2 = , slope2_diag = c("1", "x1", "x2"), slope2_noint = c("x1", "x2"),
                   slope3 = c("1", "x1", "x2", "x3"))
  draw_re <- function(cols, nlev, diag = FALSE) {
    q <- length(cols)
    ratios <- sapply(cols, function(cn) pick(RATIOS))
    sds <- ratios * sigma / ifelse(cols == "1", 1, sdx[match(cols, c("x1", "x2", "x3"))])
    R <- diag(q)
    if (q == 2 && !diag) R[1, 2] <- R[2, 1] <- pick(CORRS)
    if (q > 2 && !diag) {
      if (pick(c(TRUE, FALSE))) {
        r <- pick(c(-0.3, 0, 0.5, 0.9, 0.99)); R[] <- r; diag(R) <- 1
      } else {
        W <- crossprod(matrix(rnorm(q * (q + 1)), q + 1, q)); R <- cov2cor(W)
      }
    }
    if (isTRUE(diag) && q >= 2 && pick(c(TRUE, FALSE, FALSE, FALSE))) R[1, 2] <- R[2, 1] <- 0.6
    L <- t(chol(R))
    b <- t(L %*% matrix(rnorm(q * nlev), q, nlev)) %*% diag(sds, q)
    list(b = b, sds = sds, R = R, cols = cols)
  }
  reg <- draw_re(cols_g, ng, isTRUE(sh$diag))
  mm <- cbind(`1` = 1, x1 = xs[, 1], x2 = xs[, 2], x3 = xs[, 3])
  zb <- rowSums(mm[, reg$cols, drop = FALSE] * reg$b[gi, , drop = FALSE])
  truth <- list(shape = shape_name, ng = ng, size_mode = size_mode, scale_mode = scale_mode,
                scales = scales, sigma = sigma, g_cols = reg$cols, g_sd = reg$sds,
                g_cor = reg$R[upper.tri(reg$R)])
  if (sh$kind == "crossed") {
    reh <- draw_re("1", max(hi))
    zb <- zb + reh$b[hi, 1]
    truth$h_sd <- reh$sds
  }
  if (sh$kind == "nested") {
    cell <- as.integer(factor(paste(gi, hi)))
    reh <- draw_re(if (shape_name == "slope_nested") c("1", "x1") else "1", max(cell))
    zb <- zb + rowSums(mm[, reh$cols, drop = FALSE] * reh$b[cell, , drop = FALSE])
    truth$gh_sd <- reh$sds
    truth$gh_cor <- reh$R[upper.tri(reh$R)]
  }
  # fixed part
  fixed_mode <- pick(c("base", "base", "with_f", "interaction"))
  f <- sample(c("a", "b", "c"), n, replace = TRUE)
  f[seq_len(min(3, n))] <- c("a", "b", "c")[seq_len(min(3, n))]
  fx <- switch(shape_name, slope2 = , slope2_noint = , slope2_diag = , slope_crossed = "x1 + x2",
               slope3 = "x1 + x2 + x3", "x1")
  if (fixed_mode == "with_f") fx <- paste(fx, "+ f")
  if (fixed_mode == "interaction") fx <- sub("^x1", "x1 * f", fx)
  beta <- rnorm(4) * sigma / c(1, sdx)
  fe <- 10 * sigma + as.vector(mm %*% beta) + c(a = 0, b = 0.5, c = -0.5)[f] * sigma
  y <- signif(fe + zb + sigma * rnorm(n), 7)
  ds <- sprintf("d%03d", k)
  df <- data.frame(ds = ds, y = y, x1 = xs[, 1], x2 = xs[, 2], x3 = xs[, 3], f = f,
                   g = paste0("g", gi), h = hlab, stringsAsFactors = FALSE)
  form <- paste("y ~", fx, "+", sh$re)
  # identifiability: more rows than random effects, more rows than levels (lme4's checks)
  nl <- c(g = ng, h = if (sh$kind == "nested") length(unique(paste(gi, hi))) else length(unique(hi)))
  nre <- sum(qsum * nl[names(qsum)])
  p <- ncol(model.matrix(as.formula(paste("~", fx)), df))
  Xf <- model.matrix(as.formula(paste("~", fx)), df)
  ok <- n > nre + p && all(nl[names(qsum)] < n) && length(unique(gi)) >= 2 &&
    qr(scale(Xf, center = FALSE, scale = sqrt(colSums(Xf^2))))$rank == ncol(Xf)
  list(ds = ds, df = df, formula = form, truth = truth, ok = ok)
}

# ---------------------------------------------------------------------------------------------
cat("lme4", as.character(packageVersion("lme4")), "; optimizers:", OPTIMIZERS, "\n")

build_real()
real_files <- character()
for (file in names(REAL_SETS)) {
  rs <- REAL_SETS[[file]]
  df <- rs$df
  # no missing values in any written column
  df <- df[complete.cases(df), , drop = FALSE]
  rownames(df) <- NULL
  write_frame(df, file.path(REAL, file))
  real_files <- c(real_files, file)
  mf <- model_frame_for(df, rs$formulas)
  for (form in rs$formulas) {
    check_formula(form, mf)
    for (REML in if (match(form, rs$formulas) %in% rs$ml) c(TRUE, FALSE) else TRUE) {
      id <- sprintf("%s_%d_%s", sub("\\.csv$", "", file), match(form, rs$formulas),
                    if (REML) "reml" else "ml")
      t1 <- Sys.time()
      e <- fit_entry(id, rs$source, file.path("real", file), form, mf, REML)
      add_entry(e)
      if (!isTRUE(e$refused)) {
        cr <- attr(e, "crit")
        cat(sprintf("%-28s %-70s gap %.3g  (%.1fs)\n", id, form,
                    cr[["nloptwrap"]] - min(cr, na.rm = TRUE),
                    as.numeric(difftime(Sys.time(), t1, units = "secs"))))
      }
    }
  }
}
n_real <- length(entries)
t_real <- as.numeric(difftime(Sys.time(), t_start, units = "secs"))
cat(sprintf("real fits: %d in %.0f s\n", n_real, t_real))

RNGkind("Mersenne-Twister", "Inversion", "Rejection")
SEED <- 20240611L

# theta of a fit with predictors x/scale -> theta of the same fit with predictors x: the
# random coefficient of a column scaled by c is divided by c, so row j of each term's relative
# Cholesky factor is divided by the scale of its column j.
map_theta <- function(theta, cnms, scales) {
  out <- numeric()
  pos <- 0
  for (cn in cnms) {
    q <- length(cn)
    nt <- q * (q + 1) / 2
    L <- matrix(0, q, q)
    L[lower.tri(L, diag = TRUE)] <- theta[pos + seq_len(nt)]
    pos <- pos + nt
    dv <- ifelse(cn %in% names(scales), scales[cn], 1)
    L <- L / dv
    out <- c(out, L[lower.tri(L, diag = TRUE)])
  }
  out
}

# The best criterion of a model over all optimizers (and the two polishers), for the checks.
best_criterion <- function(form, df, REML) {
  crit <- numeric()
  fits <- list()
  for (o in OPTIMIZERS) {
    r <- run_lmer(form, df, REML, ctrl_for(o))
    if (!is.null(r$fit)) { crit[[o]] <- criterion(r$fit); fits[[o]] <- r$fit }
  }
  if (!length(crit)) return(NULL)
  b <- fits[[names(crit)[which.min(crit)]]]
  for (o in POLISHERS) {
    r <- run_lmer(form, df, REML, polish_ctrl(o), start = unname(getME(b, "theta")))
    if (!is.null(r$fit)) { crit[[o]] <- criterion(r$fit); fits[[o]] <- r$fit }
  }
  list(best = min(crit), fit = fits[[names(crit)[which.min(crit)]]])
}

designs <- list()
dropped <- list()
k <- 0L
while (length(designs) < N_DESIGNS) {
  k <- k + 1L
  set.seed(SEED + k)        # each design has its own seed: d<k> is drawn with SEED + k
  d <- make_design(k)
  if (!d$ok) next           # not identifiable as drawn: its number is skipped
  mf <- model_frame_for(d$df, d$formula)
  check_formula(d$formula, mf)
  truth <- list(shape = d$truth$shape, ng = d$truth$ng, size_mode = d$truth$size_mode,
                scale_mode = d$truth$scale_mode, x_scales = j_arr(d$truth$scales),
                sigma = j_num(d$truth$sigma), g_cols = I(d$truth$g_cols),
                g_sd = j_arr(d$truth$g_sd), g_cor = j_arr(d$truth$g_cor))
  for (nm in c("h_sd", "gh_sd", "gh_cor")) if (!is.null(d$truth[[nm]])) truth[[nm]] <- j_arr(d$truth[[nm]])
  # Check of the best optimum on badly scaled designs: the same model with the predictors
  # divided by their scales (x / 1e-3, x / 1e3) is a reparametrisation, so its optimum gives
  # the same deviance (ML) and a REML criterion shifted by log det(X'X) - log det(Xu'Xu).
  mfu <- NULL
  if (any(d$truth$scales != 1)) {
    mfu <- mf
    for (j in 1:3) mfu[[paste0("x", j)]] <- mf[[paste0("x", j)]] / d$truth$scales[j]
  }
  es <- list()
  for (REML in c(TRUE, FALSE)) {
    id <- sprintf("%s_%s", d$ds, if (REML) "reml" else "ml")
    starts <- list()
    if (!is.null(mfu)) {
      bu <- best_criterion(d$formula, mfu, REML)
      if (is.null(bu)) break
      starts$rescaled_polish <- map_theta(getME(bu$fit, "theta"), getME(bu$fit, "cnms"),
                                          setNames(d$truth$scales, c("x1", "x2", "x3")))
    }
    e <- fit_entry(id, paste0("design:", d$ds), d$ds, d$formula, mf, REML,
                   extra = list(truth = truth), extra_starts = starts)
    if (isTRUE(e$refused) || is.na(attr(e, "crit")[["nloptwrap"]])) break
    if (any(grepl("rank deficient", unlist(e$messages)))) {
      e$msgs <- unlist(e$messages)
      break
    }
    if (!is.null(mfu)) {
      X <- model.matrix(nobars(as.formula(d$formula)), mf)
      Xu <- model.matrix(nobars(as.formula(d$formula)), mfu)
      # each column of X is its unit-scale column times a constant (1 or a scale): the
      # shift is 2 * sum(log(constant)), exact where a determinant of X'X would not be
      colfac <- vapply(seq_len(ncol(X)), function(j) {
        r <- X[, j] / Xu[, j]
        median(r[is.finite(r) & Xu[, j] != 0])
      }, 0)
      stopifnot(all(abs(colfac / 10^round(log10(colfac)) - 1) < 1e-9))
      shift <- if (REML) 2 * sum(log(10^round(log10(colfac)))) else 0
      chk <- min(attr(e, "crit"), na.rm = TRUE) - (bu$best + shift)
      # lme4's own evaluation, on this scale, of the criterion at the unit-scale optimum:
      # how precisely the criterion can be computed for this badly scaled model
      devf <- suppressWarnings(suppressMessages(
        lmer(as.formula(d$formula), data = mf, REML = REML, devFunOnly = TRUE)))
      eval_diff <- devf(starts$rescaled_polish) - (bu$best + shift)
      e$rescaled_check <- list(best_unit_scale = j_num(bu$best), shift = j_num(shift),
                               diff = j_num(chk), eval_diff = j_num(eval_diff))
      attr(e, "eval_diff") <- eval_diff
      attr(e, "check") <- chk
    }
    es[[length(es) + 1]] <- e
  }
  if (length(es) < 2) {     # lme4 refused it or its default optimizer failed: drawn anew
    dropped[[length(dropped) + 1]] <- list(ds = d$ds, formula = d$formula,
      msgs = if (!is.null(e$msgs)) e$msgs else unlist(e$messages))
    cat(sprintf("  DROPPED %s %s: %s\n", d$ds, d$formula,
                paste(dropped[[length(dropped)]]$msgs, collapse = " | ")))
    next
  }
  for (e in es) add_entry(e)
  designs[[length(designs) + 1]] <- d
  if (length(designs) %% 25 == 0)
    cat(sprintf("designs: %d (%s) done, %.0f s\n", length(designs), d$ds,
                as.numeric(difftime(Sys.time(), t_start, units = "secs"))))
}
all_designs <- do.call(rbind, lapply(designs, `[[`, "df"))
write_frame(all_designs, file.path(OUT, "designs.csv.gz"))
n_design <- length(entries) - n_real
runtime <- as.numeric(difftime(Sys.time(), t_start, units = "secs"))

# ---------------------------------------------------------------------------------------------
# JSON: one fit per line, numbers at full precision
crit_cols <- unique(unlist(lapply(entries, function(e) names(attr(e, "crit")))))
crit_mat <- do.call(rbind, lapply(entries, function(e) attr(e, "crit")[crit_cols]))
colnames(crit_mat) <- crit_cols
present <- do.call(rbind, lapply(entries, function(e) crit_cols %in% names(attr(e, "crit"))))
colnames(present) <- crit_cols
meta <- list(
  description = "lme4 optima of linear mixed models: criterion reached by each optimizer and the estimates at the best optimum found",
  generated_by = "scripts/references/lmm_optimum.R",
  R_version = R.version.string,
  packages = lapply(c(lme4 = "lme4", Matrix = "Matrix", nloptr = "nloptr", minqa = "minqa",
                      optimx = "optimx", nlme = "nlme", MASS = "MASS", lmerTest = "lmerTest",
                      jsonlite = "jsonlite"),
                    function(p) if (pkg_ok(p)) as.character(packageVersion(p)) else NULL),
  optimizers = OPTIMIZERS, polishers = POLISHERS,
  criterion = "REML criterion (-2 * REML log-likelihood) for REML fits, deviance (-2 * log-likelihood) for ML fits",
  singular_tol = j_num(SING_TOL),
  n_fits = length(entries), n_real = n_real, n_design = n_design,
  runtime_seconds = j_num(round(runtime, 1)))
strip <- function(e) { attr(e, "crit") <- NULL; e }
lines <- vapply(entries, function(e)
  as.character(toJSON(strip(e), auto_unbox = TRUE, json_verbatim = TRUE, null = "null",
                      na = "null", digits = NA)), "")
json_path <- file.path(OUT, "lme4_optimum.json")
con <- file(json_path, "w")
writeLines(paste0("{\"meta\": ", toJSON(meta, auto_unbox = TRUE, json_verbatim = TRUE,
                                         null = "null", na = "null", digits = NA), ","), con)
writeLines("\"fits\": [", con)
writeLines(paste0(lines, c(rep(",", length(lines) - 1), "")), con)
writeLines("]}", con)
close(con)
invisible(fromJSON(json_path, simplifyVector = FALSE))   # valid JSON

# ---------------------------------------------------------------------------------------------
# README with the summary of optimizers
kind <- ifelse(seq_along(entries) <= n_real, "real", "design")
best <- apply(crit_mat, 1, min, na.rm = TRUE)
gap <- crit_mat[, "nloptwrap"] - best
ids <- vapply(entries, `[[`, "", "id")
forms <- vapply(entries, `[[`, "", "formula")
best_opt <- vapply(entries, `[[`, "", "best_optimizer")
sing <- vapply(entries, `[[`, TRUE, "singular")
gap_table <- function(sel, label) {
  g <- gap[sel]
  sprintf("| %s | %d | %d | %d | %d | %.3g |", label, sum(sel),
          sum(is.na(g)), sum(g > 1e-6, na.rm = TRUE), sum(g > 0.01, na.rm = TRUE),
          max(g, na.rm = TRUE))
}
opt_names <- colnames(crit_mat)
opt_rows <- vapply(opt_names, function(o) {
  d <- crit_mat[, o] - best
  sprintf("| %s | %d | %d | %d | %d | %d | %d |", o, sum(present[, o]), sum(best_opt == o),
          sum(present[, o] & is.na(d)), sum(d <= 1e-6, na.rm = TRUE),
          sum(d > 1e-6 & d <= 0.01, na.rm = TRUE), sum(d > 0.01, na.rm = TRUE))
}, "")
worst <- order(-ifelse(is.na(gap), -Inf, gap))[1:10]
worst_rows <- sprintf("| %s | `%s` | %.6g | %s |", ids[worst], gsub("|", "\\|", forms[worst], fixed = TRUE), gap[worst],
                      best_opt[worst])
pv <- function(p) if (pkg_ok(p)) as.character(packageVersion(p)) else "not installed"
real_rows <- vapply(names(REAL_SETS), function(f) {
  rs <- REAL_SETS[[f]]
  sprintf("| `real/%s` | %s | %d | %s |", f, sub("^real:", "", rs$source),
          nrow(rs$df[complete.cases(rs$df), , drop = FALSE]),
          if (nzchar(rs$note)) rs$note else "")
}, "")
checks <- unlist(lapply(entries, function(e) attr(e, "check")))
check_line <- if (length(checks)) sprintf(paste(
  "Check on the %d design fits with a predictor scaled by 1e-3 or 1e3 (`rescaled_check`):",
  "`best` is within 1e-6 of the optimum of the unit-scale reparametrisation in %d fits,",
  "below it by more than 1e-6 (the optimizers did worse on the unit-scale problem) in %d, and",
  "above it in %d (largest |diff| %.3g). `best` includes the `rescaled_polish` run, started at",
  "the unit-scale optimum mapped back; it was the lowest in %d of these fits."),
  length(checks), sum(abs(checks) <= 1e-6), sum(checks < -1e-6), sum(checks > 1e-6),
  max(abs(checks)), sum(best_opt == "rescaled_polish")) else ""
if (length(checks)) {
  others <- setdiff(colnames(crit_mat), "rescaled_polish")
  short <- apply(crit_mat[, others, drop = FALSE], 1, min, na.rm = TRUE) - best
  check_line <- c(check_line, "", sprintf(paste(
    "Without the `rescaled_polish` start, `best` would have been higher by more than 1e-6 in",
    "%d fits (by more than 0.01 in %d): on badly scaled models every optimizer here,",
    "polished or not, can stop short."), sum(short > 1e-6), sum(short > 0.01)))
}
evals <- unlist(lapply(entries, function(e) attr(e, "eval_diff")))
if (length(evals)) check_line <- c(check_line, "", sprintf(paste(
  "lme4's evaluation of the criterion on the badly scaled designs (`eval_diff`): |eval_diff|",
  "> 1e-6 in %d of %d fits, > 1e-3 in %d, largest %.3g. Where it is large, `best` on that",
  "scale is only known to about |eval_diff|."), sum(abs(evals) > 1e-6), length(evals),
  sum(abs(evals) > 1e-3), max(abs(evals))))
dropped_rows <- if (length(dropped)) vapply(dropped, function(e)
  sprintf("- `%s` `%s`: %s", e$ds, e$formula, paste(e$msgs, collapse = "; ")), "") else "- none"
refused_rows <- if (length(refused)) vapply(refused, function(e)
  sprintf("- `%s` `%s`: %s", e$id, e$formula, paste(e$msgs, collapse = "; ")), "") else "- none"

readme <- c(
  "# lme4 optima: reference fits for mmcore",
  "",
  "Made by `scripts/references/lmm_optimum.R` (R is only the tool that makes these files;",
  "neither the app nor its tests run R). Regenerate from the repository root with",
  "",
  "```",
  "apt-get install -y r-base-core r-cran-lme4 r-cran-nlme r-cran-lmertest r-cran-mass \\",
  "    r-cran-jsonlite r-cran-optimx r-cran-minqa r-cran-nloptr",
  "Rscript scripts/references/lmm_optimum.R",
  "```",
  "",
  sprintf("The last run took %.0f s (%s) and produced %d fits: %d on real data, %d on %d random designs.",
          runtime, format(Sys.Date()), length(entries), n_real, n_design, length(designs)),
  "The script is deterministic: the same versions give the same files.",
  "",
  "## Versions",
  "",
  sprintf("- %s, %s", R.version.string, R.version$platform),
  sprintf("- lme4 %s, Matrix %s, nloptr %s, minqa %s, optimx %s", pv("lme4"), pv("Matrix"),
          pv("nloptr"), pv("minqa"), pv("optimx")),
  sprintf("- data from nlme %s, MASS %s, lmerTest %s, lme4 %s and R's datasets (%s), all Debian packages",
          pv("nlme"), pv("MASS"), pv("lmerTest"), pv("lme4"), getRversion()),
  "",
  "## Files",
  "",
  "- `lme4_optimum.json`: `{\"meta\": {...}, \"fits\": [...]}`, one fit per line. Each fit:",
  "  - `id`, `source` (`real:<package>::<dataset>` or `design:<ds>`), `data` (CSV path relative",
  "    to this folder for real data, the `ds` id for designs), `formula`, `REML`, `n`, `ngroups`;",
  "  - `criterion`: the criterion each optimizer ended at (REML criterion, i.e. -2 REML",
  "    log-likelihood, for REML fits; deviance, -2 log-likelihood, for ML fits); `null` where",
  "    the optimizer failed. Optimizers: `nloptwrap` (lme4's default, `lmerControl()`),",
  "    `bobyqa` (minqa), `Nelder_Mead` (lme4's), `nlminbwrap`, `optimx_LBFGSB`",
  "    (`optimizer=\"optimx\", optCtrl=list(method=\"L-BFGS-B\")`), then two polishing runs",
  "    started at the best theta of those five: `bobyqa_polish` (rhobeg 1e-3, rhoend 1e-11)",
  "    and `nloptwrap_polish` (xtol_abs 1e-12, ftol_abs 1e-14, ftol_rel 1e-15, xtol_rel 1e-12);",
  "    designs with a predictor scaled by 1e-3 or 1e3 also have `rescaled_polish`: both",
  "    polishers started at the optimum of the unit-scale reparametrisation (see",
  "    `rescaled_check`) mapped back to this model's theta, the better of the two;",
  "  - `default` (= `criterion.nloptwrap`), `best` (the lowest of all), `best_optimizer`",
  "    (ties go to the first in the order above);",
  "  - at the best optimum: `theta_names`, `best_theta`, `best_fixef` and `best_se` (named by",
  "    lme4's column names), `best_sigma`, `best_varcorr` (rows of",
  "    `as.data.frame(VarCorr(fit))`: grp, var1, var2, vcov, sdcor; NA as null),",
  "    `best_loglik` (the REML log-likelihood for REML fits), `singular`",
  sprintf("    (`isSingular(fit, tol = %g)`), `lower` (`getME(fit, \"lower\")`; `null` is -Inf);", SING_TOL),
  "  - `messages`: warnings and messages of the default optimizer's fit (convergence,",
  "    singular fit, rescaling advice);",
  "  - `thetas` and `fevals`: theta and function evaluations of every optimizer;",
  "  - designs only: `truth`, the parameters the data were drawn from (`g_sd`, `g_cor`: SDs",
  "    and correlations (upper triangle, by rows) of the g term's columns `g_cols`; `h_sd` for",
  "    the crossed h; `gh_sd`, `gh_cor` for the nested h:g term; `sigma`; `x_scales`, the",
  "    factors x1, x2, x3 were multiplied by), and, where a scale is not 1, `rescaled_check`:",
  "    the best criterion of the same model fitted with x divided by its scale",
  "    (`best_unit_scale`), the exact REML shift `log det(X'X) - log det(Xu'Xu)` (0 for ML),",
  "    `diff` = best - (best_unit_scale + shift), which is ~0 when `best` is the optimum, and",
  "    `eval_diff`: lme4's criterion evaluated on this model's scale at the unit-scale optimum",
  "    mapped back, minus (best_unit_scale + shift). The two are the same point, so",
  "    `eval_diff` is the error of lme4's own evaluation of the criterion for this badly",
  "    scaled model: compare `best` with a tolerance no finer than |eval_diff|.",
  "  Numbers are written at full precision (the shortest of 15-17 significant digits that",
  "  reads back to the same double).",
  "- `designs.csv.gz`: all random designs in one table; `ds` names the design. Columns",
  "  `y, x1, x2, x3` (numeric, rounded to 7 significant digits before fitting, so the file",
  "  holds exactly what lme4 fitted), `f` (factor a/b/c), `g`, `h` (grouping labels; in the",
  "  nested designs `h` labels repeat across `g`, so `(1 | g/h)` uses `h:g`). Every column is",
  "  filled in every design; a design's formula says which it uses.",
  "- `real/*.csv`: one CSV per real data set, header, no row names, factors as labels, no",
  "  missing values. Numbers at full precision. Derived columns (logs, squares, centred and",
  "  rescaled copies) are precomputed, since formulas name columns only.",
  "",
  "How R fitted the CSVs, which the Python side must match:",
  "",
  "- every text column is a factor whose levels are sorted by code point (the order Python's",
  "  sorting gives), so the baseline of each treatment contrast is the first label in that",
  "  order; fixed-effect factors whose labels were numbers in R carry a letter prefix (e.g.",
  "  `D1`), so that pandas keeps them as text; 0/1 factors are written as numeric 0/1;",
  "- every grouping variable is a factor, numeric grouping columns too;",
  "- the script checks that every CSV reads back to exactly the numbers fitted (with R's",
  "  reader). pandas 3's default `read_csv` gives the same doubles as Python's `float()` on",
  "  every field (checked); on pandas < 3 pass `float_precision=\"round_trip\"`.",
  "",
  "## Real data sets",
  "",
  "| file | source | rows | notes |",
  "|---|---|---|---|",
  real_rows,
  "",
  "## How often lme4's default optimizer stops short",
  "",
  "`gap` = `default - best` (criterion units: REML criterion or deviance).",
  "",
  "| kind | fits | default failed | gap > 1e-6 | gap > 0.01 | largest gap |",
  "|---|---|---|---|---|---|",
  gap_table(kind == "real", "real"), gap_table(kind == "design", "design"),
  gap_table(rep(TRUE, length(kind)), "all"),
  "",
  "Per optimizer (`best` = how often it was the argmin; `<= 1e-6` = how often it ended within",
  "1e-6 of the best):",
  "",
  "| optimizer | fits run | best | failed | <= 1e-6 | (1e-6, 0.01] | > 0.01 |",
  "|---|---|---|---|---|---|---|",
  opt_rows,
  "",
  "Largest gaps of the default optimizer:",
  "",
  "| fit | formula | gap | best optimizer |",
  "|---|---|---|---|",
  worst_rows,
  "",
  sprintf("Singular at the best optimum (tol %g): %d of %d fits (%d real, %d design).",
          SING_TOL, sum(sing), length(sing), sum(sing & kind == "real"), sum(sing & kind == "design")),
  "The tolerance applies to theta, so it is not scale-free: models with a predictor scaled",
  "by 1e3 (e.g. `Days_k`, `age_k`, `SES_k`) have slope thetas of about 1e-4 and sit next to",
  "it; compare `singular` there with care.",
  "",
  check_line,
  "",
  "Real-data fits lme4 refused (no optimizer returned a fit; not in the JSON):",
  "",
  refused_rows,
  "",
  "Random designs drawn but left out because lme4 refused them, its default optimizer",
  "failed with an error, or it dropped a collinear fixed-effect column (another design was",
  "drawn in their place):",
  "",
  dropped_rows,
  "")
writeLines(readme, file.path(OUT, "README.md"))

cat(sprintf("\nfits: %d (real %d, design %d); refused %d; dropped designs %d; runtime %.0f s\n",
            length(entries), n_real, n_design, length(refused), length(dropped), runtime))
cat(check_line, sep = "\n")
cat("default gap > 1e-6:", sum(gap > 1e-6, na.rm = TRUE), " > 0.01:", sum(gap > 0.01, na.rm = TRUE),
    " max:", max(gap, na.rm = TRUE), "on", ids[which.max(gap)], "\n")
print(table(best_opt))
