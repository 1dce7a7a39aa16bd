"""Production orders: the list, one order's page and its status actions (HTMX)."""

from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_POST

from core.exceptions import StateConflict
from core.roles import Role
from core.views_helpers import htmx_render, role_required

from ..filtersets import ProductionOrderFilterSet
from ..selectors.orders import production_order_detail, production_orders_list
from ..services import orders as order_services

TRANSITIONS = {
    "plan": order_services.production_order_plan,
    "release": order_services.production_order_release,
    "start": order_services.production_order_start,
    "complete": order_services.production_order_complete,
    "close": order_services.production_order_close,
    "cancel": order_services.production_order_cancel,
}


@login_required
def order_list(request):
    filterset = ProductionOrderFilterSet(request.GET, queryset=production_orders_list())
    orders = filterset.qs[:500]
    return htmx_render(
        request,
        "planning/order_list.html",
        "planning/partials/order_table.html",
        {"filter": filterset, "orders": orders},
    )


@login_required
def order_detail(request, pk: int):
    order = get_object_or_404(production_order_detail(), pk=pk)
    allowed = order_services.TRANSITIONS[order.status]
    actions = [name for name, fn in TRANSITIONS.items() if _target(name) in allowed]
    return render(request, "planning/order_detail.html", {"order": order, "actions": actions})


def _target(action: str) -> str:
    return {
        "plan": "planned",
        "release": "released",
        "start": "in_progress",
        "complete": "completed",
        "close": "closed",
        "cancel": "cancelled",
    }[action]


@require_POST
@role_required(Role.PLANNER, Role.SUPERVISOR)
def order_action(request, pk: int, action: str):
    order = get_object_or_404(production_order_detail(), pk=pk)
    error = None
    service = TRANSITIONS.get(action)
    if service is None:
        error = f"Unknown action {action!r}."
    else:
        try:
            order = service(order=order, by=request.user)
        except StateConflict as exc:
            error = str(exc)
    order = production_order_detail().get(pk=pk)
    allowed = order_services.TRANSITIONS[order.status]
    actions = [name for name in TRANSITIONS if _target(name) in allowed]
    return render(
        request,
        "planning/partials/order_header.html",
        {"order": order, "actions": actions, "error": error},
        status=409 if error else 200,
    )
