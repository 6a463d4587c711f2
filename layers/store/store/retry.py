"""Backoff with full jitter for compare-and-set loops and other retries.

Under contention (a flash sale: many buyers, one product row) retrying a lost
compare-and-set at once only loses again; waiting a random, growing time lets
the others through (the "full jitter" of the AWS Architecture Blog's
"Exponential Backoff And Jitter"). The loop gives up after `budget` seconds, so
a request stays well inside the function's timeout.
"""

from __future__ import annotations

import random
import time
from collections.abc import Iterator

BASE_DELAY = 0.005
MAX_DELAY = 0.25
BUDGET = 5.0


def backoff(*, base: float = BASE_DELAY, cap: float = MAX_DELAY, budget: float = BUDGET) -> Iterator[int]:
    """Yields attempt numbers (0, 1, ...), sleeping a jittered, growing delay
    before each retry, until `budget` seconds have passed since the first."""
    deadline = time.monotonic() + budget
    attempt = 0
    while True:
        yield attempt
        attempt += 1
        delay = random.uniform(0, min(cap, base * 2**attempt))  # noqa: S311 - jitter, not security
        if time.monotonic() + delay > deadline:
            return
        time.sleep(delay)
