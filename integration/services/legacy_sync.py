"""Legacy sync: plant systems without an API, read on a schedule (docs/integration.md,
"Legacy sync").

A source is a table of another database (any SQLAlchemy or psycopg URL, a SELECT and a
watermark column) or a folder where the old system drops CSV files. Each row becomes a
production order (created or updated by `external_ref`, through planning's order services,
as the API and the B2MML import do) or a stock move (through resources' stock ledger
service); the rules live in those services, none is repeated here.

Nothing is read twice, and a crash re-reads nothing already applied: every row is taken in
its own transaction that also moves the source's position past it — the watermark of a
table, the count of rows done of a file — whether the row was accepted or rejected. A row's
effect runs in a savepoint: all or nothing, and a rejected row (recorded with where it was
and why, naming the field) never blocks the rows after it. A file is known by the SHA-256
of its content, so the same content dropped again is moved aside without being read.

Two runs of one source at once cannot both take a row: each row's transaction locks the
source (or the file) and checks the position it expects; the run that finds it moved stops.
"""

import csv
import hashlib
import io
import logging
import time
from collections.abc import Callable
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext

from core.audit import audit_record
from core.exceptions import StateConflict
from planning.models import ProductionOrder
from planning.services.orders import production_order_create, production_order_update
from resources.models import Item, MaterialLot, StockLocation, StockMove
from resources.selectors.calendar import plant_time_zone
from resources.services.stock import stock_move_record

from ..engines import legacy as engine
from ..engines.legacy import RowRejected
from ..models import LegacyFile, LegacyRejectedRow, LegacySource, LegacySyncRun

logger = logging.getLogger(__name__)

Kind = LegacySource.Kind
Target = LegacySource.Target
ERROR_LIMIT = 2000
# A file larger than this is refused unread (moved to rejected/).
FILE_MAX_BYTES = 100 * 1024 * 1024
# A source is due when its interval has passed, give or take the beat's own jitter.
DUE_SLACK = timedelta(seconds=30)
INTERRUPTED = "Interrupted: the process stopped before the run finished."
# What a row's effect may raise that is about the row, not the run: the row is rejected.
ROW_ERRORS = (RowRejected, ValidationError, StateConflict, PermissionDenied, IntegrityError)


class SourceError(Exception):
    """The source cannot be read as configured (no folder, no column for a field): the run
    fails with this message, and its position stays where it was."""


class RunOvertaken(Exception):
    """Another run of the same source moved the position this run expected."""


def legacy_root() -> Path:
    """The folder every CSV drop folder lives under (settings.LEGACY_SYNC_ROOT)."""
    return Path(getattr(settings, "LEGACY_SYNC_ROOT", settings.VAR_DIR / "legacy")).resolve()


def folder_path(source: LegacySource) -> Path:
    """A source's drop folder, resolved; a ValidationError when it leads out of the root."""
    root = legacy_root()
    try:
        path = (root / source.folder).resolve()
    except (OSError, ValueError):
        path = None
    if path is None or not path.is_relative_to(root):
        raise ValidationError(
            {
                "folder": gettext("The folder must be under %(root)s (LEGACY_SYNC_ROOT).")
                % {"root": root}
            }
        )
    return path


def engine_url(url: str):
    """The SQLAlchemy URL of a source: a psycopg URL (postgres://, postgresql://) is read
    with psycopg 3, the PostgreSQL driver ClosedLoop itself uses."""
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    if parsed.drivername in ("postgres", "postgresql"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed


def url_masked(url: str) -> str:
    """A source URL with its password as ***."""
    try:
        return engine_url(url).render_as_string(hide_password=True)
    except Exception:  # noqa: BLE001 (an unreadable URL is shown as it was typed)
        return url


def _password_hidden(text: str, url: str) -> str:
    try:
        password = engine_url(url).password
    except Exception:  # noqa: BLE001
        return text
    return text.replace(password, "***") if password else text


# --- sources ----------------------------------------------------------------------------------


def legacy_source_validate(source: LegacySource) -> None:
    """The checks of a source before it is saved; a ValidationError names the field."""
    errors: dict[str, str] = {}
    if source.target in engine.FIELDS:
        bad = engine.mapping_errors(source.target, source.mapping)
        if bad:
            errors["mapping"] = " ".join(bad)
    if not 1 <= (source.interval_minutes or 0) <= 7 * 24 * 60:
        errors["interval_minutes"] = "Give 1 to 10080 minutes between runs."
    if source.kind == Kind.DATABASE:
        errors.update(_database_errors(source))
    elif source.kind == Kind.CSV_FOLDER:
        errors.update(_folder_errors(source))
    if errors:
        raise ValidationError(errors)
    source.full_clean()


def _database_errors(source: LegacySource) -> dict[str, str]:
    from sqlalchemy.exc import ArgumentError, NoSuchModuleError

    errors = {}
    try:
        engine_url(source.url or "").get_dialect()
    except (ArgumentError, NoSuchModuleError, ValueError, ImportError) as exc:
        errors["url"] = (
            "Give a database URL SQLAlchemy reads, e.g. postgresql://user:pass@host:5432/db "
            f"or sqlite:////path/to/file.db ({type(exc).__name__})."
        )
    bad_query = engine.query_errors(source.query)
    if bad_query:
        errors["query"] = " ".join(bad_query)
    if not engine.IDENTIFIER.match(source.watermark_column or ""):
        errors["watermark_column"] = "Give the column (a plain name) whose value only grows."
    if not 1 <= (source.batch_size or 0) <= 10000:
        errors["batch_size"] = "Give 1 to 10000 rows per query."
    if source.watermark:
        try:
            engine.watermark_decode(source.watermark_type, source.watermark)
        except ValueError as exc:
            errors["watermark"] = str(exc)
    return errors


def _folder_errors(source: LegacySource) -> dict[str, str]:
    errors = {}
    if not (source.folder or "").strip():
        errors["folder"] = "Give the folder the files are dropped in."
    else:
        try:
            folder_path(source)
        except ValidationError as exc:
            errors.update({k: " ".join(v) for k, v in exc.message_dict.items()})
    pattern = source.pattern or ""
    if not pattern or "/" in pattern or "\\" in pattern or ".." in pattern:
        errors["pattern"] = "Give a file name pattern within the folder, e.g. *.csv."
    if len(source.delimiter or "") != 1 or source.delimiter in '\r\n"':
        errors["delimiter"] = "Give one character, e.g. , or ;"
    try:
        import codecs

        codecs.lookup(source.encoding or "")
    except LookupError:
        errors["encoding"] = f"Unknown encoding {source.encoding!r} (e.g. utf-8-sig, gb18030)."
    return errors


# What a person or a system sets on a source (the admin's form and the API read this list).
SOURCE_EDITABLE = (
    "name",
    "kind",
    "target",
    "active",
    "interval_minutes",
    "mapping",
    "url",
    "query",
    "watermark_column",
    "batch_size",
    "watermark",
    "watermark_type",
    "folder",
    "pattern",
    "delimiter",
    "encoding",
    "settle_seconds",
)


def legacy_source_create(*, by=None, **fields) -> LegacySource:
    """A new legacy source; it runs at the next beat (or at once from the command)."""
    source = LegacySource(**fields)
    legacy_source_validate(source)
    with transaction.atomic():
        source.save()
        audit_record(actor=by, action="integration.legacy_source.create", obj=source)
    return source


def legacy_source_update(*, source: LegacySource, by=None, **fields) -> LegacySource:
    """Change a source. Clearing its watermark reads the table again from the start."""
    with transaction.atomic():
        locked = LegacySource.objects.select_for_update().get(pk=source.pk)
        for name, value in fields.items():
            setattr(locked, name, value)
        if not locked.watermark:
            locked.watermark_type = ""
        legacy_source_validate(locked)
        locked.save()
        audit_record(
            actor=by,
            action="integration.legacy_source.update",
            obj=locked,
            data={"fields": sorted(k for k in fields if k != "url")},
        )
    return locked


def legacy_source_delete(*, source: LegacySource, by=None) -> None:
    """Remove a source with its runs and file records (pause it instead to keep them)."""
    with transaction.atomic():
        audit_record(actor=by, action="integration.legacy_source.delete", obj=source)
        LegacySource.objects.filter(pk=source.pk).delete()


# --- runs -------------------------------------------------------------------------------------


def legacy_sources_due(*, now: datetime | None = None) -> list[LegacySource]:
    """The active sources whose interval has passed since their last run."""
    now = now or timezone.now()
    return [
        s
        for s in LegacySource.objects.filter(active=True)
        if s.last_run_at is None
        or s.last_run_at + timedelta(minutes=s.interval_minutes) <= now + DUE_SLACK
    ]


def legacy_source_run(*, source: LegacySource, trigger: str, by=None) -> LegacySyncRun:
    """Read what is new in one source and take it; returns the run with its counts. A run
    that cannot read the source fails with the reason, leaving the position where the last
    row taken put it."""
    now = timezone.now()
    with transaction.atomic():
        locked = LegacySource.objects.select_for_update().get(pk=source.pk)
        # A run still marked running was cut short (its process died): say so.
        LegacySyncRun.objects.filter(source=locked, status=LegacySyncRun.Status.RUNNING).update(
            status=LegacySyncRun.Status.FAILED, finished_at=now, error=INTERRUPTED
        )
        run = LegacySyncRun.objects.create(
            source=locked, trigger=trigger, started_at=now, watermark_from=locked.watermark
        )
        locked.last_run_at = now
        locked.save(update_fields=["last_run_at"])
    error = ""
    try:
        if locked.kind == Kind.DATABASE:
            _database_read(locked, run, by)
        else:
            _folder_read(locked, run, by)
    except (SourceError, RunOvertaken) as exc:
        error = str(exc)
    except Exception as exc:  # noqa: BLE001 (the run's boundary: recorded, never lost)
        logger.exception("Legacy source %s: the run failed", locked.name)
        error = f"{type(exc).__name__}: {exc}"
    error = _password_hidden(error, locked.url)[:ERROR_LIMIT]
    LegacySyncRun.objects.filter(pk=run.pk).update(
        status=LegacySyncRun.Status.FAILED if error else LegacySyncRun.Status.DONE,
        finished_at=timezone.now(),
        error=error,
    )
    run.refresh_from_db()
    return run


def _jsonable(row: dict) -> dict:
    out = {}
    for key, value in row.items():
        if key is None:
            continue
        if value is None or isinstance(value, bool | int | str):
            out[str(key)] = value
        elif isinstance(value, Decimal | date | datetime):
            out[str(key)] = value.isoformat() if not isinstance(value, Decimal) else str(value)
        elif isinstance(value, float):
            out[str(key)] = value if value == value and abs(value) != float("inf") else str(value)
        elif isinstance(value, bytes):
            out[str(key)] = value.hex()
        else:
            out[str(key)] = str(value)
    return out


def _rejection(exc: Exception) -> tuple[str, str]:
    """(our field, the reason) of a rejected row."""
    if isinstance(exc, RowRejected):
        return exc.field, exc.reason
    if isinstance(exc, ValidationError):
        if hasattr(exc, "error_dict"):
            field, messages = next(iter(exc.message_dict.items()))
            return ("" if field == "__all__" else field), " ".join(messages)
        return "", " ".join(exc.messages)
    if isinstance(exc, StateConflict):
        return "status", str(exc)
    if isinstance(exc, IntegrityError):
        return "", f"The database refused the row: {exc}".strip()
    return "", str(exc)


def _row_take(
    *,
    run: LegacySyncRun,
    position: Callable[[], None],
    apply: Callable[[], None],
    where: dict,
    row: dict,
    accepted: Callable[[], None] | None = None,
    run_fields: dict | None = None,
) -> bool:
    """Take one row in one transaction: move the source's position past it (`position`
    locks and checks it), apply its effect in a savepoint, or record why it was rejected."""
    with transaction.atomic():
        position()
        try:
            with transaction.atomic():
                apply()
        except ROW_ERRORS as exc:
            field, reason = _rejection(exc)
            LegacyRejectedRow.objects.create(
                run=run, field=field[:64], reason=reason, data=_jsonable(row), **where
            )
            LegacySyncRun.objects.filter(pk=run.pk).update(
                rows_read=F("rows_read") + 1,
                rows_rejected=F("rows_rejected") + 1,
                **(run_fields or {}),
            )
            return False
        if accepted is not None:
            accepted()
        LegacySyncRun.objects.filter(pk=run.pk).update(
            rows_read=F("rows_read") + 1, rows_accepted=F("rows_accepted") + 1, **(run_fields or {})
        )
        return True


# --- effects: production orders and stock, through their owners' services --------------------


def _item(code: str) -> Item:
    item = Item.objects.filter(code=code).first()
    if item is None:
        raise RowRejected("item", f"No item {code!r}.")
    return item


def _order_take(values: dict, by) -> None:
    """Create the order named by `external_ref`, or update it (quantity, due date, priority),
    as POST /api/v1/production-orders/ does: a row read again changes nothing."""
    item = _item(values["item"])
    ref = values["external_ref"]
    order = ProductionOrder.objects.filter(external_ref=ref).select_related("item").first()
    if order is None:
        production_order_create(
            item=item,
            quantity=values["quantity"],
            due_date=values["due_date"],
            priority=values.get("priority", 5),
            status=values.get("status", ProductionOrder.Status.DRAFT),
            note=values.get("note", ""),
            external_ref=ref,
            by=by,
        )
        return
    if order.item_id != item.pk:
        raise RowRejected(
            "item", f"Order {order.number} ({ref}) makes {order.item.code}, not {item.code}."
        )
    production_order_update(
        order=order,
        quantity=values["quantity"],
        due_date=values["due_date"],
        priority=values.get("priority"),
        by=by,
    )


def _external_id(source: LegacySource, key: str) -> str:
    """The stock move's external id: the source's, then the row's own id (or where the row
    was); hashed when longer than the ledger keeps."""
    text = f"legacy-{source.pk}:{key}"
    if len(text) > 100:
        text = f"legacy-{source.pk}:sha256:{hashlib.sha256(key.encode()).hexdigest()}"
    return text


def _stock_take(values: dict, source: LegacySource, key: str, by) -> None:
    """A receipt (or an issue) on the stock ledger; a row seen again (its `external_id`, or
    where it was read) is a no-op there. Adjustments are signed by a person and are not
    taken from a legacy system."""
    item = _item(values["item"])
    location = StockLocation.objects.filter(code=values["location"]).first()
    if location is None:
        raise RowRejected("location", f"No stock location {values['location']!r}.")
    lot = None
    if values.get("lot"):
        lot = MaterialLot.objects.filter(item=item, code=values["lot"]).first()
        if lot is None:
            raise RowRejected("lot", f"No lot {values['lot']!r} of {item.code}.")
    quantity = values["quantity"]
    kind = values.get("kind", "receipt")
    if kind == "issue":
        quantity, move_kind = -quantity, StockMove.Kind.ISSUE
    else:
        move_kind = StockMove.Kind.RECEIPT
    stock_move_record(
        item=item,
        location=location,
        quantity=quantity,
        kind=move_kind,
        lot=lot,
        reference=values.get("reference") or f"legacy {source.name}"[:100],
        external_id=_external_id(source, values.get("external_id") or key),
        by=by,
    )


def _effect(source: LegacySource, columns: dict, row: dict, key: str, by) -> Callable[[], None]:
    zone = plant_time_zone()

    def apply() -> None:
        values = engine.row_values(source.target, columns, row, zone)
        if source.target == Target.PRODUCTION_ORDERS:
            _order_take(values, by)
        else:
            _stock_take(values, source, key, by)

    return apply


def _columns(source: LegacySource, header, where: str) -> dict[str, str | None]:
    columns = engine.columns_resolve(source.target, source.mapping, header)
    missing = engine.columns_missing(source.target, source.mapping, columns)
    if missing:
        raise SourceError(
            f"{where} has no column for {', '.join(missing)}; its columns are "
            f"{', '.join(map(str, header))}. Map them on the source (mapping)."
        )
    return columns


# --- a table of another database ---------------------------------------------------------------


def _fetch(db, source: LegacySource, start) -> tuple[list[dict], bool]:
    """The next rows past `start` in watermark order: one batch, cut after the last whole
    group of equal watermarks (or widened to it), so a group is never split across two
    reads. `more` says whether rows may follow."""
    from sqlalchemy import text

    column = db.dialect.identifier_preparer.quote(source.watermark_column)
    # Colons are escaped: in the source's own query they are text (a time, a cast), not binds.
    body = engine.query_body(source.query).replace(":", "\\:")
    wm = f"src.{column}"
    where = f"{wm} IS NOT NULL" + (f" AND {wm} > :start" if start is not None else "")
    params = {"limit": source.batch_size}
    if start is not None:
        params["start"] = start
    with db.connect() as conn:
        if db.dialect.name == "postgresql":
            conn = conn.execution_options(postgresql_readonly=True)
        result = conn.execute(
            text(f"SELECT * FROM ({body}) AS src WHERE {where} ORDER BY {wm} LIMIT :limit"), params
        )
        rows = [dict(r._mapping) for r in result]
        more = len(rows) >= source.batch_size
        if more:
            key = _key(rows[0], source.watermark_column)
            last = rows[-1][key]
            ties = conn.execute(
                text(f"SELECT * FROM ({body}) AS src WHERE {wm} = :last"), {"last": last}
            )
            rows = [r for r in rows if r[key] != last] + [dict(r._mapping) for r in ties]
    return rows, more


def _key(row: dict, column: str) -> str:
    for key in row:
        if str(key).lower() == column.lower():
            return key
    raise SourceError(f"The query gives no column {column!r} (the watermark).")


def _database_read(source: LegacySource, run: LegacySyncRun, by) -> None:
    from sqlalchemy import create_engine
    from sqlalchemy.pool import NullPool

    url = engine_url(source.url)
    connect_args = {"connect_timeout": 10} if url.get_backend_name() == "postgresql" else {}
    db = create_engine(url, poolclass=NullPool, connect_args=connect_args)
    expected = (source.watermark_type, source.watermark)
    start = engine.watermark_decode(*expected) if source.watermark else None
    columns = None
    try:
        while True:
            rows, more = _fetch(db, source, start)
            if not rows:
                return
            key = _key(rows[0], source.watermark_column)
            if columns is None:
                columns = _columns(source, list(rows[0]), "The query")
            for row in rows:
                value = row[key]
                try:
                    moved = engine.watermark_encode(value)
                except ValueError as exc:
                    raise SourceError(str(exc)) from None

                def position(expected=expected, moved=moved) -> None:
                    locked = LegacySource.objects.select_for_update().get(pk=source.pk)
                    if (locked.watermark_type, locked.watermark) != expected:
                        raise RunOvertaken(
                            f"Stopped: another run of {source.name} moved the watermark to "
                            f"{locked.watermark!r} (this run expected {expected[1]!r})."
                        )
                    LegacySource.objects.filter(pk=source.pk).update(
                        watermark_type=moved[0], watermark=moved[1]
                    )

                _row_take(
                    run=run,
                    position=position,
                    apply=_effect(source, columns, row, moved[1], by),
                    where={"watermark": moved[1][:200]},
                    row=row,
                    run_fields={"watermark_to": moved[1][:200]},
                )
                expected, start = moved, value
            if not more:
                return
    finally:
        db.dispose()


# --- a CSV drop folder --------------------------------------------------------------------------


def _folder_read(source: LegacySource, run: LegacySyncRun, by) -> None:
    try:
        folder = folder_path(source)
    except ValidationError as exc:
        raise SourceError(" ".join(exc.messages)) from None
    if not folder.is_dir():
        raise SourceError(f"No folder {folder}.")
    now = time.time()
    for path in sorted(p for p in folder.glob(source.pattern) if p.is_file()):
        # A file the old system may still be writing waits for the next run.
        if source.settle_seconds and now - path.stat().st_mtime < source.settle_seconds:
            continue
        _file_read(source, run, path, by)


def _file_move(path: Path, status: str, sha256: str) -> None:
    """Into processed/ or rejected/ beside it, never over a file of the same name there."""
    if not path.exists():
        return  # moved meanwhile by a run at the same moment
    target = path.parent / status
    target.mkdir(exist_ok=True)
    dest = target / path.name
    if dest.exists():
        dest = target / f"{path.stem}.{sha256[:12]}{path.suffix}"
        n = 1
        while dest.exists():
            dest = target / f"{path.stem}.{sha256[:12]}-{n}{path.suffix}"
            n += 1
    path.replace(dest)


def _file_finish(record: LegacyFile, run: LegacySyncRun, status: str, refusal: str = "") -> str:
    with transaction.atomic():
        if refusal:
            LegacyRejectedRow.objects.create(
                run=run, file_name=record.name, field="file", reason=refusal
            )
        LegacyFile.objects.filter(pk=record.pk).update(status=status, finished_at=timezone.now())
    return status


def _file_read(source: LegacySource, run: LegacySyncRun, path: Path, by) -> None:
    try:
        size = path.stat().st_size
        with path.open("rb") as handle:
            sha256 = hashlib.file_digest(handle, "sha256").hexdigest()
        data = path.read_bytes() if size <= FILE_MAX_BYTES else b""
    except FileNotFoundError:
        return  # taken away meanwhile (by the old system, or a run at the same moment)
    with transaction.atomic():
        record, _created = LegacyFile.objects.get_or_create(
            source=source, sha256=sha256, defaults={"name": path.name[:255], "first_run": run}
        )
    if record.status != LegacyFile.Status.READING:
        # The same content was read before (under this name or another): not again.
        LegacySyncRun.objects.filter(pk=run.pk).update(files_skipped=F("files_skipped") + 1)
        _file_move(path, record.status, sha256)
        return
    LegacySyncRun.objects.filter(pk=run.pk).update(files_read=F("files_read") + 1)
    status = _file_rows(source, run, record, data, size, by)
    _file_move(path, status, sha256)


def _file_rows(
    source: LegacySource, run: LegacySyncRun, record: LegacyFile, data: bytes, size: int, by
) -> str:
    """Take a file's rows from where it was left; the status it ends in."""
    rejected = LegacyFile.Status.REJECTED
    if size > FILE_MAX_BYTES:
        return _file_finish(record, run, rejected, f"Larger than {FILE_MAX_BYTES} bytes.")
    try:
        text = data.decode(source.encoding)
    except UnicodeDecodeError as exc:
        return _file_finish(
            record, run, rejected, f"Not {source.encoding} text (byte {exc.start} unreadable)."
        )
    reader = csv.DictReader(io.StringIO(text, newline=""), delimiter=source.delimiter)
    try:
        header = reader.fieldnames or []
    except csv.Error as exc:
        return _file_finish(record, run, rejected, f"Line 1 is not CSV: {exc}.")
    if not header:
        return _file_finish(record, run, rejected, "Empty: no header line.")
    try:
        columns = _columns(source, header, "The header")
    except SourceError as exc:
        return _file_finish(record, run, rejected, str(exc))
    index = -1
    try:
        for index, row in enumerate(reader):
            if index < record.rows_done:
                continue
            line = index + 2  # the header is line 1, as a spreadsheet shows it

            def position(index=index) -> None:
                locked = LegacyFile.objects.select_for_update().get(pk=record.pk)
                if locked.rows_done != index or locked.status != LegacyFile.Status.READING:
                    raise RunOvertaken(
                        f"Stopped: another run of {source.name} is reading {record.name}."
                    )
                LegacyFile.objects.filter(pk=record.pk).update(rows_done=index + 1)

            def accepted() -> None:
                LegacyFile.objects.filter(pk=record.pk).update(rows_accepted=F("rows_accepted") + 1)

            _row_take(
                run=run,
                position=position,
                apply=_effect(source, columns, row, f"{record.sha256[:16]}:{line}", by),
                where={"file_name": record.name, "line": line},
                row=row,
                accepted=accepted,
            )
    except csv.Error as exc:
        # The rows before it were taken; what follows cannot be read.
        return _file_finish(
            record, run, rejected, f"Line {index + 3} is not CSV ({exc}); the rest was not read."
        )
    record.refresh_from_db()
    if record.rows_done and not record.rows_accepted:
        return _file_finish(record, run, rejected)  # every row rejected: nothing went in
    return _file_finish(record, run, LegacyFile.Status.PROCESSED)
