"""Primitives every app uses: the domain-event outbox, the audit trail, document counters,
notifications, service accounts and their API tokens."""

from django.conf import settings
from django.contrib.auth.models import User, UserManager
from django.contrib.sessions.base_session import AbstractBaseSession
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from rest_framework_api_key.models import AbstractAPIKey

from .history import history_register
from .roles import Role
from .texts import text_shown


class OutboxEvent(models.Model):
    """A domain event recorded in the same transaction as the change that caused it."""

    topic = models.CharField(max_length=100, db_index=True, verbose_name=_("topic"))
    payload = models.JSONField(default=dict, verbose_name=_("payload"))
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))
    dispatched_at = models.DateTimeField(null=True, blank=True, verbose_name=_("dispatched at"))
    attempts = models.PositiveIntegerField(default=0, verbose_name=_("attempts"))
    last_error = models.TextField(blank=True, verbose_name=_("last error"))

    class Meta:
        verbose_name = _("outbox event")
        verbose_name_plural = _("outbox events")
        ordering = ["id"]
        indexes = [
            models.Index(
                fields=["id"],
                name="outbox_pending_idx",
                condition=models.Q(dispatched_at__isnull=True),
            )
        ]

    def __str__(self) -> str:
        return f"{self.topic} #{self.pk}"


class AuditEntry(models.Model):
    """Who did what to which record, and when; append-only. A service's action
    (`stock.move`, `production_order.release`) or a record's field-level change (`create`,
    `update`, `delete`, with before and after values; core.history)."""

    at = models.DateTimeField(default=timezone.now, db_index=True, verbose_name=_("at"))
    # Accounts are deactivated, never deleted; the username copy keeps the name regardless.
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        verbose_name=_("actor"),
    )
    actor_username = models.CharField(
        max_length=150, blank=True, db_index=True, verbose_name=_("actor username")
    )
    origin = models.CharField(
        max_length=100,
        blank=True,
        help_text=_(
            "Where the change came from: page, api, admin, task:<name>, command:<name>, system."
        ),
        verbose_name=_("origin"),
    )
    action = models.CharField(max_length=100, verbose_name=_("action"))
    object_type = models.CharField(max_length=100, verbose_name=_("object type"))
    object_id = models.CharField(max_length=64, verbose_name=_("object id"))
    object_label = models.CharField(max_length=200, blank=True, verbose_name=_("object label"))
    data = models.JSONField(default=dict, blank=True, verbose_name=_("data"))
    changes = models.JSONField(
        default=list,
        blank=True,
        help_text=_("[{field, before, after}] of a record's change."),
        verbose_name=_("changes"),
    )
    history_id = models.PositiveBigIntegerField(
        null=True,
        blank=True,
        help_text=_("The record's snapshot in its history table."),
        verbose_name=_("history id"),
    )

    class Meta:
        verbose_name = _("audit entry")
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["object_type", "object_id"])]
        verbose_name_plural = _("audit entries")

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.action} {self.object_type}:{self.object_id}"


class DocumentCounter(models.Model):
    """The last number handed out in one series of document numbers, e.g. EX-2026- (exceptions
    raised in 2026); locked by whoever takes the next one (core.numbering)."""

    key = models.CharField(
        max_length=64, unique=True, help_text=_("The series, e.g. EX-2026-."), verbose_name=_("key")
    )
    last_value = models.PositiveBigIntegerField(default=0, verbose_name=_("last value"))

    class Meta:
        verbose_name = _("document counter")
        verbose_name_plural = _("document counters")
        ordering = ["key"]

    def __str__(self) -> str:
        return f"{self.key}{self.last_value}"


class Notification(models.Model):
    """An in-app message to a person (also sent by e-mail), with a link to what it is about."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="notifications",
        verbose_name=_("user"),
    )
    text = models.CharField(max_length=300, verbose_name=_("text"))
    # The text's message id and parameters when the system wrote it (core/texts.py).
    text_id = models.CharField(max_length=300, blank=True, default="", verbose_name=_("text id"))
    text_params = models.JSONField(default=dict, blank=True, verbose_name=_("text params"))
    url = models.CharField(
        max_length=200,
        blank=True,
        help_text=_("Where to look: the page of what it is about."),
        verbose_name=_("url"),
    )
    link_text = models.CharField(
        max_length=64,
        blank=True,
        help_text=_("The link's words (an exception's number); “Open” when blank."),
        verbose_name=_("link text"),
    )
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))
    read_at = models.DateTimeField(null=True, blank=True, verbose_name=_("read at"))

    class Meta:
        # Made by execution's migrations, when notifications were only about its exceptions.
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        db_table = "execution_notification"
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["user", "read_at"], name="execution_n_user_id_7cb4a3_idx")]

    def __str__(self) -> str:
        return f"To {self.user_id}: {self.text[:40]}"

    @property
    def text_shown(self) -> str:
        """The text in the reader's language (core/texts.py)."""
        return text_shown(self.text_id, self.text_params, self.text)


class ServiceAccountManager(UserManager):
    def get_queryset(self):
        return super().get_queryset().filter(groups__name=Role.INTEGRATION)


class ServiceAccount(User):
    """Another system or a machine that uses the API: a user in the integration role with no
    password, signing in only with its API tokens. Deactivated, never deleted."""

    objects = ServiceAccountManager()

    class Meta:
        proxy = True
        verbose_name = _("service account")
        verbose_name_plural = _("service accounts")


class ApiToken(AbstractAPIKey):
    """A key one service account signs in to the API with (`Authorization: Bearer <key>`),
    shown once when issued and stored only as a hash; it stops working when it expires, when
    it is revoked, or when its account is deactivated."""

    # The library's fields as it declares them, named here so that the admin shows them in the
    # reader's language (the library names them in English only).
    id = models.CharField(
        max_length=150, unique=True, primary_key=True, editable=False, verbose_name=_("ID")
    )
    prefix = models.CharField(max_length=8, unique=True, editable=False, verbose_name=_("prefix"))
    hashed_key = models.CharField(max_length=150, editable=False, verbose_name=_("hashed key"))
    created = models.DateTimeField(auto_now_add=True, db_index=True, verbose_name=_("created"))
    name = models.CharField(
        max_length=50,
        blank=False,
        default=None,
        verbose_name=_("name"),
        help_text=_("A free-form name for the token; need not be unique; 50 characters at most."),
    )
    revoked = models.BooleanField(
        blank=True,
        default=False,
        verbose_name=_("revoked"),
        help_text=_("A revoked token no longer signs anyone in; this cannot be undone."),
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="api_tokens",
        verbose_name=_("service account"),
    )
    # Required here, unlike the library's: a key that never expires is a key nobody rotates.
    expiry_date = models.DateTimeField(
        verbose_name=_("expires"), help_text=_("The token stops working at this time.")
    )
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        related_name="+",
        verbose_name=_("issued by"),
    )
    last_used_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text=_("Updated at most once a minute."),
        verbose_name=_("last used at"),
    )
    revoked_at = models.DateTimeField(null=True, blank=True, verbose_name=_("revoked at"))
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("revoked by"),
    )

    class Meta(AbstractAPIKey.Meta):
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")

    @property
    def status(self) -> str:
        if self.revoked:
            return "revoked"
        if self.has_expired:
            return "expired"
        return "active" if self.user.is_active else "account deactivated"


class Signature(models.Model):
    """A person's electronic signature on a decision (a hold released, a lot scrapped, an
    inspection corrected): who, when, what it means and why, with a hash of the record as it
    was signed. Append-only; in the spirit of 21 CFR Part 11 §11.50 and §11.200."""

    class Meaning(models.TextChoices):
        APPROVED = "approved", _("Approved")
        REJECTED = "rejected", _("Rejected")
        RELEASED = "released", pgettext_lazy("signature meaning", "Released")
        CORRECTED = "corrected", _("Corrected")
        DISPOSITIONED = "dispositioned", _("Dispositioned")
        ADJUSTED = "adjusted", _("Adjusted")

    content_type = models.ForeignKey(
        "contenttypes.ContentType",
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("content type"),
    )
    object_id = models.CharField(max_length=64, verbose_name=_("object id"))
    signer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="signatures",
        verbose_name=_("signer"),
    )
    # Copies, so the signature still names the person if the account is renamed.
    signer_username = models.CharField(max_length=150, verbose_name=_("signer username"))
    signer_name = models.CharField(max_length=300, blank=True, verbose_name=_("signer name"))
    meaning = models.CharField(max_length=20, choices=Meaning.choices, verbose_name=_("meaning"))
    reason = models.TextField(verbose_name=_("reason"))
    signed_at = models.DateTimeField(verbose_name=_("signed at"))
    record_hash = models.CharField(
        max_length=64,
        help_text=_("SHA-256 of the record's content when it was signed."),
        verbose_name=_("record hash"),
    )
    signature_hash = models.CharField(
        max_length=64,
        help_text=_("SHA-256 over the signer, the time, the meaning, the reason and record_hash."),
        verbose_name=_("signature hash"),
    )

    class Meta:
        verbose_name = _("signature")
        verbose_name_plural = _("signatures")
        ordering = ["signed_at", "id"]
        indexes = [models.Index(fields=["content_type", "object_id"])]
        constraints = [
            models.CheckConstraint(condition=~models.Q(reason=""), name="signature_reason_given")
        ]

    def __str__(self) -> str:
        return f"{self.get_meaning_display()} by {self.signer_username} at {self.signed_at:%Y-%m-%d %H:%M}"

    @property
    def short_hash(self) -> str:
        return self.signature_hash[:12]


# Field-level history of people's accounts (core.history): roles (groups), active, staff; not
# the password hash, and no entry for a sign-in's `last_login`. Saves through the
# ServiceAccount proxy are audited by core.tokens' own entries.
history_register(
    User, app="core", excluded_fields=["password", "last_login"], m2m_fields=["groups"]
)
history_register(ApiToken, excluded_fields=["hashed_key"])


class UserPreference(models.Model):
    """A person's own settings for the pages: the language they read them in (blank: as their
    browser asks)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="preference",
        verbose_name=_("user"),
    )
    language = models.CharField(
        max_length=16,
        blank=True,
        choices=settings.LANGUAGES,
        help_text=_("The pages' language; blank follows the browser's Accept-Language."),
        verbose_name=_("language"),
    )
    updated_at = models.DateTimeField(auto_now=True, verbose_name=_("updated at"))

    class Meta:
        verbose_name = _("user preference")
        verbose_name_plural = _("user preferences")

    def __str__(self) -> str:
        return f"{self.user_id}: {self.language or 'browser'}"


class Session(AbstractBaseSession):
    """A signed-in browser's or terminal's session (SESSION_ENGINE = core.sessions): Django's
    database session with the signed-in account beside the encoded data, so that a request
    reads its session, its user and the user's roles in one statement (core/sessions.py).
    Deleting an account ends its sessions."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name=_("user"),
    )

    @classmethod
    def get_session_store_class(cls):
        from .sessions import SessionStore

        return SessionStore
