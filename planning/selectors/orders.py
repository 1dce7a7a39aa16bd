"""Production orders for pages and the API, joined so a page costs a constant number of queries."""

from decimal import Decimal

from django.db.models import Prefetch, QuerySet

from ..models import OrderOperation, ProductionOrder


def production_orders_list() -> QuerySet[ProductionOrder]:
    return ProductionOrder.objects.select_related("item", "sales_order").order_by(
        "due_date", "priority", "number"
    )


def production_order_detail() -> QuerySet[ProductionOrder]:
    operations = OrderOperation.objects.select_related(
        "work_center", "equipment", "required_skill"
    ).prefetch_related("eligible_equipment")
    return ProductionOrder.objects.select_related(
        "item", "sales_order", "routing", "bom"
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
