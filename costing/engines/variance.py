"""Cost variances of production orders: pure, plain data in and out (docs/costing.md,
"Variances").

Per order, the standard allowed for each operation is the product's standard per unit (the
roll-up's breakdown lines) × the units that came out of that operation (good + scrapped
there); a component's material is allowed at the operation it is issued at. Against it:

- material price   = actual amount − actual quantity × standard price
- material usage   = (actual quantity − standard quantity) × standard price
- labour rate      = actual amount − actual hours × standard rate
- labour efficiency= (actual hours − standard hours) × standard rate
- machine rate     = actual amount − actual hours × standard rate (another machine, its rate)
- machine efficiency = (actual hours − standard hours) × standard rate
- overhead         = actual overhead − standard overhead allowed
- scrap            = units scrapped at an operation × the standard cost accumulated up to and
  including it (what the lost units had absorbed, at standard)

Positive is unfavourable (cost above standard). The element variances add up to actual −
standard allowed; with scrap, to actual − standard of the good output (for a finished order,
actual − good quantity × standard unit cost). A variance is flagged when it is more than the
threshold percentage of its standard amount (or has no standard at all), with its likely
cause in words: the operators, machines or lots behind it.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from core.formatting import quantity_format

from .texts import english as _english
from .texts import gettext_noop
from .texts import part as _part

ZERO = Decimal("0")
HUNDRED = Decimal("100")
CENT4 = Decimal("0.0001")
CENT2 = Decimal("0.01")

MATERIAL, LABOUR, MACHINE, OVERHEAD, SCRAP = "material", "labour", "machine", "overhead", "scrap"
MATERIAL_PRICE, MATERIAL_USAGE = "material_price", "material_usage"
LABOUR_RATE, LABOUR_EFFICIENCY = "labour_rate", "labour_efficiency"
MACHINE_RATE, MACHINE_EFFICIENCY = "machine_rate", "machine_efficiency"
OVERHEAD_SPEND = "overhead"
SCRAP_LOSS = "scrap"
LATE = "late"
KINDS = (
    MATERIAL_PRICE,
    MATERIAL_USAGE,
    LABOUR_RATE,
    LABOUR_EFFICIENCY,
    MACHINE_RATE,
    MACHINE_EFFICIENCY,
    OVERHEAD_SPEND,
    SCRAP_LOSS,
    LATE,
)
LABELS = {
    MATERIAL_PRICE: "material price",
    MATERIAL_USAGE: "material usage",
    LABOUR_RATE: "labour rate",
    LABOUR_EFFICIENCY: "labour efficiency",
    MACHINE_RATE: "machine rate",
    MACHINE_EFFICIENCY: "machine efficiency",
    OVERHEAD_SPEND: "overhead",
    SCRAP_LOSS: "scrap",
    LATE: "late postings",
}


def money(value: Decimal) -> Decimal:
    return value.quantize(CENT4, rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class StandardLine:
    """One line of the product's standard per unit: a component's material (with the
    operation it is issued at), or an operation's labour, machine or overhead."""

    element: str
    step_no: int
    quantity: Decimal  # per unit: component quantity, or hours
    rate: Decimal
    amount: Decimal  # per unit
    component: str | None = None
    work_center: str | None = None


@dataclass(frozen=True)
class ActualLine:
    """What was posted for one element of one operation (or one component), with who and
    what it came from."""

    element: str
    step_no: int
    quantity: Decimal
    amount: Decimal
    component: str | None = None
    work_center: str | None = None
    operators: tuple[str, ...] = ()
    equipment: tuple[str, ...] = ()
    lots: tuple[str, ...] = ()


@dataclass
class OrderIn:
    order: str
    product: str
    period: str  # the order's variance period, YYYY-MM
    output: dict[int, Decimal]  # step -> units out of the operation (good + scrapped)
    scrap: dict[int, Decimal]  # step -> units scrapped there (as posted)
    standard: list[StandardLine]
    actual: list[ActualLine]
    late: dict[tuple[str, str], Decimal] = field(default_factory=dict)  # (period, element)
    work_centers: dict[int, str] = field(default_factory=dict)  # step -> work center


@dataclass
class Variance:
    order: str
    product: str
    period: str
    kind: str
    element: str
    step_no: int | None
    work_center: str | None
    component: str | None
    standard_quantity: Decimal
    actual_quantity: Decimal
    standard_rate: Decimal
    actual_rate: Decimal | None
    standard_amount: Decimal
    actual_amount: Decimal
    amount: Decimal
    operators: tuple[str, ...] = ()
    equipment: tuple[str, ...] = ()
    lots: tuple[str, ...] = ()
    flagged: bool = False
    cause: str = ""
    # The cause as a stored text (core/texts.py): its message id and parameters, for pages
    # that show it in the reader's language; `cause` is its English.
    cause_id: str = ""
    cause_params: dict = field(default_factory=dict)

    @property
    def pct(self) -> Decimal | None:
        """The variance in % of its standard amount; for scrap, the units scrapped in % of
        the units out of the operation. None without a standard."""
        if self.kind == SCRAP_LOSS:
            if self.standard_quantity == 0:
                return None
            return (self.actual_quantity / self.standard_quantity * HUNDRED).quantize(
                Decimal("0.1")
            )
        if self.standard_amount == 0:
            return None
        return (self.amount / self.standard_amount * HUNDRED).quantize(Decimal("0.1"))


def cumulative_standard(standard: Iterable[StandardLine], steps: Iterable[int]) -> dict:
    """Step -> the standard per unit of every operation up to and including it."""
    per_step: dict[int, Decimal] = defaultdict(Decimal)
    for line in standard:
        per_step[line.step_no] += line.amount
    running, out = ZERO, {}
    for step in sorted(set(per_step) | set(steps)):
        running += per_step.get(step, ZERO)
        out[step] = running
    return out


def _key(element: str, step_no: int, component: str | None):
    # Material is matched by component (it is allowed at its standard operation); the
    # others by operation.
    return (element, component) if element == MATERIAL else (element, step_no)


SPLITS = {
    MATERIAL: (MATERIAL_PRICE, MATERIAL_USAGE),
    LABOUR: (LABOUR_RATE, LABOUR_EFFICIENCY),
    MACHINE: (MACHINE_RATE, MACHINE_EFFICIENCY),
}


def order_variances(order: OrderIn, *, threshold_pct: Decimal) -> list[Variance]:
    """Every variance of one order, flagged where over `threshold_pct` % of its standard."""
    std: dict[tuple, list[StandardLine]] = defaultdict(list)
    for line in order.standard:
        std[_key(line.element, line.step_no, line.component)].append(line)
    act: dict[tuple, list[ActualLine]] = defaultdict(list)
    for line in order.actual:
        if line.element != SCRAP:
            act[_key(line.element, line.step_no, line.component)].append(line)
    out: list[Variance] = []
    for key in sorted(set(std) | set(act), key=lambda k: (k[0], str(k[1]))):
        element = key[0]
        s_lines, a_lines = std.get(key, []), act.get(key, [])
        step = s_lines[0].step_no if s_lines else a_lines[0].step_no
        units = order.output.get(step, ZERO)
        s_qty = sum((units * s.quantity for s in s_lines), ZERO)
        s_amount = money(sum((units * s.amount for s in s_lines), ZERO))
        s_rate = s_lines[0].rate if s_lines else ZERO
        a_qty = sum((a.quantity for a in a_lines), ZERO)
        a_amount = sum((a.amount for a in a_lines), ZERO)
        if s_amount == 0 and a_amount == 0 and a_qty == 0:
            continue
        if not s_lines:
            s_rate = (a_amount / a_qty) if a_qty else ZERO  # unplanned: all of it is usage
        common = {
            "order": order.order,
            "product": order.product,
            "period": order.period,
            "element": element,
            "step_no": step,
            "work_center": order.work_centers.get(step)
            or next((x.work_center for x in (*s_lines, *a_lines) if x.work_center), None),
            "component": key[1] if element == MATERIAL else None,
            "standard_quantity": s_qty.quantize(Decimal("1e-10")),
            "actual_quantity": a_qty,
            "standard_rate": s_rate,
            "actual_rate": (a_amount / a_qty).quantize(CENT4) if a_qty else None,
            "standard_amount": s_amount,
            "actual_amount": a_amount,
            "operators": tuple(sorted({o for a in a_lines for o in a.operators})),
            "equipment": tuple(sorted({e for a in a_lines for e in a.equipment})),
            "lots": tuple(sorted({lot for a in a_lines for lot in a.lots})),
        }
        if element in SPLITS:
            price_kind, usage_kind = SPLITS[element]
            # Not rounded: each record's share (the drill-down) adds up to it exactly.
            at_standard = a_qty * s_rate
            out.append(Variance(kind=price_kind, amount=a_amount - at_standard, **common))
            out.append(Variance(kind=usage_kind, amount=at_standard - s_amount, **common))
        else:
            out.append(Variance(kind=OVERHEAD_SPEND, amount=a_amount - s_amount, **common))
    # Scrap: what the lost units had absorbed at standard (the memo posted with each report).
    cumulative = cumulative_standard(order.standard, order.output)
    scrapped: dict[int, list[ActualLine]] = defaultdict(list)
    for line in order.actual:
        if line.element == SCRAP:
            scrapped[line.step_no].append(line)
    for step in sorted(scrapped):
        lines = scrapped[step]
        qty = sum((a.quantity for a in lines), ZERO)
        amount = sum((a.amount for a in lines), ZERO)
        out.append(
            Variance(
                order=order.order,
                product=order.product,
                period=order.period,
                kind=SCRAP_LOSS,
                element=SCRAP,
                step_no=step,
                work_center=order.work_centers.get(step),
                component=None,
                # The units out of the operation, of which `actual_quantity` were scrapped.
                standard_quantity=order.output.get(step, ZERO),
                actual_quantity=qty,
                standard_rate=cumulative.get(step, ZERO),
                actual_rate=(amount / qty).quantize(CENT4) if qty else None,
                standard_amount=ZERO,
                actual_amount=amount,
                amount=amount,
                operators=tuple(sorted({o for a in lines for o in a.operators})),
                equipment=tuple(sorted({e for a in lines for e in a.equipment})),
            )
        )
    for (period, element), amount in sorted(order.late.items()):
        out.append(
            Variance(
                order=order.order,
                product=order.product,
                period=period,
                kind=LATE,
                element=element,
                step_no=None,
                work_center=None,
                component=None,
                standard_quantity=ZERO,
                actual_quantity=ZERO,
                standard_rate=ZERO,
                actual_rate=None,
                standard_amount=ZERO,
                actual_amount=amount,
                amount=amount,
            )
        )
    for v in out:
        _flag(v, threshold_pct)
    return out


def _flag(v: Variance, threshold_pct: Decimal) -> None:
    if v.amount == 0 or v.kind == LATE:
        return
    pct = v.pct
    if pct is not None and abs(pct) <= threshold_pct:
        return
    v.flagged = True
    v.cause_id, v.cause_params = variance_cause_text(v)
    v.cause = _english(v.cause_id, v.cause_params)


CAUSE = gettext_noop("%(kind)s%(what)s %(size)s%(where)s%(who)s")
CAUSE_SCRAP = gettext_noop(
    "scrap %(actual)s of %(standard)s units (%(size)s, %(amount)s at standard)%(where)s%(who)s"
)
OF_COMPONENT = gettext_noop(" of %(component)s")
ON_OPERATION = gettext_noop(" on operation %(step)s")
BY_OPERATORS = gettext_noop(" — operators %(names)s")
ON_MACHINES = gettext_noop(" — machines %(names)s")
FROM_LOTS = gettext_noop(" — lots %(names)s")


def variance_cause_text(v: Variance) -> tuple[str, dict]:
    """The likely cause of a variance as a message id and parameters (the kind, the size,
    who and what is behind it)."""
    pct = v.pct
    size = (
        f"{'+' if v.amount > 0 else ''}{pct} %"
        if pct is not None
        else f"{v.amount.quantize(CENT2, rounding=ROUND_HALF_UP):+}"
    )
    where = _part(ON_OPERATION, step=v.step_no) if v.step_no is not None else ""
    # The names as a list: listed in the reader's language when shown (core/texts.py).
    who = ""
    if v.kind in (LABOUR_EFFICIENCY, LABOUR_RATE, SCRAP_LOSS) and v.operators:
        who = _part(BY_OPERATORS, names=list(v.operators))
    if v.kind in (MACHINE_EFFICIENCY, MACHINE_RATE) and v.equipment:
        who = _part(ON_MACHINES, names=list(v.equipment))
    if v.kind == MATERIAL_PRICE and v.lots:
        who = _part(FROM_LOTS, names=list(v.lots))
    if v.kind == SCRAP_LOSS:
        return CAUSE_SCRAP, {
            "actual": quantity_format(v.actual_quantity),
            "standard": quantity_format(v.standard_quantity),
            "size": size,
            "amount": str(v.amount.quantize(CENT2, rounding=ROUND_HALF_UP)),
            "where": where,
            "who": who,
        }
    return CAUSE, {
        "kind": _part(LABELS[v.kind]),
        "what": _part(OF_COMPONENT, component=v.component) if v.component else "",
        "size": size,
        "where": where,
        "who": who,
    }


def variance_cause(v: Variance) -> str:
    """The likely cause of a variance in English words, naming who and what is behind it."""
    return _english(*variance_cause_text(v))


@dataclass
class VarianceTotal:
    """Variances summed over a group (a product, a work center, a period)."""

    group: tuple
    by_kind: dict[str, Decimal]
    orders: int

    @property
    def total(self) -> Decimal:
        return sum(self.by_kind.values(), ZERO)


def variances_aggregate(variances: Iterable[Variance], *, by: tuple[str, ...]) -> list:
    """Sum variances by kind per group of the attributes named in `by` (e.g. ("product",),
    ("work_center",), ("period",), ("product", "period"))."""
    sums: dict[tuple, dict[str, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
    orders: dict[tuple, set[str]] = defaultdict(set)
    for v in variances:
        group = tuple(getattr(v, name) for name in by)
        sums[group][v.kind] += v.amount
        orders[group].add(v.order)
    return [
        VarianceTotal(group=g, by_kind=dict(sums[g]), orders=len(orders[g]))
        for g in sorted(sums, key=lambda g: tuple(str(x) for x in g))
    ]
