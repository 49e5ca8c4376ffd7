# References for the printed correlation tables: R's abbreviate() as lme4 and nlme label them
# (columns minlength 6, lme4's rows minlength 11), and the labels lme4 prints for models whose
# coefficient names are long. Run from the project root:
#   Rscript scripts/references/abbreviate.R
# Writes tests/reference/abbreviate.json. R 4.2, lme4, jsonlite.
suppressMessages({library(lme4); library(jsonlite)})
names <- c("(Intercept)", "Days", "x", "treatB", "treatC", "Sexmale", "Age", "Height", "Weight",
           "Surfacenorm", "Visiondome", "Visionopen", "visiondim", "visionpen", "period2", "period3",
           "periodearly", "periodlate", "grpB", "periodearly:grpB", "periodlate:grpB", "age:sexMale",
           "log(dose)", "I(Days^2)", "poly(x, 2)1", "poly(x, 2)2", "s", "c", "sin(2 * pi * Time)",
           "cos(2 * pi * Time)", "Machine B", "Machine C", "  spaced name ", "UPPERCASE", "ALLCAPSNAME",
           "abcd", "efgh", "abce", "temperature", "temperatures", "temperate", "xy1234567", "xy1234568",
           "conditionB:itemtypefiller", "conditionB", "itemtypefiller")
abbrev <- list()
for (m in c(2, 4, 6, 11)) abbrev[[as.character(m)]] <- unname(abbreviate(names, minlength = m))
# lme4's printed "Correlation of Fixed Effects:" for models with long names: the labels (ctsib: R's
# default optimizer stops short there, so only its labels are a reference) and the unbalanced lmer's text
block <- function(fit) {
  out <- capture.output(print(summary(fit), correlation = TRUE))
  start <- grep("^Correlation of Fixed Effects:", out)
  rows <- out[(start + 1):(start + length(fixef(fit)))]  # the header and a row for each but the first
  list(header = strsplit(trimws(rows[1]), " +")[[1]], rows = sub(" .*$", "", sub("^ +", "", rows[-1])),
       names = names(fixef(fit)), text = rows)
}
ctsib <- read.csv("datasets/ctsib.csv"); ctsib$stable <- as.integer(ctsib$CTSIB == 1)
unbal <- read.csv("tests/reference/inference_data/sleep_unbalanced.csv")
unbal$period <- factor(unbal$period); unbal$grp <- factor(unbal$grp); unbal$Subject <- factor(unbal$Subject)
models <- list(
  ctsib = block(glmer(stable ~ Sex + Age + Height + Weight + Surface + Vision + (1 | Subject), ctsib, binomial)),
  unbalanced = block(lmer(Reaction ~ period * grp + (1 | Subject), unbal)))
write_json(list(names = names, abbreviate = abbrev, models = models,
                versions = list(R = R.version.string, lme4 = as.character(packageVersion("lme4")))),
           "tests/reference/abbreviate.json", auto_unbox = TRUE, pretty = TRUE, digits = NA)
