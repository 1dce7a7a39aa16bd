"""Inbound purchases: what a receipt may book against an open purchase order line.

A receipt is booked only against an open line of an open order for the item: its quantity
within the line's open quantity plus EXECUTION_RECEIPT_TOLERANCE_PCT (0 % by default), and
its lot the one the line expects (`lot_code`) or, when the line names none, any lot (a new
supplier lot is created on receipt). The line's received quantity moves in the same
transaction; an order all of whose lines are received becomes "received".
"""

from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db.models import F

from core.formatting import quantity_format

from ..models import Item, PurchaseOrder, PurchaseOrderLine


def receipt_tolerance() -> Decimal:
    return Decimal(str(getattr(settings, "EXECUTION_RECEIPT_TOLERANCE_PCT", 0))) / 100


def purchase_line_match(
    *, item: Item, lot_code: str | None, quantity: Decimal, order_number: str = ""
) -> PurchaseOrderLine:
    """The open purchase order line (locked) a receipt of `quantity` `item` in `lot_code`
    books against, the earliest expected first; ValidationError naming `barcode` (or
    `purchase_order`) and the item, lot and quantity when none fits. Call it in the
    receipt's transaction."""
    lines = (
        PurchaseOrderLine.objects.select_for_update(of=("self",))
        .select_related("order")
        .filter(
            item=item,
            order__status=PurchaseOrder.Status.OPEN,
            quantity__gt=F("received_quantity"),
        )
        .order_by("expected_date", "order__number", "line_no")
    )
    if order_number:
        lines = lines.filter(order__number=order_number)
    lines = list(lines)
    what = f"{quantity_format(quantity)} {item.uom} {item.code}" + (
        f" lot {lot_code}" if lot_code else ""
    )
    field = "purchase_order" if order_number else "barcode"
    where = f"purchase order {order_number}" if order_number else "any open purchase order"
    if not lines:
        raise ValidationError(
            {field: f"Cannot receive {what}: {where} has no open line for {item.code}."}
        )
    if item.tracking == Item.Tracking.LOT and not lot_code:
        raise ValidationError(
            {"barcode": f"{item.code} is lot-tracked: the label must name the lot (ITEM*LOT*QTY)."}
        )
    lot_fits = [line for line in lines if not line.lot_code or line.lot_code == lot_code]
    if not lot_fits:
        expected = ", ".join(sorted({line.lot_code for line in lines}))
        raise ValidationError(
            {field: f"Cannot receive {what}: the open purchase order lines expect lot {expected}."}
        )
    tolerance = receipt_tolerance()
    for line in lot_fits:
        if quantity <= line.open_quantity * (1 + tolerance):
            return line
    most = max(line.open_quantity for line in lot_fits)
    raise ValidationError(
        {
            field: f"Cannot receive {what}: more than is open on {where} "
            f"(at most {quantity_format(most * (1 + tolerance))} {item.uom} on one line)."
        }
    )


def purchase_line_receive(*, line: PurchaseOrderLine, quantity: Decimal) -> PurchaseOrderLine:
    """Add a receipt to the (locked) line; the order is received when every line is."""
    PurchaseOrderLine.objects.filter(pk=line.pk).update(
        received_quantity=F("received_quantity") + quantity
    )
    line.refresh_from_db(fields=["received_quantity"])
    if not line.order.lines.filter(quantity__gt=F("received_quantity")).exists():
        PurchaseOrder.objects.filter(pk=line.order_id).update(status=PurchaseOrder.Status.RECEIVED)
    return line
