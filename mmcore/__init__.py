"""mmcore: Mixed Models Lab's engine. Fits linear mixed models exactly as R's lme4 does.

Public names (pages, tests and benchmarks use only these): see DESIGN.md, "mmcore: the public contract".
"""
from .errors import DataError, FormulaError, MixedModelError
from .fitting import fit
from .formula import parse_formula
from .results import LmmFit

__all__ = ["fit", "LmmFit", "parse_formula", "MixedModelError", "FormulaError", "DataError"]
