"""Tables as files: one header row and its rows, as CSV or as an XLSX workbook — the one
place every app's pages export from (a report's `?format=csv`, a cost sheet's `?format=xlsx`).

Text cells are written so that a spreadsheet shows them, never runs them: CSV cells through
`csv_text`, XLSX cells stored as strings (openpyxl would take "=…" for a formula). Numbers
(Decimal, int, float) stay numbers in the workbook."""

import csv
import re
from collections.abc import Iterable, Sequence
from io import BytesIO

from django.http import HttpResponse

from .formatting import csv_text

FORMATS = ("csv", "xlsx")
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def filename_part(text: str) -> str:
    """A business code made safe for a download's file name (quotes, slashes, spaces out)."""
    return re.sub(r"[^A-Za-z0-9._-]+", "_", text)


def csv_response(filename: str, header: Sequence[str], rows: Iterable[Sequence]) -> HttpResponse:
    """A CSV download; text cells must already be safe (`csv_text`) where they come from
    outside, numbers are written as they print."""
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    writer = csv.writer(response)
    writer.writerow(header)
    writer.writerows(rows)
    return response


def xlsx_response(
    filename: str, header: Sequence[str], rows: Iterable[Sequence], *, title: str = "Sheet"
) -> HttpResponse:
    """An XLSX download with one sheet: the header in bold, frozen, then the rows."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    book = Workbook()
    sheet = book.active
    sheet.title = title[:31]  # Excel's limit for a sheet's name
    sheet.append(list(header))
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    sheet.freeze_panes = "A2"
    for row in rows:
        sheet.append([None if value == "" else value for value in row])
        for cell in sheet[sheet.max_row]:
            if isinstance(cell.value, str):
                cell.data_type = "s"  # "=…" is text here, not a formula
    buffer = BytesIO()
    book.save(buffer)
    response = HttpResponse(buffer.getvalue(), content_type=XLSX_TYPE)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def table_response(
    fmt: str, stem: str, header: Sequence[str], rows: Iterable[Sequence], *, title: str = "Sheet"
) -> HttpResponse:
    """`stem`.csv or `stem`.xlsx by `fmt` (one of FORMATS). CSV text cells are made safe
    here; callers pass plain values."""
    if fmt == "xlsx":
        return xlsx_response(f"{stem}.xlsx", header, rows, title=title)
    safe = ([csv_text(v) if isinstance(v, str) else v for v in row] for row in rows)
    return csv_response(f"{stem}.csv", header, safe)
