"""The single-event path through a real server: one gunicorn process on loopback, terminals
in other processes posting one event per request over keep-alive HTTP connections.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/closedloop \\
        .venv/bin/python bench/event_server_bench.py [--events 4000] [--clients 4] \\
        [--threads 1 4] [--orders 20] [--seed 1]

`bench/event_path_bench.py` times the same requests through Django's test client inside one
process, whose CPU then includes the client's. Here the server is what production runs
(`gunicorn config.wsgi`, `DEBUG=0`, one worker process), with `--threads 1` a sync worker
(one request at a time, as Procfile.production starts it) and with `--threads N` a threaded
worker (`gthread`, N requests at once, each thread its own database connection). The
terminals are `--clients` processes, each signed in as the bench supervisor (a session
cookie and the CSRF token a page would have given it) with one keep-alive connection, sending
its share of the events one request at a time, as fast as answers come.

Builds a throw-away database (`<NAME>_event_server_bench`, dropped at the end) with the plant
of bench/event_path_bench.py. Every event is a report of 1 good or 1 scrapped piece on a
random running task; 1 % repeat an id already sent; counters are checked after each run.
Printed per run: events/s over the wall time from the first request to the last answer, the
CPU per event of the server process, of the PostgreSQL backends serving it and of the client
processes (all read from /proc on this host), and the answers. API throttling is off for the
server (a benchmark floods the API by design). Not part of the test suite.
"""

from __future__ import annotations

import argparse
import http.client
import json
import multiprocessing
import os
import platform
import random
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import event_path_bench as single  # noqa: E402  (sets Django up)
import ingest_bench as base  # noqa: E402
from django.conf import settings  # noqa: E402
from django.db import connection  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
TICK = os.sysconf("SC_CLK_TCK")


def proc_cpu(pid: int) -> float:
    """CPU seconds (user + system) of a process and the threads in it, from /proc."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / TICK


def backends_cpu(db_name: str) -> float:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
            [db_name],
        )
        pids = [pid for (pid,) in cursor.fetchall()]
    return sum(proc_cpu(pid) for pid in pids)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def server_start(db_url: str, port: int, threads: int) -> subprocess.Popen:
    env = {
        **os.environ,
        "DATABASE_URL": db_url,
        "DEBUG": "0",
        "API_THROTTLE_USER": "off",
        "API_THROTTLE_TOKEN": "off",
        "PYTHONPATH": str(ROOT),
    }
    command = [
        str(ROOT / ".venv" / "bin" / "gunicorn"),
        "config.wsgi",
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        "1",
        "--log-level",
        "warning",
    ]
    if threads > 1:
        command += ["--worker-class", "gthread", "--threads", str(threads)]
    server = subprocess.Popen(command, cwd=ROOT, env=env, start_new_session=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return server
        except OSError:
            time.sleep(0.2)
    server.kill()
    raise RuntimeError("gunicorn did not start")


def worker_pid(master: int) -> int:
    children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
    if len(children) != 1:
        raise RuntimeError(f"expected one gunicorn worker, found {children}")
    return int(children[0])


def terminal(k, port, cookie, token, events, start, out) -> None:
    """One terminal: its events one request at a time on one keep-alive connection."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    headers = {
        "Content-Type": "application/json",
        "Cookie": cookie,
        "X-CSRFToken": token,
        "Connection": "keep-alive",
    }
    answers = []
    cpu = time.process_time()
    start.wait()
    for event in events:
        body = json.dumps({**event, "occurred_at": base.time_now().isoformat()})
        conn.request("POST", "/api/v1/execution/events/", body=body, headers=headers)
        response = conn.getresponse()
        data = response.read()
        if response.status not in (200, 201):
            answers.append({"status": f"HTTP {response.status}: {data[:200]!r}"})
        else:
            answers.append(json.loads(data))
    out.put((k, answers, time.process_time() - cpu))


def run(port, server_pid, db_name, cookie, token, keys, count, clients, rng, prefix) -> str:
    events = single.timed_events(keys, count, prefix, rng)
    shares = [events[k::clients] for k in range(clients)]
    start = multiprocessing.Barrier(clients + 1)
    out = multiprocessing.Queue()
    procs = [
        multiprocessing.Process(target=terminal, args=(k, port, cookie, token, share, start, out))
        for k, share in enumerate(shares)
    ]
    for proc in procs:
        proc.start()
    before = base.counters()
    cpu0, db0 = proc_cpu(server_pid), backends_cpu(db_name)
    start.wait()
    began = time.perf_counter()
    results = [out.get() for _ in procs]
    wall = time.perf_counter() - began
    cpu, db = proc_cpu(server_pid) - cpu0, backends_cpu(db_name) - db0
    for proc in procs:
        proc.join()
    answers_by_share = {k: answers for k, answers, _ in results}
    client_cpu = sum(c for _, _, c in results)
    failed = [a["status"] for _, answers, _ in results for a in answers if "event_id" not in a]
    if failed:
        return f"{len(failed)} requests failed, the first: {failed[0]}"
    ordered_events = [e for share in shares for e in share]
    ordered = [a for k in range(clients) for a in answers_by_share[k]]
    accepted, duplicates, qty, last = base.tally(ordered_events, ordered)
    verdict = base.check(before, base.counters(), qty, last)
    us = 1e6 / count
    return (
        f"**{count / wall:,.0f}** | {cpu * us:,.0f} / {db * us:,.0f} / {client_cpu * us:,.0f} µs | "
        f"{accepted:,} / {duplicates:,} / {count - accepted - duplicates:,} | {verdict}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=4_000)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--threads", type=int, nargs="*", default=[1, 4])
    parser.add_argument("--orders", type=int, default=20)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--rounds", type=int, default=1)
    args = parser.parse_args()
    if connection.vendor != "postgresql":
        sys.exit("event_server_bench needs PostgreSQL (DATABASE_URL)")

    from django.contrib.auth import get_user_model
    from django.middleware.csrf import _get_new_csrf_string
    from django.test import Client
    from django.test.utils import setup_test_environment

    setup_test_environment()
    db = settings.DATABASES["default"]
    db["TEST"]["NAME"] = f"{db['NAME']}_event_server_bench"
    name = connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False)
    servers: list[subprocess.Popen] = []
    try:
        print(
            f"event server bench — {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, "
            f"PostgreSQL {connection.pg_version // 10000}, {os.cpu_count()} CPUs, "
            f"Python {platform.python_version()}, load average {os.getloadavg()[0]:.1f}"
        )
        print(f"machine reference: {base.machine_reference()}")
        keys = base.build_plant(args.orders)
        single.add_shifts()
        user = get_user_model().objects.get(username="bench-supervisor")
        client = Client()
        client.force_login(user)
        token = _get_new_csrf_string()
        cookie = f"sessionid={client.cookies['sessionid'].value}; csrftoken={token}"
        connection.close()  # the server's connections see everything committed so far
        db_url = os.environ["DATABASE_URL"].rsplit("/", 1)[0] + f"/{name}"
        rng = random.Random(args.seed)
        print(
            f"plant: {len(keys)} running tasks on {args.orders} orders; {args.clients} terminal "
            f"processes, {args.events:,} events a run\n"
        )
        print(
            "| server | events/s | CPU per event: server / PostgreSQL backends / terminals "
            "| accepted / duplicate / rejected | check |"
        )
        print("|---|---|---|---|---|")
        for threads in args.threads:
            port = free_port()
            server = server_start(db_url, port, threads)
            servers.append(server)
            pid = worker_pid(server.pid)
            # Warm up: the worker imports its URL configuration on its first request.
            run(port, pid, name, cookie, token, keys, 40, 1, rng, f"warm{threads}")
            label = "sync worker" if threads == 1 else f"gthread worker, {threads} threads"
            for r in range(args.rounds):
                line = run(
                    port, pid, name, cookie, token, keys, args.events, args.clients, rng,
                    f"t{threads}-{r}",
                )  # fmt: skip
                print(f"| {label} | {line} |", flush=True)
            os.killpg(server.pid, signal.SIGTERM)
            server.wait(timeout=30)
            servers.remove(server)
    finally:
        for server in servers:
            os.killpg(server.pid, signal.SIGKILL)
        connection.close()
        connection.creation.destroy_test_db(name, verbosity=0)


if __name__ == "__main__":
    main()
