"""Planning master data: bills of materials and routings (ISA-95 product definition)."""

from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q

from resources.models import QTY, Equipment, Item, Skill, SkillLevel, WorkCenter


class Bom(models.Model):
    """A version of an item's bill of materials, valid between two dates.

    Line quantities are for `base_quantity` units of the parent (a batch), as in most ERPs.
    """

    item = models.ForeignKey(Item, on_delete=models.PROTECT, related_name="boms")
    version = models.CharField(max_length=16, default="1")
    base_quantity = models.DecimalField(**QTY, default=Decimal("1"))
    effective_from = models.DateField(null=True, blank=True)
    effective_to = models.DateField(null=True, blank=True)
    description = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["item__code", "version"]
        verbose_name = "BOM"
        constraints = [
            models.UniqueConstraint(fields=["item", "version"], name="bom_unique_version"),
            models.CheckConstraint(
                condition=Q(base_quantity__gt=0),
                name="bom_base_qty_positive",
                violation_error_message="base_quantity must be above zero.",
            ),
            models.CheckConstraint(
                condition=Q(effective_to__isnull=True)
                | Q(effective_from__isnull=True)
                | Q(effective_to__gte=F("effective_from")),
                name="bom_effective_dates_ordered",
                violation_error_message="effective_to must not be before effective_from.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.item} BOM v{self.version}"

    def clean(self) -> None:
        if self.effective_from and self.effective_to and self.effective_to < self.effective_from:
            raise ValidationError({"effective_to": "Must not be before effective_from."})


class BomLine(models.Model):
    """A component of a BOM: how much per base quantity, with expected scrap."""

    bom = models.ForeignKey(Bom, on_delete=models.CASCADE, related_name="lines")
    line_no = models.PositiveIntegerField()
    component = models.ForeignKey(Item, on_delete=models.PROTECT, related_name="used_in")
    quantity = models.DecimalField(**QTY)
    scrap_pct = models.DecimalField(max_digits=6, decimal_places=3, default=Decimal("0"))
    operation_step_no = models.PositiveIntegerField(
        null=True, blank=True, help_text="Routing step that consumes it (blank: the first)."
    )

    class Meta:
        ordering = ["bom", "line_no"]
        verbose_name = "BOM line"
        constraints = [
            models.UniqueConstraint(fields=["bom", "line_no"], name="bomline_unique_no"),
            models.CheckConstraint(
                condition=Q(quantity__gt=0),
                name="bomline_qty_positive",
                violation_error_message="quantity must be above zero.",
            ),
            models.CheckConstraint(
                condition=Q(scrap_pct__gte=0) & Q(scrap_pct__lt=100),
                name="bomline_scrap_range",
                violation_error_message="scrap_pct must be at least 0 and below 100.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.bom}: {self.component} × {self.quantity}"

    def clean(self) -> None:
        if self.bom_id and self.component_id and self.bom.item_id == self.component_id:
            raise ValidationError({"component": "An item cannot be a component of itself."})

    @property
    def quantity_per_unit(self) -> Decimal:
        """Gross quantity per one parent unit, scrap included."""
        return self.quantity / self.bom.base_quantity / (1 - self.scrap_pct / 100)


class Routing(models.Model):
    """A version of how an item is made: ordered steps on work centers (ISA-95 process segments)."""

    item = models.ForeignKey(Item, on_delete=models.PROTECT, related_name="routings")
    version = models.CharField(max_length=16, default="1")
    effective_from = models.DateField(null=True, blank=True)
    effective_to = models.DateField(null=True, blank=True)
    description = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["item__code", "version"]
        constraints = [
            models.UniqueConstraint(fields=["item", "version"], name="routing_unique_version"),
            models.CheckConstraint(
                condition=Q(effective_to__isnull=True)
                | Q(effective_from__isnull=True)
                | Q(effective_to__gte=F("effective_from")),
                name="routing_effective_dates_ordered",
                violation_error_message="effective_to must not be before effective_from.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.item} routing v{self.version}"


class RoutingStep(models.Model):
    """One operation of a routing: where, on which machines, how long, by whom."""

    routing = models.ForeignKey(Routing, on_delete=models.CASCADE, related_name="steps")
    step_no = models.PositiveIntegerField(help_text="Sequence: 10, 20, 30 …")
    name = models.CharField(max_length=100)
    work_center = models.ForeignKey(WorkCenter, on_delete=models.PROTECT, related_name="steps")
    eligible_equipment = models.ManyToManyField(Equipment, blank=True, related_name="steps")
    setup_minutes = models.DecimalField(max_digits=10, decimal_places=2, default=Decimal("0"))
    run_minutes_per_unit = models.DecimalField(
        max_digits=10, decimal_places=4, default=Decimal("0")
    )
    required_skill = models.ForeignKey(
        Skill, null=True, blank=True, on_delete=models.PROTECT, related_name="steps"
    )
    min_skill_level = models.PositiveSmallIntegerField(
        choices=SkillLevel.choices, default=SkillLevel.QUALIFIED
    )
    # Filled in by quality's inspection plans; a code until those exist.
    inspection_plan_ref = models.CharField(max_length=64, blank=True)

    class Meta:
        ordering = ["routing", "step_no"]
        constraints = [
            models.UniqueConstraint(fields=["routing", "step_no"], name="routingstep_unique_no"),
            models.CheckConstraint(
                condition=Q(setup_minutes__gte=0) & Q(run_minutes_per_unit__gte=0),
                name="routingstep_times_nonnegative",
                violation_error_message="setup_minutes and run_minutes_per_unit must not be negative.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.routing} {self.step_no} {self.name}"
