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
