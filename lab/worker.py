"""Fits of users' data, where a runaway cannot take the server down.

A fit of an uploaded table is sized first (mmcore's budget: build the matrices, estimate memory and
time from the structure). Past the budget it is refused at once with the budget's message. A small
one (well under a second) is fitted in the server process, as before. Anything larger runs in a
worker process: forked from a clean forkserver (not from the threaded server), niced so that the
class's reruns come first, with hard limits (address space, CPU seconds) set in the child by
resource.setrlimit, and a wall-clock limit enforced by the parent, which kills it. At most
MAX_WORKERS such fits run per server process; the session that asked waits, with progress, and
every other session keeps its speed (tests/test_scale_server.py measures that on a live server).

No Streamlit in here: pages reach it through lab.cache.get_fit and lab.widgets.fit_or_stop.
"""
from __future__ import annotations

import multiprocessing as mp
import os
import resource
import threading
import time

import mmcore
from mmcore.lmm.budget import check_fit
from mmcore.model.design import build_model_data

INLINE_SECONDS = 0.3  # estimated time below which a fit runs in the server process
INLINE_MB = 300.0
MAX_WORKERS = 2  # worker fits at once per server process
NICE = 10  # the worker's priority below the server's
_slots = threading.BoundedSemaphore(MAX_WORKERS)
_context = None


def _ctx():
    global _context
    if _context is None:
        _context = mp.get_context("forkserver")
        _context.set_forkserver_preload(["mmcore", "lab.worker"])
    return _context


def fit_isolated(formula: str, data, reml: bool = True, budget: mmcore.Budget | None = None,
                 progress=None) -> mmcore.LmmFit:
    """mmcore.fit under the budget; large fits in a limited worker process. progress(text, share)
    is called while the session waits (share in 0..1 of the estimated time, or None)."""
    budget = budget or mmcore.Budget.from_env()
    md = build_model_data(formula, data, budget=budget)
    est = check_fit(md, budget)  # BudgetError past the budget: nothing else has been done
    if est.seconds <= INLINE_SECONDS and est.memory_mb <= INLINE_MB:
        return mmcore.fit(formula, data, reml=reml, budget=budget)
    return _in_worker(formula, data, reml, budget, est, progress)


def limits(budget: mmcore.Budget, est) -> tuple[float, float, float]:
    """(memory in bytes, CPU seconds, wall seconds) the worker may use: the budget with headroom for
    an estimate that is off, never less than the estimate's own needs."""
    memory = max(budget.memory_mb, 2 * est.memory_mb) * 2**20 * 1.5
    cpu = max(budget.seconds, 3 * est.seconds) * 2 + 30
    return memory, cpu, cpu * 2 + 30


def _in_worker(formula, data, reml, budget, est, progress) -> mmcore.LmmFit:
    memory, cpu, wall = limits(budget, est)
    t0 = time.monotonic()
    while not _slots.acquire(timeout=0.5):
        if progress:
            progress(f"Waiting for a free worker (other large fits are running): {time.monotonic() - t0:.0f} s", None)
        if time.monotonic() - t0 > wall:
            raise mmcore.BudgetError("The server is busy with other large fits; try again in a minute.")
    try:
        ctx = _ctx()
        receive, send = ctx.Pipe(duplex=False)
        proc = ctx.Process(target=_child, args=(send, formula, data, reml, budget, memory, cpu), daemon=True)
        proc.start()
        send.close()
        start, first = time.monotonic(), True
        try:
            while first or not receive.poll(0.25):  # the session hears at once that its fit has started
                first = False
                elapsed = time.monotonic() - start
                if progress:
                    progress(f"Fitting in a worker process: {elapsed:.0f} s of about {max(est.seconds, 1):.0f} s "
                             "estimated", min(elapsed / max(est.seconds, 1.0), 0.99))
                if not proc.is_alive() and not receive.poll(0):
                    raise mmcore.BudgetError(_died(proc.exitcode, memory, cpu))
                if elapsed > wall:
                    raise mmcore.BudgetError(
                        f"The fit was stopped after {elapsed:.0f} s, past this server's time limit. Use a grouping "
                        "factor with fewer levels, a random sample of the groups, or a simpler model.")
            try:
                kind, value = receive.recv()
            except EOFError:
                proc.join(5)
                raise mmcore.BudgetError(_died(proc.exitcode, memory, cpu)) from None
        finally:
            if proc.is_alive():
                proc.kill()
            proc.join(5)
            receive.close()
    finally:
        _slots.release()
    if kind == "error":
        raise value
    return value


def _died(code, memory: float, cpu: float) -> str:
    why = "its CPU time limit" if code in (-24, -9) else "its memory limit" if code is not None else "a limit"
    return (f"The fit was stopped: the worker process reached {why} ({memory / 2**30:.1f} GB, {cpu:.0f} CPU s). The "
            "model is too large for this server: use a grouping factor with fewer levels, a random sample of the "
            "groups, or a simpler model.")


def _child(send, formula, data, reml, budget, memory, cpu) -> None:
    """In the worker: lower priority, hard limits, fit, send the fit or the error back."""
    try:
        os.nice(NICE)
        resource.setrlimit(resource.RLIMIT_AS, (int(_address_space() + memory),) * 2)
        resource.setrlimit(resource.RLIMIT_CPU, (int(cpu), int(cpu) + 5))
        result = ("fit", mmcore.fit(formula, data, reml=reml, budget=budget))
    except mmcore.MixedModelError as err:
        result = ("error", err)
    except MemoryError:
        result = ("error", mmcore.BudgetError(_died(None, memory, cpu).replace("a limit", "its memory limit")))
    except Exception as err:  # noqa: BLE001 (a worker reports, never hangs the page)
        result = ("error", mmcore.DataError(f"The model could not be fitted ({type(err).__name__}: {err})."))
    send.send(result)
    send.close()


def _address_space() -> int:
    """The worker's present virtual size (libraries mapped before the fit): the limit comes on top."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmSize:"):
                return int(line.split()[1]) * 1024
    return 0
