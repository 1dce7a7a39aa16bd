"""Demo plant, part 2: items, BOMs and routings from docs/samples (through the same import
an administrator uses), opening stock and an inbound purchase order. Idempotent."""

from datetime import date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import get_language, pgettext

from resources.models import (
    Equipment,
    Item,
    MaterialLot,
    PurchaseOrder,
    PurchaseOrderLine,
    Skill,
    StockLocation,
)
from resources.selectors.calendar import (
    plant_time_zone,
    work_center_available_minutes,
    work_center_first_full_day,
)
from resources.services.stock import stock_move_record

from .models import OrderOperation, ProductionOrder, Routing, RoutingStep, SalesOrder
from .services.imports import masterdata_import_many
from .services.orders import (
    production_order_create,
    production_order_release,
    production_order_start,
)

SAMPLES = Path(settings.BASE_DIR) / "docs" / "samples"

# item, lot, location, quantity — bearings: 30 on hand against 50 per batch of engine blocks.
OPENING_STOCK = [
    ("STEEL-42", "S-2026-1101", "WH-RAW", "2000"),
    ("BRG-6205", "B-2026-1015", "WH-RAW", "30"),
    ("HSG-100", "H-2026-1120", "WH-RAW", "600"),
    ("PP-GF30", "P-2026-1105", "WH-RAW", "500"),
]


def samples_directory(language: str) -> Path:
    """The sample files in `language` (docs/samples/<language>/, the same rows with the names
    written in it), or the English ones in docs/samples."""
    translated = SAMPLES / language
    return translated if translated.is_dir() else SAMPLES


def load(*, logins: list) -> str:
    samples = samples_directory(get_language())
    report = masterdata_import_many(
        files=[samples / "items.csv", samples / "boms.csv", samples / "routings.csv"]
    )
    if report.errors:
        raise ValidationError([str(e) for e in report.errors])

    for item_code, lot_code, location_code, quantity in OPENING_STOCK:
        item = Item.objects.get(code=item_code)
        lot, _ = MaterialLot.objects.get_or_create(item=item, code=lot_code)
        stock_move_record(
            item=item,
            location=StockLocation.objects.get(code=location_code),
            lot=lot,
            quantity=Decimal(quantity),
            kind="receipt",
            reference=pgettext("demo plant", "Opening stock"),
            external_id=f"demo-opening-{item_code}-{lot_code}",
        )

    order, created = PurchaseOrder.objects.get_or_create(
        number="PO-2026-0001", defaults={"supplier": pgettext("demo plant", "Wuxi Bearing Co.")}
    )
    if created:
        PurchaseOrderLine.objects.create(
            order=order,
            line_no=1,
            item=Item.objects.get(code="BRG-6205"),
            quantity=Decimal("200"),
            expected_date=timezone.localdate() + timedelta(days=5),
        )
    background = _machining_background_load()
    sales_order, _ = SalesOrder.objects.get_or_create(
        number="SO-2026-0001",
        defaults={
            "customer": pgettext("demo plant", "Great Wall Motors"),
            "item": Item.objects.get(code="EB-500"),
            "quantity": Decimal("500"),
            "due_date": timezone.localdate() + timedelta(days=7),
            "priority": 2,
        },
    )
    # The 500 blocks are made as a first batch of 50 (whose assembly needs 50 bearings with
    # 30 in stock) and the remaining 450.
    for number, quantity, note in (
        ("MO-2026-00001", 50, pgettext("demo plant", "First batch of %(order)s")),
        ("MO-2026-00002", 450, pgettext("demo plant", "Rest of %(order)s")),
    ):
        if not ProductionOrder.objects.filter(number=number).exists():
            production_order_create(
                item=sales_order.item,
                quantity=Decimal(quantity),
                due_date=sales_order.due_date,
                priority=sales_order.priority,
                sales_order=sales_order,
                number=number,
                status=ProductionOrder.Status.PLANNED,
                note=note % {"order": sales_order.number},
            )
    return (
        f"{Item.objects.count()} items, opening stock for {len(OPENING_STOCK)} lots, "
        f"purchase order {order.number}, sales order {sales_order.number}, "
        f"{background} orders loading machining"
    )


FIRST_SHIFT_START = time(6)  # the demo's early shift (resources/demo.py)


def demo_day_zero(work_center) -> date:
    """The demo's anchor, whatever the day and hour `make run` starts: the work center's first
    working day none of whose shifts has begun — today before 06:00 on a working day,
    otherwise the next working day (Sundays and the site's holidays skipped). The batches
    already in machining start there, so the first roll-up finds nobody behind yet and the
    crews that take released work are those of a working day."""
    now = timezone.now()
    return work_center_first_full_day(work_center, now) or timezone.localtime(now).date()


def _background_days(work_center) -> list[tuple[date, date]]:
    """(day, due date) of each background batch: the working days of the seven days from
    day 0, each due four days later (moved to the next working day when that is not one)."""
    day_zero = demo_day_zero(work_center)
    minutes = work_center_available_minutes(work_center, day_zero, day_zero + timedelta(days=14))
    working = sorted(d for d, m in minutes.items() if m > 0)
    out = []
    for day in (d for d in working if d < day_zero + timedelta(days=7)):
        due = next(d for d in working if d >= day + timedelta(days=4))
        out.append((day, due))
    return out


def _machining_background_load() -> int:
    """Other orders already in machining: cylinder-head batches filling about 90 % of the
    machining work center on the working days of the seven days from day 0 (what the capacity
    check is shown against)."""
    tz = plant_time_zone()
    machines = list(Equipment.objects.filter(code__in=["CNC-01", "CNC-02"]).order_by("code"))
    # Cylinder heads bought as raw castings and only machined here.
    item, _ = Item.objects.get_or_create(
        code="CH-300",
        defaults={
            "name": pgettext("demo plant", "Cylinder head (machining only)"),
            "source": Item.Source.MAKE,
            "standard_cost": Decimal("65"),
            "lead_time_days": 2,
            "tracking": Item.Tracking.LOT,
        },
    )
    routing, created = Routing.objects.get_or_create(item=item, version="1")
    if created:
        step = RoutingStep.objects.create(
            routing=routing,
            step_no=10,
            name=pgettext("demo plant", "Machining"),
            work_center=machines[0].work_center,
            setup_minutes=Decimal(30),
            setup_family="FX-HEAD",  # the cylinder-head fixture (resources/demo.py)
            run_minutes_per_unit=Decimal("10.1053"),
            required_skill=Skill.objects.get(code="CNC"),
        )
        step.eligible_equipment.set(machines)
    for day, due in _background_days(machines[0].work_center):
        for machine in machines:
            # CNC-01 nearly full (88 heads ≈ 919 of 960 minutes), CNC-02 at about 85 % (78 ≈
            # 818 minutes): machining as a whole about 90 % loaded.
            batch = Decimal(88) if machine.code == "CNC-01" else Decimal(78)
            number = f"MO-BG-{day:%m%d}-{machine.code}"
            if ProductionOrder.objects.filter(number=number).exists():
                continue
            sales_order, _ = SalesOrder.objects.get_or_create(
                number=f"SO-BG-{day:%m%d}-{machine.code}",
                defaults={
                    "customer": pgettext("demo plant", "FAW Engine Plant"),
                    "item": item,
                    "quantity": batch,
                    "due_date": due,
                    "priority": 5,
                },
            )
            order = production_order_create(
                item=item,
                quantity=batch,
                due_date=due,
                priority=5,
                sales_order=sales_order,
                number=number,
                status=ProductionOrder.Status.PLANNED,
                note=pgettext("demo plant", "Batch already in machining"),
            )
            order = production_order_start(order=production_order_release(order=order))
            machining = order.operations.get()
            start = datetime.combine(day, FIRST_SHIFT_START, tzinfo=tz)
            minutes = float(machining.duration_minutes())
            OrderOperation.objects.filter(pk=machining.pk).update(
                equipment=machine,
                planned_start=start,
                planned_end=start + timedelta(minutes=minutes),
                status=OrderOperation.Status.READY,
            )
    return ProductionOrder.objects.filter(number__startswith="MO-BG-").count()
