"""The catch-up posting as set-based SQL on PostgreSQL: what `order_cost_post_missing` posts
for machine spans, first labour postings, scrap and the overhead on them, in three
statements (INSERT … SELECT … ON CONFLICT DO NOTHING on the source key; the log is read
once for machine spans and scrap), for a log of millions of events
(bench/actual_cost_bench.py). The figures are those of costing/services/actual.py —
same keys, quantities, rates, amounts, periods and late flags (tests/costing/test_actual.py::test_the_set_based_rebuild_posts_what_the_handlers_post);
the words of `basis` are written by the database, and so are the message id and parameters
beside them (`basis_id`, `basis_params`: the same as the Python path's, numbers trimmed by
trim_scale as quantity_format trims them; the message ids are passed as parameters). Corrected bookings, material issues and
anything the statements leave out (a missing rate) are posted by the Python path after."""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from django.db import connection

from core.texts import Text
from execution.models import MaterialRequirement
from planning.models import OrderOperation, ProductionOrder

from ..engines.rollup import LABOUR_HOURS
from ..models import ItemCost, ItemCostLine, OrderCostEntry
from . import actual

E = OrderCostEntry.Element
FROZEN_SQL = (
    "po.status IN ('completed', 'closed') AND (po.completed_at IS NULL OR {at} > po.completed_at)"
)
COLUMNS_SQL = (
    "source_key, order_id, operation_id, step_no, element, item_id, lot_id, work_center_id, "
    "equipment_id, operator_id, quantity, rate, amount, version_id, posted_at, period, late, "
    "material_issue_id, labour_booking_id, production_event_id, basis, basis_id, basis_params"
)


def _order_filter(alias: str, order_ids) -> str:
    return "" if order_ids is None else f" AND {alias}.order_id = ANY(%(orders)s)"


# The log read once for both (a scan of millions of rows is most of the work): the state
# changes for the machine spans, the scrap reports for scrap.
EVENTS = f"""
WITH ev AS MATERIALIZED (
    SELECT e.id, e.kind, e.task_id, e.order_id, e.operation_id, e.operator_id, e.occurred_at,
           e.equipment_id, e.quantity_scrap
    FROM execution_productionevent e
    WHERE (e.kind IN ('start', 'resume', 'pause', 'complete') OR e.quantity_scrap > 0) {{filter}}
), spans AS (
    SELECT v.*, lag(v.kind) OVER w AS prev_kind, lag(v.occurred_at) OVER w AS prev_at,
           lag(v.equipment_id) OVER w AS prev_equipment
    FROM ev v
    WHERE v.kind IN ('start', 'resume', 'pause', 'complete')
    WINDOW w AS (PARTITION BY v.task_id ORDER BY v.occurred_at, v.id)
), costed AS (
    SELECT s.*, COALESCE(s.prev_equipment, s.equipment_id) AS machine,
           round(extract(epoch FROM s.occurred_at - s.prev_at) / 3600, 10) AS hours
    FROM spans s
    WHERE s.kind IN ('pause', 'complete') AND s.prev_kind IN ('start', 'resume')
), machine AS (
    INSERT INTO costing_ordercostentry ({COLUMNS_SQL})
    SELECT 'machine:' || c.id, c.order_id, c.operation_id, op.sequence, 'machine', NULL, NULL,
           op.work_center_id, c.machine, c.operator_id, c.hours, r.rate,
           round(c.hours * r.rate, 4), %(version)s, %(now)s, %(period)s,
           {FROZEN_SQL.format(at="c.occurred_at")}, NULL, NULL, c.id,
           trim_scale(c.hours) || ' h running × ' || trim_scale(r.rate) || '/h',
           %(machine_running)s,
           jsonb_build_object('hours', trim_scale(c.hours)::text, 'rate', trim_scale(r.rate)::text)
    FROM costed c
    JOIN planning_orderoperation op ON op.id = c.operation_id
    JOIN planning_productionorder po ON po.id = c.order_id
    JOIN (
        SELECT equipment_id,
               depreciation_per_hour + energy_per_hour + maintenance_per_hour AS rate
        FROM costing_machinerate WHERE version_id = %(version)s
    ) r ON r.equipment_id = c.machine
    ON CONFLICT (source_key) DO NOTHING
    RETURNING 1
), scrap_ev AS MATERIALIZED (
    -- The scrap reports with their step, and the cumulative standards, each read once and
    -- joined on both keys: left to itself the planner may join the steps to the standards on
    -- the step number alone (millions of rows) when the order tables' statistics are stale.
    SELECT e.id, e.order_id, e.operation_id, e.operator_id, e.occurred_at, e.equipment_id,
           e.quantity_scrap, op.sequence, op.work_center_id
    FROM ev e
    JOIN planning_orderoperation op ON op.id = e.operation_id
    WHERE e.quantity_scrap > 0
), cum AS MATERIALIZED (
    SELECT * FROM unnest(%(cum_orders)s::bigint[], %(cum_steps)s::integer[],
                         %(cum_values)s::numeric[]) AS c(order_id, step, value)
), scrap AS (
    INSERT INTO costing_ordercostentry ({COLUMNS_SQL})
    SELECT 'scrap:' || e.id, e.order_id, e.operation_id, e.sequence, 'scrap', po.item_id,
           NULL, e.work_center_id, e.equipment_id, e.operator_id, e.quantity_scrap,
           round(c.value, 4), round(e.quantity_scrap * c.value, 4), %(version)s, %(now)s,
           %(period)s, {FROZEN_SQL.format(at="e.occurred_at")}, NULL, NULL, e.id,
           trim_scale(e.quantity_scrap) || ' scrapped × ' || trim_scale(c.value)
           || ' standard cost up to operation ' || e.sequence,
           %(scrap_basis)s,
           jsonb_build_object('quantity', trim_scale(e.quantity_scrap)::text,
                              'value', trim_scale(c.value)::text, 'step', e.sequence)
    FROM scrap_ev e
    JOIN cum c ON c.order_id = e.order_id AND c.step = e.sequence
    JOIN planning_productionorder po ON po.id = e.order_id
    ON CONFLICT (source_key) DO NOTHING
    RETURNING 1
), no_rate AS (
    -- Spans on a machine the version has no rate for: left out above, reported.
    SELECT c.id, po.number, op.sequence, c.machine
    FROM costed c
    JOIN planning_orderoperation op ON op.id = c.operation_id
    JOIN planning_productionorder po ON po.id = c.order_id
    WHERE c.machine IS NOT NULL AND NOT EXISTS (
        SELECT 1 FROM costing_machinerate r
        WHERE r.version_id = %(version)s AND r.equipment_id = c.machine
    )
), no_standard AS (
    -- Scrap of a product with no complete standard cost: left out above, reported.
    SELECT e.id, po.number, e.sequence
    FROM scrap_ev e
    JOIN planning_productionorder po ON po.id = e.order_id
    WHERE NOT EXISTS (
        SELECT 1 FROM cum c WHERE c.order_id = e.order_id AND c.step = e.sequence
    )
)
SELECT (SELECT count(*) FROM machine) + (SELECT count(*) FROM scrap),
       (SELECT COALESCE(json_agg(json_build_array(id, number, sequence, machine) ORDER BY id),
                        '[]') FROM no_rate),
       (SELECT COALESCE(json_agg(json_build_array(id, number, sequence) ORDER BY id), '[]')
        FROM no_standard)
"""

LABOUR = f"""
INSERT INTO costing_ordercostentry ({COLUMNS_SQL})
SELECT 'labour:' || b.id || ':0', t.order_id, t.operation_id, op.sequence, 'labour', NULL, NULL,
       op.work_center_id, t.equipment_id, b.operator_id, h.hours, h.rate,
       round(h.hours * h.rate, 4), %(version)s, %(now)s, %(period)s,
       {FROZEN_SQL.format(at="b.ended_at")}, NULL, b.id, NULL,
       trim_scale(h.hours) || ' h × ' || trim_scale(h.rate) || '/h ('
       || CASE WHEN r1.rate_per_hour IS NOT NULL THEN 'skill level ' || os.level || ' of the operator'
               WHEN r2.rate_per_hour IS NOT NULL
               THEN 'skill level ' || op.min_skill_level || ' of the operation'
               ELSE 'the work center''s rate' END || ')',
       %(labour_hours)s,
       jsonb_build_object(
           'hours', trim_scale(h.hours)::text, 'rate', trim_scale(h.rate)::text,
           'source', CASE
               WHEN r1.rate_per_hour IS NOT NULL THEN jsonb_build_object(
                   'text', %(operator_level)s, 'params', jsonb_build_object('level', os.level))
               WHEN r2.rate_per_hour IS NOT NULL THEN jsonb_build_object(
                   'text', %(operation_level)s,
                   'params', jsonb_build_object('level', op.min_skill_level))
               ELSE jsonb_build_object('text', %(work_center_rate)s, 'params', '{{}}'::jsonb)
           END)
FROM execution_labourbooking b
JOIN execution_task t ON t.id = b.task_id
JOIN planning_orderoperation op ON op.id = t.operation_id
JOIN planning_productionorder po ON po.id = t.order_id
LEFT JOIN resources_operatorskill os
       ON os.operator_id = b.operator_id AND os.skill_id = op.required_skill_id
LEFT JOIN costing_labourrate r1 ON r1.version_id = %(version)s
       AND r1.skill_id = op.required_skill_id AND r1.skill_level = os.level
LEFT JOIN costing_labourrate r2 ON r2.version_id = %(version)s
       AND r2.skill_id = op.required_skill_id AND r2.skill_level = op.min_skill_level
LEFT JOIN costing_labourrate r3 ON r3.version_id = %(version)s
       AND r3.work_center_id = op.work_center_id
CROSS JOIN LATERAL (
    SELECT round(extract(epoch FROM b.ended_at - b.started_at) / 3600, 10) AS hours,
           COALESCE(r1.rate_per_hour, r2.rate_per_hour, r3.rate_per_hour) AS rate
) h
WHERE h.rate IS NOT NULL {{filter}}
  AND NOT EXISTS (
      SELECT 1 FROM costing_ordercostentry x
      WHERE x.labour_booking_id = b.id AND x.element = 'labour'
  )
ON CONFLICT (source_key) DO NOTHING
"""

OVERHEAD = f"""
INSERT INTO costing_ordercostentry ({COLUMNS_SQL})
SELECT 'overhead:' || x.source_key, x.order_id, x.operation_id, x.step_no, 'overhead', NULL,
       NULL, x.work_center_id, x.equipment_id, x.operator_id,
       CASE WHEN o.basis = 'percent' THEN x.amount ELSE x.quantity END, o.rate,
       CASE WHEN o.basis = 'percent' THEN round(x.amount * o.rate / 100, 4)
            ELSE round(x.quantity * o.rate, 4) END,
       %(version)s, %(now)s, %(period)s, x.late, NULL, x.labour_booking_id,
       x.production_event_id,
       CASE WHEN o.basis = 'percent'
            THEN trim_scale(o.rate) || ' %% of ' || x.element || ' ' || trim_scale(x.amount)
            ELSE trim_scale(x.quantity) || ' h × ' || trim_scale(o.rate) || '/h' END,
       CASE WHEN o.basis = 'percent' THEN %(overhead_share)s ELSE %(overhead_hours)s END,
       CASE WHEN o.basis = 'percent'
            THEN jsonb_build_object(
                'rate', trim_scale(o.rate)::text,
                'element', jsonb_build_object(
                    'choice', %(element_choice)s, 'value', x.element, 'lower', true),
                'amount', trim_scale(x.amount)::text)
            ELSE jsonb_build_object(
                'hours', trim_scale(x.quantity)::text, 'rate', trim_scale(o.rate)::text) END
FROM costing_ordercostentry x
JOIN planning_orderoperation op ON op.id = x.operation_id
JOIN costing_overheadrate o ON o.version_id = %(version)s AND o.work_center_id = op.work_center_id
WHERE x.posted_at = %(now)s AND x.element IN ('labour', 'machine')
  AND (o.basis = 'percent' OR x.element = 'labour')
ON CONFLICT (source_key) DO NOTHING
"""


def cumulative_standards(version_id: int, order_ids=None) -> dict[tuple[int, int], Decimal]:
    """(order id, step) -> the product's standard up to and including that operation (see
    Rates.cumulative_standard), for every order at once: four queries."""
    orders = ProductionOrder.objects.all()
    if order_ids is not None:
        orders = orders.filter(pk__in=order_ids)
    product_of = dict(orders.values_list("pk", "item_id"))
    costs = dict(
        ItemCost.objects.filter(
            version_id=version_id, item_id__in=set(product_of.values()), complete=True
        ).values_list("item_id", "pk")
    )
    lines: dict[int, list[tuple]] = defaultdict(list)
    for item_id, element, component, step_no, amount in ItemCostLine.objects.filter(
        item_cost_id__in=costs.values()
    ).values_list("item_cost__item_id", "element", "component_id", "step_no", "amount"):
        lines[item_id].append((element, component, step_no, amount))
    steps: dict[int, list[int]] = defaultdict(list)
    for order_id, seq in OrderOperation.objects.filter(order_id__in=product_of).values_list(
        "order_id", "sequence"
    ):
        steps[order_id].append(seq)
    placed: dict[int, dict[int, int]] = defaultdict(dict)
    for order_id, item_id, seq in (
        MaterialRequirement.objects.filter(order_id__in=product_of)
        .order_by("operation__sequence")
        .values_list("order_id", "item_id", "operation__sequence")
    ):
        placed[order_id].setdefault(item_id, seq)
    out: dict[tuple[int, int], Decimal] = {}
    for order_id, product in product_of.items():
        if product not in costs:
            continue
        seqs = sorted(steps.get(order_id, ()))
        first = seqs[0] if seqs else 0
        per_step: dict[int, Decimal] = defaultdict(Decimal)
        for element, component, step_no, amount in lines[product]:
            if element == E.MATERIAL:
                per_step[placed[order_id].get(component, first)] += amount
            else:
                per_step[step_no or first] += amount
        running = Decimal(0)
        for step in sorted(set(seqs) | set(per_step)):
            running += per_step.get(step, Decimal(0))
            out[(order_id, step)] = running
    return out


# The message ids of the bases (core/texts.py), as the statements' parameters: a msgid's
# placeholders would read as the driver's.
BASIS_IDS = {
    "machine_running": actual.MACHINE_RUNNING,
    "scrap_basis": actual.SCRAP_BASIS,
    "labour_hours": LABOUR_HOURS,
    "operator_level": actual.OPERATOR_LEVEL,
    "operation_level": actual.OPERATION_LEVEL,
    "work_center_rate": actual.WORK_CENTER_RATE,
    "overhead_share": actual.OVERHEAD_SHARE,
    "overhead_hours": actual.OVERHEAD_HOURS,
    "element_choice": OrderCostEntry._meta.label + ".element",
}


@dataclass
class SetBasedResult:
    """What the statements wrote, and what they left out in words (as the handlers say it)."""

    written: int = 0
    problems: list[Text] = field(default_factory=list)


def _skipped(no_rate, no_standard, version_code: str) -> list[Text]:
    """The spans and scrap the statements left out, in the sentences of the Python path
    (costing/services/actual.py `_events_write`)."""
    if isinstance(no_rate, str):  # json, not jsonb: some drivers hand back the text
        no_rate, no_standard = json.loads(no_rate), json.loads(no_standard)
    problems = [
        Text(
            actual.SPAN_UNRATED,
            event=pk,
            order=number,
            step=seq,
            equipment=machine,
            version=version_code,
        )
        for pk, number, seq, machine in no_rate
    ]
    problems += [
        Text(actual.SCRAP_UNVALUED, event=pk, order=number, step=seq, version=version_code)
        for pk, number, seq in no_standard
    ]
    return problems


def costs_post_set_based(
    *, version_id: int, now, period, order_ids=None, version_code: str = ""
) -> SetBasedResult:
    """Post machine spans, first labour postings, scrap and their overhead for every order
    (or `order_ids`); returns how many entries were written and, in words, every machine
    span (no rate for its machine) and scrap report (no complete standard cost) left out
    — never a silent zero, as on the handlers' path."""
    cum = cumulative_standards(version_id, order_ids)
    params = {
        "version": version_id,
        "now": now,
        "period": period,
        "orders": list(order_ids) if order_ids is not None else None,
        "cum_orders": [k[0] for k in cum],
        "cum_steps": [k[1] for k in cum],
        "cum_values": list(cum.values()),
    }
    params.update(BASIS_IDS)
    result = SetBasedResult()
    with connection.cursor() as cursor:
        cursor.execute(EVENTS.replace("{filter}", _order_filter("e", order_ids)), params)
        written, no_rate, no_standard = cursor.fetchone()
        result.written += written
        result.problems += _skipped(no_rate, no_standard, version_code or str(version_id))
        for sql, alias in ((LABOUR, "t"), (OVERHEAD, None)):
            text = sql.replace("{filter}", _order_filter(alias, order_ids) if alias else "")
            cursor.execute(text, params)
            result.written += cursor.rowcount
    return result
