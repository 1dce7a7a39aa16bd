"""Master data and resource state (ISA-95 role-based equipment hierarchy and resources).

Site → Area → WorkCenter (ISA-95 work center / work unit) → Equipment; calendars and
maintenance windows; items; stock locations, material lots, serial units and the stock
ledger; inbound purchase orders; operators and their skills and shifts.
"""

from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from core.history import history_register

from .engines.calendar import shift_length_minutes

QTY = {"max_digits": 18, "decimal_places": 4}
MONEY = {"max_digits": 14, "decimal_places": 4}


class Site(models.Model):
    """A plant: the ISA-95 site, with the time zone its shifts are written in."""

    code = models.CharField(max_length=32, unique=True, verbose_name=_("code"))
    name = models.CharField(max_length=200, verbose_name=_("name"))
    time_zone = models.CharField(
        max_length=64, default="Asia/Shanghai", verbose_name=_("time zone")
    )

    class Meta:
        verbose_name = _("site")
        verbose_name_plural = _("sites")
        ordering = ["code"]

    def __str__(self) -> str:
        return self.code


class Area(models.Model):
    """A production area or line inside a site (casting shop, machining hall, moulding line)."""

    site = models.ForeignKey(
        Site, on_delete=models.PROTECT, related_name="areas", verbose_name=_("site")
    )
    code = models.CharField(max_length=32, unique=True, verbose_name=_("code"))
    name = models.CharField(max_length=200, verbose_name=_("name"))

    class Meta:
        verbose_name = _("area")
        verbose_name_plural = _("areas")
        ordering = ["code"]

    def __str__(self) -> str:
        return self.code


class WorkCenter(models.Model):
    """A group of equipment that does one kind of operation; where capacity is planned."""

    area = models.ForeignKey(
        Area, on_delete=models.PROTECT, related_name="work_centers", verbose_name=_("area")
    )
    code = models.CharField(max_length=32, unique=True, verbose_name=_("code"))
    name = models.CharField(max_length=200, verbose_name=_("name"))
    labour_rate_per_hour = models.DecimalField(
        **MONEY, default=Decimal("0"), verbose_name=_("labour rate per hour")
    )
    machine_rate_per_hour = models.DecimalField(
        **MONEY, default=Decimal("0"), verbose_name=_("machine rate per hour")
    )
    # Used when no equipment is registered (a manual bench): how many can work at once.
    parallel_units = models.PositiveSmallIntegerField(default=1, verbose_name=_("parallel units"))
    supervisor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="supervised_work_centers",
        help_text=_("The production supervisor who answers this work center's urgent exceptions."),
        verbose_name=_("supervisor"),
    )
    service_accounts = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        blank=True,
        related_name="service_work_centers",
        limit_choices_to={"groups__name": "integration"},
        help_text=_(
            "Service accounts (machines, gateways) that report events on this work center's tasks."
        ),
        verbose_name=_("service accounts"),
    )
    issue_location = models.ForeignKey(
        "StockLocation",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text=_("Line-side location material is issued from (blank: any location)."),
        verbose_name=_("issue location"),
    )

    class Meta:
        verbose_name = _("work center")
        verbose_name_plural = _("work centers")
        ordering = ["code"]
        constraints = [
            models.CheckConstraint(
                condition=Q(labour_rate_per_hour__gte=0) & Q(machine_rate_per_hour__gte=0),
                name="workcenter_rates_nonnegative",
                violation_error_message=_(
                    "labour_rate_per_hour and machine_rate_per_hour must not be negative."
                ),
            ),
            models.CheckConstraint(
                condition=Q(parallel_units__gte=1),
                name="workcenter_units_gte_1",
                violation_error_message=_("parallel_units must be at least 1."),
            ),
        ]

    def __str__(self) -> str:
        return self.code


class Equipment(models.Model):
    """A machine or station on the floor (ISA-95 equipment unit), with its rated rate."""

    class Status(models.TextChoices):
        RUNNING = "running", pgettext_lazy("machine state", "Running")
        IDLE = "idle", _("Idle")
        FAULT = "fault", _("Fault")
        MAINTENANCE = "maintenance", _("Maintenance")
        DISCONNECTED = "disconnected", _("Disconnected")

    work_center = models.ForeignKey(
        WorkCenter,
        on_delete=models.PROTECT,
        related_name="equipment",
        verbose_name=_("work center"),
    )
    code = models.CharField(max_length=32, unique=True, verbose_name=_("code"))
    name = models.CharField(max_length=200, verbose_name=_("name"))
    model = models.CharField(max_length=100, blank=True, verbose_name=_("model"))
    rated_rate = models.DecimalField(
        **QTY,
        default=Decimal("0"),
        help_text=_("Rated output in units per hour."),
        verbose_name=_("rated rate"),
    )
    status = models.CharField(
        max_length=16, choices=Status.choices, default=Status.IDLE, verbose_name=_("status")
    )
    backup_equipment = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="backup_for",
        verbose_name=_("backup equipment"),
    )
    changeover_minutes = models.PositiveIntegerField(
        _("changeover minutes"),
        default=0,
        help_text=_(
            "Minutes to change over between operations of two different setup families "
            "(pairs that differ are listed below)."
        ),
    )

    class Meta:
        verbose_name = _("equipment")
        ordering = ["code"]
        verbose_name_plural = _("equipment")
        constraints = [
            models.CheckConstraint(
                condition=Q(changeover_minutes__gte=0),
                name="equipment_changeover_nonnegative",
                violation_error_message=_("changeover_minutes must not be negative."),
            ),
            models.CheckConstraint(
                condition=Q(rated_rate__gte=0),
                name="equipment_rate_nonnegative",
                violation_error_message=_("rated_rate must not be negative."),
            ),
            models.CheckConstraint(
                condition=~Q(backup_equipment=F("pk")),
                name="equipment_backup_not_self",
                violation_error_message=_("backup_equipment: equipment cannot back itself up."),
            ),
        ]

    def __str__(self) -> str:
        return self.code

    def clean(self) -> None:
        if self.backup_equipment_id and self.backup_equipment_id == self.pk:
            raise ValidationError({"backup_equipment": _("Equipment cannot back itself up.")})


class EquipmentChangeover(models.Model):
    """Minutes a machine needs to change over from one setup family to another, where they
    differ from its changeover_minutes (a heavier fixture one way round, say)."""

    equipment = models.ForeignKey(
        Equipment, on_delete=models.CASCADE, related_name="changeovers", verbose_name=_("equipment")
    )
    from_family = models.CharField(_("from family"), max_length=32)
    to_family = models.CharField(_("to family"), max_length=32)
    minutes = models.PositiveIntegerField(pgettext_lazy("changeover", "minutes"))

    class Meta:
        verbose_name = _("changeover")
        verbose_name_plural = _("changeovers")
        ordering = ["equipment__code", "from_family", "to_family"]
        constraints = [
            models.UniqueConstraint(
                fields=["equipment", "from_family", "to_family"],
                name="changeover_unique_pair",
                violation_error_message=_("This machine already has a changeover for this pair."),
            ),
            models.CheckConstraint(
                condition=~Q(from_family=F("to_family")),
                name="changeover_families_differ",
                violation_error_message=_("to_family must differ from from_family."),
            ),
            models.CheckConstraint(
                condition=Q(minutes__gte=0),
                name="changeover_minutes_nonnegative",
                violation_error_message=_("minutes must not be negative."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.equipment} {self.from_family} → {self.to_family}"

    def clean(self) -> None:
        if self.from_family and self.from_family == self.to_family:
            raise ValidationError(
                {"to_family": _("The family changed to must differ from the family changed from.")}
            )


class ShiftPattern(models.Model):
    """A recurring shift of a work center (e.g. early shift Mon–Fri 06:00–14:00).

    Times are plant-local. A shift whose end is not after its start runs past midnight and
    counts on the day it starts.
    """

    work_center = models.ForeignKey(
        WorkCenter, on_delete=models.CASCADE, related_name="shifts", verbose_name=_("work center")
    )
    name = models.CharField(max_length=64, verbose_name=_("name"))
    weekdays = models.CharField(
        max_length=13,
        default="1,2,3,4,5",
        help_text=_("ISO weekdays the shift runs on, comma-separated (1 = Monday … 7 = Sunday)."),
        verbose_name=_("weekdays"),
    )
    start_time = models.TimeField(verbose_name=_("start time"))
    end_time = models.TimeField(verbose_name=_("end time"))
    break_minutes = models.PositiveIntegerField(default=0, verbose_name=_("break minutes"))

    class Meta:
        verbose_name = _("shift pattern")
        verbose_name_plural = _("shift patterns")
        ordering = ["work_center__code", "start_time"]
        constraints = [
            models.UniqueConstraint(fields=["work_center", "name"], name="shift_unique_name"),
        ]

    def __str__(self) -> str:
        return f"{self.work_center} {self.name}"

    @property
    def weekday_set(self) -> set[int]:
        return {int(d) for d in self.weekdays.split(",") if d.strip()}

    def clean(self) -> None:
        try:
            days = self.weekday_set
        except ValueError:
            raise ValidationError(
                {"weekdays": _("Use ISO weekday numbers 1–7, comma-separated.")}
            ) from None
        if not days or not days <= set(range(1, 8)):
            raise ValidationError({"weekdays": _("Use ISO weekday numbers 1–7, comma-separated.")})
        if (
            self.start_time
            and self.end_time
            and self.break_minutes
            and self.break_minutes >= shift_length_minutes(self.start_time, self.end_time)
        ):
            raise ValidationError({"break_minutes": _("The break is as long as the shift.")})


class Holiday(models.Model):
    """A whole day the site does not work."""

    site = models.ForeignKey(
        Site, on_delete=models.CASCADE, related_name="holidays", verbose_name=_("site")
    )
    date = models.DateField(verbose_name=_("date"))
    name = models.CharField(max_length=100, verbose_name=_("name"))

    class Meta:
        verbose_name = _("holiday")
        verbose_name_plural = _("holidays")
        ordering = ["date"]
        constraints = [models.UniqueConstraint(fields=["site", "date"], name="holiday_unique_day")]

    def __str__(self) -> str:
        return f"{self.date} {self.name}"


class MaintenanceWindow(models.Model):
    """Planned downtime of one piece of equipment; not available for production."""

    equipment = models.ForeignKey(
        Equipment,
        on_delete=models.CASCADE,
        related_name="maintenance_windows",
        verbose_name=_("equipment"),
    )
    start = models.DateTimeField(verbose_name=pgettext_lazy("period", "start"))
    end = models.DateTimeField(verbose_name=_("end"))
    reason = models.CharField(max_length=200, blank=True, verbose_name=_("reason"))

    class Meta:
        verbose_name = _("maintenance window")
        verbose_name_plural = _("maintenance windows")
        ordering = ["start"]
        constraints = [
            models.CheckConstraint(
                condition=Q(end__gt=F("start")),
                name="maintenance_end_after_start",
                violation_error_message=_("end must be after start."),
            )
        ]

    def __str__(self) -> str:
        return f"{self.equipment} {self.start:%Y-%m-%d %H:%M}"

    def clean(self) -> None:
        if self.start and self.end and self.end <= self.start:
            raise ValidationError({"end": _("The window must end after it starts.")})


class Item(models.Model):
    """A material, part or product, with how it is planned, costed and traced."""

    class Source(models.TextChoices):
        MAKE = "make", _("Make")
        BUY = "buy", _("Buy")

    class Uom(models.TextChoices):
        PCS = "pcs", _("pieces")
        KG = "kg", _("kilograms")
        G = "g", _("grams")
        M = "m", _("metres")
        L = "l", _("litres")
        SET = "set", _("sets")

    class LotPolicy(models.TextChoices):
        LOT_FOR_LOT = "lot_for_lot", _("Lot-for-lot")
        FIXED = "fixed", _("Fixed quantity")
        MIN_MULTIPLE = "min_multiple", _("Minimum and multiple")

    class Tracking(models.TextChoices):
        NONE = "none", _("Not tracked")
        LOT = "lot", _("Lot-tracked")
        SERIAL = "serial", _("Serial-tracked")

    code = models.CharField(max_length=64, unique=True, verbose_name=_("code"))
    external_ref = models.CharField(
        max_length=100,
        null=True,
        blank=True,
        unique=True,
        help_text=_(
            "The item's id in the outside system that keeps it (an ERP's material "
            "number): a create naming it again changes the same item."
        ),
        verbose_name=_("external ref"),
    )
    name = models.CharField(max_length=200, verbose_name=_("name"))
    source = models.CharField(
        max_length=8, choices=Source.choices, default=Source.BUY, verbose_name=_("source")
    )
    uom = models.CharField(_("unit of measure"), max_length=8, choices=Uom.choices, default=Uom.PCS)
    standard_cost = models.DecimalField(
        **MONEY, default=Decimal("0"), verbose_name=_("standard cost")
    )
    lead_time_days = models.PositiveIntegerField(default=0, verbose_name=_("lead time days"))
    lot_policy = models.CharField(
        max_length=16,
        choices=LotPolicy.choices,
        default=LotPolicy.LOT_FOR_LOT,
        verbose_name=_("lot policy"),
    )
    lot_size = models.DecimalField(
        **QTY,
        default=Decimal("0"),
        help_text=_("Fixed quantity, or the minimum for min/multiple."),
        verbose_name=_("lot size"),
    )
    lot_multiple = models.DecimalField(**QTY, default=Decimal("0"), verbose_name=_("lot multiple"))
    safety_stock = models.DecimalField(**QTY, default=Decimal("0"), verbose_name=_("safety stock"))
    tracking = models.CharField(
        max_length=8, choices=Tracking.choices, default=Tracking.NONE, verbose_name=_("tracking")
    )
    # Deepest level at which the item appears in any BOM (0 = end item); MRP nets by it.
    low_level_code = models.PositiveSmallIntegerField(
        default=0, editable=False, verbose_name=_("low level code")
    )

    class Meta:
        verbose_name = _("item")
        verbose_name_plural = _("items")
        ordering = ["code"]
        constraints = [
            models.CheckConstraint(
                condition=Q(standard_cost__gte=0),
                name="item_standard_cost_nonnegative",
                violation_error_message=_("standard_cost must not be negative."),
            ),
            models.CheckConstraint(
                condition=Q(lot_size__gte=0) & Q(lot_multiple__gte=0) & Q(safety_stock__gte=0),
                name="item_lot_sizes_nonnegative",
                violation_error_message=_(
                    "lot_size, lot_multiple and safety_stock must not be negative."
                ),
            ),
            models.CheckConstraint(
                condition=~Q(lot_policy="fixed") | Q(lot_size__gt=0),
                name="item_fixed_lot_needs_size",
                violation_error_message=_(
                    "lot_size: a fixed lot policy needs a lot size above zero."
                ),
            ),
        ]

    def __str__(self) -> str:
        return self.code

    def clean(self) -> None:
        if self.lot_policy == self.LotPolicy.FIXED and not (self.lot_size and self.lot_size > 0):
            raise ValidationError(
                {"lot_size": _("A fixed lot policy needs a lot size above zero.")}
            )


class StockLocation(models.Model):
    """A place stock is kept: a warehouse bin, a line-side rack, a quarantine area."""

    site = models.ForeignKey(
        Site, on_delete=models.PROTECT, related_name="locations", verbose_name=_("site")
    )
    code = models.CharField(max_length=32, unique=True, verbose_name=_("code"))
    name = models.CharField(max_length=200, verbose_name=_("name"))

    class Meta:
        verbose_name = _("stock location")
        verbose_name_plural = _("stock locations")
        ordering = ["code"]

    def __str__(self) -> str:
        return self.code


class MaterialLot(models.Model):
    """A lot of material received or produced together; the identity a lot trace code names."""

    item = models.ForeignKey(
        Item, on_delete=models.PROTECT, related_name="lots", verbose_name=_("item")
    )
    code = models.CharField(max_length=64, verbose_name=_("code"))
    supplier_lot = models.CharField(max_length=64, blank=True, verbose_name=_("supplier lot"))
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))
    expires_on = models.DateField(null=True, blank=True, verbose_name=_("expires on"))

    class Meta:
        verbose_name = _("material lot")
        verbose_name_plural = _("material lots")
        ordering = ["item__code", "code"]
        constraints = [models.UniqueConstraint(fields=["item", "code"], name="lot_unique_per_item")]

    def __str__(self) -> str:
        return f"{self.item}/{self.code}"


class SerialUnit(models.Model):
    """One serial-tracked unit (an engine block); the identity a unit trace code names."""

    item = models.ForeignKey(
        Item, on_delete=models.PROTECT, related_name="serial_units", verbose_name=_("item")
    )
    serial = models.CharField(max_length=64, verbose_name=_("serial"))
    lot = models.ForeignKey(
        MaterialLot,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="units",
        verbose_name=_("lot"),
    )
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))

    class Meta:
        verbose_name = _("serial unit")
        verbose_name_plural = _("serial units")
        ordering = ["item__code", "serial"]
        constraints = [
            models.UniqueConstraint(fields=["item", "serial"], name="serial_unique_per_item")
        ]

    def __str__(self) -> str:
        return f"{self.item}#{self.serial}"


class StockMove(models.Model):
    """One line of the append-only stock ledger; a correction is a new reversing move."""

    class Kind(models.TextChoices):
        RECEIPT = "receipt", _("Receipt")
        ISSUE = "issue", _("Issue to production")
        PRODUCTION = "production", _("Receipt from production")
        TRANSFER = "transfer", _("Transfer")
        ADJUSTMENT = "adjustment", _("Adjustment")
        REVERSAL = "reversal", _("Reversal")

    item = models.ForeignKey(
        Item, on_delete=models.PROTECT, related_name="stock_moves", verbose_name=_("item")
    )
    location = models.ForeignKey(
        StockLocation, on_delete=models.PROTECT, related_name="moves", verbose_name=_("location")
    )
    lot = models.ForeignKey(
        MaterialLot,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="moves",
        verbose_name=_("lot"),
    )
    quantity = models.DecimalField(
        **QTY, help_text=_("Positive into the location, negative out."), verbose_name=_("quantity")
    )
    kind = models.CharField(max_length=16, choices=Kind.choices, verbose_name=_("kind"))
    reference = models.CharField(max_length=100, blank=True, verbose_name=_("reference"))
    external_id = models.CharField(
        max_length=100,
        null=True,
        blank=True,
        unique=True,
        help_text=_("Sender's id: a retry is a no-op."),
        verbose_name=_("external id"),
    )
    reverses = models.OneToOneField(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="reversed_by",
        verbose_name=_("reverses"),
    )
    created_at = models.DateTimeField(
        auto_now_add=True, db_index=True, verbose_name=_("created at")
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        verbose_name=_("created by"),
    )

    class Meta:
        verbose_name = _("stock move")
        verbose_name_plural = _("stock moves")
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(quantity=0),
                name="stockmove_nonzero",
                violation_error_message=_("quantity must not be zero."),
            )
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.quantity} {self.item} @ {self.location}"

    def save(self, *args, **kwargs):
        # The ledger is append-only: an existing row is never rewritten.
        if self.pk is not None and not self._state.adding:
            raise ValidationError(_("Stock moves are append-only; record a reversal instead."))
        super().save(*args, **kwargs)


class StockBalance(models.Model):
    """On-hand quantity per item, location and lot; kept in step with the ledger."""

    item = models.ForeignKey(
        Item, on_delete=models.PROTECT, related_name="balances", verbose_name=_("item")
    )
    location = models.ForeignKey(
        StockLocation, on_delete=models.PROTECT, related_name="balances", verbose_name=_("location")
    )
    lot = models.ForeignKey(
        MaterialLot,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="balances",
        verbose_name=_("lot"),
    )
    on_hand = models.DecimalField(**QTY, default=Decimal("0"), verbose_name=_("on hand"))

    class Meta:
        verbose_name = _("stock balance")
        verbose_name_plural = _("stock balances")
        ordering = ["item__code", "location__code"]
        constraints = [
            models.CheckConstraint(
                condition=Q(on_hand__gte=0),
                name="balance_not_negative",
                violation_error_message=_("on_hand must not go below zero."),
            ),
            # Two partial constraints because NULL lots are distinct in a plain unique index.
            models.UniqueConstraint(
                fields=["item", "location"],
                condition=Q(lot__isnull=True),
                name="balance_unique_no_lot",
            ),
            models.UniqueConstraint(
                fields=["item", "location", "lot"],
                condition=Q(lot__isnull=False),
                name="balance_unique_lot",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.item} @ {self.location}: {self.on_hand}"


class PurchaseOrder(models.Model):
    """An inbound order to a supplier; its open lines are scheduled receipts for MRP."""

    class Status(models.TextChoices):
        OPEN = "open", pgettext_lazy("purchase order status", "Open")
        RECEIVED = "received", _("Received")
        # Closed short by the buyer or the ERP: what is still open is no longer expected.
        CLOSED = "closed", _("Closed")
        CANCELLED = "cancelled", _("Cancelled")

    number = models.CharField(max_length=32, unique=True, verbose_name=_("number"))
    supplier = models.CharField(max_length=200, verbose_name=_("supplier"))
    status = models.CharField(
        max_length=16, choices=Status.choices, default=Status.OPEN, verbose_name=_("status")
    )
    external_ref = models.CharField(
        max_length=100,
        null=True,
        blank=True,
        unique=True,
        help_text=_(
            "The order's identifier in the ERP that sent it: a create or update naming "
            "it again changes the same order."
        ),
        verbose_name=_("external ref"),
    )
    confirmed_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text=_("When the supplier's confirmation was recorded."),
        verbose_name=_("confirmed at"),
    )
    confirmation_ref = models.CharField(
        max_length=100,
        blank=True,
        help_text=_("The supplier's confirmation number."),
        verbose_name=_("confirmation ref"),
    )
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))

    class Meta:
        verbose_name = _("purchase order")
        verbose_name_plural = _("purchase orders")
        ordering = ["-created_at", "number"]

    def __str__(self) -> str:
        return self.number


class PurchaseOrderLine(models.Model):
    """A quantity of one item expected from a supplier on a date."""

    order = models.ForeignKey(
        PurchaseOrder,
        on_delete=models.CASCADE,
        related_name="lines",
        verbose_name=pgettext_lazy("purchase", "order"),
    )
    line_no = models.PositiveIntegerField(verbose_name=_("line no"))
    item = models.ForeignKey(
        Item, on_delete=models.PROTECT, related_name="purchase_lines", verbose_name=_("item")
    )
    quantity = models.DecimalField(**QTY, verbose_name=_("quantity"))
    received_quantity = models.DecimalField(
        **QTY, default=Decimal("0"), verbose_name=_("received quantity")
    )
    expected_date = models.DateField(verbose_name=_("expected date"))
    lot_code = models.CharField(
        max_length=64,
        blank=True,
        help_text=_(
            "The supplier lot expected (blank: any lot; a new lot code is created on receipt)."
        ),
        verbose_name=_("lot code"),
    )

    class Meta:
        verbose_name = _("purchase order line")
        verbose_name_plural = _("purchase order lines")
        ordering = ["order", "line_no"]
        constraints = [
            models.UniqueConstraint(fields=["order", "line_no"], name="poline_unique_no"),
            models.CheckConstraint(
                condition=Q(quantity__gt=0),
                name="poline_qty_positive",
                violation_error_message=_("quantity must be above zero."),
            ),
            models.CheckConstraint(
                condition=Q(received_quantity__gte=0),
                name="poline_received_nonnegative",
                violation_error_message=_("received_quantity must not be negative."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.order}/{self.line_no} {self.item} × {self.quantity}"

    @property
    def open_quantity(self) -> Decimal:
        return max(self.quantity - self.received_quantity, Decimal("0"))


class Skill(models.Model):
    """A capability an operation can require (CNC machining, CMM measurement)."""

    code = models.CharField(max_length=32, unique=True, verbose_name=_("code"))
    name = models.CharField(max_length=200, verbose_name=_("name"))

    class Meta:
        verbose_name = _("skill")
        verbose_name_plural = _("skills")
        ordering = ["code"]

    def __str__(self) -> str:
        return self.code


class SkillLevel(models.IntegerChoices):
    TRAINEE = 1, _("Trainee")
    QUALIFIED = 2, _("Qualified")
    EXPERT = 3, _("Expert")


class Operator(models.Model):
    """A person who works on the floor, linked to a login."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="operator",
        verbose_name=_("user"),
    )
    badge = models.CharField(
        max_length=32,
        unique=True,
        help_text=_("Badge or employee number."),
        verbose_name=_("badge"),
    )
    name = models.CharField(max_length=200, verbose_name=_("name"))
    home_work_center = models.ForeignKey(
        WorkCenter,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="operators",
        verbose_name=_("home work center"),
    )
    active = models.BooleanField(default=True, verbose_name=_("active"))

    class Meta:
        verbose_name = _("operator")
        verbose_name_plural = _("operators")
        ordering = ["badge"]

    def __str__(self) -> str:
        return f"{self.badge} {self.name}"


class OperatorSkill(models.Model):
    """How well an operator masters a skill."""

    operator = models.ForeignKey(
        Operator, on_delete=models.CASCADE, related_name="skills", verbose_name=_("operator")
    )
    skill = models.ForeignKey(
        Skill, on_delete=models.PROTECT, related_name="operator_skills", verbose_name=_("skill")
    )
    level = models.PositiveSmallIntegerField(
        choices=SkillLevel.choices, default=SkillLevel.TRAINEE, verbose_name=_("level")
    )

    class Meta:
        verbose_name = _("operator skill")
        verbose_name_plural = _("operator skills")
        ordering = ["operator", "skill"]
        constraints = [
            models.UniqueConstraint(fields=["operator", "skill"], name="operator_skill_unique"),
            models.CheckConstraint(
                condition=Q(level__gte=1, level__lte=3),
                name="skill_level_1_3",
                violation_error_message=_(
                    "level must be 1 (trainee), 2 (qualified) or 3 (expert)."
                ),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.operator} {self.skill} ({self.get_level_display()})"


class ShiftAssignment(models.Model):
    """An operator working a shift pattern from one date (until another, if set)."""

    operator = models.ForeignKey(
        Operator,
        on_delete=models.CASCADE,
        related_name="shift_assignments",
        verbose_name=_("operator"),
    )
    shift = models.ForeignKey(
        ShiftPattern, on_delete=models.CASCADE, related_name="assignments", verbose_name=_("shift")
    )
    valid_from = models.DateField(verbose_name=_("valid from"))
    valid_to = models.DateField(null=True, blank=True, verbose_name=_("valid to"))

    class Meta:
        verbose_name = _("shift assignment")
        verbose_name_plural = _("shift assignments")
        ordering = ["operator", "valid_from"]
        constraints = [
            models.CheckConstraint(
                condition=Q(valid_to__isnull=True) | Q(valid_to__gte=F("valid_from")),
                name="shift_assignment_dates_ordered",
                violation_error_message=_("valid_to must not be before valid_from."),
            )
        ]

    def __str__(self) -> str:
        return f"{self.operator} → {self.shift} from {self.valid_from}"


# Field-level history (master data, stock (ledger, balances, lots, units) and purchasing): core/history.py; what is
# left out and why: docs/audit.md.
history_register(
    Site,
    Area,
    WorkCenter,
    Equipment,
    EquipmentChangeover,
    ShiftPattern,
    Holiday,
    MaintenanceWindow,
    Item,
    StockLocation,
    MaterialLot,
    SerialUnit,
    StockMove,
    StockBalance,
    PurchaseOrder,
    PurchaseOrderLine,
    Skill,
    Operator,
    OperatorSkill,
    ShiftAssignment,
)
