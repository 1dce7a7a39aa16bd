"""Write items.xlsx, boms.xlsx and routings.xlsx next to this script from the CSV samples.

Run: .venv/bin/python docs/samples/make_xlsx.py

Cells that look like numbers are written as numbers, as a person typing them into Excel
would get them (the import reads both). Timestamps are fixed so that the output only
changes when the CSV files do.
"""

import csv
import io
import zipfile
from datetime import datetime
from pathlib import Path

import openpyxl

HERE = Path(__file__).resolve().parent
FIXED = datetime(2026, 1, 1)


def cell(text: str):
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text if text != "" else None


def write(name: str) -> Path:
    with open(HERE / f"{name}.csv", newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f))
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = name
    sheet.append(rows[0])
    for row in rows[1:]:
        sheet.append([cell(value) for value in row])
    for column in sheet.columns:
        width = max(len(str(c.value or "")) for c in column)
        sheet.column_dimensions[column[0].column_letter].width = width + 2
    book.properties.created = book.properties.modified = FIXED
    raw = io.BytesIO()
    book.save(raw)
    # Rewrite the zip with fixed entry dates: same CSV in, same bytes out.
    target = HERE / f"{name}.xlsx"
    with zipfile.ZipFile(raw) as src, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            fixed = zipfile.ZipInfo(info.filename, date_time=FIXED.timetuple()[:6])
            fixed.compress_type = zipfile.ZIP_DEFLATED
            dst.writestr(fixed, src.read(info.filename))
    return target


if __name__ == "__main__":
    for name in ("items", "boms", "routings"):
        print(write(name).relative_to(HERE.parent.parent))
