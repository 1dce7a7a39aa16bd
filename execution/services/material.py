"""Material control: requirements from the BOM, issues with an over-issue approval, shortage
detection with a proposed purchase or transfer, and barcode receipts."""

from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F, Sum
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from core.audit import audit_record
from core.events import emit
from core.exceptions import StateConflict
from core.models import Signature
from core.parsing import QUANTITY_LIMIT, barcode_parse
from core.signatures import signature_sign
from core.texts import Text
from planning.models import ProductionOrder
from planning.services.purchasing import requisition_create
from resources.models import Item, MaterialLot, StockBalance, StockLocation, StockMove
from resources.services.purchasing import purchase_line_match, purchase_line_receive
from resources.services.stock import stock_move_record
from resources.services.tracking import material_lot_obtain

from ..models import (
    AlertType,
    IssueApproval,
    MaterialIssue,
    MaterialRequirement,
    MaterialShortage,
    Severity,
)
from .alerts import alert_raise, severity_for_impact

# A shortage exception's description and its rule (core/texts.py: read in the reader's
# language).
SHORTAGE = gettext_noop(
    "%(item)s: %(required)s needed for %(order)s/%(sequence)s from %(at)s, %(short)s short; "
    "proposed: %(proposal)s."
)
# A requisition's reason (planning stores it and shows it in the reader's language).
SHORTAGE_FOR = gettext_noop("Shortage for %(order)s/%(step)s")
PROPOSE_TRANSFER = gettext_noop("transfer %(quantity)s from %(location)s")
PROPOSE_REQUISITION = gettext_noop("purchase requisition %(number)s for %(date)s")
PROPOSE_URGENT_REQUISITION = gettext_noop("urgent purchase requisition %(number)s for %(date)s")
SHORTAGE_RULE = gettext_noop("shortage detection")

ACTIVE_ORDERS = (ProductionOrder.Status.RELEASED, ProductionOrder.Status.IN_PROGRESS)


def issue_tolerance() -> Decimal:
    """Share of a requirement that may be issued above it without approval (default 2 %)."""
    return Decimal(str(getattr(settings, "EXECUTION_ISSUE_TOLERANCE_PCT", 2))) / 100


def requirements_create(*, order: ProductionOrder, by=None) -> list[MaterialRequirement]:
    """Requirements per operation from the order's BOM; then check them against stock."""
    if order.bom_id is None:
        return []
    ops = {op.sequence: op for op in order.operations.all()}
    first = min(ops) if ops else None
    needed: dict[tuple[int, int], Decimal] = {}
    for line in order.bom.lines.select_related("component", "bom"):
        op = ops.get(line.operation_step_no) or ops.get(first)
        if op is None:
            continue
        key = (op.pk, line.component_id)
        needed[key] = needed.get(key, Decimal(0)) + order.quantity * line.quantity_per_unit
    existing = set(
        MaterialRequirement.objects.filter(order=order).values_list("operation_id", "item_id")
    )
    created = MaterialRequirement.objects.bulk_create(
        [
            MaterialRequirement(
                order=order,
                operation_id=op_id,
                item_id=item_id,
                quantity_required=qty.quantize(Decimal("0.0001")),
            )
            for (op_id, item_id), qty in needed.items()
            if (op_id, item_id) not in existing
        ]
    )
    shortages_detect(order=order)
    return created


def _allocated_elsewhere(requirement: MaterialRequirement) -> Decimal:
    """Open requirements of other active orders for the same item (already promised)."""
    total = (
        MaterialRequirement.objects.filter(
            item_id=requirement.item_id, order__status__in=ACTIVE_ORDERS
        )
        .exclude(order_id=requirement.order_id)
        .aggregate(open=Sum(F("quantity_required") - F("quantity_issued")))["open"]
    )
    return max(total or Decimal(0), Decimal(0))


def _needed_at(requirement: MaterialRequirement):
    """When the shortage bites: the planned start of the operation that needs the material,
    else the order's (planned start, earliest start); an order not scheduled at all needs it
    now (the cautious reading: nothing says it can wait)."""
    operation, order = requirement.operation, requirement.order
    return operation.planned_start or order.planned_start or order.earliest_start or timezone.now()


def shortages_detect(*, order: ProductionOrder) -> list[MaterialShortage]:
    """Raise a shortage for every requirement the stock cannot cover.

    The requirement is issued at its work center's line-side location (any location when
    none is set). If the plant as a whole has enough, a transfer from the location holding
    the most is proposed; otherwise an urgent purchase requisition for what is missing.
    """
    raised = []
    requirements = MaterialRequirement.objects.filter(order=order).select_related(
        "item", "order", "operation__work_center__issue_location"
    )
    for req in requirements:
        if req.shortages.filter(status=MaterialShortage.Status.OPEN).exists():
            continue
        open_qty = req.quantity_open
        if open_qty <= 0:
            continue
        balances = dict(
            StockBalance.objects.filter(item=req.item, on_hand__gt=0)
            .values("location_id")
            .annotate(total=Sum("on_hand"))
            .values_list("location_id", "total")
        )
        free_total = sum(balances.values(), Decimal(0)) - _allocated_elsewhere(req)
        issue_location = req.operation.work_center.issue_location
        at_location = balances.get(issue_location.pk, Decimal(0)) if issue_location else free_total
        if at_location >= open_qty:
            continue
        shortage = MaterialShortage(requirement=req)
        bites_at = _needed_at(req)
        need_date = timezone.localtime(bites_at).date()
        bites_in = max((bites_at - timezone.now()).total_seconds() / 60, 0)
        # Severity follows the impact: how soon the shortage bites (the rules' thresholds).
        # A transfer inside the plant covers it: urgent at most, it stops nothing for long.
        severity = severity_for_impact(
            alert_type=AlertType.MATERIAL_SHORTAGE, bites_in_minutes=bites_in
        )
        if issue_location and free_total >= open_qty:
            source = max(
                (loc for loc in balances if loc != issue_location.pk), key=lambda loc: balances[loc]
            )
            shortage.quantity_short = open_qty - at_location
            shortage.transfer_from_id = source
            shortage.transfer_quantity = shortage.quantity_short
            proposal = Text(
                PROPOSE_TRANSFER,
                quantity=shortage.quantity_short,
                location=StockLocation.objects.get(pk=source).code,
            )
        else:
            shortage.quantity_short = open_qty - max(free_total, Decimal(0))
            # Urgent purchasing when it stops production soon (severe); otherwise an
            # ordinary requisition for the need date, which the exception loop expedites if
            # the shortage turns severe.
            urgent = severity == Severity.SEVERE
            shortage.requisition = requisition_create(
                item=req.item,
                quantity=shortage.quantity_short,
                need_date=need_date,
                urgent=urgent,
                reason=Text(SHORTAGE_FOR, order=order.number, step=req.operation.sequence),
            )
            proposal = Text(
                PROPOSE_URGENT_REQUISITION if urgent else PROPOSE_REQUISITION,
                number=shortage.requisition.number,
                date=f"{need_date:%Y-%m-%d}",
            )
        shortage.save()
        raised.append(shortage)
        if shortage.transfer_from_id and severity == Severity.SEVERE:
            severity = Severity.URGENT
        alert_raise(
            alert_type=AlertType.MATERIAL_SHORTAGE,
            severity=severity,
            description=Text(
                SHORTAGE,
                item=req.item.code,
                required=req.quantity_required,
                order=order.number,
                sequence=req.operation.sequence,
                at=f"{timezone.localtime(bites_at):%Y-%m-%d %H:%M}",
                short=shortage.quantity_short,
                proposal=proposal,
            ),
            shortage=shortage,
            raised_via="rule",
            rule_name=SHORTAGE_RULE,
            external_id=f"shortage:{shortage.pk}",
        )
        emit(
            "execution.shortage.raised",
            {
                "shortage_id": shortage.pk,
                "order_id": order.pk,
                "operation_id": req.operation_id,
                "item": req.item.code,
                "required": str(req.quantity_required),
                "short": str(shortage.quantity_short),
                "proposal": proposal.english(),  # the English words, as before
            },
        )
    return raised


def material_issue(
    *,
    requirement: MaterialRequirement,
    quantity: Decimal,
    location: StockLocation,
    external_id: str,
    lot: MaterialLot | None = None,
    reason: str = "",
    by=None,
) -> MaterialIssue | IssueApproval:
    """Issue material against a requirement.

    Beyond the requirement plus the tolerance nothing moves: an approval request is created
    and returned instead; stock moves when a planner approves it. A repeated external_id
    returns what the first call made.
    """
    quantity = Decimal(quantity)
    if not quantity.is_finite() or quantity <= 0:
        raise ValidationError({"quantity": _("quantity must be a number above zero.")})
    if quantity >= QUANTITY_LIMIT:
        raise ValidationError(
            {"quantity": _("quantity must be below %(limit)s.") % {"limit": f"{QUANTITY_LIMIT:,}"}}
        )
    if not external_id:
        raise ValidationError({"external_id": _("An issue needs the sender's id.")})
    if requirement.order.status not in ACTIVE_ORDERS:
        raise StateConflict(
            _("Order %(order)s is %(status)s; material is issued only to released orders.")
            % {
                "order": requirement.order.number,
                "status": requirement.order.get_status_display().lower(),
            }
        )
    with transaction.atomic():
        done = MaterialIssue.objects.filter(external_id=external_id).first()
        if done is not None:
            return done
        pending = IssueApproval.objects.filter(external_id=external_id).first()
        if pending is not None:
            return pending
        locked = MaterialRequirement.objects.select_for_update().get(pk=requirement.pk)
        limit = locked.quantity_required * (1 + issue_tolerance())
        if locked.quantity_issued + quantity > limit:
            approval = IssueApproval.objects.create(
                requirement=locked,
                lot=lot,
                location=location,
                quantity=quantity,
                external_id=external_id,
                reason=reason,
                requested_by=by if getattr(by, "is_authenticated", False) else None,
            )
            audit_record(actor=by, action="material.issue.approval_requested", obj=approval)
            emit(
                "execution.issue.approval_requested",
                {"approval_id": approval.pk, "order_id": locked.order_id},
            )
            return approval
        return _issue(locked, quantity, location, lot, external_id, by)


def _issue(requirement, quantity, location, lot, external_id, by) -> MaterialIssue:
    move = stock_move_record(
        item=requirement.item,
        location=location,
        lot=lot,
        quantity=-quantity,
        kind="issue",
        reference=f"{requirement.order.number}/{requirement.operation.sequence}",
        external_id=f"issue:{external_id}",
        by=by,
    )
    try:
        with transaction.atomic():
            issue = MaterialIssue.objects.create(
                requirement=requirement,
                lot=lot,
                location=location,
                quantity=quantity,
                stock_move=move,
                external_id=external_id,
                issued_by=by if getattr(by, "is_authenticated", False) else None,
            )
    except IntegrityError:
        return MaterialIssue.objects.get(external_id=external_id)
    MaterialRequirement.objects.filter(pk=requirement.pk).update(
        quantity_issued=F("quantity_issued") + quantity
    )
    audit_record(actor=by, action="material.issue", obj=issue, data={"quantity": str(quantity)})
    emit(
        "execution.material.issued",
        {
            "issue_id": issue.pk,
            "order_id": requirement.order_id,
            "operation_id": requirement.operation_id,
            "item": requirement.item.code,
            "lot": lot.code if lot else None,
            "quantity": str(quantity),
        },
    )
    return issue


def issue_approval_decide(
    *,
    approval: IssueApproval,
    approve: bool,
    by=None,
    note: str = "",
    password: str | None = None,
):
    """A planner approves (stock moves now) or rejects an over-issue, signing the decision
    (core.signatures: the password, meaning "approved" or "rejected", the note as the
    reason); a refused signature decides nothing."""
    with transaction.atomic():
        locked = IssueApproval.objects.select_for_update().get(pk=approval.pk)
        if locked.status != IssueApproval.Status.PENDING:
            raise StateConflict(
                _("This request was already %(status)s.")
                % {"status": locked.get_status_display().lower()}
            )
        locked.decided_by = by if getattr(by, "is_authenticated", False) else None
        locked.decided_at = timezone.now()
        locked.decision_note = note
        if approve:
            requirement = MaterialRequirement.objects.select_for_update().get(
                pk=locked.requirement_id
            )
            locked.issue = _issue(
                requirement,
                locked.quantity,
                locked.location,
                locked.lot,
                f"approved:{locked.external_id}",
                by,
            )
            locked.status = IssueApproval.Status.APPROVED
        else:
            locked.status = IssueApproval.Status.REJECTED
        locked.save()
        signature_sign(
            user=by,
            password=password,
            meaning=Signature.Meaning.APPROVED if approve else Signature.Meaning.REJECTED,
            reason=note,
            record=locked,
        )
        audit_record(actor=by, action=f"material.issue.{locked.status}", obj=locked)
    return locked


def barcode_receipt(
    *,
    barcode: str,
    location: StockLocation,
    external_id: str,
    by=None,
    purchase_order: str = "",
):
    """Receive goods by scanning their label; a repeated scan id changes nothing.

    The receipt must match an open purchase order line for the item (see
    `resources.services.purchasing`): otherwise it is refused with a message naming the
    item, lot and quantity, and nothing is written — no lot, no stock move."""
    code, lot_code, quantity = barcode_parse(barcode)
    item = Item.objects.filter(code=code).first()
    if item is None:
        raise ValidationError(
            {"barcode": _("Unknown item %(code)r on the label.") % {"code": code}}
        )
    if quantity <= 0:
        raise ValidationError({"barcode": _("The label's quantity must be above zero.")})
    move_id = f"receipt:{external_id}"
    with transaction.atomic():
        existing = StockMove.objects.filter(external_id=move_id).first()
        if existing is not None:
            return existing
        line = purchase_line_match(
            item=item, lot_code=lot_code, quantity=quantity, order_number=purchase_order
        )
        lot = None
        if lot_code:
            lot = material_lot_obtain(item=item, code=lot_code)
        move = stock_move_record(
            item=item,
            location=location,
            lot=lot,
            quantity=quantity,
            kind="receipt",
            reference=f"{line.order.number}/{line.line_no} barcode {barcode}"[:100],
            external_id=move_id,
            by=by,
        )
        purchase_line_receive(line=line, quantity=quantity)
    return move
