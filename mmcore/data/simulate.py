"""Data drawn from a truth the user chooses, seeded, for every page's "simulate" mode.

Each simulator returns a DataFrame whose attrs["truth"] holds the parameters it was drawn from,
so a page can set the estimates beside the truth, and attrs["formula"] the model that matches it.
attrs hold scalars only: pandas deep-copies attrs on every column access.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import special

from ..errors import DataError


def _check(n_groups: int, n_per_group: int) -> None:
    if n_groups < 2 or n_per_group < 1:
        raise DataError("A simulation needs at least 2 groups and 1 observation per group.")


def _group_labels(n: int, prefix: str) -> pd.Categorical:
    labels = [f"{prefix}{i + 1:0{len(str(n))}d}" for i in range(n)]
    return labels


def simulate_intercepts(n_groups: int = 10, n_per_group: int = 10, beta0: float = 250.0,
                        beta1: float = 10.0, sigma_b: float = 30.0, sigma: float = 25.0,
                        seed: int | None = 0) -> pd.DataFrame:
    """y_ij = beta0 + b_i + beta1 x_ij + e_ij, b_i ~ N(0, sigma_b^2), e_ij ~ N(0, sigma^2);
    x = 0, 1, ..., n_per_group - 1 within each group (like sleepstudy's Days)."""
    _check(n_groups, n_per_group)
    rng = np.random.default_rng(seed)
    b = rng.normal(0.0, sigma_b, n_groups)
    group = np.repeat(np.arange(n_groups), n_per_group)
    x = np.tile(np.arange(n_per_group, dtype=float), n_groups)
    y = beta0 + b[group] + beta1 * x + rng.normal(0.0, sigma, len(x))
    labels = _group_labels(n_groups, "G")
    df = pd.DataFrame({"y": y, "x": x, "group": pd.Categorical.from_codes(group, labels)})
    df.attrs.update(truth={"beta0": beta0, "beta1": beta1, "sigma_b": sigma_b, "sigma": sigma},
                    formula="y ~ x + (1 | group)")
    return df


def simulate_slopes(n_groups: int = 18, n_per_group: int = 10, beta0: float = 250.0, beta1: float = 10.0,
                    sigma_b0: float = 25.0, sigma_b1: float = 6.0, rho: float = 0.0, sigma: float = 25.0,
                    seed: int | None = 0) -> pd.DataFrame:
    """Random intercepts and slopes with correlation rho:
    y_ij = (beta0 + b0_i) + (beta1 + b1_i) x_ij + e_ij, (b0_i, b1_i) ~ N(0, [[s0^2, r s0 s1], [r s0 s1, s1^2]]).

    Drawn as b0 = s0 z0, b1 = s1 (rho z0 + sqrt(1 - rho^2) z1) from one set of standard normals (z0,
    z1, then the residuals): the data move continuously with rho, as the truth's slider moves it, and
    are the draws of mmcore.lessons.sweeps.rho_sweep at the same seed. (numpy's multivariate_normal,
    used before, factors the covariance by eigenvectors whose order and signs jump at rho = 0: the
    sample there was another one than at rho = +-0.05.)"""
    _check(n_groups, n_per_group)
    if not -1 <= rho <= 1:
        raise DataError("The correlation rho must lie between -1 and 1.")
    rng = np.random.default_rng(seed)
    z0, z1 = rng.standard_normal(n_groups), rng.standard_normal(n_groups)
    b0, b1 = sigma_b0 * z0, sigma_b1 * (rho * z0 + np.sqrt(1 - rho**2) * z1)
    group = np.repeat(np.arange(n_groups), n_per_group)
    x = np.tile(np.arange(n_per_group, dtype=float), n_groups)
    y = beta0 + b0[group] + (beta1 + b1[group]) * x + sigma * rng.standard_normal(len(x))
    labels = _group_labels(n_groups, "G")
    df = pd.DataFrame({"y": y, "x": x, "group": pd.Categorical.from_codes(group, labels)})
    df.attrs.update(truth={"beta0": beta0, "beta1": beta1, "sigma_b0": sigma_b0, "sigma_b1": sigma_b1,
                           "rho": rho, "sigma": sigma},
                    formula="y ~ x + (x | group)")
    return df


def simulate_blocks(n_treatments: int = 4, n_blocks: int = 5, effects: tuple | None = None, mean: float = 85.0,
                    sigma_block: float = 3.0, sigma: float = 4.0, replicates: int = 1,
                    seed: int | None = 0) -> pd.DataFrame:
    """A randomised block design like penicillin: every treatment once (or `replicates` times)
    in every block; y = mean + effect(treat) + block_j + e."""
    _check(n_blocks, 1)
    rng = np.random.default_rng(seed)
    effects = np.zeros(n_treatments) if effects is None else np.asarray(effects, dtype=float)
    if len(effects) != n_treatments:
        raise DataError(f"Give one effect per treatment ({n_treatments}).")
    block_eff = rng.normal(0.0, sigma_block, n_blocks)
    t = np.tile(np.repeat(np.arange(n_treatments), replicates), n_blocks)
    blk = np.repeat(np.arange(n_blocks), n_treatments * replicates)
    y = mean + effects[t] + block_eff[blk] + rng.normal(0.0, sigma, len(t))
    treats = [chr(ord("A") + i) for i in range(n_treatments)]
    df = pd.DataFrame({"y": y, "treat": pd.Categorical.from_codes(t, treats),
                       "block": pd.Categorical.from_codes(blk, _group_labels(n_blocks, "Block"))})
    df.attrs.update(truth={"mean": mean, "effects": tuple(effects), "sigma_block": sigma_block, "sigma": sigma},
                    formula="y ~ treat + (1 | block)")
    return df


def simulate_nested(n_schools: int = 10, classes_per_school: int = 4, students_per_class: int = 15,
                    mean: float = 50.0, sigma_school: float = 5.0, sigma_class: float = 3.0, sigma: float = 8.0,
                    seed: int | None = 0) -> pd.DataFrame:
    """Students in classes in schools: y = mean + school_i + class_ij + e (fit (1 | school/class))."""
    _check(n_schools, 1)
    rng = np.random.default_rng(seed)
    s_eff = rng.normal(0.0, sigma_school, n_schools)
    c_eff = rng.normal(0.0, sigma_class, (n_schools, classes_per_school))
    school = np.repeat(np.arange(n_schools), classes_per_school * students_per_class)
    klass = np.tile(np.repeat(np.arange(classes_per_school), students_per_class), n_schools)
    y = mean + s_eff[school] + c_eff[school, klass] + rng.normal(0.0, sigma, len(school))
    df = pd.DataFrame({
        "score": y,
        "school": pd.Categorical.from_codes(school, _group_labels(n_schools, "S")),
        "class": pd.Categorical.from_codes(klass, _group_labels(classes_per_school, "C")),
    })
    df.attrs.update(truth={"mean": mean, "sigma_school": sigma_school, "sigma_class": sigma_class, "sigma": sigma},
                    formula="score ~ 1 + (1 | school/class)")
    return df


def simulate_statlab(n_schools: int = 10, students_per_school: int = 8, tests_per_student: int = 4,
                     mean: float = 60.0, sigma_school: float = 5.0, sigma_student: float = 8.0, sigma: float = 6.0,
                     seed: int | None = 0) -> pd.DataFrame:
    """Repeated test scores of students within schools (the StatLab design): y = mean + school_i +
    student_ij + e. Student labels restart in every school (1, 2, ... as a class list numbers
    them), as in many real files: student "3" of one school is not student "3" of another, so the
    model must say so: (1 | school/student), never (1 | school) + (1 | student)."""
    _check(n_schools, 1)
    if students_per_school < 1 or tests_per_student < 1:
        raise DataError("Each school needs at least one student, and each student at least one test.")
    rng = np.random.default_rng(seed)
    s_eff = rng.normal(0.0, sigma_school, n_schools)
    p_eff = rng.normal(0.0, sigma_student, (n_schools, students_per_school))
    per_school = students_per_school * tests_per_student
    school = np.repeat(np.arange(n_schools), per_school)
    student = np.tile(np.repeat(np.arange(students_per_school), tests_per_student), n_schools)
    test = np.tile(np.arange(1, tests_per_student + 1), n_schools * students_per_school)
    y = mean + s_eff[school] + p_eff[school, student] + rng.normal(0.0, sigma, len(school))
    df = pd.DataFrame({
        "score": y,
        "school": pd.Categorical.from_codes(school, _group_labels(n_schools, "S")),
        "student": pd.Categorical.from_codes(student, [str(i + 1) for i in range(students_per_school)]),
        "test": test,
    })
    df.attrs.update(truth={"mean": mean, "sigma_school": sigma_school, "sigma_student": sigma_student, "sigma": sigma},
                    formula="score ~ 1 + (1 | school/student)")
    return df


def simulate_crossed(n_subjects: int = 20, n_items: int = 12, mean: float = 600.0, effect: float = 30.0,
                     sigma_subject: float = 50.0, sigma_item: float = 30.0, sigma: float = 60.0,
                     seed: int | None = 0) -> pd.DataFrame:
    """Subjects x items, fully crossed: every subject responds to every item once (a reaction-time
    experiment; the lecture notes' pitch ~ gender + (1 | subject) + (1 | scenario)). Half the items
    are in condition B: y = mean + effect [item in B] + subject_s + item_i + e."""
    _check(n_subjects, 1)
    if n_items < 2:
        raise DataError("A crossed design needs at least 2 items (one in each condition).")
    rng = np.random.default_rng(seed)
    s_eff = rng.normal(0.0, sigma_subject, n_subjects)
    i_eff = rng.normal(0.0, sigma_item, n_items)
    subject = np.repeat(np.arange(n_subjects), n_items)
    item = np.tile(np.arange(n_items), n_subjects)
    condition = item % 2  # items alternate between the conditions
    y = mean + effect * condition + s_eff[subject] + i_eff[item] + rng.normal(0.0, sigma, len(item))
    df = pd.DataFrame({
        "rt": y,
        "condition": pd.Categorical.from_codes(condition, ["A", "B"]),
        "subject": pd.Categorical.from_codes(subject, _group_labels(n_subjects, "P")),
        "item": pd.Categorical.from_codes(item, _group_labels(n_items, "I")),
    })
    df.attrs.update(truth={"mean": mean, "effect": effect, "sigma_subject": sigma_subject, "sigma_item": sigma_item,
                           "sigma": sigma}, formula="rt ~ condition + (1 | subject) + (1 | item)")
    return df
def simulate_binary(n_groups: int = 30, n_per_group: int = 10, beta0: float = -0.5, beta1: float = 1.0,
                    sigma_b: float = 1.5, link: str = "logit", trials: int = 1,
                    seed: int | None = 0) -> pd.DataFrame:
    """Binary outcomes (or k of `trials`) of subjects each measured at x = -2 ... 2:
    P(y_ij = 1 | b_i) = g^-1(beta0 + beta1 x_ij + b_i), b_i ~ N(0, sigma_b^2), g the logit or probit link.
    With trials > 1 the response is `k` successes of `n` (fit cbind(k, n - k))."""
    _check(n_groups, n_per_group)
    if link not in ("logit", "probit"):
        raise DataError("The link must be 'logit' or 'probit'.")
    rng = np.random.default_rng(seed)
    b = rng.normal(0.0, sigma_b, n_groups)
    group = np.repeat(np.arange(n_groups), n_per_group)
    x = np.tile(np.linspace(-2.0, 2.0, n_per_group), n_groups)
    eta = beta0 + beta1 * x + b[group]
    p = special.expit(eta) if link == "logit" else special.ndtr(eta)
    df = pd.DataFrame({"x": x, "group": pd.Categorical.from_codes(group, _group_labels(n_groups, "S"))})
    if trials == 1:
        df.insert(0, "y", rng.binomial(1, p))
        formula = "y ~ x + (1 | group)"
    else:
        df.insert(0, "k", rng.binomial(trials, p))
        df.insert(1, "n", trials)
        formula = "cbind(k, n - k) ~ x + (1 | group)"
    df.attrs.update(truth={"beta0": beta0, "beta1": beta1, "sigma_b": sigma_b}, formula=formula, link=link)
    return df

