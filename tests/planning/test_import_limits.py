"""Import limits: file size, unpacked size, rows and columns, checked before or while a file
is read; and formulas escaped on export.

The reader is counted, not timed: each test that feeds a large or lying file wraps the
row generators (resources.resources.csv_rows / xlsx_rows) and asserts how many rows they
handed over, so a reader that walks every declared row fails however fast the machine is.
"""

import csv
import io
import zipfile

import openpyxl
import pytest
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from planning.models import Routing
from planning.services.imports import masterdata_import, masterdata_import_many
from resources import resources as formats
from resources.models import Item
from resources.resources import EMPTY_RUN, MAX_COLUMNS, MasterDataResource

from .importing import (
    ROUTING_HEADER,
    SAMPLES,
    bomb,
    counts,
    inline_row,
    plant_create,
    routing_csv,
    routing_lines,
    workbook,
    xlsx_by_hand,
)


@pytest.fixture
def items(db):
    plant_create()
    report = masterdata_import(file=SAMPLES / "items.csv", file_name="items.csv")
    assert report.ok, report.errors


class Counted:
    """Wraps a row generator of resources.resources and counts the rows it hands over."""

    def __init__(self, monkeypatch, name: str):
        self.rows = 0
        original = getattr(formats, name)

        def counted(*args, **kwargs):
            for row in original(*args, **kwargs):
                self.rows += 1
                yield row

        monkeypatch.setattr(formats, name, counted)


@pytest.fixture
def imported_rows(monkeypatch):
    """How many rows reached the resources' import_row (blank ones included)."""
    seen = []
    original = MasterDataResource.import_row

    def import_row(self, row, instance_loader, **kwargs):
        seen.append(kwargs["row_number"])
        return original(self, row, instance_loader, **kwargs)

    monkeypatch.setattr(MasterDataResource, "import_row", import_row)
    return seen


def only_error(report) -> str:
    assert len(report.errors) == 1, report.errors
    assert report.errors[0].row == 0
    return str(report.errors[0])


# --- the A1:Z200000 workbook -------------------------------------------------------------------


def test_bomb_with_data_far_down_is_refused_after_reading_three_rows(
    items, monkeypatch, imported_rows
):
    reader = Counted(monkeypatch, "xlsx_rows")
    before = counts()
    data = bomb("sparse")
    assert len(data) < 2500  # a small file that declares 200,000 rows × 26 columns

    report = masterdata_import(file=data, file_name="bomb.xlsx")

    message = only_error(report)
    assert message.startswith("bomb.xlsx: More than 20,000 data rows (IMPORT_MAX_ROWS)")
    assert "row 50,000 holds data" in message
    assert reader.rows == 3  # rows 1 and 2, then row 50,000: the reading stops there
    assert imported_rows == []  # refused before any row was imported
    assert counts() == before


def test_bomb_of_empty_rows_imports_its_one_row_without_walking_the_declared_ones(
    items, monkeypatch, imported_rows
):
    reader = Counted(monkeypatch, "xlsx_rows")
    before = counts()

    report = masterdata_import(file=bomb("empty"), file_name="bomb.xlsx")

    assert report.ok, report.errors
    assert (report.kind, report.new) == ("routings", 1)
    # The sheet's own <row> elements: the header, the data row and 20 empty ones; not the
    # 200,000 rows its <dimension> declares, and the empty ones never reach the import.
    assert reader.rows == 22
    assert imported_rows == [1]
    assert counts()["RoutingStep"] == before["RoutingStep"] + 1


def test_bomb_through_the_command(items, tmp_path):
    path = tmp_path / "bomb.xlsx"
    path.write_bytes(bomb("sparse"))
    err = io.StringIO()
    with pytest.raises(CommandError, match="1 error; nothing was imported"):
        call_command("import_masterdata", str(path), stderr=err)
    assert f"{path}: More than 20,000 data rows (IMPORT_MAX_ROWS)" in err.getvalue()


# --- rows -----------------------------------------------------------------------------------


@pytest.mark.parametrize("extension", ["csv", "xlsx"])
def test_file_over_the_row_limit_stops_at_the_first_row_past_it(
    items, monkeypatch, settings, imported_rows, extension
):
    settings.IMPORT_MAX_ROWS = 3
    before = counts()
    lines = routing_lines(10)
    if extension == "csv":
        reader = Counted(monkeypatch, "csv_rows")
        data = ("\n".join([ROUTING_HEADER, *lines]) + "\n").encode()
    else:
        reader = Counted(monkeypatch, "xlsx_rows")
        data = workbook([ROUTING_HEADER.split(","), *(line.split(",") for line in lines)])

    report = masterdata_import(file=data, file_name=f"steps.{extension}")

    message = only_error(report)
    assert f"steps.{extension}: More than 3 data rows (IMPORT_MAX_ROWS): row 5 holds" in message
    assert reader.rows == 5
    assert imported_rows == []
    assert counts() == before


def test_file_at_the_row_limit_is_imported(items, settings):
    settings.IMPORT_MAX_ROWS = 3
    report = masterdata_import(file=routing_csv(3) + b"\n\n\n", file_name="steps.csv")
    assert report.ok, report.errors
    assert report.new == 3


def test_a_run_of_empty_rows_past_the_limit_is_refused_after_the_run(items, monkeypatch, settings):
    settings.IMPORT_MAX_ROWS = 3
    reader = Counted(monkeypatch, "csv_rows")
    before = counts()
    data = routing_csv(2) + b",,,\n" * 100_000  # 100,000 empty records

    report = masterdata_import(file=data, file_name="steps.csv")

    assert f"more than {EMPTY_RUN:,} empty rows follow row 4" in only_error(report)
    assert reader.rows == 4 + EMPTY_RUN + 1  # up to row 4, then the run, then one more
    assert counts() == before


def test_rows_numbers_of_a_sparse_sheet_are_kept(items):
    # Rows 2 and 9 only: the error is reported on row 9, as the spreadsheet numbers it.
    good, bad = routing_lines(2)
    bad = bad.replace("CNC-01|CNC-02", "CNC-09")
    rows = (
        inline_row(1, ROUTING_HEADER.split(","))
        + inline_row(2, good.split(","))
        + inline_row(9, bad.split(","))
    )
    report = masterdata_import(file=xlsx_by_hand(rows, "A1:K9"), file_name="gaps.xlsx")
    assert [(e.row, e.column) for e in report.errors] == [(9, "eligible_equipment")]


# --- columns and cells --------------------------------------------------------------------


def test_a_value_far_to_the_right_is_refused(items, monkeypatch):
    reader = Counted(monkeypatch, "xlsx_rows")
    book = openpyxl.Workbook()
    book.active.append(ROUTING_HEADER.split(","))
    book.active.append(routing_lines(1)[0].split(","))
    book.active.cell(row=3, column=16_000, value="x")
    out = io.BytesIO()
    book.save(out)

    report = masterdata_import(file=out.getvalue(), file_name="wide.xlsx")

    message = only_error(report)
    assert f"Row 3 has a value in column 16,000; the import reads at most {MAX_COLUMNS}" in message
    assert reader.rows == 2  # row 3 is refused while it is read, before it is handed over


def test_csv_row_wider_than_the_limit_is_refused(items):
    data = routing_csv(1) + b"EB-500" + b"," * 60 + b"x\n"
    message = only_error(masterdata_import(file=data, file_name="wide.csv"))
    assert f"Row 3 has a value in column 61; the import reads at most {MAX_COLUMNS}" in message


def test_sheet_of_empty_cells_stops_at_the_cell_budget(items, settings):
    settings.IMPORT_MAX_ROWS = 2
    budget = (2 + 1 + EMPTY_RUN) * MAX_COLUMNS
    rows = inline_row(1, ROUTING_HEADER.split(",")) + "<row>" + "<c/>" * (budget + 10) + "</row>"
    message = only_error(masterdata_import(file=xlsx_by_hand(rows), file_name="cells.xlsx"))
    assert f"holds more than {budget:,} cells" in message


# --- bytes ----------------------------------------------------------------------------------


@pytest.mark.parametrize("given_as", ["bytes", "path", "upload", "stream"])
def test_file_over_the_size_limit_is_refused_before_parsing(
    items, settings, monkeypatch, tmp_path, given_as
):
    settings.IMPORT_MAX_BYTES = 100
    data = routing_csv(5)
    assert len(data) > 100

    def parsed(*args, **kwargs):
        raise AssertionError("the file was parsed")

    monkeypatch.setattr(formats, "csv_rows", parsed)
    monkeypatch.setattr(formats, "dataset_from_rows", parsed)
    path = tmp_path / "steps.csv"
    path.write_bytes(data)
    file = {
        "bytes": data,
        "path": path,
        "upload": SimpleUploadedFile("steps.csv", data),
        "stream": io.BytesIO(data),  # no size told: at most 101 bytes are read
    }[given_as]
    before = counts()

    report = masterdata_import(file=file, file_name="steps.csv")

    message = only_error(report)
    assert message.startswith("steps.csv: The file is ")
    assert "more than the limit of 100 bytes (IMPORT_MAX_BYTES)" in message
    assert counts() == before


def test_one_file_too_large_stops_a_batch(items, settings):
    settings.IMPORT_MAX_BYTES = 300
    before = counts()
    report = masterdata_import_many(
        files=[("small.csv", routing_csv(1)), ("large.csv", routing_csv(10))]
    )
    assert [(e.file, e.row) for e in report.errors] == [("large.csv", 0)]
    assert "IMPORT_MAX_BYTES" in report.errors[0].message
    assert counts() == before


def zip_bomb(member_bytes: int) -> bytes:
    """A valid little workbook plus one member of zeros that unpacks to member_bytes."""
    out = io.BytesIO(workbook([["code", "name"], ["X-1", "x"]]))
    with zipfile.ZipFile(out, "a", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/media/zeros.bin", b"\0" * member_bytes)
    return out.getvalue()


def test_zip_bomb_is_refused_before_openpyxl_opens_it(items, settings, monkeypatch):
    settings.IMPORT_MAX_UNZIPPED_BYTES = 500_000
    data = zip_bomb(2_000_000)
    assert len(data) < 30_000

    def opened(*args, **kwargs):
        raise AssertionError("openpyxl opened the workbook")

    monkeypatch.setattr(openpyxl, "load_workbook", opened)
    before = counts()

    report = masterdata_import(file=data, file_name="zeros.xlsx")

    message = only_error(report)
    assert message.startswith("zeros.xlsx: The workbook unpacks to more than 500,000 bytes")
    assert "IMPORT_MAX_UNZIPPED_BYTES; xl/media/zeros.bin alone is 2,000,000 bytes" in message
    assert counts() == before


def test_workbook_under_the_unzipped_limit_is_read(db, settings):
    settings.IMPORT_MAX_UNZIPPED_BYTES = 500_000
    report = masterdata_import(file=zip_bomb(100_000), file_name="items.xlsx")
    assert report.ok, report.errors
    assert Item.objects.filter(code="X-1").exists()


# --- admin ----------------------------------------------------------------------------------


@pytest.fixture
def admin(items):
    user = get_user_model().objects.create_superuser("importer", "i@example.com", "pw-12345!")
    client = Client()
    client.force_login(user)
    return client


def admin_upload(client, model: str, name: str, data: bytes):
    upload = SimpleUploadedFile(name, data)
    return client.post(
        reverse(f"admin:{model}_import"), {"resource": "0", "format": "0", "import_file": upload}
    )


def test_admin_refuses_a_file_over_the_size_limit(admin, settings):
    settings.IMPORT_MAX_BYTES = 100
    before = counts()
    response = admin_upload(admin, "planning_routing", "steps.csv", routing_csv(5))
    assert response.status_code == 200
    errors = response.context["form"].errors["import_file"]
    assert errors[0].startswith("steps.csv: The file is ")
    assert "(IMPORT_MAX_BYTES)" in errors[0]
    assert "result" not in response.context and "confirm_form" not in response.context
    assert counts() == before


def test_admin_sends_a_large_file_to_the_import_page(admin, settings, imported_rows):
    settings.IMPORT_SYNC_MAX_ROWS = 3
    before = counts()
    response = admin_upload(admin, "planning_routing", "steps.csv", routing_csv(5))
    [error] = response.context["form"].errors["import_file"]
    assert error.startswith("steps.csv: More than 3 data rows (IMPORT_SYNC_MAX_ROWS)")
    assert f"the Import page ({reverse('planning:imports')})" in error
    assert imported_rows == []
    assert counts() == before

    response = admin_upload(admin, "planning_routing", "steps.csv", routing_csv(3))
    assert "confirm_form" in response.context  # at the limit: the usual preview


def test_admin_refuses_the_bomb(admin, monkeypatch):
    reader = Counted(monkeypatch, "xlsx_rows")
    upload = SimpleUploadedFile("bomb.xlsx", bomb("sparse"))
    response = admin.post(
        reverse("admin:planning_routing_import"),
        {"resource": "0", "format": "1", "import_file": upload},
    )
    [error] = response.context["form"].errors["import_file"]
    assert error.startswith("bomb.xlsx: More than 500 data rows (IMPORT_SYNC_MAX_ROWS)")
    assert reader.rows == 3


# --- formulas on export -----------------------------------------------------------------------

DANGEROUS = ["=cmd|' /C calc'!A0", "+1", "@SUM(1)", "\tfoo", "\rbar", "-2+3"]


@pytest.fixture
def dangerous_items(admin):
    for n, name in enumerate(DANGEROUS):
        Item.objects.create(code=f"F-{n}", name=name)
    Item.objects.create(code="F-OK", name="Plain name")


def export(client, fmt: str) -> bytes:
    columns = ["code", "name", "standard_cost"]
    form = {"resource": "0", "format": fmt} | {f"itemresource_{c}": "on" for c in columns}
    response = client.post(reverse("admin:resources_item_export"), form)
    assert response.status_code == 200
    return response.content


def test_csv_export_escapes_formulas(dangerous_items, admin):
    rows = list(csv.reader(io.StringIO(export(admin, "0").decode("utf-8-sig"), newline="")))
    names = {code: name for code, name, _ in rows[1:]}
    for n, name in enumerate(DANGEROUS):
        assert names[f"F-{n}"] == "'" + name
    assert names["F-OK"] == "Plain name"
    assert names["EB-500"] == "Engine block"


def test_xlsx_export_escapes_formulas(dangerous_items, admin):
    sheet = openpyxl.load_workbook(io.BytesIO(export(admin, "1"))).active
    cells = {row[0].value: row[1] for row in sheet.iter_rows(min_row=2)}
    for n, name in enumerate(DANGEROUS):
        cell = cells[f"F-{n}"]
        # Text, not a formula. (XML reads a CR back as a line feed, escaped or not.)
        assert (cell.value, cell.data_type) == ("'" + name.replace("\r", "\n"), "s")
    assert cells["F-OK"].value == "Plain name"


@pytest.mark.parametrize("fmt,extension", [("0", "csv"), ("1", "xlsx")])
def test_an_escaped_export_imports_back_unchanged(dangerous_items, admin, fmt, extension):
    report = masterdata_import(file=export(admin, fmt), file_name=f"items.{extension}")
    assert report.ok, report.errors
    expected = {f"F-{n}": name for n, name in enumerate(DANGEROUS)} | {"F-OK": "Plain name"}
    if extension == "xlsx":
        # XML reads the CR back as a line feed, and a line feed starts no formula: the
        # apostrophe stays (a name that starts with a CR does not survive XLSX anyway).
        expected["F-4"] = "'\nbar"
    assert report.updated == (1 if extension == "xlsx" else 0)
    assert {i.code: i.name for i in Item.objects.filter(code__startswith="F-")} == expected


# --- cost per row -----------------------------------------------------------------------------


def test_each_routing_row_costs_a_fixed_number_of_queries(items):
    """Codes are looked up once per import, a routing's steps read once, and foreign keys
    just read by code are not read again by full_clean(): 11 queries a new row (3 of them
    savepoints, 2 its audit history: the snapshot and the entry), 7 an unchanged one; it was
    17 a new row before the audit history."""

    def queries(n: int) -> int:
        with CaptureQueriesContext(connection) as captured:
            assert masterdata_import(file=routing_csv(n), file_name="steps.csv").ok
        return len(captured.captured_queries)

    new_10 = queries(10)
    Routing.objects.filter(version="7").delete()
    new_30 = queries(30)
    again_30 = queries(30)
    again_10 = queries(10)
    assert (new_30 - new_10) / 20 == 11
    assert (again_30 - again_10) / 20 == 7
