"""Import of master data — items, equipment, changeovers, BOMs, routings — from CSV or XLSX
files.

`masterdata_import` reads one file, `masterdata_import_many` several (items first, then
equipment, its changeover pairs, BOMs and routings, whatever order they are given in). Both
run django-import-export's resources (resources.resources.ItemResource, EquipmentResource,
EquipmentChangeoverResource, planning.resources.BomResource and RoutingResource) in ONE
transaction with model validation on, and write nothing unless every
row of every file is good; a dry run reports what would be new or updated and writes
nothing. Errors name the file, the row as a spreadsheet shows it (header = row 1) and the
column.

Files are read within limits (resources.resources, "file formats"): a file larger than
IMPORT_MAX_BYTES is refused before any of it is read, a workbook that unpacks to more than
IMPORT_MAX_UNZIPPED_BYTES before openpyxl opens it, and a file with more than IMPORT_MAX_ROWS
data rows as soon as the reader reaches the first row past the limit.

`import_job_start` stores an upload and queues an `ImportJob` that a Celery worker runs
(`import_job_execute`): the same all-or-nothing import, with its progress and report kept
on the job, for files too large to import while a web request waits.
"""

import logging
import os
import shutil
import time
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext, gettext_noop, pgettext
from import_export.results import RowResult

from core.audit import audit_record
from core.texts import Text, text_shown
from resources.resources import (
    CSV,
    NOT_XLSX,
    XLSX,
    CellError,
    EquipmentChangeoverResource,
    EquipmentResource,
    FileRefused,
    ItemResource,
    cell_text,
    file_size_check,
    import_limit,
    result_problems,
    xlsx_unzipped_check,
)

from ..models import ImportJob
from ..resources import BomResource, RoutingResource
from ..selectors.imports import import_job_progress_path
from ..words import IMPORT_KINDS, code_label

logger = logging.getLogger(__name__)

KINDS = {
    "items": ItemResource,
    "equipment": EquipmentResource,
    "changeovers": EquipmentChangeoverResource,
    "boms": BomResource,
    "routings": RoutingResource,
}
# What a file may refer to comes first: routings name equipment, pairs their machine.
KIND_ORDER = ("items", "equipment", "changeovers", "boms", "routings")

# Leading bytes of files people upload by mistake, for a clear "wrong file type" message.
SIGNATURES = [
    (b"%PDF", gettext_noop("This is a PDF document, not a CSV or XLSX file.")),
    (b"\x89PNG", gettext_noop("This is a PNG image, not a CSV or XLSX file.")),
    (b"\xff\xd8\xff", gettext_noop("This is a JPEG image, not a CSV or XLSX file.")),
    (b"GIF8", gettext_noop("This is a GIF image, not a CSV or XLSX file.")),
    (
        b"\xd0\xcf\x11\xe0",
        gettext_noop(
            "This is an old Excel .xls (or other Office 97) file; save it as .xlsx, not a CSV "
            "or XLSX file."
        ),
    ),
    (b"\x1f\x8b", gettext_noop("This is a gzip archive, not a CSV or XLSX file.")),
]
UNSUPPORTED = gettext_noop("Unsupported file type “%(extension)s”: use a .csv or .xlsx file.")
ZIP = b"PK\x03\x04"


# The name callers use; it shadows the builtin ImportError in this module only.
@dataclass(frozen=True)
class ImportError:
    """One problem: row as a spreadsheet numbers it (0 = the whole file), column ("" = none).

    `message` is in English; `message_id` and `params` keep it as a stored text
    (core/texts.py), `shown` is it in the reader's language.
    """

    row: int
    column: str
    message: str
    file: str = ""
    message_id: str = ""
    params: dict = field(default_factory=dict, compare=False, hash=False)

    @classmethod
    def of(cls, row: int, column: str, text: Text, file: str = "") -> "ImportError":
        return cls(row, column, text.english(), file, text.msgid, text.params)

    @property
    def shown(self) -> str:
        return text_shown(self.message_id, self.params, self.message)

    def as_json(self) -> dict:
        """As an import job keeps it (ImportJob.errors)."""
        return {
            "row": self.row,
            "column": self.column,
            "message": self.message,
            "message_id": self.message_id,
            "params": self.params,
        }

    def __str__(self) -> str:
        """The problem with where it is, in the active language ("items.csv row 3, column
        code: …"; "items.csv 第 3 行，列 code：…")."""
        parts = [self.file] if self.file else []
        if self.row:
            parts.append(gettext("row %(row)s") % {"row": self.row})
        where = " ".join(parts)
        if self.column:
            column = gettext("column %(column)s") % {"column": self.column}
            where = (
                pgettext("between a row and its column", ", ").join([where, column])
                if where
                else column
            )
        return _located(where, self.shown) if where else self.shown


def _located(where: str, message: str) -> str:
    """A message after what it is about (a full-width colon in Chinese)."""
    return pgettext("an error's field or row, then its message", "%(label)s: %(message)s") % {
        "label": where,
        "message": message,
    }


@dataclass
class ImportReport:
    """What an import did (or, on a dry run or on errors, would have done) — rows by outcome."""

    kind: str
    file_name: str = ""
    new: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list[ImportError] = field(default_factory=list)
    dry_run: bool = False
    parts: list["ImportReport"] = field(default_factory=list)  # one per file, for _many

    @property
    def ok(self) -> bool:
        return not self.errors

    def summary(self) -> str:
        """What the import did with the file, in the active language."""
        counts = gettext("%(kind)s, %(new)s new, %(updated)s updated, %(unchanged)s unchanged") % {
            "kind": code_label(IMPORT_KINDS, self.kind),
            "new": self.new,
            "updated": self.updated,
            "unchanged": self.unchanged,
        }
        return _located(self.file_name, counts) if self.file_name else counts


class _FileProblem(CellError):
    """What is wrong with a file as a whole (a stored text, like a cell's problem)."""

    @classmethod
    def of(cls, error: CellError) -> "_FileProblem":
        problem = cls("")
        problem.text = error.text
        return problem


def _file_bytes(file) -> bytes:
    """The file's bytes; its size is checked against IMPORT_MAX_BYTES before any is read.

    At most one byte more than the limit is read from a file whose size was not told (or not
    told truly), so a larger file is refused without being read into memory.
    """
    try:
        if isinstance(file, bytes | bytearray):
            file_size_check(len(file))
            return bytes(file)
        limit = import_limit("IMPORT_MAX_BYTES")
        if isinstance(file, str | Path):
            try:
                with Path(file).open("rb") as stream:
                    file_size_check(os.fstat(stream.fileno()).st_size)
                    data = stream.read(limit + 1)
            except OSError as e:
                raise _FileProblem(
                    gettext_noop("Cannot read the file: %(problem)s."), problem=e.strerror or str(e)
                ) from None
        else:
            size = getattr(file, "size", None)
            if isinstance(size, int):
                file_size_check(size)
            if hasattr(file, "seek"):
                file.seek(0)
            data = file.read(limit + 1)
            data = data.encode("utf-8") if isinstance(data, str) else data
        file_size_check(len(data))
        return data
    except FileRefused as e:
        raise _FileProblem.of(e) from None


def _content_check(data: bytes, file_name: str) -> str:
    """ "xlsx" or "csv": what the extension says, checked against the content; or _FileProblem.

    Looks at the first bytes and, for a workbook, the zip's directory: nothing is parsed.
    """
    extension = Path(file_name).suffix.lower()
    if extension not in {".csv", ".xlsx", ""}:
        raise _FileProblem(UNSUPPORTED, extension=extension)
    if not data.strip():
        raise _FileProblem(gettext_noop("The file is empty."))
    for signature, message in SIGNATURES:
        if data.startswith(signature):
            raise _FileProblem(message)
    is_zip = data.startswith(ZIP)
    if extension == ".xlsx" or (not extension and is_zip):
        if not is_zip:
            raise _FileProblem(
                gettext_noop("This is not an XLSX workbook (the file is not a zip archive).")
            )
        try:
            xlsx_unzipped_check(data)
        except FileRefused as e:
            raise _FileProblem.of(e) from None
        return "xlsx"
    if is_zip:
        raise _FileProblem(gettext_noop("This is a zip archive (an XLSX workbook?), not CSV text."))
    if b"\x00" in data:
        raise _FileProblem(gettext_noop("This is a binary file, not CSV text."))
    return "csv"


def _dataset(data: bytes, file_name: str):
    """A tablib Dataset from CSV or XLSX bytes, chosen by the extension and checked by content."""
    if _content_check(data, file_name) == "xlsx":
        try:
            return XLSX().create_dataset(data)
        except FileRefused as e:
            raise _FileProblem.of(e) from None
        except Exception as e:  # openpyxl raises many kinds for a damaged or foreign zip
            raise _FileProblem(NOT_XLSX, problem=str(e)) from None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise _FileProblem(gettext_noop("This is not UTF-8 text; save the CSV as UTF-8.")) from None
    try:
        return CSV().create_dataset(text)
    except FileRefused as e:
        raise _FileProblem.of(e) from None
    except Exception as e:  # csv.Error (e.g. a field too large) — about the file as a whole
        raise _FileProblem(
            gettext_noop("This is not readable CSV (%(problem)s)."), problem=str(e)
        ) from None


def _kind_detect(headers: Iterable) -> str | None:
    """The kind (KINDS) whose columns the header shares most, of those with all their
    required columns if that leaves one; None if unclear."""
    columns = {cell_text(h).lower() for h in headers or []} - {""}
    scores = {kind: len(columns & set(resource.columns())) for kind, resource in KINDS.items()}
    best = max(scores.values())
    winners = [kind for kind, score in scores.items() if score == best]
    if len(winners) > 1:  # e.g. code and name only: items (equipment also needs work_center)
        winners = [k for k in winners if set(KINDS[k].required_columns) <= columns]
    return winners[0] if best and len(winners) == 1 else None


def _read(file, file_name: str, kind: str | None):
    """(dataset, kind) or raise _FileProblem."""
    dataset = _dataset(_file_bytes(file), file_name)
    if kind is None:
        kind = _kind_detect(dataset.headers)
        if kind is None:
            raise _FileProblem(
                gettext_noop(
                    "Cannot tell from the header (row 1) whether this is an items, equipment, "
                    "changeovers, boms or routings file; the first row must name the columns "
                    "(see docs/import.md)."
                )
            )
    elif kind not in KINDS:
        raise _FileProblem(
            gettext_noop(
                "Unknown kind “%(kind)s”: use items, equipment, changeovers, boms or routings."
            ),
            kind=kind,
        )
    return dataset, kind


def _import_dataset(
    dataset, *, kind: str, file_name: str, dry_run: bool, on_row=None
) -> ImportReport:
    """Run the resource; must be called inside the caller's transaction.

    `on_row(n)` is called after the n-th data row (an import job's progress).
    """
    resource = KINDS[kind](on_row=on_row)
    # dry_run=False even for a dry run: import-export would roll back each file on its own,
    # and a BOM file checked in the same run as its items file must see those items. The
    # caller's transaction is rolled back instead.
    result = resource.import_data(
        dataset,
        dry_run=False,
        raise_errors=False,
        use_transactions=True,
        collect_failed_rows=True,
        rollback_on_validation_errors=True,
        file_name=file_name,
    )
    totals = result.totals
    return ImportReport(
        kind=kind,
        file_name=file_name,
        new=totals[RowResult.IMPORT_TYPE_NEW],
        updated=totals[RowResult.IMPORT_TYPE_UPDATE],
        unchanged=totals[RowResult.IMPORT_TYPE_SKIP] - resource.blank_rows,
        errors=[
            ImportError.of(r, c, text, file=file_name)
            for r, c, text in result_problems(result, resource.columns())
        ],
        dry_run=dry_run,
    )


def _audit(report: ImportReport, by) -> None:
    audit_record(
        actor=by,
        action=f"masterdata.import.{report.kind}",
        object_type="file",  # an import is about a file, not one record
        object_id=report.file_name[-64:],
        data={"new": report.new, "updated": report.updated, "unchanged": report.unchanged},
    )


def masterdata_import(
    *, file, file_name: str, kind: str | None = None, dry_run: bool = False, by=None
) -> ImportReport:
    """Import one CSV or XLSX file of items, BOM lines or routing steps; all or nothing.

    `file` is a path, bytes or a file object (an upload); `file_name` decides CSV or XLSX by
    its extension (the content must agree). `kind` is detected from the header when None.
    """
    try:
        dataset, kind = _read(file, file_name, kind)
    except _FileProblem as e:
        return ImportReport(
            kind=kind or "", file_name=file_name, errors=[ImportError.of(0, "", e.text, file_name)]
        )
    with transaction.atomic():
        report = _import_dataset(dataset, kind=kind, file_name=file_name, dry_run=dry_run)
        if report.errors or dry_run:
            transaction.set_rollback(True)
        else:
            _audit(report, by)
    return report


def _named(file) -> tuple[str, object]:
    if isinstance(file, tuple):
        return str(file[0]), file[1]
    if isinstance(file, str | Path):
        return str(file), file
    return str(getattr(file, "name", "") or "upload"), file


def masterdata_import_many(
    *, files: Iterable, kind: str | None = None, dry_run: bool = False, by=None
) -> ImportReport:
    """Import several files in one transaction: items, then BOMs, then routings.

    Each of `files` is a path, a file object with a name, or a (file_name, file) pair. If any
    file cannot be read nothing is imported; otherwise every file is imported and every bad
    row of every file is reported (a bad item can make BOM rows that use it fail too).
    """
    loaded, errors = [], []
    for position, entry in enumerate(files):
        file_name, file = _named(entry)
        try:
            dataset, file_kind = _read(file, file_name, kind)
        except _FileProblem as e:
            errors.append(ImportError.of(0, "", e.text, file_name))
            continue
        loaded.append((KIND_ORDER.index(file_kind), position, file_name, file_kind, dataset))
    loaded.sort(key=lambda entry: entry[:2])
    kinds = "+".join(dict.fromkeys(entry[3] for entry in loaded)) or (kind or "")
    if errors:
        return ImportReport(kind=kinds, errors=errors, dry_run=dry_run)
    parts = []
    with transaction.atomic():
        for _, _, file_name, file_kind, dataset in loaded:
            parts.append(
                _import_dataset(dataset, kind=file_kind, file_name=file_name, dry_run=dry_run)
            )
        errors = [error for part in parts for error in part.errors]
        if errors or dry_run:
            transaction.set_rollback(True)
        else:
            for part in parts:
                _audit(part, by)
    return ImportReport(
        kind=kinds,
        file_name=", ".join(part.file_name for part in parts),
        new=sum(part.new for part in parts),
        updated=sum(part.updated for part in parts),
        unchanged=sum(part.unchanged for part in parts),
        errors=errors,
        dry_run=dry_run,
        parts=parts,
    )


# --- background jobs -------------------------------------------------------------------------

ERRORS_KEPT = 1000  # problems a job keeps for its report; all of them are counted
PROGRESS_EVERY_SECONDS = 0.5
CHUNK = 2**20


def _jobs_dir() -> Path:
    return Path(settings.VAR_DIR) / "imports"


def _chunks(file) -> Iterator[bytes]:
    if isinstance(file, bytes | bytearray):
        yield bytes(file)
    elif isinstance(file, str | Path):
        with Path(file).open("rb") as stream:
            yield from iter(lambda: stream.read(CHUNK), b"")
    elif hasattr(file, "chunks"):  # a Django upload
        yield from file.chunks(CHUNK)
    else:
        if hasattr(file, "seek"):
            file.seek(0)
        for data in iter(lambda: file.read(CHUNK), b""):
            if not data:  # a text stream ends with ""
                break
            yield data.encode("utf-8") if isinstance(data, str) else data


def import_job_start(*, file, file_name: str, by=None, dry_run: bool = False) -> ImportJob:
    """Store an upload under VAR_DIR/imports and queue its import; returns the queued job.

    The file is refused here (ValidationError naming the file, nothing stored) when it is too
    large, of the wrong type, or a workbook that unpacks to too much; its rows are read by
    the worker, which counts them against IMPORT_MAX_ROWS.
    """
    # Cycle: planning.tasks imports this module (import_job_task calls import_job_execute).
    from ..tasks import import_job_task

    def refuse(message: str):
        shutil.rmtree(directory, ignore_errors=True)
        raise ValidationError({"file": _located(file_name, message)})

    extension = Path(file_name).suffix.lower()
    directory = _jobs_dir() / uuid.uuid4().hex
    if extension not in {".csv", ".xlsx"}:
        refuse(Text(UNSUPPORTED, extension=extension).render())
    try:
        size = getattr(file, "size", None)
        if isinstance(size, int):
            file_size_check(size)
        directory.mkdir(parents=True)
        stored = directory / f"upload{extension}"
        written = 0
        with stored.open("wb") as out:
            for chunk in _chunks(file):
                written += len(chunk)
                file_size_check(written)  # a size that was not told, or not told truly
                out.write(chunk)
        _content_check(stored.read_bytes(), file_name)
    except FileRefused as e:
        refuse(str(e))
    except _FileProblem as e:
        refuse(str(e))
    except OSError as e:
        refuse(
            Text(
                gettext_noop("Cannot store the file: %(problem)s."), problem=e.strerror or str(e)
            ).render()
        )
    with transaction.atomic():
        job = ImportJob.objects.create(
            file_name=file_name[-255:],
            stored_file=str(stored.relative_to(Path(settings.VAR_DIR))),
            size=written,
            dry_run=dry_run,
            created_by=by if getattr(by, "is_authenticated", False) else None,
        )
        transaction.on_commit(lambda: import_job_task.delay(job.pk))
    return job


class _Progress:
    """Rows done, written to a small file next to the upload while the import runs.

    Not to the job's row: the import's transaction shows nothing to the page before it
    commits, and on SQLite no other connection may write while it is open.
    """

    def __init__(self, path: Path):
        self.path = path
        self.written_at = 0.0

    def __call__(self, rows_done: int) -> None:
        now = time.monotonic()
        if now - self.written_at < PROGRESS_EVERY_SECONDS:
            return
        self.written_at = now
        temporary = self.path.with_suffix(".tmp")
        try:
            temporary.write_text(str(rows_done))
            os.replace(temporary, self.path)
        except OSError:  # progress is a courtesy; the import goes on
            logger.warning("Cannot write import progress to %s", self.path, exc_info=True)


def _job_record(job: ImportJob, report: ImportReport, *, rows_done: int) -> None:
    job.status = ImportJob.Status.FAILED if report.errors else ImportJob.Status.DONE
    job.kind = report.kind or job.kind
    job.rows_done = rows_done
    job.new, job.updated, job.unchanged = report.new, report.updated, report.unchanged
    job.errors = [e.as_json() for e in report.errors[:ERRORS_KEPT]]
    job.error_count = len(report.errors)
    job.finished_at = timezone.now()
    job.save()


def _job_files_remove(job: ImportJob) -> None:
    if job.stored_file:
        shutil.rmtree((Path(settings.VAR_DIR) / job.stored_file).parent, ignore_errors=True)


def import_job_execute(*, job_id: int) -> ImportJob:
    """Run a queued import job; all or nothing, like masterdata_import. Safe to run twice.

    The job row stays locked (select_for_update) for the whole import transaction, and its
    result is written in that transaction: a second delivery of the task waits, then finds
    the job finished and does nothing. A worker that dies mid-import leaves nothing written
    and the job running; the broker's redelivery (acks_late) runs it again.
    """
    with transaction.atomic():
        job = ImportJob.objects.select_for_update().get(pk=job_id)
        if job.finished:
            return job
        job.status = ImportJob.Status.RUNNING
        job.started_at = timezone.now()
        job.attempts += 1  # the row is locked
        job.save(update_fields=["status", "started_at", "attempts"])
    try:
        try:
            dataset, kind = _read(Path(settings.VAR_DIR) / job.stored_file, job.file_name, None)
        except _FileProblem as e:
            report = ImportReport(
                kind="", file_name=job.file_name, errors=[ImportError.of(0, "", e.text)]
            )
            with transaction.atomic():
                job = ImportJob.objects.select_for_update().get(pk=job_id)
                if not job.finished:
                    _job_record(job, report, rows_done=0)
            transaction.on_commit(lambda: _job_files_remove(job))
            return job
        ImportJob.objects.filter(pk=job_id).update(kind=kind, rows_total=len(dataset))
        with transaction.atomic():
            job = ImportJob.objects.select_for_update().get(pk=job_id)
            if job.finished:
                return job
            with transaction.atomic():  # a savepoint: the rows, rolled back on any bad one
                report = _import_dataset(
                    dataset,
                    kind=kind,
                    file_name=job.file_name,
                    dry_run=job.dry_run,
                    on_row=_Progress(import_job_progress_path(job)),
                )
                if report.errors or job.dry_run:
                    transaction.set_rollback(True)
                else:
                    _audit(report, job.created_by)
            _job_record(job, report, rows_done=len(dataset))
            transaction.on_commit(lambda: _job_files_remove(job))
        return job
    except Exception as exc:  # the job records the failure; the page shows it
        logger.exception("Import job %s failed", job_id)
        text = Text(
            gettext_noop("The import stopped: %(problem)s. Nothing was imported."),
            problem=f"{type(exc).__name__}: {exc}",
        )
        ImportJob.objects.filter(pk=job_id).exclude(
            status__in=(ImportJob.Status.DONE, ImportJob.Status.FAILED)
        ).update(
            status=ImportJob.Status.FAILED,
            errors=[ImportError.of(0, "", text).as_json()],
            error_count=1,
            finished_at=timezone.now(),
        )
        return ImportJob.objects.get(pk=job_id)
