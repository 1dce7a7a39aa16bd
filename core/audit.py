"""The audit trail: one call per meaningful write, inside the service's transaction."""

from django.db import models

from .models import AuditEntry


def audit_record(*, actor, action: str, obj: models.Model, data: dict | None = None) -> AuditEntry:
    return AuditEntry.objects.create(
        actor=actor if getattr(actor, "is_authenticated", False) else None,
        action=action,
        object_type=obj._meta.label_lower,
        object_id=str(obj.pk),
        data=data or {},
    )
