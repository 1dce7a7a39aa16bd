"""Master data kept by another system: equipment, items and operators created or updated by
their business code (an ERP's or a MES's ISA-95 master-data documents, integration/).

Each function takes the values the sender gave (None: not given, left as it is), changes
only what differs, and answers which fields changed: sending the same record twice changes
nothing and records nothing. A value the model refuses raises a ValidationError naming the
field; the caller's transaction then writes nothing.
"""

from dataclasses import dataclass, field
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext

from core.audit import audit_record
from core.lists import list_text
from core.roles import Role

from ..models import Equipment, Item, Operator, WorkCenter
from .people import operator_save


@dataclass
class Synced:
    """What a sync did to one record."""

    obj: object
    created: bool = False
    changed: list[str] = field(default_factory=list)


def _apply(obj, values: dict) -> list[str]:
    changed = []
    for name, value in values.items():
        if value is not None and getattr(obj, name, None) != value:
            setattr(obj, name, value)
            changed.append(name)
    return changed


def _work_center(code: str | None, name: str) -> WorkCenter | None:
    if code is None:
        return None
    found = WorkCenter.objects.filter(code=code).first()
    if found is None:
        raise ValidationError({name: gettext("No work center %(code)s.") % {"code": repr(code)}})
    return found


def equipment_sync(
    *,
    code: str,
    name: str | None = None,
    work_center: str | None = None,
    model: str | None = None,
    rated_rate: Decimal | None = None,
    by=None,
) -> Synced:
    """Create or update a machine by its code; a new one needs its work center."""
    center = _work_center(work_center, "work_center")
    with transaction.atomic():
        equipment = Equipment.objects.select_for_update().filter(code=code).first()
        values = {"name": name, "work_center": center, "model": model, "rated_rate": rated_rate}
        if equipment is None:
            if center is None:
                raise ValidationError(
                    {
                        "work_center": gettext("New equipment %(code)s: name its work center.")
                        % {"code": code}
                    }
                )
            equipment = Equipment(code=code, name=name or code)
            changed = _apply(equipment, values)
            equipment.full_clean()
            equipment.save()
            audit_record(actor=by, action="equipment.sync", obj=equipment, data={"created": True})
            return Synced(equipment, created=True, changed=changed)
        changed = _apply(equipment, values)
        if changed:
            equipment.full_clean()
            equipment.save(update_fields=changed)
            audit_record(
                actor=by, action="equipment.sync", obj=equipment, data={"changed": changed}
            )
    return Synced(equipment, changed=changed)


def item_sync(
    *,
    code: str,
    name: str | None = None,
    uom: str | None = None,
    source: str | None = None,
    tracking: str | None = None,
    by=None,
) -> Synced:
    """Create or update an item by its code (a new one: bought, in pieces, unless given)."""
    for value, choices, label in (
        (uom, Item.Uom, "uom"),
        (source, Item.Source, "source"),
        (tracking, Item.Tracking, "tracking"),
    ):
        if value is not None and value not in choices.values:
            raise ValidationError(
                {
                    label: gettext("Unknown %(field)s %(value)s; use %(choices)s.")
                    % {
                        "field": label,
                        "value": repr(value),
                        "choices": list_text(choices.values),
                    }
                }
            )
    values = {"name": name, "uom": uom, "source": source, "tracking": tracking}
    with transaction.atomic():
        item = Item.objects.select_for_update().filter(code=code).first()
        if item is None:
            item = Item(code=code, name=name or code)
            changed = _apply(item, values)
            item.full_clean()
            item.save()
            audit_record(actor=by, action="item.sync", obj=item, data={"created": True})
            return Synced(item, created=True, changed=changed)
        changed = _apply(item, values)
        if changed:
            item.full_clean()
            item.save(update_fields=changed)
            audit_record(actor=by, action="item.sync", obj=item, data={"changed": changed})
    return Synced(item, changed=changed)


def operator_sync(
    *,
    badge: str,
    name: str | None = None,
    home_work_center: str | None = None,
    active: bool | None = None,
    by=None,
) -> Synced:
    """Create or update an operator by badge (saved by `operator_save`, the API's service;
    skills are not touched). A new operator gets a login of their own
    (username: the badge in lower case, no usable password until an administrator sets one)
    in the operator role."""
    center = _work_center(home_work_center, "home_work_center")
    values = {"name": name, "home_work_center": center, "active": active}
    with transaction.atomic():
        operator = Operator.objects.select_for_update().filter(badge=badge).first()
        if operator is not None:
            changed = [n for n, v in values.items() if v is not None and getattr(operator, n) != v]
            if changed:
                operator_save(
                    values={name: values[name] for name in changed}, skills=None, operator=operator
                )
                audit_record(
                    actor=by, action="operator.sync", obj=operator, data={"changed": changed}
                )
            return Synced(operator, changed=changed)
        username = badge.lower()
        user_model = get_user_model()
        if user_model.objects.filter(username=username).exists():
            raise ValidationError(
                {
                    "badge": gettext(
                        "A login %(username)s exists already; link it to badge %(badge)s in "
                        "the admin."
                    )
                    % {"username": repr(username), "badge": badge}
                }
            )
        user = user_model(username=username, first_name=(name or "")[:150])
        user.set_unusable_password()
        user.full_clean()
        user.save()
        user.groups.add(Group.objects.get_or_create(name=Role.OPERATOR)[0])
        given = {k: v for k, v in values.items() if v is not None}
        operator = operator_save(
            values={"user": user, "badge": badge, "name": name or badge, **given}, skills=None
        )
        changed = sorted(given)
        audit_record(actor=by, action="operator.sync", obj=operator, data={"created": True})
    return Synced(operator, created=True, changed=changed)
