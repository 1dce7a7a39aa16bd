"""Demo plant, costing: the 2026 standard cost version with its rates and prices, rolled up.

Chosen so the engine block EB-500 costs exactly 80.00 a unit: material 50 (2 kg of steel at
10, a housing at 5.00, a bearing at 25), labour 20, machine 10, no overhead of its own. The
housing HSG-100 is made on INJ-01 and rolls up to 5.00 itself, overhead included (48/h at
INJ). docs/costing.md works both figures out by hand. Idempotent (keyed on codes).
"""

from datetime import date
from decimal import Decimal

from resources.models import Equipment, Item, Skill, SkillLevel, WorkCenter

from .models import CostVersion, LabourRate, MachineRate, OverheadRate, PurchasePrice
from .services.rollup import standard_cost_rollup_run
from .services.versions import cost_version_make_current

VERSION = ("STD-2026", "2026 standard", date(2026, 1, 1))
# Labour per hour: the skilled rate of the qualified level where one is set, else the work
# center's (the CMM measurement and the housings' visual check are paid at the work center's).
SKILL_RATES = {"CAST": "46", "CNC": "38", "ASM": "35", "INJ": "36"}
WORK_CENTER_RATES = {"CAST": "42", "CNC": "45", "CMM": "40", "ASM": "38", "INJ": "36"}
# Machine per hour: depreciation, energy, maintenance.
MACHINE_RATES = {
    "CAST-01": ("20", "7", "3"),
    "CNC-01": ("12", "5", "2"),
    "CNC-02": ("12", "5", "2"),
    "CMM-01": ("25", "4", "6"),
    "ASM-01": ("3", "0.5", "0.5"),
    "INJ-01": ("240", "120", "36"),
}
OVERHEADS = {"INJ": ("per_hour", "48")}
PRICES = {"STEEL-42": "10", "BRG-6205": "25", "PP-GF30": "2.45"}


def load(*, logins: list) -> str:
    code, name, effective = VERSION
    version, _ = CostVersion.objects.update_or_create(
        code=code, defaults={"name": name, "effective_from": effective}
    )
    for skill, rate in SKILL_RATES.items():
        LabourRate.objects.update_or_create(
            version=version,
            skill=Skill.objects.get(code=skill),
            skill_level=SkillLevel.QUALIFIED,
            defaults={"rate_per_hour": Decimal(rate)},
        )
    for wc, rate in WORK_CENTER_RATES.items():
        LabourRate.objects.update_or_create(
            version=version,
            work_center=WorkCenter.objects.get(code=wc),
            defaults={"rate_per_hour": Decimal(rate)},
        )
    for machine, (dep, energy, maint) in MACHINE_RATES.items():
        MachineRate.objects.update_or_create(
            version=version,
            equipment=Equipment.objects.get(code=machine),
            defaults={
                "depreciation_per_hour": Decimal(dep),
                "energy_per_hour": Decimal(energy),
                "maintenance_per_hour": Decimal(maint),
            },
        )
    for wc, (basis, rate) in OVERHEADS.items():
        OverheadRate.objects.update_or_create(
            version=version,
            work_center=WorkCenter.objects.get(code=wc),
            defaults={"basis": basis, "rate": Decimal(rate)},
        )
    for item, price in PRICES.items():
        PurchasePrice.objects.update_or_create(
            version=version, item=Item.objects.get(code=item), defaults={"price": Decimal(price)}
        )
    if not CostVersion.objects.filter(is_current=True).exists():
        cost_version_make_current(version=version)
    # Rolled up once (loading again adds no second run; `manage.py cost_rollup` re-runs it).
    run = version.rollups.first() or standard_cost_rollup_run(version=version)
    eb500 = version.item_costs.get(item__code="EB-500")
    return (
        f"cost version {version.code}: {run.items_costed} items rolled up, "
        f"{run.items_incomplete} incomplete; EB-500 = {eb500.total:.2f}"
    )


# --- a morning on the floor, costed (manage.py cost_demo_floor) ------------------------------

FLOOR_ORDER = "MO-2026-00001"


def floor_run() -> str:
    """Cast the first five blocks of MO-2026-00001 as the floor would: release it, issue 12 kg
    of steel from a lot priced 11/kg, and let wangwu (a casting expert, paid 50/h where the
    standard is 46/h) start on CAST-01 three hours ago, report 4 good and 1 scrapped block,
    pause, resume and complete casting — every record through execution's own services —
    then post the cost as the outbox dispatcher would. The order cost and variance pages then
    have something to show (docs/costing.md, "The worked order"; tests/costing use it).

    Not part of `load_demo`: it releases the demo's first order, which the other demo
    scenarios (the bearing shortage, the schedule) expect planned. The events lie in the
    last three hours: outside a shift they are held for a supervisor (then nothing is
    posted and the answer says so). Idempotent: the ids are fixed, a second run adds nothing.
    """
    from datetime import timedelta

    from django.contrib.auth import get_user_model
    from django.utils import timezone

    from core.events import outbox_dispatch_pending
    from execution.models import MaterialRequirement, ProductionEvent
    from execution.services.events import events_record
    from execution.services.material import material_issue
    from planning.models import ProductionOrder
    from planning.services.orders import production_order_release
    from resources.models import MaterialLot, OperatorSkill, StockLocation

    from .models import LotPrice
    from .selectors.actual import order_cost_summary
    from .services.actual import order_cost_post_missing

    order = ProductionOrder.objects.get(number=FLOOR_ORDER)
    if order.status == ProductionOrder.Status.PLANNED:
        order = production_order_release(order=order)
        outbox_dispatch_pending()
    version = CostVersion.objects.get(code=VERSION[0])
    cast = Skill.objects.get(code="CAST")
    OperatorSkill.objects.filter(operator__badge="OP-003", skill=cast).update(
        level=SkillLevel.EXPERT
    )
    LabourRate.objects.get_or_create(
        version=version,
        skill=cast,
        skill_level=SkillLevel.EXPERT,
        defaults={"rate_per_hour": Decimal("50")},
    )
    lot = MaterialLot.objects.get(code="S-2026-1101")
    LotPrice.objects.get_or_create(lot=lot, defaults={"price": Decimal("11")})
    material_issue(
        requirement=MaterialRequirement.objects.get(order=order, item__code="STEEL-42"),
        quantity=Decimal("12"),
        location=StockLocation.objects.get(code="WH-RAW"),
        lot=lot,
        external_id="cast-steel-1",
    )
    t0 = timezone.now() - timedelta(hours=3)

    def event(event_id, kind, minute, **extra):
        return {
            "event_id": event_id,
            "kind": kind,
            "order": FLOOR_ORDER,
            "sequence": 10,
            "occurred_at": (t0 + timedelta(minutes=minute)).isoformat(),
            **extra,
        }

    events = [event("w-start", "start", 0, equipment="CAST-01")]
    for n in range(5):  # serial-tracked blocks, one at a time: four good, the fifth scrapped
        good, scrap = (1, 0) if n < 4 else (0, 1)
        events.append(
            event(
                f"w-u{n}",
                "report",
                5 + n,
                quantity_good=good,
                quantity_scrap=scrap,
                trace_code=f"EB-W{n}",
            )
        )
    events += [
        event("w-pause", "pause", 40, reason="Ladle change"),
        event("w-resume", "resume", 50),
        event("w-complete", "complete", 70),
    ]
    wangwu = get_user_model().objects.get(username="wangwu")
    answers = events_record(items=events, by=wangwu, source=ProductionEvent.Source.TERMINAL)
    refused = [a for a in answers if a.status not in ("accepted", "duplicate")]
    outbox_dispatch_pending()
    order_cost_post_missing(orders=[order])
    if refused:
        first = refused[0]
        return (
            f"{FLOOR_ORDER}: event {first.event_id} {first.status} "
            f"({first.errors or (first.approval and first.approval.message)}); "
            "material posted only"
        )
    summary = order_cost_summary(order)
    return f"{FLOOR_ORDER}: actual cost {summary.actual_total:.2f} posted (casting)"
