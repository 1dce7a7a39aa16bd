"""Standard cost: versioned rate sets and the roll-up's results (docs/costing.md).

A cost version ("2026 standard", "2027 plan") holds its own labour, machine and overhead rates
and the purchase prices of bought items; one version is current. The roll-up
(costing/services/rollup.py) stores per item and version the unit cost by element with the
lines that make it up, so every figure can be traced to a component or an operation.
Money is Decimal with four decimals, in the plant's currency.
"""

from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from core.history import history_register
from core.texts import text_shown
from execution.models import LabourBooking, MaterialIssue, ProductionEvent
from planning.models import OrderOperation, ProductionOrder
from resources.models import (
    MONEY,
    Equipment,
    Item,
    MaterialLot,
    Operator,
    Skill,
    SkillLevel,
    WorkCenter,
)

# Quantities per unit after scrap and hours per unit after spreading the setup over the lot
# keep more decimals than a stock quantity: they are multiplied by rates.
PER_UNIT = {"max_digits": 24, "decimal_places": 10}


class CostVersion(models.Model):
    """A set of standard cost rates and prices, effective from a date; one set is current."""

    code = models.CharField(max_length=32, unique=True)
    name = models.CharField(max_length=200)
    effective_from = models.DateField(
        help_text="The day the set applies from; BOMs and routings in effect that day are costed."
    )
    is_current = models.BooleanField(
        default=False,
        editable=False,
        help_text="The set standard costs are read from; changed only by 'make current'.",
    )
    note = models.CharField(max_length=300, blank=True)
    variance_threshold_pct = models.DecimalField(
        "variance threshold %",
        max_digits=6,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(0)],
        help_text="A variance this far (in % of its standard) from the standard is flagged; "
        "blank: the COSTING_VARIANCE_THRESHOLD_PCT setting.",
    )

    class Meta:
        verbose_name = _("cost version")
        verbose_name_plural = _("cost versions")
        ordering = ["-effective_from", "code"]
        constraints = [
            models.UniqueConstraint(
                fields=["is_current"],
                condition=Q(is_current=True),
                name="costversion_one_current",
                violation_error_message="Only one cost version may be current.",
            )
        ]

    def __str__(self) -> str:
        return self.code


def _nonnegative(*fields: str, name: str) -> models.CheckConstraint:
    condition = Q()
    for field in fields:
        condition &= Q(**{f"{field}__gte": 0})
    return models.CheckConstraint(
        condition=condition,
        name=name,
        violation_error_message=f"{' and '.join(fields)} must not be negative.",
    )


class LabourRate(models.Model):
    """What an hour of labour costs in a version: for a skill at a level, or at a work center.

    An operation that requires a skill is costed at that skill's rate for the step's minimum
    level; without one (or with no rate for it), at its work center's rate."""

    version = models.ForeignKey(CostVersion, on_delete=models.CASCADE, related_name="labour_rates")
    work_center = models.ForeignKey(
        WorkCenter, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    skill = models.ForeignKey(
        Skill, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    skill_level = models.PositiveSmallIntegerField(
        choices=SkillLevel.choices, null=True, blank=True
    )
    rate_per_hour = models.DecimalField(**MONEY)

    class Meta:
        verbose_name = _("labour rate")
        verbose_name_plural = _("labour rates")
        ordering = ["version", "work_center__code", "skill__code", "skill_level"]
        constraints = [
            models.CheckConstraint(
                condition=(
                    Q(work_center__isnull=False, skill__isnull=True, skill_level__isnull=True)
                    | Q(work_center__isnull=True, skill__isnull=False, skill_level__isnull=False)
                ),
                name="labourrate_work_center_or_skill",
                violation_error_message="Give either a work center, or a skill with its level.",
            ),
            models.UniqueConstraint(
                fields=["version", "work_center"],
                condition=Q(work_center__isnull=False),
                name="labourrate_unique_work_center",
                violation_error_message="This version already has a rate for this work center.",
            ),
            models.UniqueConstraint(
                fields=["version", "skill", "skill_level"],
                condition=Q(skill__isnull=False),
                name="labourrate_unique_skill_level",
                violation_error_message="This version already has a rate for this skill level.",
            ),
            _nonnegative("rate_per_hour", name="labourrate_nonnegative"),
        ]

    def __str__(self) -> str:
        target = self.work_center or f"{self.skill} L{self.skill_level}"
        return f"{self.version} labour {target}: {self.rate_per_hour}/h"

    def clean(self) -> None:
        if self.work_center_id and (self.skill_id or self.skill_level):
            raise ValidationError({"skill": "Give a work center or a skill, not both."})
        if not self.work_center_id and not self.skill_id:
            raise ValidationError({"work_center": "Give a work center or a skill with its level."})
        if self.skill_id and not self.skill_level:
            raise ValidationError({"skill_level": "A skill rate needs the skill level it pays."})


class MachineRate(models.Model):
    """What an hour of a machine costs in a version: depreciation, energy and maintenance."""

    version = models.ForeignKey(CostVersion, on_delete=models.CASCADE, related_name="machine_rates")
    equipment = models.ForeignKey(Equipment, on_delete=models.PROTECT, related_name="+")
    depreciation_per_hour = models.DecimalField(**MONEY, default=Decimal("0"))
    energy_per_hour = models.DecimalField(**MONEY, default=Decimal("0"))
    maintenance_per_hour = models.DecimalField(**MONEY, default=Decimal("0"))

    class Meta:
        verbose_name = _("machine rate")
        verbose_name_plural = _("machine rates")
        ordering = ["version", "equipment__code"]
        constraints = [
            models.UniqueConstraint(
                fields=["version", "equipment"],
                name="machinerate_unique_equipment",
                violation_error_message="This version already has a rate for this machine.",
            ),
            _nonnegative(
                "depreciation_per_hour",
                "energy_per_hour",
                "maintenance_per_hour",
                name="machinerate_nonnegative",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.version} machine {self.equipment}: {self.rate_per_hour}/h"

    @property
    def rate_per_hour(self) -> Decimal:
        return self.depreciation_per_hour + self.energy_per_hour + self.maintenance_per_hour


class OverheadRate(models.Model):
    """A work center's overhead in a version: an amount per operation hour, or a percentage
    of the labour and machine cost of the operations done there."""

    class Basis(models.TextChoices):
        PER_HOUR = "per_hour", _("Amount per operation hour")
        PERCENT = "percent", _("% of labour + machine")

    version = models.ForeignKey(
        CostVersion, on_delete=models.CASCADE, related_name="overhead_rates"
    )
    work_center = models.ForeignKey(WorkCenter, on_delete=models.PROTECT, related_name="+")
    basis = models.CharField(max_length=16, choices=Basis.choices, default=Basis.PER_HOUR)
    rate = models.DecimalField(
        **MONEY, help_text="Money per hour, or a percentage (25 = 25 %) by the basis."
    )

    class Meta:
        verbose_name = _("overhead rate")
        verbose_name_plural = _("overhead rates")
        ordering = ["version", "work_center__code"]
        constraints = [
            models.UniqueConstraint(
                fields=["version", "work_center"],
                name="overheadrate_unique_work_center",
                violation_error_message="This version already has an overhead for this work center.",
            ),
            _nonnegative("rate", name="overheadrate_nonnegative"),
        ]

    def __str__(self) -> str:
        unit = "%" if self.basis == self.Basis.PERCENT else "/h"
        return f"{self.version} overhead {self.work_center}: {self.rate}{unit}"


class PurchasePrice(models.Model):
    """The standard price of a bought item in a version, per unit of the item's measure."""

    version = models.ForeignKey(
        CostVersion, on_delete=models.CASCADE, related_name="purchase_prices"
    )
    item = models.ForeignKey(Item, on_delete=models.PROTECT, related_name="+")
    price = models.DecimalField(**MONEY)

    class Meta:
        verbose_name = _("purchase price")
        verbose_name_plural = _("purchase prices")
        ordering = ["version", "item__code"]
        constraints = [
            models.UniqueConstraint(
                fields=["version", "item"],
                name="purchaseprice_unique_item",
                violation_error_message="This version already has a price for this item.",
            ),
            _nonnegative("price", name="purchaseprice_nonnegative"),
        ]

    def __str__(self) -> str:
        return f"{self.version} {self.item}: {self.price}"

    def clean(self) -> None:
        if self.item_id and self.item.source != Item.Source.BUY:
            raise ValidationError(
                {"item": f"{self.item.code} is made, not bought: its cost is rolled up."}
            )


# --- the roll-up's results ------------------------------------------------------------------


class CostRollupRun(models.Model):
    """One standard cost roll-up of a version: when, by whom, what it found missing."""

    version = models.ForeignKey(CostVersion, on_delete=models.CASCADE, related_name="rollups")
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    items_costed = models.PositiveIntegerField(default=0)
    items_incomplete = models.PositiveIntegerField(default=0)
    problems = models.JSONField(
        default=list,
        blank=True,
        db_default=models.Value([], output_field=models.JSONField()),
        help_text="What is missing, one sentence each, naming the item, operation and rate.",
    )

    class Meta:
        verbose_name_plural = _("cost roll-ups")
        ordering = ["-started_at", "-pk"]
        verbose_name = _("cost roll-up")

    def __str__(self) -> str:
        return f"Roll-up of {self.version} at {self.started_at:%Y-%m-%d %H:%M}"


class ItemCost(models.Model):
    """An item's standard unit cost in a version, by element (the roll-up's result)."""

    version = models.ForeignKey(CostVersion, on_delete=models.CASCADE, related_name="item_costs")
    item = models.ForeignKey(Item, on_delete=models.CASCADE, related_name="standard_costs")
    rollup = models.ForeignKey(
        CostRollupRun, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    lot_size = models.DecimalField(
        max_digits=18, decimal_places=4, help_text="The lot its setup times are spread over."
    )
    material = models.DecimalField(**MONEY)
    labour = models.DecimalField(**MONEY)
    machine = models.DecimalField(**MONEY)
    overhead = models.DecimalField(**MONEY)
    total = models.DecimalField(**MONEY)
    complete = models.BooleanField(
        help_text="False: a rate or price is missing (see problems); the total is not usable."
    )
    problems = models.JSONField(
        default=list,
        blank=True,
        db_default=models.Value([], output_field=models.JSONField()),
    )
    digest = models.CharField(
        max_length=64,
        blank=True,
        default="",
        help_text="SHA-256 of the figures and breakdown lines stored: a re-run rewrites only "
        "the items whose result changed.",
    )

    class Meta:
        verbose_name = _("item cost")
        verbose_name_plural = _("item costs")
        ordering = ["version", "item__code"]
        constraints = [
            models.UniqueConstraint(fields=["version", "item"], name="itemcost_unique_item")
        ]

    def __str__(self) -> str:
        return f"{self.version} {self.item}: {self.total}"


class ItemCostLine(models.Model):
    """One traceable figure of an item's standard cost: a component's material, or one
    operation's labour, machine or overhead, with the quantity and rate behind it."""

    class Element(models.TextChoices):
        MATERIAL = "material", pgettext_lazy("cost element", "Material")
        LABOUR = "labour", _("Labour")
        MACHINE = "machine", _("Machine")
        OVERHEAD = "overhead", _("Overhead")

    item_cost = models.ForeignKey(ItemCost, on_delete=models.CASCADE, related_name="lines")
    line_no = models.PositiveIntegerField()
    element = models.CharField(max_length=16, choices=Element.choices)
    component = models.ForeignKey(
        Item, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    bom_line_no = models.PositiveIntegerField(null=True, blank=True)
    step_no = models.PositiveIntegerField(null=True, blank=True)
    operation = models.CharField(max_length=100, blank=True)
    work_center = models.ForeignKey(
        WorkCenter, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    equipment = models.ForeignKey(
        Equipment, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    skill = models.ForeignKey(
        Skill, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    quantity = models.DecimalField(
        **PER_UNIT,
        help_text="Per unit of the item: component quantity after scrap, or hours after "
        "spreading the setup; for a percentage overhead the labour + machine it applies to.",
    )
    rate = models.DecimalField(
        **MONEY, help_text="Component unit cost, price, rate per hour, or percentage."
    )
    amount = models.DecimalField(**MONEY)
    basis = models.CharField(max_length=300, help_text="How the figure was reached, in words.")

    class Meta:
        verbose_name = _("item cost line")
        verbose_name_plural = _("item cost lines")
        ordering = ["item_cost", "line_no"]
        constraints = [
            models.UniqueConstraint(fields=["item_cost", "line_no"], name="itemcostline_unique_no")
        ]

    def __str__(self) -> str:
        return f"{self.item_cost} #{self.line_no} {self.element}: {self.amount}"


class LotPrice(models.Model):
    """What a material lot actually cost per unit (the supplier's invoice): material issued
    from the lot is costed at it instead of the version's standard price."""

    lot = models.OneToOneField(MaterialLot, on_delete=models.PROTECT, related_name="+")
    price = models.DecimalField(**MONEY)
    note = models.CharField(max_length=200, blank=True)

    class Meta:
        verbose_name = _("lot price")
        verbose_name_plural = _("lot prices")
        ordering = ["lot__item__code", "lot__code"]
        constraints = [_nonnegative("price", name="lotprice_nonnegative")]

    def __str__(self) -> str:
        return f"{self.lot}: {self.price}"


# --- actual cost ----------------------------------------------------------------------------


HOT = {"db_index": False, "db_constraint": False}


class OrderCostEntry(models.Model):
    """One posting of a production order's actual cost: material issued, an operator's booked
    hours, a machine's running hours, the overhead on them, or the standard value of scrap.

    The ledger is append-only and keyed by `source_key` (the record it comes from and its
    revision), so posting the same record twice changes nothing; a corrected labour booking
    posts the difference under a new key. docs/costing.md, "Actual cost"."""

    class Element(models.TextChoices):
        MATERIAL = "material", pgettext_lazy("cost element", "Material")
        LABOUR = "labour", _("Labour")
        MACHINE = "machine", _("Machine")
        OVERHEAD = "overhead", _("Overhead")
        SCRAP = "scrap", _("Scrap")

    source_key = models.CharField(
        max_length=120,
        help_text="issue:<id>, labour:<booking>:<revision>, machine:<event>, scrap:<event>, "
        "overhead:<key of the posting it is charged on>.",
    )
    # The ledger takes hundreds of thousands of postings in a rebuild, so it keeps only the
    # indexes something reads (order + element, period + element, the source key, the
    # booking a correction looks up) and no foreign-key checks in the database: every id is
    # copied from a row the posting has just read (bench/README.md, "Actual cost"). Django
    # still protects the rows named on delete.
    order = models.ForeignKey(
        ProductionOrder,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,  # the (order, element) index serves
        db_constraint=False,
    )
    operation = models.ForeignKey(
        OrderOperation,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        **HOT,
    )
    step_no = models.PositiveIntegerField(null=True, blank=True)
    element = models.CharField(max_length=16, choices=Element.choices)
    item = models.ForeignKey(
        Item,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        **HOT,
        help_text="The component issued (material), or the product scrapped (scrap).",
    )
    lot = models.ForeignKey(
        MaterialLot,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        **HOT,
    )
    work_center = models.ForeignKey(
        WorkCenter,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        **HOT,
    )
    equipment = models.ForeignKey(
        Equipment,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        **HOT,
    )
    operator = models.ForeignKey(
        Operator,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        **HOT,
    )
    quantity = models.DecimalField(
        **PER_UNIT, help_text="Quantity issued or scrapped, or hours (labour, machine)."
    )
    rate = models.DecimalField(
        **MONEY, help_text="Price per unit, rate per hour, or overhead rate / percentage."
    )
    amount = models.DecimalField(**MONEY)
    version = models.ForeignKey(CostVersion, on_delete=models.PROTECT, related_name="+", **HOT)
    posted_at = models.DateTimeField()
    period = models.DateField(
        help_text="The month it was posted in (first day), in the plant's time zone."
    )
    late = models.BooleanField(
        default=False,
        help_text="Arrived after the order was completed: in its period's figures, not in "
        "the order's frozen cost.",
    )
    material_issue = models.ForeignKey(
        MaterialIssue,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        **HOT,
    )
    labour_booking = models.ForeignKey(  # indexed: a correction reads what was posted
        LabourBooking,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_constraint=False,
    )
    production_event = models.ForeignKey(
        ProductionEvent,
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        related_name="+",
        db_index=False,
        db_constraint=False,
    )
    basis = models.CharField(max_length=300, help_text="How the figure was reached, in words.")

    class Meta:
        ordering = ["order", "posted_at", "id"]
        verbose_name = _("order cost entry")
        verbose_name_plural = _("order cost entries")
        indexes = [
            models.Index(fields=["order", "element"]),
            models.Index(fields=["period", "element"]),
        ]
        constraints = [
            models.UniqueConstraint(fields=["source_key"], name="ordercostentry_source_unique")
        ]

    def __str__(self) -> str:
        return f"{self.order_id} {self.element} {self.amount} ({self.source_key})"


class TrainingNeed(models.Model):
    """A need for training raised from a flagged variance (e.g. slow work on an operation),
    sent to the plant manager's inbox; one per order, operation and cause."""

    order = models.ForeignKey(ProductionOrder, on_delete=models.PROTECT, related_name="+")
    step_no = models.PositiveIntegerField()
    cause = models.CharField(max_length=40, help_text="The variance kind that raised it.")
    text = models.CharField(max_length=300)
    text_id = models.CharField(max_length=300, blank=True, default="")  # core/texts.py
    text_params = models.JSONField(default=dict, blank=True)
    operators = models.ManyToManyField(Operator, blank=True, related_name="+")
    raised_at = models.DateTimeField()
    raised_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = _("training need")
        verbose_name_plural = _("training needs")
        ordering = ["-raised_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["order", "step_no", "cause"], name="trainingneed_unique_cause"
            )
        ]

    def __str__(self) -> str:
        return self.text

    @property
    def text_shown(self) -> str:
        """The need in the reader's language (core/texts.py)."""
        return text_shown(self.text_id, self.text_params, self.text)


# Rates and prices are master data kept by cost accountants: field-level history. The roll-up's
# results are derived (recomputed by every run) and not field-audited (docs/audit.md).
history_register(CostVersion, LabourRate, MachineRate, OverheadRate, PurchasePrice, LotPrice)
