"""Standard cost roll-up: load the version's data, run the pure engine
(costing/engines/rollup.py), store each item's cost and its breakdown lines.

Idempotent: a re-run of the same version over the same data leaves the same costs and lines
(each item keeps its ItemCost row; its lines are replaced)."""

from django.db import connection, transaction
from django.utils import timezone

from core.audit import audit_record
from core.rawsql import rows_update
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


def _store(version: CostVersion, run: CostRollupRun, results: dict) -> None:
    item_ids = dict(Item.objects.values_list("code", "pk"))
    wc_ids = dict(WorkCenter.objects.values_list("code", "pk"))
    eq_ids = dict(Equipment.objects.values_list("code", "pk"))
    skill_ids = dict(Skill.objects.values_list("code", "pk"))
    existing = {c.item_id: c for c in ItemCost.objects.filter(version=version)}
    costs, new = [], []
    for code, out in results.items():
        cost = existing.pop(item_ids[code], None)
        if cost is None:
            cost = ItemCost(version=version, item_id=item_ids[code])
            new.append(cost)
        cost.rollup = run
        cost.lot_size = out.lot_size
        cost.material, cost.labour = out.material, out.labour
        cost.machine, cost.overhead, cost.total = out.machine, out.overhead, out.total
        cost.complete, cost.problems = out.complete, out.problems
        costs.append((cost, out))
    if existing:  # items gone since the last run
        ItemCost.objects.filter(pk__in=[c.pk for c in existing.values()]).delete()
    ItemCostLine.objects.filter(item_cost__version=version).delete()
    # One UPDATE per row, sent together: bulk_update's CASE per row and field took half a
    # minute for 10,000 items (bench/rollup_bench.py).
    rows_update([c for c, _ in costs if c.pk is not None], [*COST_FIELDS, "complete", "problems"])
    ItemCost.objects.bulk_create(new, batch_size=1000)
    rows = [
        (
            cost.pk,
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
        )
        for cost, out in costs
        for n, line in enumerate(out.lines, start=1)
    ]
    _lines_insert(rows)


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
)


def _lines_insert(rows: list[tuple]) -> None:
    """Insert the breakdown lines: on PostgreSQL by COPY straight from the tuples (building
    and preparing 50,000 model instances for bulk_create took most of a 10,000-item roll-up,
    bench/rollup_bench.py), elsewhere by bulk_create."""
    with connection.cursor() as cursor:
        raw = getattr(cursor, "cursor", None)
        if connection.vendor == "postgresql" and hasattr(raw, "copy"):
            meta = ItemCostLine._meta
            qn = connection.ops.quote_name
            columns = ", ".join(qn(meta.get_field(name).column) for name in LINE_COLUMNS)
            # Django wraps execute(), not copy(): map psycopg's errors to django.db's here.
            with (
                connection.wrap_database_errors,
                raw.copy(f"COPY {qn(meta.db_table)} ({columns}) FROM STDIN") as copy,
            ):
                for row in rows:
                    copy.write_row(row)
            return
    ItemCostLine.objects.bulk_create(
        [ItemCostLine(**dict(zip(LINE_COLUMNS, row, strict=True))) for row in rows],
        batch_size=2000,
    )
