"""Production orders: the list, one order's page and its status actions (HTMX)."""

from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy
from django.views.decorators.http import require_POST

from core.exceptions import StateConflict
from core.navigation import page_allowed
from core.views_helpers import htmx_render, policy_required

from ..filtersets import ProductionOrderFilterSet
from ..selectors.floor import operations_on_floor
from ..selectors.orders import order_components, production_order_detail, production_orders_list
from ..selectors.risk import delivery_risk, orders_with_risk, with_risk_inputs
from ..services import orders as order_services

TRANSITIONS = {
    "plan": order_services.production_order_plan,
    "release": order_services.production_order_release,
    "start": order_services.production_order_start,
    "complete": order_services.production_order_complete,
    "close": order_services.production_order_close,
    "cancel": order_services.production_order_cancel,
}
# The buttons and confirmations: "Release", "Yes, release MO-2026-00001".
ACTION_LABELS = {
    "plan": pgettext_lazy("order action", "Plan"),
    "release": gettext_lazy("Release"),
    "start": gettext_lazy("Start"),
    "complete": gettext_lazy("Complete"),
    "close": gettext_lazy("Close"),
    "cancel": gettext_lazy("Cancel"),
}
CONFIRM_QUESTIONS = {
    "release": gettext_lazy("Release order %(number)s?"),
    "cancel": gettext_lazy("Cancel order %(number)s?"),
    "complete": gettext_lazy("Complete order %(number)s?"),
}
CONFIRM_BUTTONS = {
    "release": gettext_lazy("Yes, release %(number)s"),
    "cancel": gettext_lazy("Yes, cancel %(number)s"),
    "complete": gettext_lazy("Yes, complete %(number)s"),
}


@policy_required("planning.productionorder.view")
def order_list(request):
    filterset = ProductionOrderFilterSet(request.GET, queryset=production_orders_list())
    at_risk_only = filterset.is_valid() and bool(filterset.form.cleaned_data.get("risk"))
    orders = orders_with_risk(filterset.qs, limit=500)
    return htmx_render(
        request,
        "planning/order_list.html",
        "planning/partials/order_table.html",
        {"filter": filterset, "orders": orders, "at_risk_only": at_risk_only},
    )


@policy_required("planning.productionorder.view")
def order_detail(request, pk: int):
    order = get_object_or_404(with_risk_inputs(production_order_detail()), pk=pk)
    order.risk = delivery_risk(order)
    actions = _actions(order)
    operations = list(order.operations.all())
    floor = operations_on_floor([op.pk for op in operations])
    for op in operations:
        op.floor = floor.get(op.pk)
        op.progress_pct = (
            min(int(op.quantity_done * 100 / order.quantity), 100) if order.quantity else 0
        )
    return render(
        request,
        "planning/order_detail.html",
        {
            "order": order,
            "actions": actions,
            "operations": operations,
            "components": order_components(order),
            "links": _order_links(request.user, order),
        },
    )


def _actions(order) -> list[tuple[str, str]]:
    allowed = order_services.TRANSITIONS[order.status]
    return [(name, ACTION_LABELS[name]) for name in TRANSITIONS if _target(name) in allowed]


# The order page's links to the other views of the order: only those the viewer's role may
# open (core/navigation.page_allowed), so no link answers 403.
ORDER_LINKS = (
    (gettext_lazy("Capacity"), "planning:capacity", None, ""),
    (gettext_lazy("Gantt"), "planning:gantt", None, ""),
    (gettext_lazy("Shop floor"), "execution:order_drill", "pk", ""),
    (gettext_lazy("Labels"), "quality:label_sheet", "number", ""),
    # The trace page looks up a trace code (the label sheet lists the order's); no order query.
    (gettext_lazy("Trace"), "quality:trace", None, ""),
    (gettext_lazy("Exceptions"), "execution:alerts", None, "?show=all&order={number}"),
    (gettext_lazy("Cost"), "costing:order", "number", ""),
)


def _order_links(user, order) -> list[tuple[str, str]]:
    links = []
    for label, url_name, arg, query in ORDER_LINKS:
        try:
            path = reverse(url_name, args=[getattr(order, arg)] if arg else None)
        except NoReverseMatch:
            continue
        if page_allowed(user, path):
            links.append((str(label), path + query.format(number=order.number)))
    return links


def _target(action: str) -> str:
    return {
        "plan": "planned",
        "release": "released",
        "start": "in_progress",
        "complete": "completed",
        "close": "closed",
        "cancel": "cancelled",
    }[action]


# Irreversible actions ask first: the first POST shows what will happen and writes nothing;
# the confirmation posts again with confirm=1 (and, for complete, the reason when one is
# needed). The server decides, so a form without JavaScript asks too.
CONFIRM = {
    "release": gettext_lazy(
        "Releasing creates the shop-floor tasks and material requirements; the order "
        "can then only be cancelled, not taken back to planned."
    ),
    "cancel": gettext_lazy(
        "Cancelling stops the order for good: its open operations and tasks are cancelled."
    ),
    "complete": gettext_lazy("Completing ends the order: nothing more can be reported on it."),
}


def _header(request, order, *, error=None, status=200):
    order = with_risk_inputs(production_order_detail()).get(pk=order.pk)
    order.risk = delivery_risk(order)
    actions = _actions(order)
    return render(
        request,
        "planning/partials/order_header.html",
        {"order": order, "actions": actions, "error": error},
        status=status,
    )


def _confirm(request, order, action: str, *, error=None, reason="", status=200):
    unfinished = order.operations.exclude(status__in=("done", "cancelled")).count()
    context = {
        "order": order,
        "action": action,
        "explanation": CONFIRM[action],
        "question": CONFIRM_QUESTIONS[action] % {"number": order.number},
        "button": CONFIRM_BUTTONS[action] % {"number": order.number},
        "action_label": ACTION_LABELS[action],
        "unfinished": unfinished,
        "short": order.quantity_done < order.quantity,
        "error": error,
        "reason": reason,
    }
    return htmx_render(
        request,
        "planning/order_confirm.html",
        "planning/partials/order_confirm.html",
        context,
        status=status,
    )


@require_POST
@policy_required("planning.productionorder.{action}")
def order_action(request, pk: int, action: str):
    order = get_object_or_404(production_order_detail(), pk=pk)
    service = TRANSITIONS.get(action)
    if service is None:
        return _header(
            request, order, error=_("Unknown action %(action)s.") % {"action": action}, status=409
        )
    reason = (request.POST.get("reason") or "").strip()
    legal = _target(action) in order_services.TRANSITIONS[order.status]
    # An illegal action is refused at once (409 with the reason); a legal one asks first.
    if legal and action in CONFIRM and request.POST.get("confirm") != "1":
        return _confirm(request, order, action)
    try:
        if action == "complete":
            order_services.production_order_complete_manual(
                order=order, by=request.user, reason=reason
            )
        else:
            service(order=order, by=request.user)
    except ValidationError as exc:
        return _confirm(
            request, order, action, error=" ".join(exc.messages), reason=reason, status=400
        )
    except StateConflict as exc:
        if not getattr(request, "htmx", False):
            return _confirm(request, order, action, error=str(exc), reason=reason, status=409)
        return _header(request, order, error=str(exc), status=409)
    if not getattr(request, "htmx", False):
        return redirect("planning:order_detail", pk=order.pk)
    return _header(request, order)
