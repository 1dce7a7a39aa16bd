"""The roll-up engine on plain data: missing prices and rates are named, never zero; an
incomplete component makes its parents incomplete; overhead as a percentage; low-level codes
that contradict the BOM are recomputed."""

from decimal import Decimal as D

from costing.engines.rollup import (
    PER_HOUR,
    PERCENT,
    ComponentIn,
    ItemIn,
    OperationIn,
    Overhead,
    Rates,
    standard_cost_rollup,
)


def _english(problems: list[dict]) -> list[str]:
    """The problems' English (each is stored with its message id and parameters)."""
    return [p["text"] for p in problems]


def _plant(levels=(0, 1, 1)):
    items = [
        ItemIn(code="TOP", make=True, level=levels[0], lot_size=D("10")),
        ItemIn(code="BUY-1", make=False, level=levels[1]),
        ItemIn(code="BUY-2", make=False, level=levels[2]),
    ]
    components = [
        ComponentIn(parent="TOP", component="BUY-1", line_no=10, quantity=D("2")),
        ComponentIn(parent="TOP", component="BUY-2", line_no=20, quantity=D("1")),
    ]
    operations = [
        OperationIn(
            item="TOP",
            step_no=10,
            name="Turning",
            work_center="LATHE",
            setup_minutes=D("30"),
            run_minutes=D("3"),
            skill="TURN",
            skill_level=2,
            equipment="L-01",
        )
    ]
    return items, components, operations


def test_every_missing_price_and_rate_is_named_and_makes_the_item_incomplete():
    items, components, operations = _plant()
    rates = Rates(version="V1", purchase_price={"BUY-1": D("4")})
    result = standard_cost_rollup(
        items=items, components=components, operations=operations, rates=rates
    )
    assert result["BUY-1"].complete and result["BUY-1"].total == D("4")
    assert _english(result["BUY-2"].problems) == [
        "BUY-2: bought item with no purchase price in cost version V1."
    ]
    top = result["TOP"]
    assert not top.complete
    assert _english(top.problems) == [
        "TOP: BOM line 20, component BUY-2 has no complete cost (see BUY-2).",
        "TOP operation 10 Turning: no labour rate for skill TURN level 2 or work center LATHE "
        "in cost version V1.",
        "TOP operation 10 Turning: no machine rate for L-01 in cost version V1.",
    ]
    # Nothing was priced at zero in silence: no labour or machine line exists.
    assert [line.element for line in top.lines] == ["material", "material"]


def test_a_missing_component_and_a_made_item_with_nothing_to_cost_from_are_named():
    items = [ItemIn(code="TOP", make=True), ItemIn(code="EMPTY", make=True)]
    components = [ComponentIn(parent="TOP", component="GHOST", line_no=10, quantity=D("1"))]
    result = standard_cost_rollup(items=items, components=components, operations=[], rates=Rates())
    assert _english(result["TOP"].problems) == [
        "TOP: BOM line 10 names GHOST, which is not costed."
    ]
    assert _english(result["EMPTY"].problems) == [
        "EMPTY: made item with no BOM and no routing in effect; nothing to cost it from."
    ]


def test_skill_rate_first_then_work_center_and_percentage_overhead():
    items, components, operations = _plant()
    rates = Rates(
        purchase_price={"BUY-1": D("4"), "BUY-2": D("1.5")},
        labour_by_skill={("TURN", 2): D("60")},
        labour_by_work_center={"LATHE": D("30")},
        machine_by_equipment={"L-01": D("40")},
        overhead_by_work_center={"LATHE": Overhead(basis=PERCENT, rate=D("10"))},
    )
    top = standard_cost_rollup(
        items=items, components=components, operations=operations, rates=rates
    )["TOP"]
    # (30 ÷ 10 + 3) min = 6 min = 0.1 h: labour 0.1 × 60, machine 0.1 × 40, overhead 10 % of 10.
    assert (top.material, top.labour, top.machine, top.overhead) == (
        D("9.5"),
        D("6.0000"),
        D("4.0000"),
        D("1.0000"),
    )
    assert top.total == D("20.5")
    assert sum(line.amount for line in top.lines) == top.total

    # Without the skill's rate the work center's applies; per-hour overhead.
    rates.labour_by_skill = {}
    rates.overhead_by_work_center = {"LATHE": Overhead(basis=PER_HOUR, rate=D("5"))}
    top = standard_cost_rollup(
        items=items, components=components, operations=operations, rates=rates
    )["TOP"]
    assert (top.labour, top.overhead) == (D("3.0000"), D("0.5000"))
    labour = next(line for line in top.lines if line.element == "labour")
    assert "work center LATHE" in labour.basis and labour.skill is None


def test_low_level_codes_that_contradict_the_boms_are_recomputed():
    # Levels as if never refreshed: everything at 0, the parent sorted before its components.
    items, components, operations = _plant(levels=(0, 0, 0))
    rates = Rates(
        purchase_price={"BUY-1": D("4"), "BUY-2": D("1.5")},
        labour_by_work_center={"LATHE": D("30")},
        machine_by_equipment={"L-01": D("40")},
    )
    top = standard_cost_rollup(
        items=items, components=components, operations=operations, rates=rates
    )["TOP"]
    assert top.complete and top.material == D("9.5")


def test_a_zero_lot_size_is_reported_not_divided_by():
    items = [ItemIn(code="TOP", make=True, lot_size=D("0"))]
    ops = [OperationIn(item="TOP", step_no=10, name="Op", work_center="W", setup_minutes=D("5"))]
    result = standard_cost_rollup(
        items=items, components=[], operations=ops, rates=Rates(labour_by_work_center={"W": D("1")})
    )
    assert _english(result["TOP"].problems) == [
        "TOP: no lot size to spread the setup over (lot size 0)."
    ]
