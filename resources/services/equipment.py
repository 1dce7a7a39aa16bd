"""Writes on equipment: the machine's master data with its changeovers, and its state as the
plant reports it (running, idle, in fault, in maintenance, disconnected).

Execution puts a machine in fault when an exception reports one and back to running when
the last fault exception on it is resolved; the device gateway will report states here too.
"""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from ..models import Equipment, EquipmentChangeover


def equipment_save(
    *, values: dict, changeovers: list[dict] | None = None, equipment: Equipment | None = None
) -> Equipment:
    """Create or change a machine; `changeovers` ([{from_family, to_family, minutes}], when
    given) becomes its whole list of changeover pairs: pairs left out are removed, minutes
    changed, new pairs added. A bad pair raises a ValidationError naming `changeovers`, its
    position and field; nothing is written."""
    with transaction.atomic():
        if equipment is None:
            equipment = Equipment(**values)
        else:
            for key, value in values.items():
                setattr(equipment, key, value)
        equipment.full_clean(validate_unique=False)
        equipment.save()
        if changeovers is None:
            return equipment
        wanted: dict[tuple[str, str], int] = {}
        for index, entry in enumerate(changeovers):
            pair = EquipmentChangeover(equipment=equipment, **entry)
            try:
                pair.full_clean(exclude=["equipment"], validate_unique=False)
                if (pair.from_family, pair.to_family) in wanted:
                    raise ValidationError(
                        {
                            "to_family": _("%(pairs)s listed twice.")
                            % {"pairs": f"{pair.from_family} → {pair.to_family}"}
                        }
                    )
            except ValidationError as e:
                raise ValidationError(
                    {
                        f"changeovers[{index}].{field}": errors
                        for field, errors in e.message_dict.items()
                    }
                ) from e
            wanted[(pair.from_family, pair.to_family)] = pair.minutes
        current = {(c.from_family, c.to_family): c for c in equipment.changeovers.all()}
        stale = [c.pk for key, c in current.items() if key not in wanted]
        EquipmentChangeover.objects.filter(pk__in=stale).delete()
        for (source, target), minutes in wanted.items():
            row = current.get((source, target))
            if row is None:
                EquipmentChangeover.objects.create(
                    equipment=equipment, from_family=source, to_family=target, minutes=minutes
                )
            elif row.minutes != minutes:
                row.minutes = minutes
                row.save(update_fields=["minutes"])
    return equipment


def equipment_status_set(*, equipment: Equipment | int, status: str) -> None:
    """Set a machine's status (one UPDATE, inside the caller's transaction)."""
    if status not in Equipment.Status.values:
        raise ValidationError(
            {"status": _("Unknown equipment status %(status)s.") % {"status": repr(status)}}
        )
    pk = equipment if isinstance(equipment, int) else equipment.pk
    Equipment.objects.filter(pk=pk).update(status=status)
