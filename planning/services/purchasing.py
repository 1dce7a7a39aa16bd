"""Purchase requisitions: requests to buy, from a firmed planned order (MRP) or raised
urgently for a shortage on the shop floor (execution's material check and exception loop).
Planning owns the table; every requisition is created here, numbered PR-YYYY-NNNNN."""

from datetime import date
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from core.events import emit
from core.exceptions import StateConflict
from core.numbering import number_next
from core.texts import Text, text_columns
from resources.models import Item

from ..models import PurchaseRequisition

# A requisition's reason with the one an expedite adds after it.
REASONS_JOINED = gettext_noop("%(first)s; %(then)s")
REASON_MAX = PurchaseRequisition._meta.get_field("reason").max_length


def requisition_number_next() -> str:
    """The next requisition number; call it inside the transaction that saves it."""
    return number_next(PurchaseRequisition, "PR")


def requisition_create(
    *,
    item: Item,
    quantity: Decimal,
    need_date: date,
    reason: str | Text = "",
    urgent: bool = False,
) -> PurchaseRequisition:
    """A new open requisition with the next number; a reason the system writes is a `Text`
    (read in the reader's language), one a person typed a string. A caller that also numbers
    an exception in the same transaction numbers the exception first (see
    `core.numbering.number_next`)."""
    with transaction.atomic():
        requisition = PurchaseRequisition(
            number=requisition_number_next(),
            item=item,
            quantity=quantity,
            need_date=need_date,
            urgent=urgent,
            **text_columns("reason", reason, REASON_MAX),
        )
        requisition.full_clean(validate_unique=False)  # the number is fresh from its counter
        requisition.save()
    return requisition


@transaction.atomic
def requisition_confirm(
    *, requisition: PurchaseRequisition, purchase_order_ref: str, by=None
) -> PurchaseRequisition:
    """The ERP ordered it: an open requisition becomes "ordered", naming the purchase order.
    The same confirmation again changes nothing; another order for an ordered requisition,
    or any for a closed one, is a conflict."""
    purchase_order_ref = (purchase_order_ref or "").strip()
    if not purchase_order_ref:
        raise ValidationError({"purchase_order_ref": _("Name the purchase order placed for it.")})
    requisition = PurchaseRequisition.objects.select_for_update().get(pk=requisition.pk)
    if requisition.status == PurchaseRequisition.Status.ORDERED:
        if requisition.purchase_order_ref == purchase_order_ref:
            return requisition
        raise StateConflict(
            _("Requisition %(number)s is already ordered on %(ref)s.")
            % {
                "number": requisition.number,
                "ref": requisition.purchase_order_ref or _("another purchase order"),
            }
        )
    if requisition.status != PurchaseRequisition.Status.OPEN:
        raise StateConflict(
            _("Requisition %(number)s is closed: it cannot be ordered.")
            % {"number": requisition.number}
        )
    requisition.status = PurchaseRequisition.Status.ORDERED
    requisition.purchase_order_ref = purchase_order_ref
    requisition.save(update_fields=["status", "purchase_order_ref"])
    emit(
        "planning.requisition.ordered",
        {"requisition": requisition.number, "purchase_order_ref": purchase_order_ref},
    )
    return requisition


@transaction.atomic
def requisition_expedite(
    *, requisition: PurchaseRequisition, need_date: date, reason: str = ""
) -> PurchaseRequisition:
    """Make a requisition urgent (a severe shortage: production stops without it) and bring
    its need date forward to `need_date` if that is earlier; the reason is added to its own.
    An urgent one, or one no longer open, is returned as it is."""
    requisition = PurchaseRequisition.objects.select_for_update().get(pk=requisition.pk)
    if requisition.urgent or requisition.status != PurchaseRequisition.Status.OPEN:
        return requisition
    requisition.urgent = True
    requisition.need_date = min(requisition.need_date, need_date)
    if reason:
        before = (
            Text(requisition.reason_id, **requisition.reason_params)
            if requisition.reason_id
            else requisition.reason
        )
        joined = Text(REASONS_JOINED, first=before, then=reason) if before else reason
        for name, value in text_columns("reason", joined, REASON_MAX).items():
            setattr(requisition, name, value)
    requisition.save(update_fields=["urgent", "need_date", "reason", "reason_id", "reason_params"])
    emit(
        "planning.requisition.expedited",
        {"requisition": requisition.number, "need_date": requisition.need_date.isoformat()},
    )
    return requisition


@transaction.atomic
def requisition_close(
    *, requisition: PurchaseRequisition, reason: str, by=None
) -> PurchaseRequisition:
    """Close an open requisition without ordering it (with the reason); closing a closed one
    changes nothing; an ordered one is a conflict."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": _("Say why it is closed without ordering.")})
    requisition = PurchaseRequisition.objects.select_for_update().get(pk=requisition.pk)
    if requisition.status == PurchaseRequisition.Status.CANCELLED:
        return requisition
    if requisition.status != PurchaseRequisition.Status.OPEN:
        raise StateConflict(
            _(
                "Requisition %(number)s is ordered on %(ref)s: close it in the ERP's purchase "
                "order instead."
            )
            % {"number": requisition.number, "ref": requisition.purchase_order_ref}
        )
    requisition.status = PurchaseRequisition.Status.CANCELLED
    requisition.closed_reason = reason[:200]
    requisition.save(update_fields=["status", "closed_reason"])
    emit("planning.requisition.closed", {"requisition": requisition.number, "reason": reason})
    return requisition
