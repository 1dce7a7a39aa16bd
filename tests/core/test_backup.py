"""`manage.py backup` and `manage.py restore` (what `make backup` / `make restore` run).

The SQLite engine tests use a database of their own and run under any configuration; the
command tests run against the configured test database (SQLite locally, PostgreSQL on CI)
and commit for real, as the commands read and replace committed data from outside the
test's connection. The PostgreSQL restore drill is tests/integration/test_restore_drill.py.
"""

import hashlib
import json
import sqlite3
import threading
from pathlib import Path

import pytest
import time_machine
from django.core.management import CommandError, call_command
from django.db import connection

from core.backup import (
    MANIFEST_SUFFIX,
    BackupError,
    backup_migration_notes,
    backup_read,
    file_sha256,
    sqlite_copy,
    sqlite_restore,
)
from core.models import AuditEntry

QUIET = {"stdout": open("/dev/null", "w")}  # noqa: SIM115


def table_fingerprints() -> dict[str, tuple[int, str]]:
    """Row count and a hash of the sorted rows of every table of the configured database."""
    out = {}
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names(cursor):
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")
            rows = sorted(repr(row) for row in cursor.fetchall())
            out[table] = (len(rows), hashlib.sha256("\n".join(rows).encode()).hexdigest())
    return out


def backup(tmp_path: Path) -> tuple[Path, dict]:
    call_command("backup", "--output-dir", str(tmp_path), **QUIET)
    (manifest_path,) = tmp_path.glob(f"*{MANIFEST_SUFFIX}")
    manifest = json.loads(manifest_path.read_text())
    return tmp_path / manifest["file"], manifest


def note(action: str) -> AuditEntry:
    """A row written after the backup: gone after a restore, still there if none happened."""
    return AuditEntry.objects.create(action=action, object_type="test", object_id="1")


# --- SQLite engine: a database of the test's own --------------------------------------------


def make_sqlite(path: Path, rows: int) -> None:
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("CREATE TABLE ledger (id INTEGER PRIMARY KEY, qty TEXT NOT NULL)")
    conn.execute("CREATE TABLE django_migrations (id INTEGER PRIMARY KEY, app TEXT, name TEXT)")
    conn.executemany(
        "INSERT INTO django_migrations (app, name) VALUES (?, ?)",
        [("core", "0001_initial"), ("core", "0002_more"), ("execution", "0001_initial")],
    )
    conn.executemany("INSERT INTO ledger (qty) VALUES (?)", [(str(n),) for n in range(rows)])
    conn.commit()
    conn.close()


def test_sqlite_copy_is_consistent_while_another_process_writes(tmp_path):
    live, copy = tmp_path / "live.sqlite3", tmp_path / "copy.sqlite3"
    make_sqlite(live, 5000)
    # A writer in the middle of a transaction (as a worker would be): the copy neither waits
    # for it nor sees its uncommitted rows.
    writer = sqlite3.connect(live, timeout=0.1)
    writer.execute("BEGIN IMMEDIATE")
    writer.execute("INSERT INTO ledger (qty) VALUES ('uncommitted')")

    details = sqlite_copy(live, copy)
    writer.commit()
    writer.close()

    assert details["tables"] == {"django_migrations": 3, "ledger": 5000}
    assert details["migrations"] == {"core": "0002_more", "execution": "0001_initial"}
    check = sqlite3.connect(copy)
    assert check.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    # A file that stands alone: no write-ahead log to carry along.
    assert check.execute("PRAGMA journal_mode").fetchone() == ("delete",)
    check.close()
    assert not Path(f"{copy}-wal").exists()


def test_sqlite_copy_of_a_busy_database_holds_whole_transactions(tmp_path):
    """Commits of ten rows each during the copy: the copy holds a whole number of them."""
    live, copy = tmp_path / "live.sqlite3", tmp_path / "copy.sqlite3"
    make_sqlite(live, 20_000)
    stop, under_way = threading.Event(), threading.Event()
    commits = []

    def write():
        conn = sqlite3.connect(live, timeout=10)
        try:
            while not stop.is_set():
                with conn:
                    conn.executemany("INSERT INTO ledger (qty) VALUES ('w')", [()] * 10)
                commits.append(1)
                if len(commits) >= 3:
                    under_way.set()
        finally:
            under_way.set()  # never leave the test waiting
            conn.close()

    thread = threading.Thread(target=write)
    thread.start()
    try:
        # Waits without a timeout: a timed wait can sleep for ever under libfaketime, with
        # which `make test-at` runs the suite.
        under_way.wait()
        details = sqlite_copy(live, copy)
    finally:
        stop.set()
        thread.join()
    assert len(commits) > 3
    copied = details["tables"]["ledger"]
    assert copied > 20_000 and (copied - 20_000) % 10 == 0
    assert sqlite3.connect(copy).execute("SELECT count(*) FROM ledger").fetchone()[0] == copied


def test_sqlite_restore_into_the_live_file_other_connections_see_it(tmp_path):
    live, copy = tmp_path / "live.sqlite3", tmp_path / "copy.sqlite3"
    make_sqlite(live, 100)
    sqlite_copy(live, copy)
    web = sqlite3.connect(live)  # a connection that stays open, as a web process's would
    with web:
        web.execute("DELETE FROM ledger WHERE id > 10")
        web.execute("CREATE TABLE added_later (x)")
    assert web.execute("SELECT count(*) FROM ledger").fetchone() == (10,)

    counts = sqlite_restore(copy, live)

    assert counts == {"django_migrations": 3, "ledger": 100}
    assert web.execute("SELECT count(*) FROM ledger").fetchone() == (100,)
    assert web.execute("SELECT name FROM sqlite_master WHERE name = 'added_later'").fetchall() == []
    assert web.execute("PRAGMA journal_mode").fetchone() == ("wal",)  # still the live file's
    assert web.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    web.close()


def test_a_backup_without_a_usable_manifest_is_refused(tmp_path):
    dump = tmp_path / "closedloop-20260302T010203Z.dump"
    dump.write_bytes(b"PGDMP...")
    with pytest.raises(BackupError, match="manifest not found"):
        backup_read(dump)
    manifest = dump.with_name(dump.name + MANIFEST_SUFFIX)
    manifest.write_text("{not json")
    with pytest.raises(BackupError, match="not a readable manifest"):
        backup_read(dump)
    manifest.write_text(json.dumps({"format": "closedloop-backup/1", "file": dump.name}))
    with pytest.raises(BackupError, match="missing size, sha256, vendor, tables, migrations"):
        backup_read(manifest)
    with pytest.raises(BackupError, match="no such file"):
        backup_read(tmp_path / "elsewhere.dump")


def test_the_restore_says_how_the_backups_migrations_compare_with_the_code():
    from django.db.migrations.loader import MigrationLoader

    leaves = dict(MigrationLoader(None, ignore_no_migrations=True).graph.leaf_nodes())
    assert backup_migration_notes({"migrations": leaves}) == []

    older = {app: name for app, name in leaves.items() if app != "core"}
    notes = backup_migration_notes({"migrations": older})
    assert notes == [
        "The backup is behind this code's migrations for core: run `manage.py migrate` after the restore."
    ]

    newer = {**leaves, "execution": "0999_from_a_later_release"}
    (note,) = backup_migration_notes({"migrations": newer})
    assert "execution.0999_from_a_later_release" in note and "newer release" in note


# --- the commands, on the configured database ------------------------------------------------

commands = pytest.mark.django_db(transaction=True, serialized_rollback=True)


@commands
def test_backup_then_restore_gives_back_every_row(demo_plant, tmp_path):
    before = table_fingerprints()
    dump, manifest = backup(tmp_path)

    assert manifest["file"] == dump.name and dump.stat().st_size == manifest["size"]
    assert manifest["sha256"] == file_sha256(dump)
    assert manifest["vendor"] == connection.vendor
    assert manifest["tables"] == {table: count for table, (count, _) in before.items()}
    assert manifest["tables"]["planning_productionorder"] > 0
    with connection.cursor() as cursor:
        cursor.execute("SELECT app, max(name) FROM django_migrations GROUP BY app")
        assert manifest["migrations"] == dict(cursor.fetchall())
    assert manifest["created_at"].endswith("Z")

    note("after the backup")
    AuditEntry.objects.filter(action__startswith="demo").delete()
    assert table_fingerprints() != before

    out = tmp_path / "restore.out"
    with open(out, "w") as fh:
        call_command("restore", str(dump), "--yes", stdout=fh)
    assert "Row counts match the manifest" in out.read_text()
    assert table_fingerprints() == before
    assert not AuditEntry.objects.filter(action="after the backup").exists()

    # What a drill runs after a point-in-time recovery: the counts against the manifest.
    call_command("backup_compare", str(dump), **QUIET)
    note("after the restore")
    with pytest.raises(CommandError, match="differ") as differs:
        call_command("backup_compare", str(dump), **QUIET)
    expected = manifest["tables"]["core_auditentry"]
    assert f"core_auditentry: manifest {expected:,}, now {expected + 1:,}" in str(differs.value)


@commands
@pytest.mark.parametrize("damage", ["flipped byte", "truncated"])
def test_a_damaged_backup_is_refused_and_nothing_changes(demo_plant, tmp_path, damage):
    dump, manifest = backup(tmp_path)
    note("after the backup")
    before = table_fingerprints()
    data = bytearray(dump.read_bytes())
    if damage == "flipped byte":
        data[len(data) // 2] ^= 0x01
    else:
        del data[len(data) // 2 :]
    dump.write_bytes(bytes(data))

    with pytest.raises(CommandError, match="corrupted|truncated") as refused:
        call_command("restore", str(dump), "--yes", **QUIET)

    assert str(dump) in str(refused.value) and "Nothing was restored" in str(refused.value)
    assert table_fingerprints() == before


@commands
def test_a_backup_of_another_vendor_is_refused(demo_plant, tmp_path):
    dump, manifest = backup(tmp_path)
    other = "postgresql" if connection.vendor == "sqlite" else "sqlite"
    manifest_path = dump.with_name(dump.name + MANIFEST_SUFFIX)
    manifest_path.write_text(json.dumps({**manifest, "vendor": other}))
    note("after the backup")
    before = table_fingerprints()

    with pytest.raises(CommandError, match=f"is a {other} backup"):
        call_command("restore", str(manifest_path), "--yes", **QUIET)
    assert table_fingerprints() == before


@commands
def test_restore_asks_first(demo_plant, tmp_path, monkeypatch):
    dump, _ = backup(tmp_path)
    note("after the backup")
    asked = []

    monkeypatch.setattr("builtins.input", lambda question: asked.append(question) or "no")
    with pytest.raises(CommandError, match="cancelled; nothing was changed"):
        call_command("restore", str(dump), **QUIET)
    assert "Everything it holds now is replaced" in asked[0]
    assert AuditEntry.objects.filter(action="after the backup").exists()

    monkeypatch.setattr("builtins.input", lambda question: "yes")
    call_command("restore", str(dump), **QUIET)
    assert not AuditEntry.objects.filter(action="after the backup").exists()


@commands
def test_row_counts_that_differ_from_the_manifest_fail_the_restore(demo_plant, tmp_path):
    dump, manifest = backup(tmp_path)
    manifest["tables"]["core_auditentry"] += 1
    dump.with_name(dump.name + MANIFEST_SUFFIX).write_text(json.dumps(manifest))

    with pytest.raises(CommandError, match="Row counts differ") as failed:
        call_command("restore", str(dump), "--yes", **QUIET)
    expected = manifest["tables"]["core_auditentry"]
    assert f"core_auditentry: manifest {expected:,}, now {expected - 1:,}" in str(failed.value)


@commands
def test_two_backups_in_one_second_keep_both(demo_plant, tmp_path):
    with time_machine.travel("2026-03-02 01:02:03Z", tick=False):
        call_command("backup", "--output-dir", str(tmp_path), **QUIET)
        call_command("backup", "--output-dir", str(tmp_path), **QUIET)
    files = sorted(json.loads(m.read_text())["file"] for m in tmp_path.glob(f"*{MANIFEST_SUFFIX}"))
    suffix = ".dump" if connection.vendor == "postgresql" else ".sqlite3"
    stem = "closedloop-20260302T010203Z"
    assert files == [f"{stem}-2{suffix}", f"{stem}{suffix}"]
    assert all((tmp_path / f).exists() for f in files)
    assert not list(tmp_path.glob("*.partial"))
