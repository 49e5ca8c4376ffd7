"""Inference on fitted models: likelihood-ratio tests and their bootstrap (compare), variance components
and the ICC (variance), denominator df and F tests as lmerTest (ddf), intervals as lme4's confint."""
