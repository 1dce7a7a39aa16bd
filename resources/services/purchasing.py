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
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from core.events import emit
from core.exceptions import StateConflict
from core.formatting import quantity_format
from core.lists import list_text
from core.numbering import number_next

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
    received = {"quantity": quantity_format(quantity), "uom": item.uom, "item": item.code}
    if lot_code:
        what = pgettext("what a receipt brings", "%(quantity)s %(uom)s %(item)s lot %(lot)s") % {
            **received,
            "lot": lot_code,
        }
    else:
        what = pgettext("what a receipt brings", "%(quantity)s %(uom)s %(item)s") % received
    field = "purchase_order" if order_number else "barcode"
    if order_number:
        where = pgettext("where a receipt is booked", "purchase order %(number)s") % {
            "number": order_number
        }
    else:
        where = pgettext("where a receipt is booked", "any open purchase order")
    if not lines:
        raise ValidationError(
            {
                field: _("Cannot receive %(what)s: %(where)s has no open line for %(item)s.")
                % {"what": what, "where": where, "item": item.code}
            }
        )
    if item.tracking == Item.Tracking.LOT and not lot_code:
        raise ValidationError(
            {
                "barcode": _("%(item)s is lot-tracked: the label must name the lot (ITEM*LOT*QTY).")
                % {"item": item.code}
            }
        )
    lot_fits = [line for line in lines if not line.lot_code or line.lot_code == lot_code]
    if not lot_fits:
        expected = list_text(sorted({line.lot_code for line in lines}))
        raise ValidationError(
            {
                field: _(
                    "Cannot receive %(what)s: the open purchase order lines expect lot "
                    "%(expected)s."
                )
                % {"what": what, "expected": expected}
            }
        )
    tolerance = receipt_tolerance()
    for line in lot_fits:
        if quantity <= line.open_quantity * (1 + tolerance):
            return line
    most = max(line.open_quantity for line in lot_fits)
    raise ValidationError(
        {
            field: _(
                "Cannot receive %(what)s: more than is open on %(where)s (at most %(most)s "
                "%(uom)s on one line)."
            )
            % {
                "what": what,
                "where": where,
                "most": quantity_format(most * (1 + tolerance)),
                "uom": item.uom,
            }
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


# --- purchase orders from the ERP: create or update by reference, confirm, close ----------


def _line_errors(lines: list[dict]) -> None:
    seen: set[int] = set()
    for k, line in enumerate(lines):
        no = line["line_no"]
        if no in seen:
            raise ValidationError(
                {"lines": _("lines[%(k)s]: line_no %(line)s appears twice.") % {"k": k, "line": no}}
            )
        seen.add(no)


@transaction.atomic
def purchase_order_save(
    *,
    supplier: str,
    lines: list[dict],
    external_ref: str | None = None,
    number: str | None = None,
    order: PurchaseOrder | None = None,
) -> tuple[PurchaseOrder, bool]:
    """Create a purchase order, or change the one named by `order` or by `external_ref`:
    (order, created). Each line is a dict of line_no, item, quantity, expected_date and
    optionally lot_code.

    Sending the same order again changes nothing; a changed line keeps what was received
    (its quantity may not go below it), a line left out is removed if nothing was received
    on it, and only an open order changes (409 otherwise). The whole order is checked
    before anything is written."""
    if not lines:
        raise ValidationError({"lines": _("A purchase order needs at least one line.")})
    _line_errors(lines)
    created = False
    if order is None and external_ref:
        order = PurchaseOrder.objects.select_for_update().filter(external_ref=external_ref).first()
    if order is None:
        if number and PurchaseOrder.objects.filter(number=number).exists():
            raise ValidationError(
                {
                    "number": _("Purchase order %(number)s exists with another external_ref.")
                    % {"number": number}
                }
            )
        order = PurchaseOrder(
            number=number or number_next(PurchaseOrder, "PO"),
            supplier=supplier,
            external_ref=external_ref or None,
        )
        order.full_clean(validate_unique=False)
        order.save()
        created = True
    else:
        order = PurchaseOrder.objects.select_for_update().get(pk=order.pk)
        if order.status != PurchaseOrder.Status.OPEN:
            raise StateConflict(
                _("Purchase order %(number)s is %(status)s: only an open order changes.")
                % {"number": order.number, "status": order.get_status_display().lower()}
            )
        if number and number != order.number:
            raise ValidationError(
                {
                    "number": _("Purchase order %(number)s cannot be renumbered to %(new)s.")
                    % {"number": order.number, "new": number}
                }
            )
        if external_ref and order.external_ref and external_ref != order.external_ref:
            raise ValidationError(
                {
                    "external_ref": _("Purchase order %(number)s is %(external_ref)s.")
                    % {"number": order.number, "external_ref": order.external_ref}
                }
            )
        changed = []
        if order.supplier != supplier:
            order.supplier = supplier
            changed.append("supplier")
        if external_ref and not order.external_ref:
            order.external_ref = external_ref
            changed.append("external_ref")
        if changed:
            order.full_clean(validate_unique=False)
            order.save(update_fields=changed)
    existing = {line.line_no: line for line in order.lines.select_for_update()}
    wanted = {line["line_no"] for line in lines}
    for no, line in sorted(existing.items()):
        if no not in wanted:
            if line.received_quantity > 0:
                raise StateConflict(
                    _(
                        "Line %(line)s of purchase order %(number)s has %(received)s received: it stays."
                    )
                    % {
                        "line": no,
                        "number": order.number,
                        "received": quantity_format(line.received_quantity),
                    }
                )
            line.delete()
    for k, data in enumerate(lines):
        line = existing.get(data["line_no"])
        values = {
            "item": data["item"],
            "quantity": data["quantity"],
            "expected_date": data["expected_date"],
            "lot_code": data.get("lot_code", "") or "",
        }
        if line is None:
            line = PurchaseOrderLine(order=order, line_no=data["line_no"], **values)
        else:
            if line.item_id != data["item"].pk and line.received_quantity > 0:
                raise StateConflict(
                    _(
                        "lines[%(k)s]: line %(line)s of %(number)s has receipts of %(item)s; its "
                        "item cannot change."
                    )
                    % {"k": k, "line": line.line_no, "number": order.number, "item": line.item.code}
                )
            if data["quantity"] < line.received_quantity:
                raise ValidationError(
                    {
                        "lines": _(
                            "lines[%(k)s]: quantity %(quantity)s is below the %(received)s "
                            "received."
                        )
                        % {
                            "k": k,
                            "quantity": quantity_format(data["quantity"]),
                            "received": quantity_format(line.received_quantity),
                        }
                    }
                )
            if all(getattr(line, key) == value for key, value in values.items()):
                continue
            for key, value in values.items():
                setattr(line, key, value)
        try:
            line.full_clean(exclude=["order"], validate_unique=False)
        except ValidationError as exc:
            raise ValidationError(
                {
                    "lines": pgettext(
                        "an error's field or row, then its message", "%(label)s: %(message)s"
                    )
                    % {
                        "label": f"lines[{k}]",
                        "message": pgettext("between the clauses of a sentence", "; ").join(
                            exc.messages
                        ),
                    }
                }
            ) from exc
        line.save()
    return order, created


@transaction.atomic
def purchase_order_confirm(
    *, order: PurchaseOrder, confirmation_ref: str = "", by=None
) -> PurchaseOrder:
    """Record the supplier's confirmation of an open order; the same confirmation again
    changes nothing, another one replaces it (with a new time)."""
    order = PurchaseOrder.objects.select_for_update().get(pk=order.pk)
    if order.status != PurchaseOrder.Status.OPEN:
        raise StateConflict(
            _("Purchase order %(number)s is %(status)s: only an open order is confirmed.")
            % {"number": order.number, "status": order.get_status_display().lower()}
        )
    if order.confirmed_at is not None and order.confirmation_ref == confirmation_ref:
        return order
    order.confirmed_at = timezone.now()
    order.confirmation_ref = confirmation_ref
    order.save(update_fields=["confirmed_at", "confirmation_ref"])
    emit(
        "resources.purchase_order.confirmed",
        {"purchase_order": order.number, "confirmation_ref": confirmation_ref},
    )
    return order


@transaction.atomic
def purchase_order_close(*, order: PurchaseOrder, by=None) -> PurchaseOrder:
    """Close an open order short: what is still open is no longer expected (MRP stops
    counting it, receipts stop matching it). Closing a closed order changes nothing."""
    order = PurchaseOrder.objects.select_for_update().get(pk=order.pk)
    if order.status == PurchaseOrder.Status.CLOSED:
        return order
    if order.status != PurchaseOrder.Status.OPEN:
        raise StateConflict(
            _("Purchase order %(number)s is %(status)s: only an open order is closed.")
            % {"number": order.number, "status": order.get_status_display().lower()}
        )
    order.status = PurchaseOrder.Status.CLOSED
    order.save(update_fields=["status"])
    emit("resources.purchase_order.closed", {"purchase_order": order.number})
    return order
