"""Answers computed before anyone asks: the other values of a lesson's truth slider.

A class in simulate mode moves one slider of the truth (random slopes' rho) to values no one has
asked for yet: each new value is a new data set, its fits and figures (about 40 ms), and fifty
students asking at once queued the server for seconds (bench/load.py: p95 4.5 s over the first
third of the moves, 0.13-0.27 s once the values were cached). So when a page runs in simulate mode
it names the slider and what the page computes for one data set, and that is computed for every value
of the slider, the nearest first, into the shared caches (lab/cache.py): by one background thread,
and by every page run while values are pending, one value per run, after its page is sent
(lab.page_end, which also wakes the thread: not before, so it never competes with the run that
queued the values). Under a class the background thread gets a fiftieth of the interpreter (the GIL is
shared fairly among the script threads), so the students' first runs do the work, before anyone moves
a slider; a lone student's first run ends one value (about 40 ms) later, with the page already on
screen, and the thread does the rest while they read.

Not for every slider: random intercepts' sigma_b (101 values, each a data set, a fit and two figures)
was tried and left out. Under a class moving it to random values (bench/load.py) the values computed
ahead were mostly ones no one asked for, on the interpreter the students' runs needed: slider rerun p95
5.9 s against 3.4 s without; computed only while the server was quiet, the class was as without, and
a lone student's press gained ~50 ms of the server's reply but no clear time in the browser.

It must not slow the students it works for: one thread for the whole server, a pause between jobs so
that script threads get the interpreter, and a bounded queue in which the newest request wins (a
student who moves on makes older requests stale). Not a lower OS priority: a thread descheduled
while it holds the interpreter lock holds up every script thread. A job that fails
is dropped silently: the page computes the same thing itself, with its message, when it is asked.
"""
from __future__ import annotations

import functools
import threading
import time
from collections import OrderedDict

from lab.cache import DataSpec
from lab.sidebar import slider_values

MAX_PENDING = 400  # jobs waiting; beyond this the oldest are forgotten
MAX_DONE = 20_000  # jobs remembered as done (their answers are in the LRU caches, or were evicted)
PAUSE = 0.002  # seconds between jobs: the interpreter is free for script threads

_pending: OrderedDict = OrderedDict()  # (key, spec) -> compute, newest last
_done: OrderedDict = OrderedDict()
_lock = threading.Lock()
_wake = threading.Event()
_thread: threading.Thread | None = None
_running = 0  # jobs being computed (by the thread or by page runs)


def compute_ahead(spec: DataSpec, name: str, compute, key: tuple) -> None:
    """Queue compute(s) for the data sets s that differ from spec (simulated) only in the truth's
    `name`, the values nearest spec's first. compute calls the shared cached getters; key names what
    it computes (the page and anything compute depends on besides s), so each job is queued once."""
    if not spec.simulated:
        return
    with _lock:
        for job in _jobs(key, spec, name):  # the nearest last: taken first
            if job not in _done:
                _pending.pop(job, None)
                _pending[job] = compute
        while len(_pending) > MAX_PENDING:
            _pending.popitem(last=False)


def page_sent() -> None:
    """A page's run has sent its page (lab.page_end): compute one pending value here, then let the
    background thread go on with the rest. Not sooner: woken in the middle of the run that queued
    them, the thread took the interpreter from that very run (a lone student's first page)."""
    help_once()
    with _lock:
        if not _pending:
            return
        _start()
    _wake.set()


@functools.lru_cache(maxsize=256)
def _jobs(key: tuple, spec: DataSpec, name: str) -> tuple:
    """The jobs of compute_ahead, farthest value first (made once per page run's spec: every rerun
    of a page asks again)."""
    truth = spec.truth
    values = sorted(slider_values(spec.simulator, name), key=lambda v: abs(v - truth[name]), reverse=True)
    return tuple((key, spec.with_truth(name, v)) for v in values if v != truth[name])


def help_once() -> bool:
    """Take the newest pending job and compute it; False when there was none. A page's run calls it
    once its page is sent (lab.page_end): under a class the background thread gets a fiftieth of the
    interpreter."""
    global _running
    with _lock:
        if not _pending:
            return False
        job, compute = _pending.popitem(last=True)
        _done[job] = None
        while len(_done) > MAX_DONE:
            _done.popitem(last=False)
        _running += 1
    try:
        compute(job[1])
    except Exception:  # noqa: BLE001 (the page computes it again when asked, and says what went wrong)
        pass
    finally:
        with _lock:
            _running -= 1
    return True


def pending() -> int:
    """Jobs queued or being computed."""
    with _lock:
        return len(_pending) + _running


def _start() -> None:
    global _thread
    if _thread is None or not _thread.is_alive():
        _thread = threading.Thread(target=_work, name="mmlab-prefetch", daemon=True)
        _thread.start()


def _work() -> None:
    while True:
        _wake.wait()
        if not help_once():
            with _lock:
                if not _pending:
                    _wake.clear()
            continue
        time.sleep(PAUSE)
