"""Master-data import benchmark: rows/s and peak memory of
`planning.services.imports.masterdata_import`.

    .venv/bin/python bench/import_bench.py [--rows 3000] [--only CASE ...]

Cases, each measured in its own child process (a fresh SQLite database in a temporary
directory, or with DATABASE_URL set a database whose name contains "bench", emptied first):

- routing-csv-new:   a generated routing file of --rows steps (--rows / 10 items × 10 steps,
                     work centers, equipment lists and skills of the demo plant's kind), CSV,
                     into a database holding the items but no routings: every row is new.
- routing-csv-again: the same file imported a second time: every row is unchanged.
- routing-xlsx-new:  the same steps as an XLSX workbook, every row new.
- bomb-sparse:       a hand-made XLSX (about 1.8 KB) whose sheet declares
                     <dimension ref="A1:Z200000"/>, with a routing header, one good row and
                     single cells in rows 50,000, 100,000, 150,000 and 200,000.
- bomb-empty:        the same declaration with a header, one good row and empty <row>
                     elements up to row 200,000 (one every 10,000 rows).

Each case prints wall time and this process's CPU time of one import through the service
(reading the file, the rows, the transaction), rows/s over the file's data rows, the peak
RSS growth of the child during that import (VmHWM after − VmRSS before) and, from a second
identical import run under tracemalloc, the peak Python memory it allocated. On a shared
machine wall time includes waiting for a core; CPU time is what the work costs.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
import tracemalloc
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CASES = ("routing-csv-new", "routing-csv-again", "routing-xlsx-new", "bomb-sparse", "bomb-empty")
ROUTING_HEADER = [
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
CENTERS = {
    "CAST": ["CAST-01"],
    "CNC": ["CNC-01", "CNC-02"],
    "CMM": ["CMM-01"],
    "ASM": ["ASM-01"],
    "INJ": ["INJ-01"],
}


# --- files ---------------------------------------------------------------------------------


def routing_rows(n_rows: int) -> list[list]:
    rows, centers = [], list(CENTERS)
    for n in range(n_rows):
        item, step = divmod(n, 10)
        center = centers[n % len(centers)]
        rows.append(
            [
                f"BENCH-{item:05d}",
                1,
                (step + 1) * 10,
                f"Operation {step + 1} of item {item}",
                center,
                "|".join(CENTERS[center]),
                15 + n % 30,
                round(0.5 + (n % 17) / 4, 2),
                center if n % 2 else "",
                2,
                f"IP-{item}-{step}" if n % 5 == 0 else "",
            ]
        )
    return rows


def routing_csv(n_rows: int) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(ROUTING_HEADER)
    writer.writerows(routing_rows(n_rows))
    return out.getvalue().encode()


def routing_xlsx(n_rows: int) -> bytes:
    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(ROUTING_HEADER)
    for row in routing_rows(n_rows):
        sheet.append([None if v == "" else v for v in row])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def xlsx_by_hand(sheet_rows: str, dimension: str = "A1:Z200000") -> bytes:
    """The smallest workbook openpyxl opens: one sheet of inline strings, as an attacker writes it."""
    main = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
    rel = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
    pkg = "http://schemas.openxmlformats.org/package/2006/relationships"
    parts = {
        "[Content_Types].xml": (
            '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats'
            '.org/package/2006/content-types"><Default Extension="rels" ContentType="application'
            '/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" '
            'ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType='
            '"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
            '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.'
            'openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>'
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
        if v not in ("", None)
    )
    return f'<row r="{number}">{cells}</row>'


def bomb(kind: str) -> bytes:
    rows = inline_row(1, ROUTING_HEADER) + inline_row(2, routing_rows(1)[0])
    if kind == "sparse":
        rows += "".join(
            f'<row r="{n}"><c r="Z{n}"><v>1</v></c></row>' for n in (50000, 100000, 150000, 200000)
        )
    else:
        rows += "".join(f'<row r="{n}" spans="1:26"/>' for n in range(10000, 200001, 10000))
    return xlsx_by_hand(rows)


# --- child: one case -----------------------------------------------------------------------


def memory_kib(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


def run_case(case: str, n_rows: int) -> dict:
    if not os.environ.get("DATABASE_URL"):
        os.environ["CLOSEDLOOP_VAR_DIR"] = tempfile.mkdtemp(prefix="closedloop-import-bench-")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection

    from planning.models import Routing
    from planning.services.imports import masterdata_import
    from resources.models import Area, Equipment, Item, Site, Skill, WorkCenter

    name = str(settings.DATABASES["default"]["NAME"])
    if connection.vendor != "sqlite" and "bench" not in name:
        sys.exit("Refusing to empty a database whose name does not contain 'bench'.")
    call_command("migrate", verbosity=0)
    call_command("flush", interactive=False, verbosity=0)
    site = Site.objects.create(code="PLANT-1", name="Bench plant")
    area = Area.objects.create(site=site, code="HALL-1", name="Hall 1")
    for center, equipment in CENTERS.items():
        wc = WorkCenter.objects.create(area=area, code=center, name=center)
        for code in equipment:
            Equipment.objects.create(work_center=wc, code=code, name=code)
        Skill.objects.create(code=center, name=center)
    Item.objects.bulk_create(
        Item(code=f"BENCH-{i:05d}", name=f"Bench item {i}", source=Item.Source.MAKE)
        for i in range(max(1, n_rows // 10 + 1))
    )

    if case.startswith("routing-xlsx"):
        data, file_name, rows = routing_xlsx(n_rows), "routings.xlsx", n_rows
    elif case.startswith("routing"):
        data, file_name, rows = routing_csv(n_rows), "routings.csv", n_rows
    else:
        data, file_name, rows = bomb(case.split("-")[1]), "bomb.xlsx", 0

    def once():
        return masterdata_import(file=data, file_name=file_name)

    if case.endswith("again"):
        assert once().ok
    rss_before = memory_kib("VmRSS")
    wall, cpu = time.perf_counter(), time.process_time()
    report = once()
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    rss_growth = memory_kib("VmHWM") - rss_before
    if case.endswith("new"):
        Routing.objects.all().delete()
    tracemalloc.start()
    once()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    errors = [str(e) for e in report.errors]
    return {
        "case": case,
        "file_bytes": len(data),
        "rows": rows,
        "wall": wall,
        "cpu": cpu,
        "rss_growth_mib": rss_growth / 1024,
        "tracemalloc_mib": peak / 2**20,
        "outcome": report.summary() if report.ok else f"{len(errors)} error(s): {errors[0]}",
        "database": connection.vendor,
    }


# --- parent --------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=3000)
    parser.add_argument("--only", nargs="*", choices=CASES, default=list(CASES))
    parser.add_argument("--child", choices=CASES, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(run_case(args.child, args.rows)))
        return
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from reference import python_loop_seconds

    print(f"reference Python loop: {python_loop_seconds():.2f} s")
    for case in args.only:
        out = subprocess.run(
            [sys.executable, __file__, "--child", case, "--rows", str(args.rows)],
            capture_output=True,
            text=True,
            check=False,
        )
        if out.returncode:
            print(f"{case}: failed\n{out.stderr[-2000:]}")
            continue
        r = json.loads(out.stdout.strip().splitlines()[-1])
        memory = (
            f"peak RSS growth {r['rss_growth_mib']:.1f} MiB, "
            f"tracemalloc peak {r['tracemalloc_mib']:.1f} MiB"
        )
        if r["rows"]:
            per_row = r["cpu"] / r["rows"] * 1000
            print(
                f"{r['case']} ({r['database']}, {r['file_bytes']:,} bytes, {r['rows']:,} rows): "
                f"wall {r['wall']:.2f} s, CPU {r['cpu']:.2f} s ({per_row:.2f} ms CPU/row), "
                f"{r['rows'] / r['wall']:,.0f} rows/s; {memory}"
            )
        else:
            print(
                f"{r['case']} ({r['database']}, {r['file_bytes']:,} bytes, declares A1:Z200000): "
                f"wall {r['wall'] * 1000:,.0f} ms, CPU {r['cpu'] * 1000:,.0f} ms; {memory}"
            )
        print(f"    → {r['outcome']}")
    print(f"python {platform.python_version()} on {platform.machine()}, {platform.system()}")


if __name__ == "__main__":
    main()
