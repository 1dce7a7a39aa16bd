"""Customers' orders with the shop floor's predictions, for the Sales page and the API."""

from django.db.models import Max, Prefetch, Q, QuerySet

from ..models import ProductionOrder, SalesOrder
from .risk import with_risk_inputs


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
    orders (number, status, what their delivery risk needs), in three queries."""
    orders = sales_orders_with_predictions()
    if status:
        orders = orders.filter(status=status)
    return orders.prefetch_related(
        Prefetch(
            "production_orders",
            queryset=with_risk_inputs(
                ProductionOrder.objects.only(
                    "id",
                    "number",
                    "status",
                    "sales_order_id",
                    "due_date",
                    "predicted_delay_hours",
                    "predicted_end",
                    "delay_predicted_at",
                    "planned_end",
                    "exception_delay_minutes",
                    "exception_note",
                    "exception_note_id",
                    "exception_note_params",
                )
            ).order_by("number"),
        )
    )
