"""The restore drill on PostgreSQL, as docs/operations.md has the plant run it monthly.

The demo plant plus a generated history (production events and stock moves) is backed up
with `manage.py backup`, restored with `manage.py restore --yes` in a separate process (the
command `make restore` runs) into a scratch database created empty for the drill, and the
two databases are compared table by table: row counts and an md5 of the ordered rows, and
every sequence, so the restored plant can go on writing. The restore time is printed.
A second restore over the changed scratch database checks the `--clean` path, and a backup
taken while another connection keeps writing restores with the counts of its own snapshot.
"""

import json
import os
import subprocess
import sys
import threading
import time
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import psycopg
import pytest
from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from core.backup import MANIFEST_SUFFIX
from execution.models import ProductionEvent, Task
from resources.models import Item, StockLocation, StockMove

ROOT = Path(__file__).resolve().parents[2]
EVENTS, MOVES = 4000, 2000

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.integration,
    # serialized_rollback: the rows migrations seed come back after the flush.
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def conninfo(dbname: str) -> dict:
    db = connection.settings_dict
    return {
        "host": db.get("HOST") or "127.0.0.1",
        "port": str(db.get("PORT") or 5432),
        "user": db.get("USER") or "postgres",
        "password": db.get("PASSWORD") or None,
        "dbname": dbname,
    }


def database_url(dbname: str) -> str:
    c = conninfo(dbname)
    password = f":{c['password']}" if c["password"] else ""
    return f"postgres://{c['user']}{password}@{c['host']}:{c['port']}/{dbname}"


@pytest.fixture
def scratch_db():
    """An empty database next to the test database, dropped afterwards."""
    name = f"{connection.settings_dict['NAME']}_drill"
    with psycopg.connect(**conninfo("postgres"), autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{name}"')
    yield name
    with psycopg.connect(**conninfo("postgres"), autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def history(released_order):
    """The demo plant with its first order released, plus a generated history."""
    tasks = list(Task.objects.select_related("operation"))
    assert tasks
    start = timezone.now() - timedelta(days=30)
    ProductionEvent.objects.bulk_create(
        [
            ProductionEvent(
                event_id=f"drill-{n}",
                kind=ProductionEvent.Kind.REPORT,
                task=task,
                order_id=task.order_id,
                operation_id=task.operation_id,
                quantity_good=Decimal(n % 7 + 1),
                quantity_scrap=Decimal(n % 3 == 0),
                reason="drill",
                occurred_at=start + timedelta(seconds=37 * n),
            )
            for n in range(EVENTS)
            for task in [tasks[n % len(tasks)]]
        ],
        batch_size=1000,
    )
    items, locations = list(Item.objects.all()), list(StockLocation.objects.all())
    StockMove.objects.bulk_create(
        [
            StockMove(
                item=items[n % len(items)],
                location=locations[n % len(locations)],
                quantity=Decimal(f"{(n % 50) + 1}.125") * (1 if n % 4 else -1),
                kind=StockMove.Kind.ADJUSTMENT,
                reference=f"drill {n} — 盘点",  # non-ASCII survives the round trip
                external_id=f"drill-move-{n}",
            )
            for n in range(MOVES)
        ],
        batch_size=1000,
    )


def fingerprint(conn) -> tuple[dict[str, tuple[int, str]], dict[str, int | None]]:
    """(table: (rows, md5 of the ordered rows)), (sequence: last value) of a database."""
    tables = {}
    with conn.cursor() as cursor:
        cursor.execute(
            # A partitioned table (the telemetry) counts once, its day partitions with it.
            "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
            " WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') AND NOT c.relispartition"
            " ORDER BY c.relname"
        )
        for (table,) in cursor.fetchall():
            cursor.execute(
                f"SELECT count(*), md5(coalesce(string_agg(t::text, ',' ORDER BY t::text), '')) FROM \"{table}\" t"
            )
            tables[table] = tuple(cursor.fetchone())
        cursor.execute(
            "SELECT sequencename, last_value FROM pg_sequences WHERE schemaname = 'public'"
        )
        sequences = dict(cursor.fetchall())
    return tables, sequences


def run_restore(dump: Path, dbname: str) -> tuple[float, str]:
    """`manage.py restore FILE --yes` in its own process against `dbname`; (seconds, output)."""
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings"}
    env["DATABASE_URL"] = database_url(dbname)
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "manage.py", "restore", str(dump), "--yes"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    seconds = time.perf_counter() - started
    assert done.returncode == 0, done.stdout + done.stderr
    return seconds, done.stdout


def backup(tmp_path: Path) -> tuple[Path, dict]:
    call_command("backup", "--output-dir", str(tmp_path), stdout=open(os.devnull, "w"))  # noqa: SIM115
    (manifest_path,) = tmp_path.glob(f"*{MANIFEST_SUFFIX}")
    manifest = json.loads(manifest_path.read_text())
    return tmp_path / manifest["file"], manifest


def test_restore_drill(history, tmp_path, scratch_db, capsys):
    source_tables, source_sequences = fingerprint(connection)
    assert source_tables["execution_productionevent"][0] >= EVENTS
    assert source_tables["resources_stockmove"][0] >= MOVES

    started = time.perf_counter()
    dump, manifest = backup(tmp_path)
    backup_seconds = time.perf_counter() - started
    assert manifest["tables"] == {table: rows for table, (rows, _) in source_tables.items()}

    restore_seconds, output = run_restore(dump, scratch_db)
    assert "Row counts match the manifest" in output

    with psycopg.connect(**conninfo(scratch_db)) as restored:
        restored_tables, restored_sequences = fingerprint(restored)
        assert restored_tables == source_tables
        assert restored_sequences == source_sequences
        # The restored plant goes on writing: its sequences carry on after the restored ids.
        restored.execute(
            "INSERT INTO core_auditentry (at, action, object_type, object_id, data, actor_username, "
            "origin, object_label, changes) "
            "VALUES (now(), 'drill', 'test', '1', '{}', '', '', '', '[]')"
        )
        restored.execute("DELETE FROM execution_productionevent WHERE id % 2 = 0")
        restored.execute("CREATE TABLE drill_leftover (x int)")
        restored.commit()

    # Again, over the changed database: --clean replaces what the backup has.
    again_seconds, output = run_restore(dump, scratch_db)
    assert "drill_leftover" in output  # named, not silently kept
    with psycopg.connect(**conninfo(scratch_db)) as restored:
        tables, _ = fingerprint(restored)
    tables.pop("drill_leftover")
    assert tables == source_tables

    rows = sum(rows for rows, _ in source_tables.values())
    with capsys.disabled():
        print(
            f"\nrestore drill: {len(source_tables)} tables, {rows:,} rows, dump "
            f"{manifest['size']:,} bytes; backup {backup_seconds:.2f} s, restore into an empty "
            f"database {restore_seconds:.2f} s, again over the changed one {again_seconds:.2f} s "
            "(wall time of `manage.py restore` incl. start-up, checksum and row counts)"
        )


def test_backup_while_the_plant_writes_restores_its_own_snapshot(history, tmp_path, scratch_db):
    """A second connection commits audit rows throughout the backup; the manifest's counts are
    those of the dump's snapshot, so the restore's own count check passes."""
    stop = threading.Event()
    written = []

    def write():
        with psycopg.connect(**conninfo(connection.settings_dict["NAME"]), autocommit=True) as c:
            while not stop.is_set():
                c.execute(
                    "INSERT INTO core_auditentry (at, action, object_type, object_id, data, actor_username, "
                    "origin, object_label, changes) "
                    "VALUES (now(), 'busy', 'test', '1', '{}', '', '', '', '[]')"
                )
                written.append(time.perf_counter())

    thread = threading.Thread(target=write)
    thread.start()
    try:
        while len(written) < 20:
            # A writer that failed (a column the INSERT does not name) must fail the test,
            # not leave it waiting for ever.
            assert thread.is_alive(), "the writer stopped before the backup began"
            time.sleep(0.01)
        started = time.perf_counter()
        dump, manifest = backup(tmp_path)
        finished = time.perf_counter()
        time.sleep(0.1)
    finally:
        stop.set()
        thread.join()
    during = [t for t in written if started < t < finished]
    assert len(during) > 10, "the writer did not write during the backup"

    _, output = run_restore(dump, scratch_db)
    assert "Row counts match the manifest" in output
    with psycopg.connect(**conninfo(scratch_db)) as restored:
        (count,) = restored.execute("SELECT count(*) FROM core_auditentry").fetchone()
    assert count == manifest["tables"]["core_auditentry"]
    from core.models import AuditEntry

    assert AuditEntry.objects.count() > count  # the writer carried on after the snapshot
