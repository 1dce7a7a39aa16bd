"""How fast this machine runs plain Python right now: on a shared VM the same code's time
swings with it, so the benchmarks print this next to their figures."""

import os
import time
from pathlib import Path


def python_loop_seconds() -> float:
    """Seconds for a fixed loop of 10 million additions."""
    t = time.perf_counter()
    total = 0
    for n in range(10_000_000):
        total += n
    return time.perf_counter() - t


# Measuring a database client: wall time, this process's CPU and its PostgreSQL backend's CPU.


def backend_cpu() -> float:
    """CPU seconds the PostgreSQL backend serving this connection has used (0 elsewhere)."""
    from django.db import connection

    if connection.vendor != "postgresql":
        return 0.0
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:  # the server runs elsewhere
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class Clock:
    """Wall time, this process's CPU time and the database backend's CPU time."""

    def __enter__(self):
        self.wall, self.cpu, self.db = time.perf_counter(), time.process_time(), backend_cpu()
        return self

    def __exit__(self, *exc):
        self.wall = time.perf_counter() - self.wall
        self.cpu = time.process_time() - self.cpu
        self.db = backend_cpu() - self.db
