"""The errors mmcore raises on bad input.

Every message is written for a student: what is wrong, in plain words, and what to do.
`fit` lets nothing else escape on bad input (tests/test_robust.py holds it to that).
"""


class MixedModelError(ValueError):
    """Base class: a model that cannot be fitted, for a reason the user can fix."""


class FormulaError(MixedModelError):
    """The formula cannot be read, or names something that is not a column of the data."""


class DataError(MixedModelError):
    """The data cannot be fitted with this model (missing response, one group, ...)."""


class BudgetError(MixedModelError):
    """The model is too large for this server's resource budget (mmcore/model/limits.py): the message
    says what is too big, the estimate against the limit, and what to do."""
