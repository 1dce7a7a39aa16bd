"""The demo plant loaded once per worker and instant, then copied into each test that asks.

`load_demo` saves every row through the ORM and writes a history row beside each: about two
seconds, and some two hundred tests take the `demo_plant` fixture. The first such test in a
worker runs `load_demo` for real and records, table by table, the rows it wrote (compared with
the tables as the migrations left them). Each later test at the same pinned instant gets those
rows inserted as they are, in its own transaction, and the clock moved on to where a real load
would have left it, so what the test sees is what `load_demo` would have written.

A copy is made only where it is provably the same as a load:
- the test runs inside a transaction that is rolled back afterwards (a test that commits for
  real loads for real: `load_demo`'s commit also runs its on-commit hooks);
- every table the demo writes is still as the migrations left it (a fixture that made rows
  before `demo_plant` gets a real load on top of them);
- the same instant, language and settings as the recorded load.
Otherwise the fixture runs `load_demo`.

No library copies rows within one open transaction across two database engines, and a
template database (PostgreSQL's `CREATE DATABASE … TEMPLATE`) cannot hold a fixture that lives
inside each test's transaction; hence these few lines.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field
from datetime import date, datetime, time

from django.apps import apps
from django.conf import settings
from django.core.management import call_command
from django.core.management.color import no_style
from django.db import connection, transaction
from django.utils import timezone, translation
from django.utils.functional import LazyObject

Row = tuple


@dataclass
class TableRows:
    """What the demo changed in one table: rows to insert (new or changed), keys to remove."""

    columns: list[str]
    pk_index: int
    rows: list[Row] = field(default_factory=list)
    removed: list = field(default_factory=list)


@dataclass
class Snapshot:
    tables: dict[str, TableRows]
    clock_after: datetime


def _quote(name: str) -> str:
    return connection.ops.quote_name(name)


def _tables() -> list[str]:
    with connection.cursor() as cursor:
        return sorted(connection.introspection.table_names(cursor))


def _read(table: str) -> tuple[list[str], list[Row]]:
    """A table's rows in key order (PostgreSQL returns them in no set order)."""
    pk = _pk_column(table)
    order = _quote(pk) if pk else "1"
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT * FROM {_quote(table)} ORDER BY {order}")  # noqa: S608 — listed
        return [c[0] for c in cursor.description], [tuple(r) for r in cursor.fetchall()]


_pk_columns: dict[str, str | None] = {}


def _pk_column(table: str) -> str | None:
    if table not in _pk_columns:
        with connection.cursor() as cursor:
            _pk_columns[table] = connection.introspection.get_primary_key_column(cursor, table)
    return _pk_columns[table]


def baseline_read() -> dict[str, tuple[list[str], list[Row]]]:
    """Every table as it is now (the migrations' rows, between tests)."""
    return {table: _read(table) for table in _tables()}


def _counts(tables: list[str]) -> dict[str, int]:
    if not tables:
        return {}
    counts = {}
    with connection.cursor() as cursor:
        for start in range(0, len(tables), 200):
            chunk = tables[start : start + 200]
            cursor.execute(
                " UNION ALL ".join(
                    f"SELECT {i}, COUNT(*) FROM {_quote(t)}"  # noqa: S608 — listed tables
                    for i, t in enumerate(chunk)
                )
            )
            for i, count in cursor.fetchall():
                counts[chunk[i]] = count
    return counts


def key(instant: datetime, language: str = "en") -> str:
    """What a load depends on besides the code: the instant, the demo's language, the active
    language and the settings."""
    names = sorted(n for n in dir(settings) if n.isupper() and n not in {"CACHES"})
    values = [getattr(settings, n) for n in names]
    # a lazy setting's repr changes once something reads it: its value's does not
    shown = [repr(str(v)) if isinstance(v, LazyObject) else repr(v) for v in values]
    fingerprint = hashlib.sha256(repr(list(zip(names, shown, strict=True))).encode()).hexdigest()
    return f"{instant.isoformat()}|{language}|{translation.get_language()}|{fingerprint}"


def _load(language: str = "en") -> None:
    with open(os.devnull, "w") as devnull:
        call_command("load_demo", "--quiet-logins", f"--language={language}", stdout=devnull)


def load_and_record(baseline, language: str = "en") -> Snapshot | None:
    """Run `load_demo` and return what it wrote, or None where a copy could not reproduce it."""
    _load(language)
    return _recorded(baseline)


def _recorded(baseline) -> Snapshot | None:
    """What the tables hold beyond the migrations' rows, or None where a copy could not
    reproduce it."""
    before = {t: rows for t, (_cols, rows) in baseline.items()}
    tables: dict[str, TableRows] = {}
    for table in _tables():
        columns, rows = _read(table)
        old = before.get(table)
        if old is None:
            return None  # a table made by the load itself
        if rows == old:
            continue
        pk = _pk_column(table)
        if pk is None:
            return None
        index = columns.index(pk)
        old_by_key = {r[index]: r for r in old}
        new_by_key = {r[index]: r for r in rows}
        changed = TableRows(columns=columns, pk_index=index)
        changed.rows = [r for k, r in new_by_key.items() if old_by_key.get(k) != r]
        changed.removed = [k for k in old_by_key if new_by_key.get(k) != old_by_key[k]]
        tables[table] = changed
    return Snapshot(tables=tables, clock_after=timezone.now())


def _adapt(value):
    """A value as read back into a parameter the driver takes (the readers' converters give
    JSON as dicts on PostgreSQL, and dates and times as objects on SQLite)."""
    ops = connection.ops
    if connection.vendor == "postgresql" and isinstance(value, dict | list):
        from psycopg.types.json import Jsonb

        return Jsonb(value)
    if isinstance(value, datetime):
        return ops.adapt_datetimefield_value(value)
    if isinstance(value, date):
        return ops.adapt_datefield_value(value)
    if isinstance(value, time):
        return ops.adapt_timefield_value(value)
    return value


def copy(snapshot: Snapshot, baseline) -> bool:
    """Insert the recorded rows; False (and nothing written) when a table is not as the
    migrations left it."""
    names = list(snapshot.tables)
    counts = _counts(names)
    if any(counts[t] != len(baseline[t][1]) for t in names):
        return False
    with transaction.atomic(), connection.cursor() as cursor:
        for table, change in snapshot.tables.items():
            pk = _quote(change.columns[change.pk_index])
            for start in range(0, len(change.removed), 500):
                chunk = change.removed[start : start + 500]
                marks = ", ".join(["%s"] * len(chunk))
                cursor.execute(f"DELETE FROM {_quote(table)} WHERE {pk} IN ({marks})", chunk)  # noqa: S608
            columns = ", ".join(_quote(c) for c in change.columns)
            per_row = "(" + ", ".join(["%s"] * len(change.columns)) + ")"
            size = max(1, 900 // len(change.columns))  # under SQLite's variable limit
            for start in range(0, len(change.rows), size):
                chunk = change.rows[start : start + size]
                cursor.execute(
                    f"INSERT INTO {_quote(table)} ({columns}) VALUES "  # noqa: S608
                    + ", ".join([per_row] * len(chunk)),
                    [_adapt(v) for row in chunk for v in row],
                )
        # PostgreSQL's sequences do not follow rows inserted with their keys; SQLite's do.
        models = [
            m
            for m in apps.get_models(include_auto_created=True)
            if m._meta.db_table in snapshot.tables
        ]
        for sql in connection.ops.sequence_reset_sql(no_style(), models):
            cursor.execute(sql)
    return True


_snapshots: dict[str, Snapshot | None] = {}


def demo_load(*, baseline, instant: datetime, clock, language: str = "en") -> str:
    """Load the demo (its data in `language`) into the current test; returns how: "copied",
    "recorded" or "loaded"."""
    if not connection.in_atomic_block:
        _load(language)
        return "loaded"
    name = key(instant, language)
    snapshot = _snapshots.get(name)
    if snapshot is not None:
        if copy(snapshot, baseline):
            if snapshot.clock_after > timezone.now():
                clock.move_to(snapshot.clock_after)
            return "copied"
        _load(language)
        return "loaded"
    if name in _snapshots or not _at_baseline(baseline):
        _load(language)
        return "loaded"
    _snapshots[name] = load_and_record(baseline, language)
    return "recorded"


def _at_baseline(baseline) -> bool:
    return _counts(list(baseline)) == {t: len(rows) for t, (_c, rows) in baseline.items()}


def scenario_load(*, name: str, build, baseline, instant: datetime, clock) -> str:
    """The demo plant and what `build()` writes on top of it (a fixture's scenario: orders
    released, lots reported, a schedule run), recorded by the worker's first test at this
    instant and copied into the later ones, on the same terms as the demo alone. `build`
    must write only to the database (what it leaves elsewhere — a cache, a file — is not
    copied); a fixture reads its objects back after this call."""
    if not connection.in_atomic_block:
        _load()
        build()
        return "loaded"
    name = f"{name}|{key(instant)}"
    snapshot = _snapshots.get(name)
    if snapshot is not None and copy(snapshot, baseline):
        if snapshot.clock_after > timezone.now():
            clock.move_to(snapshot.clock_after)
        return "copied"
    if name in _snapshots or not _at_baseline(baseline):
        demo_load(baseline=baseline, instant=instant, clock=clock)
        build()
        return "loaded"
    demo_load(baseline=baseline, instant=instant, clock=clock)
    build()
    _snapshots[name] = _recorded(baseline)
    return "recorded"
