"""mmcore: Mixed Models Lab's engine. Fits linear mixed models exactly as R's lme4 does.

Pages, tests and benchmarks use only the names below (DESIGN.md, "mmcore: the public contract").
"""
from .datasets import DatasetInfo, list_datasets, load_dataset
from .errors import DataError, FormulaError, MixedModelError
from .fitting import fit
from .formula import parse_formula
from .inference import BootstrapLRT, anova, bootstrap_lrt, icc
from .results import LmmFit
from .simulate import simulate_blocks, simulate_intercepts, simulate_nested, simulate_slopes
from .upload import read_csv

__all__ = [
    "fit", "LmmFit", "anova", "bootstrap_lrt", "BootstrapLRT", "icc", "parse_formula",
    "load_dataset", "list_datasets", "DatasetInfo", "read_csv",
    "simulate_intercepts", "simulate_slopes", "simulate_blocks", "simulate_nested",
    "MixedModelError", "FormulaError", "DataError",
]
