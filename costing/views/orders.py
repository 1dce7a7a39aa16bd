"""Order cost (HTMX): the production orders with actual cost (by product, status and posting
period) with their standard and actual cost, and one order's page — standard against actual
by element (scrap as its memo line), quantities, the actual unit cost, the ledger entries
behind it (who, which machine, which operation, which floor record; late postings marked)
and what arrived late, by period. CSV and XLSX of the list and of an order."""

from django.core.exceptions import ValidationError
from django.http import HttpResponseBadRequest
from django.shortcuts import get_object_or_404, render

from core.exports import FORMATS, filename_part, table_response
from core.views_helpers import error_text, htmx_render, policy_required
from planning.models import ProductionOrder

from ..filtersets import MonthField, OrderWithCostFilterSet
from ..models import OrderCostEntry
from ..selectors.actual import (
    COST_ELEMENTS,
    order_cost_entries,
    order_cost_summary,
    order_costs_summaries,
    orders_with_cost,
)
from ..words import export_header

ORDER_LIMIT = 500  # rows on the page and in an export; filters narrow further
E = OrderCostEntry.Element


def _filtered(request):
    """(the orders with cost matching the query, its filters, an error naming the field)."""
    data = request.GET
    filters = {k: (data.get(k) or "").strip() for k in ("product", "status", "period")}
    fs = OrderWithCostFilterSet(
        {"product": filters["product"], "status": filters["status"]}, queryset=orders_with_cost()
    )
    if not fs.is_valid():
        return [], filters, error_text(fs.errors)
    qs = fs.qs
    if filters["period"]:
        try:
            month = MonthField().clean(filters["period"])
        except ValidationError as exc:
            return [], filters, error_text({"period": exc.messages})
        qs = qs.filter(pk__in=OrderCostEntry.objects.filter(period=month).values("order_id"))
    return list(qs[: ORDER_LIMIT + 1]), filters, ""


def _status_choices():
    return ProductionOrder.Status.choices


LIST_HEADER = [
    "order",
    "product",
    "status",
    "version",
    "good_quantity",
    "scrap_quantity",
    *COST_ELEMENTS,
    "scrap_memo",
    "actual_total",
    "standard_total",
    "difference",
    "standard_unit_cost",
    "actual_unit_cost",
    "late_total",
    "frozen",
    "problems",
]


def _summary_row(s) -> list:
    by = {e.element: e.actual for e in s.elements}
    std = s.standard_total
    return [
        s.order.number,
        s.order.item.code,
        s.order.status,
        s.version or "",
        s.good_quantity,
        s.scrap_quantity,
        *[by[e] for e in COST_ELEMENTS],
        by[E.SCRAP],
        s.actual_total,
        "" if std is None else std,
        # No good quantity yet: no standard to compare with (the page says so too).
        "" if std is None or s.good_quantity <= 0 else s.difference,
        "" if s.standard_unit_cost is None else s.standard_unit_cost,
        "" if s.unit_cost is None else s.unit_cost,
        s.late_total,
        "yes" if s.frozen else "no",
        " ".join(s.problems) or s.unit_cost_note,
    ]


@policy_required("costing.actual.view")
def order_costs(request):
    """The orders with actual cost; `?format=csv|xlsx` the same rows."""
    orders, filters, error = _filtered(request)
    more = len(orders) > ORDER_LIMIT
    summaries = order_costs_summaries(orders[:ORDER_LIMIT])
    fmt = request.GET.get("format")
    if fmt:
        if fmt not in FORMATS:
            return HttpResponseBadRequest(
                f"format: give one of {', '.join(FORMATS)}.", content_type="text/plain"
            )
        if error:
            return HttpResponseBadRequest(error, content_type="text/plain")
        return table_response(
            fmt,
            "order-costs",
            export_header(LIST_HEADER),
            map(_summary_row, summaries),
            title="Order costs",
        )
    context = {
        "tab": "orders",
        "summaries": summaries,
        "more": more,
        "limit": ORDER_LIMIT,
        "filters": filters,
        "error": error,
        "statuses": _status_choices(),
        "products": orders_with_cost().values_list("item__code", flat=True).distinct(),
        "query": request.GET.urlencode(),
    }
    return htmx_render(
        request,
        "costing/orders.html",
        "costing/partials/orders_table.html",
        context,
        status=400 if error else 200,
    )


ENTRY_HEADER = [
    "row",
    "order",
    "element",
    "standard_unit",
    "standard",
    "actual",
    "difference",
    "posted_at",
    "period",
    "late",
    "step_no",
    "operation",
    "work_center",
    "equipment",
    "operator",
    "item",
    "lot",
    "quantity",
    "rate",
    "amount",
    "source",
    "source_record",
    "version",
    "basis",
]


def entry_source(e: OrderCostEntry) -> tuple[str, str]:
    """The floor record an entry was posted from, in words and by its id."""
    if e.material_issue_id:
        return "material issue", e.material_issue.external_id or str(e.material_issue_id)
    if e.labour_booking_id:
        return "labour booking", str(e.labour_booking_id)
    if e.production_event_id:
        return "production event", e.production_event.event_id
    return e.source_key.partition(":")[0], e.source_key


def _order_rows(summary, entries):
    blank = [""] * 17
    for el in summary.elements:
        yield [
            "element",
            summary.order.number,
            el.element,
            "" if el.standard_unit is None else el.standard_unit,
            "" if el.standard is None else el.standard,
            el.actual,
            "" if el.difference is None or summary.good_quantity <= 0 else el.difference,
            *blank,
        ]
    for e in entries:
        source, record = entry_source(e)
        yield [
            "entry",
            summary.order.number,
            e.element,
            "",
            "",
            "",
            "",
            e.posted_at.isoformat(),
            e.period.strftime("%Y-%m"),
            "yes" if e.late else "no",
            "" if e.step_no is None else e.step_no,
            e.operation.name if e.operation_id else "",
            e.work_center.code if e.work_center_id else "",
            e.equipment.code if e.equipment_id else "",
            e.operator.user.username if e.operator_id else "",
            e.item.code if e.item_id else "",
            e.lot.code if e.lot_id else "",
            e.quantity,
            e.rate,
            e.amount,
            source,
            record,
            e.version.code,
            e.basis_shown,  # in the reader's language (core/texts.py)
        ]


@policy_required("costing.actual.view")
def order_cost(request, number: str):
    """One order's cost; `?format=csv|xlsx` its elements then its ledger entries."""
    order = get_object_or_404(ProductionOrder.objects.select_related("item"), number=number)
    # An order with nothing posted yet shows its standard and a zero actual (the order page
    # links here for every order), not a 404.
    summary = order_cost_summary(order)
    entries = list(order_cost_entries().filter(order=order))
    fmt = request.GET.get("format")
    if fmt:
        if fmt not in FORMATS:
            return HttpResponseBadRequest(
                f"format: give one of {', '.join(FORMATS)}.", content_type="text/plain"
            )
        return table_response(
            fmt,
            f"order-cost-{filename_part(number)}",
            export_header(ENTRY_HEADER),
            _order_rows(summary, entries),
            title=number,
        )
    rows = [(e, *entry_source(e)) for e in entries]
    context = {
        "tab": "orders",
        "summary": summary,
        "order": order,
        "rows": rows,
        "late_count": sum(1 for e in entries if e.late),
    }
    return render(request, "costing/order.html", context)
