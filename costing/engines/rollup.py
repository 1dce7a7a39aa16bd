"""Standard cost roll-up: pure, multi-level by low-level code (docs/costing.md).

Plain data in (items, BOM lines, routing operations, the version's rates and prices), plain
data out (per item: the unit cost by element and the lines it is made of). Items are costed
deepest level first, so a component's cost is known before any parent uses it.

Conventions (one place, also in docs/costing.md):
- material of a made item = Σ component unit cost × quantity per ÷ (1 − scrap % / 100), the
  quantity per being the BOM line's quantity ÷ the BOM's base quantity. A made component
  enters at its full unit cost (material + labour + machine + overhead): what is issued to an
  order is valued at the component's standard cost, which is how actual cost values it too.
- labour per operation = (setup minutes ÷ lot size + run minutes per unit) ÷ 60 × the labour
  rate of the step's required skill at its minimum level, else the work center's rate.
- machine per operation = the same hours × the hourly rate (depreciation + energy +
  maintenance) of the operation's machine, the first eligible machine by code; an operation
  with no machine (a manual bench) has no machine cost.
- overhead per operation, where the work center has one: hours × an amount per hour, or a
  percentage of that operation's labour + machine.
- every line's amount is rounded to 4 decimals (half up); element totals are sums of lines,
  so a breakdown always adds up to its total.
- a missing price or rate is never a zero: it is reported, naming the item, the operation and
  what is missing, and the item and every item above it are marked incomplete.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache

from core.formatting import quantity_format
from planning.engines.bomgraph import bom_low_level_codes

from .texts import english, gettext_noop, part, problem

CENT4 = Decimal("0.0001")
# Quantities and hours per unit are kept to 10 decimals when stored.
PER_UNIT_STEP = Decimal("1e-10")
ZERO = Decimal("0")
HUNDRED = Decimal("100")
SIXTY = Decimal("60")

MATERIAL, LABOUR, MACHINE, OVERHEAD = "material", "labour", "machine", "overhead"
PER_HOUR, PERCENT = "per_hour", "percent"


def money(value: Decimal) -> Decimal:
    return value.quantize(CENT4, rounding=ROUND_HALF_UP)


# The basis of a line in words: stored as message id and parameters, shown in the reader's
# language (core/texts.py); the English is stored beside them. Hours are a formula of
# minutes (TIME_*) nested in the rate's sentence.
PURCHASE = gettext_noop("purchase price %(price)s")
COMPONENT = gettext_noop("%(quantity)s × %(component)s at %(cost)s")
TIME_SETUP_RUN = gettext_noop(
    "(%(setup)s min setup ÷ %(lot_source)s %(lot)s + %(run)s min run) ÷ 60"
)
TIME_RUN = gettext_noop("%(run)s min run ÷ 60")
LABOUR_HOURS = gettext_noop("%(hours)s h × %(rate)s/h (%(source)s)")
SKILL_LEVEL = gettext_noop("skill %(skill)s level %(level)s")
WORK_CENTER = gettext_noop("work center %(work_center)s")
MACHINE_HOURS = gettext_noop("%(hours)s h × %(rate)s/h (%(equipment)s)")
OVERHEAD_HOURS = gettext_noop("%(hours)s h × %(rate)s/h (work center %(work_center)s)")
OVERHEAD_PERCENT = gettext_noop(
    "%(rate)s %% of labour + machine %(applied)s (work center %(work_center)s)"
)
# Where an item's lot size came from (rollup_input_load), in words.
LOT_SOURCES = {
    "lot size": gettext_noop("lot size"),
    "BOM batch": gettext_noop("BOM batch"),
    "one unit (no lot size, no BOM)": gettext_noop("one unit (no lot size, no BOM)"),
}


# What the roll-up could not cost, in words: stored as message id and parameters beside the
# English (engines/texts.py `problem`). A problem of the item itself is "item: what", the
# what nested (ITEM_PROBLEM), so that a page listing an item's problems under the item can
# show the what alone (costing.models.problem_reason).
ITEM_PROBLEM = gettext_noop("%(item)s: %(problem)s")
NO_BOM_NO_ROUTING = gettext_noop(
    "made item with no BOM and no routing in effect; nothing to cost it from."
)
NO_LOT_SIZE = gettext_noop("no lot size to spread the setup over (lot size %(lot_size)s).")
NO_PRICE = gettext_noop("bought item with no purchase price.")
NO_PRICE_IN = gettext_noop("bought item with no purchase price in cost version %(version)s.")
NOT_COSTED = gettext_noop("BOM line %(line)s names %(component)s, which is not costed.")
COMPONENT_INCOMPLETE = gettext_noop(
    "BOM line %(line)s, component %(component)s has no complete cost (see %(component)s)."
)
# An operation's problems name the item, the operation and what is missing, in one sentence.
NO_LABOUR_RATE = gettext_noop(
    "%(item)s operation %(step)s %(operation)s: no labour rate for work center %(work_center)s."
)
NO_LABOUR_RATE_IN = gettext_noop(
    "%(item)s operation %(step)s %(operation)s: no labour rate for work center "
    "%(work_center)s in cost version %(version)s."
)
NO_SKILL_RATE = gettext_noop(
    "%(item)s operation %(step)s %(operation)s: no labour rate for skill %(skill)s level "
    "%(level)s or work center %(work_center)s."
)
NO_SKILL_RATE_IN = gettext_noop(
    "%(item)s operation %(step)s %(operation)s: no labour rate for skill %(skill)s level "
    "%(level)s or work center %(work_center)s in cost version %(version)s."
)
NO_MACHINE_RATE = gettext_noop(
    "%(item)s operation %(step)s %(operation)s: no machine rate for %(equipment)s."
)
NO_MACHINE_RATE_IN = gettext_noop(
    "%(item)s operation %(step)s %(operation)s: no machine rate for %(equipment)s in cost "
    "version %(version)s."
)


def item_problem(item: str, msgid: str, **params) -> dict:
    """A problem of `item` itself: "item: what" (a stored problem, engines/texts.py)."""
    return problem(ITEM_PROBLEM, item=item, problem=part(msgid, **params))


def basis_text(msgid: str, **params) -> dict:
    """A line's basis: its English words, message id and parameters (Line's fields)."""
    return {"basis": english(msgid, params), "basis_id": msgid, "basis_params": params}


# A number as people write it (50, 0.545, 2.45), cached: the same rates and minutes recur on
# thousands of lines.
_plain = lru_cache(maxsize=4096)(quantity_format)


@dataclass(frozen=True)
class ItemIn:
    code: str
    make: bool
    level: int = 0
    lot_size: Decimal = Decimal("1")
    # Where the lot size came from, for the breakdown's words ("lot size", "BOM batch").
    lot_source: str = "lot size"


@dataclass(frozen=True)
class ComponentIn:
    parent: str
    component: str
    line_no: int
    quantity: Decimal
    base_quantity: Decimal = Decimal("1")
    scrap_pct: Decimal = ZERO

    @property
    def quantity_per(self) -> Decimal:
        return self.quantity / self.base_quantity / (1 - self.scrap_pct / HUNDRED)


@dataclass(frozen=True)
class OperationIn:
    item: str
    step_no: int
    name: str
    work_center: str
    setup_minutes: Decimal = ZERO
    run_minutes: Decimal = ZERO
    skill: str | None = None
    skill_level: int | None = None
    equipment: str | None = None


@dataclass(frozen=True)
class Overhead:
    basis: str  # PER_HOUR or PERCENT
    rate: Decimal


@dataclass
class Rates:
    """A cost version's rates and prices, keyed by business codes."""

    version: str = ""
    labour_by_skill: dict[tuple[str, int], Decimal] = field(default_factory=dict)
    labour_by_work_center: dict[str, Decimal] = field(default_factory=dict)
    machine_by_equipment: dict[str, Decimal] = field(default_factory=dict)
    overhead_by_work_center: dict[str, Overhead] = field(default_factory=dict)
    purchase_price: dict[str, Decimal] = field(default_factory=dict)


@dataclass
class Line:
    element: str
    amount: Decimal
    quantity: Decimal
    rate: Decimal
    basis: str  # in English; basis_id and basis_params for the reader's language
    component: str | None = None
    bom_line_no: int | None = None
    step_no: int | None = None
    operation: str = ""
    work_center: str | None = None
    equipment: str | None = None
    skill: str | None = None
    basis_id: str = ""
    basis_params: dict = field(default_factory=dict)


@dataclass
class ItemCostOut:
    item: str
    lot_size: Decimal
    material: Decimal = ZERO
    labour: Decimal = ZERO
    machine: Decimal = ZERO
    overhead: Decimal = ZERO
    lines: list[Line] = field(default_factory=list)
    # {"text": English, "id": message id, "params": ...} each (engines/texts.py `problem`)
    problems: list[dict] = field(default_factory=list)

    @property
    def total(self) -> Decimal:
        return self.material + self.labour + self.machine + self.overhead

    @property
    def complete(self) -> bool:
        return not self.problems

    def add(self, line: Line) -> None:
        self.lines.append(line)
        setattr(self, line.element, getattr(self, line.element) + line.amount)


def _levels(items: list[ItemIn], components: list[ComponentIn]) -> dict[str, int]:
    """The items' low-level codes as given (MRP keeps them on the item), unless a BOM line
    contradicts them (a component not below its parent: codes not refreshed since a BOM
    changed); then recomputed from these lines with planning's own function."""
    levels = {i.code: i.level for i in items}
    if all(levels.get(c.component, 0) > levels.get(c.parent, 0) for c in components):
        return levels
    computed = bom_low_level_codes(((c.parent, c.component) for c in components), levels)
    return {code: computed.get(code, 0) for code in levels}


def standard_cost_rollup(
    *,
    items: list[ItemIn],
    components: list[ComponentIn],
    operations: list[OperationIn],
    rates: Rates,
) -> dict[str, ItemCostOut]:
    """Every item's standard unit cost under `rates`, deepest level first.

    `components` and `operations` are those of the BOM and routing in effect for each made
    item; a component that is not among `items` is reported as missing."""
    by_parent: dict[str, list[ComponentIn]] = defaultdict(list)
    for c in components:
        by_parent[c.parent].append(c)
    ops_of: dict[str, list[OperationIn]] = defaultdict(list)
    for op in operations:
        ops_of[op.item].append(op)
    levels = _levels(items, components)
    order = sorted(items, key=lambda i: (-levels[i.code], i.code))
    results: dict[str, ItemCostOut] = {}
    version = rates.version
    for item in order:
        out = ItemCostOut(item=item.code, lot_size=item.lot_size)
        if not item.make:
            _bought(item, out, rates, version)
        else:
            lines = sorted(by_parent.get(item.code, ()), key=lambda c: c.line_no)
            steps = sorted(ops_of.get(item.code, ()), key=lambda o: o.step_no)
            if not lines and not steps:
                out.problems.append(item_problem(item.code, NO_BOM_NO_ROUTING))
            _material(item, lines, out, results)
            if steps and item.lot_size <= 0:
                out.problems.append(
                    item_problem(item.code, NO_LOT_SIZE, lot_size=_plain(item.lot_size))
                )
            else:
                for op in steps:
                    _operation(item, op, out, rates, version)
        results[item.code] = out
    return results


def _bought(item: ItemIn, out: ItemCostOut, rates: Rates, version: str) -> None:
    price = rates.purchase_price.get(item.code)
    if price is None:
        out.problems.append(
            item_problem(item.code, NO_PRICE_IN, version=version)
            if version
            else item_problem(item.code, NO_PRICE)
        )
        return
    out.add(
        Line(
            element=MATERIAL,
            amount=money(price),
            quantity=Decimal("1"),
            rate=price,
            **basis_text(PURCHASE, price=_plain(price)),
            component=item.code,
        )
    )


def _material(
    item: ItemIn, lines: list[ComponentIn], out: ItemCostOut, results: dict[str, ItemCostOut]
) -> None:
    for c in lines:
        done = results.get(c.component)
        if done is None:
            out.problems.append(
                item_problem(item.code, NOT_COSTED, line=c.line_no, component=c.component)
            )
            continue
        if not done.complete:
            out.problems.append(
                item_problem(item.code, COMPONENT_INCOMPLETE, line=c.line_no, component=c.component)
            )
        qty = c.quantity_per
        scrap = f" ÷ (1 − {_plain(c.scrap_pct)} %)" if c.scrap_pct else ""
        base = f" ÷ {_plain(c.base_quantity)}" if c.base_quantity != 1 else ""
        out.add(
            Line(
                element=MATERIAL,
                amount=money(done.total * qty),
                quantity=qty,
                rate=done.total,
                **basis_text(
                    COMPONENT,
                    quantity=f"{_plain(c.quantity)}{base}{scrap}",  # a formula: no words
                    component=c.component,
                    cost=_plain(done.total),
                ),
                component=c.component,
                bom_line_no=c.line_no,
            )
        )


def _operation(item: ItemIn, op: OperationIn, out: ItemCostOut, rates: Rates, version: str) -> None:
    where = {"item": item.code, "step": op.step_no, "operation": op.name}
    if version:
        where["version"] = version
    minutes = op.setup_minutes / item.lot_size + op.run_minutes
    hours = minutes / SIXTY
    lot_source = LOT_SOURCES.get(item.lot_source)
    time_words = (
        part(
            TIME_SETUP_RUN,
            setup=_plain(op.setup_minutes),
            lot_source=part(lot_source) if lot_source else item.lot_source,
            lot=_plain(item.lot_size),
            run=_plain(op.run_minutes),
        )
        if op.setup_minutes
        else part(TIME_RUN, run=_plain(op.run_minutes))
    )
    common = {"step_no": op.step_no, "operation": op.name, "work_center": op.work_center}

    labour_rate, labour_from, by_skill = None, {}, False
    if op.skill is not None:
        labour_rate = rates.labour_by_skill.get((op.skill, op.skill_level or 0))
        labour_from = part(SKILL_LEVEL, skill=op.skill, level=op.skill_level)
        by_skill = labour_rate is not None
    if labour_rate is None:
        labour_rate = rates.labour_by_work_center.get(op.work_center)
        labour_from = part(WORK_CENTER, work_center=op.work_center)
    labour = machine = None
    if labour_rate is None:
        if op.skill:
            msgid = NO_SKILL_RATE_IN if version else NO_SKILL_RATE
            skill = {"skill": op.skill, "level": op.skill_level or 0}
        else:
            msgid, skill = (NO_LABOUR_RATE_IN if version else NO_LABOUR_RATE), {}
        out.problems.append(problem(msgid, **where, **skill, work_center=op.work_center))
    else:
        labour = money(hours * labour_rate)
        out.add(
            Line(
                element=LABOUR,
                amount=labour,
                quantity=hours,
                rate=labour_rate,
                **basis_text(
                    LABOUR_HOURS, hours=time_words, rate=_plain(labour_rate), source=labour_from
                ),
                skill=op.skill if by_skill else None,
                **common,
            )
        )
    if op.equipment is not None:
        machine_rate = rates.machine_by_equipment.get(op.equipment)
        if machine_rate is None:
            msgid = NO_MACHINE_RATE_IN if version else NO_MACHINE_RATE
            out.problems.append(problem(msgid, **where, equipment=op.equipment))
        else:
            machine = money(hours * machine_rate)
            out.add(
                Line(
                    element=MACHINE,
                    amount=machine,
                    quantity=hours,
                    rate=machine_rate,
                    **basis_text(
                        MACHINE_HOURS,
                        hours=time_words,
                        rate=_plain(machine_rate),
                        equipment=op.equipment,
                    ),
                    equipment=op.equipment,
                    **common,
                )
            )
    overhead = rates.overhead_by_work_center.get(op.work_center)
    if overhead is None:
        return
    if overhead.basis == PERCENT:
        applied = (labour or ZERO) + (machine or ZERO)
        out.add(
            Line(
                element=OVERHEAD,
                amount=money(applied * overhead.rate / HUNDRED),
                quantity=applied,
                rate=overhead.rate,
                **basis_text(
                    OVERHEAD_PERCENT,
                    rate=_plain(overhead.rate),
                    applied=_plain(applied),
                    work_center=op.work_center,
                ),
                **common,
            )
        )
    else:
        out.add(
            Line(
                element=OVERHEAD,
                amount=money(hours * overhead.rate),
                quantity=hours,
                rate=overhead.rate,
                **basis_text(
                    OVERHEAD_HOURS,
                    hours=time_words,
                    rate=_plain(overhead.rate),
                    work_center=op.work_center,
                ),
                **common,
            )
        )
