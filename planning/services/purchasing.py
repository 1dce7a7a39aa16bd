"""Purchase requisitions: requests to buy, from a firmed planned order (MRP) or raised
urgently for a shortage on the shop floor (execution's material check and exception loop).
Planning owns the table; every requisition is created here, numbered PR-YYYY-NNNNN."""

from datetime import date
from decimal import Decimal

from django.db import transaction

from core.numbering import number_next
from resources.models import Item

from ..models import PurchaseRequisition


def requisition_number_next() -> str:
    """The next requisition number; call it inside the transaction that saves it."""
    return number_next(PurchaseRequisition, "PR")


def requisition_create(
    *,
    item: Item,
    quantity: Decimal,
    need_date: date,
    reason: str = "",
    urgent: bool = False,
) -> PurchaseRequisition:
    """A new open requisition with the next number. A caller that also numbers an exception
    in the same transaction numbers the exception first (see `core.numbering.number_next`)."""
    with transaction.atomic():
        requisition = PurchaseRequisition(
            number=requisition_number_next(),
            item=item,
            quantity=quantity,
            need_date=need_date,
            urgent=urgent,
            reason=reason,
        )
        requisition.full_clean(validate_unique=False)  # the number is fresh from its counter
        requisition.save()
    return requisition
