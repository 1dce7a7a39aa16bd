"""Machine data: the device map (endpoints and signals), telemetry, counters, state intervals.

The device map says which OPC UA server or Modbus device serves which equipment and where
each signal lives; it is loaded from a file (`manage.py devices_load`) or edited in the admin.
The gateway reads the machines and hands samples to `devices.services`, which writes the
append-only telemetry, moves counters, opens and closes state intervals and reports states,
counts and faults to resources and execution through their services.
"""

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext, gettext_noop, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from core.history import history_register
from resources.models import Equipment

from .engines.devicemap import BIT_TABLES, PROTOCOLS, STATES, TABLES, TYPES, WORD_ORDERS


class Endpoint(models.Model):
    """One connection to the floor: an OPC UA server or a Modbus TCP device (ISA-95 data source)."""

    class Protocol(models.TextChoices):
        OPCUA = "opcua", _("OPC UA")
        MODBUS = "modbus", _("Modbus TCP")

    name = models.CharField(max_length=64, unique=True, verbose_name=_("name"))
    protocol = models.CharField(max_length=8, choices=Protocol.choices, verbose_name=_("protocol"))
    url = models.CharField(_("OPC UA address"), max_length=255, blank=True)
    host = models.CharField(_("Modbus host"), max_length=255, blank=True)
    port = models.PositiveIntegerField(null=True, blank=True, verbose_name=_("port"))
    security = models.JSONField(
        default=dict,
        blank=True,
        help_text=_(
            'OPC UA security: {"policy": "Basic256Sha256", "mode": "SignAndEncrypt", '
            '"certificate": "…", "private_key": "…", "server_certificate": "…"} (docs/devices.md).'
        ),
        verbose_name=_("security"),
    )
    publishing_ms = models.PositiveIntegerField(
        default=500, help_text=_("OPC UA publishing interval."), verbose_name=_("publishing ms")
    )
    poll_ms = models.PositiveIntegerField(
        default=1000, help_text=_("Polling interval."), verbose_name=_("poll ms")
    )
    timeout_ms = models.PositiveIntegerField(default=3000, verbose_name=_("timeout ms"))
    enabled = models.BooleanField(default=True, verbose_name=_("enabled"))
    loaded_at = models.DateTimeField(
        null=True, blank=True, help_text=_("When the map last set it."), verbose_name=_("loaded at")
    )

    class Meta:
        verbose_name = _("endpoint")
        verbose_name_plural = _("endpoints")
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(protocol__in=PROTOCOLS), name="endpoint_protocol_known"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class EquipmentLink(models.Model):
    """A machine served by an endpoint, with its Modbus unit id and its connection state."""

    endpoint = models.ForeignKey(
        Endpoint, on_delete=models.CASCADE, related_name="links", verbose_name=_("endpoint")
    )
    equipment = models.OneToOneField(
        Equipment, on_delete=models.CASCADE, related_name="device_link", verbose_name=_("equipment")
    )
    unit = models.PositiveSmallIntegerField(_("Modbus unit id"), null=True, blank=True)
    connected = models.BooleanField(default=False, verbose_name=_("connected"))
    last_seen_at = models.DateTimeField(null=True, blank=True, verbose_name=_("last seen at"))
    since = models.DateTimeField(
        null=True,
        blank=True,
        help_text=_("When the map first linked it: counted totals start here."),
        verbose_name=_("since"),
    )
    # The live inputs of its state, as the last samples gave them (devices/services/states.py):
    # the state signal's mapped state and the fault bit. The open StateInterval is their result.
    machine_state = models.CharField(max_length=16, blank=True, verbose_name=_("machine state"))
    fault_on = models.BooleanField(default=False, verbose_name=_("fault on"))

    class Meta:
        verbose_name = _("equipment link")
        verbose_name_plural = _("equipment links")
        ordering = ["equipment__code"]

    def __str__(self) -> str:
        return f"{self.equipment.code} @ {self.endpoint.name}"


# The Modbus words as a person reads them; the stored values are the device map's codes.
TABLE_LABELS = {
    "holding": _("holding register"),
    "input": _("input register"),
    "coil": _("coil"),
    "discrete": _("discrete input"),
}
TYPE_LABELS = {
    "uint16": _("uint16 (16-bit unsigned)"),
    "int16": _("int16 (16-bit signed)"),
    "uint32": _("uint32 (32-bit unsigned)"),
    "int32": _("int32 (32-bit signed)"),
    "float32": _("float32 (32-bit floating point)"),
}
WORD_ORDER_LABELS = {
    "big": _("big-endian (high word first)"),
    "little": _("little-endian (low word first)"),
}


class Signal(models.Model):
    """One value of a machine: an OPC UA node or a Modbus register or bit."""

    link = models.ForeignKey(
        EquipmentLink, on_delete=models.CASCADE, related_name="signals", verbose_name=_("link")
    )
    name = models.CharField(
        max_length=64,
        help_text=_("state, part_count, good_count, … or any name."),
        verbose_name=_("name"),
    )
    node = models.CharField(_("OPC UA node id"), max_length=255, blank=True)
    table = models.CharField(
        max_length=8,
        blank=True,
        choices=[(t, TABLE_LABELS[t]) for t in TABLES],
        help_text=_("Modbus table."),
        verbose_name=_("table"),
    )
    address = models.PositiveIntegerField(null=True, blank=True, verbose_name=_("address"))
    data_type = models.CharField(
        max_length=8,
        blank=True,
        choices=[(t, TYPE_LABELS[t]) for t in TYPES],
        verbose_name=_("data type"),
    )
    word_order = models.CharField(
        max_length=6,
        default="big",
        choices=[(w, WORD_ORDER_LABELS[w]) for w in WORD_ORDERS],
        verbose_name=_("word order"),
    )
    scale = models.FloatField(default=1.0, verbose_name=_("scale"))
    offset = models.FloatField(default=0.0, verbose_name=_("offset"))
    state_map = models.JSONField(
        default=dict, blank=True, help_text=_("Raw value → state."), verbose_name=_("state map")
    )

    class Meta:
        verbose_name = _("signal")
        verbose_name_plural = _("signals")
        ordering = ["link", "name"]
        constraints = [
            models.UniqueConstraint(fields=["link", "name"], name="signal_unique_name"),
            models.CheckConstraint(
                condition=~Q(node="") | (~Q(table="") & Q(address__isnull=False)),
                name="signal_has_address",
                violation_error_message=_(
                    "A signal names an OPC UA node or a Modbus table and address."
                ),
            ),
            models.CheckConstraint(
                condition=Q(table__in=BIT_TABLES, data_type="") | ~Q(table__in=BIT_TABLES),
                name="signal_bit_untyped",
                violation_error_message=_("A coil or discrete input is one bit: it has no type."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.link.equipment.code}.{self.name}"


class Telemetry(models.Model):
    """One sample of one signal (append-only; on PostgreSQL a table partitioned by day).

    `value` is the engineering value (raw × scale + offset; a state's raw code; 1/0 for bits).
    """

    equipment = models.ForeignKey(
        Equipment, on_delete=models.DO_NOTHING, db_constraint=False, verbose_name=_("equipment")
    )
    signal = models.CharField(max_length=64, verbose_name=_("signal"))
    value = models.FloatField(verbose_name=_("value"))
    at = models.DateTimeField(verbose_name=_("at"))

    class Meta:
        verbose_name = _("telemetry")
        verbose_name_plural = _("telemetry")
        indexes = [models.Index(fields=["equipment", "signal", "at"], name="telemetry_eq_sig_at")]

    def __str__(self) -> str:
        return f"{self.signal}={self.value} @ {self.at:%Y-%m-%d %H:%M:%S}"


class TelemetryHourly(models.Model):
    """An hour of one signal, kept after the raw samples are dropped (min, max, mean, last)."""

    equipment = models.ForeignKey(Equipment, on_delete=models.CASCADE, verbose_name=_("equipment"))
    signal = models.CharField(max_length=64, verbose_name=_("signal"))
    hour = models.DateTimeField(verbose_name=_("hour"))
    samples = models.PositiveIntegerField(default=0, verbose_name=_("samples"))
    minimum = models.FloatField(null=True, verbose_name=_("minimum"))
    maximum = models.FloatField(null=True, verbose_name=_("maximum"))
    total = models.FloatField(
        default=0.0, help_text=_("Sum of the values, for the mean."), verbose_name=_("total")
    )
    last = models.FloatField(null=True, verbose_name=_("last"))

    class Meta:
        verbose_name = _("hourly telemetry")
        verbose_name_plural = _("hourly telemetry")
        ordering = ["equipment", "signal", "hour"]
        constraints = [
            models.UniqueConstraint(
                fields=["equipment", "signal", "hour"], name="telemetryhourly_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.signal} {self.hour:%Y-%m-%d %H}:00"


class Counter(models.Model):
    """A machine's part or good counter as ClosedLoop follows it: last raw value and total since
    the map linked the machine, through resets and wrap-around."""

    equipment = models.ForeignKey(
        Equipment, on_delete=models.CASCADE, related_name="counters", verbose_name=_("equipment")
    )
    signal = models.CharField(max_length=64, verbose_name=_("signal"))
    last_raw = models.BigIntegerField(null=True, blank=True, verbose_name=_("last raw"))
    last_at = models.DateTimeField(null=True, blank=True, verbose_name=_("last at"))
    total = models.BigIntegerField(default=0, verbose_name=_("total"))
    # Of `total`, what has been dealt with: posted to the shop floor as production (counted
    # steps), or counted while no counted step ran (never posted).
    posted = models.BigIntegerField(default=0, verbose_name=_("posted"))
    wraps = models.PositiveIntegerField(default=0, verbose_name=_("wraps"))
    resets = models.PositiveIntegerField(default=0, verbose_name=_("resets"))

    class Meta:
        verbose_name = _("counter")
        verbose_name_plural = _("counters")
        ordering = ["equipment", "signal"]
        constraints = [
            models.UniqueConstraint(fields=["equipment", "signal"], name="counter_unique")
        ]

    def __str__(self) -> str:
        return f"{self.equipment.code}.{self.signal} = {self.total}"


class ProductionCount(models.Model):
    """Parts a machine counted between two reads (append-only): total, good, and the operation
    it was running, so OEE knows the ideal cycle and the floor knows what was posted."""

    equipment = models.ForeignKey(
        Equipment, on_delete=models.CASCADE, related_name="counts", verbose_name=_("equipment")
    )
    at = models.DateTimeField(verbose_name=_("at"))
    total = models.PositiveIntegerField(default=0, verbose_name=_("total"))
    good = models.PositiveIntegerField(
        null=True, blank=True, help_text=_("Blank: no good counter."), verbose_name=_("good")
    )
    operation_id = models.BigIntegerField(
        null=True,
        blank=True,
        help_text=_("The order operation running on the machine, if any."),
        verbose_name=_("operation id"),
    )
    ideal_cycle_seconds = models.FloatField(
        null=True, blank=True, verbose_name=_("ideal cycle seconds")
    )

    class Meta:
        verbose_name = _("production count")
        verbose_name_plural = _("production counts")
        ordering = ["equipment", "at"]
        indexes = [
            models.Index(fields=["equipment", "at"], name="count_eq_at"),
            # The reads with rejects (about 2 % of them), which OEE reads one by one while it
            # reads the rest as hourly sums (devices.selectors.oee.counts_load): without it
            # that query scans every read of the period. The other columns are in the key so
            # that it answers from the index alone (SQLite has no INCLUDE).
            models.Index(
                fields=["equipment", "at", "total", "good", "ideal_cycle_seconds"],
                condition=Q(good__lt=F("total")),
                name="count_eq_at_rejects",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.equipment.code} +{self.total} @ {self.at:%Y-%m-%d %H:%M:%S}"


class CountHour(models.Model):
    """The part counts of one machine summed per hour, kept by the count writer with every
    ProductionCount row, so that OEE over a month of a plant reads one row per machine and
    hour instead of one per read (devices.selectors.oee.counts_load).

    The hour is (hour, hour + 1 h] in UTC: a read covers the time before it, so a read at
    08:00:00 belongs to 07:00–08:00. Only reads without rejects are summed (a read with
    rejects is read on its own, since start-up and production rejects depend on its
    instant), apart per whether the read knew its ideal cycle (`rated`)."""

    equipment = models.ForeignKey(
        Equipment, on_delete=models.CASCADE, related_name="count_hours", verbose_name=_("equipment")
    )
    hour = models.DateTimeField(
        help_text=_("The instant the hour begins (UTC)."), verbose_name=_("hour")
    )
    rated = models.BooleanField(
        help_text=_("The reads summed here know their ideal cycle."), verbose_name=_("rated")
    )
    parts = models.PositiveBigIntegerField(default=0, verbose_name=_("parts"))
    ideal_seconds = models.FloatField(
        default=0, help_text=_("Sum of parts × ideal cycle."), verbose_name=_("ideal seconds")
    )
    last_at = models.DateTimeField(
        help_text=_("The last read summed here."), verbose_name=_("last at")
    )

    class Meta:
        verbose_name = _("count hour")
        verbose_name_plural = _("count hours")
        ordering = ["equipment", "hour"]
        constraints = [
            models.UniqueConstraint(fields=["equipment", "hour", "rated"], name="count_hour_uniq")
        ]

    def __str__(self) -> str:
        return f"{self.equipment.code} {self.hour:%Y-%m-%d %H}:00 +{self.parts}"


# The reasons every plant starts with (devices/migrations/0003), for the catalogues: a seeded
# name reads in each reader's language until the plant renames the reason.
SEEDED_REASON_NAMES = frozenset(
    {
        gettext_noop("Mechanical breakdown"),
        gettext_noop("Electrical or control fault"),
        gettext_noop("Tool change or broken tool"),
        gettext_noop("Changeover and adjustment"),
        gettext_noop("Part jam or misfeed"),
        gettext_noop("Waiting for material"),
        gettext_noop("No operator"),
        gettext_noop("Waiting for inspection"),
        gettext_noop("Running slow (reduced speed)"),
        gettext_noop("Planned maintenance"),
        gettext_noop("Planned break or meeting"),
    }
)


def downtime_reason_label(name: str) -> str:
    return gettext(name) if name in SEEDED_REASON_NAMES else name


class DowntimeReason(models.Model):
    """Why a machine stood still, as an operator gives it, and which of the six big losses it is."""

    class Loss(models.TextChoices):
        BREAKDOWN = "breakdown", _("Breakdown")
        SETUP = "setup", _("Setup and adjustment")
        SMALL_STOP = "small_stop", _("Small stop")
        SPEED = "speed", _("Reduced speed")
        PLANNED = "planned", _("Planned stop (not a loss)")
        OTHER = "other", _("Other stop")

    code = models.CharField(max_length=32, unique=True, verbose_name=_("code"))
    name = models.CharField(max_length=200, verbose_name=_("name"))
    loss = models.CharField(
        max_length=16, choices=Loss.choices, default=Loss.OTHER, verbose_name=_("loss")
    )
    active = models.BooleanField(default=True, verbose_name=_("active"))

    class Meta:
        verbose_name = _("downtime reason")
        verbose_name_plural = _("downtime reasons")
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.code} {self.label}"

    @property
    def label(self) -> str:
        """The name in the reader's language while it is still the one the plant was given
        (devices 0003), else the name the plant typed."""
        return downtime_reason_label(self.name)


class StateInterval(models.Model):
    """How long a machine was running, idle, stopped, in fault, in maintenance or disconnected.

    The open interval has no end. A stop shorter than DEVICES_MICRO_STOP_SECONDS is a small stop.
    """

    class State(models.TextChoices):
        RUNNING = "running", pgettext_lazy("machine state", "Running")
        IDLE = "idle", _("Idle")
        STOPPED = "stopped", _("Stopped")
        FAULT = "fault", _("Fault")
        MAINTENANCE = "maintenance", _("Maintenance")
        DISCONNECTED = "disconnected", _("Disconnected")

    # The machine stood still: these take a downtime reason.
    DOWN = (State.STOPPED, State.IDLE, State.FAULT)

    equipment = models.ForeignKey(
        Equipment, on_delete=models.CASCADE, related_name="intervals", verbose_name=_("equipment")
    )
    state = models.CharField(max_length=16, choices=State.choices, verbose_name=_("state"))
    start = models.DateTimeField(verbose_name=pgettext_lazy("period", "start"))
    end = models.DateTimeField(null=True, blank=True, verbose_name=_("end"))
    small_stop = models.BooleanField(default=False, verbose_name=_("small stop"))
    reason = models.ForeignKey(
        DowntimeReason,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="intervals",
        verbose_name=_("reason"),
    )
    reason_note = models.CharField(max_length=200, blank=True, verbose_name=_("reason note"))
    reason_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("reason by"),
    )
    reason_at = models.DateTimeField(null=True, blank=True, verbose_name=_("reason at"))
    # The equipment-fault exception raised for this interval (once per fault interval).
    alert_id = models.BigIntegerField(null=True, blank=True, verbose_name=_("alert id"))
    cleared_by_machine = models.BooleanField(default=False, verbose_name=_("cleared by machine"))

    class Meta:
        verbose_name = _("state interval")
        verbose_name_plural = _("state intervals")
        ordering = ["equipment", "start"]
        indexes = [models.Index(fields=["equipment", "start"], name="interval_eq_start")]
        constraints = [
            models.UniqueConstraint(
                fields=["equipment"], condition=Q(end__isnull=True), name="interval_one_open"
            ),
            models.CheckConstraint(
                condition=Q(end__isnull=True) | Q(end__gte=models.F("start")),
                name="interval_end_after_start",
            ),
            models.CheckConstraint(
                condition=Q(state__in=[*STATES, "disconnected"]), name="interval_state_known"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.equipment.code} {self.state} {self.start:%Y-%m-%d %H:%M}"

    @property
    def minutes(self) -> float | None:
        """Its length in minutes (None while it is open)."""
        if self.end is None:
            return None
        return (self.end - self.start).total_seconds() / 60


class IngestBatch(models.Model):
    """A batch of samples the gateway handed in, by its id: a batch sent again (a retry, a
    replay of the spool) is recognised and changes nothing."""

    batch_id = models.CharField(max_length=100, unique=True, verbose_name=_("batch id"))
    at = models.DateTimeField(auto_now_add=True, verbose_name=_("at"))
    samples = models.PositiveIntegerField(default=0, verbose_name=_("samples"))

    class Meta:
        verbose_name = _("ingest batch")
        verbose_name_plural = _("ingest batches")

    def __str__(self) -> str:
        return self.batch_id


history_register(Endpoint, EquipmentLink, Signal, DowntimeReason)
