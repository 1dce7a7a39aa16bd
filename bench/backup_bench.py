"""Backup and restore benchmark: `manage.py backup` and `manage.py restore` on PostgreSQL with
1 million production events.

    .venv/bin/python bench/backup_bench.py [--events 1000000] [--db closedloop_bench_backup]
        [--regenerate] [--keep]

Uses its own database on 127.0.0.1:5432 (user postgres, trust). The first run creates and
migrates it, loads the demo plant and COPYs `--events` report events (psycopg 3
`cursor.copy`, with the table's indexes in place, as the plant's log has them) spread over
the demo's tasks over 90 days, then VACUUM ANALYZE; later runs find the events and only
measure. Then, through the same functions the commands call (core/backup.py):

1. backup: `pg_dump -Fc` on the exported snapshot, the row counts of every table in that
   snapshot, the SHA-256 of the file;
2. verify: size and SHA-256 against the manifest (what `restore` does before anything else);
3. restore into an empty database `<db>_restore`, created for the run and dropped at the end
   unless `--keep` (a drill on a fresh host): `pg_restore --single-transaction`, ANALYZE, the
   row counts compared with the manifest;
4. restore in place over the bench database itself (`--clean`: every table dropped and
   reloaded, as after a bad release).

Prints seconds, file size and rows/s for each, the database's size, and the machine reference
(a pure-Python loop before and after, and a bare COPY of 100,000 rows). Not part of the test
suite: the figures depend on the machine.
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import shutil
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from reference import python_loop_seconds  # noqa: E402  (bench/reference.py)

SERVER = {"host": "127.0.0.1", "port": 5432, "user": "postgres"}
START = datetime(2026, 1, 5, tzinfo=UTC)
CHUNK = 50_000


def pg(dbname: str, autocommit: bool = True):
    import psycopg

    return psycopg.connect(**SERVER, dbname=dbname, autocommit=autocommit)


def database_create(name: str, *, drop: bool) -> bool:
    """Create `name` if missing (dropped first with `drop`); True if it was created."""
    with pg("postgres") as conn:
        if drop:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone():
            return False
        conn.execute(f'CREATE DATABASE "{name}"')
        return True


def database_drop(name: str) -> None:
    with pg("postgres") as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def django_setup(db: str, restore_db: str) -> None:
    os.environ["DATABASE_URL"] = f"postgres://postgres@127.0.0.1:5432/{db}"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ["DEBUG"] = "0"  # no query log
    from django.conf import settings

    # A second alias for the restore into an empty database, set before any connection opens.
    settings.DATABASES["restore"] = {**settings.DATABASES["default"], "NAME": restore_db}
    import django

    django.setup()


def copy_reference() -> float:
    """Rows/s of a bare COPY of 100,000 three-column rows into an unindexed temporary table."""
    with pg("postgres") as conn, conn.cursor() as cur:
        cur.execute("CREATE TEMPORARY TABLE bench_copy (id bigint, code text, at timestamptz)")
        started = time.perf_counter()
        with cur.copy("COPY bench_copy (id, code, at) FROM STDIN") as copy:
            for n in range(100_000):
                copy.write_row((n, f"EV-{n}", START))
        return 100_000 / (time.perf_counter() - started)


def events_present(db: str) -> int:
    with pg(db) as conn:
        return conn.execute(
            "SELECT count(*) FROM execution_productionevent WHERE event_id LIKE 'bench-%'"
        ).fetchone()[0]


def generate(db: str, events: int, seed: int) -> None:
    """COPY `events` report events over the demo's tasks, 90 days of them, then VACUUM ANALYZE."""
    rnd = random.Random(seed)
    with pg(db) as conn:
        tasks = conn.execute(
            "SELECT id, order_id, operation_id, equipment_id FROM execution_task ORDER BY id"
        ).fetchall()
        operators = [
            r[0] for r in conn.execute("SELECT id FROM resources_operator ORDER BY id").fetchall()
        ]
        if not tasks:
            sys.exit(f"{db} has no tasks: the demo plant did not load.")
        columns = (
            "event_id, kind, task_id, order_id, operation_id, operator_id, equipment_id, "
            "quantity_good, quantity_scrap, reason, trace_code, occurred_at, received_at, source"
        )
        step = 90 * 86400 / events
        started = time.perf_counter()
        with (
            conn.cursor() as cur,
            cur.copy(f"COPY execution_productionevent ({columns}) FROM STDIN") as copy,
        ):
            for n in range(events):
                task, order, operation, equipment = tasks[n % len(tasks)]
                at = START + timedelta(seconds=n * step)
                scrap = 1 if rnd.random() < 0.03 else 0
                copy.write_row(
                    (
                        f"bench-{n:07d}",
                        "report",
                        task,
                        order,
                        operation,
                        rnd.choice(operators) if operators else None,
                        equipment,
                        rnd.randint(1, 12) - scrap,
                        scrap,
                        "tool wear" if scrap else "",
                        "",
                        at,
                        at + timedelta(seconds=rnd.randint(1, 30)),
                        "device" if n % 3 else "api",
                    )
                )
        seconds = time.perf_counter() - started
        print(
            f"generated {events:,} events by COPY in {seconds:.1f} s ({events / seconds:,.0f} rows/s)"
        )
        started = time.perf_counter()
        conn.execute("VACUUM ANALYZE")
        print(f"VACUUM ANALYZE {time.perf_counter() - started:.1f} s")


def database_size(db: str) -> int:
    with pg(db) as conn:
        return conn.execute("SELECT pg_database_size(%s)", (db,)).fetchone()[0]


def phases_text(phases: dict[str, float]) -> str:
    return ", ".join(f"{name} {seconds:.1f} s" for name, seconds in phases.items())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--db", default="closedloop_bench_backup")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--regenerate", action="store_true", help="drop and make the data again")
    parser.add_argument("--keep", action="store_true", help="keep <db>_restore and the dump")
    args = parser.parse_args()
    restore_db = f"{args.db}_restore"

    loop_before = python_loop_seconds()
    created = database_create(args.db, drop=args.regenerate)
    django_setup(args.db, restore_db)
    from django.core.management import call_command
    from django.db import connections

    from core.backup import backup_create, backup_read, backup_restore

    print(
        f"backup bench — {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, "
        f"{platform.node()}, {os.cpu_count()} CPUs, Python {platform.python_version()}, "
        f"load average {os.getloadavg()[0]:.1f}"
    )
    print(
        f"machine reference: Python loop {loop_before:.2f} s, bare COPY {copy_reference():,.0f} rows/s"
    )
    if created or events_present(args.db) != args.events:
        if not created and events_present(args.db):
            sys.exit(f"{args.db} holds another number of events: run with --regenerate.")
        call_command("migrate", verbosity=0)
        call_command("load_demo", "--quiet-logins", verbosity=0, stdout=open(os.devnull, "w"))  # noqa: SIM115
        connections.close_all()
        generate(args.db, args.events, args.seed)

    size = database_size(args.db)
    workdir = Path(tempfile.mkdtemp(prefix="backup-bench-"))
    try:
        result = backup_create(directory=workdir)
        manifest = result.manifest
        rows = sum(manifest["tables"].values())
        events = manifest["tables"]["execution_productionevent"]
        print(
            f"\ndatabase {args.db}: {size / 2**20:,.0f} MiB, {len(manifest['tables'])} tables, "
            f"{rows:,} rows ({events:,} production events), PostgreSQL {manifest['server_version'].split()[0]}"
        )
        print("\n| step | seconds | rows/s | detail |")
        print("|---|---|---|---|")
        print(
            f"| backup (`pg_dump -Fc`) | {result.seconds:.1f} | {rows / result.seconds:,.0f} | "
            f"file {manifest['size'] / 2**20:,.1f} MiB; {phases_text(result.phases)} |"
        )
        started = time.perf_counter()
        dump, manifest = backup_read(result.path)
        verify = time.perf_counter() - started
        print(
            f"| verify (size, SHA-256) | {verify:.1f} | | {manifest['size'] / verify / 2**20:,.0f} MiB/s |"
        )

        database_create(restore_db, drop=True)
        fresh = backup_restore(dump=dump, manifest=manifest, alias="restore")
        verdict = "counts match" if not fresh.mismatches else f"MISMATCH {fresh.mismatches}"
        print(
            f"| restore into an empty database | {fresh.seconds:.1f} | "
            f"{rows / fresh.seconds:,.0f} | {phases_text(fresh.phases)}; {verdict} |"
        )
        in_place = backup_restore(dump=dump, manifest=manifest, alias="default")
        verdict = "counts match" if not in_place.mismatches else f"MISMATCH {in_place.mismatches}"
        print(
            f"| restore in place (`--clean`) | {in_place.seconds:.1f} | "
            f"{rows / in_place.seconds:,.0f} | {phases_text(in_place.phases)}; {verdict} |"
        )
    finally:
        connections.close_all()
        if args.keep:
            print(f"\nkept: {workdir} and database {restore_db}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)
            database_drop(restore_db)
    print(
        f"\nPython loop {loop_before:.2f} s before, {python_loop_seconds():.2f} s after; "
        f"load average {os.getloadavg()[0]:.1f}"
    )


if __name__ == "__main__":
    main()
