"""mmcore: Mixed Models Lab's engine. Fits linear and generalized linear mixed models exactly as R's lme4 does.

Pages, tests and benchmarks use only the names below (DESIGN.md, "mmcore: the public contract").
The pipeline lives in sub-packages: model (formula -> matrices), lmm (deviance, optimizer, fit),
inference, data, lessons (the maths the lessons show) and figures.
"""
from .data.datasets import DatasetInfo, list_datasets, load_dataset
from .data.longitudinal import simulate_trees
from .data.simulate import (
                            simulate_binary,
                            simulate_blocks,
                            simulate_crossed,
                            simulate_intercepts,
                            simulate_nested,
                            simulate_slopes,
                            simulate_statlab,
)
from .data.upload import read_csv
from .errors import BudgetError, DataError, FormulaError, MixedModelError
from .fitting import fit
from .glmm.pql import PqlFit, fit_pql
from .glmm.results import GlmmFit
from .inference.compare import BootstrapLRT, anova, bootstrap_lrt
from .inference.ddf import coef_table, f_tests, format_f_tests, summary
from .inference.intervals import Profile, bootstrap_parameters, confint, profile
from .inference.variance import icc
from .lessons.planning import plan as plan_study
from .lmm.lme_results import LmeFit
from .lmm.results import LmmFit
from .model.formula import parse_formula
from .model.limits import Budget

__all__ = [
    "fit", "LmmFit", "GlmmFit", "LmeFit", "fit_pql", "PqlFit", "anova", "bootstrap_lrt", "BootstrapLRT", "icc",
    "parse_formula", "coef_table", "f_tests", "format_f_tests", "summary", "confint", "profile", "Profile",
    "bootstrap_parameters", "load_dataset", "list_datasets", "DatasetInfo", "read_csv",
    "simulate_intercepts", "simulate_slopes", "simulate_blocks", "simulate_nested", "simulate_binary",
    "simulate_trees", "simulate_statlab", "simulate_crossed", "plan_study",
    "MixedModelError", "FormulaError", "DataError", "BudgetError", "Budget",
]
