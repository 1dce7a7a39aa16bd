"""The standard cost roll-up through the database: the demo's engine block at 80.00, a
multi-level product worked by hand (scrap, setup spread over the lot, both overhead bases),
missing rates named, an idempotent re-run, one current version."""

from datetime import date
from decimal import Decimal as D

import pytest
from django.core.management import call_command
from django.db import IntegrityError, transaction

from costing.models import (
    CostVersion,
    ItemCost,
    ItemCostLine,
    LabourRate,
    MachineRate,
    OverheadRate,
    PurchasePrice,
)
from costing.services.rollup import standard_cost_rollup_run
from costing.services.versions import cost_version_make_current
from planning.models import Routing, RoutingStep
from planning.services.bom import bom_low_level_codes_update
from resources.models import Item, Skill, SkillLevel
from tests.factories import (
    BomFactory,
    BomLineFactory,
    EquipmentFactory,
    ItemFactory,
    WorkCenterFactory,
)

pytestmark = pytest.mark.django_db


def test_demo_engine_block_rolls_up_to_80_with_50_20_10(demo_plant):
    version = CostVersion.objects.get(is_current=True)
    assert version.code == "STD-2026"
    eb = ItemCost.objects.get(version=version, item__code="EB-500")
    assert (eb.material, eb.labour, eb.machine, eb.overhead, eb.total) == (
        D("50"),
        D("20"),
        D("10"),
        D("0"),
        D("80"),
    )
    assert eb.complete and eb.problems == []
    # Every element is the sum of its lines: per component and per operation.
    lines = list(eb.lines.select_related("component"))
    for element, total in (("material", 50), ("labour", 20), ("machine", 10)):
        assert sum(x.amount for x in lines if x.element == element) == D(total)
    material = {x.component.code: x.amount for x in lines if x.element == "material"}
    assert material == {"STEEL-42": D("20"), "HSG-100": D("5"), "BRG-6205": D("25")}
    labour = {x.step_no: x.amount for x in lines if x.element == "labour"}
    assert labour == {10: D("5.52"), 20: D("6.78"), 30: D("2.8"), 40: D("4.9")}
    machine = {x.step_no: x.amount for x in lines if x.element == "machine"}
    assert machine == {10: D("3.6"), 20: D("3.39"), 30: D("2.45"), 40: D("0.56")}
    # The housing is made: 0.2 kg ÷ (1 − 2 %) of resin at 2.45, INJ labour, INJ-01, overhead.
    hsg = ItemCost.objects.get(version=version, item__code="HSG-100")
    assert (hsg.material, hsg.labour, hsg.machine, hsg.overhead, hsg.total) == (
        D("0.5"),
        D("0.387"),
        D("3.597"),
        D("0.516"),
        D("5"),
    )


@pytest.fixture
def two_level():
    """A product worked by hand (docs/costing.md, "A worked example"):

    TOP (lot 40), BOM for 10: 20 × MID, 5 × BUY-D with 20 % scrap.
    MID (lot 100), BOM for 1: 3 kg BUY-C with 25 % scrap.
    MID op 10 on WC1/M1, skill S level 2: setup 60, run 3 → 0.6 + 3 = 3.6 min.
    TOP op 10 on WC2 (bench, no machine, no skill): setup 120, run 6 → 3 + 6 = 9 min;
    TOP op 20 on WC1/M1, skill S level 3 (no rate: WC1's): run 1.5 min.
    """
    top = ItemFactory(code="TOP", source=Item.Source.MAKE, lot_policy="fixed", lot_size=D("40"))
    mid = ItemFactory(code="MID", source=Item.Source.MAKE, lot_policy="fixed", lot_size=D("100"))
    buy_c = ItemFactory(code="BUY-C", uom="kg")
    buy_d = ItemFactory(code="BUY-D")
    top_bom = BomFactory(item=top, base_quantity=D("10"))
    BomLineFactory(bom=top_bom, line_no=10, component=mid, quantity=D("20"))
    BomLineFactory(bom=top_bom, line_no=20, component=buy_d, quantity=D("5"), scrap_pct=D("20"))
    BomLineFactory(
        bom=BomFactory(item=mid), line_no=10, component=buy_c, quantity=D("3"), scrap_pct=D("25")
    )
    bom_low_level_codes_update()
    wc1, wc2 = WorkCenterFactory(code="WC1"), WorkCenterFactory(code="WC2")
    m1 = EquipmentFactory(code="M1", work_center=wc1)
    skill = Skill.objects.create(code="S", name="Skill S")

    def step(item, step_no, wc, setup, run, level=None, machine=None):
        routing, _ = Routing.objects.get_or_create(item=item, version="1")
        s = RoutingStep.objects.create(
            routing=routing,
            step_no=step_no,
            name=f"Op {step_no}",
            work_center=wc,
            setup_minutes=D(setup),
            run_minutes_per_unit=D(run),
            required_skill=skill if level else None,
            min_skill_level=level or SkillLevel.QUALIFIED,
        )
        if machine:
            s.eligible_equipment.add(machine)

    step(mid, 10, wc1, "60", "3", level=SkillLevel.QUALIFIED, machine=m1)
    step(top, 10, wc2, "120", "6")
    step(top, 20, wc1, "0", "1.5", level=SkillLevel.EXPERT, machine=m1)

    version = CostVersion.objects.create(code="V", name="Worked", effective_from=date(2026, 1, 1))
    LabourRate.objects.create(version=version, skill=skill, skill_level=2, rate_per_hour=D("50"))
    LabourRate.objects.create(version=version, work_center=wc1, rate_per_hour=D("30"))
    LabourRate.objects.create(version=version, work_center=wc2, rate_per_hour=D("40"))
    MachineRate.objects.create(
        version=version,
        equipment=m1,
        depreciation_per_hour=D("20"),
        energy_per_hour=D("10"),
        maintenance_per_hour=D("10"),
    )
    OverheadRate.objects.create(version=version, work_center=wc1, basis="percent", rate=D("25"))
    OverheadRate.objects.create(version=version, work_center=wc2, basis="per_hour", rate=D("20"))
    PurchasePrice.objects.create(version=version, item=buy_c, price=D("2.5"))
    PurchasePrice.objects.create(version=version, item=buy_d, price=D("8"))
    return version


def _elements(version, code):
    c = ItemCost.objects.get(version=version, item__code=code)
    return (c.material, c.labour, c.machine, c.overhead, c.total)


def test_multi_level_case_worked_by_hand(two_level):
    run = standard_cost_rollup_run(version=two_level)
    assert run.problems == [] and run.items_costed == 4
    # MID: 3 kg ÷ (1 − 25 %) = 4 kg × 2.50 = 10.00; 3.6 min = 0.06 h: labour 0.06 × 50 = 3.00,
    # machine 0.06 × 40 = 2.40, overhead 25 % × 5.40 = 1.35.
    assert _elements(two_level, "MID") == (D("10"), D("3"), D("2.4"), D("1.35"), D("16.75"))
    # TOP: 20 ÷ 10 × 16.75 = 33.50 and 5 ÷ 10 ÷ (1 − 20 %) = 0.625 × 8 = 5.00 → 38.50;
    # op 10: 9 min = 0.15 h × 40 = 6.00 labour, overhead 0.15 × 20 = 3.00;
    # op 20: 1.5 min = 0.025 h × 30 (WC1, no level-3 rate) = 0.75, machine 0.025 × 40 = 1.00,
    # overhead 25 % × 1.75 = 0.4375.
    assert _elements(two_level, "TOP") == (
        D("38.5"),
        D("6.75"),
        D("1"),
        D("3.4375"),
        D("49.6875"),
    )
    top = ItemCost.objects.get(version=two_level, item__code="TOP")
    assert top.lot_size == D("40")
    lines = {(x.element, x.step_no, x.bom_line_no): x for x in top.lines.all()}
    assert lines["material", None, 20].quantity == D("0.625")
    assert lines["labour", 10, None].quantity == D("0.15")
    assert "120 min setup ÷ lot size 40 + 6 min run" in lines["labour", 10, None].basis
    assert lines["labour", 20, None].work_center.code == "WC1"
    assert lines["machine", 20, None].equipment.code == "M1"


def test_missing_rates_are_stored_with_their_messages(two_level):
    MachineRate.objects.filter(version=two_level).delete()
    PurchasePrice.objects.filter(version=two_level, item__code="BUY-D").delete()
    run = standard_cost_rollup_run(version=two_level)
    assert run.items_incomplete == 3  # BUY-D, MID, TOP
    assert [p["text"] for p in run.problems] == [
        "BUY-D: bought item with no purchase price in cost version V.",
        "MID operation 10 Op 10: no machine rate for M1 in cost version V.",
        "TOP: BOM line 10, component MID has no complete cost (see MID).",
        "TOP: BOM line 20, component BUY-D has no complete cost (see BUY-D).",
        "TOP operation 20 Op 20: no machine rate for M1 in cost version V.",
    ]
    top = ItemCost.objects.get(version=two_level, item__code="TOP")
    assert not top.complete and len(top.problems) == 3
    assert not ItemCostLine.objects.filter(item_cost__version=two_level, element="machine").exists()


def test_rerun_is_idempotent(two_level):
    def snapshot():
        costs = list(
            ItemCost.objects.filter(version=two_level)
            .order_by("item__code")
            .values_list("pk", "item__code", "material", "labour", "machine", "overhead", "total")
        )
        lines = list(
            ItemCostLine.objects.filter(item_cost__version=two_level)
            .order_by("item_cost__item__code", "line_no")
            .values_list(
                "item_cost_id", "line_no", "element", "quantity", "rate", "amount", "basis"
            )
        )
        return costs, lines

    standard_cost_rollup_run(version=two_level)
    first = snapshot()
    standard_cost_rollup_run(version=two_level)
    assert snapshot() == first
    assert ItemCost.objects.filter(version=two_level).count() == 4

    # A changed price flows up on the next run, into the same rows.
    PurchasePrice.objects.filter(version=two_level, item__code="BUY-C").update(price=D("5"))
    standard_cost_rollup_run(version=two_level)
    assert _elements(two_level, "MID")[0] == D("20")
    assert snapshot()[0][2][0] == first[0][2][0]  # MID keeps its row


def test_one_version_is_current(two_level):
    other = CostVersion.objects.create(code="W", name="Plan", effective_from=date(2027, 1, 1))
    cost_version_make_current(version=two_level)
    cost_version_make_current(version=other)
    cost_version_make_current(version=other)  # again: nothing changes
    assert list(CostVersion.objects.filter(is_current=True)) == [other]
    with pytest.raises(IntegrityError), transaction.atomic():
        CostVersion.objects.filter(pk=two_level.pk).update(is_current=True)


def test_command_rolls_up_the_current_version(two_level, capsys):
    cost_version_make_current(version=two_level)
    call_command("cost_rollup")
    assert "V: 4 items costed, 0 incomplete" in capsys.readouterr().out
    assert _elements(two_level, "TOP")[4] == D("49.6875")


def test_a_rerun_rewrites_only_the_items_whose_cost_changed(
    two_level, django_assert_max_num_queries
):
    """BUY-D's price moves BUY-D and TOP (which uses it), not MID: MID's lines stay the rows
    they were; every item points at the new run; the stored result equals a roll-up from
    nothing."""

    def line_ids(code):
        return list(
            ItemCostLine.objects.filter(item_cost__version=two_level, item_cost__item__code=code)
            .order_by("line_no")
            .values_list("pk", flat=True)
        )

    def stored():
        return {
            c.item.code: (c.material, c.labour, c.machine, c.overhead, c.total, c.digest)
            for c in ItemCost.objects.filter(version=two_level).select_related("item")
        } | {
            "lines": sorted(
                ItemCostLine.objects.filter(item_cost__version=two_level).values_list(
                    "item_cost__item__code", "line_no", "element", "quantity", "rate", "amount"
                )
            )
        }

    standard_cost_rollup_run(version=two_level)
    mid, top = line_ids("MID"), line_ids("TOP")
    PurchasePrice.objects.filter(version=two_level, item__code="BUY-D").update(price=D("16"))
    run = standard_cost_rollup_run(version=two_level)
    assert line_ids("MID") == mid  # untouched
    assert line_ids("TOP") != top  # replaced
    assert _elements(two_level, "TOP")[0] == D("43.5")  # 33.50 + 0.625 × 16
    assert set(ItemCost.objects.filter(version=two_level).values_list("rollup", flat=True)) == {
        run.pk
    }
    kept = stored()
    ItemCost.objects.filter(version=two_level).delete()
    standard_cost_rollup_run(version=two_level)
    assert stored() == kept
    # Nothing changed: the re-run rewrites no item.
    with django_assert_max_num_queries(40) as ctx:
        standard_cost_rollup_run(version=two_level)
    writes = [q["sql"] for q in ctx.captured_queries if q["sql"].startswith(("INSERT", "DELETE"))]
    assert [w for w in writes if "costing_itemcost" in w] == []
