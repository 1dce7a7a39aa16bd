"""Backups of the database and their restore (`manage.py backup`, `manage.py restore`).

A backup is one file plus a manifest beside it (`<file>.manifest.json`): the file's SHA-256
and size, the database vendor, the latest applied migration of each app, when it was made
and the row count of every table, all taken from the same snapshot as the file.

- PostgreSQL: `pg_dump -Fc` of the configured database, run on a snapshot exported by a
  REPEATABLE READ transaction that also counts the rows, so the counts are exactly what the
  dump holds while the plant keeps writing. Restore: the dump's script (`pg_restore
  --no-owner`) run by psql after dropping the backup's tables, in one transaction (all or
  nothing; not `--clean`, which cannot drop a partition's inherited key), then
  ANALYZE so the planner has statistics at once.
- SQLite (the embedded default): SQLite's online backup API copies the live database page by
  page in one step while web and worker keep running (WAL); the copy is turned into a plain
  single file and counted. Restore copies the file back into the live database with the same
  API (the database file is never swapped under an open connection).

A restore checks size and checksum before it touches anything, refuses a dump of another
vendor, and afterwards compares every table's row count with the manifest.
Client programs run with an argument list and the password in the environment (PGPASSWORD),
never through a shell. Nothing here knows a domain app: the tables are whatever the database
holds. See docs/operations.md.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import psycopg
from django.conf import settings
from django.db import connections

MANIFEST_SUFFIX = ".manifest.json"
MANIFEST_FORMAT = "closedloop-backup/1"
# PostgreSQL client settings Django reads from OPTIONS, passed on as libpq's variables. Not
# `options` (the app's `-c statement_timeout=...`, `-c jit=off`): a dump, a restore or a
# count over millions of rows must not be cancelled by the web requests' limit.
PG_OPTION_ENV = {
    "connect_timeout": "PGCONNECT_TIMEOUT",
    "sslmode": "PGSSLMODE",
    "sslrootcert": "PGSSLROOTCERT",
    "sslcert": "PGSSLCERT",
    "sslkey": "PGSSLKEY",
    "passfile": "PGPASSFILE",
    "service": "PGSERVICE",
}


class BackupError(Exception):
    """A backup could not be made or a file may not be restored; the message says why."""


@dataclass
class BackupResult:
    path: Path
    manifest_path: Path
    manifest: dict
    seconds: float
    phases: dict[str, float] = field(default_factory=dict)


@dataclass
class RestoreResult:
    seconds: float
    rows: int
    # table: (rows in the manifest, rows now or None if the table is missing)
    mismatches: dict[str, tuple[int, int | None]] = field(default_factory=dict)
    extra_tables: list[str] = field(default_factory=list)
    phases: dict[str, float] = field(default_factory=dict)


def backup_dir() -> Path:
    return Path(getattr(settings, "BACKUP_DIR", None) or Path(settings.VAR_DIR) / "backups")


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


# --- backup -------------------------------------------------------------------------------


def backup_create(*, alias: str = "default", directory: Path | None = None) -> BackupResult:
    """Write a backup of the database `alias` and its manifest into `directory`."""
    connection = connections[alias]
    vendor = connection.vendor
    if vendor not in {"postgresql", "sqlite"}:
        raise BackupError(f"No backup for the {vendor} database backend (PostgreSQL or SQLite).")
    directory = Path(directory or backup_dir())
    directory.mkdir(parents=True, exist_ok=True)
    created = datetime.now(UTC)
    suffix = ".dump" if vendor == "postgresql" else ".sqlite3"
    path, partial = _reserve(directory, f"closedloop-{created:%Y%m%dT%H%M%SZ}", suffix)
    phases: dict[str, float] = {}
    started = time.perf_counter()
    try:
        if vendor == "postgresql":
            details = _pg_dump(connection.settings_dict, partial, phases)
        else:
            details = sqlite_copy(Path(connection.settings_dict["NAME"]), partial, phases)
        size = partial.stat().st_size
        mark = time.perf_counter()
        sha256 = file_sha256(partial)
        phases["checksum"] = time.perf_counter() - mark
        os.replace(partial, path)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    seconds = time.perf_counter() - started
    manifest = {
        "format": MANIFEST_FORMAT,
        "file": path.name,
        "size": size,
        "sha256": sha256,
        "vendor": vendor,
        "database": str(connection.settings_dict["NAME"]),
        "created_at": created.isoformat(timespec="seconds").replace("+00:00", "Z"),
        "seconds": round(seconds, 3),
        **details,
    }
    manifest_path = path.with_name(path.name + MANIFEST_SUFFIX)
    tmp = manifest_path.with_name(manifest_path.name + ".partial")
    tmp.write_text(json.dumps(manifest, indent=2, sort_keys=False) + "\n")
    os.replace(tmp, manifest_path)
    return BackupResult(
        path=path, manifest_path=manifest_path, manifest=manifest, seconds=seconds, phases=phases
    )


def _reserve(directory: Path, stem: str, suffix: str) -> tuple[Path, Path]:
    """A free final name and its `.partial` file, created exclusively (two backups in one
    second get `-2`, `-3`, ...)."""
    for n in range(1, 1000):
        name = f"{stem}{suffix}" if n == 1 else f"{stem}-{n}{suffix}"
        path = directory / name
        partial = directory / (name + ".partial")
        if path.exists():
            continue
        try:
            os.close(os.open(partial, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
        except FileExistsError:
            continue
        return path, partial
    raise BackupError(f"No free backup file name for {stem} in {directory}.")


def _pg_connect(settings_dict: dict):
    """A connection of its own (not Django's), so a caller's open transaction never mixes
    with the snapshot or the checks."""
    kwargs = {"dbname": settings_dict["NAME"]}
    for key, param in (("HOST", "host"), ("PORT", "port"), ("USER", "user")):
        if settings_dict.get(key):
            kwargs[param] = str(settings_dict[key])
    if settings_dict.get("PASSWORD"):
        kwargs["password"] = settings_dict["PASSWORD"]
    for key in PG_OPTION_ENV:
        if settings_dict.get("OPTIONS", {}).get(key):
            kwargs[key] = settings_dict["OPTIONS"][key]
    return psycopg.connect(**kwargs)


def _pg_client(program: str, settings_dict: dict) -> tuple[list[str], dict[str, str]]:
    """argv prefix and environment for pg_dump / pg_restore against `settings_dict`."""
    executable = shutil.which(program)
    if executable is None:
        raise BackupError(
            f"{program} is not installed (Debian: apt-get install postgresql-client-15)."
        )
    argv = [executable, "--no-password"]
    for key, flag in (("HOST", "--host"), ("PORT", "--port"), ("USER", "--username")):
        if settings_dict.get(key):
            argv += [flag, str(settings_dict[key])]
    env = dict(os.environ)
    if settings_dict.get("PASSWORD"):
        env["PGPASSWORD"] = settings_dict["PASSWORD"]
    for key, variable in PG_OPTION_ENV.items():
        if settings_dict.get("OPTIONS", {}).get(key):
            env[variable] = str(settings_dict["OPTIONS"][key])
    return argv, env


def _run(argv: list[str], env: dict[str, str], what: str) -> None:
    done = subprocess.run(argv, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise BackupError(f"{what} failed (exit {done.returncode}): {done.stderr.strip()}")


def _pg_restore(dump: Path, settings_dict: dict, *, tables: list[str]) -> None:
    """Replace the backup's tables with the dump's, in one transaction.

    Not `pg_restore --clean`: it drops each table's constraints one by one, and PostgreSQL
    refuses to drop a partition's primary key (it is inherited from the partitioned table,
    e.g. the telemetry's day partitions). So pg_restore writes its script and psql runs it
    after dropping the backup's tables (with their partitions, keys, indexes and sequences),
    all in one transaction: a restore that fails leaves the database as it was, and tables
    the backup does not have are kept (and named by the restore), as --clean kept them.
    """
    names = [t.split(".", 1) if "." in t else ["public", t] for t in tables]
    drop = "DROP TABLE IF EXISTS " + ", ".join(_pg_quote(a, b) for a, b in names) + " CASCADE;"
    restore_argv, env = _pg_client("pg_restore", settings_dict)
    psql_argv, _ = _pg_client("psql", settings_dict)
    script = subprocess.Popen(
        [*restore_argv, "--no-owner", "--file=-", str(dump)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    done = subprocess.run(
        [
            *psql_argv,
            "--single-transaction",
            "--set=ON_ERROR_STOP=1",
            "--quiet",
            "--output=/dev/null",
            f"--dbname={settings_dict['NAME']}",
            f"--command={drop}",
            "--file=-",
        ],
        env=env,
        stdin=script.stdout,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        check=False,
    )
    script.stdout.close()
    script_err = script.stderr.read().decode(errors="replace").strip()
    script.stderr.close()
    if script.wait() != 0:
        raise BackupError(f"pg_restore failed (exit {script.returncode}): {script_err}")
    if done.returncode != 0:
        raise BackupError(f"pg_restore failed (exit {done.returncode}): {done.stderr.strip()}")


def _pg_tables(cursor) -> list[tuple[str, str]]:
    cursor.execute(
        # A partitioned table counts once, as itself: its partitions (the telemetry's days)
        # are not tables of their own to the backup (nor to Django's introspection).
        """SELECT t.schemaname, t.tablename FROM pg_tables t
           JOIN pg_namespace n ON n.nspname = t.schemaname
           JOIN pg_class c ON c.relnamespace = n.oid AND c.relname = t.tablename
           WHERE t.schemaname NOT IN ('pg_catalog', 'information_schema')
             AND NOT c.relispartition
           ORDER BY t.schemaname, t.tablename"""
    )
    return cursor.fetchall()


def _pg_table_key(schema: str, table: str) -> str:
    return table if schema == "public" else f"{schema}.{table}"


def _pg_quote(schema: str, table: str) -> str:
    return '"{}"."{}"'.format(schema.replace('"', '""'), table.replace('"', '""'))


def _pg_counts(cursor) -> dict[str, int]:
    counts = {}
    for schema, table in _pg_tables(cursor):
        cursor.execute(f"SELECT count(*) FROM {_pg_quote(schema, table)}")
        counts[_pg_table_key(schema, table)] = cursor.fetchone()[0]
    return counts


def _latest_migrations(rows) -> dict[str, str]:
    latest: dict[str, str] = {}
    for app, name in rows:
        if name > latest.get(app, ""):
            latest[app] = name
    return dict(sorted(latest.items()))


def _pg_dump(settings_dict: dict, target: Path, phases: dict[str, float]) -> dict:
    argv, env = _pg_client("pg_dump", settings_dict)
    with _pg_connect(settings_dict) as conn, conn.cursor() as cursor:
        # One snapshot for the dump, the counts and the migration state: pg_dump attaches to
        # the snapshot this transaction exports, which lives while the transaction is open.
        cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        # snapshot_at: a recovery target for a point-in-time restore that matches this dump
        # (docs/operations.md, "Restore drill").
        cursor.execute(
            "SELECT pg_export_snapshot(), current_setting('server_version'), clock_timestamp()"
        )
        snapshot, server_version, snapshot_at = cursor.fetchone()
        mark = time.perf_counter()
        _run(
            [*argv, "--format=custom", f"--snapshot={snapshot}", f"--file={target}"]
            + [f"--dbname={settings_dict['NAME']}"],
            env,
            "pg_dump",
        )
        phases["pg_dump"] = time.perf_counter() - mark
        mark = time.perf_counter()
        counts = _pg_counts(cursor)
        migrations = _pg_migrations(cursor)
        phases["count"] = time.perf_counter() - mark
        conn.rollback()
    version = subprocess.run([argv[0], "--version"], capture_output=True, text=True).stdout
    return {
        # PostgreSQL's own notation, as recovery_target_time and pgBackRest's --target take it.
        "snapshot_at": f"{snapshot_at.astimezone(UTC):%Y-%m-%d %H:%M:%S.%f}+00",
        "server_version": server_version,
        "tool": version.strip(),
        "migrations": migrations,
        "tables": counts,
    }


def _pg_migrations(cursor) -> dict[str, str]:
    cursor.execute("SELECT to_regclass('django_migrations') IS NOT NULL")
    if not cursor.fetchone()[0]:
        return {}
    cursor.execute("SELECT app, name FROM django_migrations")
    return _latest_migrations(cursor.fetchall())


def _sqlite_tables(conn: sqlite3.Connection) -> list[str]:
    rows = conn.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' "
        "ORDER BY name"
    )
    return [name for (name,) in rows]


def _sqlite_counts(conn: sqlite3.Connection) -> dict[str, int]:
    return {
        table: conn.execute(
            'SELECT count(*) FROM "{}"'.format(table.replace('"', '""'))
        ).fetchone()[0]
        for table in _sqlite_tables(conn)
    }


def sqlite_copy(source: Path, target: Path, phases: dict[str, float] | None = None) -> dict:
    """Copy the live SQLite database `source` into the new file `target`; the manifest's
    details (row counts and migration state read from the copy itself)."""
    if not source.exists():
        raise BackupError(f"The SQLite database {source} does not exist.")
    phases = {} if phases is None else phases
    src = sqlite3.connect(source, timeout=30)
    dst = sqlite3.connect(target)
    try:
        mark = time.perf_counter()
        # pages=-1: the whole database in one step, i.e. one consistent read of it; writers in
        # other processes carry on (WAL) and a commit during the copy does not restart it.
        src.backup(dst, pages=-1)
        # The copy stands alone: no -wal/-shm files beside it, nothing to replay.
        dst.execute("PRAGMA journal_mode=DELETE")
        phases["copy"] = time.perf_counter() - mark
        mark = time.perf_counter()
        counts = _sqlite_counts(dst)
        migrations = (
            _latest_migrations(dst.execute("SELECT app, name FROM django_migrations"))
            if "django_migrations" in counts
            else {}
        )
        phases["count"] = time.perf_counter() - mark
    finally:
        dst.close()
        src.close()
    return {
        "server_version": sqlite3.sqlite_version,
        "tool": f"SQLite {sqlite3.sqlite_version} online backup API",
        "migrations": migrations,
        "tables": counts,
    }


def sqlite_restore(dump: Path, live: Path) -> dict[str, int]:
    """Copy the backup file into the live database with the backup API; its row counts after.

    The live file keeps its identity and journal mode (WAL): other processes' connections
    see the restored content on their next transaction instead of a file swapped under them.
    """
    src = sqlite3.connect(f"file:{dump}?mode=ro", uri=True)
    dst = sqlite3.connect(live, timeout=30)
    try:
        journal_mode = dst.execute("PRAGMA journal_mode").fetchone()[0]
        src.backup(dst, pages=-1)
        if journal_mode.lower() == "wal":
            dst.execute("PRAGMA journal_mode=WAL")
        return _sqlite_counts(dst)
    finally:
        dst.close()
        src.close()


# --- restore ------------------------------------------------------------------------------


def manifest_read(path: Path | str) -> tuple[Path, dict]:
    """The manifest named by `path` (the manifest itself or the backup file beside it)."""
    path = Path(path)
    if not path.exists():
        raise BackupError(f"{path}: no such file.")
    if path.name.endswith(MANIFEST_SUFFIX):
        manifest_path = path
    else:
        manifest_path = path.with_name(path.name + MANIFEST_SUFFIX)
    if not manifest_path.exists():
        raise BackupError(
            f"{manifest_path}: manifest not found; a backup is restored only with its manifest "
            "(it holds the checksum)."
        )
    try:
        manifest = json.loads(manifest_path.read_text())
    except (ValueError, UnicodeDecodeError) as exc:
        raise BackupError(f"{manifest_path}: not a readable manifest ({exc}).") from None
    keys = ("format", "file", "size", "sha256", "vendor", "tables", "migrations")
    missing = [key for key in keys if key not in manifest] if isinstance(manifest, dict) else keys
    if missing or manifest.get("format") != MANIFEST_FORMAT:
        raise BackupError(
            f"{manifest_path}: not a ClosedLoop backup manifest "
            f"({'missing ' + ', '.join(missing) if missing else 'format ' + repr(manifest.get('format'))})."
        )
    if not isinstance(manifest["tables"], dict) or not all(
        isinstance(rows, int) for rows in manifest["tables"].values()
    ):
        raise BackupError(f"{manifest_path}: `tables` must map each table to its row count.")
    return manifest_path, manifest


def backup_read(path: Path | str) -> tuple[Path, dict]:
    """The dump file and its manifest, after checking size and SHA-256; `path` names either.

    Reads only: a missing, truncated or corrupted file is refused here, before a restore has
    touched the database."""
    path = Path(path)
    manifest_path, manifest = manifest_read(path)
    # Named directly, the file counts even if it was renamed; a manifest names its own file.
    dump = manifest_path.with_name(manifest["file"]) if path == manifest_path else path
    if not dump.exists():
        raise BackupError(f"{dump}: backup file not found (named by {manifest_path.name}).")
    size = dump.stat().st_size
    if size != manifest["size"]:
        raise BackupError(
            f"{dump}: {size:,} bytes, the manifest says {manifest['size']:,}: the file is "
            f"{'truncated' if size < manifest['size'] else 'damaged'}. Nothing was restored."
        )
    if file_sha256(dump) != manifest["sha256"]:
        raise BackupError(
            f"{dump}: SHA-256 does not match the manifest: the file is corrupted. "
            "Nothing was restored."
        )
    return dump, manifest


def backup_check_vendor(*, manifest: dict, alias: str = "default") -> None:
    vendor = connections[alias].vendor
    if manifest["vendor"] != vendor:
        raise BackupError(
            f"{manifest['file']} is a {manifest['vendor']} backup; the configured database is "
            f"{vendor}. Restore it into a {manifest['vendor']} database. Nothing was restored."
        )


def backup_migration_notes(manifest: dict) -> list[str]:
    """How the backup's migration state compares with this code's migrations."""
    from django.db.migrations.loader import MigrationLoader

    graph = MigrationLoader(None, ignore_no_migrations=True).graph
    leaves: dict[str, str] = {}
    for app, name in graph.leaf_nodes():
        leaves[app] = max(name, leaves.get(app, ""))
    saved = manifest["migrations"]
    older, unknown = [], []
    for app in sorted(set(leaves) | set(saved)):
        name = saved.get(app)
        if name is not None and (app, name) not in graph.nodes:
            unknown.append(f"{app}.{name}")
        elif name != leaves.get(app):
            older.append(app)
    notes = []
    if unknown:
        notes.append(
            "The backup has migrations this code does not know ("
            + ", ".join(unknown)
            + "): it was made by a newer release; restore it with that release."
        )
    if older:
        notes.append(
            "The backup is behind this code's migrations for "
            + ", ".join(older)
            + ": run `manage.py migrate` after the restore."
        )
    return notes


def backup_restore(*, dump: Path, manifest: dict, alias: str = "default") -> RestoreResult:
    """Replace the database `alias` with the (already checked) backup, then count its rows."""
    backup_check_vendor(manifest=manifest, alias=alias)
    connection = connections[alias]
    settings_dict = connection.settings_dict
    # Nothing of ours holds the database while it is replaced.
    connection.close()
    phases: dict[str, float] = {}
    started = time.perf_counter()
    if manifest["vendor"] == "postgresql":
        _pg_restore(dump, settings_dict, tables=list(manifest["tables"]))
        phases["pg_restore"] = time.perf_counter() - started
        mark = time.perf_counter()
        with _pg_connect(settings_dict) as conn:
            conn.autocommit = True
            conn.execute("ANALYZE")  # pg_restore brings no planner statistics
        phases["analyze"] = time.perf_counter() - mark
        mark = time.perf_counter()
        counts = database_counts(alias=alias)
        phases["count"] = time.perf_counter() - mark
    else:
        counts = sqlite_restore(dump, Path(settings_dict["NAME"]))
        phases["copy and count"] = time.perf_counter() - started
    mismatches, extra = counts_compare(manifest=manifest, counts=counts)
    return RestoreResult(
        seconds=time.perf_counter() - started,
        rows=sum(counts.get(table, 0) for table in manifest["tables"]),
        mismatches=mismatches,
        extra_tables=extra,
        phases=phases,
    )


def database_counts(*, alias: str = "default") -> dict[str, int]:
    """Row count of every table of the database `alias`, read outside Django's connection."""
    connection = connections[alias]
    if connection.vendor == "postgresql":
        with _pg_connect(connection.settings_dict) as conn, conn.cursor() as cursor:
            return _pg_counts(cursor)
    conn = sqlite3.connect(connection.settings_dict["NAME"], timeout=30)
    try:
        return _sqlite_counts(conn)
    finally:
        conn.close()


def counts_compare(
    *, manifest: dict, counts: dict[str, int]
) -> tuple[dict[str, tuple[int, int | None]], list[str]]:
    """Tables whose row count differs from the manifest's (manifest, now or None if missing),
    and the tables the manifest does not name."""
    mismatches = {
        table: (expected, counts.get(table))
        for table, expected in manifest["tables"].items()
        if counts.get(table) != expected
    }
    return mismatches, sorted(set(counts) - set(manifest["tables"]))


def mismatches_text(mismatches: dict[str, tuple[int, int | None]]) -> str:
    return "\n".join(
        f"  {table}: manifest {expected:,}, now " + ("missing" if got is None else f"{got:,}")
        for table, (expected, got) in sorted(mismatches.items())
    )
