"""Quality: inspection plans and records, gates, dispositions, trace codes, defect-rate
holds (ISA-95 quality operations)."""

from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from core.history import history_register
from core.texts import text_shown
from execution.models import Task, WorkAlert
from planning.models import OrderOperation, ProductionOrder, RoutingStep
from resources.models import QTY, Equipment, Item, MaterialLot, SerialUnit, WorkCenter


class InspectionPlan(models.Model):
    """How one routing step is inspected, in a version: characteristics and sampling."""

    class Sampling(models.TextChoices):
        EVERY_UNIT = "every_unit", _("Every unit")
        EVERY_NTH = "every_nth", _("Every n-th unit")
        FIRST_ARTICLE = "first_article", _("First article per shift")

    code = models.CharField(
        max_length=64,
        help_text=_("The code routing steps refer to (IP-EB500-30)."),
        verbose_name=_("code"),
    )
    version = models.PositiveIntegerField(default=1, verbose_name=_("version"))
    routing_step = models.ForeignKey(
        RoutingStep,
        on_delete=models.PROTECT,
        related_name="inspection_plans",
        verbose_name=_("routing step"),
    )
    active = models.BooleanField(default=True, verbose_name=_("active"))
    sampling = models.CharField(
        max_length=16,
        choices=Sampling.choices,
        default=Sampling.EVERY_UNIT,
        verbose_name=_("sampling"),
    )
    sample_every = models.PositiveIntegerField(
        default=1, help_text=_("n for every n-th unit."), verbose_name=_("sample every")
    )
    gate = models.BooleanField(
        default=True,
        help_text=_("The next operation may not start until this inspection passes."),
        verbose_name=_("gate"),
    )
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))

    class Meta:
        verbose_name = _("inspection plan")
        verbose_name_plural = _("inspection plans")
        ordering = ["code", "-version"]
        constraints = [
            models.UniqueConstraint(
                fields=["code", "version"], name="inspectionplan_unique_version"
            ),
            models.UniqueConstraint(
                fields=["routing_step"],
                condition=Q(active=True),
                name="inspectionplan_one_active_per_step",
                violation_error_message=_("A routing step has one active inspection plan."),
            ),
            models.CheckConstraint(
                condition=Q(sample_every__gte=1),
                name="inspectionplan_sample_every_gte_1",
                violation_error_message=_("sample_every must be at least 1."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.code} v{self.version}"


class Characteristic(models.Model):
    """One thing checked: a measured value with tolerances, or a pass/fail attribute."""

    class Kind(models.TextChoices):
        VARIABLE = "variable", _("Measured value")
        ATTRIBUTE = "attribute", _("Attribute (pass/fail)")

    plan = models.ForeignKey(
        InspectionPlan,
        on_delete=models.CASCADE,
        related_name="characteristics",
        verbose_name=_("plan"),
    )
    name = models.CharField(max_length=100, verbose_name=_("name"))
    kind = models.CharField(max_length=10, choices=Kind.choices, verbose_name=_("kind"))
    nominal = models.DecimalField(
        max_digits=14, decimal_places=4, null=True, blank=True, verbose_name=_("nominal")
    )
    lower_tolerance = models.DecimalField(
        max_digits=14,
        decimal_places=4,
        null=True,
        blank=True,
        help_text=_("Allowed below nominal (≥ 0)."),
        verbose_name=_("lower tolerance"),
    )
    upper_tolerance = models.DecimalField(
        max_digits=14,
        decimal_places=4,
        null=True,
        blank=True,
        help_text=_("Allowed above nominal (≥ 0)."),
        verbose_name=_("upper tolerance"),
    )
    unit = models.CharField(max_length=16, blank=True, verbose_name=_("unit"))
    description = models.CharField(max_length=200, blank=True, verbose_name=_("description"))

    class Meta:
        verbose_name = _("characteristic")
        verbose_name_plural = _("characteristics")
        ordering = ["plan", "id"]
        constraints = [
            models.UniqueConstraint(fields=["plan", "name"], name="characteristic_unique_name"),
            models.CheckConstraint(
                condition=~Q(kind="variable")
                | (
                    Q(nominal__isnull=False) & Q(lower_tolerance__gte=0) & Q(upper_tolerance__gte=0)
                ),
                name="characteristic_variable_has_limits",
                violation_error_message=_("A measured value needs a nominal and tolerances ≥ 0."),
            ),
        ]

    def __str__(self) -> str:
        if self.kind == self.Kind.VARIABLE:
            return f"{self.name} {self.nominal} -{self.lower_tolerance}/+{self.upper_tolerance} {self.unit}"
        return self.name

    @property
    def lower_limit(self) -> Decimal | None:
        return None if self.nominal is None else self.nominal - (self.lower_tolerance or 0)

    @property
    def upper_limit(self) -> Decimal | None:
        return None if self.nominal is None else self.nominal + (self.upper_tolerance or 0)


class DefectCode(models.Model):
    """A kind of defect, for reasons and Pareto charts (short shot, scratch, porosity)."""

    code = models.CharField(max_length=32, unique=True, verbose_name=_("code"))
    name = models.CharField(max_length=200, verbose_name=_("name"))

    class Meta:
        verbose_name = _("defect code")
        verbose_name_plural = _("defect codes")
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class InspectionRecord(models.Model):
    """The result of inspecting one unit or lot at one operation; append-only — a correction
    is a new record that names the one it corrects."""

    class Result(models.TextChoices):
        PASS = "pass", _("Pass")
        FAIL = "fail", _("Fail")

    external_id = models.CharField(max_length=100, unique=True, verbose_name=_("external id"))
    plan = models.ForeignKey(
        InspectionPlan, on_delete=models.PROTECT, related_name="records", verbose_name=_("plan")
    )
    order = models.ForeignKey(
        ProductionOrder,
        on_delete=models.PROTECT,
        related_name="inspections",
        verbose_name=_("order"),
    )
    operation = models.ForeignKey(
        OrderOperation,
        on_delete=models.PROTECT,
        related_name="inspections",
        verbose_name=_("operation"),
    )
    work_center = models.ForeignKey(
        WorkCenter,
        on_delete=models.PROTECT,
        related_name="inspections",
        verbose_name=_("work center"),
    )
    unit = models.ForeignKey(
        SerialUnit,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="inspections",
        verbose_name=_("unit"),
    )
    lot = models.ForeignKey(
        MaterialLot,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="inspections",
        verbose_name=_("lot"),
    )
    result = models.CharField(max_length=4, choices=Result.choices, verbose_name=_("result"))
    defect_code = models.ForeignKey(
        DefectCode,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="records",
        verbose_name=_("defect code"),
    )
    reason = models.CharField(max_length=300, blank=True, verbose_name=_("reason"))
    reason_id = models.CharField(
        max_length=300, blank=True, default="", verbose_name=_("reason id")
    )  # core/texts.py: a generated reason; blank for a typed one (shown as typed)
    reason_params = models.JSONField(default=dict, blank=True, verbose_name=_("reason params"))
    inspector = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("inspector"),
    )
    gauge = models.CharField(
        max_length=64,
        blank=True,
        help_text=_("Gauge or measuring equipment id."),
        verbose_name=_("gauge"),
    )
    inspected_at = models.DateTimeField(db_index=True, verbose_name=_("inspected at"))
    recorded_at = models.DateTimeField(auto_now_add=True, verbose_name=_("recorded at"))
    corrects = models.OneToOneField(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="corrected_by",
        verbose_name=_("corrects"),
    )

    class Meta:
        verbose_name = _("inspection record")
        verbose_name_plural = _("inspection records")
        ordering = ["inspected_at", "id"]
        indexes = [
            models.Index(fields=["unit", "operation"]),
            models.Index(fields=["lot", "operation"]),
            models.Index(fields=["work_center", "plan", "-inspected_at"]),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(unit__isnull=False) | Q(lot__isnull=False),
                name="inspection_names_unit_or_lot",
                violation_error_message=_("An inspection record names the unit or the lot."),
            )
        ]

    def __str__(self) -> str:
        return f"{self.plan.code} {self.unit or self.lot}: {self.result}"

    def save(self, *args, **kwargs):
        if self.pk is not None and not self._state.adding:
            raise ValidationError(_("Inspection records are append-only; record a correction."))
        super().save(*args, **kwargs)

    @property
    def reason_shown(self) -> str:
        """Why it failed, in the reader's language when generated; a typed reason as typed."""
        return text_shown(self.reason_id, self.reason_params, self.reason)

    def signature_extra(self) -> dict:
        """A signed record (a correction) signs its values too."""
        return {
            "measurements": sorted(
                [
                    m.characteristic_id,
                    None if m.value is None else f"{m.value.quantize(Decimal('0.0001')):f}",
                    m.ok,
                    m.passed,
                ]
                for m in self.measurements.all()
            )
        }


class Measurement(models.Model):
    """One characteristic's value in an inspection record, with its own verdict."""

    record = models.ForeignKey(
        InspectionRecord,
        on_delete=models.CASCADE,
        related_name="measurements",
        verbose_name=_("record"),
    )
    characteristic = models.ForeignKey(
        Characteristic, on_delete=models.PROTECT, related_name="+", verbose_name=_("characteristic")
    )
    value = models.DecimalField(
        max_digits=14, decimal_places=4, null=True, blank=True, verbose_name=_("value")
    )
    ok = models.BooleanField(
        null=True, blank=True, help_text=_("For attributes."), verbose_name=_("ok")
    )
    passed = models.BooleanField(verbose_name=_("passed"))

    class Meta:
        verbose_name = _("measurement")
        verbose_name_plural = _("measurements")
        ordering = ["record", "characteristic"]
        constraints = [
            models.UniqueConstraint(fields=["record", "characteristic"], name="measurement_unique")
        ]

    def __str__(self) -> str:
        return f"{self.characteristic.name}: {self.value if self.value is not None else self.ok}"


class Disposition(models.Model):
    """What happens to a unit or lot that failed: rework, scrap, or use as is (approved)."""

    class Decision(models.TextChoices):
        REWORK = "rework", _("Rework")
        SCRAP = "scrap", pgettext_lazy("disposition", "Scrap")
        USE_AS_IS = "use_as_is", _("Use as is")

    record = models.OneToOneField(
        InspectionRecord,
        on_delete=models.PROTECT,
        related_name="disposition",
        verbose_name=_("record"),
    )
    decision = models.CharField(max_length=10, choices=Decision.choices, verbose_name=_("decision"))
    note = models.CharField(max_length=300, blank=True, verbose_name=_("note"))
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("decided by"),
    )
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("approved by"),
    )
    decided_at = models.DateTimeField(auto_now_add=True, verbose_name=_("decided at"))
    # What a scrap moved from good to scrap on the inspected operation's counters, and on
    # which task and order (the operation's are the record's); written by the scrap in the
    # same transaction as the counters, and read back when a correction moves it back.
    quantity_moved = models.DecimalField(
        **QTY,
        null=True,
        blank=True,
        help_text=_("Moved from good to scrap. Blank: no scrap posting (rework, use as is)."),
        verbose_name=_("quantity moved"),
    )
    moved_task = models.ForeignKey(
        Task,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text=_("The task whose counters the scrap moved."),
        verbose_name=_("moved task"),
    )
    moved_order = models.ForeignKey(
        ProductionOrder,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text=_("The order whose counters the scrap moved (its last operation only)."),
        verbose_name=_("moved order"),
    )
    moved_back_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text=_("When a correction moved the scrap back to good."),
        verbose_name=_("moved back at"),
    )
    quantity_moved_back = models.DecimalField(
        **QTY,
        null=True,
        blank=True,
        help_text=_("Moved back from scrap to good."),
        verbose_name=_("quantity moved back"),
    )

    # A signature (scrap, use as is) covers the decision; a later correction of the record
    # moves a scrap back and writes these, which does not undo what was signed.
    signature_exclude = ("moved_back_at", "quantity_moved_back")

    class Meta:
        verbose_name = _("disposition")
        verbose_name_plural = _("dispositions")
        ordering = ["-decided_at"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(decision="use_as_is") | Q(approved_by__isnull=False),
                name="use_as_is_needs_approval",
                violation_error_message=_("Use as is needs a quality supervisor's approval."),
            ),
            models.CheckConstraint(
                condition=Q(decision="scrap")
                | (
                    Q(quantity_moved__isnull=True)
                    & Q(moved_task__isnull=True)
                    & Q(moved_order__isnull=True)
                    & Q(moved_back_at__isnull=True)
                    & Q(quantity_moved_back__isnull=True)
                ),
                name="disposition_only_scrap_moves",
                violation_error_message=_("Only a scrap moves counters."),
            ),
            models.CheckConstraint(
                condition=(Q(quantity_moved__isnull=True) | Q(quantity_moved__gte=0))
                & (Q(quantity_moved_back__isnull=True) | Q(quantity_moved_back__gte=0)),
                name="disposition_moved_not_negative",
                violation_error_message=_(
                    "quantity_moved and quantity_moved_back must not be negative."
                ),
            ),
            models.CheckConstraint(
                condition=Q(quantity_moved_back__isnull=True) | Q(moved_back_at__isnull=False),
                name="disposition_moved_back_has_time",
                violation_error_message=_("A quantity moved back needs the time it moved back."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.record_id}: {self.decision}"


class TraceCode(models.Model):
    """The code on a unit's or a lot's label: issued at the first operation, unique."""

    code = models.CharField(max_length=100, unique=True, verbose_name=_("code"))
    item = models.ForeignKey(
        Item, on_delete=models.PROTECT, related_name="trace_codes", verbose_name=_("item")
    )
    unit = models.OneToOneField(
        SerialUnit,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="trace_code",
        verbose_name=_("unit"),
    )
    lot = models.OneToOneField(
        MaterialLot,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="trace_code",
        verbose_name=_("lot"),
    )
    order = models.ForeignKey(
        ProductionOrder,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="trace_codes",
        verbose_name=_("order"),
    )
    issued_at = models.DateTimeField(auto_now_add=True, verbose_name=_("issued at"))
    printed_at = models.DateTimeField(null=True, blank=True, verbose_name=_("printed at"))

    class Meta:
        verbose_name = _("trace code")
        verbose_name_plural = _("trace codes")
        ordering = ["-issued_at"]
        constraints = [
            models.CheckConstraint(
                condition=(Q(unit__isnull=False) & Q(lot__isnull=True))
                | (Q(unit__isnull=True) & Q(lot__isnull=False)),
                name="tracecode_unit_xor_lot",
                violation_error_message=_("A trace code names exactly one unit or one lot."),
            )
        ]

    def __str__(self) -> str:
        return self.code


class DefectRateRule(models.Model):
    """When the rolling defect rate of an operation at a work center crosses the threshold
    over at least the minimum sample, the operation goes on hold."""

    routing_step = models.ForeignKey(
        RoutingStep,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="defect_rules",
        help_text=_("Blank: every operation at the work center."),
        verbose_name=_("routing step"),
    )
    work_center = models.ForeignKey(
        WorkCenter,
        on_delete=models.CASCADE,
        related_name="defect_rules",
        verbose_name=_("work center"),
    )
    threshold_pct = models.DecimalField(
        max_digits=5, decimal_places=2, default=Decimal("5"), verbose_name=_("threshold pct")
    )
    min_sample = models.PositiveIntegerField(default=20, verbose_name=_("min sample"))
    window = models.PositiveIntegerField(
        default=50, help_text=_("The last n units inspected or reported."), verbose_name=_("window")
    )

    class Meta:
        verbose_name = _("defect-rate rule")
        verbose_name_plural = _("defect-rate rules")
        ordering = ["work_center", "routing_step"]
        constraints = [
            models.CheckConstraint(
                condition=Q(threshold_pct__gt=0) & Q(threshold_pct__lte=100),
                name="defectrule_threshold_range",
                violation_error_message=_("threshold_pct must be above 0 and at most 100."),
            ),
            models.CheckConstraint(
                condition=Q(window__gte=F("min_sample")),
                name="defectrule_window_covers_sample",
                violation_error_message=_("window must be at least min_sample."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.work_center} {self.routing_step or 'all'} > {self.threshold_pct}%"


class QualityHold(models.Model):
    """An operation at a work center that may not start new work until a quality supervisor
    releases it with a reason."""

    class Status(models.TextChoices):
        ACTIVE = "active", _("On hold")
        RELEASED = "released", pgettext_lazy("quality hold", "Released")

    routing_step = models.ForeignKey(
        RoutingStep, on_delete=models.PROTECT, related_name="holds", verbose_name=_("routing step")
    )
    work_center = models.ForeignKey(
        WorkCenter, on_delete=models.PROTECT, related_name="holds", verbose_name=_("work center")
    )
    equipment = models.ForeignKey(
        Equipment,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="holds",
        verbose_name=_("equipment"),
    )
    status = models.CharField(
        max_length=10, choices=Status.choices, default=Status.ACTIVE, verbose_name=_("status")
    )
    reason = models.CharField(max_length=300, verbose_name=_("reason"))
    reason_id = models.CharField(
        max_length=300, blank=True, default="", verbose_name=_("reason id")
    )  # core/texts.py
    reason_params = models.JSONField(default=dict, blank=True, verbose_name=_("reason params"))
    defect_rate_pct = models.DecimalField(
        max_digits=6, decimal_places=2, null=True, blank=True, verbose_name=_("defect rate pct")
    )
    sample_size = models.PositiveIntegerField(null=True, blank=True, verbose_name=_("sample size"))
    alert = models.ForeignKey(
        WorkAlert,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="quality_holds",
        verbose_name=_("exception"),
        help_text=_("The quality exception raised with it."),
    )
    placed_at = models.DateTimeField(auto_now_add=True, verbose_name=_("placed at"))
    released_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("released by"),
    )
    released_at = models.DateTimeField(null=True, blank=True, verbose_name=_("released at"))
    release_reason = models.CharField(max_length=300, blank=True, verbose_name=_("release reason"))

    class Meta:
        verbose_name = _("quality hold")
        verbose_name_plural = _("quality holds")
        ordering = ["-placed_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["routing_step", "work_center"],
                condition=Q(status="active"),
                name="hold_one_active_per_operation",
            )
        ]

    def __str__(self) -> str:
        return f"Hold {self.routing_step} @ {self.work_center} ({self.status})"

    @property
    def reason_shown(self) -> str:
        """Why it was placed, in the reader's language (core/texts.py)."""
        return text_shown(self.reason_id, self.reason_params, self.reason)


# Field-level history (inspection plans, defect rules, inspection records and decisions): core/history.py; what is
# left out and why: docs/audit.md.
history_register(
    InspectionPlan,
    Characteristic,
    DefectCode,
    DefectRateRule,
    InspectionRecord,
    Disposition,
    QualityHold,
)
