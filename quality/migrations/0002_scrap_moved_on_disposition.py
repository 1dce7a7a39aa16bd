"""What a scrap disposition moved on the counters, and whether a correction moved it back,
kept on the disposition; filled for existing dispositions from their audit entries."""

from decimal import Decimal, InvalidOperation

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

# The audit actions a scrap writes on its disposition: the posting (its data's "scrap" says
# what moved and on which task and order) and the move back by a correction.
SCRAP_POSTED = "inspection.disposition"
SCRAP_REVERSED = "inspection.scrap_reverse"
BATCH = 500
QTY_LIMIT = Decimal(10) ** 14  # max_digits 18, decimal_places 4


def _quantity(raw) -> Decimal | None:
    """A quantity as the audit entry wrote it; None when it cannot be read. Never negative:
    what moves between good and scrap is at least zero."""
    try:
        value = Decimal(str(raw))
    except (TypeError, ValueError, InvalidOperation):
        return None
    if not value.is_finite() or abs(value) >= QTY_LIMIT:
        return None
    return max(value, Decimal(0))


def _posting(data) -> tuple[Decimal | None, object, object]:
    """(moved, task id, order id) from a posting's audit data."""
    if not isinstance(data, dict) or "scrap" not in data:
        # Decided before scrap dispositions moved counters: it moved nothing.
        return Decimal(0), None, None
    scrap = data["scrap"] or {}
    if not isinstance(scrap, dict):
        return None, None, None
    return _quantity(scrap.get("moved")), scrap.get("task_id"), scrap.get("order_id")


def _id(value) -> int | None:
    # Only an integer id ever matched a task or order; anything else matched none.
    return value if type(value) is int else None


def scrap_moves_from_audit(apps, schema_editor):
    """Fill the scrap fields of scrap dispositions that do not have them yet, from their
    audit entries: what the posting says moved (blank when it has none or it cannot be
    read: nothing is moved back for it), and, when a move-back entry exists, when it moved
    back and how much."""
    Disposition = apps.get_model("quality", "Disposition")
    AuditEntry = apps.get_model("core", "AuditEntry")
    Task = apps.get_model("execution", "Task")
    ProductionOrder = apps.get_model("planning", "ProductionOrder")
    pending = (
        Disposition.objects.filter(decision="scrap")
        .filter(models.Q(quantity_moved__isnull=True) | models.Q(moved_back_at__isnull=True))
        .order_by("pk")
    )
    last_pk = 0
    while True:
        batch = list(pending.filter(pk__gt=last_pk)[:BATCH])
        if not batch:
            return
        last_pk = batch[-1].pk
        posted: dict[str, object] = {}
        reversed_: dict[str, list] = {}
        entries = (
            AuditEntry.objects.filter(
                object_type="quality.disposition",
                object_id__in=[str(d.pk) for d in batch],
                action__in=(SCRAP_POSTED, SCRAP_REVERSED),
            )
            .order_by("-at", "-id")
            .values_list("object_id", "action", "data", "at")
        )
        for object_id, action, data, at in entries:
            if action == SCRAP_REVERSED:
                reversed_.setdefault(object_id, []).append((at, data))
            else:
                # Newest first, so the oldest posting wins, as it did when read back.
                posted[object_id] = data or {}
        postings = {}
        for d in batch:
            key = str(d.pk)
            moved, task_id, order_id = (
                _posting(posted[key]) if key in posted else (None, None, None)
            )
            postings[d.pk] = (moved, _id(task_id), _id(order_id))
        task_ids = set(
            Task.objects.filter(
                pk__in={t for _m, t, _o in postings.values() if t is not None}
            ).values_list("pk", flat=True)
        )
        order_ids = set(
            ProductionOrder.objects.filter(
                pk__in={o for _m, _t, o in postings.values() if o is not None}
            ).values_list("pk", flat=True)
        )
        changed = []
        for d in batch:
            key = str(d.pk)
            touched = False
            if d.quantity_moved is None:
                moved, task_id, order_id = postings[d.pk]
                d.quantity_moved = moved
                d.moved_task_id = task_id if task_id in task_ids else None
                d.moved_order_id = order_id if order_id in order_ids else None
                touched = True
            if d.moved_back_at is None and key in reversed_:
                back = reversed_[key]
                d.moved_back_at = min(at for at, _data in back)
                amounts = [
                    _quantity(data.get("moved_back"))
                    for _at, data in back
                    if isinstance(data, dict)
                ]
                amounts = [a for a in amounts if a is not None]
                # Moved back once; were there two entries, both moved back.
                d.quantity_moved_back = sum(amounts, Decimal(0)) if amounts else None
                touched = True
            if touched:
                changed.append(d)
        Disposition.objects.bulk_update(
            changed,
            [
                "quantity_moved",
                "moved_task",
                "moved_order",
                "moved_back_at",
                "quantity_moved_back",
            ],
        )


class Migration(migrations.Migration):
    dependencies = [
        ("execution", "0005_snapshot_unique_per_hour"),
        ("planning", "0004_operation_blocked_until"),
        ("quality", "0001_initial"),
        ("core", "0001_initial"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name="disposition",
            name="moved_back_at",
            field=models.DateTimeField(
                blank=True, help_text="When a correction moved the scrap back to good.", null=True
            ),
        ),
        migrations.AddField(
            model_name="disposition",
            name="moved_order",
            field=models.ForeignKey(
                blank=True,
                help_text="The order whose counters the scrap moved (its last operation only).",
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="planning.productionorder",
            ),
        ),
        migrations.AddField(
            model_name="disposition",
            name="moved_task",
            field=models.ForeignKey(
                blank=True,
                help_text="The task whose counters the scrap moved.",
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="execution.task",
            ),
        ),
        migrations.AddField(
            model_name="disposition",
            name="quantity_moved",
            field=models.DecimalField(
                blank=True,
                decimal_places=4,
                help_text="Moved from good to scrap. Blank: no scrap posting (rework, use as is).",
                max_digits=18,
                null=True,
            ),
        ),
        migrations.AddField(
            model_name="disposition",
            name="quantity_moved_back",
            field=models.DecimalField(
                blank=True,
                decimal_places=4,
                help_text="Moved back from scrap to good.",
                max_digits=18,
                null=True,
            ),
        ),
        migrations.AddConstraint(
            model_name="disposition",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    ("decision", "scrap"),
                    models.Q(
                        ("quantity_moved__isnull", True),
                        ("moved_task__isnull", True),
                        ("moved_order__isnull", True),
                        ("moved_back_at__isnull", True),
                        ("quantity_moved_back__isnull", True),
                    ),
                    _connector="OR",
                ),
                name="disposition_only_scrap_moves",
                violation_error_message="Only a scrap moves counters.",
            ),
        ),
        migrations.AddConstraint(
            model_name="disposition",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    models.Q(
                        ("quantity_moved__isnull", True),
                        ("quantity_moved__gte", 0),
                        _connector="OR",
                    ),
                    models.Q(
                        ("quantity_moved_back__isnull", True),
                        ("quantity_moved_back__gte", 0),
                        _connector="OR",
                    ),
                ),
                name="disposition_moved_not_negative",
                violation_error_message="quantity_moved and quantity_moved_back must not be negative.",
            ),
        ),
        migrations.AddConstraint(
            model_name="disposition",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    ("quantity_moved_back__isnull", True),
                    ("moved_back_at__isnull", False),
                    _connector="OR",
                ),
                name="disposition_moved_back_has_time",
                violation_error_message="A quantity moved back needs the time it moved back.",
            ),
        ),
        migrations.RunPython(scrap_moves_from_audit, migrations.RunPython.noop),
    ]
