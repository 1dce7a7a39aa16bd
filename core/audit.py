"""The audit trail: one call per meaningful write, inside the service's transaction."""

import contextlib

from django.apps import apps
from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.utils.text import capfirst

from .history import origin_current, record_label
from .models import AuditEntry
from .policy import may


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
    actor = actor if getattr(actor, "is_authenticated", False) else None
    return AuditEntry.objects.create(
        actor=actor,
        actor_username=actor.username if actor else "",
        origin=origin_current(),
        action=action,
        object_type=object_type,
        object_id=object_id[:64],
        object_label=record_label(obj) if obj is not None else "",
        data=data or {},
    )


# --- reading the trail ------------------------------------------------------------------------

# The permission policy's name for the trail (the API view's `policy_resource` too).
AUDIT_RESOURCE = "core.audit"


def audit_readable(user) -> bool:
    """Who may read the audit trail (page and API): administrators and the plant manager.
    Every check of the trail goes through here."""
    return may(user, AUDIT_RESOURCE, "view")  # the policy: administrators, the plant manager


def audit_entries():
    """The trail, newest first; each row carries what the page and API show (no joins)."""
    return AuditEntry.objects.order_by("-at", "-id")


def audit_model_choices() -> list[tuple[str, str]]:
    """(label, name) of every model with a field-level history, for the page's filter."""
    choices = {
        model._meta.label_lower: str(model._meta.verbose_name).capitalize()
        for model in apps.get_models()
        if hasattr(model, "history") and not model._meta.proxy
    }
    return sorted(choices.items(), key=lambda pair: pair[1])


def changes_labelled(entry: AuditEntry) -> list[dict]:
    """An entry's changes with each field's label, for the page (model and field names
    looked up in the app registry, no query)."""
    try:
        model = apps.get_model(entry.object_type)
    except (LookupError, ValueError):
        model = None
    rows = []
    for change in entry.changes or []:
        name = change.get("field", "")
        label = name
        if model is not None:
            with contextlib.suppress(FieldDoesNotExist):
                label = capfirst(str(model._meta.get_field(name).verbose_name))
        rows.append({**change, "label": label})
    return rows


def model_label(object_type: str) -> str:
    try:
        return str(apps.get_model(object_type)._meta.verbose_name).capitalize()
    except (LookupError, ValueError):
        return object_type
