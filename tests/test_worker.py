"""Users' fits in the worker process (lab/worker.py): the fit comes back whole, a model past the
budget is refused before a process starts, and a worker that reaches its memory or time limit is
stopped with a plain message while the caller goes on."""
import numpy as np
import pytest

import mmcore
from lab import worker

INSTEVAL = "y ~ service + (1 | s) + (1 | d) + (1 | dept:service)"


@pytest.fixture(scope="module")
def insteval():
    return mmcore.load_dataset("insteval")


def test_a_large_fit_comes_back_from_the_worker_as_in_process(insteval):
    seen = []
    m = worker.fit_isolated("y ~ service + (1 | s)", insteval, progress=lambda text, share: seen.append(text))
    same = mmcore.fit("y ~ service + (1 | s)", insteval)
    assert seen and "worker process" in seen[0]
    assert m.reml_criterion == same.reml_criterion and np.array_equal(m.theta, same.theta)


def test_a_small_fit_stays_in_the_server_process(monkeypatch):
    monkeypatch.setattr(worker, "_in_worker", lambda *a: pytest.fail("a small fit went to a worker"))
    m = worker.fit_isolated("Reaction ~ Days + (Days | Subject)", mmcore.load_dataset("sleepstudy"))
    assert m.converged


def test_past_the_budget_no_worker_is_started(monkeypatch, insteval):
    monkeypatch.setattr(worker, "_in_worker", lambda *a: pytest.fail("a worker was started"))
    with pytest.raises(mmcore.BudgetError, match="too large for this server"):
        worker.fit_isolated(INSTEVAL, insteval, budget=mmcore.Budget(seconds=1))


def test_a_worker_past_its_memory_limit_is_stopped_with_a_message(monkeypatch, insteval):
    monkeypatch.setattr(worker, "limits", lambda budget, est: (40 * 2**20, 600, 600))
    with pytest.raises(mmcore.BudgetError, match="memory limit"):
        worker.fit_isolated(INSTEVAL, insteval)


def test_a_worker_past_its_time_limit_is_killed(monkeypatch, insteval):
    monkeypatch.setattr(worker, "limits", lambda budget, est: (8 * 2**30, 600, 0.5))
    with pytest.raises(mmcore.BudgetError, match="stopped after"):
        worker.fit_isolated(INSTEVAL, insteval)
    m = worker.fit_isolated("y ~ service + (1 | s)", insteval)  # the next fit is served as usual
    assert m.converged
