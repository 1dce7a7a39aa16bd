"""Customers' orders with what the plant expects for each (the Sales page)."""

from django.utils import timezone

from core.views_helpers import htmx_render, policy_required
from resources.selectors.calendar import plant_time_zone

from ..models import SalesOrder
from ..selectors.risk import delivery_risk, worst_risk
from ..selectors.sales import sales_orders_page

SALES_STATUSES = tuple(SalesOrder.Status.values)
SALES_SHOWN = 500


@policy_required("planning.salesorder.view")
def sales_orders(request):
    """Customers' orders with what the plant expects for each: the delay of open exceptions
    and the shop floor's predicted end of its production orders against the due date."""
    status = request.GET.get("status", "open")
    status = status if status in SALES_STATUSES or status == "" else "open"
    at_risk_only = request.GET.get("risk") == "1"
    tz = plant_time_zone()
    now = timezone.now()
    rows = []
    for so in sales_orders_page(status=status)[:SALES_SHOWN]:
        # One truth (planning/selectors/risk.py): a customer's order is at risk when one of
        # its production orders is.
        for order in so.production_orders.all():
            order.risk = delivery_risk(order, now=now, tz=tz)
        so.risk = worst_risk(o.risk for o in so.production_orders.all())
        so.at_risk = bool(so.status == SalesOrder.Status.OPEN and so.risk and so.risk.at_risk)
        if at_risk_only and not so.at_risk:
            continue
        rows.append(so)
    return htmx_render(
        request,
        "planning/sales_orders.html",
        "planning/partials/sales_order_table.html",
        {
            "sales_orders": rows,
            "status": status,
            "at_risk_only": at_risk_only,
            "statuses": SalesOrder.Status.choices,
        },
    )
