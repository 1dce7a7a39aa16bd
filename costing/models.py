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
from django.utils.text import format_lazy
from django.utils.translation import gettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from core.history import history_register
from core.lists import list_text_lazy
from core.texts import text_render, text_shown
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

    code = models.CharField(max_length=32, unique=True, verbose_name=_("code"))
    name = models.CharField(max_length=200, verbose_name=_("name"))
    effective_from = models.DateField(
        help_text=_(
            "The day the set applies from; BOMs and routings in effect that day are costed."
        ),
        verbose_name=_("effective from"),
    )
    is_current = models.BooleanField(
        default=False,
        editable=False,
        help_text=_("The set standard costs are read from; changed only by 'make current'."),
        verbose_name=_("is current"),
    )
    note = models.CharField(max_length=300, blank=True, verbose_name=_("note"))
    variance_threshold_pct = models.DecimalField(
        _("variance threshold %"),
        max_digits=6,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(0)],
        help_text=_(
            "A variance this far (in % of its standard) from the standard is flagged; "
            "blank: the COSTING_VARIANCE_THRESHOLD_PCT setting."
        ),
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
                violation_error_message=_("Only one cost version may be current."),
            )
        ]

    def __str__(self) -> str:
        return self.code


def _nonnegative(*fields: str, name: str) -> models.CheckConstraint:
    condition = Q()
    for field in fields:
        condition &= Q(**{f"{field}__gte": 0})
    # The message stays lazy (read in the reader's language when a save is refused), and so
    # does the list of field names, joined with the language's separator.
    return models.CheckConstraint(
        condition=condition,
        name=name,
        violation_error_message=format_lazy(
            _("{fields} must not be negative."), fields=list_text_lazy(fields)
        ),
    )


class LabourRate(models.Model):
    """What an hour of labour costs in a version: for a skill at a level, or at a work center.

    An operation that requires a skill is costed at that skill's rate for the step's minimum
    level; without one (or with no rate for it), at its work center's rate."""

    version = models.ForeignKey(
        CostVersion,
        on_delete=models.CASCADE,
        related_name="labour_rates",
        verbose_name=_("version"),
    )
    work_center = models.ForeignKey(
        WorkCenter,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("work center"),
    )
    skill = models.ForeignKey(
        Skill,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("skill"),
    )
    skill_level = models.PositiveSmallIntegerField(
        choices=SkillLevel.choices, null=True, blank=True, verbose_name=_("skill level")
    )
    rate_per_hour = models.DecimalField(**MONEY, verbose_name=_("rate per hour"))

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
                violation_error_message=_("Give either a work center, or a skill with its level."),
            ),
            models.UniqueConstraint(
                fields=["version", "work_center"],
                condition=Q(work_center__isnull=False),
                name="labourrate_unique_work_center",
                violation_error_message=_("This version already has a rate for this work center."),
            ),
            models.UniqueConstraint(
                fields=["version", "skill", "skill_level"],
                condition=Q(skill__isnull=False),
                name="labourrate_unique_skill_level",
                violation_error_message=_("This version already has a rate for this skill level."),
            ),
            _nonnegative("rate_per_hour", name="labourrate_nonnegative"),
        ]

    def __str__(self) -> str:
        target = self.work_center or f"{self.skill} L{self.skill_level}"
        return f"{self.version} labour {target}: {self.rate_per_hour}/h"

    def clean(self) -> None:
        if self.work_center_id and (self.skill_id or self.skill_level):
            raise ValidationError({"skill": gettext("Give a work center or a skill, not both.")})
        if not self.work_center_id and not self.skill_id:
            raise ValidationError(
                {"work_center": gettext("Give a work center or a skill with its level.")}
            )
        if self.skill_id and not self.skill_level:
            raise ValidationError(
                {"skill_level": gettext("A skill rate needs the skill level it pays.")}
            )


class MachineRate(models.Model):
    """What an hour of a machine costs in a version: depreciation, energy and maintenance."""

    version = models.ForeignKey(
        CostVersion,
        on_delete=models.CASCADE,
        related_name="machine_rates",
        verbose_name=_("version"),
    )
    equipment = models.ForeignKey(
        Equipment, on_delete=models.PROTECT, related_name="+", verbose_name=_("equipment")
    )
    depreciation_per_hour = models.DecimalField(
        **MONEY, default=Decimal("0"), verbose_name=_("depreciation per hour")
    )
    energy_per_hour = models.DecimalField(
        **MONEY, default=Decimal("0"), verbose_name=_("energy per hour")
    )
    maintenance_per_hour = models.DecimalField(
        **MONEY, default=Decimal("0"), verbose_name=_("maintenance per hour")
    )

    class Meta:
        verbose_name = _("machine rate")
        verbose_name_plural = _("machine rates")
        ordering = ["version", "equipment__code"]
        constraints = [
            models.UniqueConstraint(
                fields=["version", "equipment"],
                name="machinerate_unique_equipment",
                violation_error_message=_("This version already has a rate for this machine."),
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
        CostVersion,
        on_delete=models.CASCADE,
        related_name="overhead_rates",
        verbose_name=_("version"),
    )
    work_center = models.ForeignKey(
        WorkCenter, on_delete=models.PROTECT, related_name="+", verbose_name=_("work center")
    )
    basis = models.CharField(
        max_length=16, choices=Basis.choices, default=Basis.PER_HOUR, verbose_name=_("basis")
    )
    rate = models.DecimalField(
        **MONEY,
        help_text=_("Money per hour, or a percentage (25 = 25 %) by the basis."),
        verbose_name=_("rate"),
    )

    class Meta:
        verbose_name = _("overhead rate")
        verbose_name_plural = _("overhead rates")
        ordering = ["version", "work_center__code"]
        constraints = [
            models.UniqueConstraint(
                fields=["version", "work_center"],
                name="overheadrate_unique_work_center",
                violation_error_message=_(
                    "This version already has an overhead for this work center."
                ),
            ),
            _nonnegative("rate", name="overheadrate_nonnegative"),
        ]

    def __str__(self) -> str:
        unit = "%" if self.basis == self.Basis.PERCENT else "/h"
        return f"{self.version} overhead {self.work_center}: {self.rate}{unit}"


class PurchasePrice(models.Model):
    """The standard price of a bought item in a version, per unit of the item's measure."""

    version = models.ForeignKey(
        CostVersion,
        on_delete=models.CASCADE,
        related_name="purchase_prices",
        verbose_name=_("version"),
    )
    item = models.ForeignKey(
        Item, on_delete=models.PROTECT, related_name="+", verbose_name=_("item")
    )
    price = models.DecimalField(**MONEY, verbose_name=_("price"))

    class Meta:
        verbose_name = _("purchase price")
        verbose_name_plural = _("purchase prices")
        ordering = ["version", "item__code"]
        constraints = [
            models.UniqueConstraint(
                fields=["version", "item"],
                name="purchaseprice_unique_item",
                violation_error_message=_("This version already has a price for this item."),
            ),
            _nonnegative("price", name="purchaseprice_nonnegative"),
        ]

    def __str__(self) -> str:
        return f"{self.version} {self.item}: {self.price}"

    def clean(self) -> None:
        if self.item_id and self.item.source != Item.Source.BUY:
            raise ValidationError(
                {
                    "item": gettext("%(item)s is made, not bought: its cost is rolled up.")
                    % {"item": self.item.code}
                }
            )


# --- the roll-up's results ------------------------------------------------------------------

# A roll-up's problems (CostRollupRun.problems, ItemCost.problems) are a JSON list whose
# entries are either {"text": English, "id": message id, "params": {...}} (a stored text,
# costing/engines/texts.py `problem`), shown in the reader's language, or a plain string,
# written before problems had message ids, shown as stored.


def problem_shown(entry) -> str:
    """A stored problem in the reader's language (as stored: a plain string)."""
    if isinstance(entry, dict):
        params = entry.get("params")
        return text_shown(
            str(entry.get("id") or ""),
            params if isinstance(params, dict) else {},
            str(entry.get("text") or ""),
        )
    return str(entry)


def problem_reason(entry, item_code: str) -> str:
    """A stored problem without the item it is about ("EB-500: "), for a page that names the
    item once before its problems; an operation's problem is shown whole."""
    if isinstance(entry, dict):
        params = entry.get("params")
        nested = params.get("problem") if isinstance(params, dict) else None
        if entry.get("id") and isinstance(nested, dict) and params.get("item") == item_code:
            inner = nested.get("params")
            return text_render(str(nested.get("text") or ""), inner)
        return problem_shown(entry)
    return str(entry).removeprefix(f"{item_code}: ")


def problem_detail(entry) -> dict:
    """A stored problem as the API details it: its English, message id and parameters (blank
    for a problem stored as a plain string)."""
    if isinstance(entry, dict):
        params = entry.get("params")
        return {
            "text": str(entry.get("text") or ""),
            "id": str(entry.get("id") or ""),
            "params": params if isinstance(params, dict) else {},
        }
    return {"text": str(entry), "id": "", "params": {}}


class CostRollupRun(models.Model):
    """One standard cost roll-up of a version: when, by whom, what it found missing."""

    version = models.ForeignKey(
        CostVersion, on_delete=models.CASCADE, related_name="rollups", verbose_name=_("version")
    )
    started_at = models.DateTimeField(verbose_name=_("started at"))
    finished_at = models.DateTimeField(null=True, blank=True, verbose_name=_("finished at"))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("created by"),
    )
    items_costed = models.PositiveIntegerField(default=0, verbose_name=_("items costed"))
    items_incomplete = models.PositiveIntegerField(default=0, verbose_name=_("items incomplete"))
    problems = models.JSONField(
        default=list,
        blank=True,
        db_default=models.Value([], output_field=models.JSONField()),
        help_text=_("What is missing, one sentence each, naming the item, operation and rate."),
        verbose_name=_("problems"),
    )

    class Meta:
        verbose_name_plural = _("cost roll-ups")
        ordering = ["-started_at", "-pk"]
        verbose_name = _("cost roll-up")

    def __str__(self) -> str:
        return f"Roll-up of {self.version} at {self.started_at:%Y-%m-%d %H:%M}"

    @property
    def problems_shown(self) -> list[str]:
        """The problems in the reader's language (a plain string: as stored)."""
        return [problem_shown(p) for p in self.problems or []]

    @property
    def problems_detail(self) -> list[dict]:
        """The problems' English, message ids and parameters (for the API)."""
        return [problem_detail(p) for p in self.problems or []]


class ItemCost(models.Model):
    """An item's standard unit cost in a version, by element (the roll-up's result)."""

    version = models.ForeignKey(
        CostVersion, on_delete=models.CASCADE, related_name="item_costs", verbose_name=_("version")
    )
    item = models.ForeignKey(
        Item, on_delete=models.CASCADE, related_name="standard_costs", verbose_name=_("item")
    )
    rollup = models.ForeignKey(
        CostRollupRun,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("rollup"),
    )
    lot_size = models.DecimalField(
        max_digits=18,
        decimal_places=4,
        help_text=_("The lot its setup times are spread over."),
        verbose_name=_("lot size"),
    )
    material = models.DecimalField(**MONEY, verbose_name=_("material"))
    labour = models.DecimalField(**MONEY, verbose_name=_("labour"))
    machine = models.DecimalField(**MONEY, verbose_name=_("machine"))
    overhead = models.DecimalField(**MONEY, verbose_name=_("overhead"))
    total = models.DecimalField(**MONEY, verbose_name=_("total"))
    complete = models.BooleanField(
        help_text=_("False: a rate or price is missing (see problems); the total is not usable."),
        verbose_name=pgettext_lazy("cost", "complete"),
    )
    problems = models.JSONField(
        default=list,
        blank=True,
        db_default=models.Value([], output_field=models.JSONField()),
        verbose_name=_("problems"),
    )
    digest = models.CharField(
        max_length=64,
        blank=True,
        default="",
        help_text=_(
            "SHA-256 of the figures and breakdown lines stored: a re-run rewrites only "
            "the items whose result changed."
        ),
        verbose_name=_("digest"),
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

    @property
    def problems_shown(self) -> list[str]:
        """The problems in the reader's language (a plain string: as stored)."""
        return [problem_shown(p) for p in self.problems or []]

    @property
    def problems_detail(self) -> list[dict]:
        """The problems' English, message ids and parameters (for the API)."""
        return [problem_detail(p) for p in self.problems or []]


class ItemCostLine(models.Model):
    """One traceable figure of an item's standard cost: a component's material, or one
    operation's labour, machine or overhead, with the quantity and rate behind it."""

    class Element(models.TextChoices):
        MATERIAL = "material", pgettext_lazy("cost element", "Material")
        LABOUR = "labour", _("Labour")
        MACHINE = "machine", _("Machine")
        OVERHEAD = "overhead", _("Overhead")

    item_cost = models.ForeignKey(
        ItemCost, on_delete=models.CASCADE, related_name="lines", verbose_name=_("item cost")
    )
    line_no = models.PositiveIntegerField(verbose_name=_("line no"))
    element = models.CharField(max_length=16, choices=Element.choices, verbose_name=_("element"))
    component = models.ForeignKey(
        Item,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name=_("component"),
    )
    bom_line_no = models.PositiveIntegerField(null=True, blank=True, verbose_name=_("bom line no"))
    step_no = models.PositiveIntegerField(null=True, blank=True, verbose_name=_("step no"))
    operation = models.CharField(max_length=100, blank=True, verbose_name=_("operation"))
    work_center = models.ForeignKey(
        WorkCenter,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name=_("work center"),
    )
    equipment = models.ForeignKey(
        Equipment,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name=_("equipment"),
    )
    skill = models.ForeignKey(
        Skill,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name=_("skill"),
    )
    quantity = models.DecimalField(
        **PER_UNIT,
        help_text=_(
            "Per unit of the item: component quantity after scrap, or hours after "
            "spreading the setup; for a percentage overhead the labour + machine it applies to."
        ),
        verbose_name=_("quantity"),
    )
    rate = models.DecimalField(
        **MONEY,
        help_text=_("Component unit cost, price, rate per hour, or percentage."),
        verbose_name=_("rate"),
    )
    amount = models.DecimalField(**MONEY, verbose_name=_("amount"))
    basis = models.CharField(
        max_length=300,
        help_text=_("How the figure was reached, in words."),
        verbose_name=_("basis"),
    )
    # The basis as message id and parameters, shown in the reader's language (core/texts.py);
    # blank on rows written before: `basis` is shown as stored.
    basis_id = models.CharField(max_length=300, blank=True, default="", verbose_name=_("basis id"))
    basis_params = models.JSONField(default=dict, blank=True, verbose_name=_("basis params"))

    class Meta:
        verbose_name = _("item cost line")
        verbose_name_plural = _("item cost lines")
        ordering = ["item_cost", "line_no"]
        constraints = [
            models.UniqueConstraint(fields=["item_cost", "line_no"], name="itemcostline_unique_no")
        ]

    def __str__(self) -> str:
        return f"{self.item_cost} #{self.line_no} {self.element}: {self.amount}"

    @property
    def basis_shown(self) -> str:
        """The basis in the reader's language (core/texts.py)."""
        return text_shown(self.basis_id, self.basis_params, self.basis)


class LotPrice(models.Model):
    """What a material lot actually cost per unit (the supplier's invoice): material issued
    from the lot is costed at it instead of the version's standard price."""

    lot = models.OneToOneField(
        MaterialLot, on_delete=models.PROTECT, related_name="+", verbose_name=_("lot")
    )
    price = models.DecimalField(**MONEY, verbose_name=_("price"))
    note = models.CharField(max_length=200, blank=True, verbose_name=_("note"))

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
        help_text=_(
            "issue:<id>, labour:<booking>:<revision>, machine:<event>, scrap:<event>, "
            "overhead:<key of the posting it is charged on>."
        ),
        verbose_name=_("source key"),
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
        verbose_name=_("order"),
    )
    operation = models.ForeignKey(
        OrderOperation,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        **HOT,
        verbose_name=_("operation"),
    )
    step_no = models.PositiveIntegerField(null=True, blank=True, verbose_name=_("step no"))
    element = models.CharField(max_length=16, choices=Element.choices, verbose_name=_("element"))
    item = models.ForeignKey(
        Item,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        **HOT,
        help_text=_("The component issued (material), or the product scrapped (scrap)."),
        verbose_name=_("item"),
    )
    lot = models.ForeignKey(
        MaterialLot,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        **HOT,
        verbose_name=_("lot"),
    )
    work_center = models.ForeignKey(
        WorkCenter,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        **HOT,
        verbose_name=_("work center"),
    )
    equipment = models.ForeignKey(
        Equipment,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        **HOT,
        verbose_name=_("equipment"),
    )
    operator = models.ForeignKey(
        Operator,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        **HOT,
        verbose_name=_("operator"),
    )
    quantity = models.DecimalField(
        **PER_UNIT,
        help_text=_("Quantity issued or scrapped, or hours (labour, machine)."),
        verbose_name=_("quantity"),
    )
    rate = models.DecimalField(
        **MONEY,
        help_text=_("Price per unit, rate per hour, or overhead rate / percentage."),
        verbose_name=_("rate"),
    )
    amount = models.DecimalField(**MONEY, verbose_name=_("amount"))
    version = models.ForeignKey(
        CostVersion, on_delete=models.PROTECT, related_name="+", **HOT, verbose_name=_("version")
    )
    posted_at = models.DateTimeField(verbose_name=_("posted at"))
    period = models.DateField(
        help_text=_("The month it was posted in (first day), in the plant's time zone."),
        verbose_name=_("period"),
    )
    late = models.BooleanField(
        default=False,
        help_text=_(
            "Arrived after the order was completed: in its period's figures, not in "
            "the order's frozen cost."
        ),
        verbose_name=pgettext_lazy("posting", "late"),
    )
    material_issue = models.ForeignKey(
        MaterialIssue,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        **HOT,
        verbose_name=_("material issue"),
    )
    labour_booking = models.ForeignKey(  # indexed: a correction reads what was posted
        LabourBooking,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_constraint=False,
        verbose_name=_("labour booking"),
    )
    production_event = models.ForeignKey(
        ProductionEvent,
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        related_name="+",
        db_index=False,
        db_constraint=False,
        verbose_name=_("production event"),
    )
    basis = models.CharField(
        max_length=300,
        help_text=_("How the figure was reached, in words."),
        verbose_name=_("basis"),
    )
    # The basis as message id and parameters, shown in the reader's language (core/texts.py);
    # blank on rows written before: `basis` is shown as stored.
    basis_id = models.CharField(max_length=300, blank=True, default="", verbose_name=_("basis id"))
    basis_params = models.JSONField(default=dict, blank=True, verbose_name=_("basis params"))

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

    @property
    def basis_shown(self) -> str:
        """The basis in the reader's language (core/texts.py)."""
        return text_shown(self.basis_id, self.basis_params, self.basis)


class TrainingNeed(models.Model):
    """A need for training raised from a flagged variance (e.g. slow work on an operation),
    sent to the plant manager's inbox; one per order, operation and cause."""

    order = models.ForeignKey(
        ProductionOrder, on_delete=models.PROTECT, related_name="+", verbose_name=_("order")
    )
    step_no = models.PositiveIntegerField(verbose_name=_("step no"))
    cause = models.CharField(
        max_length=40, help_text=_("The variance kind that raised it."), verbose_name=_("cause")
    )
    text = models.CharField(max_length=300, verbose_name=_("text"))
    text_id = models.CharField(
        max_length=300, blank=True, default="", verbose_name=_("text id")
    )  # core/texts.py
    text_params = models.JSONField(default=dict, blank=True, verbose_name=_("text params"))
    operators = models.ManyToManyField(
        Operator, blank=True, related_name="+", verbose_name=_("operators")
    )
    raised_at = models.DateTimeField(verbose_name=_("raised at"))
    raised_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("raised by"),
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
