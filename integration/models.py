"""Outbound delivery of domain events to outside systems (docs/integration.md, "Webhooks")."""

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class Subscription(models.Model):
    """An outside system that receives the plant's events: a webhook URL, the secret that
    signs each delivery, and the event types it wants (`order.*`, `progress`, …)."""

    class Kind(models.TextChoices):
        WEBHOOK = "webhook", _("Webhook (HTTPS POST)")
        AMQP = "amqp", _("RabbitMQ topic exchange (AMQP)")
        REDIS_STREAM = "redis_stream", _("Redis stream")

    name = models.CharField(max_length=100, unique=True, verbose_name=_("name"))
    kind = models.CharField(
        max_length=16, choices=Kind.choices, default=Kind.WEBHOOK, verbose_name=_("kind")
    )
    # A webhook's http(s) address; a broker's amqp:// URL (?exchange=…) or redis:// URL
    # (?stream=…). Not a URLField: its validator refuses the broker schemes.
    url = models.CharField(
        max_length=500,
        help_text=_(
            "Webhook: http(s)://…; RabbitMQ: amqp://…//?exchange=…; Redis: redis://…/0?stream=…"
        ),
        verbose_name=_("url"),
    )
    secret = models.CharField(
        max_length=200, help_text=_("Signs every delivery (HMAC-SHA256)"), verbose_name=_("secret")
    )
    topics = models.JSONField(
        default=list,
        help_text=_('Event types, with wildcards: ["order.*", "progress"]'),
        verbose_name=_("topics"),
    )
    active = models.BooleanField(default=True, verbose_name=_("active"))
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))
    updated_at = models.DateTimeField(auto_now=True, verbose_name=_("updated at"))

    class Meta:
        verbose_name = _("subscription")
        verbose_name_plural = _("subscriptions")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Delivery(models.Model):
    """One event on its way to one subscriber: sent once a 2xx came back, retried with
    backoff until then, dead-lettered after the last attempt (an operator replays it)."""

    class Status(models.TextChoices):
        PENDING = "pending", pgettext_lazy("delivery status", "Pending")
        SENT = "sent", _("Sent")
        DEAD = "dead", _("Dead letter")

    subscription = models.ForeignKey(
        Subscription,
        on_delete=models.CASCADE,
        related_name="deliveries",
        verbose_name=_("subscription"),
    )
    # The public event: `evt-<outbox id>[.<n>]`; the order of a subscriber's deliveries is
    # (outbox_id, seq), the order in which the plant recorded the changes.
    event_id = models.CharField(max_length=40, verbose_name=_("event id"))
    outbox_id = models.BigIntegerField(verbose_name=_("outbox id"))
    seq = models.PositiveIntegerField(default=0, verbose_name=_("seq"))
    event_type = models.CharField(max_length=60, verbose_name=_("event type"))
    body = models.TextField(
        help_text=_("The JSON sent, the same bytes on every attempt"), verbose_name=_("body")
    )
    status = models.CharField(
        max_length=8, choices=Status.choices, default=Status.PENDING, verbose_name=_("status")
    )
    attempts = models.PositiveIntegerField(default=0, verbose_name=_("attempts"))
    next_attempt_at = models.DateTimeField(default=timezone.now, verbose_name=_("next attempt at"))
    last_error = models.TextField(blank=True, verbose_name=_("last error"))
    response_code = models.PositiveSmallIntegerField(
        null=True, blank=True, verbose_name=_("response code")
    )
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))
    sent_at = models.DateTimeField(null=True, blank=True, verbose_name=_("sent at"))
    dead_at = models.DateTimeField(null=True, blank=True, verbose_name=_("dead at"))

    class Meta:
        verbose_name = _("delivery")
        verbose_name_plural = _("deliveries")
        ordering = ["subscription", "outbox_id", "seq"]
        constraints = [
            models.UniqueConstraint(
                fields=["subscription", "event_id"], name="delivery_once_per_subscriber"
            )
        ]
        indexes = [
            models.Index(
                fields=["subscription", "outbox_id", "seq"],
                name="delivery_pending_idx",
                condition=models.Q(status="pending"),
            ),
            models.Index(fields=["status", "next_attempt_at"], name="delivery_due_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.event_id} → {self.subscription_id}"


# --- legacy sync (docs/integration.md, "Legacy sync") -----------------------------------------


class LegacySource(models.Model):
    """A plant system without an API that ClosedLoop reads on a schedule: a table of its
    database (read past a watermark) or a folder where it drops CSV files."""

    class Kind(models.TextChoices):
        DATABASE = "database", _("Database table (SQL query past a watermark)")
        CSV_FOLDER = "csv_folder", _("CSV drop folder")

    class Target(models.TextChoices):
        PRODUCTION_ORDERS = "production_orders", _("Production orders (by external_ref)")
        STOCK = "stock", _("Stock receipts and issues")

    class WatermarkType(models.TextChoices):
        INT = "int", _("Integer")
        DECIMAL = "decimal", _("Decimal")
        FLOAT = "float", _("Floating point")
        DATETIME = "datetime", _("Date-time")
        DATE = "date", _("Date")
        TEXT = "text", _("Text")

    name = models.CharField(max_length=100, unique=True, verbose_name=_("name"))
    kind = models.CharField(max_length=16, choices=Kind.choices, verbose_name=_("kind"))
    target = models.CharField(max_length=24, choices=Target.choices, verbose_name=_("target"))
    active = models.BooleanField(default=True, verbose_name=_("active"))
    interval_minutes = models.PositiveIntegerField(
        default=30,
        help_text=_("Minutes between two scheduled runs"),
        verbose_name=_("interval minutes"),
    )
    mapping = models.JSONField(
        default=dict,
        blank=True,
        help_text=_(
            'Source column → our field, e.g. {"PART_NO": "item", "QTY": "quantity"}; '
            "a field not mapped is read from the column of its own name"
        ),
        verbose_name=_("mapping"),
    )
    # A database table.
    url = models.CharField(
        max_length=500,
        blank=True,
        help_text=_(
            "SQLAlchemy or psycopg URL: postgresql://user:pass@host/db, sqlite:////path.db"
        ),
        verbose_name=_("url"),
    )
    query = models.TextField(
        blank=True, help_text=_("A SELECT giving the rows to read"), verbose_name=_("query")
    )
    watermark_column = models.CharField(
        max_length=100,
        blank=True,
        help_text=_("A column that only grows (an id, an updated_at): rows are read past it"),
        verbose_name=_("watermark column"),
    )
    batch_size = models.PositiveIntegerField(
        default=500, help_text=_("Rows read per query"), verbose_name=_("batch size")
    )
    # The last watermark value processed (with its type, to bind it back); empty: from the start.
    watermark = models.CharField(max_length=200, blank=True, verbose_name=_("watermark"))
    watermark_type = models.CharField(
        max_length=8, choices=WatermarkType.choices, blank=True, verbose_name=_("watermark type")
    )
    # A CSV drop folder.
    folder = models.CharField(
        max_length=500,
        blank=True,
        help_text=_("Under LEGACY_SYNC_ROOT; relative paths start there"),
        verbose_name=_("folder"),
    )
    pattern = models.CharField(max_length=100, default="*.csv", verbose_name=_("pattern"))
    delimiter = models.CharField(max_length=1, default=",", verbose_name=_("delimiter"))
    encoding = models.CharField(max_length=32, default="utf-8-sig", verbose_name=_("encoding"))
    settle_seconds = models.PositiveIntegerField(
        default=60,
        help_text=_("A file changed more recently than this is left for the next run"),
        verbose_name=_("settle seconds"),
    )
    last_run_at = models.DateTimeField(null=True, blank=True, verbose_name=_("last run at"))
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))
    updated_at = models.DateTimeField(auto_now=True, verbose_name=_("updated at"))

    class Meta:
        verbose_name = _("legacy source")
        verbose_name_plural = _("legacy sources")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class LegacySyncRun(models.Model):
    """One run of a legacy source: what it read, took and rejected, and how it ended."""

    class Status(models.TextChoices):
        RUNNING = "running", pgettext_lazy("run status", "Running")
        DONE = "done", pgettext_lazy("run status", "Done")
        FAILED = "failed", pgettext_lazy("run status", "Failed")

    class Trigger(models.TextChoices):
        SCHEDULE = "schedule", pgettext_lazy("sync trigger", "Schedule")
        COMMAND = "command", _("Command")
        API = "api", _("API")
        ADMIN = "admin", _("Admin")

    source = models.ForeignKey(
        LegacySource, on_delete=models.CASCADE, related_name="runs", verbose_name=_("source")
    )
    trigger = models.CharField(max_length=8, choices=Trigger.choices, verbose_name=_("trigger"))
    status = models.CharField(
        max_length=8, choices=Status.choices, default=Status.RUNNING, verbose_name=_("status")
    )
    started_at = models.DateTimeField(default=timezone.now, verbose_name=_("started at"))
    finished_at = models.DateTimeField(null=True, blank=True, verbose_name=_("finished at"))
    rows_read = models.PositiveIntegerField(default=0, verbose_name=_("rows read"))
    rows_accepted = models.PositiveIntegerField(default=0, verbose_name=_("rows accepted"))
    rows_rejected = models.PositiveIntegerField(default=0, verbose_name=_("rows rejected"))
    files_read = models.PositiveIntegerField(default=0, verbose_name=_("files read"))
    files_skipped = models.PositiveIntegerField(
        default=0,
        help_text=_("Files whose content had been read before: moved, not read again"),
        verbose_name=_("files skipped"),
    )
    watermark_from = models.CharField(max_length=200, blank=True, verbose_name=_("watermark from"))
    watermark_to = models.CharField(max_length=200, blank=True, verbose_name=_("watermark to"))
    error = models.TextField(blank=True, verbose_name=_("error"))

    class Meta:
        verbose_name = _("legacy sync run")
        verbose_name_plural = _("legacy sync runs")
        ordering = ["-started_at", "-id"]
        indexes = [models.Index(fields=["source", "-started_at"], name="legacy_run_source_idx")]

    def __str__(self) -> str:
        return f"{self.source} {self.started_at:%Y-%m-%d %H:%M}"


class LegacyFile(models.Model):
    """A CSV file a legacy source took, known by the SHA-256 of its content: the same
    content dropped again is never read twice; `rows_done` lets a run cut short resume."""

    class Status(models.TextChoices):
        READING = "reading", _("Reading")
        PROCESSED = "processed", _("Processed")
        REJECTED = "rejected", _("Rejected")

    source = models.ForeignKey(
        LegacySource, on_delete=models.CASCADE, related_name="files", verbose_name=_("source")
    )
    name = models.CharField(max_length=255, verbose_name=_("name"))
    sha256 = models.CharField(max_length=64, verbose_name=_("sha256"))
    status = models.CharField(
        max_length=10, choices=Status.choices, default=Status.READING, verbose_name=_("status")
    )
    rows_done = models.PositiveIntegerField(default=0, verbose_name=_("rows done"))
    rows_accepted = models.PositiveIntegerField(default=0, verbose_name=_("rows accepted"))
    first_run = models.ForeignKey(
        LegacySyncRun,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="files",
        verbose_name=_("first run"),
    )
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))
    finished_at = models.DateTimeField(null=True, blank=True, verbose_name=_("finished at"))

    class Meta:
        verbose_name = _("legacy file")
        verbose_name_plural = _("legacy files")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["source", "sha256"], name="legacy_file_once")
        ]

    def __str__(self) -> str:
        return self.name


class LegacyRejectedRow(models.Model):
    """A row a legacy source could not take, with where it was and why (the field named);
    the other rows of the run went in."""

    run = models.ForeignKey(
        LegacySyncRun, on_delete=models.CASCADE, related_name="rejected_rows", verbose_name=_("run")
    )
    # Where: a file's name and its line (header = line 1), or a table row's watermark value.
    file_name = models.CharField(max_length=255, blank=True, verbose_name=_("file name"))
    line = models.PositiveIntegerField(null=True, blank=True, verbose_name=_("line"))
    watermark = models.CharField(max_length=200, blank=True, verbose_name=_("watermark"))
    field = models.CharField(max_length=64, blank=True, verbose_name=_("field"))
    reason = models.TextField(verbose_name=_("reason"))
    data = models.JSONField(
        default=dict, blank=True, help_text=_("The row as read"), verbose_name=_("data")
    )
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))

    class Meta:
        verbose_name = _("legacy rejected row")
        verbose_name_plural = _("legacy rejected rows")
        ordering = ["run", "id"]

    def __str__(self) -> str:
        return f"{self.row_ref}: {self.reason[:60]}"

    @property
    def row_ref(self) -> str:
        if self.file_name:
            return f"{self.file_name} line {self.line}" if self.line else self.file_name
        return f"watermark {self.watermark}"
