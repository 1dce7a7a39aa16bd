"""Demo plant, costing: the 2026 standard cost version with its rates and prices, rolled up.

Chosen so the engine block EB-500 costs exactly 80.00 a unit: material 50 (2 kg of steel at
10, a housing at 5.00, a bearing at 25), labour 20, machine 10, no overhead of its own. The
housing HSG-100 is made on INJ-01 and rolls up to 5.00 itself, overhead included (48/h at
INJ). docs/costing.md works both figures out by hand. Idempotent (keyed on codes).
"""

from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.utils.translation import pgettext, pgettext_lazy

from resources.models import Equipment, Item, Skill, SkillLevel, WorkCenter

from .models import CostVersion, LabourRate, MachineRate, OverheadRate, PurchasePrice
from .services.rollup import standard_cost_rollup_run
from .services.versions import cost_version_make_current

VERSION = ("STD-2026", pgettext_lazy("demo plant", "2026 standard"), date(2026, 1, 1))
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


# --- the floor's recent history, costed ------------------------------------------------------
#
# The order cost and variance pages have something to show from the first start: two housing
# orders worked on the moulding line on the last working days before today, recorded through
# execution's own services and costed by costing's handlers as the outbox dispatcher runs
# them. Their days are found on the work center's calendar (the working days before today,
# Sundays and holidays skipped), so the demo tells the same story at any instant. Events of a
# past shift are backdated: execution holds each one for a supervisor, and the work center's
# supervisor (sunqi) approves it, signed, as he would the shift's paper log.

SUPERVISOR = "sunqi"
APPROVAL_NOTE = pgettext_lazy("demo plant", "Entered from the shift's paper log")
# number, quantity, note
HISTORY_ORDERS = {
    "done": (
        "MO-HIST-0001",
        400,
        pgettext_lazy("demo plant", "Housings, last week's batch (completed)"),
    ),
    "running": ("MO-HIST-0002", 400, pgettext_lazy("demo plant", "Housings, batch in progress")),
}
# lot, kg received and issued, price per kg on the supplier's invoice (standard 2.45)
HISTORY_RESIN = {
    "done": ("P-2026-1020", "83", "2.60"),
    "running": ("P-2026-1121", "40", "2.45"),
}


def history_days(work_center, count: int) -> list[date]:
    """The last `count` working days of a work center before today (plant time), oldest
    first: every shift of them has ended, whatever the hour now."""
    from django.utils import timezone

    from resources.selectors.calendar import work_center_available_minutes

    today = timezone.localdate()
    minutes = work_center_available_minutes(work_center, today - timedelta(days=21), today)
    days = sorted(d for d, m in minutes.items() if m > 0 and d < today)
    return days[-count:]


def _floor_events(items: list[dict], *, by) -> list:
    """Record events one after the other as the terminal sends them; each one held for being
    backdated is approved by the supervisor before the next is sent (the next may need it:
    a report needs the start). Already recorded (a second load): answered as duplicates."""
    from django.contrib.auth import get_user_model

    from execution.models import EventApproval, ProductionEvent
    from execution.services.approvals import event_approval_decide
    from execution.services.events import event_record
    from resources.demo import DEMO_PASSWORD

    supervisor = get_user_model().objects.get(username=SUPERVISOR)
    answers = []
    for item in items:
        answer = event_record(data=item, by=by, source=ProductionEvent.Source.TERMINAL)
        if answer.status == "held" and answer.approval.status == EventApproval.Status.PENDING:
            event_approval_decide(
                approval=answer.approval,
                approve=True,
                by=supervisor,
                password=DEMO_PASSWORD,
                reason=str(APPROVAL_NOTE),
            )
            answer = event_record(data=item, by=by, source=ProductionEvent.Source.TERMINAL)
        if answer.status not in ("accepted", "duplicate"):
            raise ValueError(
                f"Demo event {answer.event_id} on {item['order']}: {answer.status} "
                f"({answer.errors})"
            )
        answers.append(answer)
    return answers


def _outbox_drain() -> None:
    """Run every pending handler, as the worker does once the load commits (the costing
    handlers among them post the ledger)."""
    from core.events import outbox_dispatch_pending

    while outbox_dispatch_pending():
        pass


def _history_order(key: str, operator, *, due: date):
    """Create and release one housing order, give its tasks to `operator` and issue its
    resin from a lot received for it (so the opening stock is left as the other scenarios
    need it)."""
    from django.contrib.auth import get_user_model

    from execution.models import MaterialRequirement, Task
    from execution.services.material import material_issue
    from execution.services.tasks import task_assign
    from planning.models import ProductionOrder
    from planning.services.orders import production_order_create, production_order_release
    from resources.models import MaterialLot, StockLocation
    from resources.services.stock import stock_move_record

    from .models import LotPrice

    number, quantity, note = HISTORY_ORDERS[key]
    order = ProductionOrder.objects.filter(number=number).first()
    if order is None:
        order = production_order_create(
            item=Item.objects.get(code="HSG-100"),
            quantity=Decimal(quantity),
            due_date=due,
            number=number,
            status=ProductionOrder.Status.PLANNED,
            note=str(note),
        )
    if order.status == ProductionOrder.Status.PLANNED:
        order = production_order_release(order=order)
    supervisor = get_user_model().objects.get(username=SUPERVISOR)
    for task in Task.objects.filter(order=order, status__in=Task.OPEN).exclude(operator=operator):
        task_assign(
            task=task,
            operator=operator,
            by=supervisor,
            note=pgettext("demo plant", "Moulding crew"),
        )
    lot_code, kg, price = HISTORY_RESIN[key]
    resin = Item.objects.get(code="PP-GF30")
    lot, _ = MaterialLot.objects.get_or_create(item=resin, code=lot_code)
    LotPrice.objects.get_or_create(lot=lot, defaults={"price": Decimal(price)})
    raw = StockLocation.objects.get(code="WH-RAW")
    stock_move_record(
        item=resin,
        location=raw,
        lot=lot,
        quantity=Decimal(kg),
        kind="receipt",
        reference=pgettext("demo plant", "Resin for %(order)s") % {"order": number},
        external_id=f"demo-receipt-{number}",
    )
    if order.status != ProductionOrder.Status.COMPLETED:
        material_issue(
            requirement=MaterialRequirement.objects.get(order=order, item=resin),
            quantity=Decimal(kg),
            location=raw,
            lot=lot,
            external_id=f"demo-issue-{number}",
        )
    return order


def history_load() -> str:
    """Two housing orders on the moulding line (docs/costing.md, "The demo's history"):

    - MO-HIST-0001, 400 housings, completed on the working day before yesterday's: wangwu
      moulded them on INJ-01 in the late shift, 14:30 to 18:45 (4.25 h where 400 × 0.545 min
      is 3.63 h: labour and machine efficiency flagged on operation 10, operator wangwu),
      390 good and 10 short shots, then checked them by eye 18:50 to 19:30. 83 kg of resin
      issued from a lot invoiced at 2.60/kg (standard 2.45).
    - MO-HIST-0002, 400 housings, in progress: moulding began on the last working day,
      14:15 to 16:05, 190 good and 5 scrapped, then paused for a mould change; 40 kg of
      resin issued. Nothing has passed the visual check yet: no good quantity, no unit cost.
    """
    from django.contrib.auth import get_user_model

    from planning.models import ProductionOrder
    from resources.models import Operator
    from resources.selectors.calendar import plant_time_zone

    moulding = WorkCenter.objects.get(code="INJ")
    days = history_days(moulding, 2)
    if len(days) < 2:
        return "no working days before today: no floor history"
    tz = plant_time_zone()
    wangwu_user = get_user_model().objects.get(username="wangwu")
    wangwu = Operator.objects.get(user=wangwu_user)
    due = days[-1] + timedelta(days=14)

    def at(day: date, hh: int, mm: int) -> str:
        return datetime.combine(day, time(hh, mm), tzinfo=tz).isoformat()

    done = _history_order("done", wangwu, due=due)
    number, day = done.number, days[0]
    _floor_events(
        [
            {
                "event_id": "hist1-10-start",
                "kind": "start",
                "order": number,
                "sequence": 10,
                "equipment": "INJ-01",
                "occurred_at": at(day, 14, 30),
            },
            {
                "event_id": "hist1-10-complete",
                "kind": "complete",
                "order": number,
                "sequence": 10,
                "quantity_good": 390,
                "quantity_scrap": 10,
                "trace_code": "H-HIST-0001",
                "occurred_at": at(day, 18, 45),
            },
            {
                "event_id": "hist1-20-start",
                "kind": "start",
                "order": number,
                "sequence": 20,
                "trace_code": "H-HIST-0001",
                "occurred_at": at(day, 18, 50),
            },
            {
                "event_id": "hist1-20-complete",
                "kind": "complete",
                "order": number,
                "sequence": 20,
                "quantity_good": 390,
                "trace_code": "H-HIST-0001",
                "occurred_at": at(day, 19, 30),
            },
        ],
        by=wangwu_user,
    )
    running = _history_order("running", wangwu, due=due)
    number, day = running.number, days[1]
    _floor_events(
        [
            {
                "event_id": "hist2-10-start",
                "kind": "start",
                "order": number,
                "sequence": 10,
                "equipment": "INJ-01",
                "occurred_at": at(day, 14, 15),
            },
            {
                "event_id": "hist2-10-report",
                "kind": "report",
                "order": number,
                "sequence": 10,
                "quantity_good": 190,
                "quantity_scrap": 5,
                "trace_code": "H-HIST-0002",
                "occurred_at": at(day, 16, 0),
            },
            {
                "event_id": "hist2-10-pause",
                "kind": "pause",
                "order": number,
                "sequence": 10,
                "reason": pgettext("demo plant", "Mould change"),
                "occurred_at": at(day, 16, 5),
            },
        ],
        by=wangwu_user,
    )
    _outbox_drain()
    states = ProductionOrder.objects.filter(
        number__in=[o[0] for o in HISTORY_ORDERS.values()]
    ).values_list("number", "status")
    return "floor history: " + ", ".join(f"{n} {s}" for n, s in sorted(states))


# --- an afternoon of casting, costed (manage.py cost_demo_floor) ----------------------------

FLOOR_ORDER = "MO-2026-00001"


def floor_run() -> str:
    """Cast the first five blocks of MO-2026-00001 as the floor would: release it, issue 12 kg
    of steel from a lot priced 11/kg, and let wangwu (a casting expert, paid 50/h where the
    standard is 46/h) start on CAST-01 at 15:00 of the last working day before today, report
    4 good and 1 scrapped block, pause, resume and complete casting — every record through
    execution's own services, each backdated event approved by the supervisor — then post
    the cost as the outbox dispatcher would (docs/costing.md, "The worked order"; tests/costing
    use it). The same records and figures whatever the day and hour it runs.

    Not part of `load_demo`: it releases the demo's first order, which the other demo
    scenarios (the bearing shortage, the schedule) expect planned. Idempotent: the ids are
    fixed, a second run adds nothing.
    """
    from django.contrib.auth import get_user_model

    from execution.models import MaterialRequirement
    from execution.services.material import material_issue
    from planning.models import ProductionOrder
    from planning.services.orders import production_order_release
    from resources.models import MaterialLot, OperatorSkill, StockLocation
    from resources.selectors.calendar import plant_time_zone

    from .models import LotPrice
    from .selectors.actual import order_cost_summary
    from .services.actual import order_cost_post_missing

    order = ProductionOrder.objects.get(number=FLOOR_ORDER)
    if order.status == ProductionOrder.Status.PLANNED:
        order = production_order_release(order=order)
        _outbox_drain()
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
    (day,) = history_days(WorkCenter.objects.get(code="CAST"), 1)
    t0 = datetime.combine(day, time(15), tzinfo=plant_time_zone())

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
        event("w-pause", "pause", 40, reason=pgettext("demo plant", "Ladle change")),
        event("w-resume", "resume", 50),
        event("w-complete", "complete", 70),
    ]
    wangwu = get_user_model().objects.get(username="wangwu")
    _floor_events(events, by=wangwu)
    _outbox_drain()
    order_cost_post_missing(orders=[order])
    summary = order_cost_summary(order)
    return f"{FLOOR_ORDER}: actual cost {summary.actual_total:.2f} posted (casting)"
