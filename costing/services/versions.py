"""Cost versions: which set of rates is current."""

from django.db import transaction
from django.db.models import Q

from core.audit import audit_record

from ..models import CostVersion


def cost_version_make_current(*, version: CostVersion, by=None) -> CostVersion:
    """Mark `version` current and the one current before it not; running it again changes
    nothing. The rows involved are locked in primary-key order, so two cost accountants
    switching at once end with exactly one current version."""
    with transaction.atomic():
        locked = list(
            CostVersion.objects.select_for_update()
            .filter(Q(is_current=True) | Q(pk=version.pk))
            .order_by("pk")
        )
        target = next(v for v in locked if v.pk == version.pk)
        if target.is_current:
            return target
        # Saved one by one (not update()) so the history records both changes; the old one
        # first, or the one-current constraint would refuse the new one.
        for other in locked:
            if other.pk != target.pk:
                other.is_current = False
                other.save(update_fields=["is_current"])
        target.is_current = True
        target.save(update_fields=["is_current"])
        audit_record(actor=by, action="cost_version.make_current", obj=target)
    return target
