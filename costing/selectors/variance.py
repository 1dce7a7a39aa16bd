"""Reads of cost variances for the API and the pages: the engine's input loaded per order
(costing/engines/variance.py), its variances filtered by order, product, work center,
period and kind, their totals per group, and the drill-down to the records behind one
variance (docs/costing.md, "Variances").

Stable names for the pages (costing/views/): `variances_list`, `variance_totals`,
`variance_drill_down`, `variance_threshold`, `order_variance_input`. A constant number of
queries whatever the number of orders and entries."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

from django.conf import settings
from django.db.models import Sum

from execution.models import MaterialRequirement
from planning.models import OrderOperation, ProductionOrder

from ..engines import variance as engine
from ..models import CostVersion, ItemCostLine, OrderCostEntry
from .actual import period_of

ZERO = Decimal("0")
E = OrderCostEntry.Element
# Which ledger element a variance kind drills into.
KIND_ELEMENT = {
    engine.MATERIAL_PRICE: E.MATERIAL,
    engine.MATERIAL_USAGE: E.MATERIAL,
    engine.LABOUR_RATE: E.LABOUR,
    engine.LABOUR_EFFICIENCY: E.LABOUR,
    engine.MACHINE_RATE: E.MACHINE,
    engine.MACHINE_EFFICIENCY: E.MACHINE,
    engine.OVERHEAD_SPEND: E.OVERHEAD,
    engine.SCRAP_LOSS: E.SCRAP,
}
PRICE_KINDS = (engine.MATERIAL_PRICE, engine.LABOUR_RATE, engine.MACHINE_RATE)
QUANTITY_KINDS = (engine.MATERIAL_USAGE, engine.LABOUR_EFFICIENCY, engine.MACHINE_EFFICIENCY)


def variance_threshold(version: CostVersion | None) -> Decimal:
    """The % over which a variance is flagged: the version's own, else the setting."""
    if version is not None and version.variance_threshold_pct is not None:
        return version.variance_threshold_pct
    return Decimal(str(settings.COSTING_VARIANCE_THRESHOLD_PCT))


def _month(day: date) -> str:
    return day.strftime("%Y-%m")


def order_variance_input(
    orders: list[ProductionOrder],
) -> tuple[list[engine.OrderIn], dict[str, CostVersion | None]]:
    """The engine's input for each order (their product loaded), and the version each is
    measured against (the one most of its cost was posted in, else the current one).
    Seven queries whatever the number of orders."""
    ids = [o.pk for o in orders]
    current = CostVersion.objects.filter(is_current=True).first()
    versions = {v.pk: v for v in CostVersion.objects.all()}
    ops: dict[int, list[dict]] = defaultdict(list)
    for op in OrderOperation.objects.filter(order_id__in=ids).values(
        "order_id", "sequence", "work_center__code", "quantity_done", "quantity_scrap"
    ):
        ops[op["order_id"]].append(op)
    actual: dict[int, dict[tuple, list]] = defaultdict(lambda: defaultdict(lambda: [ZERO, ZERO]))
    late: dict[int, dict[tuple[str, str], Decimal]] = defaultdict(lambda: defaultdict(Decimal))
    weight: dict[int, dict[int, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
    last_period: dict[int, date] = {}
    for order_id, element, step, item, wc, is_late, period, version_id, qty, amount in (
        OrderCostEntry.objects.filter(order_id__in=ids)
        .values_list(
            "order_id",
            "element",
            "step_no",
            "item__code",
            "work_center__code",
            "late",
            "period",
            "version_id",
        )
        .order_by()
        .annotate(q=Sum("quantity"), a=Sum("amount"))
    ):
        if is_late:
            late[order_id][(_month(period), element)] += amount
            continue
        key = (element, step, item if element == E.MATERIAL else None, wc)
        actual[order_id][key][0] += qty
        actual[order_id][key][1] += amount
        weight[order_id][version_id] += abs(amount)
        last_period[order_id] = max(period, last_period.get(order_id, period))
    who: dict[int, dict[tuple, tuple[set, set, set]]] = defaultdict(
        lambda: defaultdict(lambda: (set(), set(), set()))
    )
    for order_id, element, step, item, operator, equipment, lot in (
        OrderCostEntry.objects.filter(order_id__in=ids, late=False)
        .values_list(
            "order_id",
            "element",
            "step_no",
            "item__code",
            "operator__user__username",
            "equipment__code",
            "lot__code",
        )
        .order_by()
        .distinct()
    ):
        people, machines, lots = who[order_id][
            (element, step, item if element == E.MATERIAL else None)
        ]
        for found, into in ((operator, people), (equipment, machines), (lot, lots)):
            if found:
                into.add(found)
    component_step: dict[int, dict[str, int]] = defaultdict(dict)
    for order_id, item, seq in (
        MaterialRequirement.objects.filter(order_id__in=ids)
        .order_by("operation__sequence")
        .values_list("order_id", "item__code", "operation__sequence")
    ):
        component_step[order_id].setdefault(item, seq)
    measured: dict[int, CostVersion | None] = {}
    for order in orders:
        w = weight.get(order.pk)
        measured[order.pk] = versions[max(sorted(w), key=lambda v: w[v])] if w else current
    lines: dict[tuple[int, int], list] = defaultdict(list)
    for row in ItemCostLine.objects.filter(
        item_cost__item_id__in={o.item_id for o in orders},
        item_cost__version_id__in={v.pk for v in measured.values() if v is not None},
        item_cost__complete=True,
    ).values_list(
        "item_cost__version_id",
        "item_cost__item_id",
        "element",
        "component__code",
        "step_no",
        "quantity",
        "rate",
        "amount",
        "work_center__code",
    ):
        lines[(row[0], row[1])].append(row[2:])
    out = []
    for order in orders:
        version = measured[order.pk]
        steps = sorted(ops.get(order.pk, ()), key=lambda o: o["sequence"])
        first = steps[0]["sequence"] if steps else 0
        standard = [
            engine.StandardLine(
                element=element,
                step_no=(component_step[order.pk].get(component, first))
                if element == E.MATERIAL
                else (step or first),
                quantity=qty,
                rate=rate,
                amount=amount,
                component=component,
                work_center=wc,
            )
            for element, component, step, qty, rate, amount, wc in (
                lines.get((version.pk, order.item_id), []) if version is not None else []
            )
        ]
        acts = []
        for (element, step, item, wc), (qty, amount) in actual[order.pk].items():
            people, machines, lots_ = who[order.pk][(element, step, item)]
            acts.append(
                engine.ActualLine(
                    element=element,
                    step_no=step if step is not None else first,
                    quantity=qty,
                    amount=amount,
                    component=item,
                    work_center=wc,
                    operators=tuple(sorted(people)),
                    equipment=tuple(sorted(machines)),
                    lots=tuple(sorted(lots_)),
                )
            )
        if order.completed_at is not None:
            period = _month(period_of(order.completed_at))
        elif order.pk in last_period:
            period = _month(last_period[order.pk])
        else:
            period = ""
        out.append(
            engine.OrderIn(
                order=order.number,
                product=order.item.code,
                period=period,
                output={o["sequence"]: o["quantity_done"] + o["quantity_scrap"] for o in steps},
                scrap={o["sequence"]: o["quantity_scrap"] for o in steps},
                standard=standard,
                actual=acts,
                late={k: v for k, v in late[order.pk].items()},
                work_centers={o["sequence"]: o["work_center__code"] for o in steps},
            )
        )
    return out, {o.number: measured[o.pk] for o in orders}


@dataclass
class VarianceFilter:
    """What the variance report is asked for; blank fields do not filter."""

    order: str = ""
    product: str = ""
    work_center: str = ""
    period: date | None = None  # the first of a month
    kind: str = ""
    flagged: bool | None = None


def _orders_for(f: VarianceFilter) -> list[ProductionOrder]:
    qs = ProductionOrder.objects.filter(
        pk__in=OrderCostEntry.objects.values("order_id")
    ).select_related("item")
    if f.order:
        qs = qs.filter(number=f.order)
    if f.product:
        qs = qs.filter(item__code=f.product)
    if f.work_center:
        qs = qs.filter(operations__work_center__code=f.work_center).distinct()
    return list(qs.order_by("number"))


def variances_list(f: VarianceFilter | None = None) -> list[engine.Variance]:
    """Every variance of the orders with actual cost that match `f`, order by order in
    operation order; each flagged one carries its likely cause."""
    f = f or VarianceFilter()
    inputs, measured = order_variance_input(_orders_for(f))
    out = []
    for order_in in inputs:
        found = engine.order_variances(
            order_in, threshold_pct=variance_threshold(measured[order_in.order])
        )
        out.extend(found)
    month = _month(f.period) if f.period else ""
    return [
        v
        for v in out
        if (not f.work_center or v.work_center == f.work_center)
        and (not month or v.period == month)
        and (not f.kind or v.kind == f.kind)
        and (f.flagged is None or v.flagged == f.flagged)
    ]


def variance_totals(f: VarianceFilter | None = None, *, by: tuple[str, ...]) -> list:
    """The variances of `f` summed by kind per group: ("product",), ("work_center",),
    ("period",) or any combination (engine.VarianceTotal)."""
    return engine.variances_aggregate(variances_list(f), by=by)


# --- drill-down -----------------------------------------------------------------------------


@dataclass
class DrillRecord:
    """One floor record behind a variance and its share of it."""

    source: str  # "material issue", "labour booking", "production event"
    record_id: int | None
    event_id: str
    at: datetime | None
    until: datetime | None
    operator: str
    equipment: str
    lot: str
    quantity: Decimal
    amount: Decimal
    share: Decimal
    entry_id: int
    basis: str  # in the reader's language; basis_id and basis_params as stored
    basis_id: str = ""
    basis_params: dict = field(default_factory=dict)


@dataclass
class DrillDown:
    variance: engine.Variance
    records: list[DrillRecord] = field(default_factory=list)
    # The standard allowed, taken off: usage, efficiency and overhead are the records at
    # standard less what the standard allows for the output.
    standard_allowed: Decimal = ZERO

    @property
    def total(self) -> Decimal:
        """Σ shares − standard allowed: equals the variance's amount."""
        return sum((r.share for r in self.records), ZERO) - self.standard_allowed


class NoSuchVariance(LookupError):
    """The order has no variance of that kind at that operation (or component)."""


def variance_drill_down(
    *, order: str, kind: str, step_no: int | None = None, component: str = ""
) -> DrillDown:
    """The records behind one variance of an order (the on-time ledger entries of its element
    and operation or component, with the issue, booking or event each came from) and each
    one's share; their total equals the variance."""
    if kind not in KIND_ELEMENT:
        raise NoSuchVariance(f"No drill-down for {kind!r}.")
    found = variances_list(VarianceFilter(order=order, kind=kind))
    match = [
        v
        for v in found
        if (step_no is None or v.step_no == step_no) and (not component or v.component == component)
    ]
    if len(match) != 1:
        which = f" at operation {step_no}" if step_no is not None else ""
        which += f" of {component}" if component else ""
        raise NoSuchVariance(
            f"Order {order} has no single {kind.replace('_', ' ')} variance{which}"
            + (" (name the operation or component)." if len(match) > 1 else ".")
        )
    v = match[0]
    element = KIND_ELEMENT[kind]
    entries = OrderCostEntry.objects.filter(
        order__number=order, element=element, late=False
    ).select_related(
        "operator__user", "equipment", "lot", "material_issue", "labour_booking", "production_event"
    )
    if element == E.MATERIAL:
        entries = entries.filter(item__code=v.component)
    else:
        entries = entries.filter(step_no=v.step_no)
    drill = DrillDown(variance=v)
    if kind in QUANTITY_KINDS or kind == engine.OVERHEAD_SPEND:
        drill.standard_allowed = v.standard_amount
    for e in entries.order_by("posted_at", "pk"):
        if kind in PRICE_KINDS:
            share = e.amount - e.quantity * v.standard_rate
        elif kind in QUANTITY_KINDS:
            share = e.quantity * v.standard_rate
        else:
            share = e.amount
        drill.records.append(_record(e, share))
    return drill


def _record(e: OrderCostEntry, share: Decimal) -> DrillRecord:
    source, record_id, event_id, at, until = "", None, "", None, None
    if e.material_issue is not None:
        issue = e.material_issue
        source, record_id, at = "material issue", issue.pk, issue.issued_at
        event_id = issue.external_id
    elif e.labour_booking is not None:
        booking = e.labour_booking
        source, record_id = "labour booking", booking.pk
        at, until = booking.started_at, booking.ended_at
    elif e.production_event is not None:
        event = e.production_event
        source, record_id, at = "production event", event.pk, event.occurred_at
        event_id = event.event_id
    return DrillRecord(
        source=source,
        record_id=record_id,
        event_id=event_id,
        at=at,
        until=until,
        operator=e.operator.user.username if e.operator_id else "",
        equipment=e.equipment.code if e.equipment_id else "",
        lot=e.lot.code if e.lot_id else "",
        quantity=e.quantity,
        amount=e.amount,
        share=share,
        entry_id=e.pk,
        basis=e.basis_shown,
        basis_id=e.basis_id,
        basis_params=e.basis_params,
    )
