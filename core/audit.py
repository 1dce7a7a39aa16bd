"""The audit trail: one call per meaningful write, inside the service's transaction."""

from django.db import models

from .models import AuditEntry


def audit_record(
    *,
    actor,
    action: str,
    obj: models.Model | None = None,
    data: dict | None = None,
    object_type: str = "",
    object_id: str = "",
) -> AuditEntry:
    """Record who did `action` to `obj`; a change about something that is no record (an
    imported file) names it by `object_type` and `object_id` instead."""
    if obj is not None:
        object_type, object_id = obj._meta.label_lower, str(obj.pk)
    return AuditEntry.objects.create(
        actor=actor if getattr(actor, "is_authenticated", False) else None,
        action=action,
        object_type=object_type,
        object_id=object_id[:64],
        data=data or {},
    )
