"""Trace lookup benchmark: one unit's full genealogy among 1 million units and 10 million
inspection records in PostgreSQL.

    .venv/bin/python bench/trace_bench.py [--units 1000000] [--records-per-unit 10]
        [--samples 200] [--seed 1] [--sample-seed 1] [--db closedloop_bench_trace]
        [--regenerate] [--no-explain]

Uses its own database on 127.0.0.1:5432 (user postgres, trust); creates it, migrates it and
loads the demo plant if needed, then generates the history once with COPY (psycopg 3
`cursor.copy`) and keeps it: later runs only measure. The history (seeded):

- EB-500 orders of 500 serial units (2,000 orders for 1 M units), four operations each, every
  unit reported once per operation (4 M unit events + a start and a complete per task), a
  trace code per unit; steel (2 lots per order), bearing and housing lots issued per order;
- HSG-100 orders of 1,000 housings, one lot each, each lot issued to two EB-500 orders; each
  HSG order consumes one PP-GF30 resin lot (one resin lot feeds ten housing orders);
- `records-per-unit` inspection records per unit (default 10: 2 at casting, 3 at machining,
  3 at the CMM, 2 at assembly; every 20th unit's CMM result is corrected), one measurement
  per record (two at the CMM: bore and scratches); one inspection per housing lot.

While loading, the big tables' indexes and constraints are dropped and rebuilt afterwards
(exactly the definitions migrate made), then VACUUM ANALYZE.

Measured: `trace_lookup` + `genealogy` (the selector the page and the API call) for
`samples` random units — a first pass and a repeat over the same units —, the API
(`GET /api/v1/quality/trace/{code}/`) and the page (`/quality/trace/?code=`) through Django's
test client, queries per lookup, `where_used` for resin and steel lots, an unknown code; then
EXPLAIN (ANALYZE, BUFFERS) of every query of one lookup. Not part of the test suite.
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

ORDER_SIZE = 500
HSG_LOT = 1000
BIG_TABLES = [
    "quality_inspectionrecord",
    "quality_measurement",
    "execution_productionevent",
    "resources_serialunit",
    "quality_tracecode",
]
BASE = datetime(2025, 1, 6, 0, 0, tzinfo=UTC)
CHUNK = 50_000
NULL = "\\N"  # COPY text format


def _setup(db: str) -> None:
    import psycopg

    with psycopg.connect("host=127.0.0.1 port=5432 user=postgres dbname=postgres") as conn:
        conn.autocommit = True
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (db,)).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{db}"')
            print(f"created database {db}")
    os.environ["DATABASE_URL"] = f"postgres://postgres@127.0.0.1:5432/{db}"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ.setdefault("API_THROTTLE_USER", "off")  # a benchmark floods the API by design
    os.environ["DEBUG"] = "0"  # no query log while timing
    import django

    django.setup()


def _ts(seconds: float) -> str:
    return (BASE + timedelta(seconds=seconds)).isoformat()


class Loader:
    """COPY rows (tab-separated text lines) into a table, in chunks."""

    def __init__(self, raw):
        self.raw = raw
        self.rows = 0

    def copy(self, table: str, columns: list[str], lines) -> int:
        started = time.perf_counter()
        n = 0
        sql = f"COPY {table} ({', '.join(columns)}) FROM STDIN"
        with self.raw.cursor() as cur, cur.copy(sql) as cp:
            buf: list[str] = []
            for line in lines:
                buf.append(line)
                if len(buf) >= CHUNK:
                    cp.write("".join(buf))
                    n += len(buf)
                    buf = []
            if buf:
                cp.write("".join(buf))
                n += len(buf)
        self.rows += n
        print(f"  {table}: {n:,} rows in {time.perf_counter() - started:.1f} s", flush=True)
        return n


def _next_ids(raw, tables: list[str]) -> dict[str, int]:
    out = {}
    with raw.cursor() as cur:
        for table in tables:
            cur.execute(f"SELECT coalesce(max(id), 0) + 1 FROM {table}")
            out[table] = cur.fetchone()[0]
    return out


def _drop_constraints_and_indexes(raw, tables: list[str]) -> tuple[list, list]:
    with raw.cursor() as cur:
        cur.execute(
            """SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid)
               FROM pg_constraint WHERE conrelid = ANY(%s::regclass[]) AND contype <> 'p'""",
            (tables,),
        )
        constraints = cur.fetchall()
        cur.execute(
            """SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid)
               FROM pg_index i WHERE i.indrelid = ANY(%s::regclass[]) AND NOT i.indisprimary
               AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)""",
            (tables,),
        )
        indexes = cur.fetchall()
        for table, name, _ in constraints:
            cur.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
        for name, _ in indexes:
            cur.execute(f"DROP INDEX {name}")
    return constraints, indexes


def _restore(raw, constraints: list, indexes: list) -> None:
    with raw.cursor() as cur:
        cur.execute("SET maintenance_work_mem = '512MB'")
        for name, definition in indexes:
            started = time.perf_counter()
            cur.execute(definition)
            print(f"  index {name}: {time.perf_counter() - started:.1f} s", flush=True)
        # Unique and check constraints first, then the foreign keys (they need the uniques).
        ordered = sorted(constraints, key=lambda c: c[2].startswith("FOREIGN KEY"))
        for table, name, definition in ordered:
            started = time.perf_counter()
            cur.execute(f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}')
            print(f"  constraint {name}: {time.perf_counter() - started:.1f} s", flush=True)


def generate(units: int, per_unit: int, seed: int) -> None:
    from django.contrib.auth import get_user_model
    from django.db import connection

    from core.models import AuditEntry
    from planning.models import Bom, Routing
    from quality.models import Characteristic, InspectionPlan
    from resources.models import Equipment, Item, Operator, StockLocation

    rnd = random.Random(seed)
    connection.ensure_connection()
    raw = connection.connection
    raw.autocommit = True
    item = {c: Item.objects.get(code=c) for c in ("EB-500", "HSG-100", "STEEL-42", "BRG-6205", "PP-GF30")}  # fmt: skip
    eb_steps = list(Routing.objects.get(item=item["EB-500"], version="1").steps.order_by("step_no"))
    hsg_steps = list(
        Routing.objects.get(item=item["HSG-100"], version="1").steps.order_by("step_no")
    )
    eb_bom = Bom.objects.get(item=item["EB-500"], version="1").pk
    hsg_bom = Bom.objects.get(item=item["HSG-100"], version="1").pk
    eb_routing, hsg_routing = eb_steps[0].routing_id, hsg_steps[0].routing_id
    eq = {e.code: e.pk for e in Equipment.objects.all()}
    op = {o.badge: o.pk for o in Operator.objects.all()}
    wh = StockLocation.objects.get(code="WH-RAW").pk
    inspector = get_user_model().objects.get(username="zhaoliu").pk

    # One plan per inspected step: the demo's CMM plan (bore + scratches) and housing check,
    # and simple plans for the other engine-block steps.
    plans: dict[int, tuple[int, list[tuple[int, str]]]] = {}
    for step in eb_steps + hsg_steps:
        plan = InspectionPlan.objects.filter(routing_step=step, active=True).first()
        if plan is None:
            plan = InspectionPlan.objects.create(
                code=f"IP-BENCH-{step.routing.item.code}-{step.step_no}",
                routing_step=step,
                gate=False,
            )
            Characteristic.objects.create(
                plan=plan,
                name="Dimension",
                kind="variable",
                nominal=50,
                lower_tolerance="0.1",
                upper_tolerance="0.1",
                unit="mm",
            )
        chars = [(c.pk, c.kind) for c in plan.characteristics.order_by("id")]
        plans[step.pk] = (plan.pk, chars)

    tables = [
        "planning_productionorder",
        "planning_orderoperation",
        "execution_task",
        "execution_materialrequirement",
        "resources_stockmove",
        "execution_materialissue",
        "resources_materiallot",
        *BIG_TABLES,
    ]
    nid = _next_ids(raw, tables)
    n_eb = units // ORDER_SIZE
    n_hsg = max(1, n_eb * ORDER_SIZE // HSG_LOT)
    n_pp = max(1, n_hsg // 10)
    n_steel = max(1, n_eb * 2 // 10)
    n_brg = max(1, n_eb // 10)
    print(
        f"generating {n_eb:,} EB-500 orders ({units:,} units), {n_hsg:,} HSG-100 orders, "
        f"{units * per_unit:,} inspection records",
        flush=True,
    )
    started = time.perf_counter()
    print("dropping indexes and constraints of the big tables", flush=True)
    constraints, indexes = _drop_constraints_and_indexes(raw, BIG_TABLES)
    load = Loader(raw)

    # --- lots
    lot_id = nid["resources_materiallot"]
    lots: dict[str, list[int]] = {}
    lot_rows = []
    for key, prefix, count in (
        ("PP-GF30", "PB", n_pp),
        ("STEEL-42", "SB", n_steel),
        ("BRG-6205", "BB", n_brg),
        ("HSG-100", "HB", n_hsg),
    ):
        lots[key] = []
        for i in range(count):
            lot_rows.append(f"{lot_id}\t{prefix}-{i:06d}\t\t{_ts(0)}\t\\N\t{item[key].pk}\n")
            lots[key].append(lot_id)
            lot_id += 1
    load.copy(
        "resources_materiallot",
        ["id", "code", "supplier_lot", "created_at", "expires_on", "item_id"],
        lot_rows,
    )

    # --- orders, operations, tasks (HSG first: housings are made before the blocks)
    orders, opers, tasks = [], [], []
    order_id, oper_id, task_id = (
        nid["planning_productionorder"],
        nid["planning_orderoperation"],
        nid["execution_task"],
    )
    hsg_orders = []  # (order id, [(op id, task id, step)], start seconds)
    eb_orders = []
    machine = {10: "CAST-01", 20: "CNC-01", 30: "CMM-01", 40: "ASM-01"}
    who = {10: "OP-003", 20: "OP-001", 30: "QC-001", 40: "OP-002"}

    def order_rows(number, itm, qty, bom, routing, steps, start, hsg: bool):
        nonlocal order_id, oper_id, task_id
        end = start + 4 * 3600
        orders.append(
            f"{order_id}\t{number}\t{qty}\t{(BASE + timedelta(seconds=end)).date()}\t5\tcompleted\t"
            f"\\N\t{_ts(start)}\t{_ts(end)}\t{qty}\t0\t{_ts(start - 86400)}\t{_ts(start - 3600)}\t"
            f"{_ts(end)}\tbench\t{bom}\t{itm}\t{routing}\t\\N\n"
        )
        ops = []
        for j, step in enumerate(steps):
            s0, s1 = start + j * 3600, start + j * 3600 + 3300
            machine_code = "INJ-01" if hsg and step.step_no == 10 else None
            if not hsg:
                machine_code = machine[step.step_no]
            mach = eq[machine_code] if machine_code else None
            operator = op["OP-003"] if hsg else op[who[step.step_no]]
            opers.append(
                f"{oper_id}\t{step.step_no}\t{step.name}\t{step.setup_minutes}\t"
                f"{step.run_minutes_per_unit}\t2\t\tdone\tf\t{_ts(s0)}\t{_ts(s1)}\t{_ts(s0)}\t"
                f"{_ts(s1)}\t{qty}\t0\t{mach if mach else NULL}\t\\N\t"
                f"{step.work_center_id}\t{order_id}\t\\N\n"
            )
            tasks.append(
                f"{task_id}\tdone\t\t{qty}\t0\t{_ts(s0)}\t{_ts(s1)}\t\t{_ts(s1)}\t\\N\t"
                f"{mach if mach else NULL}\t{oper_id}\t{operator}\t{order_id}\n"
            )
            ops.append((oper_id, task_id, step, s0, s1, mach, operator))
            oper_id += 1
            task_id += 1
        row = (order_id, ops, start)
        order_id += 1
        return row

    for h in range(n_hsg):
        start = h * 8 * 3600
        hsg_orders.append(
            order_rows(
                f"BH-{h:06d}",
                item["HSG-100"].pk,
                HSG_LOT,
                hsg_bom,
                hsg_routing,
                hsg_steps,
                start,
                True,
            )  # fmt: skip
        )
    for k in range(n_eb):
        start = 2 * 86400 + k * 4 * 3600
        eb_orders.append(
            order_rows(
                f"BE-{k:06d}",
                item["EB-500"].pk,
                ORDER_SIZE,
                eb_bom,
                eb_routing,
                eb_steps,
                start,
                False,
            )  # fmt: skip
        )
    load.copy(
        "planning_productionorder",
        [
            "id",
            "number",
            "quantity",
            "due_date",
            "priority",
            "status",
            "earliest_start",
            "planned_start",
            "planned_end",
            "quantity_done",
            "quantity_scrap",
            "created_at",
            "released_at",
            "completed_at",
            "note",
            "bom_id",
            "item_id",
            "routing_id",
            "sales_order_id",
        ],  # fmt: skip
        orders,
    )
    load.copy(
        "planning_orderoperation",
        [
            "id",
            "sequence",
            "name",
            "setup_minutes",
            "run_minutes_per_unit",
            "min_skill_level",
            "inspection_plan_ref",
            "status",
            "frozen",
            "planned_start",
            "planned_end",
            "actual_start",
            "actual_end",
            "quantity_done",
            "quantity_scrap",
            "equipment_id",
            "required_skill_id",
            "work_center_id",
            "order_id",
            "blocked_until",
        ],  # fmt: skip
        opers,
    )
    load.copy(
        "execution_task",
        [
            "id",
            "status",
            "assignment_note",
            "quantity_good",
            "quantity_scrap",
            "started_at",
            "ended_at",
            "pause_reason",
            "updated_at",
            "assigned_by_id",
            "equipment_id",
            "operation_id",
            "operator_id",
            "order_id",
        ],  # fmt: skip
        tasks,
    )

    # --- requirements, stock moves, issues
    reqs, moves, issues = [], [], []
    req_id, move_id, issue_id = (
        nid["execution_materialrequirement"],
        nid["resources_stockmove"],
        nid["execution_materialissue"],
    )

    def requirement(order, op_row, itm, qty) -> int:
        nonlocal req_id
        reqs.append(f"{req_id}\t{qty}\t{qty}\t{itm}\t{op_row[0]}\t{order}\n")
        req_id += 1
        return req_id - 1

    def issue(req, itm, lot, qty, at):
        nonlocal move_id, issue_id
        moves.append(
            f"{move_id}\t-{qty}\tissue\tbench\tissue:BI-{issue_id}\t{_ts(at)}\t{NULL}\t{itm}\t{wh}\t{lot}\t{NULL}\n"
        )
        issues.append(
            f"{issue_id}\t{qty}\tBI-{issue_id}\t{_ts(at)}\t{NULL}\t{wh}\t{lot}\t{move_id}\t{req}\n"
        )
        move_id, issue_id = move_id + 1, issue_id + 1

    for h, (oid, ops, start) in enumerate(hsg_orders):
        pp = lots["PP-GF30"][min(h // 10, n_pp - 1)]
        issue(requirement(oid, ops[0], item["PP-GF30"].pk, 204), item["PP-GF30"].pk, pp, 204, start)
    for k, (oid, ops, start) in enumerate(eb_orders):
        # One requirement per (order, operation, item); the steel comes from two lots.
        steel_req = requirement(oid, ops[0], item["STEEL-42"].pk, 1000)
        for i in range(2):
            steel = lots["STEEL-42"][min((2 * k + i) // 10, n_steel - 1)]
            issue(steel_req, item["STEEL-42"].pk, steel, 500, start + i)
        hsg_lot = lots["HSG-100"][min(k // 2, n_hsg - 1)]
        hsg_req = requirement(oid, ops[3], item["HSG-100"].pk, ORDER_SIZE)
        issue(hsg_req, item["HSG-100"].pk, hsg_lot, ORDER_SIZE, start + 3 * 3600)
        brg = lots["BRG-6205"][min(k // 10, n_brg - 1)]
        brg_req = requirement(oid, ops[3], item["BRG-6205"].pk, ORDER_SIZE)
        issue(brg_req, item["BRG-6205"].pk, brg, ORDER_SIZE, start + 3 * 3600 + 1)
    load.copy(
        "execution_materialrequirement",
        ["id", "quantity_required", "quantity_issued", "item_id", "operation_id", "order_id"],
        reqs,
    )
    load.copy(
        "resources_stockmove",
        [
            "id",
            "quantity",
            "kind",
            "reference",
            "external_id",
            "created_at",
            "created_by_id",
            "item_id",
            "location_id",
            "lot_id",
            "reverses_id",
        ],  # fmt: skip
        moves,
    )
    load.copy(
        "execution_materialissue",
        [
            "id",
            "quantity",
            "external_id",
            "issued_at",
            "issued_by_id",
            "location_id",
            "lot_id",
            "stock_move_id",
            "requirement_id",
        ],  # fmt: skip
        issues,
    )

    # --- units and trace codes (1 M): serial = trace code, EB-500-yymm-nnnnn
    unit0 = nid["resources_serialunit"]
    tc0 = nid["quality_tracecode"]
    serials: list[str] = []
    month_seq: dict[str, int] = {}
    for _, _, start in eb_orders:
        yymm = f"{BASE + timedelta(seconds=start):%y%m}"
        for _ in range(ORDER_SIZE):
            month_seq[yymm] = month_seq.get(yymm, 0) + 1
            serials.append(f"EB-500-{yymm}-{month_seq[yymm]:05d}")

    def unit_lines():
        for u, serial in enumerate(serials):
            start = eb_orders[u // ORDER_SIZE][2]
            yield f"{unit0 + u}\t{serial}\t{_ts(start)}\t{item['EB-500'].pk}\t\\N\n"

    def code_lines():
        for u, serial in enumerate(serials):
            oid, _, start = eb_orders[u // ORDER_SIZE]
            yield f"{tc0 + u}\t{serial}\t{_ts(start)}\t{_ts(start)}\t{item['EB-500'].pk}\t\\N\t{oid}\t{unit0 + u}\n"
        for h, (oid, _, start) in enumerate(hsg_orders):
            lot = lots["HSG-100"][h]
            yield f"{tc0 + len(serials) + h}\tHB-{h:06d}\t{_ts(start)}\t\\N\t{item['HSG-100'].pk}\t{lot}\t{oid}\t\\N\n"

    load.copy("resources_serialunit", ["id", "serial", "created_at", "item_id", "lot_id"], unit_lines())  # fmt: skip
    load.copy("quality_tracecode", ["id", "code", "issued_at", "printed_at", "item_id", "lot_id", "order_id", "unit_id"], code_lines())  # fmt: skip

    # --- production events (≈ 4 M)
    ev0 = nid["execution_productionevent"]

    def event_lines():
        eid = ev0
        for h, (oid, ops, _) in enumerate(hsg_orders):
            lot = lots["HSG-100"][h]
            for oper, task, _step, s0, s1, mach, operator in ops:
                m = mach if mach else "\\N"
                for kind, good, at, with_lot in (("start", 0, s0, False), ("report", HSG_LOT, s1 - 60, True), ("complete", 0, s1, False)):  # fmt: skip
                    code, lid = (f"HB-{h:06d}", lot) if with_lot else ("", "\\N")
                    yield (
                        f"{eid}\tBE-{eid}\t{kind}\t{good}\t0\t\t{code}\t{_ts(at)}\t{_ts(at)}\tapi\t"
                        f"\\N\t{m}\t{lid}\t{oper}\t{operator}\t{oid}\t\\N\t{task}\n"
                    )
                    eid += 1
        for k, (oid, ops, _) in enumerate(eb_orders):
            first_unit = k * ORDER_SIZE
            for oper, task, _step, s0, s1, mach, operator in ops:
                yield (
                    f"{eid}\tBE-{eid}\tstart\t0\t0\t\t\t{_ts(s0)}\t{_ts(s0)}\tapi\t\\N\t{mach}\t"
                    f"\\N\t{oper}\t{operator}\t{oid}\t\\N\t{task}\n"
                )
                eid += 1
                for i in range(ORDER_SIZE):
                    u = first_unit + i
                    at = _ts(s0 + 60 + i * 6)
                    yield (
                        f"{eid}\tBE-{eid}\treport\t1\t0\t\t{serials[u]}\t{at}\t{at}\tapi\t\\N\t"
                        f"{mach}\t\\N\t{oper}\t{operator}\t{oid}\t{unit0 + u}\t{task}\n"
                    )
                    eid += 1
                yield (
                    f"{eid}\tBE-{eid}\tcomplete\t0\t0\t\t\t{_ts(s1)}\t{_ts(s1)}\tapi\t\\N\t{mach}\t"
                    f"\\N\t{oper}\t{operator}\t{oid}\t\\N\t{task}\n"
                )
                eid += 1

    load.copy(
        "execution_productionevent",
        [
            "id",
            "event_id",
            "kind",
            "quantity_good",
            "quantity_scrap",
            "reason",
            "trace_code",
            "occurred_at",
            "received_at",
            "source",
            "created_by_id",
            "equipment_id",
            "lot_id",
            "operation_id",
            "operator_id",
            "order_id",
            "unit_id",
            "task_id",
        ],  # fmt: skip
        event_lines(),
    )

    # --- inspection records (10 M) and measurements
    rec0 = nid["quality_inspectionrecord"]
    meas0 = nid["quality_measurement"]
    # records per operation for one unit, summing to per_unit (default 2, 3, 3, 2)
    shares = [2, 3, 3, 2]
    while sum(shares) < per_unit:
        shares[sum(shares) % 4] += 1
    while sum(shares) > per_unit:
        shares[shares.index(max(shares))] -= 1
    measurements: list[str] = []
    meas_count = 0

    def record_lines():
        rid, mid = rec0, meas0
        for h, (oid, ops, _) in enumerate(hsg_orders):
            oper, _task, step, _s0, s1, _m, _o = ops[1]
            plan, chars = plans[step.pk]
            at = _ts(s1 - 30)
            yield (
                f"{rid}\tBR-{rid}\tpass\t\t\t{at}\t{at}\t\\N\t\\N\t{inspector}\t{lots['HSG-100'][h]}\t"
                f"{oper}\t{oid}\t{plan}\t\\N\t{step.work_center_id}\n"
            )
            for char, kind in chars:
                measurements.append(_measurement(mid, rid, char, kind, rnd, True))
                mid += 1
            rid += 1
        for k, (oid, ops, _) in enumerate(eb_orders):
            for i in range(ORDER_SIZE):
                u = k * ORDER_SIZE + i
                unit = unit0 + u
                corrected = u % 20 == 0
                for j, (oper, _task, step, s0, _s1, _m, _o) in enumerate(ops):
                    plan, chars = plans[step.pk]
                    previous = None
                    for n in range(shares[j]):
                        at = _ts(s0 + 90 + i * 6 + n * 20)
                        # every 20th unit: the CMM's middle record failed and the last corrects it
                        fail = corrected and j == 2 and n == shares[j] - 2
                        corrects = previous if corrected and j == 2 and n == shares[j] - 1 else None
                        yield (
                            f"{rid}\tBR-{rid}\t{'fail' if fail else 'pass'}\t\t\t{at}\t{at}\t"
                            f"{corrects if corrects else NULL}\t\\N\t{inspector}\t\\N\t"
                            f"{oper}\t{oid}\t{plan}\t{unit}\t{step.work_center_id}\n"
                        )
                        for char, kind in chars:
                            measurements.append(_measurement(mid, rid, char, kind, rnd, not fail))
                            mid += 1
                        previous = rid
                        rid += 1
                if len(measurements) >= 2_000_000:
                    yield None  # flush the measurements gathered so far

    # Records and measurements are produced together; measurements are COPYed in batches
    # between record chunks on a second connection.
    import psycopg
    from django.conf import settings

    db = settings.DATABASES["default"]
    side = psycopg.connect(
        host=db["HOST"], port=db["PORT"], user=db["USER"], dbname=db["NAME"], autocommit=True
    )
    meas_load = Loader(side)
    meas_cols = ["id", "value", "ok", "passed", "characteristic_id", "record_id"]

    def records_only():
        nonlocal meas_count
        for line in record_lines():
            if line is None:
                meas_count += meas_load.copy("quality_measurement", meas_cols, measurements)
                measurements.clear()
                continue
            yield line

    load.copy(
        "quality_inspectionrecord",
        [
            "id",
            "external_id",
            "result",
            "reason",
            "gauge",
            "inspected_at",
            "recorded_at",
            "corrects_id",
            "defect_code_id",
            "inspector_id",
            "lot_id",
            "operation_id",
            "order_id",
            "plan_id",
            "unit_id",
            "work_center_id",
        ],  # fmt: skip
        records_only(),
    )
    if measurements:
        meas_load.copy("quality_measurement", meas_cols, measurements)
        measurements.clear()
    side.close()
    print(f"loaded in {time.perf_counter() - started:.0f} s; rebuilding indexes", flush=True)
    rebuilt = time.perf_counter()
    _restore(raw, constraints, indexes)
    with raw.cursor() as cur:
        for table in tables:
            cur.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))"
            )
        for table in tables:
            cur.execute(f"VACUUM ANALYZE {table}")
    print(
        f"indexes, constraints, VACUUM ANALYZE in {time.perf_counter() - rebuilt:.0f} s; "
        f"total {time.perf_counter() - started:.0f} s",
        flush=True,
    )
    AuditEntry.objects.create(
        action="bench.trace.generated",
        object_type="bench",
        object_id="trace",
        data={"units": units, "records_per_unit": per_unit, "seed": seed},
    )


def _measurement(mid, rid, char, kind, rnd, ok: bool) -> str:
    if kind == "variable":
        value = 50 + (rnd.random() - 0.5) * (0.16 if ok else 0.3)
        passed = ok and abs(value - 50) <= 0.1
        return f"{mid}\t{value:.4f}\t\\N\t{'t' if passed else 'f'}\t{char}\t{rid}\n"
    return f"{mid}\t\\N\tt\tt\t{char}\t{rid}\n"


# --- measuring -----------------------------------------------------------------------------


def pct(values: list[float], p: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, max(0, round(p / 100 * len(values)) - 1))]


def summary(name: str, ms: list[float]) -> str:
    return (
        f"{name:<44} n={len(ms):<4} p50 {pct(ms, 50):7.1f} ms   p95 {pct(ms, 95):7.1f} ms   "
        f"max {max(ms):7.1f} ms   mean {statistics.fmean(ms):6.1f} ms"
    )


def measure(samples: int, seed: int, explain: bool) -> None:
    from django.contrib.auth import get_user_model
    from django.db import connection, reset_queries
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from quality.models import TraceCode
    from quality.selectors.genealogy import genealogy, where_used
    from resources.models import MaterialLot, SerialUnit

    with connection.cursor() as cur:
        cur.execute("SELECT count(*) FROM quality_inspectionrecord")
        n_records = cur.fetchone()[0]
        cur.execute("SELECT count(*) FROM resources_serialunit")
        n_units = cur.fetchone()[0]
        cur.execute("SELECT count(*) FROM execution_productionevent")
        n_events = cur.fetchone()[0]
        cur.execute("SELECT count(*) FROM quality_measurement")
        n_meas = cur.fetchone()[0]
        cur.execute("SELECT pg_size_pretty(pg_database_size(current_database()))")
        size = cur.fetchone()[0]
        cur.execute("SHOW shared_buffers")
        buffers = cur.fetchone()[0]
    print(
        f"database: {n_units:,} units, {n_events:,} production events, {n_records:,} inspection "
        f"records, {n_meas:,} measurements; {size}; shared_buffers {buffers}"
    )
    blocks = SerialUnit.objects.filter(item__code="EB-500", serial__startswith="EB-500-")
    lo = blocks.order_by("id").values_list("id", flat=True).first()
    hi = blocks.order_by("-id").values_list("id", flat=True).first()
    rnd = random.Random(seed)
    ids = rnd.sample(range(lo, hi + 1), samples)
    codes = list(TraceCode.objects.filter(unit_id__in=ids).values_list("code", flat=True))
    rnd.shuffle(codes)
    print(f"{len(codes)} random units between unit ids {lo} and {hi}")

    from quality.services.trace import trace_lookup

    def lookup(code):
        target = trace_lookup(code=code)
        return genealogy(unit=target.unit, lot=target.lot)

    for label in ("selector, first pass", "selector, repeat"):
        times = []
        for code in codes:
            t = time.perf_counter()
            g = lookup(code)
            times.append((time.perf_counter() - t) * 1000)
            assert g.operations and g.identity == code
        print(summary(f"trace_lookup + genealogy ({label})", times))

    with CaptureQueriesContext(connection) as ctx:
        g = lookup(codes[0])
    n_ops = len(g.operations)
    n_insp = sum(len(op.inspections) for op in g.operations)
    print(
        f"queries per lookup: {len(ctx)} (unit {codes[0]}: {n_ops} operations, {n_insp} "
        f"current inspection records, 3 levels down)"
    )

    _route_trace_api()
    client = Client()
    client.force_login(get_user_model().objects.get(username="fengjie"))
    for name, url in (
        ("API GET /api/v1/quality/trace/{code}/", "/api/v1/quality/trace/{code}/"),
        ("page GET /quality/trace/?code=", "/quality/trace/?code={code}"),
    ):
        probe = client.get(url.format(code=codes[0]))
        if probe.status_code != 200:
            print(f"{name}: answered {probe.status_code} (not routed?); skipped")
            continue
        times = []
        for code in codes:
            t = time.perf_counter()
            response = client.get(url.format(code=code))
            times.append((time.perf_counter() - t) * 1000)
            assert response.status_code == 200, response.status_code
        print(summary(name, times))

    times = []
    for n in range(20):
        t = time.perf_counter()
        missing = client.get(f"/quality/trace/?code=NO-SUCH-{n}")
        times.append((time.perf_counter() - t) * 1000)
    print(summary(f"page, unknown code ({missing.status_code})", times))

    for item_code, n in (("PP-GF30", 10), ("STEEL-42", 10)):
        pool = list(
            MaterialLot.objects.filter(item__code=item_code, code__contains="B-").values_list(
                "pk", flat=True
            )
        )
        picks = rnd.sample(pool, min(n, len(pool)))
        times, ends = [], []
        for pk in picks:
            lot = MaterialLot.objects.select_related("item").get(pk=pk)
            t = time.perf_counter()
            used = where_used(lot=lot)
            times.append((time.perf_counter() - t) * 1000)
            ends.append(len(used.end_units))
        print(
            summary(f"where_used({item_code} lot) ~{statistics.median(ends):.0f} end units", times)
        )

    if not explain:
        return
    code = codes[0]
    print(f"\nEXPLAIN (ANALYZE, BUFFERS) of the queries of one lookup ({code}):")
    with CaptureQueriesContext(connection) as ctx:
        lookup(code)
    for n, q in enumerate(ctx.captured_queries, 1):
        sql = q["sql"]
        if not sql.lstrip().upper().startswith("SELECT"):
            continue
        with connection.cursor() as cur:
            cur.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql)
            plan = [row[0] for row in cur.fetchall()]
        print(f"\n-- query {n}: {sql[:160]}{'…' if len(sql) > 160 else ''}")
        for line in plan:
            print("   " + line)
    reset_queries()


def _route_trace_api() -> None:
    """Until quality's API URLs include the trace API, route it here (as the tests do)."""
    import types

    from django.conf import settings
    from django.urls import Resolver404, clear_url_caches, include, path, resolve

    try:
        resolve("/api/v1/quality/trace-codes/")
        return
    except Resolver404:
        pass
    module = types.ModuleType("trace_bench_urls")
    module.urlpatterns = [
        path("api/v1/quality/", include("quality.api.urls")),
        path("", include(settings.ROOT_URLCONF)),
    ]
    sys.modules["trace_bench_urls"] = module
    settings.ROOT_URLCONF = "trace_bench_urls"
    clear_url_caches()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--units", type=int, default=1_000_000)
    parser.add_argument("--records-per-unit", type=int, default=10)
    parser.add_argument("--samples", type=int, default=200)
    parser.add_argument("--seed", type=int, default=1, help="seed of the generated data")
    parser.add_argument(
        "--sample-seed", type=int, default=1, help="seed of the units and lots looked up"
    )
    parser.add_argument("--db", default="closedloop_bench_trace")
    parser.add_argument("--regenerate", action="store_true", help="drop and make the data again")
    parser.add_argument("--no-explain", action="store_true")
    args = parser.parse_args()

    _setup(args.db)
    from django.core.management import call_command

    from core.models import AuditEntry

    print(f"{platform.node()} · {platform.processor() or platform.machine()} · Python {platform.python_version()} · {os.cpu_count()} CPUs")  # fmt: skip
    call_command("migrate", verbosity=0)
    marker = AuditEntry.objects.filter(action="bench.trace.generated", object_type="bench")
    want = {"units": args.units, "records_per_unit": args.records_per_unit, "seed": args.seed}
    if args.regenerate or not marker.filter(data=want).exists():
        if marker.exists():
            sys.exit(
                f"{args.db} holds other generated data ({marker.first().data}); drop the "
                f"database (dropdb -h 127.0.0.1 -U postgres {args.db}) and run again."
            )
        call_command("load_demo", "--quiet-logins", verbosity=0, stdout=open(os.devnull, "w"))  # noqa: SIM115
        generate(args.units, args.records_per_unit, args.seed)
    measure(args.samples, args.sample_seed, explain=not args.no_explain)


if __name__ == "__main__":
    main()
