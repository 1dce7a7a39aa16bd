"""Standard cost roll-up: load the version's data, run the pure engine
(costing/engines/rollup.py), store each item's cost and its breakdown lines.

Idempotent: a re-run of the same version over the same data leaves the same costs and lines
(each item keeps its ItemCost row; its lines are replaced)."""

import hashlib
import json

from django.db import connection, transaction
from django.utils import timezone

from core.audit import audit_record
from core.rawsql import rows_copy, rows_update
from resources.models import Equipment, Item, Skill, WorkCenter

from ..engines import rollup as engine
from ..models import CostRollupRun, CostVersion, ItemCost, ItemCostLine
from ..selectors.rollup import rollup_input_load

COST_FIELDS = ["rollup", "lot_size", "material", "labour", "machine", "overhead", "total"]


def standard_cost_rollup_run(*, version: CostVersion, by=None) -> CostRollupRun:
    """Roll up every item's standard cost in `version` and store it; returns the run, whose
    `problems` list every missing price or rate (the items concerned are stored incomplete)."""
    with transaction.atomic():
        # One roll-up of a version at a time: the second waits and then recomputes.
        version = CostVersion.objects.select_for_update().get(pk=version.pk)
        run = CostRollupRun.objects.create(
            version=version, started_at=timezone.now(), created_by=by
        )
        results = engine.standard_cost_rollup(**rollup_input_load(version))
        _store(version, run, results)
        problems = [p for code in sorted(results) for p in results[code].problems]
        run.items_costed = len(results)
        run.items_incomplete = sum(1 for r in results.values() if not r.complete)
        run.problems = problems
        run.finished_at = timezone.now()
        run.save(update_fields=["items_costed", "items_incomplete", "problems", "finished_at"])
        audit_record(
            actor=by,
            action="cost_rollup.run",
            obj=run,
            data={
                "version": version.code,
                "items_costed": run.items_costed,
                "items_incomplete": run.items_incomplete,
            },
        )
    return run


def _digest(out, rows: list[tuple]) -> str:
    """What an item's stored cost says, as a SHA-256: its figures, problems and lines (the
    lines as stored, ids of the codes they name)."""
    figures = (
        out.lot_size,
        out.material,
        out.labour,
        out.machine,
        out.overhead,
        out.total,
        out.complete,
        tuple(out.problems),
        tuple(rows),
    )
    return hashlib.sha256(repr(figures).encode()).hexdigest()


def _store(version: CostVersion, run: CostRollupRun, results: dict) -> None:
    """Store the results: every item's cost row points at this run; only the items whose
    figures or lines changed since the last run are rewritten (their row updated, their lines
    replaced), new items inserted, items gone deleted. A re-run over unchanged data writes
    one UPDATE (bench/rollup_bench.py)."""
    item_ids = dict(Item.objects.values_list("code", "pk"))
    wc_ids = dict(WorkCenter.objects.values_list("code", "pk"))
    eq_ids = dict(Equipment.objects.values_list("code", "pk"))
    skill_ids = dict(Skill.objects.values_list("code", "pk"))
    existing = {
        item_id: (pk, digest)
        for item_id, pk, digest in ItemCost.objects.filter(version=version).values_list(
            "item_id", "pk", "digest"
        )
    }
    changed, new, lines = [], [], {}
    for code, out in results.items():
        item_id = item_ids[code]
        rows = [
            (
                n,
                line.element,
                item_ids.get(line.component) if line.component else None,
                line.bom_line_no,
                line.step_no,
                line.operation,
                wc_ids.get(line.work_center) if line.work_center else None,
                eq_ids.get(line.equipment) if line.equipment else None,
                skill_ids.get(line.skill) if line.skill else None,
                line.quantity.quantize(engine.PER_UNIT_STEP),
                line.rate,
                line.amount,
                line.basis[:300],
                line.basis_id,
                line.basis_params,
            )
            for n, line in enumerate(out.lines, start=1)
        ]
        digest = _digest(out, rows)
        pk, stored = existing.pop(item_id, (None, None))
        if stored == digest:
            continue
        cost = ItemCost(
            pk=pk,
            version=version,
            item_id=item_id,
            rollup=run,
            lot_size=out.lot_size,
            material=out.material,
            labour=out.labour,
            machine=out.machine,
            overhead=out.overhead,
            total=out.total,
            complete=out.complete,
            problems=out.problems,
            digest=digest,
        )
        (new if pk is None else changed).append(cost)
        lines[item_id] = rows
    if existing:  # items gone since the last run
        ItemCost.objects.filter(pk__in=[pk for pk, _ in existing.values()]).delete()
    ItemCost.objects.filter(version=version).update(rollup=run)
    for start in range(0, len(changed), 5000):
        ItemCostLine.objects.filter(
            item_cost_id__in=[c.pk for c in changed[start : start + 5000]]
        ).delete()
    rows_update(changed, [*COST_FIELDS, "complete", "problems", "digest"])
    _costs_insert(new)
    _lines_insert([(cost.pk, *row) for cost in (*changed, *new) for row in lines[cost.item_id]])


LINE_COLUMNS = (
    "item_cost_id",
    "line_no",
    "element",
    "component_id",
    "bom_line_no",
    "step_no",
    "operation",
    "work_center_id",
    "equipment_id",
    "skill_id",
    "quantity",
    "rate",
    "amount",
    "basis",
    "basis_id",
    "basis_params",
)
PARAMS_AT = LINE_COLUMNS.index("basis_params")


COPIED_FIELDS = (
    "id",
    "version",
    "item",
    *COST_FIELDS,
    "complete",
    "problems",
    "digest",
)


def _costs_insert(costs: list[ItemCost]) -> None:
    """Insert new item costs: on PostgreSQL their ids are taken from the table's sequence in
    one statement and the rows go in by COPY (10,000 instances through bulk_create were about
    a second of a roll-up), elsewhere by bulk_create."""
    if not costs:
        return
    if connection.vendor != "postgresql":
        ItemCost.objects.bulk_create(costs, batch_size=1000)
        return
    meta = ItemCost._meta
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
            [meta.db_table, meta.pk.column, len(costs)],
        )
        for cost, (pk,) in zip(costs, cursor.fetchall(), strict=True):
            cost.pk = pk
    attnames = [meta.get_field(name).attname for name in COPIED_FIELDS]
    rows_copy(
        ItemCost,
        COPIED_FIELDS,
        (
            [json.dumps(c.problems) if a == "problems" else getattr(c, a) for a in attnames]
            for c in costs
        ),
    )
    for cost in costs:
        cost._state.adding = False
        cost._state.db = connection.alias


def _lines_insert(rows: list[tuple]) -> None:
    """Insert the breakdown lines: on PostgreSQL by COPY straight from the tuples (building
    and preparing 50,000 model instances for bulk_create took most of a 10,000-item roll-up,
    bench/rollup_bench.py), elsewhere by bulk_create."""
    if connection.vendor == "postgresql":
        rows_copy(
            ItemCostLine,
            LINE_COLUMNS,
            ((*row[:PARAMS_AT], json.dumps(row[PARAMS_AT])) for row in rows),
        )
        return
    ItemCostLine.objects.bulk_create(
        [ItemCostLine(**dict(zip(LINE_COLUMNS, row, strict=True))) for row in rows],
        batch_size=2000,
    )
