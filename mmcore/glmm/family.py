"""The response distributions and links of a GLMM, computed as lme4's glmFamily does.

Everything works on the linear predictor eta, elementwise, for arrays of any shape (a batch of
parameter points at once). The log-likelihood is computed from eta in a numerically stable form
(log mu = -softplus(-eta) for the logit, never log(1 - mu) by subtraction): the optimizer
differentiates the criterion by finite differences, so it must be smooth to 1e-12, not 1e-8.
lme4's clamps are kept: mu within [eps, 1 - eps], mu.eta at least eps.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import special

from ..errors import MixedModelError

EPS = np.finfo(float).eps
LOG_EPS = np.log(EPS)
LOGIT_EPS = -special.logit(EPS)  # 36.04: beyond it lme4's logit link clamps mu at eps or 1 - eps


def softplus(x: np.ndarray) -> np.ndarray:
    """log(1 + exp(x)), stable for large |x|."""
    return np.maximum(x, 0.0) + np.log1p(np.exp(-np.abs(x)))


@dataclass(frozen=True)
class Family:
    name: str  # "binomial" or "poisson"
    link: str  # "logit", "probit", "cloglog" (binomial); "log" (poisson)

    # -- the link ----------------------------------------------------------------------------
    def linkinv(self, eta):
        if self.link == "logit":
            return np.clip(special.expit(eta), EPS, 1 - EPS)
        if self.link == "probit":
            return np.minimum(special.ndtr(eta), 1 - EPS)
        if self.link == "cloglog":
            return np.clip(-np.expm1(-np.exp(eta)), EPS, 1 - EPS)
        return np.maximum(np.exp(eta), EPS)

    def linkfun(self, mu):
        if self.link == "logit":
            return special.logit(mu)
        if self.link == "probit":
            return special.ndtri(mu)
        if self.link == "cloglog":
            return np.log(-np.log1p(-mu))
        return np.log(mu)

    def mu_eta(self, eta, mu=None):
        if self.link == "logit":
            mu = self.linkinv(eta) if mu is None else mu
            return np.maximum(mu * (1 - mu), EPS)
        if self.link == "probit":
            return np.exp(-0.5 * eta * eta) / np.sqrt(2 * np.pi)
        if self.link == "cloglog":
            e = np.exp(np.minimum(eta, 700.0))
            return np.maximum(e * np.exp(-e), EPS)
        return np.maximum(np.exp(eta), EPS)

    def variance(self, mu):
        return np.maximum(mu * (1 - mu), EPS) if self.name == "binomial" else mu

    def irls(self, eta, y, trials):
        """mu, the IRLS weights trials mu.eta^2 / V(mu) and the working residual (y - mu) / mu.eta."""
        mu = self.linkinv(eta)
        if self.link == "logit":  # mu.eta = V(mu): one product, no division
            v = np.maximum(mu * (1 - mu), EPS)
            return mu, trials * v, (y - mu) / v
        if self.link == "log":
            return mu, trials * mu, (y - mu) / mu
        d = self.mu_eta(eta, mu)
        return mu, trials * d * d / self.variance(mu), (y - mu) / d

    def weight_slope(self, w, mu):
        """dW/deta for the canonical links: logit W = n mu (1 - mu), so W' = W (1 - 2 mu); log W' = W."""
        return w * (1 - 2 * mu) if self.link == "logit" else w

    def state(self, eta, y, trials):
        """One pass over the rows: sum of log p(y | eta) (last axis, without the constant), the IRLS
        weights (lme4's W, for L) and working residuals, and the Newton weights and residuals that
        PIRLS steps with, and mu (None: trials are all 1, spared the products). For the canonical links (logit, log) the two
        weights are the same; for probit and cloglog IRLS uses the expected information and converges
        only linearly, so the steps use the observed information (-d2 log p / d eta2): the same mode,
        reached quadratically."""
        if self.link == "logit":
            e = np.clip(eta, -LOGIT_EPS, LOGIT_EPS)
            ex = np.exp(e)
            d = 1.0 + ex
            mu = ex / d
            v = mu / d  # mu (1 - mu)
            part = y * e - np.log(d)
            single = trials is None
            ll = (part if single else trials * part).sum(axis=-1)
            w, res = (v if single else trials * v), (y - mu) / v
            return ll, w, res, w, res, mu
        if self.link == "log":
            e = np.maximum(eta, LOG_EPS)
            mu = np.exp(e)
            if trials is None:
                return (y * e - mu).sum(axis=-1), mu, y / mu - 1.0, mu, y / mu - 1.0, mu
            w, res = trials * mu, y / mu - 1.0
            return (trials * (y * e - mu)).sum(axis=-1), w, res, w, res, mu
        trials = 1.0 if trials is None else trials
        _, w, res = self.irls(eta, y, trials)
        score, info = self._observed(eta, y, trials)
        return self.loglik(eta, y, trials).sum(axis=-1), w, res, info, score / info, None

    def _observed(self, eta, y, trials):
        """d log p / d eta and -d2 log p / d eta2 for the binomial's probit and cloglog links."""
        k, f = trials * y, trials * (1 - y)
        if self.link == "probit":
            log_phi = -0.5 * eta * eta - 0.5 * np.log(2 * np.pi)
            up = np.exp(log_phi - special.log_ndtr(eta))  # phi / Phi
            down = np.exp(log_phi - special.log_ndtr(-eta))  # phi / (1 - Phi)
            return k * up - f * down, np.maximum(k * up * (eta + up) + f * down * (down - eta), EPS)
        t = np.exp(np.minimum(eta, 700.0))  # cloglog: log mu = log(1 - e^-t), log(1 - mu) = -t
        em1 = np.expm1(t)
        curv = t * (em1 - t * (em1 + 1)) / (em1 * em1)  # d2/deta2 log(1 - e^-t), negative
        return k * t / em1 - f * t, np.maximum(-k * curv + f * t, EPS)

    # -- the likelihood ----------------------------------------------------------------------
    def loglik(self, eta, y, trials):
        """log p(y | eta) per row without the constant (binomial coefficient, log y!): see `constant`."""
        if self.name == "poisson":
            eta = np.maximum(eta, LOG_EPS)
            return trials * (y * eta - np.exp(eta))
        if self.link == "logit":  # k eta - n log(1 + e^eta); eta clipped where lme4 clamps mu
            eta = np.clip(eta, -LOGIT_EPS, LOGIT_EPS)
            return trials * (y * eta - np.log1p(np.exp(eta)))
        log_mu, log_1mu = self._logs(eta)
        k = trials * y
        return k * log_mu + (trials - k) * log_1mu

    def _logs(self, eta):
        if self.link == "logit":
            return np.maximum(-softplus(-eta), LOG_EPS), np.maximum(-softplus(eta), LOG_EPS)
        if self.link == "probit":
            return special.log_ndtr(eta), np.maximum(special.log_ndtr(-eta), LOG_EPS)
        e = np.exp(np.minimum(eta, 700.0))  # cloglog: 1 - mu = exp(-exp(eta))
        return np.maximum(np.log(-np.expm1(-e)), LOG_EPS), np.maximum(-e, LOG_EPS)

    def constant(self, y, trials) -> float:
        """The part of sum(log p(y)) that does not depend on eta: log choose(n, k), or -log y!."""
        if self.name == "poisson":
            return float(-np.sum(trials * special.gammaln(y + 1)))
        k = np.round(trials * y)
        return float(np.sum(special.gammaln(trials + 1) - special.gammaln(k + 1) - special.gammaln(trials - k + 1)))

    def dev_resid(self, y, mu, trials):
        """lme4's deviance residuals (squared): 2 n (y log(y/mu) + (1-y) log((1-y)/(1-mu)))."""
        with np.errstate(divide="ignore", invalid="ignore"):
            if self.name == "poisson":
                return 2 * trials * (special.xlogy(y, y / mu) - (y - mu))
            return 2 * trials * (special.xlogy(y, y / mu) + special.xlogy(1 - y, (1 - y) / (1 - mu)))

    def saturated(self, y, trials) -> float:
        """sum(log p(y | mu = y)), the constant lme4's quadrature deviance leaves out."""
        with np.errstate(divide="ignore", invalid="ignore"):
            if self.name == "poisson":
                ll = trials * (special.xlogy(y, y) - y)
            else:
                ll = trials * (special.xlogy(y, y) + special.xlogy(1 - y, 1 - y))
        return float(np.sum(ll)) + self.constant(y, trials)

    def simulate(self, mu, trials, rng):
        """Responses drawn at mu (same shape), as y: proportions for binomial, counts for Poisson."""
        if self.name == "poisson":
            return rng.poisson(mu).astype(float)
        return rng.binomial(trials.astype(np.int64), mu) / trials


LINKS = {"binomial": ("logit", "probit", "cloglog"), "poisson": ("log",)}


def get_family(name: str, link: str | None = None) -> Family:
    link = link or LINKS[name][0]
    if link not in LINKS[name]:
        raise MixedModelError(f"The link '{link}' is not offered for the {name} family: choose "
                              f"{' or '.join(LINKS[name])}.")
    return Family(name, link)
