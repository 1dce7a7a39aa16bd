"""MRP runs' results for the MRP page."""

from django.db.models import Count

from ..models import ActionMessage, PlannedOrder


def mrp_run_results(run) -> dict:
    """Planned orders (with peg counts) and messages of one run, in a few queries."""
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
