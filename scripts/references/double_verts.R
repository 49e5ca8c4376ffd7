# References for the "Formula:" line of lme4's summary(): a formula with `||` is printed after
# lme4's expandDoubleVerts, deparsed by R. Run from the project root:
#   Rscript scripts/references/double_verts.R
# Writes tests/reference/double_verts.json. R 4.2, lme4, jsonlite.
suppressMessages({library(lme4); library(jsonlite)})
typed <- c("Reaction ~ Days + (Days || Subject)",
           "y ~ x + (x + z || g) + (0 + x || h)",
           "y ~ (x*z || g:h)",
           "y~x+(x || a/b)",
           "y ~ x + (Days||Subject) + (1|item)",
           "y ~ x + (1 + x || g)",
           "y ~ `x` + (`x` || g)",
           "y ~ (`_a` || g)",
           "y ~ (`TRUE` || g)",
           "y ~ (`my col` || g)",
           "y ~ (.x || g)")
printed <- vapply(typed, function(f) {
  out <- capture.output(lme4:::.prt.call(list(formula = lme4:::expandDoubleVerts(as.formula(f)))))
  sub("^Formula: ", "", paste(out, collapse = "\n"))
}, "")
writeLines(toJSON(list(typed = typed, printed = unname(printed),
                       versions = list(R = R.version.string, lme4 = as.character(packageVersion("lme4")))),
                  pretty = TRUE, auto_unbox = TRUE), "tests/reference/double_verts.json")
