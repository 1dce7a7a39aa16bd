"""Reads for the standard cost roll-up: its input (items, the BOMs and routings in effect on
the version's date, the version's rates) as the engine's plain data, and its stored results.
A constant number of queries whatever the number of items."""

from collections import defaultdict
from datetime import date
from decimal import Decimal

from django.db.models import Prefetch, Q, QuerySet

from planning.models import Bom, BomLine, Routing, RoutingStep
from resources.models import Item

from ..engines import rollup as engine
from ..models import (
    CostVersion,
    ItemCost,
    ItemCostLine,
    LabourRate,
    MachineRate,
    OverheadRate,
    PurchasePrice,
    problem_shown,
)


def _in_effect(qs: QuerySet, on: date) -> dict[int, int]:
    """item id -> id of the header in effect on `on` (the highest version among those valid
    that day, as planning.selectors.masterdata picks it)."""
    chosen: dict[int, int] = {}
    valid = qs.filter(Q(effective_from__isnull=True) | Q(effective_from__lte=on)).filter(
        Q(effective_to__isnull=True) | Q(effective_to__gte=on)
    )
    for pk, item_id in valid.order_by("item_id", "-version").values_list("pk", "item_id"):
        chosen.setdefault(item_id, pk)
    return chosen


def rollup_rates_load(version: CostVersion) -> engine.Rates:
    """The version's rates and prices, keyed by business codes."""
    rates = engine.Rates(version=version.code)
    for wc, skill, level, rate in LabourRate.objects.filter(version=version).values_list(
        "work_center__code", "skill__code", "skill_level", "rate_per_hour"
    ):
        if wc is not None:
            rates.labour_by_work_center[wc] = rate
        else:
            rates.labour_by_skill[(skill, level)] = rate
    for code, dep, energy, maint in MachineRate.objects.filter(version=version).values_list(
        "equipment__code", "depreciation_per_hour", "energy_per_hour", "maintenance_per_hour"
    ):
        rates.machine_by_equipment[code] = dep + energy + maint
    for wc, basis, rate in OverheadRate.objects.filter(version=version).values_list(
        "work_center__code", "basis", "rate"
    ):
        rates.overhead_by_work_center[wc] = engine.Overhead(basis=basis, rate=rate)
    rates.purchase_price = dict(
        PurchasePrice.objects.filter(version=version).values_list("item__code", "price")
    )
    return rates


def rollup_input_load(version: CostVersion) -> dict:
    """The engine's keyword arguments for `version`: every item, the components of the BOM
    and the operations of the routing in effect on the version's date."""
    on = version.effective_from
    items = list(Item.objects.values_list("pk", "code", "source", "low_level_code", "lot_size"))
    boms = _in_effect(Bom.objects.filter(item__source=Item.Source.MAKE), on)
    routings = _in_effect(Routing.objects.filter(item__source=Item.Source.MAKE), on)
    base = dict(Bom.objects.filter(pk__in=boms.values()).values_list("pk", "base_quantity"))
    components = [
        engine.ComponentIn(
            parent=parent,
            component=component,
            line_no=line_no,
            quantity=quantity,
            base_quantity=base_quantity,
            scrap_pct=scrap,
        )
        for parent, component, line_no, quantity, base_quantity, scrap in BomLine.objects.filter(
            bom_id__in=boms.values()
        ).values_list(
            "bom__item__code",
            "component__code",
            "line_no",
            "quantity",
            "bom__base_quantity",
            "scrap_pct",
        )
    ]
    # The machine an operation is costed on: the first eligible one by code.
    first_machine: dict[int, str] = {}
    through = RoutingStep.eligible_equipment.through
    for step_id, code in (
        through.objects.filter(routingstep__routing_id__in=routings.values())
        .order_by("routingstep_id", "equipment__code")
        .values_list("routingstep_id", "equipment__code")
    ):
        first_machine.setdefault(step_id, code)
    operations = [
        engine.OperationIn(
            item=item,
            step_no=step_no,
            name=name,
            work_center=wc,
            setup_minutes=setup,
            run_minutes=run,
            skill=skill,
            skill_level=level if skill else None,
            equipment=first_machine.get(pk),
        )
        for pk, item, step_no, name, wc, setup, run, skill, level in RoutingStep.objects.filter(
            routing_id__in=routings.values()
        ).values_list(
            "pk",
            "routing__item__code",
            "step_no",
            "name",
            "work_center__code",
            "setup_minutes",
            "run_minutes_per_unit",
            "required_skill__code",
            "min_skill_level",
        )
    ]
    engine_items = []
    for pk, code, source, level, lot_size in items:
        if lot_size > 0:
            lot, lot_source = lot_size, "lot size"
        elif pk in boms:
            lot, lot_source = base[boms[pk]], "BOM batch"
        else:
            lot, lot_source = Decimal("1"), "one unit (no lot size, no BOM)"
        engine_items.append(
            engine.ItemIn(
                code=code,
                make=source == Item.Source.MAKE,
                level=level,
                lot_size=lot,
                lot_source=lot_source,
            )
        )
    return {
        "items": engine_items,
        "components": components,
        "operations": operations,
        "rates": rollup_rates_load(version),
    }


def cost_version_current() -> CostVersion | None:
    return CostVersion.objects.filter(is_current=True).first()


def item_costs_list(*, version: CostVersion | None = None) -> QuerySet[ItemCost]:
    """Stored standard costs, with their item and version (lines not included)."""
    qs = ItemCost.objects.select_related("item", "version")
    if version is not None:
        qs = qs.filter(version=version)
    return qs.order_by("version__code", "item__code")


def item_cost_lines() -> Prefetch:
    """The breakdown of each cost, joined to what its lines name."""
    return Prefetch(
        "lines",
        queryset=ItemCostLine.objects.select_related(
            "component", "work_center", "equipment", "skill"
        ).order_by("line_no"),
    )


def item_costs_with_lines(*, version: CostVersion | None = None) -> QuerySet[ItemCost]:
    return item_costs_list(version=version).prefetch_related(item_cost_lines())


def rollup_problems_by_item(version: CostVersion) -> dict[str, list[str]]:
    """item code -> its problems in the last roll-up of `version`, in the reader's
    language."""
    out: dict[str, list[str]] = defaultdict(list)
    for code, problems in ItemCost.objects.filter(version=version, complete=False).values_list(
        "item__code", "problems"
    ):
        out[code].extend(problem_shown(p) for p in problems)
    return dict(out)
