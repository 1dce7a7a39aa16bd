"""Import of items, BOMs and routings (CSV and XLSX): service, command and admin.

Every bad-input test checks the row (as a spreadsheet numbers it: header = row 1), the
column, and that nothing at all was written.
"""

import io
import textwrap
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client
from django.urls import reverse
from django.utils import translation

from core.models import AuditEntry
from planning.models import Bom, BomLine, Routing, RoutingStep
from planning.resources import BomResource, RoutingResource
from planning.services.imports import masterdata_import, masterdata_import_many
from resources.models import Area, Equipment, Item, Site, Skill, WorkCenter

SAMPLES = Path(settings.BASE_DIR) / "docs" / "samples"
KINDS = ("items", "boms", "routings")
BOM_HEADER = (
    "parent,version,base_quantity,effective_from,effective_to,line_no,component,quantity,"
    "scrap_pct,operation_step_no"
)
ROUTING_HEADER = (
    "item,version,step_no,name,work_center,eligible_equipment,setup_minutes,"
    "run_minutes_per_unit,required_skill,min_skill_level,inspection_plan_ref"
)
ITEM_HEADER = (
    "code,name,source,uom,standard_cost,lead_time_days,lot_policy,lot_size,lot_multiple,"
    "safety_stock,tracking"
)


@pytest.fixture
def plant(db):
    """Work centers, equipment and skills of the demo plant (the import does not make them)."""
    site = Site.objects.create(code="PLANT-1", name="Demo plant")
    area = Area.objects.create(site=site, code="HALL-1", name="Hall 1")
    centers = {
        code: WorkCenter.objects.create(area=area, code=code, name=code)
        for code in ("CAST", "CNC", "CMM", "ASM", "INJ")
    }
    for code, center in [
        ("CAST-01", "CAST"),
        ("CNC-01", "CNC"),
        ("CNC-02", "CNC"),
        ("CMM-01", "CMM"),
        ("ASM-01", "ASM"),
        ("INJ-01", "INJ"),
    ]:
        Equipment.objects.create(work_center=centers[center], code=code, name=code)
    for code in ("CAST", "CNC", "CMM", "ASM", "INJ"):
        Skill.objects.create(code=code, name=code)


@pytest.fixture
def items(plant):
    report = masterdata_import(file=SAMPLES / "items.csv", file_name="items.csv")
    assert report.ok, report.errors
    return report


@pytest.fixture
def samples(plant):
    report = masterdata_import_many(files=[SAMPLES / f"{kind}.csv" for kind in KINDS])
    assert report.ok, report.errors
    return report


def counts() -> dict[str, int]:
    models = (Item, Bom, BomLine, Routing, RoutingStep)
    return {model.__name__: model.objects.count() for model in models}


def low_level_codes() -> dict[str, int]:
    return dict(Item.objects.values_list("code", "low_level_code"))


def csv_file(header: str, body: str) -> bytes:
    return (header + "\n" + textwrap.dedent(body).strip() + "\n").encode()


def problems(report) -> list[tuple[int, str]]:
    return [(e.row, e.column) for e in report.errors]


DEMO_COUNTS = {"Item": 5, "Bom": 2, "BomLine": 4, "Routing": 2, "RoutingStep": 6}
DEMO_LEVELS = {"EB-500": 0, "HSG-100": 1, "PP-GF30": 2, "STEEL-42": 1, "BRG-6205": 1}


# --- the samples -----------------------------------------------------------------------


@pytest.mark.parametrize("extension", ["csv", "xlsx"])
def test_samples_give_the_demo_plant(plant, extension):
    # Given in the "wrong" order: items are imported first all the same.
    files = [SAMPLES / f"{kind}.{extension}" for kind in reversed(KINDS)]
    report = masterdata_import_many(files=files)

    assert report.ok, report.errors
    assert [part.kind for part in report.parts] == list(KINDS)
    assert (report.new, report.updated, report.unchanged) == (15, 0, 0)
    assert counts() == DEMO_COUNTS
    assert low_level_codes() == DEMO_LEVELS

    resin = Item.objects.get(code="PP-GF30")
    assert (resin.source, resin.uom, resin.standard_cost) == ("buy", "kg", Decimal("2.5"))
    assert (resin.lot_policy, resin.lot_size, resin.lot_multiple) == (
        "min_multiple",
        Decimal("250"),
        Decimal("25"),
    )
    housing = Item.objects.get(code="HSG-100")
    assert (housing.lot_policy, housing.lot_size, housing.safety_stock) == (
        "fixed",
        Decimal("1000"),
        Decimal("200"),
    )
    assert Item.objects.get(code="EB-500").tracking == "serial"

    block_bom = Bom.objects.get(item__code="EB-500", version="1")
    assert block_bom.base_quantity == 50
    lines = [
        (line.line_no, line.component.code, line.quantity, line.operation_step_no)
        for line in block_bom.lines.all()
    ]
    assert lines == [
        (10, "STEEL-42", Decimal("100"), 10),
        (20, "HSG-100", Decimal("50"), 40),
        (30, "BRG-6205", Decimal("50"), 40),
    ]
    resin_line = BomLine.objects.get(bom__item__code="HSG-100")
    assert (resin_line.quantity, resin_line.scrap_pct) == (Decimal("0.2"), Decimal("2"))

    steps = {
        (s.routing.item.code, s.step_no): s
        for s in RoutingStep.objects.select_related("routing__item", "required_skill")
    }
    machining = steps["EB-500", 20]
    assert (machining.name, machining.work_center.code) == ("Machining", "CNC")
    assert sorted(machining.eligible_equipment.values_list("code", flat=True)) == [
        "CNC-01",
        "CNC-02",
    ]
    assert (machining.setup_minutes, machining.run_minutes_per_unit) == (30, Decimal("10.1053"))
    assert (machining.required_skill.code, machining.min_skill_level) == ("CNC", 2)
    assert steps["EB-500", 30].inspection_plan_ref == "IP-EB500-30"
    check = steps["HSG-100", 20]
    assert check.required_skill is None and check.min_skill_level == 1
    assert not check.eligible_equipment.exists()
    assert check.run_minutes_per_unit == Decimal("0.1")
    assert check.inspection_plan_ref == "IP-HSG100-20"


def test_importing_again_creates_nothing_new(samples):
    # The XLSX samples hold the same data as the CSV ones: nothing changes either.
    for extension in ("csv", "xlsx"):
        report = masterdata_import_many(files=[SAMPLES / f"{k}.{extension}" for k in KINDS])
        assert report.ok, report.errors
        assert (report.new, report.updated, report.unchanged) == (0, 0, 15)
    assert counts() == DEMO_COUNTS
    assert low_level_codes() == DEMO_LEVELS


def test_changed_rows_are_updated(samples):
    items = (
        (SAMPLES / "items.csv")
        .read_text()
        .replace("Engine block,make,pcs,80", "Engine block,make,pcs,82")
    )
    report = masterdata_import(file=items.encode(), file_name="items.csv")
    assert (report.new, report.updated, report.unchanged) == (0, 1, 4)
    assert Item.objects.get(code="EB-500").standard_cost == 82

    boms = (SAMPLES / "boms.csv").read_text().replace("EB-500,1,50,", "EB-500,1,40,")
    report = masterdata_import(file=boms.encode(), file_name="boms.csv")
    assert report.ok, report.errors
    # The first row of EB-500 changes its BOM; the rows after it find it changed already.
    assert (report.new, report.updated, report.unchanged) == (0, 1, 3)
    assert Bom.objects.get(item__code="EB-500").base_quantity == 40


def test_dry_run_reports_and_writes_nothing(plant):
    report = masterdata_import_many(files=[SAMPLES / f"{kind}.csv" for kind in KINDS], dry_run=True)
    assert report.ok, report.errors
    assert report.dry_run and (report.new, report.updated) == (15, 0)
    assert counts() == dict.fromkeys(DEMO_COUNTS, 0)


def test_kind_is_detected_or_given(items):
    report = masterdata_import(file=SAMPLES / "boms.xlsx", file_name="boms.xlsx")
    assert report.kind == "boms" and report.new == 4
    report = masterdata_import(file=SAMPLES / "items.csv", file_name="items.csv", kind="items")
    assert report.kind == "items" and report.unchanged == 5


def test_optional_columns_may_be_left_out(plant):
    report = masterdata_import(file=b"code,name\nX-1,Bolt\n", file_name="x.csv")
    assert report.ok, report.errors
    bolt = Item.objects.get(code="X-1")
    assert (bolt.source, bolt.uom, bolt.lead_time_days) == ("buy", "pcs", 0)


def test_upload_object_and_audit_trail(plant):
    user = get_user_model().objects.create_user("planner-1")
    upload = SimpleUploadedFile("items.xlsx", (SAMPLES / "items.xlsx").read_bytes())
    report = masterdata_import(file=upload, file_name=upload.name, by=user)
    assert report.ok and report.new == 5
    entry = AuditEntry.objects.get(action="masterdata.import.items")
    assert (entry.actor, entry.object_id, entry.data["new"]) == (user, "items.xlsx", 5)


def test_semicolons_labels_and_spaces_in_the_header(plant):
    data = "\ufeff Code ;NAME;source;lot_policy;lot_size\nX-1;Bolt;Make;Fixed quantity;10\n"
    report = masterdata_import(file=data.encode(), file_name="x.csv")
    assert report.ok, report.errors
    bolt = Item.objects.get(code="X-1")
    assert (bolt.source, bolt.lot_policy, bolt.lot_size) == ("make", "fixed", 10)


# --- bad input: each names row and column, and nothing is written -------------------------


def assert_rejected(report, expected: list[tuple[int, str]], before: dict, message: str = ""):
    assert problems(report) == expected, report.errors
    assert counts() == before
    if message:
        assert message in report.errors[0].message, report.errors


def test_unknown_item_in_bom(items):
    before = counts()
    data = csv_file(
        BOM_HEADER,
        """
        EB-500,1,50,,,10,STEEL-42,100,0,10
        EB-500,1,50,,,20,NOPE-1,50,0,40
        GHOST,1,1,,,10,PP-GF30,1,0,
        """,
    )
    report = masterdata_import(file=data, file_name="boms.csv")
    assert_rejected(report, [(3, "component"), (4, "parent")], before, "Unknown item “NOPE-1”")
    assert "GHOST" in report.errors[1].message
    assert str(report.errors[0]) == "boms.csv row 3, column component: Unknown item “NOPE-1”."
    with translation.override("zh-hans"):
        where, _colon, message = str(report.errors[0]).partition("：")
        assert where == "boms.csv 第 3 行，列 component" and "NOPE-1" in message
        assert "Unknown" not in message


@pytest.mark.parametrize(
    ("column", "row", "message"),
    [
        ("work_center", "EB-500,1,10,Casting,FOUNDRY,CAST-01,60,6,CAST,2,", "FOUNDRY"),
        ("eligible_equipment", "EB-500,1,10,Casting,CAST,CAST-01|CAST-09,60,6,CAST,2,", "CAST-09"),
        ("required_skill", "EB-500,1,10,Casting,CAST,CAST-01,60,6,WELD,2,", "WELD"),
        ("item", "EB-999,1,10,Casting,CAST,CAST-01,60,6,CAST,2,", "EB-999"),
    ],
)
def test_unknown_code_in_routing(items, column, row, message):
    before = counts()
    data = csv_file(ROUTING_HEADER, "EB-500,1,20,Machining,CNC,CNC-01,30,10,CNC,2,\n" + row)
    report = masterdata_import(file=data, file_name="routings.csv")
    assert_rejected(report, [(3, column)], before, message)


@pytest.mark.parametrize(
    ("cell", "message"),
    [("abc", "“abc” is not a number."), ("-5", "must be greater than zero"), ("0", "zero")],
)
def test_bad_bom_quantity(items, cell, message):
    before = counts()
    data = csv_file(
        BOM_HEADER, f"EB-500,1,50,,,10,STEEL-42,100,0,10\nEB-500,1,50,,,20,HSG-100,{cell},0,40"
    )
    report = masterdata_import(file=data, file_name="boms.csv")
    assert_rejected(report, [(3, "quantity")], before, message)


@pytest.mark.parametrize(
    ("column", "row"),
    [
        ("setup_minutes", "EB-500,1,10,Casting,CAST,CAST-01,-1,6,CAST,2,"),
        ("run_minutes_per_unit", "EB-500,1,10,Casting,CAST,CAST-01,60,-0.5,CAST,2,"),
        ("run_minutes_per_unit", "EB-500,1,10,Casting,CAST,CAST-01,60,six,CAST,2,"),
        ("step_no", "EB-500,1,1O,Casting,CAST,CAST-01,60,6,CAST,2,"),
        ("min_skill_level", "EB-500,1,10,Casting,CAST,CAST-01,60,6,CAST,7,"),
    ],
)
def test_bad_number_in_routing(items, column, row):
    before = counts()
    report = masterdata_import(file=csv_file(ROUTING_HEADER, row), file_name="routings.csv")
    assert_rejected(report, [(2, column)], before)


def test_negative_cost_and_other_bad_item_cells_all_reported(plant):
    data = csv_file(
        ITEM_HEADER,
        """
        A-1,Part A,make,pcs,-80,2,lot_for_lot,0,0,0,none
        A-2,Part B,make,pcs,1,2,lot_for_lot,0,0,0,none
        A-3,Part C,made,pcs,1,2,lot_for_lot,0,0,0,none
        A-4,Part D,buy,pcs,1,soon,lot_for_lot,0,0,0,none
        A-5,,buy,pcs,1,2,fixed,0,0,-1,none
        """,
    )
    report = masterdata_import(file=data, file_name="items.csv")
    assert_rejected(
        report,
        [
            (2, "standard_cost"),
            (4, "source"),
            (5, "lead_time_days"),
            (6, "name"),
            (6, "lot_size"),
            (6, "safety_stock"),
        ],
        dict.fromkeys(DEMO_COUNTS, 0),
    )
    assert report.errors[0].message == "-80 must not be negative."
    assert report.errors[1].message == "“made” is not one of make, buy."


def test_duplicate_step_number(items):
    before = counts()
    data = csv_file(
        ROUTING_HEADER,
        """
        EB-500,1,10,Casting,CAST,CAST-01,60,6,CAST,2,
        EB-500,1,20,Machining,CNC,CNC-01,30,10,CNC,2,
        EB-500,2,20,Machining,CNC,CNC-02,30,10,CNC,2,
        EB-500,1,20,Deburring,CNC,CNC-02,5,1,CNC,2,
        """,
    )
    report = masterdata_import(file=data, file_name="routings.csv")
    assert_rejected(report, [(5, "step_no")], before, "already in row 3")


def test_duplicate_bom_line_and_item_code(items):
    before = counts()
    data = csv_file(BOM_HEADER, "EB-500,1,50,,,10,STEEL-42,100,0,10\nEB-500,,,,,10,BRG-6205,1,0,")
    report = masterdata_import(file=data, file_name="boms.csv")
    assert_rejected(report, [(3, "line_no")], before, "Line 10 of EB-500 v1 is already in row 2")

    data = csv_file("code,name", "N-1,New\nN-1,New again")
    report = masterdata_import(file=data, file_name="items.csv")
    assert_rejected(report, [(3, "code")], before, "already in row 2")


def test_bom_header_cells_must_agree(items):
    before = counts()
    data = csv_file(
        BOM_HEADER,
        """
        EB-500,1,50,,,10,STEEL-42,100,0,10
        EB-500,1,,,,20,HSG-100,50,0,40
        EB-500,1,40,,,30,BRG-6205,50,0,40
        """,
    )
    report = masterdata_import(file=data, file_name="boms.csv")
    assert_rejected(report, [(4, "base_quantity")], before, "40 differs from 50 in row 2")


def test_bom_cycle_within_the_file(items):
    before, levels = counts(), low_level_codes()
    boms = (SAMPLES / "boms.csv").read_text() + "PP-GF30,1,1,,,10,EB-500,1,0,\n"
    report = masterdata_import(file=boms.encode(), file_name="boms.csv")
    assert_rejected(report, [(6, "component")], before)
    assert report.errors[0].message == "BOM cycle: PP-GF30 → EB-500 → HSG-100 → PP-GF30."
    assert low_level_codes() == levels


def test_bom_cycle_with_stored_boms(samples):
    before = counts()
    data = csv_file(BOM_HEADER, "STEEL-42,1,1,,,10,BRG-6205,1,0,\nBRG-6205,1,1,,,10,EB-500,1,0,")
    report = masterdata_import(file=data, file_name="cycle.csv")
    assert_rejected(report, [(3, "component")], before, "BOM cycle:")
    assert str(report.errors[0]) == (
        "cycle.csv row 3, column component: BOM cycle: BRG-6205 → EB-500 → BRG-6205."
    )
    assert low_level_codes() == DEMO_LEVELS


def test_missing_required_column(items):
    before = counts()
    data = b"parent,version,line_no,quantity\nEB-500,1,10,100\n"
    report = masterdata_import(file=data, file_name="boms.csv")
    assert_rejected(report, [(1, "component")], before, "required")

    report = masterdata_import(file=b"code,source\nX-1,buy\n", file_name="items.csv")
    assert_rejected(report, [(1, "name")], before, "required")


def test_unknown_column_and_cells_without_header(items):
    before = counts()
    report = masterdata_import(file=b"code,name,colour\nX-1,Bolt,red\n", file_name="items.csv")
    assert_rejected(report, [(1, "colour")], before, "Unknown column")

    report = masterdata_import(file=b"code,name\nX-1,Bolt\nX-2,Nut,extra\n", file_name="i.csv")
    assert_rejected(report, [(3, "(no header)")], before, "“extra”")


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("boms.csv", b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n", "PDF document"),
        ("items.xlsx", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "PNG image"),
        ("items.txt", b"lorem ipsum dolor sit amet", "Unsupported file type “.txt”"),
        ("items.xlsx", (SAMPLES / "items.csv").read_bytes(), "not an XLSX workbook"),
        ("items.csv", (SAMPLES / "items.xlsx").read_bytes(), "zip archive"),
        ("items.csv", b"\xff\xfe\x00c\x00o\x00d\x00e", "binary"),
        ("items.csv", b"", "empty"),
        ("items.csv", b"lorem ipsum,dolor\nsit,amet\n", "Cannot tell from the header"),
    ],
)
def test_wrong_file_type_gives_one_clear_error(items, name, data, message):
    before = counts()
    report = masterdata_import(file=data, file_name=name)
    assert len(report.errors) == 1
    assert_rejected(report, [(0, "")], before, message)
    assert str(report.errors[0]).startswith(f"{name}: ")


def test_several_bad_rows_are_all_reported(items):
    before = counts()
    data = csv_file(
        ROUTING_HEADER,
        """
        EB-500,1,10,Casting,CAST,CAST-01,60,6,CAST,2,
        EB-500,1,20,Machining,CNC,CNC-01|CNC-07,30,10.1053,CNC,2,

        EB-500,1,30,Inspection,QA,CMM-01,10,-4,CMM,2,IP-EB500-30
        EB-500,1,30,Inspection again,CMM,CMM-01,10,4,CMM,2,
        HSG-100,1,10,,INJ,INJ-01,45,0.5,INJ,2,
        """,
    )
    report = masterdata_import(file=data, file_name="routings.csv")
    # Row 4 is blank: it is skipped but still counted, as a spreadsheet shows it.
    assert_rejected(
        report,
        [
            (3, "eligible_equipment"),
            (5, "work_center"),
            (5, "run_minutes_per_unit"),
            (6, "step_no"),
            (7, "name"),
        ],
        before,
    )


def test_xlsx_rows_are_numbered_like_the_sheet(items):
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(BOM_HEADER.split(","))
    sheet.append(["EB-500", 1, 50, None, None, 10, "STEEL-42", 100, 0, 10])
    sheet.append(["EB-500", 1, 50, None, None, 20, "HSG-100", "lots", 0, 40])
    sheet.append([None] * 10)
    sheet.append(["EB-500", 1, 50, None, None, 30.5, "BRG-6205", 50, 0, 40])
    raw = io.BytesIO()
    book.save(raw)
    before = counts()
    report = masterdata_import(file=raw.getvalue(), file_name="boms.xlsx")
    assert_rejected(report, [(3, "quantity"), (5, "line_no")], before)


def test_many_files_are_all_or_nothing(plant):
    routings = (SAMPLES / "routings.csv").read_text().replace("CNC-01|CNC-02", "CNC-01|CNC-03")
    files = [SAMPLES / "items.csv", SAMPLES / "boms.csv", ("routings.csv", routings.encode())]
    report = masterdata_import_many(files=files)
    assert [str(e) for e in report.errors] == [
        "routings.csv row 3, column eligible_equipment: Unknown equipment “CNC-03”."
    ]
    assert counts() == dict.fromkeys(DEMO_COUNTS, 0)


def test_unreadable_file_in_a_batch_stops_it(plant):
    report = masterdata_import_many(files=[SAMPLES / "items.csv", ("boms.csv", b"%PDF-1.4")])
    assert problems(report) == [(0, "")] and report.errors[0].file == "boms.csv"
    assert counts() == dict.fromkeys(DEMO_COUNTS, 0)


def test_export_round_trip(samples):
    dataset = BomResource().export(queryset=Bom.objects.all())
    assert dataset.headers == BOM_HEADER.split(",")
    assert dataset[0] == ("EB-500", "1", "50", "", "", "10", "STEEL-42", "100", "0", "10")
    report = masterdata_import(file=dataset.export("csv").encode(), file_name="boms.csv")
    assert (report.new, report.updated, report.unchanged) == (0, 0, 4)
    # As the admin exports XLSX: numbers as numbers.
    dataset = RoutingResource().export(queryset=Routing.objects.all(), force_native_type=True)
    report = masterdata_import(file=dataset.export("xlsx"), file_name="routings.xlsx")
    assert (report.new, report.updated, report.unchanged) == (0, 0, 6), report.errors


# --- management command ----------------------------------------------------------------------


def test_command_imports_and_summarises(plant):
    out = io.StringIO()
    call_command("import_masterdata", *(str(SAMPLES / f"{k}.csv") for k in KINDS), stdout=out)
    assert f"{SAMPLES / 'items.csv'}: Items, 5 new, 0 updated, 0 unchanged" in out.getvalue()
    assert "Imported." in out.getvalue()
    assert counts() == DEMO_COUNTS


def test_command_dry_run_and_kind(plant):
    out = io.StringIO()
    call_command(
        "import_masterdata", str(SAMPLES / "items.xlsx"), "--kind", "items", "--dry-run", stdout=out
    )
    assert "Items, 5 new" in out.getvalue() and "Dry run: nothing was written." in out.getvalue()
    assert Item.objects.count() == 0


def test_command_reports_each_error_and_fails(items, tmp_path):
    bad = tmp_path / "boms.csv"
    bad.write_text(BOM_HEADER + "\nEB-500,1,50,,,10,STEEL-42,-1,0,10\nEB-500,1,50,,,20,NOPE,1,0,\n")
    err = io.StringIO()
    with pytest.raises(CommandError, match="2 errors; nothing was imported"):
        call_command("import_masterdata", str(bad), stderr=err)
    assert err.getvalue().splitlines() == [
        f"{bad} row 2, column quantity: -1 must be greater than zero.",
        f"{bad} row 3, column component: Unknown item “NOPE”.",
    ]
    assert BomLine.objects.count() == 0


# --- admin -------------------------------------------------------------------------------------


@pytest.fixture
def admin(plant):
    user = get_user_model().objects.create_superuser(
        "importer", "importer@example.com", "pw-12345!"
    )
    client = Client()
    client.force_login(user)
    return client


def admin_preview(client, model: str, name: str, data: bytes, fmt: str = "0"):
    url = reverse(f"admin:{model}_import")
    assert client.get(url).status_code == 200
    upload = SimpleUploadedFile(name, data)
    return client.post(url, {"resource": "0", "format": fmt, "import_file": upload})


def admin_confirm(client, model: str, preview):
    form = preview.context["confirm_form"]
    return client.post(reverse(f"admin:{model}_process_import"), form.initial)


def test_admin_lists_offer_import_and_export(admin):
    for model in ("resources_item", "planning_bom", "planning_routing"):
        page = admin.get(reverse(f"admin:{model}_changelist"))
        assert page.status_code == 200
        assert reverse(f"admin:{model}_import") in page.content.decode()
        assert admin.get(reverse(f"admin:{model}_export")).status_code == 200


def test_admin_imports_good_files(admin):
    preview = admin_preview(
        admin, "resources_item", "items.xlsx", (SAMPLES / "items.xlsx").read_bytes(), "1"
    )
    assert preview.status_code == 200 and "confirm_form" in preview.context
    assert Item.objects.count() == 0  # the preview is a dry run
    done = admin_confirm(admin, "resources_item", preview)
    assert done.status_code == 302 and Item.objects.count() == 5

    preview = admin_preview(admin, "planning_bom", "boms.csv", (SAMPLES / "boms.csv").read_bytes())
    assert admin_confirm(admin, "planning_bom", preview).status_code == 302
    assert low_level_codes() == DEMO_LEVELS

    preview = admin_preview(
        admin, "planning_routing", "r.csv", (SAMPLES / "routings.csv").read_bytes()
    )
    assert admin_confirm(admin, "planning_routing", preview).status_code == 302
    assert counts() == DEMO_COUNTS

    columns = ROUTING_HEADER.split(",")
    form = {"resource": "0", "format": "0"} | {f"routingresource_{c}": "on" for c in columns}
    exported = admin.post(reverse("admin:planning_routing_export"), form)
    assert exported.status_code == 200
    assert b"EB-500,1,20,Machining,CNC,CNC-01|CNC-02,30,10.1053,CNC,2," in exported.content


def test_admin_shows_a_bom_cycle_and_writes_nothing(admin, items):
    before = counts()
    boms = (SAMPLES / "boms.csv").read_bytes() + b"PP-GF30,1,1,,,10,EB-500,1,0,\n"
    response = admin_preview(admin, "planning_bom", "boms.csv", boms)
    assert response.status_code == 200
    assert "confirm_form" not in response.context
    invalid = response.context["result"].invalid_rows
    assert [(row.number, list(row.field_specific_errors)) for row in invalid] == [
        (6, ["component"])
    ]
    assert "BOM cycle: PP-GF30 → EB-500 → HSG-100 → PP-GF30." in response.content.decode()
    assert counts() == before


def test_admin_confirm_rolls_back_when_the_data_changed_meanwhile(admin, items):
    preview = admin_preview(admin, "planning_bom", "boms.csv", (SAMPLES / "boms.csv").read_bytes())
    assert "confirm_form" in preview.context
    # Someone adds PP-GF30 ← EB-500 between preview and confirm: the import now closes a cycle.
    resin_bom = Bom.objects.create(item=Item.objects.get(code="PP-GF30"))
    BomLine.objects.create(
        bom=resin_bom, line_no=10, component=Item.objects.get(code="EB-500"), quantity=1
    )
    done = admin_confirm(admin, "planning_bom", preview)
    assert done.status_code == 302 and done.url == reverse("admin:planning_bom_import")
    assert BomLine.objects.count() == 1 and Bom.objects.count() == 1
    message = str(list(done.wsgi_request._messages)[0])
    assert message.startswith("Nothing was imported. row ") and "BOM cycle" in message


def test_admin_missing_column_is_shown_not_a_500(admin):
    response = admin_preview(admin, "resources_item", "items.csv", b"code,uom\nX-1,pcs\n")
    assert response.status_code == 200 and "confirm_form" not in response.context
    assert "This column is required but missing." in response.content.decode()
    assert Item.objects.count() == 0


def test_equipment_and_changeover_files_come_before_the_routings_that_name_them(plant):
    # Given in any order: the machine first, then its pairs, then the routing naming it.
    routings = (SAMPLES / "routings.csv").read_text().replace("CNC-01|CNC-02", "CNC-01|CNC-03")
    files = [
        SAMPLES / "items.csv",
        ("routings.csv", routings.encode()),
        (
            "pairs.csv",
            b"equipment,from_family,to_family,minutes\n"
            b"CNC-03,FX-HEAD,FX-BLOCK,45\nCNC-03,FX-BLOCK,FX-HEAD,20\n",
        ),
        ("machines.csv", b"code,name,work_center,changeover_minutes\nCNC-03,Third CNC,CNC,30\n"),
    ]
    report = masterdata_import_many(files=files)
    assert report.ok, report.errors
    machine = Equipment.objects.get(code="CNC-03")
    assert machine.changeover_minutes == 30
    assert sorted(machine.changeovers.values_list("from_family", "to_family", "minutes")) == [
        ("FX-BLOCK", "FX-HEAD", 20),
        ("FX-HEAD", "FX-BLOCK", 45),
    ]
    assert RoutingStep.objects.filter(eligible_equipment=machine).exists()
    # A pair for a machine that does not exist: named by row and column, nothing written.
    report = masterdata_import(
        file=b"equipment,from_family,to_family,minutes\nCNC-03,A,B,5\nCNC-09,A,B,-1\n",
        file_name="pairs.csv",
    )
    assert report.kind == "changeovers"
    assert {(e.row, e.column) for e in report.errors} == {(3, "equipment"), (3, "minutes")}
    assert machine.changeovers.count() == 2


def test_command_imports_changeovers_by_kind(plant, tmp_path):
    path = tmp_path / "pairs.csv"
    path.write_text("equipment,from_family,to_family,minutes\nCNC-01,FX-HEAD,FX-BLOCK,45\n")
    out = io.StringIO()
    call_command("import_masterdata", str(path), "--kind", "changeovers", stdout=out)
    pair = Equipment.objects.get(code="CNC-01").changeovers.get()
    assert (pair.from_family, pair.to_family, pair.minutes) == ("FX-HEAD", "FX-BLOCK", 45)
