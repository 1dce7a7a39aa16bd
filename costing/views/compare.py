"""An item's standard cost across cost versions (e.g. STD-2026 against PLAN-2027): a table by
element with the change from the first version, and a bar chart drawn on the server (SVG,
core.charts), each version's bar stacked from its elements; CSV and XLSX of the table.

The chart takes its series from `cost_series`: the standard cost per version, stacked by
element. The trend per product (views/trend.py, `trend_series`) draws standard against
actual unit cost per month with the same chart."""

from decimal import Decimal

from django.http import Http404, HttpResponseBadRequest
from django.shortcuts import render
from django.utils.translation import gettext as _

from core.charts import BarSeries, bar_chart
from core.exports import FORMATS, filename_part, table_response
from core.lists import list_text
from core.views_helpers import policy_required
from resources.models import Item

from ..models import ItemCost
from ..selectors.sheets import ELEMENTS, item_costs_across_versions, items_costed
from ..words import ELEMENT_LABELS, export_header, label


def cost_series(costs: list[ItemCost]) -> list[BarSeries]:
    """The chart's series over the versions in `costs`: the standard cost by element (an
    incomplete cost draws no bar: its total is not usable)."""
    standard = BarSeries(
        name=_("Standard cost"),
        values=[[getattr(c, e) for e in ELEMENTS] if c.complete else None for c in costs],
        segment_names=[label(ELEMENT_LABELS, e) for e in ELEMENTS],
    )
    return [standard]


def _change(value: Decimal, base: Decimal) -> tuple[Decimal, Decimal | None]:
    """The change from the base, and in % of it (None when the base is zero)."""
    diff = value - base
    return diff, (diff / base * 100).quantize(Decimal("0.1")) if base else None


def comparison_rows(costs: list[ItemCost]) -> list[dict]:
    base = costs[0] if costs else None
    rows = []
    for c in costs:
        diff, pct = _change(c.total, base.total)
        rows.append(
            {
                "cost": c,
                "elements": [getattr(c, e) for e in ELEMENTS],
                "diff": diff,
                "pct": pct,
                "is_base": c is base,
            }
        )
    return rows


COMPARE_HEADER = [
    "item",
    "version",
    "effective_from",
    "current",
    "complete",
    *ELEMENTS,
    "total",
    "change",
    "change_pct",
]


def _export(fmt: str, item: Item, rows: list[dict]):
    data = (
        [
            item.code,
            r["cost"].version.code,
            r["cost"].version.effective_from.isoformat(),
            "yes" if r["cost"].version.is_current else "no",
            "yes" if r["cost"].complete else "no",
            *r["elements"],
            r["cost"].total,
            r["diff"],
            "" if r["pct"] is None else r["pct"],
        ]
        for r in rows
    )
    return table_response(
        fmt,
        f"cost-versions-{filename_part(item.code)}",
        export_header(COMPARE_HEADER),
        data,
        title=f"{item.code} versions",
    )


@policy_required("costing.rollup.view")
def compare(request):
    choices = items_costed()
    code = (request.GET.get("item") or "").strip() or (choices[0][0] if choices else "")
    item = Item.objects.filter(code=code).first() if code else None
    if code and item is None:
        raise Http404(f"No item {code}.")
    costs = item_costs_across_versions(item_code=code) if item else []
    rows = comparison_rows(costs)
    fmt = request.GET.get("format")
    if fmt:
        if fmt not in FORMATS or item is None:
            return HttpResponseBadRequest(
                f"format: give one of {', '.join(FORMATS)} and an item.", content_type="text/plain"
            )
        return _export(fmt, item, rows)
    context = {
        "tab": "compare",
        "choices": choices,
        "item": item,
        "rows": rows,
        "chart": bar_chart([c.version.code for c in costs], cost_series(costs)) if costs else None,
        "incomplete": [c for c in costs if not c.complete],
        "incomplete_codes": list_text(c.version.code for c in costs if not c.complete),
    }
    return render(request, "costing/compare.html", context)
