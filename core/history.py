"""Field-level history of records: before and after values, who, when, and from where.

Built on django-simple-history, not django-pghistory: pghistory records changes with
PostgreSQL triggers and cannot run on SQLite, which the embedded default (`make run`) and the
test suite use; simple-history records them from Django's model signals on every database.

Each audited model gets a `Historical<Model>` table with a full snapshot per change (`+`
created, `~` changed, `-` deleted), registered at the bottom of its app's `models.py` with
`history_register(...)`. Every snapshot also writes one `core.AuditEntry` carrying the changed
fields' before and after values, in the same transaction: the audit page and API read that one
table (filtered and paginated) instead of a union of every history table. docs/audit.md lists
what is audited and which high-volume tables deliberately are not.

The actor: pages and the admin through `HistoryRequestMiddleware` (settings); the API through
the same request, since DRF's `Request.user` setter writes the user it authenticated (token or
session) back onto Django's request, which the middleware holds, before any view code runs.
Writes outside a request (Celery tasks, management commands) have no actor but an origin
(`task:<name>`, `command:<name>`, or `system`).
"""

import datetime
import sys
import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from decimal import Decimal
from pathlib import Path

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import models
from simple_history import register
from simple_history.models import HistoricalRecords
from simple_history.signals import post_create_historical_record, pre_create_historical_record

# Fields whose value the audit shows as the record's name (first one a model has).
LABEL_FIELDS = ("code", "number", "badge", "serial", "username", "name")

ORIGIN_ADMIN = "admin"
ORIGIN_API = "api"
ORIGIN_PAGE = "page"
ORIGIN_SYSTEM = "system"

_origin: ContextVar[str] = ContextVar("audit_origin", default="")


@contextmanager
def audit_origin(origin: str) -> Iterator[None]:
    """Name where the writes inside come from (`task:<name>`, `command:<name>`)."""
    token = _origin.set(origin[:100])
    try:
        yield
    finally:
        _origin.reset(token)


def _request():
    return getattr(HistoricalRecords.context, "request", None)


def origin_current() -> str:
    """Where a write comes from: a named task or command, else the request's kind (admin,
    API, page), else the command manage.py runs, else `system`."""
    named = _origin.get()
    if named:
        return named
    request = _request()
    if request is not None:
        path = getattr(request, "path_info", "") or ""
        if path.startswith("/admin/"):
            return ORIGIN_ADMIN
        if path.startswith("/api/"):
            return ORIGIN_API
        return ORIGIN_PAGE
    if len(sys.argv) > 1 and Path(sys.argv[0]).name == "manage.py":
        return f"command:{sys.argv[1]}"[:100]
    return ORIGIN_SYSTEM


def actor_current():
    """The signed-in user of the request being answered (API included), or None."""
    user = getattr(_request(), "user", None)
    return user if getattr(user, "is_authenticated", False) else None


class HistoryActor(models.Model):
    """What every history row keeps beside the library's fields: the actor's username (it
    stays when the account is renamed) and where the change came from."""

    history_username = models.CharField(max_length=150, blank=True)
    history_origin = models.CharField(max_length=100, blank=True)

    class Meta:
        abstract = True


class AuditedHistory(HistoricalRecords):
    """HistoricalRecords with the project's defaults: the actor's username and the origin on
    every row, and no row for a save that touches only excluded fields (a sign-in writing
    `last_login`)."""

    def __init__(self, **kwargs):
        kwargs.setdefault("bases", (HistoryActor,))
        kwargs.setdefault("user_related_name", "+")
        super().__init__(**kwargs)

    def post_save(self, instance, created, using=None, **kwargs):
        update_fields = kwargs.get("update_fields")
        if not created and update_fields and set(update_fields) <= set(self.excluded_fields):
            return
        super().post_save(instance, created, using=using, **kwargs)

    def create_historical_record(self, instance, history_type, using=None):
        if history_type == "~":
            # The last snapshot: a save that changes nothing (loading the demo again, an
            # `update_or_create` that finds its values) leaves no row; else it is the
            # "before" of the audit entry (core.history._history_entry_write).
            manager = getattr(instance, self.manager_name)
            previous = manager.order_by("-history_date", "-history_id").first()
            if previous is not None and self._same(instance, previous):
                return
            instance._history_previous = previous
        try:
            super().create_historical_record(instance, history_type, using=using)
        finally:
            instance.__dict__.pop("_history_previous", None)

    def _same(self, instance, previous) -> bool:
        if previous.history_type == "-":
            return False
        for field in self.fields_included(instance):
            now = field_plain(field, getattr(instance, field.attname))
            if now != field_plain(field, getattr(previous, field.attname)):
                return False
        for field in self.get_m2m_fields_from_model(type(instance)):
            current = sorted(getattr(instance, field.name).values_list("pk", flat=True))
            if current != _m2m_ids(previous, field):
                return False
        return True


def history_register(*model_classes: type[models.Model], **options) -> None:
    """Give each model a field-level history (`Model.history`), kept in its own app."""
    for model in model_classes:
        register(model, records_class=AuditedHistory, **options)


# --- one audit entry per history row ---------------------------------------------------------


def value_plain(value):
    """A field's value as JSON keeps it (Decimal and instants as text, ids as they are)."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime.datetime | datetime.date | datetime.time):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, list | tuple):
        return [value_plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): value_plain(v) for k, v in value.items()}
    return str(value)


def field_plain(field, value):
    """A field's value as stored, in plain JSON: the value a save is handed ("95.5", a
    Decimal of another scale) reads the same as the one loaded back (95.5000), so an
    unchanged field never shows as changed."""
    if value is None:
        return None
    try:
        value = field.to_python(value)
        if isinstance(field, models.DecimalField) and isinstance(value, Decimal):
            return f"{value:.{field.decimal_places}f}"
    except (DjangoValidationError, ArithmeticError, TypeError, ValueError):
        pass
    return value_plain(value)


def _tracked(history_model) -> list:
    return list(history_model.tracked_fields)


def record_label(instance) -> str:
    """The record's everyday name when it has one in its own row (no extra query)."""
    for name in LABEL_FIELDS:
        value = getattr(instance, name, None)
        if isinstance(value, str) and value:
            return value[:200]
    return ""


def _m2m_ids(history_instance, field) -> list:
    rows = getattr(history_instance, field.name).all()
    column = field.m2m_reverse_field_name()
    return sorted(getattr(row, f"{column}_id") for row in rows)


def changes_compute(history_instance, previous=None) -> list[dict]:
    """[{field, before, after}] of one history row: every field for a creation or a
    deletion, only the changed ones (against the previous row) for a change."""
    kind = history_instance.history_type
    fields = _tracked(type(history_instance))
    m2m_fields = list(getattr(history_instance, "_history_m2m_fields", []))
    changes = []
    for field in fields:
        if field.primary_key:
            continue
        value = field_plain(field, getattr(history_instance, field.attname))
        if kind == "+":
            changes.append({"field": field.name, "before": None, "after": value})
        elif kind == "-":
            changes.append({"field": field.name, "before": value, "after": None})
        else:
            before = field_plain(field, getattr(previous, field.attname)) if previous else None
            if previous is None or before != value:
                changes.append({"field": field.name, "before": before, "after": value})
    for field in m2m_fields:
        after = _m2m_ids(history_instance, field) if kind != "-" else None
        if kind == "+":
            if after:
                changes.append({"field": field.name, "before": None, "after": after})
        elif kind == "~":
            before = _m2m_ids(previous, field) if previous is not None else []
            if before != after:
                changes.append({"field": field.name, "before": before, "after": after})
    return changes


ACTIONS = {"+": "create", "~": "update", "-": "delete"}


def _entry_for(history_instance, instance, changes, *, actor, username, origin):
    from .models import AuditEntry

    return AuditEntry(
        at=history_instance.history_date,
        actor=actor,
        actor_username=username,
        origin=origin,
        action=ACTIONS[history_instance.history_type],
        object_type=instance._meta.label_lower,
        object_id=str(instance.pk)[:64],
        object_label=record_label(instance),
        changes=changes,
        history_id=history_instance.pk,
    )


def _history_actor_fill(sender, history_instance, history_user, **kwargs) -> None:
    if not isinstance(history_instance, HistoryActor):
        return
    history_instance.history_username = getattr(history_user, "username", "") or ""
    history_instance.history_origin = origin_current()


def _history_entry_write(sender, instance, history_instance, history_user, **kwargs) -> None:
    if not isinstance(history_instance, HistoryActor):
        return
    previous = None
    if history_instance.history_type == "~":
        previous = getattr(instance, "_history_previous", None)
    changes = changes_compute(history_instance, previous)
    if history_instance.history_type == "~" and not changes:
        return  # saved without a change: the snapshot stays, the audit has nothing to show
    _entry_for(
        history_instance,
        instance,
        changes,
        actor=history_user,
        username=history_instance.history_username,
        origin=history_instance.history_origin,
    ).save()


def history_signals_connect() -> None:
    """From core's AppConfig.ready(): fill the extra fields, write the audit entries."""
    pre_create_historical_record.connect(_history_actor_fill, dispatch_uid="core.history.actor")
    post_create_historical_record.connect(_history_entry_write, dispatch_uid="core.history.entry")


def history_bulk_create(model: type[models.Model], objs: Iterable[models.Model], **kwargs):
    """`model.objects.bulk_create(objs)` with a history row and an audit entry for each new
    record (bulk inserts send no signals); returns the created records with their ids."""
    from .models import AuditEntry

    created = model.objects.bulk_create(list(objs), **kwargs)
    if not created or not hasattr(model, "history"):
        return created
    actor = actor_current()
    username = actor.username if actor else ""
    origin = origin_current()
    rows = model.history.bulk_history_create(
        created,
        default_user=actor,
        custom_historical_attrs={"history_username": username, "history_origin": origin},
    )
    AuditEntry.objects.bulk_create(
        [
            _entry_for(
                row, obj, changes_compute(row), actor=actor, username=username, origin=origin
            )
            for row, obj in zip(rows, created, strict=True)
        ]
    )
    return created


# --- Celery: a task's writes name the task ---------------------------------------------------

_task_tokens: dict[str, object] = {}


def _task_started(task_id=None, task=None, **kwargs) -> None:
    if task_id:
        _task_tokens[task_id] = _origin.set(f"task:{getattr(task, 'name', '?')}"[:100])


def _task_finished(task_id=None, **kwargs) -> None:
    token = _task_tokens.pop(task_id, None) if task_id else None
    if token is not None:
        try:
            _origin.reset(token)
        except ValueError:  # set in another context (a thread pool): just clear it
            _origin.set("")


def task_origin_connect() -> None:
    from celery.signals import task_postrun, task_prerun

    task_prerun.connect(_task_started, dispatch_uid="core.history.task_started", weak=False)
    task_postrun.connect(_task_finished, dispatch_uid="core.history.task_finished", weak=False)
