"""Production orders for pages and the API, joined so a page costs a constant number of queries."""

from dataclasses import dataclass
from decimal import ROUND_UP, Decimal

from django.db.models import Prefetch, QuerySet, Sum

from resources.models import Item, StockBalance

from ..models import OrderOperation, ProductionOrder
from .masterdata import bom_effective


def production_orders_list() -> QuerySet[ProductionOrder]:
    return ProductionOrder.objects.select_related("item", "sales_order", "planned_from").order_by(
        "due_date", "priority", "number"
    )


def production_order_detail() -> QuerySet[ProductionOrder]:
    operations = OrderOperation.objects.select_related(
        "work_center", "equipment", "required_skill"
    ).prefetch_related("eligible_equipment")
    return ProductionOrder.objects.select_related(
        "item", "sales_order", "routing", "bom", "planned_from"
    ).prefetch_related(Prefetch("operations", queryset=operations.order_by("sequence")))


def delayed_orders(*, tolerance_hours: Decimal = Decimal("1")) -> QuerySet:
    """Open orders the shop floor predicts late, the latest first by delay."""
    return (
        ProductionOrder.objects.filter(
            status__in=(ProductionOrder.Status.RELEASED, ProductionOrder.Status.IN_PROGRESS),
            predicted_delay_hours__gt=tolerance_hours,
        )
        .select_related("item")
        .order_by("-predicted_delay_hours", "due_date", "number")
    )


@dataclass(frozen=True)
class ComponentNeed:
    """One component of an order's BOM: what the whole order needs and what is in stock."""

    line_no: int
    item: Item
    step_no: int | None
    required: Decimal
    available: Decimal

    @property
    def short(self) -> Decimal:
        return max(self.required - self.available, Decimal("0"))


def order_components(order: ProductionOrder) -> list[ComponentNeed]:
    """Component availability for the order page: each BOM line's need for the order's
    quantity (per the BOM's base quantity, grossed up by the line's expected scrap) against
    the stock on hand in every location. Two queries."""
    bom = order.bom or bom_effective(order.item, order.due_date)
    if bom is None:
        return []
    lines = list(bom.lines.select_related("component").order_by("line_no"))
    stock = dict(
        StockBalance.objects.filter(item__in=[line.component_id for line in lines])
        .values("item")
        .annotate(total=Sum("on_hand"))
        .values_list("item", "total")
    )
    out = []
    for line in lines:
        per_unit = line.quantity / bom.base_quantity * 100 / (100 - line.scrap_pct)
        required = (per_unit * order.quantity).quantize(Decimal("0.0001"), rounding=ROUND_UP)
        out.append(
            ComponentNeed(
                line.line_no,
                line.component,
                line.operation_step_no,
                required,
                stock.get(line.component_id) or Decimal("0"),
            )
        )
    return out
