# nlme's time per fit (median and best wall clock, median CPU time of REPEATS calls, each timed by
# system.time) for every model of tests/reference/nlme_correlated.json (lme's default optimizer,
# nlminb). Called by bench/correlated.py, which prints it beside
# mmcore's. Usage: Rscript bench/nlme_timing.R REPEATS > times.json (run from the repository root).
suppressPackageStartupMessages({library(nlme); library(jsonlite)})
repeats <- as.integer(commandArgs(trailingOnly = TRUE)[1])
ref <- fromJSON("tests/reference/nlme_correlated.json", simplifyVector = FALSE)
sim <- read.csv("tests/reference/nlme_correlated_data.csv", stringsAsFactors = FALSE)
read <- function(name) {
  if (name %in% sim$design) {
    d <- sim[sim$design == name, ]; d$g <- factor(d$g); if (!all(is.na(d$trt))) d$trt <- factor(d$trt); return(d)
  }
  file <- if (name == "sleep") "sleepstudy" else name
  d <- read.csv(file.path("datasets", paste0(file, ".csv")), stringsAsFactors = FALSE)
  for (f in c("Mare", "Rat", "Diet", "tree", "fert", "Subject")) if (f %in% names(d)) d[[f]] <- factor(d[[f]])
  d
}
out <- list()
for (f in ref$fits) {
  data <- read(f$data)
  call <- parse(text = sub("^lme\\(", "lme(data = data, ", f$nlme))[[1]]
  note <- ""
  fit <- tryCatch(eval(call), error = function(e) e)  # warm up
  if (inherits(fit, "error")) {  # lme's default limits stop it: time it with the references' limits
    note <- paste("default control fails:", conditionMessage(fit))
    call$control <- quote(lmeControl(maxIter = 500, msMaxIter = 500, niterEM = 100, msMaxEval = 2000,
                                     returnObject = TRUE))
    fit <- suppressWarnings(eval(call))
  }
  times <- vapply(seq_len(repeats), function(i) {
    t <- system.time(suppressWarnings(eval(call)))
    c(t[["elapsed"]], t[["user.self"]] + t[["sys.self"]])
  }, c(0, 0))
  out[[f$id]] <- list(median = median(times[1, ]), min = min(times[1, ]), cpu = median(times[2, ]),
                      loglik = as.numeric(logLik(fit)), note = note)
}
cat(toJSON(out, auto_unbox = TRUE, digits = NA))
