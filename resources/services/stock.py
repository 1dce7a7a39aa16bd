"""Writes on resources: the stock ledger and its balances."""

from decimal import Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext

from core.audit import audit_record
from core.models import Signature
from core.policy import may
from core.signatures import signature_sign

from ..models import Item, MaterialLot, StockBalance, StockLocation, StockMove


def _balance_locked(
    *, item: Item, location: StockLocation, lot: MaterialLot | None
) -> StockBalance:
    qs = StockBalance.objects.select_for_update().filter(item=item, location=location, lot=lot)
    balance = qs.first()
    if balance is not None:
        return balance
    try:
        with transaction.atomic():
            return StockBalance.objects.create(item=item, location=location, lot=lot)
    except IntegrityError:  # another writer created it first; lock theirs
        return qs.get()


# Moves made by hand to change what the books say is on hand, not by a receipt, an issue or
# production: signed (core.signatures, meaning "adjusted") by whom the policy lets adjust
# stock (core/policy.py, resources.stockmove / adjust).
SIGNED_KINDS = (StockMove.Kind.ADJUSTMENT, StockMove.Kind.REVERSAL)


def stock_move_record(
    *,
    item: Item,
    location: StockLocation,
    quantity: Decimal,
    kind: str,
    lot: MaterialLot | None = None,
    reference: str = "",
    external_id: str | None = None,
    by=None,
    password: str | None = None,
    reason: str = "",
) -> StockMove:
    """Append a stock move and update the on-hand balance in the same transaction.

    A repeated `external_id` returns the move already recorded and changes nothing.
    Stock never goes below zero: such a move is refused with the quantity on hand.
    An adjustment or a reversal is signed by a supply-chain director (their password and
    the reason); a refused signature moves nothing.
    """
    quantity = Decimal(quantity)
    if quantity == 0:
        raise ValidationError(
            {"quantity": gettext("A stock move needs a quantity other than zero.")}
        )
    if kind not in StockMove.Kind.values:
        raise ValidationError({"kind": gettext("Unknown kind %(kind)s.") % {"kind": repr(kind)}})
    if item.tracking != Item.Tracking.NONE and lot is None:
        if item.tracking == Item.Tracking.SERIAL:
            refusal = gettext("%(item)s is serial-tracked: name the lot.")
        else:
            refusal = gettext("%(item)s is lot-tracked: name the lot.")
        raise ValidationError({"lot": refusal % {"item": item.code}})
    if lot is not None and lot.item_id != item.pk:
        raise ValidationError(
            {
                "lot": gettext("Lot %(lot)s belongs to %(owner)s, not %(item)s.")
                % {"lot": lot.code, "owner": lot.item.code, "item": item.code}
            }
        )
    signed = kind in SIGNED_KINDS
    with transaction.atomic():
        if external_id:
            existing = StockMove.objects.filter(external_id=external_id).first()
            if existing is not None:
                return existing
        if signed and not may(by, "resources.stockmove", "adjust"):
            raise PermissionDenied(gettext("Only a supply-chain director adjusts stock."))
        balance = _balance_locked(item=item, location=location, lot=lot)
        if balance.on_hand + quantity < 0:
            raise ValidationError(
                {
                    "quantity": gettext(
                        "Only %(on_hand)s %(uom)s of %(item)s on hand at %(location)s; cannot "
                        "take %(quantity)s."
                    )
                    % {
                        "on_hand": balance.on_hand,
                        "uom": item.uom,
                        "item": item.code,
                        "location": location.code,
                        "quantity": -quantity,
                    }
                }
            )
        move = StockMove.objects.create(
            item=item,
            location=location,
            lot=lot,
            quantity=quantity,
            kind=kind,
            reference=reference,
            external_id=external_id or None,
            created_by=by if getattr(by, "is_authenticated", False) else None,
        )
        balance.on_hand += quantity
        balance.save(update_fields=["on_hand"])
        if signed:
            signature_sign(
                user=by,
                password=password,
                meaning=Signature.Meaning.ADJUSTED,
                reason=reason,
                record=move,
            )
        audit_record(actor=by, action="stock.move", obj=move, data={"quantity": str(quantity)})
    return move
