"""Generalized linear mixed models as lme4's glmer: families, PIRLS, the Laplace approximation and
adaptive Gauss-Hermite quadrature, the two-stage fit, GlmmFit; glmmPQL and marginal fits beside it."""
