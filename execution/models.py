"""The MES half: shop-floor tasks, dispatching, production events, material control, labour
and hourly progress (ISA-95 work schedules, job orders and work performance)."""

from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext

from core.history import history_register
from core.lists import list_text
from core.roles import role_label
from core.texts import text_render, text_shown
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

    operation = models.OneToOneField(
        OrderOperation, on_delete=models.CASCADE, related_name="task", verbose_name=_("operation")
    )
    order = models.ForeignKey(
        ProductionOrder, on_delete=models.CASCADE, related_name="tasks", verbose_name=_("order")
    )
    status = models.CharField(
        max_length=16, choices=Status.choices, default=Status.QUEUED, verbose_name=_("status")
    )
    operator = models.ForeignKey(
        Operator,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="tasks",
        verbose_name=_("operator"),
    )
    assignment_note = models.CharField(
        max_length=200, blank=True, verbose_name=_("assignment note")
    )
    # The note's message id and parameters (core/texts.py): read in the reader's language.
    assignment_note_id = models.CharField(
        max_length=300, blank=True, default="", verbose_name=_("assignment note id")
    )
    assignment_note_params = models.JSONField(
        default=dict, blank=True, verbose_name=_("assignment note params")
    )
    assigned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("assigned by"),
    )
    equipment = models.ForeignKey(
        Equipment,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="tasks",
        verbose_name=_("equipment"),
    )
    quantity_good = models.DecimalField(
        **QTY, default=Decimal("0"), verbose_name=_("quantity good")
    )
    quantity_scrap = models.DecimalField(
        **QTY, default=Decimal("0"), verbose_name=_("quantity scrap")
    )
    started_at = models.DateTimeField(null=True, blank=True, verbose_name=_("started at"))
    ended_at = models.DateTimeField(null=True, blank=True, verbose_name=_("ended at"))
    pause_reason = models.CharField(max_length=200, blank=True, verbose_name=_("pause reason"))
    # When the system paused it (work an exception had blocked): the message id and
    # parameters, read in the reader's language (core/texts.py); blank for an operator's words.
    pause_reason_id = models.CharField(
        max_length=300, blank=True, default="", verbose_name=_("pause reason id")
    )
    pause_reason_params = models.JSONField(
        default=dict, blank=True, verbose_name=_("pause reason params")
    )
    updated_at = models.DateTimeField(auto_now=True, verbose_name=_("updated at"))

    class Meta:
        verbose_name = _("task")
        verbose_name_plural = _("tasks")
        ordering = ["order__due_date", "operation__sequence"]
        indexes = [
            models.Index(fields=["status", "operator"]),
            models.Index(fields=["status", "equipment"]),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(quantity_good__gte=0) & Q(quantity_scrap__gte=0),
                name="task_quantities_nonnegative",
                violation_error_message=_("quantity_good and quantity_scrap must not be negative."),
            )
        ]

    def __str__(self) -> str:
        return f"Task {self.order.number}/{self.operation.sequence}"

    @property
    def assignment_note_shown(self) -> str:
        """Why this operator got it, in the reader's language (core/texts.py)."""
        return text_shown(
            self.assignment_note_id, self.assignment_note_params, self.assignment_note
        )

    @property
    def pause_reason_shown(self) -> str:
        """Why it is paused, in the reader's language when the system wrote it."""
        return text_shown(self.pause_reason_id, self.pause_reason_params, self.pause_reason)


class DispatchDecision(models.Model):
    """Why the dispatcher gave a machine its next task; kept so planning can see it."""

    equipment = models.ForeignKey(
        Equipment, on_delete=models.CASCADE, related_name="dispatches", verbose_name=_("equipment")
    )
    task = models.ForeignKey(
        Task,
        null=True,
        on_delete=models.SET_NULL,
        related_name="dispatches",
        verbose_name=_("task"),
    )
    decided_at = models.DateTimeField(
        auto_now_add=True, db_index=True, verbose_name=_("decided at")
    )
    reason = models.CharField(max_length=300, verbose_name=_("reason"))
    # The reason's message id and parameters, read in the reader's language (core/texts.py);
    # blank on decisions recorded before reasons had ids (their English is shown).
    reason_id = models.CharField(
        max_length=300, blank=True, default="", verbose_name=_("reason id")
    )
    reason_params = models.JSONField(default=dict, blank=True, verbose_name=_("reason params"))
    candidates = models.JSONField(default=list, blank=True, verbose_name=_("candidates"))

    class Meta:
        verbose_name = _("dispatch decision")
        verbose_name_plural = _("dispatch decisions")
        ordering = ["-decided_at", "-id"]

    def __str__(self) -> str:
        return f"{self.equipment} → {self.task_id}: {self.reason_shown}"

    @property
    def reason_shown(self) -> str:
        """Why, in the reader's language (core/texts.py)."""
        return text_shown(self.reason_id, self.reason_params, self.reason)


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
    event_id = models.CharField(max_length=100, verbose_name=_("event id"))
    kind = models.CharField(max_length=16, choices=Kind.choices, verbose_name=_("kind"))
    task = models.ForeignKey(
        Task, on_delete=models.PROTECT, related_name="events", verbose_name=_("task")
    )
    order = models.ForeignKey(
        ProductionOrder,
        on_delete=models.PROTECT,
        related_name="events",
        db_index=False,  # the (order, occurred_at) index serves
        db_constraint=False,
        verbose_name=_("order"),
    )
    operation = models.ForeignKey(
        OrderOperation,
        on_delete=models.PROTECT,
        related_name="events",
        db_index=False,  # one task per operation: read through `task`
        db_constraint=False,
        verbose_name=_("operation"),
    )
    operator = models.ForeignKey(
        Operator,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="events",
        db_index=False,
        verbose_name=_("operator"),
    )
    equipment = models.ForeignKey(
        Equipment,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="events",
        db_index=False,
        verbose_name=_("equipment"),
    )
    quantity_good = models.DecimalField(
        **QTY, default=Decimal("0"), verbose_name=_("quantity good")
    )
    quantity_scrap = models.DecimalField(
        **QTY, default=Decimal("0"), verbose_name=_("quantity scrap")
    )
    reason = models.CharField(max_length=200, blank=True, verbose_name=_("reason"))
    trace_code = models.CharField(max_length=100, blank=True, verbose_name=_("trace code"))
    unit = models.ForeignKey(
        SerialUnit,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="events",
        db_index=False,
        verbose_name=_("unit"),
    )
    lot = models.ForeignKey(
        MaterialLot,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="events",
        db_index=False,
        verbose_name=_("lot"),
    )
    occurred_at = models.DateTimeField(verbose_name=_("occurred at"))
    received_at = models.DateTimeField(auto_now_add=True, verbose_name=_("received at"))
    source = models.CharField(
        max_length=16, choices=Source.choices, default=Source.API, verbose_name=_("source")
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,
        db_constraint=False,
        verbose_name=_("created by"),
    )

    class Meta:
        verbose_name = _("production event")
        verbose_name_plural = _("production events")
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
                violation_error_message=_("An event with this event_id is already logged."),
            ),
            models.CheckConstraint(
                condition=Q(quantity_good__gte=0) & Q(quantity_scrap__gte=0),
                name="event_quantities_nonnegative",
                violation_error_message=_("quantity_good and quantity_scrap must not be negative."),
            ),
        ]

    def __str__(self) -> str:
        return (
            f"{self.kind} {self.order_id}/{self.operation_id} @ {self.occurred_at:%Y-%m-%d %H:%M}"
        )

    def save(self, *args, **kwargs):
        if self.pk is not None and not self._state.adding:
            raise ValidationError(_("Production events are append-only."))
        super().save(*args, **kwargs)


class MaterialRequirement(models.Model):
    """What an order's operation needs of one component, from the BOM, and how much is issued."""

    order = models.ForeignKey(
        ProductionOrder,
        on_delete=models.CASCADE,
        related_name="material_requirements",
        verbose_name=_("order"),
    )
    operation = models.ForeignKey(
        OrderOperation,
        on_delete=models.CASCADE,
        related_name="material_requirements",
        verbose_name=_("operation"),
    )
    item = models.ForeignKey(
        Item, on_delete=models.PROTECT, related_name="requirements", verbose_name=_("item")
    )
    quantity_required = models.DecimalField(**QTY, verbose_name=_("quantity required"))
    quantity_issued = models.DecimalField(
        **QTY, default=Decimal("0"), verbose_name=_("quantity issued")
    )

    class Meta:
        verbose_name = _("material requirement")
        verbose_name_plural = _("material requirements")
        ordering = ["order", "operation__sequence", "item__code"]
        constraints = [
            models.UniqueConstraint(
                fields=["order", "operation", "item"], name="requirement_unique_item"
            ),
            models.CheckConstraint(
                condition=Q(quantity_required__gte=0) & Q(quantity_issued__gte=0),
                name="requirement_quantities_nonnegative",
                violation_error_message=_("Quantities must not be negative."),
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
        MaterialRequirement,
        on_delete=models.PROTECT,
        related_name="issues",
        verbose_name=_("requirement"),
    )
    lot = models.ForeignKey(
        MaterialLot,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="issues",
        verbose_name=_("lot"),
    )
    location = models.ForeignKey(
        StockLocation, on_delete=models.PROTECT, related_name="+", verbose_name=_("location")
    )
    quantity = models.DecimalField(**QTY, verbose_name=_("quantity"))
    stock_move = models.OneToOneField(
        StockMove, on_delete=models.PROTECT, related_name="issue", verbose_name=_("stock move")
    )
    external_id = models.CharField(max_length=100, unique=True, verbose_name=_("external id"))
    issued_at = models.DateTimeField(auto_now_add=True, verbose_name=_("issued at"))
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("issued by"),
    )

    class Meta:
        verbose_name = _("material issue")
        verbose_name_plural = _("material issues")
        ordering = ["issued_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(quantity__gt=0),
                name="issue_qty_positive",
                violation_error_message=_("quantity must be above zero."),
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
        MaterialRequirement,
        on_delete=models.CASCADE,
        related_name="approvals",
        verbose_name=_("requirement"),
    )
    lot = models.ForeignKey(
        MaterialLot, null=True, blank=True, on_delete=models.PROTECT, verbose_name=_("lot")
    )
    location = models.ForeignKey(
        StockLocation, on_delete=models.PROTECT, related_name="+", verbose_name=_("location")
    )
    quantity = models.DecimalField(**QTY, verbose_name=_("quantity"))
    external_id = models.CharField(max_length=100, unique=True, verbose_name=_("external id"))
    reason = models.CharField(max_length=200, blank=True, verbose_name=_("reason"))
    status = models.CharField(
        max_length=16, choices=Status.choices, default=Status.PENDING, verbose_name=_("status")
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("requested by"),
    )
    requested_at = models.DateTimeField(auto_now_add=True, verbose_name=_("requested at"))
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("decided by"),
    )
    decided_at = models.DateTimeField(null=True, blank=True, verbose_name=_("decided at"))
    decision_note = models.CharField(max_length=200, blank=True, verbose_name=_("decision note"))
    issue = models.OneToOneField(
        MaterialIssue,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="approval",
        verbose_name=_("issue"),
    )

    class Meta:
        verbose_name = _("issue approval")
        verbose_name_plural = _("issue approvals")
        ordering = ["-requested_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(quantity__gt=0),
                name="approval_qty_positive",
                violation_error_message=_("quantity must be above zero."),
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
        MaterialRequirement,
        on_delete=models.CASCADE,
        related_name="shortages",
        verbose_name=_("requirement"),
    )
    quantity_short = models.DecimalField(**QTY, verbose_name=_("quantity short"))
    status = models.CharField(
        max_length=16, choices=Status.choices, default=Status.OPEN, verbose_name=_("status")
    )
    requisition = models.ForeignKey(
        PurchaseRequisition,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="shortages",
        verbose_name=_("requisition"),
    )
    transfer_from = models.ForeignKey(
        StockLocation,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("transfer from"),
    )
    transfer_quantity = models.DecimalField(
        **QTY, default=Decimal("0"), verbose_name=_("transfer quantity")
    )
    raised_at = models.DateTimeField(auto_now_add=True, verbose_name=_("raised at"))
    resolved_at = models.DateTimeField(null=True, blank=True, verbose_name=_("resolved at"))

    class Meta:
        verbose_name = _("material shortage")
        verbose_name_plural = _("material shortages")
        ordering = ["-raised_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(quantity_short__gt=0),
                name="shortage_qty_positive",
                violation_error_message=_("quantity_short must be above zero."),
            )
        ]

    def __str__(self) -> str:
        return f"Shortage {self.quantity_short} {self.requirement.item.code}"


class LabourBooking(models.Model):
    """Time an operator spent on a task, with what came out of it."""

    operator = models.ForeignKey(
        Operator, on_delete=models.PROTECT, related_name="bookings", verbose_name=_("operator")
    )
    task = models.ForeignKey(
        Task, on_delete=models.PROTECT, related_name="bookings", verbose_name=_("task")
    )
    started_at = models.DateTimeField(verbose_name=_("started at"))
    ended_at = models.DateTimeField(verbose_name=_("ended at"))
    quantity_good = models.DecimalField(
        **QTY, default=Decimal("0"), verbose_name=_("quantity good")
    )
    quantity_scrap = models.DecimalField(
        **QTY, default=Decimal("0"), verbose_name=_("quantity scrap")
    )
    # Booked time ends at the end of the shift the span began in (the work center's
    # calendar); the clock minutes past it are not booked but kept here and flagged.
    excess_minutes = models.DecimalField(
        max_digits=12,
        decimal_places=1,
        default=Decimal("0"),
        help_text=_("Minutes past the end of the shift: recorded, not booked."),
        verbose_name=_("excess minutes"),
    )
    # A supervisor's signed correction moves ended_at; the booked minutes before the first
    # correction stay here.
    original_minutes = models.DecimalField(
        max_digits=12, decimal_places=1, null=True, blank=True, verbose_name=_("original minutes")
    )
    correction_reason = models.CharField(
        max_length=200, blank=True, verbose_name=_("correction reason")
    )
    corrected_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("corrected by"),
    )
    corrected_at = models.DateTimeField(null=True, blank=True, verbose_name=_("corrected at"))

    class Meta:
        verbose_name = _("labour booking")
        verbose_name_plural = _("labour bookings")
        ordering = ["started_at"]
        indexes = [models.Index(fields=["operator", "started_at"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(ended_at__gte=F("started_at")),
                name="booking_end_after_start",
                violation_error_message=_("ended_at must not be before started_at."),
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
    event_id = models.CharField(max_length=100, unique=True, verbose_name=_("event id"))
    kind = models.CharField(
        max_length=16, choices=ProductionEvent.Kind.choices, verbose_name=_("kind")
    )
    task = models.ForeignKey(
        Task, on_delete=models.PROTECT, related_name="event_approvals", verbose_name=_("task")
    )
    payload = models.JSONField(help_text=_("The event as it was sent."), verbose_name=_("payload"))
    source = models.CharField(
        max_length=16, choices=ProductionEvent.Source.choices, verbose_name=_("source")
    )
    reasons = models.JSONField(
        default=list, help_text=_("Why it was held (Reason values)."), verbose_name=_("reasons")
    )
    # Why it is held, in English, with its message id and parameters (core/texts.py): shown
    # in each reader's language.
    message = models.CharField(max_length=500, verbose_name=_("message"))
    message_id = models.CharField(
        max_length=300, blank=True, default="", verbose_name=_("message id")
    )
    message_params = models.JSONField(
        default=dict, blank=True, verbose_name=_("message parameters")
    )
    status = models.CharField(
        max_length=16, choices=Status.choices, default=Status.PENDING, verbose_name=_("status")
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("requested by"),
    )
    requested_at = models.DateTimeField(
        auto_now_add=True, db_index=True, verbose_name=_("requested at")
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("decided by"),
    )
    decided_at = models.DateTimeField(null=True, blank=True, verbose_name=_("decided at"))
    decision_note = models.CharField(max_length=200, blank=True, verbose_name=_("decision note"))
    applied_event = models.OneToOneField(
        ProductionEvent,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="approval",
        verbose_name=_("applied event"),
    )

    class Meta:
        verbose_name = _("event approval")
        verbose_name_plural = _("event approvals")
        ordering = ["-requested_at", "-id"]
        indexes = [models.Index(fields=["status", "requested_at"])]

    def __str__(self) -> str:
        return f"Held {self.kind} {self.event_id} ({self.status})"

    @property
    def message_shown(self) -> str:
        """Why it is held, in the reader's language."""
        return text_shown(self.message_id, self.message_params, self.message)

    @property
    def held_why(self) -> str:
        """Why it is held without the "waiting for approval" opening, in the reader's
        language (a row from before message ids: its English)."""
        if not self.message_id:
            return self.message.removeprefix("Waiting for supervisor approval: ")
        parts = [self.message_params.get(k) for k in ("first", "second")]
        return pgettext("between the clauses of a sentence", "; ").join(
            text_render(p["text"], p.get("params")) for p in parts if isinstance(p, dict)
        )

    @property
    def reason_labels(self) -> str:
        labels = dict(self.Reason.choices)
        return list_text(labels.get(r, r) for r in self.reasons)


class ProgressSnapshot(models.Model):
    """Where an order (or one of its operations) stood at a roll-up: plan vs actual."""

    order = models.ForeignKey(
        ProductionOrder, on_delete=models.CASCADE, related_name="snapshots", verbose_name=_("order")
    )
    operation = models.ForeignKey(
        OrderOperation,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="snapshots",
        verbose_name=_("operation"),
    )
    taken_at = models.DateTimeField(db_index=True, verbose_name=_("taken at"))
    quantity_done = models.DecimalField(**QTY, verbose_name=_("quantity done"))
    quantity_planned_to_date = models.DecimalField(
        **QTY, verbose_name=_("quantity planned to date")
    )
    completion_pct = models.DecimalField(
        max_digits=6, decimal_places=2, verbose_name=_("completion pct")
    )
    planned_pct = models.DecimalField(max_digits=6, decimal_places=2, verbose_name=_("planned pct"))
    remaining_hours = models.DecimalField(
        max_digits=12, decimal_places=2, null=True, blank=True, verbose_name=_("remaining hours")
    )
    actual_minutes_per_unit = models.DecimalField(
        max_digits=12,
        decimal_places=4,
        null=True,
        blank=True,
        verbose_name=_("actual minutes per unit"),
    )
    planned_minutes_per_unit = models.DecimalField(
        max_digits=12,
        decimal_places=4,
        null=True,
        blank=True,
        verbose_name=_("planned minutes per unit"),
    )
    predicted_end = models.DateTimeField(null=True, blank=True, verbose_name=_("predicted end"))
    delay_hours = models.DecimalField(
        max_digits=12, decimal_places=2, default=Decimal("0"), verbose_name=_("delay hours")
    )
    lagging = models.BooleanField(default=False, verbose_name=_("lagging"))
    reasons = models.JSONField(default=list, blank=True, verbose_name=_("reasons"))

    class Meta:
        verbose_name = _("progress snapshot")
        verbose_name_plural = _("progress snapshots")
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

    alert_type = models.CharField(_("exception type"), max_length=20, choices=AlertType.choices)
    severity = models.CharField(max_length=10, choices=Severity.choices, verbose_name=_("severity"))
    handler_role = models.CharField(max_length=40, verbose_name=_("handler role"))
    ack_minutes = models.PositiveIntegerField(
        null=True,
        blank=True,
        help_text=_("Acknowledge within this many minutes (blank: no deadline)."),
        verbose_name=_("ack minutes"),
    )
    escalate_to_role = models.CharField(
        max_length=40, blank=True, verbose_name=_("escalate to role")
    )
    auto_requisition = models.BooleanField(
        default=False,
        help_text=_("Start an urgent purchase requisition for a material shortage."),
        verbose_name=_("auto requisition"),
    )
    default_downtime_minutes = models.PositiveIntegerField(
        default=240,
        help_text=_("Expected repair time when the reporter gives none (faults)."),
        verbose_name=_("default downtime minutes"),
    )
    # Severity by expected impact (execution/services/alerts.py `severity_for_impact`): an
    # exception whose impact meets a rule's threshold is at least that rule's severity.
    stop_minutes_from = models.PositiveIntegerField(
        _("stop of at least (minutes)"),
        null=True,
        blank=True,
        help_text=_(
            "Equipment fault: an expected stop this long or longer makes the exception "
            "at least this severe (blank: the stop length never chooses this severity)."
        ),
    )
    shortage_within_hours = models.PositiveIntegerField(
        _("shortage bites within (hours)"),
        null=True,
        blank=True,
        help_text=_(
            "Material shortage: when the first operation needing the material is "
            "planned to start within this many hours, the exception is at least this severe "
            "(blank: the time never chooses this severity)."
        ),
    )

    class Meta:
        ordering = ["alert_type", "severity"]
        verbose_name = _("exception rule")
        verbose_name_plural = _("exception rules")
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

    number = models.CharField(max_length=32, unique=True, verbose_name=_("number"))
    external_id = models.CharField(
        max_length=100, null=True, blank=True, unique=True, verbose_name=_("external id")
    )
    alert_type = models.CharField(_("exception type"), max_length=20, choices=AlertType.choices)
    severity = models.CharField(max_length=10, choices=Severity.choices, verbose_name=_("severity"))
    status = models.CharField(
        max_length=16, choices=Status.choices, default=Status.OPEN, verbose_name=_("status")
    )
    description = models.TextField(verbose_name=_("description"))
    # When the system wrote it: its message id and parameters, read in the reader's language.
    description_id = models.CharField(
        max_length=300, blank=True, default="", verbose_name=_("description id")
    )
    description_params = models.JSONField(
        default=dict, blank=True, verbose_name=_("description params")
    )
    raised_via = models.CharField(
        max_length=10,
        choices=RaisedVia.choices,
        default=RaisedVia.PERSON,
        verbose_name=_("raised via"),
    )
    rule_name = models.CharField(
        max_length=100,
        blank=True,
        help_text=_("The rule that raised it."),
        verbose_name=_("rule name"),
    )
    raised_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("raised by"),
    )
    raised_at = models.DateTimeField(auto_now_add=True, db_index=True, verbose_name=_("raised at"))
    equipment = models.ForeignKey(
        Equipment,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="alerts",
        verbose_name=_("equipment"),
    )
    order = models.ForeignKey(
        ProductionOrder,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="alerts",
        verbose_name=_("order"),
    )
    operation = models.ForeignKey(
        OrderOperation,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="alerts",
        verbose_name=_("operation"),
    )
    lot = models.ForeignKey(
        MaterialLot,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="alerts",
        verbose_name=_("lot"),
    )
    shortage = models.ForeignKey(
        MaterialShortage,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="alerts",
        verbose_name=_("shortage"),
    )
    handler_role = models.CharField(max_length=40, blank=True, verbose_name=_("handler role"))
    handler = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text=_("The person who must respond (the work center's supervisor for urgent ones)."),
        verbose_name=_("handler"),
    )
    ack_deadline = models.DateTimeField(
        null=True, blank=True, db_index=True, verbose_name=_("ack deadline")
    )
    escalation_level = models.PositiveSmallIntegerField(
        default=0, verbose_name=_("escalation level")
    )
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("acknowledged by"),
    )
    acknowledged_at = models.DateTimeField(null=True, blank=True, verbose_name=_("acknowledged at"))
    expected_downtime_minutes = models.PositiveIntegerField(
        null=True, blank=True, verbose_name=_("expected downtime minutes")
    )
    blocked_tasks = models.ManyToManyField(
        Task, blank=True, related_name="blocking_alerts", verbose_name=_("blocked tasks")
    )
    requisition = models.ForeignKey(
        PurchaseRequisition,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="alerts",
        verbose_name=_("requisition"),
    )
    impact = models.JSONField(
        default=dict,
        blank=True,
        help_text=_("Affected orders and sales orders with expected delays."),
        verbose_name=_("impact"),
    )
    link = models.JSONField(
        default=dict,
        blank=True,
        help_text=_("Related records elsewhere (a quality hold)."),
        verbose_name=_("link"),
    )
    cause = models.TextField(blank=True, verbose_name=_("cause"))
    # When the system wrote the cause (a released quality hold): its message id and
    # parameters (core/texts.py); blank for a cause a person typed.
    cause_id = models.CharField(max_length=300, blank=True, default="", verbose_name=_("cause id"))
    cause_params = models.JSONField(default=dict, blank=True, verbose_name=_("cause params"))
    action_taken = models.TextField(blank=True, verbose_name=_("action taken"))
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("resolved by"),
    )
    resolved_at = models.DateTimeField(null=True, blank=True, verbose_name=_("resolved at"))
    verified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("verified by"),
    )
    verified_at = models.DateTimeField(null=True, blank=True, verbose_name=_("verified at"))

    class Meta:
        ordering = ["-raised_at"]
        indexes = [models.Index(fields=["status", "severity"])]
        # Users say exception (异常); the code keeps ISA-95's name, WorkAlert.
        verbose_name = _("exception")
        verbose_name_plural = _("exceptions")

    def __str__(self) -> str:
        return f"{self.number} {self.get_alert_type_display()} ({self.get_severity_display()})"

    @property
    def handler_role_label(self) -> str:
        return role_label(self.handler_role).replace("_", " ").lower()

    @property
    def description_shown(self) -> str:
        """What happened, in the reader's language when the system wrote it (core/texts.py)."""
        return text_shown(self.description_id, self.description_params, self.description)

    @property
    def cause_shown(self) -> str:
        """The cause, in the reader's language when the system wrote it (core/texts.py)."""
        return text_shown(self.cause_id, self.cause_params, self.cause)


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
    kind = models.CharField(max_length=16, choices=Kind.choices, verbose_name=_("kind"))
    at = models.DateTimeField(auto_now_add=True, verbose_name=_("at"))
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("by"),
    )
    role = models.CharField(max_length=40, blank=True, verbose_name=_("role"))
    text = models.TextField(blank=True, verbose_name=_("text"))
    text_id = models.CharField(
        max_length=300, blank=True, default="", verbose_name=_("text id")
    )  # core/texts.py
    text_params = models.JSONField(default=dict, blank=True, verbose_name=_("text params"))

    class Meta:
        ordering = ["at", "id"]
        verbose_name = _("exception step")
        verbose_name_plural = _("exception steps")

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
