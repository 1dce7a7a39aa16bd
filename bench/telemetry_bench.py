"""Telemetry ingest benchmark: sustained samples/s through the gateway's ingest
(`samples_ingest`) and through `telemetry_append`, next to a bare COPY of the same rows, in
the same run.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/closedloop \\
        .venv/bin/python bench/telemetry_bench.py [--samples 1000000] [--batch 10000] \\
        [--machines 200] [--rounds 3] [--workers 2]

Builds a throw-away database (`<NAME>_telemetry_bench`, dropped at the end) with `--machines`
machines, migrated as in production (on PostgreSQL the day-partitioned table with its DEFAULT
partition, the (equipment, signal, at) index and the BRIN index on `at`). The samples are made
first (not timed): six signals per machine (state, part_count, good_count, spindle_speed,
temperature, fault) read once a second, as a gateway hands them on, spread over the hours of
one day. Then, for each round and path, the tables are emptied (telemetry, counters,
intervals, counts and processed batch ids) and the same samples are written in batches of
`--batch` (10,000: what the gateway's 200 ms flush forms at 50,000 samples/s), one
transaction per batch, by `--workers` processes each serving its shard of the machines (as
gateways sharded by plant area run; 1 = this process alone):

- `samples_ingest`, the gateway's whole ingest: Sample objects naming the machine by code,
  mapped through a device map of ten Modbus endpoints loaded by the map service; it looks the
  map up, appends the telemetry, moves the part and good counters (a part a minute per
  machine: ProductionCount rows and hourly sums), keeps the state intervals (running) and
  records the batch id;
- `telemetry_append` alone: the day's partition is checked, then one binary COPY per batch;
- a bare COPY (psycopg, text format, no Django, no partition check) of the same rows.

Prints wall time and samples/s of the whole, the CPU per sample of the processes and of their
PostgreSQL backends, and the rows in the table after each run (checked). Not part of the test
suite: the figures depend on the machine.
"""

from __future__ import annotations

import argparse
import gc
import os
import platform
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.db import connection, connections, transaction  # noqa: E402
from django.test.utils import setup_test_environment  # noqa: E402
from reference import Clock, python_loop_seconds  # noqa: E402  (bench/reference.py)

SIGNALS = ("state", "part_count", "good_count", "spindle_speed", "temperature", "fault")
DAY = datetime(2026, 12, 9, tzinfo=UTC)


def build_machines(n: int) -> list[int]:
    from resources.models import Area, Equipment, Site, WorkCenter

    site = Site.objects.create(code="BENCH", name="Bench plant")
    area = Area.objects.create(site=site, code="BENCH-A", name="Bench area")
    center = WorkCenter.objects.create(area=area, code="BENCH-WC", name="Bench WC")
    machines = Equipment.objects.bulk_create(
        Equipment(work_center=center, code=f"M-{i:04d}", name=f"Machine {i}") for i in range(n)
    )
    return [m.pk for m in machines]


def signal_value(signal: str, machine: int, second: int) -> float:
    """What the machine would read: running, no fault, a part a minute on both counters."""
    if signal == "state":
        return 1.0
    if signal == "fault":
        return 0.0
    if signal in ("part_count", "good_count"):
        return float(1000 * machine + second // 60)
    value = float((second * 7 + machine) % 1000)
    return value + 0.5 if signal == "temperature" else value


def make_samples(machines: list[int], count: int) -> list[tuple[int, str, float, datetime]]:
    """Six signals per machine per second, seconds running on from 08:00 UTC of DAY."""
    rows = []
    per_second = len(machines) * len(SIGNALS)
    start = DAY + timedelta(hours=8)
    for n in range(count):
        second, rest = divmod(n, per_second)
        machine, signal = divmod(rest, len(SIGNALS))
        value = signal_value(SIGNALS[signal], machine, second)
        rows.append((machines[machine], SIGNALS[signal], value, start + timedelta(seconds=second)))
    return rows


def shard(data, workers: int, index: int) -> list:
    """The samples of one gateway's machines, in their order (machine n to gateway n mod N)."""
    if workers == 1:
        return data
    machine = (lambda r: r.equipment) if hasattr(data[0], "equipment") else (lambda r: r[0])
    owner = {m: n % workers for n, m in enumerate(sorted({machine(r) for r in data}))}
    return [r for r in data if owner[machine(r)] == index]


def run_sharded(run, data, batch: int, workers: int) -> tuple[float, float, float]:
    """Run `run` over the data in `workers` processes (forked, each with its own database
    connection and its shard of the machines, as gateways sharded by plant area run) and
    return the wall time of the whole and the CPU time of the processes and their backends."""
    if workers == 1:
        with Clock() as clock:
            run(data, batch)
        return clock.wall, clock.cpu, clock.db
    shards = [shard(data, workers, n) for n in range(workers)]
    connections.close_all()
    readers, pids = [], []
    start = time.perf_counter()
    for n in range(workers):
        read, write = os.pipe()
        pid = os.fork()
        if pid == 0:  # the gateway process of shard n
            os.close(read)
            code = 0
            try:
                with Clock() as clock:
                    run(shards[n], batch)
                connections.close_all()
                os.write(write, f"{clock.cpu} {clock.db}".encode())
            except BaseException:
                import traceback

                traceback.print_exc()
                code = 1
            finally:
                os._exit(code)
        os.close(write)
        readers.append(read)
        pids.append(pid)
    cpu = backend = 0.0
    for read, pid in zip(readers, pids, strict=True):
        _, status = os.waitpid(pid, 0)
        assert status == 0, f"gateway process {pid} failed"
        got = os.read(read, 200).decode().split()
        cpu, backend = cpu + float(got[0]), backend + float(got[1])
    return time.perf_counter() - start, cpu, backend


def build_map(machines: list[int]) -> None:
    """One Modbus endpoint per 20 machines (units 1–20), the six signals each, loaded
    through the device-map service."""
    from devices.services.devicemap import device_map_load
    from resources.models import Equipment

    codes = dict(Equipment.objects.filter(pk__in=machines).values_list("pk", "code"))
    signals = {
        "state": {
            "table": "holding",
            "address": 0,
            "type": "uint16",
            "map": {"0": "stopped", "1": "running", "2": "fault"},
        },
        "part_count": {"table": "holding", "address": 1, "type": "uint32"},
        "good_count": {"table": "holding", "address": 3, "type": "uint32"},
        "spindle_speed": {"table": "holding", "address": 5, "type": "uint16"},
        "temperature": {"table": "holding", "address": 6, "type": "int16"},
        "fault": {"table": "coil", "address": 0},
    }
    endpoints = []
    for first in range(0, len(machines), 20):
        group = machines[first : first + 20]
        endpoints.append(
            {
                "name": f"bench-{first // 20:02d}",
                "protocol": "modbus",
                "host": "127.0.0.1",
                "port": 15020 + first // 20,
                "equipment": {
                    codes[pk]: {"unit": unit + 1, **signals} for unit, pk in enumerate(group)
                },
            }
        )
    device_map_load(data={"endpoints": endpoints})


def as_samples(rows) -> list:
    """The rows as the gateway hands them to the ingest: Sample objects by machine code."""
    from devices.engines.samples import Sample
    from resources.models import Equipment

    codes = dict(Equipment.objects.values_list("pk", "code"))
    return [
        Sample(endpoint="", equipment=codes[eq], signal=sig, raw=v, at=at)
        for eq, sig, v, at in rows
    ]


def empty() -> None:
    """No telemetry, and the machines as before any ingest (counters, intervals, counts,
    processed batches gone), so every round and path starts alike."""
    from resources.models import Equipment

    with connection.cursor() as cursor:
        cursor.execute(
            "TRUNCATE devices_telemetry, devices_counter, devices_stateinterval, "
            "devices_productioncount, devices_counthour, devices_ingestbatch"
        )
    Equipment.objects.update(status="stopped")


def stored() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM devices_telemetry")
        return cursor.fetchone()[0]


def run_append(rows, batch: int) -> None:
    from devices.services.telemetry import telemetry_append

    for i in range(0, len(rows), batch):
        with transaction.atomic():
            telemetry_append(rows=rows[i : i + batch])


def run_bare_copy(rows, batch: int) -> None:
    for i in range(0, len(rows), batch):
        with transaction.atomic(), connection.cursor() as cursor:
            raw = cursor.cursor
            with raw.copy(
                "COPY devices_telemetry (equipment_id, signal, value, at) FROM STDIN"
            ) as copy:
                for row in rows[i : i + batch]:
                    copy.write_row(row)


def run_ingest(samples, batch: int) -> None:
    """The gateway's whole ingest (`samples_ingest`): one call and transaction per batch."""
    from devices.services.ingest import samples_ingest

    for i in range(0, len(samples), batch):
        result = samples_ingest(samples=samples[i : i + batch], batch_id=f"bench-{os.getpid()}-{i}")
        assert result.written == len(samples[i : i + batch]), result.problems[:3]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=1_000_000)
    parser.add_argument("--batch", type=int, default=10000)
    parser.add_argument("--machines", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument(
        "--workers",
        type=int,
        default=1,
        help="gateway processes, each with the machines of its shard (machine index mod N)",
    )
    args = parser.parse_args()

    setup_test_environment()
    db = settings.DATABASES["default"]
    if connection.vendor != "postgresql":
        sys.exit("The telemetry bench measures PostgreSQL: set DATABASE_URL.")
    db["TEST"]["NAME"] = f"{db['NAME']}_telemetry_bench"
    name = connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False)
    try:
        from devices.services.telemetry import telemetry_partitions_ensure

        print(
            f"telemetry bench — {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, "
            f"PostgreSQL {connection.pg_version // 10000} ({name}), {os.cpu_count()} CPUs, "
            f"Python {platform.python_version()}, load average {os.getloadavg()[0]:.1f}"
        )
        print(f"machine reference: Python loop {python_loop_seconds():.2f} s")
        machines = build_machines(args.machines)
        telemetry_partitions_ensure(days_ahead=1, now=DAY)
        t0 = time.perf_counter()
        rows = make_samples(machines, args.samples)
        print(
            f"{len(rows):,} samples of {args.machines} machines × {len(SIGNALS)} signals made in "
            f"{time.perf_counter() - t0:.1f} s (not timed below); batches of {args.batch:,}\n"
        )
        print(
            "| round | path | processes | samples | wall time | samples/s "
            "| CPU/sample Python / backend | rows |"
        )
        print("|---|---|---|---|---|---|---|---|")
        build_map(machines)
        samples = as_samples(rows)
        # The bench holds every sample of every round in memory (a gateway holds one batch):
        # moved out of the collector's sight, so that its full passes over them are not
        # charged to the paths timed.
        gc.freeze()
        paths = [
            ("samples_ingest", run_ingest, samples),
            ("telemetry_append", run_append, rows),
            ("bare COPY", run_bare_copy, rows),
        ]
        for round_no in range(1, args.rounds + 1):
            for label, run, data in paths:
                empty()
                wall, cpu, backend = run_sharded(run, data, args.batch, args.workers)
                count = stored()
                assert count == len(rows), f"{label}: {count} rows stored of {len(rows)}"
                print(
                    f"| {round_no} | {label} | {args.workers} | {len(rows):,} | {wall:.2f} s | "
                    f"{len(rows) / wall:,.0f} | {cpu / len(rows) * 1e6:.1f} µs / "
                    f"{backend / len(rows) * 1e6:.1f} µs | {count:,} |"
                )
    finally:
        connection.creation.destroy_test_db(name, verbosity=0)


if __name__ == "__main__":
    main()
