"""mmcore: Mixed Models Lab's engine. Fits linear mixed models exactly as R's lme4 does.

Pages, tests and benchmarks use only the names below (DESIGN.md, "mmcore: the public contract").
The pipeline lives in sub-packages: model (formula -> matrices), lmm (deviance, optimizer, fit),
inference, data, lessons (the maths the lessons show) and figures.
"""
from .data.datasets import DatasetInfo, list_datasets, load_dataset
from .data.longitudinal import simulate_trees
from .data.simulate import simulate_blocks, simulate_intercepts, simulate_nested, simulate_slopes
from .data.upload import read_csv
from .errors import DataError, FormulaError, MixedModelError
from .fitting import fit
from .inference.compare import BootstrapLRT, anova, bootstrap_lrt
from .inference.variance import icc
from .lmm.lme_results import LmeFit
from .lmm.results import LmmFit
from .model.formula import parse_formula

__all__ = [
    "fit", "LmmFit", "LmeFit", "anova", "bootstrap_lrt", "BootstrapLRT", "icc", "parse_formula",
    "load_dataset", "list_datasets", "DatasetInfo", "read_csv",
    "simulate_intercepts", "simulate_slopes", "simulate_blocks", "simulate_nested",
    "simulate_trees", "MixedModelError", "FormulaError", "DataError",
]
