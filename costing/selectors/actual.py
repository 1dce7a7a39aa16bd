"""Reads of actual cost for the API and the pages: the ledger's entries, and per production
order its actual cost by element against the standard (docs/costing.md, "Actual cost").

Names are stable for the pages (costing/views/): `order_cost_entries`, `order_cost_totals`,
`order_cost_summary`, `order_costs_summaries`, `orders_with_cost`. Each costs a constant
number of queries whatever the number of orders or entries."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

from django.db.models import Max, QuerySet, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from planning.models import ProductionOrder
from resources.selectors.calendar import plant_time_zone

from ..models import CostVersion, ItemCost, OrderCostEntry

E = OrderCostEntry.Element
# The elements that make the order's cost; scrap is a memo (already inside them).
COST_ELEMENTS = (E.MATERIAL, E.LABOUR, E.MACHINE, E.OVERHEAD)
ELEMENTS = (*COST_ELEMENTS, E.SCRAP)
ZERO = Decimal("0")
NO_GOOD_QUANTITY = "No good quantity yet: the unit cost is not known."


def period_of(at: datetime) -> date:
    """The posting period of an instant: the first day of its month in the plant's zone."""
    return timezone.localtime(at, plant_time_zone()).date().replace(day=1)


def order_cost_entries() -> QuerySet[OrderCostEntry]:
    """The ledger joined to what its entries name (filter with OrderCostEntryFilterSet)."""
    return OrderCostEntry.objects.select_related(
        "order__item",
        "operation",
        "item",
        "lot",
        "work_center",
        "equipment",
        "operator__user",
        "version",
        "labour_booking",
        "material_issue",
        "production_event",
    ).order_by("order__number", "posted_at", "pk")


def orders_with_cost() -> QuerySet[ProductionOrder]:
    """Production orders that have actual cost posted, newest first, with their product."""
    return (
        ProductionOrder.objects.filter(pk__in=OrderCostEntry.objects.values("order_id"))
        .select_related("item")
        .order_by("-pk")
    )


def order_cost_totals(order_ids: list[int]) -> dict[int, dict]:
    """order id -> {"on_time": {element: amount}, "late": {period: {element: amount}},
    "version": code of the version most of its entries were posted in}. One query."""
    out: dict[int, dict] = {
        pk: {"on_time": defaultdict(Decimal), "late": defaultdict(lambda: defaultdict(Decimal))}
        for pk in order_ids
    }
    versions: dict[int, dict[str, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
    rows = (
        OrderCostEntry.objects.filter(order_id__in=order_ids)
        .values_list("order_id", "element", "late", "period", "version__code")
        .order_by()
        .annotate(total=Sum("amount"))
    )
    for order_id, element, late, period, version, total in rows:
        if late:
            out[order_id]["late"][period][element] += total
        else:
            out[order_id]["on_time"][element] += total
        versions[order_id][version] += abs(total)
    for order_id, weights in versions.items():
        out[order_id]["version"] = max(sorted(weights), key=lambda v: weights[v])
    return out


@dataclass
class ElementCost:
    element: str
    standard_unit: Decimal | None  # the product's standard per unit (None: no standard)
    standard: Decimal | None  # standard unit × good quantity
    actual: Decimal

    @property
    def difference(self) -> Decimal | None:
        return None if self.standard is None else self.actual - self.standard


@dataclass
class OrderCostSummary:
    """An order's actual cost by element against the standard for its good quantity.

    The order's cost counts the entries posted while it was open; what arrived after its
    completion (`late`) is listed by the period it arrived in and left out: a completed
    order's cost is frozen."""

    order: ProductionOrder
    version: str | None
    good_quantity: Decimal
    scrap_quantity: Decimal
    elements: list[ElementCost]
    frozen: bool
    late: dict[date, dict[str, Decimal]] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)

    @property
    def actual_total(self) -> Decimal:
        return sum((e.actual for e in self.elements if e.element in COST_ELEMENTS), ZERO)

    @property
    def standard_total(self) -> Decimal | None:
        parts = [e.standard for e in self.elements if e.element in COST_ELEMENTS]
        return None if any(p is None for p in parts) else sum(parts, ZERO)

    @property
    def difference(self) -> Decimal | None:
        """Actual − standard of the good quantity (None without a standard)."""
        std = self.standard_total
        return None if std is None else self.actual_total - std

    @property
    def standard_unit_cost(self) -> Decimal | None:
        parts = [e.standard_unit for e in self.elements if e.element in COST_ELEMENTS]
        return None if any(p is None for p in parts) else sum(parts, ZERO)

    @property
    def unit_cost(self) -> Decimal | None:
        """Actual cost ÷ good quantity; None while nothing good is made (see unit_cost_note)."""
        if self.good_quantity <= 0:
            return None
        return (self.actual_total / self.good_quantity).quantize(Decimal("0.0001"))

    @property
    def unit_cost_note(self) -> str:
        return NO_GOOD_QUANTITY if self.good_quantity <= 0 else ""

    @property
    def late_total(self) -> Decimal:
        return sum(
            (v for by in self.late.values() for k, v in by.items() if k in COST_ELEMENTS), ZERO
        )


def order_costs_summaries(orders: list[ProductionOrder]) -> list[OrderCostSummary]:
    """The cost summary of each order (their product loaded): three queries in all."""
    totals = order_cost_totals([o.pk for o in orders])
    current = CostVersion.objects.filter(is_current=True).values_list("code", flat=True).first()
    wanted = {(totals[o.pk].get("version") or current, o.item_id) for o in orders}
    standards = {
        (code, item_id): (complete, {E.MATERIAL: m, E.LABOUR: lab, E.MACHINE: mac, E.OVERHEAD: ov})
        for code, item_id, complete, m, lab, mac, ov in ItemCost.objects.filter(
            item_id__in={i for _, i in wanted}, version__code__in={c for c, _ in wanted if c}
        ).values_list(
            "version__code", "item_id", "complete", "material", "labour", "machine", "overhead"
        )
    }
    out = []
    for order in orders:
        t = totals[order.pk]
        version = t.get("version") or current
        complete, unit = standards.get((version, order.item_id), (False, {}))
        problems = []
        # Worked out as the page or the API is read: in the reader's language.
        if version is None:
            problems.append(_("No cost version is current: no standard to compare with."))
        elif not unit:
            problems.append(
                _("%(item)s has no standard cost in cost version %(version)s.")
                % {"item": order.item.code, "version": version}
            )
        elif not complete:
            problems.append(
                _("%(item)s's standard cost in %(version)s is incomplete (see its roll-up).")
                % {"item": order.item.code, "version": version}
            )
        good = order.quantity_done
        elements = []
        for element in ELEMENTS:
            std_unit = unit.get(element) if complete else None
            if element == E.SCRAP:
                std_unit = ZERO if complete else None  # the standard loses nothing
            elements.append(
                ElementCost(
                    element=element,
                    standard_unit=std_unit,
                    standard=None if std_unit is None else (std_unit * good).quantize(ZERO_4),
                    actual=t["on_time"].get(element, ZERO),
                )
            )
        out.append(
            OrderCostSummary(
                order=order,
                version=version,
                good_quantity=good,
                scrap_quantity=order.quantity_scrap,
                elements=elements,
                frozen=order.status
                in (ProductionOrder.Status.COMPLETED, ProductionOrder.Status.CLOSED),
                late={p: dict(v) for p, v in sorted(t["late"].items())},
                problems=problems,
            )
        )
    return out


ZERO_4 = Decimal("0.0001")


def order_cost_summary(order: ProductionOrder) -> OrderCostSummary:
    """One order's cost summary (see OrderCostSummary)."""
    return order_costs_summaries([order])[0]


@dataclass
class TrendPoint:
    """One month of a product's cost: the orders whose cost period it is, their good
    quantity, and the standard and actual unit cost over them (None where not known)."""

    period: date
    orders: int
    good_quantity: Decimal
    standard_total: Decimal | None
    actual_total: Decimal
    standard_units: list[Decimal | None] = field(default_factory=list)  # each order's

    @property
    def standard_unit(self) -> Decimal | None:
        """The standard of the good output ÷ its quantity; before anything good is made,
        the mean of the orders' standard unit costs (the standard does not wait for output)."""
        if self.standard_total is None or any(u is None for u in self.standard_units):
            return None
        if self.good_quantity > 0:
            return (self.standard_total / self.good_quantity).quantize(ZERO_4)
        if not self.standard_units:
            return None
        return (sum(self.standard_units, ZERO) / len(self.standard_units)).quantize(ZERO_4)

    @property
    def actual_unit(self) -> Decimal | None:
        if self.good_quantity <= 0:
            return None
        return (self.actual_total / self.good_quantity).quantize(ZERO_4)

    @property
    def unit_difference(self) -> Decimal | None:
        std, act = self.standard_unit, self.actual_unit
        return None if std is None or act is None else act - std


def product_cost_trend(item_code: str) -> list[TrendPoint]:
    """A product's standard against actual unit cost per month, oldest first. An order
    counts in the month it was completed, an open one in the month of its last on-time
    posting (the variance report's period); each month's unit costs are its orders' cost ÷
    their good quantity, the standard being each order's own version's. Five queries."""
    orders = list(orders_with_cost().filter(item__code=item_code))
    last = dict(
        OrderCostEntry.objects.filter(order_id__in=[o.pk for o in orders], late=False)
        .values_list("order_id")
        .order_by()
        .annotate(p=Max("period"))
    )
    points: dict[date, TrendPoint] = {}
    for summary in order_costs_summaries(orders):
        order = summary.order
        month = period_of(order.completed_at) if order.completed_at else last.get(order.pk)
        if month is None:  # only late postings: nothing of its own cost to show
            continue
        point = points.setdefault(month, TrendPoint(month, 0, ZERO, ZERO, ZERO))
        point.orders += 1
        point.good_quantity += summary.good_quantity
        point.actual_total += summary.actual_total
        point.standard_units.append(summary.standard_unit_cost)
        std = summary.standard_total
        point.standard_total = (
            None if std is None or point.standard_total is None else point.standard_total + std
        )
    return [points[p] for p in sorted(points)]
