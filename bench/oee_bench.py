"""OEE benchmark (prints figures; not part of pytest).

100 machines (10 work centers of 10) × 30 days: two shifts Monday–Friday (06:00–14:00 with a
30-minute break, 14:00–22:00), one 2-hour planned maintenance window per machine per week,
and for every day a seeded random life of each machine from 05:00 to 23:00: runs of 10–90
minutes between stops (small stops of 20–110 s, faults of 5–40 min with a reason, setups of
10–30 min, idle of 5–60 min, now and then a disconnection), stopped overnight. Part counts:
one ProductionCount row per `--count-minutes` of running (default 1: a 60 s cycle read
once per part), 1–2 rejects on 2 % of the reads, ideal cycle 50–70 s per machine.

The counts are written as the ingest writes them (`count_rows_write`, 5,000 rows a
transaction), which keeps their hourly sums. Timed: (a) the selector end to end
(`oee_report` for all machines over the 30 days, by day: the queries, the engine, the
roll-ups); (b) the engine alone (`oee_compute_us`) on the same data already in memory as
the selector hands it over (instants in microseconds), every count row (no hourly sums);
(c) the query part alone (the intervals, and the counts as the selector reads them: hourly
sums and the reads with rejects). Each figure is wall time and this process's CPU time,
and for (a) and (c) the CPU time of the PostgreSQL backend serving the queries: on a
shared machine the wall time swings with the load, while the two CPU times added bound
what the report costs alone. On PostgreSQL the generated data is vacuumed and analysed
before timing, as autovacuum leaves it some time after a bulk load.

Run from the repository root:

    .venv/bin/python bench/oee_bench.py [--machines 100] [--days 30] [--count-minutes 1]
        [--repeat 5] [--reuse] [--figures FILE]

`--reuse` (PostgreSQL) times the data an earlier run left instead of generating it again.

On SQLite it builds a fresh database in a temporary directory. With DATABASE_URL set it
uses that database after emptying it, so it refuses any database whose name does not
contain "bench":

    createdb -h 127.0.0.1 -U postgres closedloop_bench_oee
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/closedloop_bench_oee \\
        .venv/bin/python bench/oee_bench.py
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import statistics
import sys
import tempfile
import time
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

if not os.environ.get("DATABASE_URL"):
    os.environ["CLOSEDLOOP_VAR_DIR"] = tempfile.mkdtemp(prefix="closedloop-oee-bench-")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("LOG_LEVEL", "WARNING")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from reference import Clock, python_loop_seconds  # noqa: E402  (bench/reference.py)

from devices.engines.oee import Count, Span, instant_us, oee_combine, oee_compute_us  # noqa: E402
from devices.models import DowntimeReason, ProductionCount, StateInterval  # noqa: E402
from devices.selectors import oee as oee_selectors  # noqa: E402
from devices.services.count_hours import count_rows_write  # noqa: E402
from resources.models import (  # noqa: E402
    Area,
    Equipment,
    MaintenanceWindow,
    ShiftPattern,
    Site,
    WorkCenter,
)
from resources.selectors.calendar import plant_time_zone  # noqa: E402


def prepare() -> None:
    if connection.vendor != "sqlite" and "bench" not in str(settings.DATABASES["default"]["NAME"]):
        sys.exit("Refusing to empty a database whose name does not contain 'bench'.")
    call_command("migrate", verbosity=0)
    call_command("flush", interactive=False, verbosity=0)


def generate(n_machines: int, first: date, days: int, count_minutes: int, seed: int) -> dict:
    rng = random.Random(seed)
    site = Site.objects.create(code="BENCH", name="Bench plant", time_zone="Asia/Shanghai")
    tz = plant_time_zone()
    area = Area.objects.create(site=site, code="BENCH-A", name="Bench area")
    reasons = {
        "fault": [
            DowntimeReason.objects.create(code=f"F{i}", name=f"Fault {i}", loss="breakdown")
            for i in range(5)
        ],
        "setup": [DowntimeReason.objects.create(code="SETUP", name="Die change", loss="setup")],
    }
    machines = []
    for w in range(max(1, n_machines // 10)):
        wc = WorkCenter.objects.create(area=area, code=f"WC-{w:02d}", name=f"Line {w}")
        ShiftPattern.objects.create(
            work_center=wc, name="early", start_time="06:00", end_time="14:00", break_minutes=30
        )
        ShiftPattern.objects.create(
            work_center=wc, name="late", start_time="14:00", end_time="22:00"
        )
        for m in range(10):
            if len(machines) < n_machines:
                machines.append(
                    Equipment.objects.create(
                        work_center=wc,
                        code=f"M-{w:02d}-{m}",
                        name=f"Machine {w}-{m}",
                        rated_rate=Decimal("60"),
                    )
                )
    intervals, counts, windows = [], [], []
    for eq in machines:
        cycle = rng.uniform(50, 70)
        for d in range(days):
            day = first + timedelta(days=d)
            if day.isoweekday() == 3:
                s = datetime(day.year, day.month, day.day, 9, tzinfo=tz)
                windows.append(MaintenanceWindow(equipment=eq, start=s, end=s + timedelta(hours=2)))
            t = datetime(day.year, day.month, day.day, 5, tzinfo=tz)
            end = t + timedelta(hours=18)
            last = t
            while t < end:
                run = timedelta(minutes=rng.uniform(10, 90))
                intervals.append(StateInterval(equipment=eq, state="running", start=t, end=t + run))
                c = t + timedelta(minutes=count_minutes)
                while c <= t + run:
                    total = max(1, round(count_minutes * 60 / cycle * rng.uniform(0.8, 1.0)))
                    rejects = min(total, rng.choice((1, 2))) if rng.random() < 0.02 else 0
                    counts.append(
                        ProductionCount(
                            equipment=eq,
                            at=c,
                            total=total,
                            good=total - rejects,
                            ideal_cycle_seconds=cycle,
                        )
                    )
                    c += timedelta(minutes=count_minutes)
                t += run
                kind = rng.random()
                reason = None
                small = False
                if kind < 0.55:
                    state, length = "stopped", timedelta(seconds=rng.uniform(20, 110))
                    small = True
                elif kind < 0.75:
                    state, length = "fault", timedelta(minutes=rng.uniform(5, 40))
                    reason = rng.choice(reasons["fault"])
                elif kind < 0.85:
                    state, length = "stopped", timedelta(minutes=rng.uniform(10, 30))
                    reason = reasons["setup"][0]
                elif kind < 0.97:
                    state, length = "idle", timedelta(minutes=rng.uniform(5, 60))
                else:
                    state, length = "disconnected", timedelta(minutes=rng.uniform(2, 20))
                intervals.append(
                    StateInterval(
                        equipment=eq,
                        state=state,
                        start=t,
                        end=t + length,
                        small_stop=small,
                        reason=reason,
                    )
                )
                t += length
                last = t
            nxt = datetime(day.year, day.month, day.day, 5, tzinfo=tz) + timedelta(days=1)
            intervals.append(StateInterval(equipment=eq, state="stopped", start=last, end=nxt))
    t0 = time.perf_counter()
    MaintenanceWindow.objects.bulk_create(windows, batch_size=5000)
    StateInterval.objects.bulk_create(intervals, batch_size=5000)
    for i in range(0, len(counts), 5000):  # as the ingest writes them: rows and hourly sums
        count_rows_write(counts[i : i + 5000])
    return {
        "machines": len(machines),
        "intervals": len(intervals),
        "counts": len(counts),
        "maintenance": len(windows),
        "insert_s": time.perf_counter() - t0,
    }


def report_figures(report) -> dict:
    """Every figure of a report, floats as repr (exact), for comparing two runs."""

    def figures(f):
        out = {k: repr(v) for k, v in vars(f).items() if k not in ("reasons", "losses")}
        out["losses"] = {k: repr(v) for k, v in f.losses.items()}
        out["state_minutes"] = {k: repr(v) for k, v in sorted(f.state_minutes.items())}
        out["reasons"] = sorted([*k, repr(r.minutes), r.stops] for k, r in f.reasons.items())
        out["oee"] = repr(f.oee)
        return out

    return {
        "machines": {
            m.equipment.code: {
                "state": m.state,
                "figures": figures(m.figures),
                "rows": [[str(r.day), r.shift, figures(r.figures)] for r in m.rows],
            }
            for m in report.machines
        },
        "work_centers": {g.code: figures(g.figures) for g in report.work_centers},
        "plant": figures(report.plant),
    }


def timed(fn, repeat: int):
    """Run `fn` `repeat` times: its result, and the wall, process CPU and database backend
    CPU times of each run."""
    walls, cpus, dbs, result = [], [], [], None
    for _ in range(repeat):
        with Clock() as clock:
            result = fn()
        walls.append(clock.wall)
        cpus.append(clock.cpu)
        dbs.append(clock.db)
    return result, walls, cpus, dbs


def fmt(values: list[float]) -> str:
    return (
        f"median {statistics.median(values):.3f} s (min {min(values):.3f}, max {max(values):.3f})"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--machines", type=int, default=100)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--count-minutes", type=int, default=1)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--figures",
        metavar="FILE",
        help="write every figure of report (a) (per machine, row, work center, plant; floats "
        "as repr) to FILE as JSON, to compare two versions of the code bit for bit",
    )
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="time the data a previous run left in the database (same --days) instead of "
        "emptying it and generating anew",
    )
    args = parser.parse_args()

    last = date(2026, 11, 30)
    first = last - timedelta(days=args.days - 1)
    if args.reuse and connection.vendor != "sqlite":
        call_command("migrate", verbosity=0)
        sizes = {
            "machines": Equipment.objects.count(),
            "intervals": StateInterval.objects.count(),
            "counts": ProductionCount.objects.count(),
            "maintenance": MaintenanceWindow.objects.count(),
            "insert_s": 0.0,
        }
        if not sizes["machines"]:
            sys.exit("--reuse: the database holds no machines; run once without it.")
    else:
        prepare()
        sizes = generate(args.machines, first, args.days, args.count_minutes, args.seed)
        if connection.vendor == "postgresql":
            # As autovacuum leaves a table some time after a bulk load: statistics for the
            # planner, hour rows compacted after their many updates, the visibility map set
            # (which lets the index of reads with rejects answer alone).
            with connection.cursor() as cursor:
                cursor.execute("VACUUM ANALYZE")
    now = datetime(2026, 12, 1, 12, tzinfo=plant_time_zone())
    db = connection.vendor
    print(f"database: {db}; python loop reference: {python_loop_seconds():.3f} s")
    print(
        f"machine: {platform.machine()} {os.cpu_count()} CPUs, Python {platform.python_version()}"
    )
    print(
        f"data: {sizes['machines']} machines × {args.days} days, {sizes['intervals']:,} state "
        f"intervals, {sizes['counts']:,} count rows, {sizes['maintenance']} maintenance "
        + ("windows (reused)" if args.reuse else f"windows (inserted in {sizes['insert_s']:.1f} s)")
    )

    def selector():
        return oee_selectors.oee_report(first_day=first, last_day=last, by="day", now=now)

    report, walls, cpus, dbs = timed(selector, args.repeat)
    print(
        f"(a) selector end to end, by day: wall {fmt(walls)}; CPU {fmt(cpus)}; "
        f"database backend CPU {fmt(dbs)}"
    )
    print(
        f"    plant OEE {report.plant.oee:.4f} (A {report.plant.availability:.4f}, "
        f"P {report.plant.performance:.4f}, Q {report.plant.quality:.4f}); "
        f"{len(report.work_centers)} work centers"
    )

    if args.figures:
        Path(args.figures).write_text(json.dumps(report_figures(report), indent=0, sort_keys=True))
        print(f"    every figure written to {args.figures}")

    # The same inputs, already in memory, through the engine alone.
    loaded = {}
    for eq in Equipment.objects.prefetch_related("work_center__shifts").select_related(
        "work_center__area__site"
    ):
        windows = oee_selectors._windows(eq, first, last, set())
        spans = [
            Span(s, a, b, small, r or "", loss or "")
            for s, a, b, small, r, loss in StateInterval.objects.filter(equipment=eq).values_list(
                "state", "start", "end", "small_stop", "reason__name", "reason__loss"
            )
        ]
        counts = [
            Count(*row)
            for row in ProductionCount.objects.filter(equipment=eq).values_list(
                "at", "total", "good", "ideal_cycle_seconds"
            )
        ]
        maintenance = list(
            MaintenanceWindow.objects.filter(equipment=eq).values_list("start", "end")
        )
        loaded[eq.pk] = (windows, spans, counts, maintenance)

    # As the selector hands them to the engine: instants in microseconds, tuples.
    us = instant_us
    loaded_us = [
        (
            [(us(w.start), us(w.end), w.break_minutes, ()) for w in windows],
            [
                (s.state, us(s.start), s.end and us(s.end), s.small_stop, s.reason, s.loss)
                for s in spans
            ],
            [(us(c.at), c.total, c.good, c.ideal_cycle_seconds) for c in counts],
            [(us(a), us(b)) for a, b in maintenance],
        )
        for windows, spans, counts, maintenance in loaded.values()
    ]
    now_us = us(now)

    def engine():
        figs = []
        for windows, spans, counts, maintenance in loaded_us:
            per_window, _ = oee_compute_us(
                windows=windows,
                spans=spans,
                counts=counts,
                maintenance=maintenance,
                now=now_us,
                rated_cycle_seconds=60.0,
            )
            figs.extend(per_window)
        return oee_combine(figs)

    plant, walls, cpus, _ = timed(engine, args.repeat)
    print(f"(b) engine alone: wall {fmt(walls)}; CPU {fmt(cpus)}; OEE {plant.oee:.4f}")

    def queries():
        ids = list(Equipment.objects.values_list("pk", flat=True))
        a = list(
            StateInterval.objects.filter(equipment_id__in=ids)
            .order_by()
            .values_list(
                "equipment_id",
                "state",
                oee_selectors.EpochMicroseconds("start"),
                oee_selectors.EpochMicroseconds("end"),
                "small_stop",
                "reason__name",
                "reason__loss",
            )
        )
        start = datetime.combine(first, datetime.min.time(), tzinfo=plant_time_zone())
        end = datetime.combine(last + timedelta(days=1), datetime.min.time(), tzinfo=start.tzinfo)
        b = oee_selectors.counts_load(ids, us(start), us(end), {})
        return len(a) + sum(len(v) for v in b.values())

    _, walls, cpus, dbs = timed(queries, args.repeat)
    print(
        f"(c) reading the intervals and counts alone: wall {fmt(walls)}; CPU {fmt(cpus)}; "
        f"database backend CPU {fmt(dbs)}"
    )


if __name__ == "__main__":
    main()
