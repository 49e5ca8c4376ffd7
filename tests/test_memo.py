"""lab.memo.lru_cache: a key asked for by many sessions at once is computed once; nested cached
calls (a figure and its fit) from many threads do not deadlock; errors are not cached."""
import threading
import time

import pytest

from lab.memo import lru_cache


def test_concurrent_callers_of_one_key_share_one_computation():
    calls = []

    @lru_cache(maxsize=8)
    def slow(x):
        calls.append(x)
        time.sleep(0.05)  # long enough that every thread asks while the first one computes
        return x * 2

    results = []
    threads = [threading.Thread(target=lambda: results.append(slow(3))) for _ in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == [6] * 12 and calls == [3]
    assert slow.cache_info().currsize == 1


def test_nested_cached_calls_from_many_threads_finish():
    @lru_cache(maxsize=64)
    def fit(k):
        time.sleep(0.001)
        return k

    @lru_cache(maxsize=64)
    def figure(k, scale=1.0):
        return fit(k % 3) + fit((k + 1) % 3) * scale

    out = []
    threads = [threading.Thread(target=lambda i=i: out.append(figure(i % 5, scale=2.0))) for i in range(40)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert len(out) == 40 and not any(t.is_alive() for t in threads)


def test_an_error_is_raised_to_each_caller_and_not_kept():
    tries = []

    @lru_cache(maxsize=4)
    def flaky(x):
        tries.append(x)
        if len(tries) == 1:
            raise ValueError("first time")
        return x

    with pytest.raises(ValueError):
        flaky(1)
    assert flaky(1) == 1 and len(tries) == 2
