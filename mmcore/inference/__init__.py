"""Inference on fitted models: likelihood-ratio tests and their parametric bootstrap (compare),
variance components, the ICC and the classical ANOVA estimators (variance)."""
