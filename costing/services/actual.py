"""Actual cost of production orders, posted from the floor's own records as they arrive
(docs/costing.md, "Actual cost").

Execution is upstream: its services record material issues, production events and labour
bookings and emit domain events; costing's handlers (registered in costing/apps.py, run by
the outbox dispatcher, never inside the floor's request) call the functions below, and so
does `manage.py cost_actual_post`, which posts whatever is missing. Each posting is keyed by
the record it comes from (`OrderCostEntry.source_key`), so a replayed event, a handler run
twice and a rebuild over posted records all change nothing.

- material: quantity issued × the lot's price (LotPrice) where known, else the current
  version's purchase price (bought items) or standard unit cost (made items);
- labour: a booking's hours × the rate of the operator's level in the operation's required
  skill, else the skill's rate at the operation's minimum level, else the work center's;
  a corrected booking posts the difference in hours at the rate first posted;
- machine: the running time from a task's start or resume to its pause or completion, on the
  machine the span ran on, × that machine's rate;
- overhead: the work center's overhead of the version, per booked labour hour, or a
  percentage of each labour and machine posting;
- scrap: units scrapped at an operation × the product's standard cost accumulated up to and
  including that operation. A memo element: what was spent on those units is already in
  the material, labour and machine postings, so scrap is not added to the order's total.

The period is the month a posting arrives in (plant time zone): a posting never changes a
month already past. An order that is completed is frozen: what arrives for it afterwards
is marked `late`, counted in the period it arrives in, not in the order's cost.
"""

from __future__ import annotations

import json
from bisect import bisect_left
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal

from django.db import IntegrityError, connection, transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone
from django.utils.translation import gettext_noop

from core.events import emit, handler
from core.models import OutboxEvent
from core.rawsql import rows_copy
from core.texts import Text, choice
from execution.models import LabourBooking, MaterialIssue, ProductionEvent
from planning.models import OrderOperation, ProductionOrder
from resources.models import OperatorSkill

from ..engines.rollup import CENT4, HUNDRED, LABOUR_HOURS, money
from ..models import (
    CostVersion,
    ItemCost,
    ItemCostLine,
    LabourRate,
    LotPrice,
    MachineRate,
    OrderCostEntry,
    OverheadRate,
    PurchasePrice,
)
from ..selectors.actual import period_of

E = OrderCostEntry.Element
HOURS_STEP = Decimal("1e-10")
SECONDS_PER_HOUR = Decimal(3600)
POSTED_TOPIC = "costing.order_cost.posted"
FROZEN = (ProductionOrder.Status.COMPLETED, ProductionOrder.Status.CLOSED)
OPENING = (ProductionEvent.Kind.START, ProductionEvent.Kind.RESUME)
CLOSING = (ProductionEvent.Kind.PAUSE, ProductionEvent.Kind.COMPLETE)

# The basis of an entry in words: stored as message id and parameters, shown in the reader's
# language (core/texts.py), the English beside them. The set-based rebuild (actual_sql.py)
# writes the same ids and parameters. Labour's sentence is the roll-up's (LABOUR_HOURS).
MATERIAL_BASIS = gettext_noop("%(quantity)s × %(price)s (%(source)s)")
LOT_PRICE = gettext_noop("lot price")
STANDARD_PRICE_IN = gettext_noop("standard price in %(version)s")
OPERATOR_LEVEL = gettext_noop("skill level %(level)s of the operator")
OPERATION_LEVEL = gettext_noop("skill level %(level)s of the operation")
WORK_CENTER_RATE = gettext_noop("the work center's rate")
CORRECTION = gettext_noop("correction: the difference to the hours posted")
MACHINE_RUNNING = gettext_noop("%(hours)s h running × %(rate)s/h")
SCRAP_BASIS = gettext_noop(
    "%(quantity)s scrapped × %(value)s standard cost up to operation %(step)s"
)
DISPOSED = gettext_noop(
    "%(quantity)s scrapped by the disposition of inspection record %(record)s × %(value)s "
    "standard cost up to operation %(step)s"
)
RETURNED = gettext_noop(
    "%(quantity)s back to good: correction of inspection record %(record)s × %(value)s "
    "standard cost up to operation %(step)s"
)
OVERHEAD_SHARE = gettext_noop("%(rate)s %% of %(element)s %(amount)s")
OVERHEAD_HOURS = gettext_noop("%(hours)s h × %(rate)s/h")

# What could not be costed, as the API answers it (in the request's language) and the
# command prints it; the set-based rebuild (actual_sql.py) says it in the same sentences.
NO_VERSION = gettext_noop("No cost version is current: nothing was posted.")
ISSUE_UNPRICED = gettext_noop(
    "Issue %(issue)s: %(item)s has no lot price and no standard price in cost version "
    "%(version)s; not posted."
)
BOOKING_UNRATED = gettext_noop(
    "Labour booking %(booking)s on %(order)s/%(step)s: no labour rate in cost version "
    "%(version)s; not posted."
)
SPAN_UNRATED = gettext_noop(
    "Event %(event)s on %(order)s/%(step)s: no machine rate for equipment %(equipment)s in "
    "cost version %(version)s; not posted."
)
SCRAP_UNVALUED = gettext_noop(
    "Event %(event)s on %(order)s/%(step)s: the product has no complete standard cost in "
    "cost version %(version)s; scrap not valued."
)
DISPOSITION_UNVALUED = gettext_noop(
    "Disposition of inspection record %(record)s on %(order)s/%(step)s: the product has no "
    "complete standard cost in cost version %(version)s; scrap not valued."
)


def _english(value):
    """A stored parameter in English, without gettext (a rebuild writes a basis for each of
    hundreds of thousands of entries: core.texts' rendering costs 40 µs, this 2): a nested
    sentence is its msgid, and the one choice a basis names, an element, reads as its code
    (labour, machine). tests/costing/test_actual.py checks it against text_render."""
    if isinstance(value, dict):
        if "text" in value:
            return value["text"] % {k: _english(v) for k, v in value["params"].items()}
        return value.get("value", "")
    return value


def basis_text(msgid: str, **params) -> dict:
    """An entry's basis: its English words, message id and parameters (its columns)."""
    text = Text(msgid, **params)
    english = _english({"text": text.msgid, "params": text.params})
    return {"basis": english[:300], "basis_id": text.msgid, "basis_params": text.params}


def hours_between(start: datetime, end: datetime) -> Decimal:
    seconds = Decimal(str((end - start).total_seconds()))
    # Half up, as PostgreSQL's round() (the set-based rebuild, actual_sql.py).
    return (seconds / SECONDS_PER_HOUR).quantize(HOURS_STEP, rounding=ROUND_HALF_UP)


@dataclass
class PostingResult:
    """What a posting run did: entries written, and what could not be costed (never a zero;
    sentences rendered in the active language by str())."""

    posted: int = 0
    orders: set[int] = field(default_factory=set)
    problems: list[Text] = field(default_factory=list)

    def add(self, other: PostingResult) -> None:
        self.posted += other.posted
        self.orders |= other.orders
        self.problems.extend(other.problems)


class Rates:
    """The current version's rates and prices by ids, loaded once per posting run; the
    standard costs of items are read as they are needed."""

    def __init__(self, version: CostVersion):
        self.version = version
        self.labour_by_skill: dict[tuple[int, int], Decimal] = {}
        self.labour_by_work_center: dict[int, Decimal] = {}
        for wc, skill, level, rate in LabourRate.objects.filter(version=version).values_list(
            "work_center_id", "skill_id", "skill_level", "rate_per_hour"
        ):
            if wc is not None:
                self.labour_by_work_center[wc] = rate
            else:
                self.labour_by_skill[(skill, level)] = rate
        self.machine = {
            eq: dep + energy + maint
            for eq, dep, energy, maint in MachineRate.objects.filter(version=version).values_list(
                "equipment_id", "depreciation_per_hour", "energy_per_hour", "maintenance_per_hour"
            )
        }
        self.overhead = {
            wc: (basis, rate)
            for wc, basis, rate in OverheadRate.objects.filter(version=version).values_list(
                "work_center_id", "basis", "rate"
            )
        }
        self.purchase = dict(
            PurchasePrice.objects.filter(version=version).values_list("item_id", "price")
        )
        self._item_cost: dict[int, Decimal | None] = {}
        self._cumulative: dict[int, dict[int, Decimal] | None] = {}

    def item_costs_load(self, item_ids: Iterable[int]) -> None:
        wanted = {i for i in item_ids if i not in self._item_cost}
        if not wanted:
            return
        found = dict(
            ItemCost.objects.filter(version=self.version, item_id__in=wanted, complete=True)
            .values_list("item_id", "total")
            .order_by()
        )
        for item_id in wanted:
            self._item_cost[item_id] = found.get(item_id)

    def standard_price(self, item_id: int) -> Decimal | None:
        if item_id in self.purchase:
            return self.purchase[item_id]
        self.item_costs_load([item_id])
        return self._item_cost.get(item_id)

    def labour_rate(self, op: dict, operator_level: int | None) -> tuple[Decimal | None, Text]:
        """The rate of a labour booking and where it comes from (a basis's words)."""
        skill = op["required_skill_id"]
        if skill is not None:
            if operator_level is not None:
                rate = self.labour_by_skill.get((skill, operator_level))
                if rate is not None:
                    return rate, Text(OPERATOR_LEVEL, level=operator_level)
            rate = self.labour_by_skill.get((skill, op["min_skill_level"]))
            if rate is not None:
                return rate, Text(OPERATION_LEVEL, level=op["min_skill_level"])
        rate = self.labour_by_work_center.get(op["work_center_id"])
        return rate, Text(WORK_CENTER_RATE)

    def cumulative_standard(self, order: dict) -> dict[int, Decimal] | None:
        """Step number -> the product's standard unit cost of every operation up to and
        including it (material of the components issued at or before it, labour, machine
        and overhead of those operations); None when the product has no complete standard.
        A component is placed at the first operation of the order that requires it, else
        at the order's first operation."""
        key = order["id"]
        if key in self._cumulative:
            return self._cumulative[key]
        cost = (
            ItemCost.objects.filter(version=self.version, item_id=order["item_id"], complete=True)
            .values_list("pk", flat=True)
            .first()
        )
        if cost is None:
            self._cumulative[key] = None
            return None
        steps = sorted(
            OrderOperation.objects.filter(order_id=key).values_list("sequence", flat=True)
        )
        first = steps[0] if steps else 0
        component_step = _component_steps(key)
        per_step: dict[int, Decimal] = defaultdict(Decimal)
        for element, component, step_no, amount in ItemCostLine.objects.filter(
            item_cost_id=cost
        ).values_list("element", "component_id", "step_no", "amount"):
            if element == E.MATERIAL:
                per_step[component_step.get(component, first)] += amount
            else:
                per_step[step_no or first] += amount
        running, out = Decimal(0), {}
        for step in sorted(set(steps) | set(per_step)):
            running += per_step.get(step, Decimal(0))
            out[step] = running
        self._cumulative[key] = out
        return out


def _component_steps(order_id: int) -> dict[int, int]:
    """Component item id -> the first operation (sequence) of the order that requires it."""
    from execution.models import MaterialRequirement

    out: dict[int, int] = {}
    for item_id, seq in (
        MaterialRequirement.objects.filter(order_id=order_id)
        .order_by("operation__sequence")
        .values_list("item_id", "operation__sequence")
    ):
        out.setdefault(item_id, seq)
    return out


def current_rates() -> Rates | None:
    version = CostVersion.objects.filter(is_current=True).first()
    return Rates(version) if version is not None else None


def _orders(order_ids: Iterable[int]) -> dict[int, dict]:
    return {
        o["id"]: o
        for o in ProductionOrder.objects.filter(pk__in=set(order_ids)).values(
            "id", "number", "item_id", "status", "completed_at"
        )
    }


def _late(order: dict, at: datetime) -> bool:
    """Arrived for a frozen order: the order is completed (or closed) and the record is
    from after its completion."""
    if order["status"] not in FROZEN:
        return False
    done = order["completed_at"]
    return done is None or at > done


def _operations(op_ids: Iterable[int]) -> dict[int, dict]:
    return {
        o["id"]: o
        for o in OrderOperation.objects.filter(pk__in=set(op_ids)).values(
            "id", "sequence", "work_center_id", "required_skill_id", "min_skill_level"
        )
    }


# The ledger's columns a posting fills (COPY writes them in this order).
COLUMNS = (
    "source_key",
    "order_id",
    "operation_id",
    "step_no",
    "element",
    "item_id",
    "lot_id",
    "work_center_id",
    "equipment_id",
    "operator_id",
    "quantity",
    "rate",
    "amount",
    "version_id",
    "posted_at",
    "period",
    "late",
    "material_issue_id",
    "labour_booking_id",
    "production_event_id",
    "basis",
    "basis_id",
    "basis_params",
)
PARAMS_AT = COLUMNS.index("basis_params")


class _Writer:
    """Collects a run's entries (and the overhead charged on them) as plain dicts and
    inserts those whose source key is new; the unique key settles a race between two runs."""

    def __init__(self, rates: Rates):
        self.rates = rates
        self.now = timezone.now()
        self.period = period_of(self.now)
        self.entries: list[dict] = []
        self.result = PostingResult()

    def add(self, *, overhead_on: dict | None = None, **fields) -> None:
        entry = dict.fromkeys(COLUMNS)
        entry.update(
            version_id=self.rates.version.pk, posted_at=self.now, period=self.period, **fields
        )
        self.entries.append(entry)
        if overhead_on is not None:
            self._overhead(entry, overhead_on)

    def _overhead(self, entry: dict, op: dict) -> None:
        charged = self.rates.overhead.get(op["work_center_id"])
        if charged is None:
            return
        basis, rate = charged
        common = {
            name: entry[name]
            for name in (
                "order_id",
                "operation_id",
                "step_no",
                "work_center_id",
                "equipment_id",
                "operator_id",
                "late",
                "labour_booking_id",
                "production_event_id",
            )
        }
        common.update(source_key=f"overhead:{entry['source_key']}", element=E.OVERHEAD, rate=rate)
        if basis == OverheadRate.Basis.PERCENT:
            self.add(
                quantity=entry["amount"],
                amount=money(entry["amount"] * rate / HUNDRED),
                **basis_text(
                    OVERHEAD_SHARE,
                    rate=rate,
                    element=choice(OrderCostEntry, "element", str(entry["element"]), lower=True),
                    amount=entry["amount"],
                ),
                **common,
            )
        elif entry["element"] == E.LABOUR:  # an amount per hour: charged on labour hours only
            self.add(
                quantity=entry["quantity"],
                amount=money(entry["quantity"] * rate),
                **basis_text(OVERHEAD_HOURS, hours=entry["quantity"], rate=rate),
                **common,
            )

    def flush(self) -> PostingResult:
        if not self.entries:
            return self.result
        keys = [e["source_key"] for e in self.entries]
        existing = set()
        for start in range(0, len(keys), 5000):
            existing.update(
                OrderCostEntry.objects.filter(source_key__in=keys[start : start + 5000])
                .values_list("source_key", flat=True)
                .order_by()
            )
        new = [e for e in self.entries if e["source_key"] not in existing]
        _entries_insert(new)
        self.result.posted += len(new)
        self.result.orders |= {e["order_id"] for e in new}
        self.entries = []
        return self.result


def _entries_insert(entries: list[dict]) -> None:
    """On PostgreSQL by COPY (bench/actual_cost_bench.py: building model instances for
    bulk_create cost more than the write); should another run have posted one of them in
    the meantime, the unique key refuses the COPY and they go in one by one past the
    conflict. Elsewhere by bulk_create."""
    if not entries:
        return
    if connection.vendor == "postgresql":
        try:
            with transaction.atomic():
                rows_copy(
                    OrderCostEntry,
                    COLUMNS,
                    (
                        [*(e[c] for c in COLUMNS[:PARAMS_AT]), json.dumps(e["basis_params"])]
                        for e in entries
                    ),
                )
            return
        except IntegrityError:
            pass
    OrderCostEntry.objects.bulk_create(
        [OrderCostEntry(**e) for e in entries], batch_size=2000, ignore_conflicts=True
    )


def _no_version() -> PostingResult:
    return PostingResult(problems=[Text(NO_VERSION)])


# --- material -------------------------------------------------------------------------------


def material_issues_post(*, issue_ids: Iterable[int], rates: Rates | None = None) -> PostingResult:
    """Post the material of these issues (those already posted are skipped)."""
    rates = rates or current_rates()
    if rates is None:
        return _no_version()
    writer = _Writer(rates)
    issues = list(
        MaterialIssue.objects.filter(pk__in=set(issue_ids)).values(
            "id",
            "quantity",
            "lot_id",
            "issued_at",
            "issued_by_id",
            "requirement__order_id",
            "requirement__operation_id",
            "requirement__operation__sequence",
            "requirement__operation__work_center_id",
            "requirement__item_id",
            "requirement__item__code",
        )
    )
    orders = _orders(i["requirement__order_id"] for i in issues)
    lot_prices = dict(
        LotPrice.objects.filter(lot_id__in={i["lot_id"] for i in issues if i["lot_id"]})
        .values_list("lot_id", "price")
        .order_by()
    )
    for issue in issues:
        item_id = issue["requirement__item_id"]
        price, where = lot_prices.get(issue["lot_id"]), Text(LOT_PRICE)
        if price is None:
            price = rates.standard_price(item_id)
            where = Text(STANDARD_PRICE_IN, version=str(rates.version))
        if price is None:
            writer.result.problems.append(
                Text(
                    ISSUE_UNPRICED,
                    issue=issue["id"],
                    item=issue["requirement__item__code"],
                    version=str(rates.version),
                )
            )
            continue
        qty = issue["quantity"]
        order = orders[issue["requirement__order_id"]]
        writer.add(
            source_key=f"issue:{issue['id']}",
            order_id=order["id"],
            operation_id=issue["requirement__operation_id"],
            step_no=issue["requirement__operation__sequence"],
            element=E.MATERIAL,
            item_id=item_id,
            lot_id=issue["lot_id"],
            work_center_id=issue["requirement__operation__work_center_id"],
            quantity=qty,
            rate=price,
            amount=money(qty * price),
            late=_late(order, issue["issued_at"]),
            material_issue_id=issue["id"],
            **basis_text(MATERIAL_BASIS, quantity=qty, price=price, source=where),
        )
    return _finish(writer)


# --- labour ---------------------------------------------------------------------------------


def labour_bookings_post(
    *, booking_ids: Iterable[int], rates: Rates | None = None
) -> PostingResult:
    """Post the labour of these bookings: a booking not posted yet in full; a booking
    corrected since its posting, the difference in hours at the rate first posted."""
    rates = rates or current_rates()
    if rates is None:
        return _no_version()
    writer = _Writer(rates)
    ids = sorted(set(booking_ids))
    bookings = list(
        # Locked (read, not written): a correction and a posting of one booking take turns.
        LabourBooking.objects.select_for_update(of=("self",))
        .filter(pk__in=ids)
        .order_by("pk")
        .values(
            "id",
            "operator_id",
            "started_at",
            "ended_at",
            "corrected_at",
            "task__order_id",
            "task__operation_id",
            "task__equipment_id",
        )
    )
    posted: dict[int, tuple[Decimal, Decimal]] = {}
    for booking_id, qty, rate in (
        OrderCostEntry.objects.filter(labour_booking_id__in=ids, element=E.LABOUR)
        .order_by("pk")
        .values_list("labour_booking_id", "quantity", "rate")
    ):
        hours, first_rate = posted.get(booking_id, (Decimal(0), rate))
        posted[booking_id] = (hours + qty, first_rate)
    orders = _orders(b["task__order_id"] for b in bookings)
    ops = _operations(b["task__operation_id"] for b in bookings)
    levels = {
        (operator, skill): level
        for operator, skill, level in OperatorSkill.objects.filter(
            operator_id__in={b["operator_id"] for b in bookings}
        ).values_list("operator_id", "skill_id", "level")
    }
    for b in bookings:
        op = ops[b["task__operation_id"]]
        order = orders[b["task__order_id"]]
        hours = hours_between(b["started_at"], b["ended_at"])
        done = posted.get(b["id"])
        if done is None:
            level = levels.get((b["operator_id"], op["required_skill_id"]))
            rate, rate_from = rates.labour_rate(op, level)
            if rate is None:
                writer.result.problems.append(
                    Text(
                        BOOKING_UNRATED,
                        booking=b["id"],
                        order=order["number"],
                        step=op["sequence"],
                        version=str(rates.version),
                    )
                )
                continue
            key, at, words = f"labour:{b['id']}:0", b["ended_at"], rate_from
        else:
            posted_hours, rate = done
            hours = hours - posted_hours
            if hours == 0:
                continue
            stamp = (b["corrected_at"] or b["ended_at"]).strftime("%Y%m%dT%H%M%S.%f")
            key, at = f"labour:{b['id']}:{stamp}", b["corrected_at"] or b["ended_at"]
            words = Text(CORRECTION)
        writer.add(
            overhead_on=op,
            source_key=key,
            order_id=order["id"],
            operation_id=op["id"],
            step_no=op["sequence"],
            element=E.LABOUR,
            work_center_id=op["work_center_id"],
            equipment_id=b["task__equipment_id"],
            operator_id=b["operator_id"],
            quantity=hours,
            rate=rate,
            amount=money(hours * rate),
            late=_late(order, at),
            labour_booking_id=b["id"],
            **basis_text(LABOUR_HOURS, hours=hours, rate=rate, source=words),
        )
    return _finish(writer)


# --- machine time and scrap from production events ------------------------------------------


def events_post(*, event_ids: Iterable[int], rates: Rates | None = None) -> PostingResult:
    """Post what these production events cost beyond labour: the machine time of each pause
    or completion (since the task's last start or resume) and the scrap each reports."""
    rates = rates or current_rates()
    if rates is None:
        return _no_version()
    writer = _Writer(rates)
    wanted = set(event_ids)
    targets = list(ProductionEvent.objects.filter(pk__in=wanted).values(*EVENT_FIELDS))
    _events_write(writer, targets)
    return _finish(writer)


EVENT_FIELDS = (
    "id",
    "kind",
    "task_id",
    "order_id",
    "operation_id",
    "equipment_id",
    "operator_id",
    "quantity_scrap",
    "occurred_at",
)


def _openings(task_ids: Iterable[int]) -> dict[int, list[tuple]]:
    """task id -> its starts and resumes as (occurred_at, id, equipment id), in order."""
    opened: dict[int, list[tuple]] = defaultdict(list)
    for task_id, at, pk, equipment in (
        ProductionEvent.objects.filter(task_id__in=set(task_ids), kind__in=OPENING)
        .order_by("occurred_at", "id")
        .values_list("task_id", "occurred_at", "id", "equipment_id")
    ):
        opened[task_id].append((at, pk, equipment))
    return opened


def _events_write(
    writer: _Writer, targets: list[dict], opened: dict[int, list[tuple]] | None = None
) -> None:
    """The machine spans and scrap of `targets`; `opened` (see _openings) when the caller
    has read the tasks' starts and resumes already."""
    rates = writer.rates
    closing = [t for t in targets if t["kind"] in CLOSING]
    scrapped = [t for t in targets if t["quantity_scrap"] > 0]
    if not closing and not scrapped:
        return
    orders = _orders(t["order_id"] for t in (*closing, *scrapped))
    ops = _operations(t["operation_id"] for t in (*closing, *scrapped))
    # Each closing event's span: from the task's last start or resume before it.
    if opened is None:
        opened = _openings(t["task_id"] for t in closing)
    for t in closing:
        # The task's states alternate (execution's transitions): the last start or resume
        # before a pause or completion opened its span.
        starts = opened.get(t["task_id"], ())
        n = bisect_left(starts, (t["occurred_at"], t["id"]))
        if n == 0:
            continue
        since, _pk, start_equipment = starts[n - 1]
        equipment = start_equipment or t["equipment_id"]
        if equipment is None:
            continue  # a manual operation: no machine time
        op, order = ops[t["operation_id"]], orders[t["order_id"]]
        rate = rates.machine.get(equipment)
        if rate is None:
            writer.result.problems.append(
                Text(
                    SPAN_UNRATED,
                    event=t["id"],
                    order=order["number"],
                    step=op["sequence"],
                    equipment=equipment,
                    version=str(rates.version),
                )
            )
            continue
        hours = hours_between(since, t["occurred_at"])
        writer.add(
            overhead_on=op,
            source_key=f"machine:{t['id']}",
            order_id=order["id"],
            operation_id=op["id"],
            step_no=op["sequence"],
            element=E.MACHINE,
            work_center_id=op["work_center_id"],
            equipment_id=equipment,
            operator_id=t["operator_id"],
            quantity=hours,
            rate=rate,
            amount=money(hours * rate),
            late=_late(order, t["occurred_at"]),
            production_event_id=t["id"],
            **basis_text(MACHINE_RUNNING, hours=hours, rate=rate),
        )
    for t in scrapped:
        op, order = ops[t["operation_id"]], orders[t["order_id"]]
        cumulative = rates.cumulative_standard(order)
        if cumulative is None:
            writer.result.problems.append(
                Text(
                    SCRAP_UNVALUED,
                    event=t["id"],
                    order=order["number"],
                    step=op["sequence"],
                    version=str(rates.version),
                )
            )
            continue
        value = cumulative.get(op["sequence"], Decimal(0))
        qty = t["quantity_scrap"]
        writer.add(
            source_key=f"scrap:{t['id']}",
            order_id=order["id"],
            operation_id=op["id"],
            step_no=op["sequence"],
            element=E.SCRAP,
            item_id=order["item_id"],
            work_center_id=op["work_center_id"],
            equipment_id=t["equipment_id"],
            operator_id=t["operator_id"],
            quantity=qty,
            rate=value.quantize(CENT4, rounding=ROUND_HALF_UP),
            amount=money(qty * value),
            late=_late(order, t["occurred_at"]),
            production_event_id=t["id"],
            **basis_text(SCRAP_BASIS, quantity=qty, value=value, step=op["sequence"]),
        )


def _finish(writer: _Writer) -> PostingResult:
    with transaction.atomic():
        result = writer.flush()
        if result.posted:
            emit(
                POSTED_TOPIC,
                {
                    "orders": sorted(result.orders),
                    "entries": result.posted,
                    "period": writer.period.isoformat(),
                },
            )
    return result


# --- scrap from quality's dispositions ------------------------------------------------------

DISPOSITION_TOPIC = "quality.disposition.decided"
SCRAP_REVERSED_TOPIC = "quality.scrap.reversed"


def _decimal_or_zero(value) -> Decimal:
    try:
        number = Decimal(str(value))
    except ArithmeticError:
        return Decimal(0)
    return number if number.is_finite() else Decimal(0)


def disposition_scrap_post(*, events: Iterable[OutboxEvent], rates: Rates | None = None):
    """Post the scrap that quality's dispositions moved from good to scrap after the fact
    (`quality.disposition.decided` with decision scrap), and take it back when the scrapped
    record is corrected (`quality.scrap.reversed`): units × the product's standard cost up to
    the inspected operation, a scrap (memo) entry like the scrap reported with events.

    Read from the domain events' payloads (quality is not imported): the record, the
    operation and what moved. Keyed `disposition:<record>` and
    `disposition:<record>:reversed:<correction>`: a replayed event posts nothing twice.
    What the operator reported as scrap is posted from the event (`scrap:<event>`); a
    disposition only moves units that were counted good, so nothing is counted twice."""
    rates = rates or current_rates()
    if rates is None:
        return _no_version()
    writer = _Writer(rates)
    wanted = []
    for event in events:
        p = event.payload if isinstance(event.payload, dict) else {}
        if event.topic == DISPOSITION_TOPIC:
            if p.get("decision") != "scrap":
                continue
            qty, key = (
                _decimal_or_zero(p.get("quantity_scrapped")),
                f"disposition:{p.get('record_id')}",
            )
            what = DISPOSED
        elif event.topic == SCRAP_REVERSED_TOPIC:
            qty = -_decimal_or_zero(p.get("quantity_returned"))
            key = f"disposition:{p.get('record_id')}:reversed:{p.get('correction_id')}"
            what = RETURNED
        else:
            continue
        if qty == 0 or not p.get("record_id") or not p.get("operation_id"):
            continue
        wanted.append((event, p, qty, key, what))
    if not wanted:
        return writer.result
    ops = {
        o["id"]: o
        for o in OrderOperation.objects.filter(
            pk__in={p["operation_id"] for _e, p, *_ in wanted}
        ).values("id", "sequence", "work_center_id", "order_id")
    }
    orders = _orders(op["order_id"] for op in ops.values())
    for event, p, qty, key, what in wanted:
        op = ops.get(p["operation_id"])
        if op is None:
            continue
        order = orders[op["order_id"]]
        cumulative = rates.cumulative_standard(order)
        if cumulative is None:
            writer.result.problems.append(
                Text(
                    DISPOSITION_UNVALUED,
                    record=p["record_id"],
                    order=order["number"],
                    step=op["sequence"],
                    version=str(rates.version),
                )
            )
            continue
        value = cumulative.get(op["sequence"], Decimal(0))
        writer.add(
            source_key=key,
            order_id=order["id"],
            operation_id=op["id"],
            step_no=op["sequence"],
            element=E.SCRAP,
            item_id=order["item_id"],
            lot_id=p.get("lot_id"),
            work_center_id=op["work_center_id"],
            quantity=qty,
            rate=value.quantize(CENT4, rounding=ROUND_HALF_UP),
            amount=money(qty * value),
            late=_late(order, event.created_at),
            **basis_text(
                what, quantity=qty, record=p["record_id"], value=value, step=op["sequence"]
            ),
        )
    return _finish(writer)


def _disposition_events(order_ids) -> list[OutboxEvent]:
    """The dispositions' domain events (kept in the outbox), for the rebuild."""
    events = list(
        OutboxEvent.objects.filter(topic__in=(DISPOSITION_TOPIC, SCRAP_REVERSED_TOPIC)).order_by(
            "id"
        )
    )
    if order_ids is None:
        return events
    op_ids = set(OrderOperation.objects.filter(order_id__in=order_ids).values_list("pk", flat=True))
    return [
        e for e in events if isinstance(e.payload, dict) and e.payload.get("operation_id") in op_ids
    ]


# --- everything missing ---------------------------------------------------------------------


def order_cost_post_missing(*, orders: Iterable[ProductionOrder] | None = None) -> PostingResult:
    """Post every record not posted yet (of `orders`, default all): the rebuild behind
    `manage.py cost_actual_post`. What is posted already is left as it is."""
    rates = current_rates()
    if rates is None:
        return _no_version()
    order_ids = None if orders is None else [o.pk for o in orders]

    def of_orders(qs, field_name):
        return qs if order_ids is None else qs.filter(**{f"{field_name}__in": order_ids})

    result = PostingResult()
    issues = of_orders(MaterialIssue.objects.all(), "requirement__order_id")
    result.add(material_issues_post(issue_ids=issues.values_list("pk", flat=True), rates=rates))
    bookings = of_orders(LabourBooking.objects.all(), "task__order_id")
    if connection.vendor == "postgresql":
        result.add(_post_set_based(rates, order_ids))
        # What the statements leave to the Python path: corrections (and bookings they
        # could not cost, which it reports).
        bookings = bookings.filter(
            Q(corrected_at__isnull=False)
            | ~Exists(
                OrderCostEntry.objects.filter(labour_booking_id=OuterRef("pk"), element=E.LABOUR)
            )
        )
    ids = list(bookings.order_by("pk").values_list("pk", flat=True))
    for start in range(0, len(ids), 20000):
        result.add(labour_bookings_post(booking_ids=ids[start : start + 20000], rates=rates))
    result.add(disposition_scrap_post(events=_disposition_events(order_ids), rates=rates))
    if connection.vendor == "postgresql":
        return result
    # The log read once (on a large log a scan beats reading each task's events by its
    # index): the pauses, completions and scrap reports to post, and the starts and resumes
    # that opened the machine spans.
    opened: dict[int, list[tuple]] = defaultdict(list)
    targets = []
    events = of_orders(ProductionEvent.objects.all(), "order_id").filter(
        Q(kind__in=(*OPENING, *CLOSING)) | Q(quantity_scrap__gt=0)
    )
    for row in events.order_by("occurred_at", "id").values(*EVENT_FIELDS).iterator(20000):
        if row["kind"] in OPENING:
            opened[row["task_id"]].append((row["occurred_at"], row["id"], row["equipment_id"]))
        if row["kind"] in CLOSING or row["quantity_scrap"] > 0:
            targets.append(row)
    for start in range(0, len(targets), 20000):
        writer = _Writer(rates)
        _events_write(writer, targets[start : start + 20000], opened)
        result.add(_finish(writer))
    return result


def _post_set_based(rates: Rates, order_ids) -> PostingResult:
    """PostgreSQL: machine spans, first labour postings, scrap and their overhead by
    set-based statements (costing/services/actual_sql.py)."""
    from .actual_sql import costs_post_set_based

    now = timezone.now()
    result = PostingResult()
    with transaction.atomic():
        done = costs_post_set_based(
            version_id=rates.version.pk,
            now=now,
            period=period_of(now),
            order_ids=order_ids,
            version_code=str(rates.version),
        )
        result.posted, result.problems = done.written, done.problems
        if result.posted:
            result.orders = set(
                OrderCostEntry.objects.filter(posted_at=now)
                .order_by()
                .values_list("order_id", flat=True)
                .distinct()
            )
            emit(
                POSTED_TOPIC,
                {
                    "orders": sorted(result.orders),
                    "entries": result.posted,
                    "period": period_of(now).isoformat(),
                },
            )
    return result


# --- domain-event handlers (registered by importing this module in costing/apps.py) --------


@handler("execution.events.recorded")
def order_cost_on_events(event: OutboxEvent) -> None:
    """Machine time and scrap of the events listed, and the labour bookings that a pause or
    completion closed. Reports without scrap cost nothing here and are skipped unread."""
    listed = (event.payload or {}).get("events") or []
    ids, closing_ops = set(), set()
    for e in listed:
        if not isinstance(e, dict) or not e.get("event_id"):
            continue
        closing = e.get("kind") in CLOSING
        if closing or _positive(e.get("scrap")):
            ids.add(str(e["event_id"]))
        if closing and e.get("operation_id"):
            closing_ops.add(e["operation_id"])
    if not ids:
        return
    rates = current_rates()
    if rates is None:
        return  # nothing to cost with; `manage.py cost_actual_post` catches up later
    pks = ProductionEvent.objects.filter(event_id__in=ids).values_list("pk", flat=True)
    events_post(event_ids=list(pks), rates=rates)
    if closing_ops:
        bookings = LabourBooking.objects.filter(task__operation_id__in=closing_ops)
        labour_bookings_post(booking_ids=list(bookings.values_list("pk", flat=True)), rates=rates)


@handler("execution.material.issued")
def order_cost_on_issue(event: OutboxEvent) -> None:
    issue_id = (event.payload or {}).get("issue_id")
    if issue_id:
        material_issues_post(issue_ids=[issue_id])


@handler("execution.labour.corrected")
def order_cost_on_labour_correction(event: OutboxEvent) -> None:
    booking_id = (event.payload or {}).get("booking_id")
    if booking_id:
        labour_bookings_post(booking_ids=[booking_id])


@handler(DISPOSITION_TOPIC)
@handler(SCRAP_REVERSED_TOPIC)
def order_cost_on_disposition(event: OutboxEvent) -> None:
    disposition_scrap_post(events=[event])


def _positive(value) -> bool:
    try:
        return Decimal(str(value)) > 0
    except ArithmeticError:
        return False
