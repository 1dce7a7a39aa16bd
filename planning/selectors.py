"""Reads for planning pages and the API, joined so a page costs a constant number of queries."""

from django.db.models import Prefetch, QuerySet

from .models import OrderOperation, ProductionOrder


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
