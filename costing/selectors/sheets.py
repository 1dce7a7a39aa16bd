"""Reads for the costing pages: the versions overview, an item's cost sheet (one level of the
roll-up tree at a time) and an item's standard cost across versions. Each costs a constant
number of queries, however many versions, lines or components it shows."""

from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Count, Exists, IntegerField, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce

from resources.models import Item

from ..models import (
    CostRollupRun,
    CostVersion,
    ItemCost,
    ItemCostLine,
    LabourRate,
    MachineRate,
    OverheadRate,
    PurchasePrice,
    problem_reason,
)
from .rollup import item_cost_lines

ELEMENTS = ("material", "labour", "machine", "overhead")
ITEM_PICK_LIMIT = 50


def _count(model) -> Coalesce:
    """How many rows of `model` a version has, as a subquery (several Count()s over joins
    would multiply each other)."""
    rows = (
        model.objects.filter(version=OuterRef("pk"))
        .order_by()
        .values("version")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return Coalesce(Subquery(rows, output_field=IntegerField()), 0)


@dataclass
class VersionRow:
    """A cost version on the overview: its rate counts, its last roll-up and the items the
    roll-up could not cost, each with what it lacks."""

    version: CostVersion
    labour_rates: int
    machine_rates: int
    overhead_rates: int
    purchase_prices: int
    items_costed: int
    last_run: CostRollupRun | None
    incomplete: list[tuple[ItemCost, list[str]]] = field(default_factory=list)


def cost_versions_overview() -> list[VersionRow]:
    """Every version, the current first then the newest, with its counts, its last roll-up
    (with that run's problems) and its incomplete item costs. Four queries."""
    versions = list(
        CostVersion.objects.annotate(
            n_labour=_count(LabourRate),
            n_machine=_count(MachineRate),
            n_overhead=_count(OverheadRate),
            n_prices=_count(PurchasePrice),
            n_costed=_count(ItemCost),
        ).order_by("-is_current", "-effective_from", "code")
    )
    last_ids = CostRollupRun.objects.filter(version=OuterRef("pk")).order_by("-started_at", "-pk")
    run_ids = [
        pk
        for pk in CostVersion.objects.annotate(last=Subquery(last_ids.values("pk")[:1]))
        .filter(last__isnull=False)
        .values_list("last", flat=True)
    ]
    runs = {
        run.version_id: run
        for run in CostRollupRun.objects.filter(pk__in=run_ids).select_related("created_by")
    }
    incomplete: dict[int, list[tuple[ItemCost, list[str]]]] = {}
    for cost in (
        ItemCost.objects.filter(complete=False).select_related("item").order_by("item__code")
    ):
        # The page names the item once, before its reasons: "EB-500: " is taken off them
        # (in the reader's language).
        reasons = [problem_reason(p, cost.item.code) for p in cost.problems]
        incomplete.setdefault(cost.version_id, []).append((cost, reasons))
    return [
        VersionRow(
            version=v,
            labour_rates=v.n_labour,
            machine_rates=v.n_machine,
            overhead_rates=v.n_overhead,
            purchase_prices=v.n_prices,
            items_costed=v.n_costed,
            last_run=runs.get(v.pk),
            incomplete=incomplete.get(v.pk, []),
        )
        for v in versions
    ]


def cost_versions_list() -> QuerySet[CostVersion]:
    """Versions in the order pages offer them: the current first, then by effective date."""
    return CostVersion.objects.order_by("-is_current", "-effective_from", "code")


def cost_version_by_code(code: str | None) -> CostVersion | None:
    """The version with this code; the current one when none is named."""
    if code:
        return CostVersion.objects.filter(code=code).first()
    return CostVersion.objects.filter(is_current=True).first()


def items_pick(*, version: CostVersion, text: str = "") -> list[tuple[str, str, bool]]:
    """Items for the sheet's pick list, whose code or name contains `text`: (code, name,
    costed in this version), made items first; at most ITEM_PICK_LIMIT and one more, which
    tells the page there are more to narrow down. One query."""
    costed = ItemCost.objects.filter(version=version, item=OuterRef("pk"))
    qs = Item.objects.all()
    if text:
        qs = qs.filter(Q(code__icontains=text) | Q(name__icontains=text))
    qs = qs.annotate(costed=Exists(costed)).order_by("low_level_code", "code")
    return list(qs.values_list("code", "name", "costed")[: ITEM_PICK_LIMIT + 1])


@dataclass
class SheetLine:
    """A breakdown line as the sheet shows it, with the cost of its component (in the same
    version) when the component has one of its own to expand."""

    line: ItemCostLine
    child: ItemCost | None


@dataclass
class CostSheet:
    """One level of the roll-up tree: the item's cost by element, its lines, and for each
    material line the component's own cost (one level further down, loaded on demand)."""

    cost: ItemCost
    lines: list[SheetLine]

    @property
    def elements(self) -> list[tuple[str, Decimal]]:
        return [(name, getattr(self.cost, name)) for name in ELEMENTS]


def _sheets(version: CostVersion, codes: set[str]) -> dict[str, CostSheet]:
    """The sheets of these items in `version` (those costed), in three queries."""
    costs = list(
        ItemCost.objects.select_related("item", "version", "rollup")
        .prefetch_related(item_cost_lines())
        .filter(version=version, item__code__in=codes)
    )
    # A bought item's line names the item itself: there is nothing below it.
    wanted = {
        ln.component_id
        for c in costs
        for ln in c.lines.all()
        if ln.component_id and ln.component_id != c.item_id
    }
    children = {
        c.item_id: c
        for c in ItemCost.objects.select_related("item").filter(version=version, item_id__in=wanted)
    }
    return {
        c.item.code: CostSheet(
            cost=c,
            lines=[
                SheetLine(
                    line=ln,
                    child=children.get(ln.component_id)
                    if ln.component_id and ln.component_id != c.item_id
                    else None,
                )
                for ln in c.lines.all()
            ],
        )
        for c in costs
    }


def item_cost_sheet(*, version: CostVersion, item_code: str) -> CostSheet | None:
    """The item's stored cost in `version` with its lines and its components' costs; None
    when the roll-up has not costed the item in this version. Three queries."""
    return _sheets(version, {item_code}).get(item_code)


def item_cost_tree(
    *, version: CostVersion, item_code: str, max_depth: int = 50
) -> list[tuple[int, str, CostSheet]]:
    """The whole roll-up tree below an item, depth first in the order of the lines, for an
    export: (level, the path of item codes, the sheet) per costed item. Three queries per
    level of the tree. The BOM has no cycles (low-level codes); `max_depth` guards anyway."""
    sheets = _sheets(version, {item_code})
    if item_code not in sheets:
        return []
    frontier = {item_code}
    for _ in range(max_depth):
        below = {
            sl.child.item.code for code in frontier for sl in sheets[code].lines if sl.child
        } - sheets.keys()
        if not below:
            break
        sheets.update(_sheets(version, below))
        frontier = below & sheets.keys()
    rows: list[tuple[int, str, CostSheet]] = []

    def walk(code: str, path: str, level: int) -> None:
        sheet = sheets[code]
        rows.append((level, path, sheet))
        if level >= max_depth:
            return
        for sl in sheet.lines:
            if sl.child and sl.child.item.code in sheets:
                walk(sl.child.item.code, f"{path} > {sl.child.item.code}", level + 1)

    walk(item_code, item_code, 0)
    return rows


def item_costs_across_versions(*, item_code: str) -> list[ItemCost]:
    """The item's standard cost in every version that has one, oldest effective date first
    (the order of a comparison or a trend). One query."""
    return list(
        ItemCost.objects.select_related("version", "item")
        .filter(item__code=item_code)
        .order_by("version__effective_from", "version__code")
    )


def items_costed() -> list[tuple[str, str]]:
    """(code, name) of the made items that some version has costed, for the comparison's
    pick list; bought items' costs are their prices. One query."""
    return list(
        Item.objects.filter(standard_costs__isnull=False, source=Item.Source.MAKE)
        .distinct()
        .order_by("low_level_code", "code")
        .values_list("code", "name")
    )
