"""Planning master data: bills of materials and routings (ISA-95 product definition)."""

from decimal import Decimal

from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from core.history import history_register
from core.texts import text_shown
from resources.models import QTY, Equipment, Item, Skill, SkillLevel, WorkCenter

from .words import IMPORT_KINDS, code_label


class Bom(models.Model):
    """A version of an item's bill of materials, valid between two dates.

    Line quantities are for `base_quantity` units of the parent (a batch), as in most ERPs.
    """

    item = models.ForeignKey(
        Item, on_delete=models.PROTECT, related_name="boms", verbose_name=_("item")
    )
    version = models.CharField(max_length=16, default="1", verbose_name=_("version"))
    base_quantity = models.DecimalField(
        **QTY, default=Decimal("1"), verbose_name=_("base quantity")
    )
    effective_from = models.DateField(null=True, blank=True, verbose_name=_("effective from"))
    effective_to = models.DateField(null=True, blank=True, verbose_name=_("effective to"))
    description = models.CharField(max_length=200, blank=True, verbose_name=_("description"))

    class Meta:
        verbose_name_plural = _("BOMs")
        ordering = ["item__code", "version"]
        verbose_name = _("BOM")
        constraints = [
            models.UniqueConstraint(fields=["item", "version"], name="bom_unique_version"),
            models.CheckConstraint(
                condition=Q(base_quantity__gt=0),
                name="bom_base_qty_positive",
                violation_error_message=_("base_quantity must be above zero."),
            ),
            models.CheckConstraint(
                condition=Q(effective_to__isnull=True)
                | Q(effective_from__isnull=True)
                | Q(effective_to__gte=F("effective_from")),
                name="bom_effective_dates_ordered",
                violation_error_message=_("effective_to must not be before effective_from."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.item} BOM v{self.version}"

    def clean(self) -> None:
        if self.effective_from and self.effective_to and self.effective_to < self.effective_from:
            raise ValidationError({"effective_to": _("Must not be before effective_from.")})


class BomLine(models.Model):
    """A component of a BOM: how much per base quantity, with expected scrap."""

    bom = models.ForeignKey(
        Bom, on_delete=models.CASCADE, related_name="lines", verbose_name=_("bom")
    )
    line_no = models.PositiveIntegerField(verbose_name=_("line no"))
    component = models.ForeignKey(
        Item, on_delete=models.PROTECT, related_name="used_in", verbose_name=_("component")
    )
    quantity = models.DecimalField(**QTY, verbose_name=_("quantity"))
    scrap_pct = models.DecimalField(
        max_digits=6, decimal_places=3, default=Decimal("0"), verbose_name=_("scrap pct")
    )
    operation_step_no = models.PositiveIntegerField(
        null=True,
        blank=True,
        help_text=_("Routing step that consumes it (blank: the first)."),
        verbose_name=_("operation step no"),
    )

    class Meta:
        verbose_name_plural = _("BOM lines")
        ordering = ["bom", "line_no"]
        verbose_name = _("BOM line")
        constraints = [
            models.UniqueConstraint(fields=["bom", "line_no"], name="bomline_unique_no"),
            models.CheckConstraint(
                condition=Q(quantity__gt=0),
                name="bomline_qty_positive",
                violation_error_message=_("quantity must be above zero."),
            ),
            models.CheckConstraint(
                condition=Q(scrap_pct__gte=0) & Q(scrap_pct__lt=100),
                name="bomline_scrap_range",
                violation_error_message=_("scrap_pct must be at least 0 and below 100."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.bom}: {self.component} × {self.quantity}"

    def clean(self) -> None:
        if self.bom_id and self.component_id and self.bom.item_id == self.component_id:
            raise ValidationError({"component": _("An item cannot be a component of itself.")})

    @property
    def quantity_per_unit(self) -> Decimal:
        """Gross quantity per one parent unit, scrap included."""
        return self.quantity / self.bom.base_quantity / (1 - self.scrap_pct / 100)


class Routing(models.Model):
    """A version of how an item is made: ordered steps on work centers (ISA-95 process segments)."""

    item = models.ForeignKey(
        Item, on_delete=models.PROTECT, related_name="routings", verbose_name=_("item")
    )
    version = models.CharField(max_length=16, default="1", verbose_name=_("version"))
    effective_from = models.DateField(null=True, blank=True, verbose_name=_("effective from"))
    effective_to = models.DateField(null=True, blank=True, verbose_name=_("effective to"))
    description = models.CharField(max_length=200, blank=True, verbose_name=_("description"))

    class Meta:
        verbose_name = _("routing")
        verbose_name_plural = _("routings")
        ordering = ["item__code", "version"]
        constraints = [
            models.UniqueConstraint(fields=["item", "version"], name="routing_unique_version"),
            models.CheckConstraint(
                condition=Q(effective_to__isnull=True)
                | Q(effective_from__isnull=True)
                | Q(effective_to__gte=F("effective_from")),
                name="routing_effective_dates_ordered",
                violation_error_message=_("effective_to must not be before effective_from."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.item} routing v{self.version}"


class RoutingStep(models.Model):
    """One operation of a routing: where, on which machines, how long, by whom."""

    routing = models.ForeignKey(
        Routing, on_delete=models.CASCADE, related_name="steps", verbose_name=_("routing")
    )
    step_no = models.PositiveIntegerField(
        help_text=_("Sequence: 10, 20, 30 …"), verbose_name=_("step no")
    )
    name = models.CharField(max_length=100, verbose_name=_("name"))
    work_center = models.ForeignKey(
        WorkCenter, on_delete=models.PROTECT, related_name="steps", verbose_name=_("work center")
    )
    eligible_equipment = models.ManyToManyField(
        Equipment, blank=True, related_name="steps", verbose_name=_("eligible equipment")
    )
    setup_minutes = models.DecimalField(
        max_digits=10, decimal_places=2, default=Decimal("0"), verbose_name=_("setup minutes")
    )
    run_minutes_per_unit = models.DecimalField(
        max_digits=10,
        decimal_places=4,
        default=Decimal("0"),
        verbose_name=_("run minutes per unit"),
    )
    setup_family = models.CharField(
        _("setup family"),
        max_length=32,
        blank=True,
        help_text=_(
            "E.g. the fixture or material: consecutive operations of one family on a machine "
            "need no changeover."
        ),
    )
    required_skill = models.ForeignKey(
        Skill,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="steps",
        verbose_name=_("required skill"),
    )
    min_skill_level = models.PositiveSmallIntegerField(
        choices=SkillLevel.choices, default=SkillLevel.QUALIFIED, verbose_name=_("min skill level")
    )
    # Filled in by quality's inspection plans; a code until those exist.
    inspection_plan_ref = models.CharField(
        max_length=64, blank=True, verbose_name=_("inspection plan ref")
    )
    over_delivery_pct = models.DecimalField(
        _("over-delivery tolerance %"),
        max_digits=6,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(0)],
        help_text=_(
            "Good + scrap may exceed the order quantity by this share before a "
            "supervisor must approve (blank: EXECUTION_OVER_DELIVERY_PCT, 10 %)."
        ),
    )
    counted_by_machine = models.BooleanField(
        default=False,
        help_text=_(
            "The machine's part counter reports the quantities (devices); operators "
            "start, pause and complete the work but do not report quantities."
        ),
        verbose_name=_("counted by machine"),
    )

    class Meta:
        verbose_name = _("routing step")
        verbose_name_plural = _("routing steps")
        ordering = ["routing", "step_no"]
        constraints = [
            models.UniqueConstraint(fields=["routing", "step_no"], name="routingstep_unique_no"),
            models.CheckConstraint(
                condition=Q(setup_minutes__gte=0) & Q(run_minutes_per_unit__gte=0),
                name="routingstep_times_nonnegative",
                violation_error_message=_(
                    "setup_minutes and run_minutes_per_unit must not be negative."
                ),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.routing} {self.step_no} {self.name}"


# --- Demand ----------------------------------------------------------------------------


class SalesOrder(models.Model):
    """A customer's order for an end item by a date: independent demand for MRP."""

    class Status(models.TextChoices):
        OPEN = "open", pgettext_lazy("order status", "Open")
        SHIPPED = "shipped", _("Shipped")
        CANCELLED = "cancelled", _("Cancelled")

    number = models.CharField(max_length=32, unique=True, verbose_name=_("number"))
    external_ref = models.CharField(
        max_length=100,
        null=True,
        blank=True,
        unique=True,
        help_text=_(
            "The order's id in the outside system that sent it (an ERP): a create "
            "naming it again changes the same order."
        ),
        verbose_name=_("external ref"),
    )
    customer = models.CharField(max_length=200, verbose_name=_("customer"))
    item = models.ForeignKey(
        Item, on_delete=models.PROTECT, related_name="sales_orders", verbose_name=_("item")
    )
    quantity = models.DecimalField(**QTY, verbose_name=_("quantity"))
    due_date = models.DateField(verbose_name=_("due date"))
    priority = models.PositiveSmallIntegerField(
        default=5, help_text=_("1 = most urgent … 9"), verbose_name=_("priority")
    )
    status = models.CharField(
        max_length=16, choices=Status.choices, default=Status.OPEN, verbose_name=_("status")
    )
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))
    expected_delay_minutes = models.PositiveIntegerField(
        default=0,
        help_text=_(
            "Expected delay from open exceptions, for the people who talk to the customer."
        ),
        verbose_name=_("expected delay minutes"),
    )
    delay_note = models.CharField(max_length=300, blank=True, verbose_name=_("delay note"))
    # The note's message id and parameters when execution wrote it, read in the reader's
    # language (core/texts.py); blank on notes written before (their English is shown).
    delay_note_id = models.CharField(
        max_length=300, blank=True, default="", verbose_name=_("delay note id")
    )
    delay_note_params = models.JSONField(
        default=dict, blank=True, verbose_name=_("delay note params")
    )

    class Meta:
        verbose_name = _("sales order")
        verbose_name_plural = _("sales orders")
        ordering = ["due_date", "priority", "number"]
        constraints = [
            models.CheckConstraint(
                condition=Q(quantity__gt=0),
                name="salesorder_qty_positive",
                violation_error_message=_("quantity must be above zero."),
            ),
            models.CheckConstraint(
                condition=Q(priority__gte=1, priority__lte=9),
                name="salesorder_priority_1_9",
                violation_error_message=_("priority must be between 1 and 9."),
            ),
        ]

    def __str__(self) -> str:
        return self.number

    @property
    def delay_note_shown(self) -> str:
        """The delay note in the reader's language (core/texts.py)."""
        return text_shown(self.delay_note_id, self.delay_note_params, self.delay_note)


class Forecast(models.Model):
    """Expected demand for an item in a period (day or week starting on period_start)."""

    item = models.ForeignKey(
        Item, on_delete=models.PROTECT, related_name="forecasts", verbose_name=_("item")
    )
    period_start = models.DateField(verbose_name=_("period start"))
    quantity = models.DecimalField(**QTY, verbose_name=_("quantity"))

    class Meta:
        verbose_name = _("forecast")
        verbose_name_plural = _("forecasts")
        ordering = ["item__code", "period_start"]
        constraints = [
            models.UniqueConstraint(fields=["item", "period_start"], name="forecast_unique_period"),
            models.CheckConstraint(
                condition=Q(quantity__gte=0),
                name="forecast_qty_nonnegative",
                violation_error_message=_("quantity must not be negative."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.item} {self.period_start}: {self.quantity}"


class MpsEntry(models.Model):
    """Master production schedule: how much of an end item to finish in a period.

    Entered by the planner; where an MPS entry exists for an item and period it replaces the
    forecast of that period as demand for MRP (sales orders still count on their own).
    """

    class Bucket(models.TextChoices):
        DAY = "day", _("Day")
        WEEK = "week", _("Week")

    item = models.ForeignKey(
        Item, on_delete=models.PROTECT, related_name="mps_entries", verbose_name=_("item")
    )
    period_start = models.DateField(verbose_name=_("period start"))
    bucket = models.CharField(
        max_length=8, choices=Bucket.choices, default=Bucket.WEEK, verbose_name=_("bucket")
    )
    quantity = models.DecimalField(**QTY, verbose_name=_("quantity"))
    note = models.CharField(max_length=200, blank=True, verbose_name=_("note"))

    class Meta:
        ordering = ["item__code", "period_start"]
        verbose_name = _("MPS entry")
        verbose_name_plural = _("MPS entries")
        constraints = [
            models.UniqueConstraint(fields=["item", "period_start"], name="mps_unique_period"),
            models.CheckConstraint(
                condition=Q(quantity__gte=0),
                name="mps_qty_nonnegative",
                violation_error_message=_("quantity must not be negative."),
            ),
        ]

    def __str__(self) -> str:
        return f"MPS {self.item} {self.period_start}: {self.quantity}"


# --- Production orders -------------------------------------------------------------------


class ProductionOrder(models.Model):
    """An order to make a quantity of an item by a date (ISA-95 operations request)."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        PLANNED = "planned", _("Planned")
        RELEASED = "released", _("Released")
        IN_PROGRESS = "in_progress", _("In progress")
        COMPLETED = "completed", _("Completed")
        CLOSED = "closed", _("Closed")
        CANCELLED = "cancelled", _("Cancelled")

    OPEN_STATUSES = (Status.DRAFT, Status.PLANNED, Status.RELEASED, Status.IN_PROGRESS)

    number = models.CharField(max_length=32, unique=True, verbose_name=_("number"))
    # The order's id in the system that sent it (an ERP's OperationsRequest ID in a B2MML
    # schedule): creating or updating by it again changes nothing.
    external_ref = models.CharField(
        max_length=100,
        null=True,
        blank=True,
        unique=True,
        help_text=_("The order's id in the outside system that sent it (an ERP)."),
        verbose_name=_("external ref"),
    )
    item = models.ForeignKey(
        Item, on_delete=models.PROTECT, related_name="production_orders", verbose_name=_("item")
    )
    quantity = models.DecimalField(**QTY, verbose_name=_("quantity"))
    due_date = models.DateField(verbose_name=_("due date"))
    priority = models.PositiveSmallIntegerField(
        default=5, help_text=_("1 = most urgent … 9"), verbose_name=_("priority")
    )
    status = models.CharField(
        max_length=16, choices=Status.choices, default=Status.DRAFT, verbose_name=_("status")
    )
    sales_order = models.ForeignKey(
        SalesOrder,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="production_orders",
        verbose_name=_("sales order"),
    )
    bom = models.ForeignKey(
        Bom, null=True, blank=True, on_delete=models.PROTECT, verbose_name=_("bom")
    )
    routing = models.ForeignKey(
        Routing, null=True, blank=True, on_delete=models.PROTECT, verbose_name=_("routing")
    )
    earliest_start = models.DateTimeField(null=True, blank=True, verbose_name=_("earliest start"))
    planned_start = models.DateTimeField(null=True, blank=True, verbose_name=_("planned start"))
    planned_end = models.DateTimeField(null=True, blank=True, verbose_name=_("planned end"))
    quantity_done = models.DecimalField(
        **QTY, default=Decimal("0"), verbose_name=_("quantity done")
    )
    quantity_scrap = models.DecimalField(
        **QTY, default=Decimal("0"), verbose_name=_("quantity scrap")
    )
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))
    released_at = models.DateTimeField(null=True, blank=True, verbose_name=_("released at"))
    completed_at = models.DateTimeField(null=True, blank=True, verbose_name=_("completed at"))
    note = models.CharField(max_length=200, blank=True, verbose_name=_("note"))
    completion_reason = models.CharField(
        max_length=300,
        blank=True,
        help_text=_("Why the order was completed short of its quantity or with open operations."),
        verbose_name=_("completion reason"),
    )
    # What the shop floor predicts (execution's hourly roll-up, through the domain events
    # execution.order.delay_predicted / delay_cleared): kept by planning/services/feedback.py.
    predicted_end = models.DateTimeField(
        null=True,
        blank=True,
        help_text=_("When the shop floor expects the order to finish."),
        verbose_name=_("predicted end"),
    )
    predicted_delay_hours = models.DecimalField(
        max_digits=10,
        decimal_places=2,
        null=True,
        blank=True,
        help_text=_("Predicted end against the planned end, in hours (blank: on plan)."),
        verbose_name=_("predicted delay hours"),
    )
    delay_reasons = models.JSONField(
        default=list,
        # Also the database's default, for rows written without the ORM (bulk loads).
        db_default=models.Value([], output_field=models.JSONField()),
        blank=True,
        help_text=_("Why, as the shop floor reported it."),
        verbose_name=_("delay reasons"),
    )
    delay_predicted_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text=_("When the prediction was made."),
        verbose_name=_("delay predicted at"),
    )
    # What open exceptions (execution's work alerts) are expected to cost it: the largest
    # expected delay any of them puts on the order, posted by execution (orders.py
    # `production_order_exception_delay_set`); 0 and a blank note when none is open.
    exception_delay_minutes = models.PositiveIntegerField(
        default=0,
        help_text=_("Expected delay from open exceptions, in minutes."),
        verbose_name=_("exception delay minutes"),
    )
    exception_note = models.CharField(
        max_length=300,
        blank=True,
        help_text=_("The exception behind the expected delay."),
        verbose_name=_("exception note"),
    )
    # The note's message id and parameters (core/texts.py), as on the sales order.
    exception_note_id = models.CharField(
        max_length=300, blank=True, default="", verbose_name=_("exception note id")
    )
    exception_note_params = models.JSONField(
        default=dict, blank=True, verbose_name=_("exception note params")
    )

    class Meta:
        verbose_name = _("production order")
        verbose_name_plural = _("production orders")
        ordering = ["due_date", "priority", "number"]
        indexes = [models.Index(fields=["status", "due_date"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(quantity__gt=0),
                name="productionorder_qty_positive",
                violation_error_message=_("quantity must be above zero."),
            ),
            models.CheckConstraint(
                condition=Q(quantity_done__gte=0) & Q(quantity_scrap__gte=0),
                name="productionorder_progress_nonnegative",
                violation_error_message=_("quantity_done and quantity_scrap must not be negative."),
            ),
            models.CheckConstraint(
                condition=Q(priority__gte=1, priority__lte=9),
                name="productionorder_priority_1_9",
                violation_error_message=_("priority must be between 1 and 9."),
            ),
        ]

    def __str__(self) -> str:
        return self.number

    @property
    def exception_note_shown(self) -> str:
        """The exception note in the reader's language (core/texts.py)."""
        return text_shown(self.exception_note_id, self.exception_note_params, self.exception_note)

    @property
    def on_floor(self) -> bool:
        return self.status in (self.Status.RELEASED, self.Status.IN_PROGRESS)

    @property
    def prediction_open(self) -> bool:
        """The shop floor's prediction applies: the order is on the floor and has one."""
        return self.on_floor and self.delay_predicted_at is not None


class OrderOperation(models.Model):
    """One operation of a production order, copied from its routing step (ISA-95 segment)."""

    class Status(models.TextChoices):
        PENDING = "pending", pgettext_lazy("operation status", "Pending")
        READY = "ready", pgettext_lazy("operation status", "Ready")
        IN_PROGRESS = "in_progress", pgettext_lazy("operation status", "In progress")
        PAUSED = "paused", pgettext_lazy("operation status", "Paused")
        DONE = "done", pgettext_lazy("operation status", "Done")
        BLOCKED = "blocked", pgettext_lazy("operation status", "Blocked")
        CANCELLED = "cancelled", pgettext_lazy("operation status", "Cancelled")

    order = models.ForeignKey(
        ProductionOrder,
        on_delete=models.CASCADE,
        related_name="operations",
        verbose_name=_("order"),
    )
    sequence = models.PositiveIntegerField(
        help_text=_("Routing step number: 10, 20, …"), verbose_name=_("sequence")
    )
    name = models.CharField(max_length=100, verbose_name=_("name"))
    work_center = models.ForeignKey(
        WorkCenter,
        on_delete=models.PROTECT,
        related_name="operations",
        verbose_name=_("work center"),
    )
    eligible_equipment = models.ManyToManyField(
        Equipment, blank=True, related_name="eligible_for", verbose_name=_("eligible equipment")
    )
    equipment = models.ForeignKey(
        Equipment,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="operations",
        help_text=_("Machine chosen by the schedule (or by a supervisor)."),
        verbose_name=_("equipment"),
    )
    setup_minutes = models.DecimalField(
        max_digits=10, decimal_places=2, default=Decimal("0"), verbose_name=_("setup minutes")
    )
    run_minutes_per_unit = models.DecimalField(
        max_digits=10,
        decimal_places=4,
        default=Decimal("0"),
        verbose_name=_("run minutes per unit"),
    )
    # Copied from the routing step.
    setup_family = models.CharField(_("setup family"), max_length=32, blank=True)
    required_skill = models.ForeignKey(
        Skill,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="operations",
        verbose_name=_("required skill"),
    )
    min_skill_level = models.PositiveSmallIntegerField(
        choices=SkillLevel.choices, default=SkillLevel.QUALIFIED, verbose_name=_("min skill level")
    )
    inspection_plan_ref = models.CharField(
        max_length=64, blank=True, verbose_name=_("inspection plan ref")
    )
    # Copied from the routing step (blank: the EXECUTION_OVER_DELIVERY_PCT setting).
    over_delivery_pct = models.DecimalField(
        _("over-delivery tolerance %"),
        max_digits=6,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(0)],
    )
    # Copied from the routing step: quantities come from the machine's counter only.
    counted_by_machine = models.BooleanField(default=False, verbose_name=_("counted by machine"))
    status = models.CharField(
        max_length=16, choices=Status.choices, default=Status.PENDING, verbose_name=_("status")
    )
    frozen = models.BooleanField(
        default=False,
        help_text=_("Kept in place (machine and start) when rescheduling."),
        verbose_name=_("frozen"),
    )
    planned_start = models.DateTimeField(null=True, blank=True, verbose_name=_("planned start"))
    planned_end = models.DateTimeField(null=True, blank=True, verbose_name=_("planned end"))
    actual_start = models.DateTimeField(null=True, blank=True, verbose_name=_("actual start"))
    actual_end = models.DateTimeField(null=True, blank=True, verbose_name=_("actual end"))
    quantity_done = models.DecimalField(
        **QTY, default=Decimal("0"), verbose_name=_("quantity done")
    )
    quantity_scrap = models.DecimalField(
        **QTY, default=Decimal("0"), verbose_name=_("quantity scrap")
    )
    blocked_until = models.DateTimeField(
        null=True,
        blank=True,
        help_text=_("Blocked by an exception (a fault, missing material): not before this time."),
        verbose_name=_("blocked until"),
    )
    predicted_end = models.DateTimeField(
        null=True,
        blank=True,
        help_text=_(
            "The shop floor's predicted end at the actual rate (delay feedback); a "
            "running operation holds its machine at least until then when rescheduled."
        ),
        verbose_name=_("predicted end"),
    )

    class Meta:
        verbose_name = _("order operation")
        verbose_name_plural = _("order operations")
        ordering = ["order", "sequence"]
        indexes = [models.Index(fields=["work_center", "planned_start"])]
        constraints = [
            models.UniqueConstraint(fields=["order", "sequence"], name="operation_unique_sequence"),
            models.CheckConstraint(
                condition=Q(setup_minutes__gte=0) & Q(run_minutes_per_unit__gte=0),
                name="operation_times_nonnegative",
                violation_error_message=_(
                    "setup_minutes and run_minutes_per_unit must not be negative."
                ),
            ),
            models.CheckConstraint(
                condition=Q(planned_end__isnull=True)
                | Q(planned_start__isnull=True)
                | Q(planned_end__gte=F("planned_start")),
                name="operation_planned_dates_ordered",
                violation_error_message=_("planned_end must not be before planned_start."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.order.number}/{self.sequence} {self.name}"

    def duration_minutes(self, quantity: Decimal | None = None) -> Decimal:
        """Setup plus run time for the order quantity (or a given quantity)."""
        qty = self.order.quantity if quantity is None else quantity
        return self.setup_minutes + self.run_minutes_per_unit * qty


class PurchaseRequisition(models.Model):
    """A request to buy: from a firmed planned order, or raised urgently for a shortage."""

    class Status(models.TextChoices):
        OPEN = "open", pgettext_lazy("order status", "Open")
        ORDERED = "ordered", _("Ordered")
        CANCELLED = "cancelled", _("Cancelled")

    number = models.CharField(max_length=32, unique=True, verbose_name=_("number"))
    item = models.ForeignKey(
        Item, on_delete=models.PROTECT, related_name="requisitions", verbose_name=_("item")
    )
    quantity = models.DecimalField(**QTY, verbose_name=_("quantity"))
    need_date = models.DateField(verbose_name=_("need date"))
    urgent = models.BooleanField(default=False, verbose_name=_("urgent"))
    reason = models.CharField(max_length=200, blank=True, verbose_name=_("reason"))
    # The reason's message id and parameters when the system wrote it (MRP, a shortage, an
    # exception), read in the reader's language (core/texts.py); blank: shown as stored.
    reason_id = models.CharField(
        max_length=300, blank=True, default="", verbose_name=_("reason id")
    )
    reason_params = models.JSONField(default=dict, blank=True, verbose_name=_("reason params"))
    status = models.CharField(
        max_length=16, choices=Status.choices, default=Status.OPEN, verbose_name=_("status")
    )
    external_id = models.CharField(
        max_length=100, null=True, blank=True, unique=True, verbose_name=_("external id")
    )
    purchase_order_ref = models.CharField(
        max_length=100,
        blank=True,
        help_text=_("The purchase order the ERP placed for it (its number there), once ordered."),
        verbose_name=_("purchase order ref"),
    )
    closed_reason = models.CharField(
        max_length=200,
        blank=True,
        help_text=_("Why it was closed without being ordered."),
        verbose_name=_("closed reason"),
    )
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))

    class Meta:
        verbose_name = _("purchase requisition")
        verbose_name_plural = _("purchase requisitions")
        ordering = ["need_date", "number"]
        constraints = [
            models.CheckConstraint(
                condition=Q(quantity__gt=0),
                name="requisition_qty_positive",
                violation_error_message=_("quantity must be above zero."),
            )
        ]

    def __str__(self) -> str:
        return self.number

    @property
    def reason_shown(self) -> str:
        """The reason in the reader's language (core/texts.py)."""
        return text_shown(self.reason_id, self.reason_params, self.reason)


# --- MRP runs ------------------------------------------------------------------------------


class MrpRun(models.Model):
    """One run of material requirements planning, with its progress and results."""

    class Status(models.TextChoices):
        QUEUED = "queued", pgettext_lazy("run status", "Queued")
        RUNNING = "running", pgettext_lazy("run status", "Running")
        DONE = "done", pgettext_lazy("run status", "Done")
        FAILED = "failed", pgettext_lazy("run status", "Failed")

    status = models.CharField(
        max_length=16, choices=Status.choices, default=Status.QUEUED, verbose_name=_("status")
    )
    progress = models.PositiveSmallIntegerField(default=0, verbose_name=_("progress"))
    planning_date = models.DateField(verbose_name=_("planning date"))
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))
    started_at = models.DateTimeField(null=True, blank=True, verbose_name=_("started at"))
    finished_at = models.DateTimeField(null=True, blank=True, verbose_name=_("finished at"))
    created_by = models.ForeignKey(
        "auth.User",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("created by"),
    )
    summary = models.JSONField(default=dict, blank=True, verbose_name=_("summary"))
    error = models.TextField(blank=True, verbose_name=_("error"))

    class Meta:
        verbose_name_plural = _("MRP runs")
        ordering = ["-created_at"]
        verbose_name = _("MRP run")

    def __str__(self) -> str:
        return f"MRP run {self.pk} ({self.status})"


class PlannedOrder(models.Model):
    """A supply MRP proposes: make (production) or buy (purchase requisition)."""

    class Kind(models.TextChoices):
        PRODUCTION = "production", _("Planned production order")
        PURCHASE = "purchase", _("Planned purchase requisition")

    class Status(models.TextChoices):
        PLANNED = "planned", _("Planned")
        FIRMED = "firmed", _("Firmed")

    run = models.ForeignKey(
        MrpRun, on_delete=models.CASCADE, related_name="planned_orders", verbose_name=_("run")
    )
    item = models.ForeignKey(
        Item, on_delete=models.PROTECT, related_name="planned_orders", verbose_name=_("item")
    )
    kind = models.CharField(max_length=16, choices=Kind.choices, verbose_name=_("kind"))
    quantity = models.DecimalField(**QTY, verbose_name=_("quantity"))
    start_date = models.DateField(verbose_name=_("start date"))
    due_date = models.DateField(verbose_name=_("due date"))
    status = models.CharField(
        max_length=16, choices=Status.choices, default=Status.PLANNED, verbose_name=_("status")
    )
    production_order = models.OneToOneField(
        ProductionOrder,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="planned_from",
        verbose_name=_("production order"),
    )
    requisition = models.OneToOneField(
        PurchaseRequisition,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="planned_from",
        verbose_name=_("requisition"),
    )
    ref = models.CharField(
        max_length=32, help_text=_("The engine's id, used by pegs."), verbose_name=_("ref")
    )

    class Meta:
        verbose_name = _("planned order")
        verbose_name_plural = _("planned orders")
        ordering = ["run", "item__code", "due_date"]
        constraints = [
            models.CheckConstraint(
                condition=Q(quantity__gt=0),
                name="plannedorder_qty_positive",
                violation_error_message=_("quantity must be above zero."),
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.item} × {self.quantity} due {self.due_date}"


class Peg(models.Model):
    """Which demand a planned order serves, and how much of it (both directions of pegging)."""

    planned_order = models.ForeignKey(
        PlannedOrder, on_delete=models.CASCADE, related_name="pegs", verbose_name=_("planned order")
    )
    demand_kind = models.CharField(max_length=32, verbose_name=_("demand kind"))
    demand_ref = models.CharField(max_length=64, db_index=True, verbose_name=_("demand ref"))
    top_demand_ref = models.CharField(
        max_length=64, blank=True, db_index=True, verbose_name=_("top demand ref")
    )
    quantity = models.DecimalField(**QTY, verbose_name=_("quantity"))

    class Meta:
        verbose_name = _("peg")
        verbose_name_plural = _("pegs")
        ordering = ["planned_order", "demand_ref"]

    def __str__(self) -> str:
        return f"{self.planned_order_id} → {self.demand_ref} × {self.quantity}"


class ActionMessage(models.Model):
    """Advice from an MRP run: past due, expedite, shortage, defer, cancel."""

    run = models.ForeignKey(
        MrpRun, on_delete=models.CASCADE, related_name="messages", verbose_name=_("run")
    )
    kind = models.CharField(max_length=16, verbose_name=_("kind"))
    item = models.ForeignKey(
        Item, on_delete=models.PROTECT, related_name="+", verbose_name=_("item")
    )
    reference = models.CharField(max_length=64, blank=True, verbose_name=_("reference"))
    text = models.CharField(max_length=300, verbose_name=_("text"))
    date = models.DateField(null=True, blank=True, verbose_name=_("date"))
    suggested_date = models.DateField(null=True, blank=True, verbose_name=_("suggested date"))

    class Meta:
        verbose_name = _("action message")
        verbose_name_plural = _("action messages")
        ordering = ["run", "kind", "item__code"]

    def __str__(self) -> str:
        return f"{self.kind}: {self.text}"


# --- Schedule runs -------------------------------------------------------------------------


class ScheduleRun(models.Model):
    """One finite-capacity scheduling run: solver status, objective, bound, progress."""

    class Status(models.TextChoices):
        QUEUED = "queued", pgettext_lazy("run status", "Queued")
        RUNNING = "running", pgettext_lazy("run status", "Running")
        DONE = "done", pgettext_lazy("run status", "Done")
        FAILED = "failed", pgettext_lazy("run status", "Failed")

    status = models.CharField(
        max_length=16, choices=Status.choices, default=Status.QUEUED, verbose_name=_("status")
    )
    progress = models.PositiveSmallIntegerField(default=0, verbose_name=_("progress"))
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))
    started_at = models.DateTimeField(null=True, blank=True, verbose_name=_("started at"))
    finished_at = models.DateTimeField(null=True, blank=True, verbose_name=_("finished at"))
    created_by = models.ForeignKey(
        "auth.User",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("created by"),
    )
    time_limit_seconds = models.PositiveIntegerField(
        default=10, verbose_name=_("time limit seconds")
    )
    horizon_start = models.DateTimeField(null=True, blank=True, verbose_name=_("horizon start"))
    solver_status = models.CharField(max_length=16, blank=True, verbose_name=_("solver status"))
    weighted_tardiness = models.BigIntegerField(
        null=True, blank=True, verbose_name=_("weighted tardiness")
    )
    makespan_minutes = models.BigIntegerField(
        null=True, blank=True, verbose_name=_("makespan minutes")
    )
    bound = models.BigIntegerField(null=True, blank=True, verbose_name=_("bound"))
    heuristic_weighted_tardiness = models.BigIntegerField(
        null=True, blank=True, verbose_name=_("heuristic weighted tardiness")
    )
    heuristic_makespan_minutes = models.BigIntegerField(
        null=True, blank=True, verbose_name=_("heuristic makespan minutes")
    )
    operation_count = models.PositiveIntegerField(default=0, verbose_name=_("operation count"))
    summary = models.JSONField(default=dict, blank=True, verbose_name=_("summary"))
    error = models.TextField(blank=True, verbose_name=_("error"))

    class Meta:
        verbose_name = _("schedule run")
        verbose_name_plural = _("schedule runs")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"Schedule run {self.pk} ({self.status})"


class ScheduleAssignment(models.Model):
    """Where and when a schedule run put one operation."""

    run = models.ForeignKey(
        ScheduleRun, on_delete=models.CASCADE, related_name="assignments", verbose_name=_("run")
    )
    operation = models.ForeignKey(
        OrderOperation,
        on_delete=models.CASCADE,
        related_name="assignments",
        verbose_name=_("operation"),
    )
    part = models.PositiveSmallIntegerField(
        default=0,
        help_text=_("Shift-sized part of an operation longer than one shift (0, 1, …)."),
        verbose_name=_("part"),
    )
    equipment = models.ForeignKey(
        Equipment, on_delete=models.PROTECT, related_name="+", verbose_name=_("equipment")
    )
    start = models.DateTimeField(verbose_name=pgettext_lazy("period", "start"))
    end = models.DateTimeField(verbose_name=_("end"))

    class Meta:
        verbose_name = _("schedule assignment")
        verbose_name_plural = _("schedule assignments")
        ordering = ["run", "equipment__code", "start"]
        constraints = [
            models.UniqueConstraint(
                fields=["run", "operation", "part"], name="assignment_unique_op"
            ),
            models.CheckConstraint(
                condition=Q(end__gte=F("start")),
                name="assignment_end_after_start",
                violation_error_message=_("end must not be before start."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.operation_id} on {self.equipment_id} {self.start:%Y-%m-%d %H:%M}"


# --- Master-data imports -------------------------------------------------------------------


class ImportJob(models.Model):
    """A master-data file (items, BOMs or routings) imported in the background, with its report.

    The upload is kept under VAR_DIR/imports until the job has finished. The import itself is
    all or nothing (planning.services.imports); rows_done follows it while it runs.
    """

    class Status(models.TextChoices):
        QUEUED = "queued", pgettext_lazy("run status", "Queued")
        RUNNING = "running", pgettext_lazy("run status", "Running")
        DONE = "done", pgettext_lazy("run status", "Done")
        FAILED = "failed", pgettext_lazy("run status", "Failed")

    status = models.CharField(
        max_length=16, choices=Status.choices, default=Status.QUEUED, verbose_name=_("status")
    )
    file_name = models.CharField(
        max_length=255,
        help_text=_("The name the file was uploaded as."),
        verbose_name=_("file name"),
    )
    stored_file = models.CharField(
        max_length=255,
        blank=True,
        help_text=_("Where the upload is kept, under VAR_DIR."),
        verbose_name=_("stored file"),
    )
    size = models.PositiveBigIntegerField(default=0, help_text=_("Bytes."), verbose_name=_("size"))
    dry_run = models.BooleanField(
        default=False, help_text=_("Check and report, write nothing."), verbose_name=_("dry run")
    )
    kind = models.CharField(
        max_length=16,
        blank=True,
        help_text=_("items, equipment, changeovers, boms or routings."),
        verbose_name=_("kind"),
    )
    rows_total = models.PositiveIntegerField(
        null=True, blank=True, help_text=_("Data rows."), verbose_name=_("rows total")
    )
    rows_done = models.PositiveIntegerField(default=0, verbose_name=_("rows done"))
    new = models.PositiveIntegerField(default=0, verbose_name=_("new"))
    updated = models.PositiveIntegerField(default=0, verbose_name=_("updated"))
    unchanged = models.PositiveIntegerField(default=0, verbose_name=_("unchanged"))
    errors = models.JSONField(
        default=list,
        blank=True,
        db_default=models.Value([], output_field=models.JSONField()),
        help_text=_("The first problems: [{row, column, message}] (row 0: the whole file)."),
        verbose_name=_("errors"),
    )
    error_count = models.PositiveIntegerField(default=0, verbose_name=_("error count"))
    attempts = models.PositiveSmallIntegerField(
        default=0, help_text=_("Times a worker took it."), verbose_name=_("attempts")
    )
    created_by = models.ForeignKey(
        "auth.User",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("created by"),
    )
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))
    started_at = models.DateTimeField(null=True, blank=True, verbose_name=_("started at"))
    finished_at = models.DateTimeField(null=True, blank=True, verbose_name=_("finished at"))

    class Meta:
        verbose_name_plural = _("import jobs")
        ordering = ["-created_at", "-pk"]
        verbose_name = _("import job")

    def __str__(self) -> str:
        return _("Import %(id)s of %(file)s (%(status)s)") % {
            "id": self.pk,
            "file": self.file_name,
            "status": self.get_status_display(),
        }

    @property
    def kind_label(self) -> str:
        """The kind of file as a page names it (Items, BOMs, Routings)."""
        return code_label(IMPORT_KINDS, self.kind)

    @property
    def finished(self) -> bool:
        return self.status in (self.Status.DONE, self.Status.FAILED)


# Field-level history (BOMs, routings, demand, orders and requisitions): core/history.py; what is
# left out and why: docs/audit.md.
history_register(
    Bom,
    BomLine,
    Routing,
    RoutingStep,
    SalesOrder,
    Forecast,
    MpsEntry,
    ProductionOrder,
    PurchaseRequisition,
)
