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
