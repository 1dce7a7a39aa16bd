"""django-import-export resources for master data, and what every master-data import shares.

The shared part keeps the promise of STYLE.md — foreign keys match on business codes, one
transaction, model validation on, every bad row reported with its number and column:

- widgets that turn a cell into a value or raise ``ValueError`` naming the bad value (the
  stock ones let ``DoesNotExist``/``InvalidOperation`` through, which import-export reports as
  a row error without a column, or silently drop unknown many-to-many codes);
- CSV and XLSX formats that keep the rows of the file where they are, so that row numbers
  are those a user sees in a spreadsheet (header = row 1, first data row = row 2);
- ``MasterDataResource``: checks the header before any row is read, refuses duplicate keys
  within one file, names errors by column, and numbers rows like the file.

``planning.services.imports.masterdata_import`` (the service) and the admin both run these
resources.
"""

import csv
import io
import zipfile
from collections.abc import Iterable, Iterator
from datetime import date, datetime
from decimal import Decimal, InvalidOperation

import openpyxl
import tablib
from django.conf import settings
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db.models.fields import NOT_PROVIDED
from django.utils.functional import Promise, lazy
from django.utils.translation import gettext_lazy, gettext_noop, pgettext_lazy
from import_export import fields, resources, widgets
from import_export.formats import base_formats
from import_export.results import Result, RowResult
from openpyxl.worksheet._reader import CELL_TAG, ROW_TAG, WorkSheetParser
from openpyxl.xml.functions import iterparse

from core.formatting import quantity_format
from core.texts import Text

from .models import Equipment, EquipmentChangeover, Item, WorkCenter

NO_HEADER = "(no header)"


def cell_text(value) -> str:
    """A cell as stripped text; whole numbers from a spreadsheet lose their '.0'."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


# --- messages ----------------------------------------------------------------------------
#
# A problem an import reports is kept by an import job (planning.ImportJob.errors) long after
# the import, and read in the reader's language: so each is a stored text (core/texts.py), its
# English msgid and its parameters. The resources raise CellError (a widget) or a
# ValidationError with a lazy message and params; `problem_text` takes the msgid back out.

_NOTHING = ""  # a variable: makemessages would take a literal "" for a msgid
_GETTEXT_LAZY = type(gettext_lazy(_NOTHING))
_PGETTEXT_LAZY = type(pgettext_lazy(_NOTHING, _NOTHING))


def problem_text(message, params: dict | None = None) -> Text:
    """A problem's message (a lazy msgid, or plain text) with its params, as a stored text.

    Plain text (a model's clean() that translated on the spot) is kept as it was written.
    """
    params = {str(k): _param(v) for k, v in (params or {}).items()}
    args = getattr(message, "_args", ())
    if isinstance(message, _GETTEXT_LAZY) and len(args) == 1:
        return Text(str(args[0]), **params)
    if isinstance(message, _PGETTEXT_LAZY) and len(args) == 2:
        return Text(str(args[1]), str(args[0]), **params)
    return Text(str(message), **params)


def _param(value):
    """A parameter as a stored text keeps it: a lazy label (a model's verbose name) by its
    msgid, so that it too is shown in the reader's language."""
    return problem_text(value) if isinstance(value, Promise) else value


def error_texts(error: ValidationError) -> list[Text]:
    """Every message of a ValidationError (one without a dict) as stored texts."""
    return [
        getattr(e, "text", None) or problem_text(e.message, e.params)
        for e in getattr(error, "error_list", [error])
    ]


class CellError(ValueError):
    """A cell that cannot be read: the message as a stored text (a gettext_noop msgid with
    %(name)s params); str() is the sentence in the active language."""

    def __init__(self, msgid: str, **params):
        self.text = Text(msgid, **params)
        super().__init__(msgid)

    def __str__(self) -> str:
        return self.text.render()

    def validation_error(self) -> ValidationError:
        """As import-export reports a cell: the sentence in the language of the page that shows
        it (the admin's preview), the stored text kept on it for a report (error_texts)."""
        error = ValidationError(lazy(self.text.render, str)(), code="invalid")
        error.text = self.text
        return error


def cell_validation_error(error: ValueError) -> ValidationError:
    if isinstance(error, CellError):
        return error.validation_error()
    return ValidationError(str(error), code="invalid")


def invalid(msgid: str, **params) -> ValidationError:
    """A ValidationError whose message is the msgid (gettext_noop), translated when shown and
    kept by id in an import's report."""
    return CellError(msgid, **params).validation_error()


# --- widgets -----------------------------------------------------------------------------

NOT_A_NUMBER = gettext_noop("“%(value)s” is not a number.")
NOT_WHOLE = gettext_noop("“%(value)s” is not a whole number.")


def _limit_error(text: str, minimum: Decimal | int, exclusive: bool) -> CellError:
    if minimum == 0:
        if exclusive:
            return CellError(gettext_noop("%(value)s must be greater than zero."), value=text)
        return CellError(gettext_noop("%(value)s must not be negative."), value=text)
    if exclusive:
        return CellError(
            gettext_noop("%(value)s must be greater than %(minimum)s."), value=text, minimum=minimum
        )
    return CellError(
        gettext_noop("%(value)s must be at least %(minimum)s."), value=text, minimum=minimum
    )


class CodeWidget(widgets.CharWidget):
    """A code or short text: stripped, and a number typed in a spreadsheet (version 1) as '1'."""

    def clean(self, value, row=None, **kwargs):
        return cell_text(value)


class ChoiceWidget(widgets.CharWidget):
    """One of a model field's choices, by value or label, in any case; blank gives the default."""

    def __init__(self, choices, **kwargs):
        self.choices = list(choices)
        super().__init__(**kwargs)

    def clean(self, value, row=None, **kwargs):
        text = cell_text(value)
        if not text:
            return None
        for key, label in self.choices:
            if text.lower() in {str(key).lower(), str(label).lower()}:
                return key
        # A list parameter of a stored text: listed in the reader's language (core/texts.py).
        allowed = [str(key) for key, _ in self.choices]
        raise CellError(
            gettext_noop("“%(value)s” is not one of %(allowed)s."), value=text, allowed=allowed
        )


class QuantityWidget(widgets.DecimalWidget):
    """A decimal number (quantity, money, minutes), refused when below its lower limit."""

    def __init__(self, minimum=None, exclusive=False, below=None, **kwargs):
        self.minimum = None if minimum is None else Decimal(minimum)
        self.exclusive = exclusive
        self.below = None if below is None else Decimal(below)
        super().__init__(**kwargs)

    def clean(self, value, row=None, **kwargs):
        if self.is_empty(value):
            return None
        if isinstance(value, bool):
            raise CellError(NOT_A_NUMBER, value=str(value))
        # A spreadsheet float carries binary noise (0.1 + 0.2); 15 digits is what Excel shows.
        text = f"{value:.15g}" if isinstance(value, float) else cell_text(value)
        try:
            number = Decimal(text)
        except InvalidOperation:
            raise CellError(NOT_A_NUMBER, value=text) from None
        if not number.is_finite():
            raise CellError(NOT_A_NUMBER, value=text)
        if self.minimum is not None and (
            number < self.minimum or (self.exclusive and number == self.minimum)
        ):
            raise _limit_error(text, self.minimum, self.exclusive)
        if self.below is not None and number >= self.below:
            raise CellError(
                gettext_noop("%(value)s must be below %(limit)s."), value=text, limit=self.below
            )
        return number

    def render(self, value, obj=None, **kwargs):
        if value is None:
            return ""
        if self.coerce_to_string and not kwargs.get("force_native_type"):
            return quantity_format(value)
        return value


class WholeNumberWidget(widgets.IntegerWidget):
    """A whole number (line or step number, days, level); 10.5 is refused, not cut to 10."""

    def __init__(self, minimum=None, **kwargs):
        self.minimum = minimum
        super().__init__(**kwargs)

    def clean(self, value, row=None, **kwargs):
        if self.is_empty(value):
            return None
        text = cell_text(value)
        try:
            number = Decimal(text)
        except InvalidOperation:
            raise CellError(NOT_WHOLE, value=text) from None
        if isinstance(value, bool) or not number.is_finite() or number != number.to_integral():
            raise CellError(NOT_WHOLE, value=text)
        if number.adjusted() > 18:
            raise CellError(gettext_noop("%(value)s is too large."), value=text)
        if self.minimum is not None and number < self.minimum:
            raise _limit_error(text, self.minimum, False)
        return int(number)


class DayWidget(widgets.DateWidget):
    """A date: YYYY-MM-DD text or a spreadsheet date cell."""

    def clean(self, value, row=None, **kwargs):
        if value is None or cell_text(value) == "":
            return None
        if isinstance(value, datetime):
            return value.date()
        if isinstance(value, date):
            return value
        try:
            return self._parse_value(cell_text(value), date)
        except ValueError:
            raise CellError(
                gettext_noop("“%(value)s” is not a date; write YYYY-MM-DD."), value=cell_text(value)
            ) from None


UNKNOWN = gettext_noop("Unknown %(noun)s “%(code)s”.")


class CodeForeignKeyWidget(widgets.ForeignKeyWidget):
    """A foreign key given by the related record's business code; an unknown code is named.

    Each code is looked up once per import (the widget lives as long as its resource).
    import-export's CachedForeignKeyWidget reads the whole table, and then builds a new
    namedtuple class for every cell it looks up.
    """

    def __init__(self, model, field="code", **kwargs):
        super().__init__(model, field, **kwargs)
        self.known: dict[str, object] = {}  # code → record, or None when it does not exist

    def clean(self, value, row=None, **kwargs):
        code = cell_text(value)
        if not code:
            return None
        if code not in self.known:
            lookup = {self.field: code}
            self.known[code] = self.model._default_manager.filter(**lookup).first()
        if self.known[code] is None:
            raise CellError(UNKNOWN, noun=_param(self.model._meta.verbose_name), code=code)
        return self.known[code]


class CodeManyToManyWidget(widgets.ManyToManyWidget):
    """A list of business codes separated by `separator`; every code must exist.

    The stock widget filters with ``code__in`` and so drops a mistyped code without a word.
    Codes are looked up once per import (the widget lives as long as its resource) and
    cleaned to a list of records.
    """

    def __init__(self, model, separator="|", field="code", **kwargs):
        super().__init__(model, separator=separator, field=field, **kwargs)
        self.known: dict[str, object] = {}  # code → record, or None when it does not exist

    def clean(self, value, row=None, **kwargs):
        codes = list(dict.fromkeys(c.strip() for c in cell_text(value).split(self.separator)))
        codes = [c for c in codes if c]
        unseen = [c for c in codes if c not in self.known]
        if unseen:
            self.known.update(dict.fromkeys(unseen))
            found = self.model.objects.filter(**{f"{self.field}__in": unseen})
            self.known.update((str(getattr(o, self.field)), o) for o in found)
        missing = [c for c in codes if self.known[c] is None]
        if missing:
            raise CellError(
                UNKNOWN, noun=_param(self.model._meta.verbose_name), code="”, “".join(missing)
            )
        return [self.known[c] for c in codes]

    def render(self, value, obj=None, **kwargs):
        if value is None:
            return ""
        return self.separator.join(str(getattr(o, self.field)) for o in value.all())


def model_field(model, name: str, widget, **kwargs) -> fields.Field:
    """A resource field whose column is the model field's name; a blank cell gives its default."""
    default = model._meta.get_field(name).default
    kwargs.setdefault("default", NOT_PROVIDED if default is NOT_PROVIDED else default)
    return fields.Field(attribute=name, column_name=name, widget=widget, **kwargs)


def choice_field(model, name: str) -> fields.Field:
    return model_field(model, name, ChoiceWidget(model._meta.get_field(name).choices))


# --- file formats ------------------------------------------------------------------------
#
# A file is read only within limits (docs/import.md, "Limits"), so that a small file cannot
# cost minutes of CPU or gigabytes of memory: its size (IMPORT_MAX_BYTES) is checked before
# anything is read, an XLSX workbook's unpacked size (IMPORT_MAX_UNZIPPED_BYTES) before
# openpyxl opens it, and rows (IMPORT_MAX_ROWS) are counted as they are streamed, the reading
# stopping at the first row past the limit. An XLSX sheet's declared size (<dimension>) is
# not trusted: only the rows and cells the sheet really holds are read.

MAX_COLUMNS = 50  # master-data files have at most 11; wider rows are refused, not read
EMPTY_RUN = 1000  # empty rows read past the row limit before the file is refused
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")  # what a spreadsheet may run as a formula
LIMIT_DEFAULTS = {
    "IMPORT_MAX_BYTES": 10 * 2**20,
    "IMPORT_MAX_UNZIPPED_BYTES": 50 * 2**20,
    "IMPORT_MAX_ROWS": 20_000,
    "IMPORT_SYNC_MAX_ROWS": 500,
}


NOT_XLSX = gettext_noop("This is not a readable XLSX workbook (%(problem)s).")
TOO_WIDE = gettext_noop(
    "Row %(row)s has a value in column %(column)s; the import reads at most %(most)s columns, "
    "and nothing was imported."
)


class FileRefused(CellError):
    """A file the import does not read (too large, too many rows); the message says why."""


def import_limit(name: str) -> int:
    """A limit from the settings (config/settings.py reads them from the environment)."""
    return int(getattr(settings, name, LIMIT_DEFAULTS[name]))


def file_size_check(size: int) -> None:
    """Refuse a file larger than IMPORT_MAX_BYTES, before a byte of it is parsed."""
    limit = import_limit("IMPORT_MAX_BYTES")
    if size > limit:
        raise FileRefused(
            gettext_noop(
                "The file is %(size)s bytes, more than the limit of %(limit)s bytes "
                "(IMPORT_MAX_BYTES); it was not read. Split it into smaller files."
            ),
            size=f"{size:,}",
            limit=f"{limit:,}",
        )


def xlsx_unzipped_check(data: bytes) -> None:
    """Refuse a workbook that unpacks to more than IMPORT_MAX_UNZIPPED_BYTES (a zip bomb).

    Reads the zip's directory only. The sizes it declares are what Python's zipfile (and so
    openpyxl) will unpack at most: a member that holds more is cut there and fails its CRC.
    """
    limit = import_limit("IMPORT_MAX_UNZIPPED_BYTES")
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError) as e:
        raise FileRefused(NOT_XLSX, problem=str(e)) from None
    total = 0
    for member in members:
        total += member.file_size
        if total > limit:
            raise FileRefused(
                gettext_noop(
                    "The workbook unpacks to more than %(limit)s bytes "
                    "(IMPORT_MAX_UNZIPPED_BYTES; %(member)s alone is %(size)s bytes); it was "
                    "not read."
                ),
                limit=f"{limit:,}",
                member=member.filename,
                size=f"{member.file_size:,}",
            )


def formula_escaped(value):
    """Text a spreadsheet would run as a formula (= + - @, or a TAB or CR first), with an
    apostrophe in front so that it stays text (OWASP "CSV injection"); other values as given."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def formula_unescaped(value):
    """What formula_escaped() wrote, read back: an export can be imported again unchanged."""
    if isinstance(value, str) and value[:1] == "'" and value[1:].startswith(FORMULA_START):
        return value[1:]
    return value


def _escape_formulae(dataset: tablib.Dataset) -> None:
    for index, row in enumerate(dataset):
        dataset[index] = [formula_escaped(value) for value in row]


class RowLimit:
    """How many data rows a reader takes, and what it says when a file has more."""

    def __init__(self, max_rows: int, setting: str = "IMPORT_MAX_ROWS", advice: Text | None = None):
        self.max_rows = max_rows
        self.setting = setting
        self.advice = advice or Text(gettext_noop("Split the file into smaller files."))

    @classmethod
    def default(cls) -> "RowLimit":
        return cls(import_limit("IMPORT_MAX_ROWS"))

    def refuse(self, reason: Text) -> FileRefused:
        return FileRefused(
            gettext_noop(
                "More than %(rows)s data rows (%(setting)s): %(reason)s; nothing was imported. "
                "%(advice)s"
            ),
            rows=f"{self.max_rows:,}",
            setting=self.setting,
            reason=reason,
            advice=self.advice,
        )


def dataset_from_rows(rows: Iterable, limit: RowLimit | None = None) -> tablib.Dataset:
    """A Dataset from (row number, cells) pairs as a file holds them, row 1 the header.

    Short rows are padded and long rows widen the table: cells beyond the last named column
    get the header "" and are reported by ``MasterDataResource`` with their row number
    (tablib would refuse the whole file). Row numbers stay those of the file: a gap becomes
    blank rows, and blank rows are skipped by the import but still counted. Blank rows after
    the last row with data are dropped.

    Reading stops, with FileRefused, at the first row with data past the limit, at a row
    wider than MAX_COLUMNS, or after EMPTY_RUN empty rows past the limit: the rows are
    pulled one by one from `rows`, which is read no further.
    """
    limit = limit or RowLimit.default()
    last_allowed = limit.max_rows + 1  # the header is row 1
    table: list[list] = []
    empty_past_limit = 0
    for number, cells in rows:
        cells = [formula_unescaped(value) for value in cells]
        width = len(cells)
        while width and cell_text(cells[width - 1]) == "":
            width -= 1
        if not width:
            if number > last_allowed:
                empty_past_limit += 1
                if empty_past_limit > EMPTY_RUN:
                    raise limit.refuse(
                        Text(
                            gettext_noop(
                                "more than %(empty)s empty rows follow row %(row)s; delete the "
                                "empty rows below the data"
                            ),
                            empty=f"{EMPTY_RUN:,}",
                            row=f"{last_allowed:,}",
                        )
                    )
            continue
        if number > last_allowed:
            raise limit.refuse(Text(gettext_noop("row %(row)s holds data"), row=f"{number:,}"))
        if width > MAX_COLUMNS:
            raise FileRefused(TOO_WIDE, row=f"{number:,}", column=f"{width:,}", most=MAX_COLUMNS)
        table.extend([] for _ in range(number - len(table) - 1))  # blank rows of a gap
        table.append(cells[:width])
    if not table:
        return tablib.Dataset()
    width = max(len(r) for r in table)
    header = [cell_text(h) for h in table[0]] + [""] * (width - len(table[0]))
    dataset = tablib.Dataset(headers=header)
    for row in table[1:]:
        dataset.append(row + [None] * (width - len(row)))
    return dataset


def csv_rows(text: str) -> Iterator[tuple[int, list]]:
    """(record number, cells) of CSV text, record by record; ';' if the header has no ','."""
    text = text.removeprefix("\ufeff")
    first_line = text[: text.find("\n")] if "\n" in text else text
    delimiter = ";" if ";" in first_line and "," not in first_line else ","
    yield from enumerate(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter), 1)


def xlsx_rows(data: bytes, *, max_cells: int) -> Iterator[tuple[int, list]]:
    """(row number, cells) of the first worksheet, for each <row> the sheet holds.

    Not openpyxl's iter_rows(): it trusts the sheet's declared <dimension> and makes up every
    row and column up to it (a 2 KB file declaring A1:Z200000 gave 5.2 million empty cells),
    and it builds a whole row before handing it over. Here the sheet's XML is streamed cell
    by cell with openpyxl's own cell parser (the same values: shared strings, numbers, dates,
    booleans, cached results of formulas), rows and gaps are numbered as the sheet numbers
    them, and at most `max_cells` cell elements are parsed. Uses openpyxl internals
    (pinned in pyproject.toml; the tests in tests/planning/test_import*.py cover them).
    """
    xlsx_unzipped_check(data)
    book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    try:
        sheet = book.worksheets[0]
        with sheet._get_source() as source:
            parser = WorkSheetParser(
                source,
                sheet._shared_strings,
                data_only=True,
                epoch=book.epoch,
                date_formats=book._date_formats,
                timedelta_formats=book._timedelta_formats,
            )
            number, row, values, cells_read = 0, None, {}, 0
            for event, element in iterparse(source, events=("start", "end")):
                if element.tag == CELL_TAG and event == "end" and row is not None:
                    cells_read += 1
                    if cells_read > max_cells:
                        raise FileRefused(
                            gettext_noop(
                                "The sheet holds more than %(cells)s cells before row %(row)s; "
                                "nothing was imported."
                            ),
                            cells=f"{max_cells:,}",
                            row=f"{number:,}",
                        )
                    cell = parser.parse_cell(element)
                    row.clear()  # the parsed cells are not kept in the XML tree
                    if cell["value"] is not None and cell_text(cell["value"]) != "":
                        if cell["column"] > MAX_COLUMNS:
                            raise FileRefused(
                                TOO_WIDE,
                                row=f"{number:,}",
                                column=f"{cell['column']:,}",
                                most=MAX_COLUMNS,
                            )
                        values[cell["column"]] = cell["value"]
                elif element.tag == ROW_TAG and event == "start":
                    number = _row_number(element.get("r"), number)
                    parser.row_counter, parser.col_counter = number, 0
                    row, values = element, {}
                elif element.tag == ROW_TAG:  # its end
                    element.clear()
                    cells = [None] * max(values, default=0)
                    for column, value in values.items():
                        cells[column - 1] = value
                    row = None
                    yield number, cells
    finally:
        book.close()


def _row_number(attribute: str | None, previous: int) -> int:
    if attribute is None:
        return previous + 1
    try:
        return int(attribute)
    except ValueError:
        value = float(attribute)
        if not value.is_integer():
            raise ValueError(f"{attribute} is not a valid row number") from None
        return int(value)


class CSV(base_formats.CSV):
    """CSV read with Python's csv module rather than tablib's reader, within the limits.

    tablib drops blank lines (so every later row number would be off by one) and refuses a
    row with more cells than the header without saying which row; here blank lines stay
    (and are skipped as blank rows) and extra cells are reported by row. A header with
    semicolons and no commas (Excel in many European locales) is read with ';'. Records are
    read one at a time, and no further than the row limit.
    """

    def row_limit(self) -> RowLimit:
        return RowLimit.default()

    def create_dataset(self, in_stream, **kwargs):
        if isinstance(in_stream, bytes):
            in_stream = in_stream.decode(self.encoding or "utf-8-sig")
        return dataset_from_rows(csv_rows(in_stream), self.row_limit())

    def _escape_formulae(self, dataset):
        _escape_formulae(dataset)


class XLSX(base_formats.XLSX):
    """The first worksheet of a workbook, rows padded to the same width, row numbers kept."""

    def row_limit(self) -> RowLimit:
        return RowLimit.default()

    def create_dataset(self, in_stream):
        limit = self.row_limit()
        max_cells = (limit.max_rows + 1 + EMPTY_RUN) * MAX_COLUMNS
        return dataset_from_rows(xlsx_rows(in_stream, max_cells=max_cells), limit)

    def _escape_formulae(self, dataset):
        _escape_formulae(dataset)


# --- the base resource ---------------------------------------------------------------------


class MasterDataResult(Result):
    """Numbers rows as a spreadsheet does: the header is row 1, the first data row is row 2.

    import-export counts data rows from 1; a user looks for row 7 in Excel, not row 6.
    """

    def append_invalid_row(self, number, row, validation_error):
        super().append_invalid_row(number + 1, row, validation_error)

    def append_error_row(self, number, row, errors):
        super().append_error_row(number + 1, row, errors)

    def row_errors(self):
        return [(r.number, r.errors) for r in self.error_rows]


class MasterDataResource(resources.ModelResource):
    """Base of the master-data resources.

    Subclasses declare their columns in Meta.fields (the exact header names), and set
    `required_columns`, `row_key_columns` (what may appear only once per file) and
    `error_columns` (model field → column, for errors full_clean() names by model field).
    """

    required_columns: tuple[str, ...] = ()
    row_key_columns: tuple[str, ...] = ()
    error_columns: dict[str, str] = {}

    def __init__(self, on_row=None, **kwargs):
        super().__init__(**kwargs)
        self.on_row = on_row  # called with n after the n-th data row (a job's progress)

    class Meta:
        clean_model_instances = True
        use_transactions = True
        skip_unchanged = True
        report_skipped = True

    @classmethod
    def get_result_class(cls):
        return MasterDataResult

    @classmethod
    def columns(cls) -> tuple[str, ...]:
        return tuple(cls._meta.fields or ())

    # -- before any row

    def before_import(self, dataset, **kwargs):
        """Normalise the header and check it; on a bad header no row is read at all.

        The problems are reported as validation errors of row 1 — or of the row with a value
        outside the named columns — in after_import, the first hook that has the result, so
        the admin shows them in its table and a caller sees them like any other bad cell.
        Reading the rows anyway would only repeat the same problem on every row.
        """
        self.header_problems: list[tuple[int, str, ValidationError]] = []
        self.blank_rows = 0
        self.row_keys: dict[tuple, int] = {}
        self.rows_seen: dict[int, tuple[dict, RowResult]] = {}
        headers = [cell_text(h).lower() for h in (dataset.headers or [])]
        if dataset.headers:
            dataset.headers = headers
        problems = self.header_problems
        for column in self.required_columns:
            if column not in headers:
                problems.append(
                    (1, column, invalid(gettext_noop("This column is required but missing.")))
                )
        for index, column in enumerate(headers):
            if column and column not in self.columns():
                expected = list(self.columns())
                problems.append(
                    (
                        1,
                        column,
                        invalid(
                            gettext_noop("Unknown column; the columns are %(columns)s."),
                            columns=expected,
                        ),
                    )
                )
            elif column and headers.index(column) != index:
                problems.append((1, column, invalid(gettext_noop("This column appears twice."))))
            elif not column:
                for number, row in enumerate(dataset, 2):
                    if cell_text(row[index]):
                        problems.append(
                            (
                                number,
                                NO_HEADER,
                                invalid(
                                    gettext_noop("“%(value)s” is in a column without a header."),
                                    value=cell_text(row[index]),
                                ),
                            )
                        )
        if problems:
            del dataset[0 : len(dataset)]

    def _check_import_id_fields(self, headers):
        # before_import has already named a missing key column (row 1, with its name);
        # import-export's own check would report it a second time, as a whole-file error.
        if not self.header_problems:
            super()._check_import_id_fields(headers)

    # -- each row

    def import_row(self, row, instance_loader, **kwargs):
        if not any(cell_text(v) for v in row.values()):
            # A blank line (often trailing rows of a spreadsheet): nothing to import.
            self.blank_rows += 1
            row_result = self.get_row_result_class()()
            row_result.import_type = RowResult.IMPORT_TYPE_SKIP
            return row_result
        return super().import_row(row, instance_loader, **kwargs)

    def import_instance(self, instance, row, **kwargs):
        errors: dict[str, list] = {}
        # import-export's own loop, keeping a cell's message as a stored text (CellError):
        # import-export would turn it into plain text.
        for field in self.get_import_fields():
            if isinstance(field.widget, widgets.ManyToManyWidget):
                continue
            try:
                self.import_field(field, instance, row, **kwargs)
            except ValueError as e:
                errors.setdefault(field.attribute, []).append(cell_validation_error(e))
        # import-export leaves many-to-many columns to save_m2m(), after the row is saved,
        # where an unknown code would be a row error without a column: check them here.
        for field in self.get_import_fields():
            if isinstance(field.widget, widgets.ManyToManyWidget) and field.column_name in row:
                try:
                    field.clean(row)
                except ValueError as e:
                    errors.setdefault(field.column_name, []).append(cell_validation_error(e))
        self.import_related(instance, row, errors, **kwargs)
        self.check_duplicate(row, errors, kwargs["row_number"] + 1)
        if errors:
            raise ValidationError(errors)

    def import_related(self, instance, row, errors: dict, **kwargs) -> None:
        """Hook: resolve a header record (BOM, routing) from the row; add errors by column."""

    def column_value(self, column: str, row: dict, errors: dict):
        """The cleaned value of a column (its default when blank or absent), or None on error."""
        field = self.fields[column]
        try:
            return field.clean({column: row.get(column)})
        except ValueError as e:
            errors.setdefault(column, []).append(cell_validation_error(e))
            return None

    def check_duplicate(self, row: dict, errors: dict, row_number: int) -> None:
        if not self.row_key_columns or any(c in errors for c in self.row_key_columns):
            return
        key = tuple(self.column_value(c, row, {}) for c in self.row_key_columns)
        key = tuple(getattr(part, "pk", part) for part in key)
        if None in key or "" in key:
            return
        first = self.row_keys.setdefault(key, row_number)
        if first != row_number:
            column = self.row_key_columns[-1]
            errors.setdefault(column, []).append(self.duplicate_message(row, first))

    def duplicate_message(self, row: dict, first_row: int) -> ValidationError:
        column = self.row_key_columns[-1]
        return invalid(
            gettext_noop("%(value)s is already in row %(row)s of this file."),
            value=cell_text(row.get(column)),
            row=first_row,
        )

    def validate_instance(self, instance, import_validation_errors=None, validate_unique=True):
        """full_clean() as import-export does, with errors renamed to the file's columns."""
        errors = dict(import_validation_errors or {})
        by_column = {column: field for field, column in self.error_columns.items()}
        exclude = set(errors) | {by_column[c] for c in errors if c in by_column}
        exclude |= self.unvalidated_fields(instance) | self.looked_up_relations(instance)
        try:
            instance.full_clean(exclude=exclude, validate_unique=validate_unique)
        except ValidationError as e:
            for name, found in e.error_dict.items():
                column = self.error_columns.get(name, name)
                errors.setdefault(column, []).extend(found)
        if errors:
            raise ValidationError(errors)

    def unvalidated_fields(self, instance) -> set[str]:
        """Hook: model fields to leave out of full_clean() (a header that failed to resolve)."""
        return set()

    def looked_up_relations(self, instance) -> set[str]:
        """Foreign keys set to a record this import read (by its code) or saved itself.

        full_clean() would read each such record again to see that it exists: one query per
        key and row, for nothing. Keys with limit_choices_to are still checked. A unique
        constraint over such a key is not checked by full_clean() either; where one matters
        the resource matches the stored row first (HeaderLineResource.get_instance).
        """
        names = set()
        for field in instance._meta.concrete_fields:
            if not field.many_to_one or field.remote_field.limit_choices_to:
                continue
            if field.is_cached(instance):
                related = field.get_cached_value(instance)
                if related is not None and related.pk is not None:
                    names.add(field.name)
        return names

    def after_import_row(self, row, row_result, **kwargs):
        self.rows_seen[kwargs["row_number"]] = (row, row_result)
        if self.on_row is not None:
            self.on_row(kwargs["row_number"])

    # -- after all rows

    def after_import(self, dataset, result, **kwargs):
        super().after_import(dataset, result, **kwargs)
        for number, column, error in self.header_problems:
            result.append_invalid_row(number - 1, {}, ValidationError({column: [error]}))

    def row_invalidate(self, result, row_number: int, error: ValidationError) -> None:
        """Turn an imported row into an invalid one after the fact (a BOM cycle)."""
        row, row_result = self.rows_seen[row_number]
        result.totals[row_result.import_type] -= 1
        row_result.import_type = RowResult.IMPORT_TYPE_INVALID
        row_result.validation_error = error
        result.totals[RowResult.IMPORT_TYPE_INVALID] += 1
        result.append_invalid_row(row_number, row, error)
        result.invalid_rows.sort(key=lambda r: r.number)


def result_problems(result: Result, columns: tuple[str, ...] = ()) -> list[tuple[int, str, Text]]:
    """Every problem of an import result as (row, column, stored text), in file order.

    Row 0 means the whole file; column "" means no single column. Within a row, problems
    follow the order of `columns` (a resource's columns), as the cells do in the file.
    """
    problems: list[tuple[int, str, Text]] = []
    for error in result.base_errors:
        found = error.error
        if isinstance(found, CellError):
            problems.append((0, "", found.text))
        elif isinstance(found, ValidationError):
            problems.extend((0, "", text) for text in error_texts(found))
        else:
            problems.append((0, "", Text(str(found))))
    for row in result.invalid_rows:
        error = row.error
        by_column = (
            error.error_dict if hasattr(error, "error_dict") else {NON_FIELD_ERRORS: [error]}
        )
        for column, found in by_column.items():
            for each in found:
                for text in error_texts(each):
                    problems.append(
                        (row.number, "" if column == NON_FIELD_ERRORS else column, text)
                    )
    for error_row in result.error_rows:
        for error in error_row.errors:
            problems.append((error_row.number, "", Text(str(error.error))))
    order = {column: index for index, column in enumerate(columns)}
    return sorted(problems, key=lambda p: (p[0], order.get(p[1], len(order))))


def result_errors(result: Result, columns: tuple[str, ...] = ()) -> list[tuple[int, str, str]]:
    """Every problem of an import result as (row, column, message in the active language)."""
    return [(row, column, text.render()) for row, column, text in result_problems(result, columns)]


# --- items -----------------------------------------------------------------------------------


class ItemResource(MasterDataResource):
    """Items, one per row, matched on `code`."""

    code = model_field(Item, "code", CodeWidget())
    name = model_field(Item, "name", widgets.CharWidget())
    source = choice_field(Item, "source")
    uom = choice_field(Item, "uom")
    standard_cost = model_field(Item, "standard_cost", QuantityWidget(minimum=0))
    lead_time_days = model_field(Item, "lead_time_days", WholeNumberWidget(minimum=0))
    lot_policy = choice_field(Item, "lot_policy")
    lot_size = model_field(Item, "lot_size", QuantityWidget(minimum=0))
    lot_multiple = model_field(Item, "lot_multiple", QuantityWidget(minimum=0))
    safety_stock = model_field(Item, "safety_stock", QuantityWidget(minimum=0))
    tracking = choice_field(Item, "tracking")

    required_columns = ("code", "name")
    row_key_columns = ("code",)

    class Meta:
        model = Item
        name = "Items"
        fields = (
            "code",
            "name",
            "source",
            "uom",
            "standard_cost",
            "lead_time_days",
            "lot_policy",
            "lot_size",
            "lot_multiple",
            "safety_stock",
            "tracking",
        )
        import_order = fields
        export_order = fields
        import_id_fields = ("code",)

    def duplicate_message(self, row: dict, first_row: int) -> ValidationError:
        return invalid(
            gettext_noop("Item %(code)s is already in row %(row)s of this file."),
            code=cell_text(row.get("code")),
            row=first_row,
        )


# --- equipment -------------------------------------------------------------------------------


class EquipmentResource(MasterDataResource):
    """Equipment, one per row, matched on `code`; the work center by its code."""

    code = model_field(Equipment, "code", CodeWidget())
    name = model_field(Equipment, "name", widgets.CharWidget())
    work_center = model_field(Equipment, "work_center", CodeForeignKeyWidget(WorkCenter))
    model = model_field(Equipment, "model", widgets.CharWidget())
    rated_rate = model_field(Equipment, "rated_rate", QuantityWidget(minimum=0))
    changeover_minutes = model_field(Equipment, "changeover_minutes", WholeNumberWidget(minimum=0))

    required_columns = ("code", "name", "work_center")
    row_key_columns = ("code",)

    class Meta:
        model = Equipment
        name = "Equipment"
        fields = ("code", "name", "work_center", "model", "rated_rate", "changeover_minutes")
        import_order = fields
        export_order = fields
        import_id_fields = ("code",)

    def filter_export(self, queryset, **kwargs):
        return queryset.select_related("work_center")


class EquipmentChangeoverResource(MasterDataResource):
    """Changeover pairs of machines, one per row, matched on (equipment, from_family,
    to_family): the minutes where they differ from the machine's changeover_minutes."""

    equipment = model_field(EquipmentChangeover, "equipment", CodeForeignKeyWidget(Equipment))
    from_family = model_field(EquipmentChangeover, "from_family", CodeWidget())
    to_family = model_field(EquipmentChangeover, "to_family", CodeWidget())
    minutes = model_field(EquipmentChangeover, "minutes", WholeNumberWidget(minimum=0))

    required_columns = ("equipment", "from_family", "to_family", "minutes")
    row_key_columns = ("equipment", "from_family", "to_family")

    class Meta:
        model = EquipmentChangeover
        name = "Changeovers"
        fields = ("equipment", "from_family", "to_family", "minutes")
        import_order = fields
        export_order = fields
        import_id_fields = ("equipment", "from_family", "to_family")

    def get_instance(self, instance_loader, row):
        """The stored pair of the row's machine and families, or None (an unknown machine is
        then named by the equipment column, not raised while looking the row up)."""
        return EquipmentChangeover.objects.filter(
            equipment__code=cell_text(row.get("equipment")),
            from_family=cell_text(row.get("from_family")),
            to_family=cell_text(row.get("to_family")),
        ).first()

    def filter_export(self, queryset, **kwargs):
        if queryset.model is Equipment:  # the admin exports from the equipment list
            queryset = EquipmentChangeover.objects.filter(equipment__in=queryset)
        return queryset.select_related("equipment")
