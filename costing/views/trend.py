"""Cost trend per product: the standard against the actual unit cost per month (the orders
whose cost period it is, costing.selectors.actual.product_cost_trend), as a server-rendered
SVG bar chart (core.charts, the two series side by side) and a table; CSV and XLSX."""

from django.http import Http404, HttpResponseBadRequest
from django.shortcuts import render
from django.utils.translation import gettext as _

from core.charts import BarSeries, bar_chart
from core.exports import FORMATS, filename_part, table_response
from core.views_helpers import policy_required
from resources.models import Item

from ..selectors.actual import orders_with_cost, product_cost_trend
from ..words import export_header

ACTUAL_OUTLINE = "#c62828"


def trend_series(points) -> list[BarSeries]:
    """Standard and actual unit cost per month; a month without a usable figure (no
    standard, no good quantity yet) draws no bar."""
    return [
        BarSeries(
            name=_("Standard unit cost"),
            values=[[p.standard_unit] if p.standard_unit is not None else None for p in points],
        ),
        BarSeries(
            name=_("Actual unit cost"),
            values=[[p.actual_unit] if p.actual_unit is not None else None for p in points],
            outline=ACTUAL_OUTLINE,
        ),
    ]


HEADER = [
    "product",
    "period",
    "orders",
    "good_quantity",
    "standard_total",
    "actual_total",
    "standard_unit_cost",
    "actual_unit_cost",
    "difference_per_unit",
]


def _none(value):
    return "" if value is None else value


def _rows(code: str, points):
    for p in points:
        yield [
            code,
            p.period.strftime("%Y-%m"),
            p.orders,
            p.good_quantity,
            _none(p.standard_total),
            p.actual_total,
            _none(p.standard_unit),
            _none(p.actual_unit),
            _none(p.unit_difference),
        ]


@policy_required("costing.actual.view")
def trend(request):
    choices = list(
        orders_with_cost().order_by("item__code").values_list("item__code", "item__name").distinct()
    )
    code = (request.GET.get("item") or "").strip() or (choices[0][0] if choices else "")
    item = Item.objects.filter(code=code).first() if code else None
    if code and item is None:
        raise Http404(f"No item {code}.")
    points = product_cost_trend(code) if item else []
    fmt = request.GET.get("format")
    if fmt:
        if fmt not in FORMATS or item is None:
            return HttpResponseBadRequest(
                f"format: give one of {', '.join(FORMATS)} and an item.", content_type="text/plain"
            )
        return table_response(
            fmt,
            f"cost-trend-{filename_part(code)}",
            export_header(HEADER),
            _rows(code, points),
            title=code,
        )
    context = {
        "tab": "trend",
        "choices": choices,
        "item": item,
        "points": points,
        "chart": bar_chart([p.period.strftime("%Y-%m") for p in points], trend_series(points))
        if points
        else None,
    }
    return render(request, "costing/trend.html", context)
