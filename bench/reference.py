"""How fast this machine runs plain Python right now: on a shared VM the same code's time
swings with it, so the benchmarks print this next to their figures."""

import time


def python_loop_seconds() -> float:
    """Seconds for a fixed loop of 10 million additions."""
    t = time.perf_counter()
    total = 0
    for n in range(10_000_000):
        total += n
    return time.perf_counter() - t
