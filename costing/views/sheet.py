"""The item cost sheet (HTMX): an item's standard cost in a version by element, the lines
behind each figure (per component, and per operation and element, with quantity, rate and
the basis in words), and its components expandable level by level down to bought items and
their purchase prices. A pick list finds the item; the whole tree exports to CSV or XLSX."""

from django.http import Http404, HttpResponseBadRequest
from django.shortcuts import render

from core.exports import FORMATS, filename_part, table_response
from core.views_helpers import policy_required, whole_number
from resources.models import Item

from ..selectors.sheets import (
    ITEM_PICK_LIMIT,
    cost_version_by_code,
    cost_versions_list,
    item_cost_sheet,
    item_cost_tree,
    items_pick,
)
from ..words import export_header

NODE = "costing/partials/sheet_node.html"


def _version(code: str | None):
    version = cost_version_by_code(code)
    if version is None:
        raise Http404(f"No cost version {code}." if code else "No cost version is current.")
    return version


def _picks(version, text: str) -> dict:
    picks = items_pick(version=version, text=text)
    return {"picks": picks[:ITEM_PICK_LIMIT], "more": len(picks) > ITEM_PICK_LIMIT}


@policy_required("costing.rollup.view")
def sheet(request):
    """The page: version, item search and the item's sheet; `?format=csv|xlsx` the tree."""
    named = (request.GET.get("version") or "").strip()
    if not named and cost_version_by_code(None) is None:
        # Nothing to show yet: say where a version becomes current (not a 404 from a tab).
        return render(request, "costing/sheet.html", {"tab": "sheet", "version": None})
    version = _version(named)
    code = (request.GET.get("item") or "").strip()
    text = (request.GET.get("q") or "").strip()
    fmt = request.GET.get("format")
    item = Item.objects.filter(code=code).first() if code else None
    if code and item is None:
        raise Http404(f"No item {code}.")
    if fmt:
        if fmt not in FORMATS:
            return HttpResponseBadRequest(
                f"format: give one of {', '.join(FORMATS)}.", content_type="text/plain"
            )
        if item is None:
            return HttpResponseBadRequest(
                "item: name the item whose cost sheet to export.", content_type="text/plain"
            )
        return _export(fmt, version, item)
    context = {
        "tab": "sheet",
        "version": version,
        "versions": cost_versions_list(),
        "item": item,
        "q": text,
        # With an item open the list waits for a search: the sheet is what the page is for.
        **(_picks(version, text) if text or item is None else {}),
        "sheet": item_cost_sheet(version=version, item_code=code) if item else None,
        "level": 0,
    }
    return render(request, "costing/sheet.html", context)


@policy_required("costing.rollup.view")
def sheet_items(request):
    """The pick list of items whose code or name holds `q` (HTMX, as you type)."""
    version = _version((request.GET.get("version") or "").strip())
    text = (request.GET.get("q") or "").strip()
    return render(
        request,
        "costing/partials/sheet_items.html",
        {"version": version, "q": text, **_picks(version, text)},
    )


@policy_required("costing.rollup.view")
def sheet_node(request, version: str, item: str):
    """One level further down the tree: a component's own sheet (HTMX partial)."""
    cost_version = _version(version)
    node = item_cost_sheet(version=cost_version, item_code=item)
    if node is None:
        raise Http404(f"{item} has no standard cost in {version}.")
    level = min(whole_number(request.GET.get("level")) or 1, 50)
    return render(request, NODE, {"sheet": node, "version": cost_version, "level": level})


SHEET_HEADER = [
    "level",
    "path",
    "item",
    "name",
    "row",
    "lot_size",
    "material",
    "labour",
    "machine",
    "overhead",
    "total",
    "complete",
    "problems",
    "line_no",
    "element",
    "component",
    "bom_line_no",
    "step_no",
    "operation",
    "work_center",
    "equipment",
    "skill",
    "quantity",
    "rate",
    "amount",
    "basis",
]


def _code(obj) -> str:
    return obj.code if obj is not None else ""


def _tree_rows(tree):
    """An item row (its cost by element) then its lines, for each item of the tree."""
    blank_item = [""] * 8
    for level, path, node in tree:
        cost = node.cost
        head = [level, path, cost.item.code, cost.item.name]
        yield [
            *head,
            "item",
            cost.lot_size,
            cost.material,
            cost.labour,
            cost.machine,
            cost.overhead,
            cost.total,
            "yes" if cost.complete else "no",
            " ".join(cost.problems_shown),  # in the reader's language
            *[""] * 13,
        ]
        for sl in node.lines:
            ln = sl.line
            yield [
                *head,
                "line",
                *blank_item,
                ln.line_no,
                ln.element,
                _code(ln.component),
                ln.bom_line_no if ln.bom_line_no is not None else "",
                ln.step_no if ln.step_no is not None else "",
                ln.operation,
                _code(ln.work_center),
                _code(ln.equipment),
                _code(ln.skill),
                ln.quantity,
                ln.rate,
                ln.amount,
                ln.basis_shown,  # in the reader's language (core/texts.py)
            ]


def _export(fmt: str, version, item):
    tree = item_cost_tree(version=version, item_code=item.code)
    if not tree:
        return HttpResponseBadRequest(
            f"item: {item.code} has no standard cost in {version.code}; run the roll-up.",
            content_type="text/plain",
        )
    stem = f"cost-sheet-{filename_part(version.code)}-{filename_part(item.code)}"
    return table_response(
        fmt,
        stem,
        export_header(SHEET_HEADER),
        _tree_rows(tree),
        title=f"{item.code} {version.code}",
    )
