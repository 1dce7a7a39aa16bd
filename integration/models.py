"""Outbound delivery of domain events to outside systems (docs/integration.md, "Webhooks")."""

from django.db import models
from django.utils import timezone


class Subscription(models.Model):
    """An outside system that receives the plant's events: a webhook URL, the secret that
    signs each delivery, and the event types it wants (`order.*`, `progress`, …)."""

    class Kind(models.TextChoices):
        WEBHOOK = "webhook", "Webhook (HTTPS POST)"
        AMQP = "amqp", "RabbitMQ topic exchange (AMQP)"
        REDIS_STREAM = "redis_stream", "Redis stream"

    name = models.CharField(max_length=100, unique=True)
    kind = models.CharField(max_length=16, choices=Kind.choices, default=Kind.WEBHOOK)
    # A webhook's http(s) address; a broker's amqp:// URL (?exchange=…) or redis:// URL
    # (?stream=…). Not a URLField: its validator refuses the broker schemes.
    url = models.CharField(
        max_length=500,
        help_text="Webhook: http(s)://…; RabbitMQ: amqp://…//?exchange=…; Redis: redis://…/0?stream=…",
    )
    secret = models.CharField(max_length=200, help_text="Signs every delivery (HMAC-SHA256)")
    topics = models.JSONField(
        default=list, help_text='Event types, with wildcards: ["order.*", "progress"]'
    )
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Delivery(models.Model):
    """One event on its way to one subscriber: sent once a 2xx came back, retried with
    backoff until then, dead-lettered after the last attempt (an operator replays it)."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        SENT = "sent", "Sent"
        DEAD = "dead", "Dead letter"

    subscription = models.ForeignKey(
        Subscription, on_delete=models.CASCADE, related_name="deliveries"
    )
    # The public event: `evt-<outbox id>[.<n>]`; the order of a subscriber's deliveries is
    # (outbox_id, seq), the order in which the plant recorded the changes.
    event_id = models.CharField(max_length=40)
    outbox_id = models.BigIntegerField()
    seq = models.PositiveIntegerField(default=0)
    event_type = models.CharField(max_length=60)
    body = models.TextField(help_text="The JSON sent, the same bytes on every attempt")
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    last_error = models.TextField(blank=True)
    response_code = models.PositiveSmallIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    dead_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name_plural = "deliveries"
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
        DATABASE = "database", "Database table (SQL query past a watermark)"
        CSV_FOLDER = "csv_folder", "CSV drop folder"

    class Target(models.TextChoices):
        PRODUCTION_ORDERS = "production_orders", "Production orders (by external_ref)"
        STOCK = "stock", "Stock receipts and issues"

    class WatermarkType(models.TextChoices):
        INT = "int", "Integer"
        DECIMAL = "decimal", "Decimal"
        FLOAT = "float", "Floating point"
        DATETIME = "datetime", "Date-time"
        DATE = "date", "Date"
        TEXT = "text", "Text"

    name = models.CharField(max_length=100, unique=True)
    kind = models.CharField(max_length=16, choices=Kind.choices)
    target = models.CharField(max_length=24, choices=Target.choices)
    active = models.BooleanField(default=True)
    interval_minutes = models.PositiveIntegerField(
        default=30, help_text="Minutes between two scheduled runs"
    )
    mapping = models.JSONField(
        default=dict,
        blank=True,
        help_text='Source column → our field, e.g. {"PART_NO": "item", "QTY": "quantity"}; '
        "a field not mapped is read from the column of its own name",
    )
    # A database table.
    url = models.CharField(
        max_length=500,
        blank=True,
        help_text="SQLAlchemy or psycopg URL: postgresql://user:pass@host/db, sqlite:////path.db",
    )
    query = models.TextField(blank=True, help_text="A SELECT giving the rows to read")
    watermark_column = models.CharField(
        max_length=100,
        blank=True,
        help_text="A column that only grows (an id, an updated_at): rows are read past it",
    )
    batch_size = models.PositiveIntegerField(default=500, help_text="Rows read per query")
    # The last watermark value processed (with its type, to bind it back); empty: from the start.
    watermark = models.CharField(max_length=200, blank=True)
    watermark_type = models.CharField(max_length=8, choices=WatermarkType.choices, blank=True)
    # A CSV drop folder.
    folder = models.CharField(
        max_length=500, blank=True, help_text="Under LEGACY_SYNC_ROOT; relative paths start there"
    )
    pattern = models.CharField(max_length=100, default="*.csv")
    delimiter = models.CharField(max_length=1, default=",")
    encoding = models.CharField(max_length=32, default="utf-8-sig")
    settle_seconds = models.PositiveIntegerField(
        default=60, help_text="A file changed more recently than this is left for the next run"
    )
    last_run_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class LegacySyncRun(models.Model):
    """One run of a legacy source: what it read, took and rejected, and how it ended."""

    class Status(models.TextChoices):
        RUNNING = "running", "Running"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"

    class Trigger(models.TextChoices):
        SCHEDULE = "schedule", "Schedule"
        COMMAND = "command", "Command"
        API = "api", "API"
        ADMIN = "admin", "Admin"

    source = models.ForeignKey(LegacySource, on_delete=models.CASCADE, related_name="runs")
    trigger = models.CharField(max_length=8, choices=Trigger.choices)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.RUNNING)
    started_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)
    rows_read = models.PositiveIntegerField(default=0)
    rows_accepted = models.PositiveIntegerField(default=0)
    rows_rejected = models.PositiveIntegerField(default=0)
    files_read = models.PositiveIntegerField(default=0)
    files_skipped = models.PositiveIntegerField(
        default=0, help_text="Files whose content had been read before: moved, not read again"
    )
    watermark_from = models.CharField(max_length=200, blank=True)
    watermark_to = models.CharField(max_length=200, blank=True)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-started_at", "-id"]
        indexes = [models.Index(fields=["source", "-started_at"], name="legacy_run_source_idx")]

    def __str__(self) -> str:
        return f"{self.source} {self.started_at:%Y-%m-%d %H:%M}"


class LegacyFile(models.Model):
    """A CSV file a legacy source took, known by the SHA-256 of its content: the same
    content dropped again is never read twice; `rows_done` lets a run cut short resume."""

    class Status(models.TextChoices):
        READING = "reading", "Reading"
        PROCESSED = "processed", "Processed"
        REJECTED = "rejected", "Rejected"

    source = models.ForeignKey(LegacySource, on_delete=models.CASCADE, related_name="files")
    name = models.CharField(max_length=255)
    sha256 = models.CharField(max_length=64)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.READING)
    rows_done = models.PositiveIntegerField(default=0)
    rows_accepted = models.PositiveIntegerField(default=0)
    first_run = models.ForeignKey(
        LegacySyncRun, null=True, blank=True, on_delete=models.SET_NULL, related_name="files"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["source", "sha256"], name="legacy_file_once")
        ]

    def __str__(self) -> str:
        return self.name


class LegacyRejectedRow(models.Model):
    """A row a legacy source could not take, with where it was and why (the field named);
    the other rows of the run went in."""

    run = models.ForeignKey(LegacySyncRun, on_delete=models.CASCADE, related_name="rejected_rows")
    # Where: a file's name and its line (header = line 1), or a table row's watermark value.
    file_name = models.CharField(max_length=255, blank=True)
    line = models.PositiveIntegerField(null=True, blank=True)
    watermark = models.CharField(max_length=200, blank=True)
    field = models.CharField(max_length=64, blank=True)
    reason = models.TextField()
    data = models.JSONField(default=dict, blank=True, help_text="The row as read")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["run", "id"]

    def __str__(self) -> str:
        return f"{self.row_ref}: {self.reason[:60]}"

    @property
    def row_ref(self) -> str:
        if self.file_name:
            return f"{self.file_name} line {self.line}" if self.line else self.file_name
        return f"watermark {self.watermark}"
