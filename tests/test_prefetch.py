"""lab/prefetch.py: a truth slider's other values are computed in the background, nearest first."""
import threading
import time

from lab import prefetch
from lab.cache import DataSpec
from lab.sidebar import TRUTHS, on_grid, slider_values


def test_slider_values_are_on_the_grid_and_cover_the_range():
    rho = slider_values("slopes", "rho")
    assert len(rho) == 41 and rho[0] == -1.0 and rho[-1] == 1.0 and 0.15 in rho and 0.0 in rho
    assert on_grid(0.15000000000000002, -1.0, 0.05) == 0.15 and on_grid(7.0, 2, 1) == 7
    groups = slider_values("intercepts", "n_groups")
    assert groups == list(range(2, 61)) and all(isinstance(v, int) for v in groups)


def test_every_other_value_is_computed_once_nearest_first():
    truth = {name: spec[3] for name, spec in TRUTHS["slopes"].items()} | {"rho": 0.5}
    spec = DataSpec("simulate", "slopes", tuple(sorted(truth.items())), 3)
    seen, lock = [], threading.Lock()

    def compute(s):
        with lock:
            seen.append(s.truth["rho"])
        assert {k: v for k, v in s.truth.items() if k != "rho"} == {k: v for k, v in truth.items() if k != "rho"}

    prefetch.compute_ahead(spec, "rho", compute, key=("test", 1))
    prefetch.compute_ahead(spec, "rho", compute, key=("test", 1))  # a rerun: nothing queued twice
    prefetch.page_sent()  # as lab.page_end does: one value here, the rest in the background
    deadline = time.monotonic() + 30
    while (prefetch.pending() or len(seen) < 40) and time.monotonic() < deadline:
        time.sleep(0.01)
    time.sleep(0.05)
    assert sorted(seen) == sorted(v for v in slider_values("slopes", "rho") if v != 0.5)
    assert seen[:2] in ([0.45, 0.55], [0.55, 0.45])  # the nearest values first
    prefetch.compute_ahead(DataSpec("sleepstudy"), "rho", compute, key=("test", 1))  # real data: no truth
    assert prefetch.pending() == 0

