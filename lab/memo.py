"""functools.lru_cache, computed once when many sessions ask for the same thing at the same moment.

Every session of the app runs its page in a thread of its own. With a plain lru_cache, a class that
opens a page or moves a slider to the same new value at once computes the same fits and figures once
per student, in parallel threads sharing one interpreter (the GIL): under 50 sessions on random
slopes (bench/load.py) that duplicated work is what queued the reruns for seconds. Here the first
caller of a key computes it while later callers of that key wait for its answer; callers of other
keys are not held up. One lock per key in flight (not a fixed set of shared locks), so a cached
function calling another one (a figure calls its fit) cannot deadlock: the calls form a tree.
"""
from __future__ import annotations

import functools
import threading


def lru_cache(maxsize: int = 128):
    def decorate(fn):
        cached = functools.lru_cache(maxsize=maxsize)(fn)
        guard = threading.Lock()
        in_flight: dict = {}  # key -> [lock, number of callers holding or waiting for it]

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            key = (args, tuple(sorted(kwargs.items())))
            with guard:
                entry = in_flight.setdefault(key, [threading.Lock(), 0])
                entry[1] += 1
            try:
                with entry[0]:
                    return cached(*args, **kwargs)
            finally:
                with guard:
                    entry[1] -= 1
                    if entry[1] == 0:
                        del in_flight[key]

        wrapper.cache_info, wrapper.cache_clear = cached.cache_info, cached.cache_clear
        return wrapper

    return decorate
