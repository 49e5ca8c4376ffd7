"""The linear mixed model engine: lme4's profiled deviance, the optimizer, `fit` and `LmmFit`,
and many responses fitted at once (bootstrap, simulation studies)."""
