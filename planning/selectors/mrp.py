"""MRP runs' results for the MRP page."""

from django.db.models import Count

from ..models import ActionMessage, MrpRun, PlannedOrder


def mrp_runs_recent(count: int = 10) -> list[MrpRun]:
    return list(MrpRun.objects.select_related("created_by")[:count])


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
