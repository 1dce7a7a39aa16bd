"""Reads for planning pages and the API, joined so a page costs a constant number of queries."""

from decimal import Decimal

from django.db.models import Max, Prefetch, Q, QuerySet

from .models import OrderOperation, ProductionOrder, SalesOrder


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


def mrp_run_results(run) -> dict:
    """Planned orders (with peg counts) and messages of one run, in a few queries."""
    from django.db.models import Count

    from .models import ActionMessage, PlannedOrder

    planned = (
        PlannedOrder.objects.filter(run=run)
        .select_related("item", "production_order", "requisition")
        .annotate(peg_count=Count("pegs"))
        .order_by("item__low_level_code", "item__code", "due_date")
    )
    messages = (
        ActionMessage.objects.filter(run=run).select_related("item").order_by("kind", "item__code")
    )
    return {
        "planned": planned,
        "messages": messages,
        "demands": (run.summary or {}).get("demands", []),
    }


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


def sales_orders_with_predictions() -> QuerySet:
    """Sales orders with the shop floor's worst predicted delay and latest predicted end
    over their open production orders (planning/services/feedback.py)."""
    on_floor = Q(
        production_orders__status__in=(
            ProductionOrder.Status.RELEASED,
            ProductionOrder.Status.IN_PROGRESS,
        )
    )
    return SalesOrder.objects.select_related("item").annotate(
        predicted_delay_hours=Max("production_orders__predicted_delay_hours", filter=on_floor),
        predicted_end=Max("production_orders__predicted_end", filter=on_floor),
    )


def sales_orders_page(*, status: str = "open") -> QuerySet:
    """Sales orders for the page: with the shop floor's predictions and their production
    orders (number, status, predicted delay), in three queries."""
    orders = sales_orders_with_predictions()
    if status:
        orders = orders.filter(status=status)
    return orders.prefetch_related(
        Prefetch(
            "production_orders",
            queryset=ProductionOrder.objects.only(
                "id",
                "number",
                "status",
                "sales_order_id",
                "predicted_delay_hours",
                "predicted_end",
                "delay_predicted_at",
                "planned_end",
            ).order_by("number"),
        )
    )
