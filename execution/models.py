"""The MES half: shop-floor tasks, dispatching, production events, material control, labour
and hourly progress (ISA-95 work schedules, job orders and work performance)."""

from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from core.history import history_register
from core.roles import role_label
from core.texts import text_shown
from planning.models import OrderOperation, ProductionOrder, PurchaseRequisition
from resources.models import (
    QTY,
    Equipment,
    Item,
    MaterialLot,
    Operator,
    SerialUnit,
    StockLocation,
    StockMove,
)


class Task(models.Model):
    """The shop-floor job for one operation of a released order (ISA-95 job order)."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")  # waiting for the previous operation
        READY = "ready", _("Ready")
        RUNNING = "running", _("Running")
        PAUSED = "paused", _("Paused")
        DONE = "done", _("Done")
        BLOCKED = "blocked", _("Blocked")
        CANCELLED = "cancelled", _("Cancelled")

    OPEN = (Status.QUEUED, Status.READY, Status.RUNNING, Status.PAUSED, Status.BLOCKED)

    operation = models.OneToOneField(OrderOperation, on_delete=models.CASCADE, related_name="task")
    order = models.ForeignKey(ProductionOrder, on_delete=models.CASCADE, related_name="tasks")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED)
    operator = models.ForeignKey(
        Operator, null=True, blank=True, on_delete=models.SET_NULL, related_name="tasks"
    )
    assignment_note = models.CharField(max_length=200, blank=True)
    assigned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    equipment = models.ForeignKey(
        Equipment, null=True, blank=True, on_delete=models.SET_NULL, related_name="tasks"
    )
    quantity_good = models.DecimalField(**QTY, default=Decimal("0"))
    quantity_scrap = models.DecimalField(**QTY, default=Decimal("0"))
    started_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    pause_reason = models.CharField(max_length=200, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["order__due_date", "operation__sequence"]
        indexes = [
            models.Index(fields=["status", "operator"]),
            models.Index(fields=["status", "equipment"]),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(quantity_good__gte=0) & Q(quantity_scrap__gte=0),
                name="task_quantities_nonnegative",
                violation_error_message="quantity_good and quantity_scrap must not be negative.",
            )
        ]

    def __str__(self) -> str:
        return f"Task {self.order.number}/{self.operation.sequence}"


class DispatchDecision(models.Model):
    """Why the dispatcher gave a machine its next task; kept so planning can see it."""

    equipment = models.ForeignKey(Equipment, on_delete=models.CASCADE, related_name="dispatches")
    task = models.ForeignKey(Task, null=True, on_delete=models.SET_NULL, related_name="dispatches")
    decided_at = models.DateTimeField(auto_now_add=True, db_index=True)
    reason = models.CharField(max_length=300)
    candidates = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["-decided_at", "-id"]

    def __str__(self) -> str:
        return f"{self.equipment} → {self.task_id}: {self.reason}"


class ProductionEvent(models.Model):
    """One thing that happened on the floor; the log is append-only and keyed by the
    sender's event id, so a retried message changes nothing."""

    class Kind(models.TextChoices):
        START = "start", _("Start")
        PAUSE = "pause", _("Pause")
        RESUME = "resume", _("Resume")
        REPORT = "report", _("Report quantities")
        COMPLETE = "complete", _("Complete")

    class Source(models.TextChoices):
        TERMINAL = "terminal", _("Operator terminal")
        API = "api", _("API / external MES")
        DEVICE = "device", _("Machine")

    # The log takes thousands of events a second, so it keeps only the indexes something
    # reads and the foreign-key checks that are not implied (bench/README.md, "Event
    # ingestion"): `order` and `operation` are copies of the task's, written by the services
    # from the locked task row, so the task's constraint covers them; `created_by` is who
    # sent it. Django still protects them on delete (PROTECT / SET_NULL are done by the ORM).
    # The unit, lot and trace-code indexes are partial: most events name none.
    event_id = models.CharField(max_length=100)
    kind = models.CharField(max_length=16, choices=Kind.choices)
    task = models.ForeignKey(Task, on_delete=models.PROTECT, related_name="events")
    order = models.ForeignKey(
        ProductionOrder,
        on_delete=models.PROTECT,
        related_name="events",
        db_index=False,  # the (order, occurred_at) index serves
        db_constraint=False,
    )
    operation = models.ForeignKey(
        OrderOperation,
        on_delete=models.PROTECT,
        related_name="events",
        db_index=False,  # one task per operation: read through `task`
        db_constraint=False,
    )
    operator = models.ForeignKey(
        Operator,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="events",
        db_index=False,
    )
    equipment = models.ForeignKey(
        Equipment,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="events",
        db_index=False,
    )
    quantity_good = models.DecimalField(**QTY, default=Decimal("0"))
    quantity_scrap = models.DecimalField(**QTY, default=Decimal("0"))
    reason = models.CharField(max_length=200, blank=True)
    trace_code = models.CharField(max_length=100, blank=True)
    unit = models.ForeignKey(
        SerialUnit,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="events",
        db_index=False,
    )
    lot = models.ForeignKey(
        MaterialLot,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="events",
        db_index=False,
    )
    occurred_at = models.DateTimeField()
    received_at = models.DateTimeField(auto_now_add=True)
    source = models.CharField(max_length=16, choices=Source.choices, default=Source.API)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,
        db_constraint=False,
    )

    class Meta:
        ordering = ["occurred_at", "id"]
        indexes = [
            models.Index(fields=["order", "occurred_at"]),
            models.Index(fields=["unit"], condition=Q(unit__isnull=False), name="event_unit_named"),
            models.Index(fields=["lot"], condition=Q(lot__isnull=False), name="event_lot_named"),
            models.Index(
                fields=["trace_code"], condition=~Q(trace_code=""), name="event_trace_code_named"
            ),
            # The state changes and scrap reports costing reads from the whole log (a few
            # percent of it; quantity reports are not in it, so the single-event path pays
            # nothing for them): costing's rebuild scans this instead of the table, in the
            # order its machine spans need (costing/services/actual_sql.py).
            models.Index(
                fields=["task", "occurred_at", "id"],
                include=["kind", "order", "operation", "operator", "equipment", "quantity_scrap"],
                condition=Q(kind__in=["start", "resume", "pause", "complete"])
                | Q(quantity_scrap__gt=0),
                name="event_cost_marks",
            ),
        ]
        constraints = [
            # A constraint, not `unique=True`: PostgreSQL then builds no second
            # (varchar_pattern_ops) index for LIKE, which nothing asks of an event id.
            models.UniqueConstraint(
                fields=["event_id"],
                name="event_id_unique",
                violation_error_message="An event with this event_id is already logged.",
            ),
            models.CheckConstraint(
                condition=Q(quantity_good__gte=0) & Q(quantity_scrap__gte=0),
                name="event_quantities_nonnegative",
                violation_error_message="quantity_good and quantity_scrap must not be negative.",
            ),
        ]

    def __str__(self) -> str:
        return (
            f"{self.kind} {self.order_id}/{self.operation_id} @ {self.occurred_at:%Y-%m-%d %H:%M}"
        )

    def save(self, *args, **kwargs):
        if self.pk is not None and not self._state.adding:
            raise ValidationError("Production events are append-only.")
        super().save(*args, **kwargs)


class MaterialRequirement(models.Model):
    """What an order's operation needs of one component, from the BOM, and how much is issued."""

    order = models.ForeignKey(
        ProductionOrder, on_delete=models.CASCADE, related_name="material_requirements"
    )
    operation = models.ForeignKey(
        OrderOperation, on_delete=models.CASCADE, related_name="material_requirements"
    )
    item = models.ForeignKey(Item, on_delete=models.PROTECT, related_name="requirements")
    quantity_required = models.DecimalField(**QTY)
    quantity_issued = models.DecimalField(**QTY, default=Decimal("0"))

    class Meta:
        ordering = ["order", "operation__sequence", "item__code"]
        constraints = [
            models.UniqueConstraint(
                fields=["order", "operation", "item"], name="requirement_unique_item"
            ),
            models.CheckConstraint(
                condition=Q(quantity_required__gte=0) & Q(quantity_issued__gte=0),
                name="requirement_quantities_nonnegative",
                violation_error_message="Quantities must not be negative.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.order.number}/{self.operation.sequence} {self.item.code} × {self.quantity_required}"

    @property
    def quantity_open(self) -> Decimal:
        return max(self.quantity_required - self.quantity_issued, Decimal("0"))


class MaterialIssue(models.Model):
    """Material booked out of stock against a requirement (with its stock move)."""

    requirement = models.ForeignKey(
        MaterialRequirement, on_delete=models.PROTECT, related_name="issues"
    )
    lot = models.ForeignKey(
        MaterialLot, null=True, blank=True, on_delete=models.PROTECT, related_name="issues"
    )
    location = models.ForeignKey(StockLocation, on_delete=models.PROTECT, related_name="+")
    quantity = models.DecimalField(**QTY)
    stock_move = models.OneToOneField(StockMove, on_delete=models.PROTECT, related_name="issue")
    external_id = models.CharField(max_length=100, unique=True)
    issued_at = models.DateTimeField(auto_now_add=True)
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["issued_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(quantity__gt=0),
                name="issue_qty_positive",
                violation_error_message="quantity must be above zero.",
            )
        ]

    def __str__(self) -> str:
        return f"Issue {self.quantity} {self.requirement.item.code}"


class IssueApproval(models.Model):
    """An issue beyond requirement plus tolerance, waiting for a planner's decision."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        APPROVED = "approved", _("Approved")
        REJECTED = "rejected", _("Rejected")

    requirement = models.ForeignKey(
        MaterialRequirement, on_delete=models.CASCADE, related_name="approvals"
    )
    lot = models.ForeignKey(MaterialLot, null=True, blank=True, on_delete=models.PROTECT)
    location = models.ForeignKey(StockLocation, on_delete=models.PROTECT, related_name="+")
    quantity = models.DecimalField(**QTY)
    external_id = models.CharField(max_length=100, unique=True)
    reason = models.CharField(max_length=200, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    requested_at = models.DateTimeField(auto_now_add=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_note = models.CharField(max_length=200, blank=True)
    issue = models.OneToOneField(
        MaterialIssue, null=True, blank=True, on_delete=models.SET_NULL, related_name="approval"
    )

    class Meta:
        ordering = ["-requested_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(quantity__gt=0),
                name="approval_qty_positive",
                violation_error_message="quantity must be above zero.",
            )
        ]

    def __str__(self) -> str:
        return f"Approval {self.quantity} {self.requirement.item.code} ({self.status})"


class MaterialShortage(models.Model):
    """A requirement the stock cannot cover, with what is proposed to cover it."""

    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        RESOLVED = "resolved", _("Resolved")

    requirement = models.ForeignKey(
        MaterialRequirement, on_delete=models.CASCADE, related_name="shortages"
    )
    quantity_short = models.DecimalField(**QTY)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.OPEN)
    requisition = models.ForeignKey(
        PurchaseRequisition,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="shortages",
    )
    transfer_from = models.ForeignKey(
        StockLocation, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    transfer_quantity = models.DecimalField(**QTY, default=Decimal("0"))
    raised_at = models.DateTimeField(auto_now_add=True)
    resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-raised_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(quantity_short__gt=0),
                name="shortage_qty_positive",
                violation_error_message="quantity_short must be above zero.",
            )
        ]

    def __str__(self) -> str:
        return f"Shortage {self.quantity_short} {self.requirement.item.code}"


class LabourBooking(models.Model):
    """Time an operator spent on a task, with what came out of it."""

    operator = models.ForeignKey(Operator, on_delete=models.PROTECT, related_name="bookings")
    task = models.ForeignKey(Task, on_delete=models.PROTECT, related_name="bookings")
    started_at = models.DateTimeField()
    ended_at = models.DateTimeField()
    quantity_good = models.DecimalField(**QTY, default=Decimal("0"))
    quantity_scrap = models.DecimalField(**QTY, default=Decimal("0"))
    # Booked time ends at the end of the shift the span began in (the work center's
    # calendar); the clock minutes past it are not booked but kept here and flagged.
    excess_minutes = models.DecimalField(
        max_digits=12,
        decimal_places=1,
        default=Decimal("0"),
        help_text="Minutes past the end of the shift: recorded, not booked.",
    )
    # A supervisor's signed correction moves ended_at; the booked minutes before the first
    # correction stay here.
    original_minutes = models.DecimalField(max_digits=12, decimal_places=1, null=True, blank=True)
    correction_reason = models.CharField(max_length=200, blank=True)
    corrected_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    corrected_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["started_at"]
        indexes = [models.Index(fields=["operator", "started_at"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(ended_at__gte=F("started_at")),
                name="booking_end_after_start",
                violation_error_message="ended_at must not be before started_at.",
            )
        ]

    def __str__(self) -> str:
        return f"{self.operator} {self.started_at:%Y-%m-%d %H:%M}–{self.ended_at:%H:%M}"

    @property
    def minutes(self) -> float:
        return (self.ended_at - self.started_at).total_seconds() / 60

    @property
    def flagged(self) -> bool:
        """Clocked past the shift's end: the excess waits for a supervisor's look."""
        return self.excess_minutes > 0


class EventApproval(models.Model):
    """A production event held back as implausible (backdated, or more than the operation
    should make), applied only when a supervisor of its work center approves it."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        APPROVED = "approved", _("Approved")
        REJECTED = "rejected", _("Rejected")

    class Reason(models.TextChoices):
        BACKDATED = "backdated", _("Backdated")
        OVER_DELIVERY = "over_delivery", _("Over-delivery")

    # The sender's event id: a retried message finds its approval and changes nothing.
    event_id = models.CharField(max_length=100, unique=True)
    kind = models.CharField(max_length=16, choices=ProductionEvent.Kind.choices)
    task = models.ForeignKey(Task, on_delete=models.PROTECT, related_name="event_approvals")
    payload = models.JSONField(help_text="The event as it was sent.")
    source = models.CharField(max_length=16, choices=ProductionEvent.Source.choices)
    reasons = models.JSONField(default=list, help_text="Why it was held (Reason values).")
    message = models.CharField(max_length=500)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    requested_at = models.DateTimeField(auto_now_add=True, db_index=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_note = models.CharField(max_length=200, blank=True)
    applied_event = models.OneToOneField(
        ProductionEvent, null=True, blank=True, on_delete=models.PROTECT, related_name="approval"
    )

    class Meta:
        ordering = ["-requested_at", "-id"]
        indexes = [models.Index(fields=["status", "requested_at"])]

    def __str__(self) -> str:
        return f"Held {self.kind} {self.event_id} ({self.status})"

    @property
    def reason_labels(self) -> str:
        labels = dict(self.Reason.choices)
        return ", ".join(str(labels.get(r, r)) for r in self.reasons)


class ProgressSnapshot(models.Model):
    """Where an order (or one of its operations) stood at a roll-up: plan vs actual."""

    order = models.ForeignKey(ProductionOrder, on_delete=models.CASCADE, related_name="snapshots")
    operation = models.ForeignKey(
        OrderOperation, null=True, blank=True, on_delete=models.CASCADE, related_name="snapshots"
    )
    taken_at = models.DateTimeField(db_index=True)
    quantity_done = models.DecimalField(**QTY)
    quantity_planned_to_date = models.DecimalField(**QTY)
    completion_pct = models.DecimalField(max_digits=6, decimal_places=2)
    planned_pct = models.DecimalField(max_digits=6, decimal_places=2)
    remaining_hours = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    actual_minutes_per_unit = models.DecimalField(
        max_digits=12, decimal_places=4, null=True, blank=True
    )
    planned_minutes_per_unit = models.DecimalField(
        max_digits=12, decimal_places=4, null=True, blank=True
    )
    predicted_end = models.DateTimeField(null=True, blank=True)
    delay_hours = models.DecimalField(max_digits=12, decimal_places=2, default=Decimal("0"))
    lagging = models.BooleanField(default=False)
    reasons = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["-taken_at"]
        indexes = [models.Index(fields=["order", "operation", "-taken_at"])]
        constraints = [
            # One row per order (and per operation) and roll-up hour.
            models.UniqueConstraint(
                fields=["order", "taken_at"],
                condition=Q(operation__isnull=True),
                name="snapshot_order_hour_unique",
            ),
            models.UniqueConstraint(
                fields=["order", "operation", "taken_at"],
                condition=Q(operation__isnull=False),
                name="snapshot_operation_hour_unique",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.order_id} @ {self.taken_at:%Y-%m-%d %H:%M}: {self.completion_pct}%"


# --- Exceptions (ISA-95 work alerts) ------------------------------------------------------


class AlertType(models.TextChoices):
    EQUIPMENT_FAULT = "equipment_fault", _("Equipment fault")
    MATERIAL_SHORTAGE = "material_shortage", _("Material shortage")
    QUALITY = "quality", _("Quality problem")
    OTHER = "other", _("Other")


class Severity(models.TextChoices):
    GENERAL = "general", _("General")
    URGENT = "urgent", _("Urgent")
    SEVERE = "severe", _("Severe")


SEVERITY_RANK = {Severity.GENERAL: 0, Severity.URGENT: 1, Severity.SEVERE: 2}


class AlertRule(models.Model):
    """Who must respond to an exception of a type and severity, how fast, and who is next.

    Configured in the admin; the demo loads the defaults (general: handled on the floor;
    urgent: the work center's supervisor within an hour; severe: the supply-chain director
    for material, the plant manager otherwise). The thresholds say which impact calls for
    the severity: a machine stop of at least 30 min is urgent, of a shift (8 h) severe; a
    material shortage that bites within 72 h is urgent, within 24 h severe (docs/exceptions.md)."""

    alert_type = models.CharField("exception type", max_length=20, choices=AlertType.choices)
    severity = models.CharField(max_length=10, choices=Severity.choices)
    handler_role = models.CharField(max_length=40)
    ack_minutes = models.PositiveIntegerField(
        null=True,
        blank=True,
        help_text="Acknowledge within this many minutes (blank: no deadline).",
    )
    escalate_to_role = models.CharField(max_length=40, blank=True)
    auto_requisition = models.BooleanField(
        default=False, help_text="Start an urgent purchase requisition for a material shortage."
    )
    default_downtime_minutes = models.PositiveIntegerField(
        default=240, help_text="Expected repair time when the reporter gives none (faults)."
    )
    # Severity by expected impact (execution/services/alerts.py `severity_for_impact`): an
    # exception whose impact meets a rule's threshold is at least that rule's severity.
    stop_minutes_from = models.PositiveIntegerField(
        "stop of at least (minutes)",
        null=True,
        blank=True,
        help_text="Equipment fault: an expected stop this long or longer makes the exception "
        "at least this severe (blank: the stop length never chooses this severity).",
    )
    shortage_within_hours = models.PositiveIntegerField(
        "shortage bites within (hours)",
        null=True,
        blank=True,
        help_text="Material shortage: when the first operation needing the material is "
        "planned to start within this many hours, the exception is at least this severe "
        "(blank: the time never chooses this severity).",
    )

    class Meta:
        ordering = ["alert_type", "severity"]
        verbose_name = _("exception rule")
        constraints = [
            models.UniqueConstraint(fields=["alert_type", "severity"], name="alertrule_unique")
        ]

    def __str__(self) -> str:
        return (
            f"{self.get_alert_type_display()} / {self.get_severity_display()} → {self.handler_role}"
        )


class WorkAlert(models.Model):
    """An exception on the floor (ISA-95 work alert): what, how bad, who answers by when."""

    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        ACKNOWLEDGED = "acknowledged", _("Acknowledged")
        RESOLVED = "resolved", _("Resolved")
        VERIFIED = "verified", _("Verified")

    class RaisedVia(models.TextChoices):
        PERSON = "person", _("A person")
        DEVICE = "device", _("A machine")
        RULE = "rule", _("A rule")

    number = models.CharField(max_length=32, unique=True)
    external_id = models.CharField(max_length=100, null=True, blank=True, unique=True)
    alert_type = models.CharField("exception type", max_length=20, choices=AlertType.choices)
    severity = models.CharField(max_length=10, choices=Severity.choices)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.OPEN)
    description = models.TextField()
    # When the system wrote it: its message id and parameters, read in the reader's language.
    description_id = models.CharField(max_length=300, blank=True, default="")
    description_params = models.JSONField(default=dict, blank=True)
    raised_via = models.CharField(
        max_length=10, choices=RaisedVia.choices, default=RaisedVia.PERSON
    )
    rule_name = models.CharField(max_length=100, blank=True, help_text="The rule that raised it.")
    raised_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    raised_at = models.DateTimeField(auto_now_add=True, db_index=True)
    equipment = models.ForeignKey(
        Equipment, null=True, blank=True, on_delete=models.PROTECT, related_name="alerts"
    )
    order = models.ForeignKey(
        ProductionOrder, null=True, blank=True, on_delete=models.PROTECT, related_name="alerts"
    )
    operation = models.ForeignKey(
        OrderOperation, null=True, blank=True, on_delete=models.PROTECT, related_name="alerts"
    )
    lot = models.ForeignKey(
        MaterialLot, null=True, blank=True, on_delete=models.PROTECT, related_name="alerts"
    )
    shortage = models.ForeignKey(
        MaterialShortage, null=True, blank=True, on_delete=models.SET_NULL, related_name="alerts"
    )
    handler_role = models.CharField(max_length=40, blank=True)
    handler = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="The person who must respond (the work center's supervisor for urgent ones).",
    )
    ack_deadline = models.DateTimeField(null=True, blank=True, db_index=True)
    escalation_level = models.PositiveSmallIntegerField(default=0)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    expected_downtime_minutes = models.PositiveIntegerField(null=True, blank=True)
    blocked_tasks = models.ManyToManyField(Task, blank=True, related_name="blocking_alerts")
    requisition = models.ForeignKey(
        PurchaseRequisition, null=True, blank=True, on_delete=models.SET_NULL, related_name="alerts"
    )
    impact = models.JSONField(
        default=dict, blank=True, help_text="Affected orders and sales orders with expected delays."
    )
    link = models.JSONField(
        default=dict, blank=True, help_text="Related records elsewhere (a quality hold)."
    )
    cause = models.TextField(blank=True)
    action_taken = models.TextField(blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    resolved_at = models.DateTimeField(null=True, blank=True)
    verified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    verified_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-raised_at"]
        indexes = [models.Index(fields=["status", "severity"])]
        # Users say exception (异常); the code keeps ISA-95's name, WorkAlert.
        verbose_name = _("exception")

    def __str__(self) -> str:
        return f"{self.number} {self.get_alert_type_display()} ({self.get_severity_display()})"

    @property
    def handler_role_label(self) -> str:
        return role_label(self.handler_role).replace("_", " ").lower()

    @property
    def description_shown(self) -> str:
        """What happened, in the reader's language when the system wrote it (core/texts.py)."""
        return text_shown(self.description_id, self.description_params, self.description)


class AlertStep(models.Model):
    """One step of an exception's timeline: raised, notified, acknowledged, escalated, …"""

    class Kind(models.TextChoices):
        RAISED = "raised", _("Raised")
        NOTIFIED = "notified", _("Notified")
        ACKNOWLEDGED = "acknowledged", _("Acknowledged")
        ESCALATED = "escalated", _("Escalated")
        EFFECT = "effect", _("Effect on the plan")
        RESOLVED = "resolved", _("Resolved")
        VERIFIED = "verified", _("Verified")

    alert = models.ForeignKey(
        WorkAlert, on_delete=models.CASCADE, related_name="steps", verbose_name=_("exception")
    )
    kind = models.CharField(max_length=16, choices=Kind.choices)
    at = models.DateTimeField(auto_now_add=True)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    role = models.CharField(max_length=40, blank=True)
    text = models.TextField(blank=True)
    text_id = models.CharField(max_length=300, blank=True, default="")  # core/texts.py
    text_params = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["at", "id"]
        verbose_name = _("exception step")

    def __str__(self) -> str:
        return f"{self.alert_id} {self.kind} {self.at:%H:%M}"

    @property
    def role_label(self) -> str:
        """The role as a person reads it ("production supervisor"), never its code."""
        return role_label(self.role).lower() if self.role else ""

    @property
    def text_shown(self) -> str:
        """The step's words in the reader's language (core/texts.py)."""
        return text_shown(self.text_id, self.text_params, self.text)


# Field-level history (exception rules, exceptions, material issues and their approvals,
# labour, held events' approvals): core/history.py; what is left out and why: docs/audit.md.
history_register(
    AlertRule,
    WorkAlert,
    MaterialIssue,
    IssueApproval,
    LabourBooking,
    EventApproval,
)
