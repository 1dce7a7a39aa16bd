"""Demo plant, part 2: items, BOMs and routings from docs/samples (through the same import
an administrator uses), opening stock and an inbound purchase order. Idempotent."""

from datetime import timedelta
from decimal import Decimal
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import timezone

from resources.models import Item, MaterialLot, PurchaseOrder, PurchaseOrderLine, StockLocation
from resources.services import stock_move_record

SAMPLES = Path(settings.BASE_DIR) / "docs" / "samples"

# item, lot, location, quantity — bearings: 30 on hand against 50 per batch of engine blocks.
OPENING_STOCK = [
    ("STEEL-42", "S-2026-1101", "WH-RAW", "2000"),
    ("BRG-6205", "B-2026-1015", "WH-RAW", "30"),
    ("HSG-100", "H-2026-1120", "WH-RAW", "600"),
    ("PP-GF30", "P-2026-1105", "WH-RAW", "500"),
]


def load(*, logins: list) -> str:
    from .imports import masterdata_import_many

    report = masterdata_import_many(
        files=[SAMPLES / "items.csv", SAMPLES / "boms.csv", SAMPLES / "routings.csv"]
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
            reference="Opening stock",
            external_id=f"demo-opening-{item_code}-{lot_code}",
        )

    order, created = PurchaseOrder.objects.get_or_create(
        number="PO-2026-0001", defaults={"supplier": "Wuxi Bearing Co."}
    )
    if created:
        PurchaseOrderLine.objects.create(
            order=order,
            line_no=1,
            item=Item.objects.get(code="BRG-6205"),
            quantity=Decimal("200"),
            expected_date=timezone.localdate() + timedelta(days=5),
        )
    return (
        f"{Item.objects.count()} items, opening stock for {len(OPENING_STOCK)} lots, "
        f"purchase order {order.number}"
    )
