"""Trace codes: one per serial-tracked unit or per lot, the code printed on its label.

Format of a code issued by ClosedLoop: `<item code>-<yymm>-<sequence>`, e.g.
`EB-500-2611-00001` is the first EB-500 code issued in November 2026 (plant time). The
sequence runs per item and month, five digits (it simply grows to six after 99,999). Codes
issued on demand for an order (`trace_codes_issue_for_order`: labels printed before the work
starts) are made this way, together with the unit (serial = code) or lot (lot code = code)
they name; the operator scans the label as the event's `trace_code` at the first operation,
and execution finds that unit or lot.

A unit or lot that first appears in a production event under a code chosen on the floor (a
number cast into the part, a moulding lot) is issued its trace code when the event is
recorded (`trace_code_on_event`, a handler of `execution.events.recorded`): the code is its
serial or lot code itself, so the label scans back to the same unit at every later
operation. Only when that string is already another item's trace code does it get the item
as a prefix (`<item code>-<serial>`), and as a last resort the next formatted code; such a
label still finds the unit in the trace lookup, but execution knows the unit by its serial.

Codes are unique (TraceCode.code); issuing is idempotent (a unit or lot has at most one code,
a repeated request id returns the codes it made) and serialised per item by locking the
item's row, so two issuers never compute the same sequence.
"""

from __future__ import annotations

import re

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.db.models.functions import Length
from django.utils import timezone
from django.utils.translation import gettext as _

from core.audit import audit_record
from core.events import handler
from core.exceptions import StateConflict
from core.models import AuditEntry, OutboxEvent
from execution.models import ProductionEvent
from planning.models import ProductionOrder
from resources.models import Item, MaterialLot, SerialUnit
from resources.services.tracking import material_lots_create, serial_units_create

from ..models import TraceCode
from ..selectors.genealogy import TraceTarget, trace_find

SEQUENCE_WIDTH = 5
MAX_BATCH = 1000  # codes per request for an order
ISSUED_FOR_ORDER = "quality.trace_codes.issued"
CLOSED_ORDERS = (
    ProductionOrder.Status.COMPLETED,
    ProductionOrder.Status.CLOSED,
    ProductionOrder.Status.CANCELLED,
)


def _trace_code_prefix(item: Item, when=None) -> str:
    """`EB-500-2611-`: the item and the plant-local year and month of issue."""
    day = timezone.localdate(when) if when is not None else timezone.localdate()
    return f"{item.code}-{day:%y%m}-"


def _max_sequence(prefix: str) -> int:
    """The highest sequence among the trace codes that start with the prefix, 0 if none."""
    pattern = rf"^{re.escape(prefix)}[0-9]+$"
    # A range, not LIKE: the unique index on code serves a range in any collation (LIKE
    # needs the pattern index, which cannot give the order), so the highest code is found
    # by a short backward index scan; the regex keeps out other strings in the range.
    upper = prefix[:-1] + chr(ord(prefix[-1]) + 1)
    matching = TraceCode.objects.filter(code__gte=prefix, code__lt=upper, code__regex=pattern)
    top = matching.order_by("-code").values_list("code", flat=True).first()
    if top is None:
        return 0
    if top[len(prefix) :] == "9" * SEQUENCE_WIDTH:
        # Past 99,999 the codes are longer and sort before "99999": look at lengths (rare).
        top = (
            matching.order_by(Length("code").desc(), "-code").values_list("code", flat=True).first()
        )
    return int(top[len(prefix) :])


def _free_codes(item: Item, prefix: str, count: int) -> list[str]:
    """The next `count` formatted codes after the highest issued one, skipping any string
    already used as this item's serial or lot code (a unit scanned under a code in this
    format before the code was issued)."""
    first = _max_sequence(prefix) + 1
    while True:
        codes = [f"{prefix}{n:0{SEQUENCE_WIDTH}d}" for n in range(first, first + count)]
        taken = set(TraceCode.objects.filter(code__in=codes).values_list("code", flat=True))
        taken |= set(
            SerialUnit.objects.filter(item=item, serial__in=codes).values_list("serial", flat=True)
        )
        taken |= set(
            MaterialLot.objects.filter(item=item, code__in=codes).values_list("code", flat=True)
        )
        if not taken:
            return codes
        first = max(int(c[len(prefix) :]) for c in taken) + 1


def _lock_item(item: Item) -> None:
    # Every issuer of an item's codes takes this row lock first: the sequence is computed
    # and used inside it. (A no-op on SQLite, whose writers are serialised anyway.)
    list(Item.objects.select_for_update().filter(pk=item.pk).values_list("pk", flat=True))


def trace_code_issue(
    *,
    unit: SerialUnit | None = None,
    lot: MaterialLot | None = None,
    order: ProductionOrder | None = None,
    by=None,
) -> TraceCode:
    """The trace code of a unit or lot, issued now if it has none (idempotent)."""
    if (unit is None) == (lot is None):
        raise ValidationError(_("A trace code names exactly one unit or one lot."))
    owner = unit if unit is not None else lot
    which = {"unit": unit} if unit is not None else {"lot": lot}
    existing = TraceCode.objects.filter(**which).first()
    if existing is not None:
        return existing
    item = owner.item
    if item.tracking == Item.Tracking.NONE:
        raise ValidationError(
            {"item": _("%(item)s is not tracked: it has no trace codes.") % {"item": item.code}}
        )
    natural = unit.serial if unit is not None else lot.code
    with transaction.atomic():
        _lock_item(item)
        existing = TraceCode.objects.filter(**which).first()
        if existing is not None:
            return existing
        candidates = [natural, f"{item.code}-{natural}"]
        for attempt in range(4):
            free = [c for c in candidates if not TraceCode.objects.filter(code=c).exists()]
            if free:
                code = free[0]
            else:
                [code] = _free_codes(item, _trace_code_prefix(item), 1)
            try:
                with transaction.atomic():
                    issued = TraceCode.objects.create(
                        code=code, item=item, unit=unit, lot=lot, order=order
                    )
            except IntegrityError:
                # Another item's issuer took the same string, or another worker issued this
                # unit's code in between: look again.
                existing = TraceCode.objects.filter(**which).first()
                if existing is not None:
                    return existing
                candidates = [c for c in candidates if c != code]
                if attempt == 3:
                    raise
                continue
            audit_record(
                actor=by, action="quality.trace_code.issued", obj=issued, data={"code": code}
            )
            return issued
    raise AssertionError("unreachable")


def trace_codes_issue_for_order(
    *, order: ProductionOrder, count: int, request_id: str, by=None
) -> tuple[list[TraceCode], bool]:
    """Issue the next `count` codes for an order, each with the unit (serial-tracked item)
    or lot (lot-tracked) it names. Returns (codes, created); a repeated `request_id` for the
    same order returns the codes of the first request and created=False."""
    request_id = (request_id or "").strip()
    if not request_id:
        raise ValidationError({"request_id": _("A request needs the sender's id (request_id).")})
    if len(request_id) > 100:
        raise ValidationError({"request_id": _("At most 100 characters.")})
    try:
        count = int(count)
    except (TypeError, ValueError):
        raise ValidationError(
            {"count": _("%(count)s is not a whole number.") % {"count": repr(count)}}
        ) from None
    if not 1 <= count <= MAX_BATCH:
        raise ValidationError(
            {"count": _("Issue between 1 and %(max)s codes at a time.") % {"max": MAX_BATCH}}
        )
    item = order.item
    if item.tracking == Item.Tracking.NONE:
        raise ValidationError(
            {
                "order": _("%(order)s makes %(item)s, which is not tracked: no trace codes.")
                % {"order": order.number, "item": item.code}
            }
        )
    with transaction.atomic():
        # The order's row lock makes a retried request wait for the first and then find it.
        locked = ProductionOrder.objects.select_for_update().get(pk=order.pk)
        done = AuditEntry.objects.filter(
            object_type=ProductionOrder._meta.label_lower,
            object_id=str(order.pk),
            action=ISSUED_FOR_ORDER,
            data__request_id=request_id,
        ).first()
        if done is not None:
            codes = TraceCode.objects.filter(code__in=done.data.get("codes", []))
            return list(codes.select_related("item", "order").order_by("code")), False
        if locked.status in CLOSED_ORDERS:
            raise StateConflict(
                _("Order %(order)s is %(status)s: no new trace codes.")
                % {"order": order.number, "status": str(locked.get_status_display()).lower()}
            )
        _lock_item(item)
        codes = _free_codes(item, _trace_code_prefix(item), count)
        if item.tracking == Item.Tracking.SERIAL:
            units = serial_units_create(units=[SerialUnit(item=item, serial=c) for c in codes])
            rows = [
                TraceCode(code=c, item=item, unit=u, order=locked)
                for c, u in zip(codes, units, strict=True)
            ]
        else:
            lots = material_lots_create(lots=[MaterialLot(item=item, code=c) for c in codes])
            rows = [
                TraceCode(code=c, item=item, lot=lot, order=locked)
                for c, lot in zip(codes, lots, strict=True)
            ]
        issued = TraceCode.objects.bulk_create(rows)
        audit_record(
            actor=by,
            action=ISSUED_FOR_ORDER,
            obj=locked,
            data={"request_id": request_id, "count": count, "codes": codes},
        )
    return issued, True


def trace_codes_mark_printed(*, codes: list[str], by=None) -> int:
    """Note that labels were printed (the first print only); returns how many were new."""
    now = timezone.now()
    with transaction.atomic():
        changed = TraceCode.objects.filter(code__in=list(codes), printed_at__isnull=True).update(
            printed_at=now
        )
        if changed:
            first = TraceCode.objects.filter(code__in=list(codes)).order_by("code").first()
            audit_record(
                actor=by,
                action="quality.trace_code.printed",
                obj=first,
                data={"codes": list(codes)[:MAX_BATCH], "newly_printed": changed},
            )
    return changed


def trace_lookup(*, code: str, item: str | None = None, by=None) -> TraceTarget:
    """The unit or lot a code names (see `genealogy.trace_find`). A unit or lot made here
    whose code the event handler has not issued yet gets it now; a received lot keeps its
    own code and gets none. Raises TraceNotFound / TraceAmbiguous."""
    target = trace_find(code=code, item=item)
    if target.trace_code is None:
        which = {"unit": target.unit} if target.unit is not None else {"lot": target.lot}
        first = (
            ProductionEvent.objects.filter(**which)
            .select_related("order")
            .order_by("occurred_at", "id")
            .first()
        )
        if first is not None:
            target.trace_code = trace_code_issue(**which, order=first.order, by=by)
    return target


@handler("execution.events.recorded")
def trace_code_on_event(event: OutboxEvent) -> None:
    """Issue the codes of the units and lots that recorded production events name (at their
    first operation; later events find them issued). One query for the events of the domain
    event, then only units and lots without a code. Idempotent, as outbox handlers must be."""
    listed = (event.payload or {}).get("events") or []
    ids = {e.get("event_id") for e in listed if isinstance(e, dict) and e.get("trace_code")}
    ids.discard(None)
    if not ids:
        return  # nothing named a unit or lot (untracked items send no code)
    recorded = (
        ProductionEvent.objects.filter(event_id__in=ids)
        .filter(Q(unit__isnull=False) | Q(lot__isnull=False))
        .filter(Q(unit__isnull=True) | Q(unit__trace_code__isnull=True))
        .filter(Q(lot__isnull=True) | Q(lot__trace_code__isnull=True))
        .select_related("unit__item", "lot__item", "order")
        .order_by("id")
    )
    done: set[tuple[str, int]] = set()
    for found in recorded:
        key = ("unit", found.unit_id) if found.unit_id else ("lot", found.lot_id)
        if key in done:
            continue
        done.add(key)
        trace_code_issue(unit=found.unit, lot=found.lot, order=found.order)
