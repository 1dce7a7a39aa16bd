"""What the import tests share: the plant the files refer to, counts, hand-made workbooks."""

import io
import zipfile
from pathlib import Path

import openpyxl
from django.conf import settings

from planning.models import Bom, BomLine, Routing, RoutingStep
from resources.models import Area, Equipment, Item, Site, Skill, WorkCenter

SAMPLES = Path(settings.BASE_DIR) / "docs" / "samples"
ROUTING_COLUMNS = [
    "item",
    "version",
    "step_no",
    "name",
    "work_center",
    "eligible_equipment",
    "setup_minutes",
    "run_minutes_per_unit",
    "required_skill",
    "min_skill_level",
    "inspection_plan_ref",
]
ROUTING_HEADER = ",".join(ROUTING_COLUMNS)


def plant_create() -> None:
    """Work centers, equipment and skills of the demo plant (the import does not make them)."""
    site = Site.objects.create(code="PLANT-1", name="Demo plant")
    area = Area.objects.create(site=site, code="HALL-1", name="Hall 1")
    centers = {
        code: WorkCenter.objects.create(area=area, code=code, name=code)
        for code in ("CAST", "CNC", "CMM", "ASM", "INJ")
    }
    for code in ("CAST-01", "CNC-01", "CNC-02", "CMM-01", "ASM-01", "INJ-01"):
        Equipment.objects.create(work_center=centers[code[:-3]], code=code, name=code)
    for code in centers:
        Skill.objects.create(code=code, name=code)


def counts() -> dict[str, int]:
    models = (Item, Bom, BomLine, Routing, RoutingStep)
    return {model.__name__: model.objects.count() for model in models}


def routing_lines(n: int, item: str = "EB-500") -> list[str]:
    """n good routing steps of one item, as CSV lines."""
    return [
        f"{item},7,{10 * (i + 1)},Step {i + 1},CNC,CNC-01|CNC-02,5,1.5,CNC,2," for i in range(n)
    ]


def routing_csv(n: int) -> bytes:
    return ("\n".join([ROUTING_HEADER, *routing_lines(n)]) + "\n").encode()


def workbook(rows: list[list]) -> bytes:
    book = openpyxl.Workbook()
    for row in rows:
        book.active.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def xlsx_by_hand(sheet_rows: str, dimension: str = "A1:Z200000") -> bytes:
    """The smallest workbook openpyxl opens: one sheet of inline strings, as an attacker
    writes it, with whatever <dimension> it declares."""
    main = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
    rel = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
    pkg = "http://schemas.openxmlformats.org/package/2006/relationships"
    types = "http://schemas.openxmlformats.org/package/2006/content-types"
    office = "application/vnd.openxmlformats-officedocument.spreadsheetml"
    parts = {
        "[Content_Types].xml": (
            f'<?xml version="1.0" encoding="UTF-8"?><Types xmlns="{types}">'
            '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
            'relationships+xml"/><Default Extension="xml" ContentType="application/xml"/>'
            f'<Override PartName="/xl/workbook.xml" ContentType="{office}.sheet.main+xml"/>'
            f'<Override PartName="/xl/worksheets/sheet1.xml" ContentType="{office}.worksheet'
            '+xml"/></Types>'
        ),
        "_rels/.rels": (
            f'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="{pkg}"><Relationship '
            f'Id="rId1" Type="{rel}/officeDocument" Target="xl/workbook.xml"/></Relationships>'
        ),
        "xl/workbook.xml": (
            f'<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="{main}" xmlns:r="{rel}">'
            '<sheets><sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>'
        ),
        "xl/_rels/workbook.xml.rels": (
            f'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="{pkg}"><Relationship '
            f'Id="rId1" Type="{rel}/worksheet" Target="worksheets/sheet1.xml"/></Relationships>'
        ),
        "xl/worksheets/sheet1.xml": (
            f'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="{main}"><dimension '
            f'ref="{dimension}"/><sheetData>{sheet_rows}</sheetData></worksheet>'
        ),
    }
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, text in parts.items():
            archive.writestr(name, text)
    return out.getvalue()


def inline_row(number: int, values: list) -> str:
    cells = "".join(
        f'<c r="{chr(65 + i)}{number}" t="inlineStr"><is><t>{v}</t></is></c>'
        for i, v in enumerate(values)
        if v != ""
    )
    return f'<row r="{number}">{cells}</row>'


def bomb(kind: str) -> bytes:
    """The A1:Z200000 workbook: a routing header, one good row, and then either single cells
    far down ("sparse") or empty <row> elements every 10,000 rows up to 200,000 ("empty")."""
    rows = inline_row(1, ROUTING_COLUMNS) + inline_row(2, routing_lines(1)[0].split(","))
    if kind == "sparse":
        rows += "".join(
            f'<row r="{n}"><c r="Z{n}"><v>1</v></c></row>' for n in (50000, 100000, 150000, 200000)
        )
    else:
        rows += "".join(f'<row r="{n}" spans="1:26"/>' for n in range(10000, 200001, 10000))
    return xlsx_by_hand(rows)
