"""Signed decisions: a decision that changes a quality or money outcome (a hold released, a lot
scrapped, an inspection corrected, an over-issue approved, stock adjusted) is signed by the
person who makes it, in the spirit of 21 CFR Part 11 §11.50 and §11.200: their password once
more, the meaning of the signature ("released", "approved", ...) and a reason.

The signature (`core.models.Signature`) keeps who signed, when, the meaning, the reason, a
SHA-256 of the record's content as signed (`record_hash`) and a SHA-256 over all of that
(`signature_hash`). `signature_verify` recomputes both: a record changed after signing, or a
signature row edited in the database, no longer verifies.

A service signs inside its own transaction, after it has written the decision, so the
signature hashes the final state and a refused signature rolls the decision back:

    with transaction.atomic():
        hold.status = ...; hold.save()
        signature_sign(user=user, password=password, meaning=Signature.Meaning.RELEASED,
                       reason=reason, record=hold)

Pages and API actions wrap the call in `signature_guard(request)`: a wrong password then
counts as a failed sign-in for the login lockout (django-axes), and a locked-out person cannot
sign until the lockout ends.
"""

import datetime as dt
import decimal
import hashlib
import json
import uuid
from contextlib import contextmanager

from axes.backends import AxesStandaloneBackend
from axes.handlers.proxy import AxesProxyHandler
from django.contrib.auth import get_backends
from django.contrib.auth.signals import user_login_failed
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import extend_schema_field, extend_schema_serializer
from rest_framework import serializers

from .formatting import full_name
from .models import Signature

# Lazy: each refusal reads in the language of the request it answers.
WRONG_PASSWORD = gettext_lazy("The password is not correct.")
NO_PASSWORD = gettext_lazy("Give your password to sign.")
NOT_SIGNED_IN = gettext_lazy("Only a person signed in with a password can sign this decision.")
INACTIVE = gettext_lazy("This account is deactivated; it cannot sign.")
NO_REASON = gettext_lazy("Give the reason for this decision.")
LOCKED = gettext_lazy("Too many wrong passwords for this account; signing is locked for now.")


class SignatureError(ValidationError):
    """A signature refused; `message_dict` names the field at fault: "password", "reason"
    or "meaning"."""

    def __init__(self, field: str, message: str):
        super().__init__({field: [ValidationError(message, code=f"signature_{field}")]})
        self.field = field


# --- the record's content --------------------------------------------------------------------


def _canonical(field: models.Field | None, value):
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, decimal.Decimal):
        # Same text in memory and after a round trip through the database ("5" vs "5.000").
        places = getattr(field, "decimal_places", None)
        if places is not None and value.is_finite():
            value = value.quantize(decimal.Decimal(1).scaleb(-places))
        return str(value)
    if isinstance(value, dt.datetime):
        if timezone.is_aware(value):
            value = value.astimezone(dt.UTC)
        return value.isoformat()
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, dt.timedelta):
        return str(value.total_seconds())
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, dict):
        return {
            str(k): _canonical(None, v) for k, v in sorted(value.items(), key=lambda i: str(i[0]))
        }
    if isinstance(value, list | tuple):
        return [_canonical(None, v) for v in value]
    if isinstance(value, bytes | memoryview):
        return bytes(value).hex()
    return str(value)


def record_content(record: models.Model) -> dict:
    """The record's content as signed: its concrete fields (a foreign key as its id),
    Decimals and instants as text, keys sorted. A model may say what else it signs:
    - `signature_exclude`: names of fields left out (a field that legitimately changes
      after the decision, e.g. when a later correction moves a scrap back);
    - `signature_extra()`: more content (e.g. the measurements of an inspection record);
    - `signature_content()`: the whole content instead."""
    custom = getattr(record, "signature_content", None)
    if callable(custom):
        content = custom()
    else:
        excluded = set(getattr(record, "signature_exclude", ()))
        content = {
            field.attname: _canonical(field, field.value_from_object(record))
            for field in record._meta.concrete_fields
            if field.name not in excluded and field.attname not in excluded
        }
        extra = getattr(record, "signature_extra", None)
        if callable(extra):
            content.update(extra())
    return {key: _canonical(None, content[key]) for key in sorted(content)}


def record_hash(record: models.Model) -> str:
    payload = {"record": record._meta.label_lower, "pk": str(record.pk), **record_content(record)}
    text = json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def _signature_hash(
    *, signer_id, username: str, signed_at: dt.datetime, meaning: str, reason: str, record_hash: str
) -> str:
    parts = [
        str(signer_id),
        username,
        signed_at.astimezone(dt.UTC).isoformat(),
        meaning,
        reason,
        record_hash,
    ]
    text = json.dumps(parts, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


# --- checking and signing --------------------------------------------------------------------


def _password_matches(user, password: str) -> bool:
    """The password checked by the sign-in backends (local accounts, LDAP), without the
    lockout's backend and without sending sign-in signals: this is no sign-in."""
    username = user.get_username()
    for backend in get_backends():
        if isinstance(backend, AxesStandaloneBackend):
            continue
        try:
            found = backend.authenticate(None, username=username, password=password)
        except TypeError:  # a backend that takes other credentials (OIDC)
            continue
        if found is not None:
            return found.pk == user.pk
    return False


def signature_check(*, user, password, meaning, reason) -> None:
    """Refuse (SignatureError naming the field) a signature with a missing or wrong password,
    by a deactivated account, without a reason, or with an unknown meaning. Writes nothing."""
    if meaning not in Signature.Meaning.values:
        raise SignatureError("meaning", f"“{meaning}” is not a meaning of a signature.")
    if not getattr(user, "is_authenticated", False):
        raise SignatureError("password", NOT_SIGNED_IN)
    if not user.is_active:
        raise SignatureError("password", INACTIVE)
    if not password:
        raise SignatureError("password", NO_PASSWORD)
    if not _password_matches(user, password):
        raise SignatureError("password", WRONG_PASSWORD)
    if not (reason or "").strip():
        raise SignatureError("reason", NO_REASON)


def signature_sign(*, user, password, meaning, reason, record: models.Model) -> Signature:
    """Check the signature and store it on `record`. Call it inside the decision's own
    transaction, after writing the decision, so the hash covers the final state and a refusal
    rolls the decision back."""
    signature_check(user=user, password=password, meaning=meaning, reason=reason)
    # The record as stored (a counter updated with F() is an expression in memory).
    stored = type(record)._base_manager.get(pk=record.pk)
    signed_at = timezone.now()
    content_hash = record_hash(stored)
    reason = reason.strip()
    name = full_name(user.first_name, user.last_name) if hasattr(user, "first_name") else ""
    signature = Signature(
        content_type=ContentType.objects.get_for_model(stored),
        object_id=str(stored.pk),
        signer=user,
        signer_username=user.get_username(),
        signer_name=name,
        meaning=meaning,
        reason=reason,
        signed_at=signed_at,
        record_hash=content_hash,
        signature_hash=_signature_hash(
            signer_id=user.pk,
            username=user.get_username(),
            signed_at=signed_at,
            meaning=meaning,
            reason=reason,
            record_hash=content_hash,
        ),
    )
    signature.full_clean()
    signature.save()
    return signature


def signature_verify(signature: Signature, record: models.Model | None = None) -> bool:
    """True while the signed record and the signature row are as they were signed. `record`:
    the signed record as just read from the database, to save reading it again."""
    if record is None:
        model = signature.content_type.model_class()
        if model is None:
            return False
        record = model._base_manager.filter(pk=signature.object_id).first()
    if record is None or record_hash(record) != signature.record_hash:
        return False
    expected = _signature_hash(
        signer_id=signature.signer_id,
        username=signature.signer_username,
        signed_at=signature.signed_at,
        meaning=signature.meaning,
        reason=signature.reason,
        record_hash=signature.record_hash,
    )
    return expected == signature.signature_hash


def signatures_for(record: models.Model) -> QuerySet[Signature]:
    """The signatures on one record, oldest first (reads only)."""
    return Signature.objects.filter(
        content_type=ContentType.objects.get_for_model(record),
        object_id=str(record.pk),
    ).select_related("signer")


def signatures_by_record(records) -> dict[str, list[Signature]]:
    """The signatures of many records of one model in one query, by the record's id (text):
    for lists that show each row's signatures."""
    records = list(records)
    if not records:
        return {}
    found: dict[str, list[Signature]] = {}
    for signature in Signature.objects.filter(
        content_type=ContentType.objects.get_for_model(records[0]),
        object_id__in=[str(r.pk) for r in records],
    ).select_related("signer"):
        found.setdefault(signature.object_id, []).append(signature)
    return found


def signatures_verified(signatures, record: models.Model | None = None) -> list[Signature]:
    """The signatures with `verified` set, for showing them."""
    signatures = list(signatures)
    for signature in signatures:
        signature.verified = signature_verify(signature, record)
    return signatures


def signatures_attach(records) -> None:
    """Set `signed` on each record of a list (one model): its signatures, verified against
    the record as read, in one query for the whole list."""
    records = [r for r in records if r is not None]
    found = signatures_by_record(records)
    for record in records:
        record.signed = signatures_verified(found.get(str(record.pk), []), record)


def signatures_of(record: models.Model) -> list[Signature]:
    """The record's verified signatures: those `signatures_attach` set, else read now."""
    signed = getattr(record, "signed", None)
    if signed is None:
        signed = signatures_verified(signatures_for(record), record)
        record.signed = signed
    return signed


# --- the lockout around a signature made in a request ----------------------------------------


@contextmanager
def signature_guard(request, user=None):
    """Around a signed decision made in a page or API request: refuses at once while the
    person is locked out of signing in, and counts a wrong password as a failed sign-in
    (django-axes), so a password cannot be guessed through a signature either. The failure
    that reaches the limit, and every try while locked out, answers as a locked-out sign-in
    does: 429 with Retry-After (the API's error body, or the locked-out page)."""
    http_request = getattr(request, "_request", request)
    user = user or request.user
    credentials = {"username": user.get_username()}
    if AxesProxyHandler.is_locked(http_request, credentials):
        # Answered like a locked-out sign-in (AxesMiddleware: 429 with Retry-After).
        http_request.axes_locked_out = True
        raise SignatureError("password", LOCKED)
    try:
        yield
    except SignatureError as refused:
        if refused.field == "password" and refused.messages == [WRONG_PASSWORD]:
            user_login_failed.send(sender=__name__, credentials=credentials, request=http_request)
        raise


# --- the API's part --------------------------------------------------------------------------


def signature_password_field(
    help_text: str = gettext_lazy("The signer's password, once more (required to sign)."),
) -> serializers.CharField:
    """The signer's password as an API input: write-only, never trimmed."""
    return serializers.CharField(
        write_only=True,
        required=False,
        default="",  # missing is blank: the service names the field (never a KeyError)
        allow_blank=True,
        trim_whitespace=False,
        style={"input_type": "password"},
        help_text=help_text,
    )


def signature_reason_field(
    help_text: str = gettext_lazy(
        "Why this decision is made (required to sign); kept with the signature."
    ),
    *,
    write_only: bool = False,
) -> serializers.CharField:
    """The reason of a signed decision as an API input (the service says when it is missing)."""
    return serializers.CharField(
        max_length=1000,
        required=False,
        default="",
        allow_blank=True,
        write_only=write_only,
        help_text=help_text,
    )


class SignatureFieldsMixin(serializers.Serializer):
    """The fields of a signed API action: `password` (write-only), `meaning` and `reason`.
    They are shaped here and judged by the service (signature_check), which answers a 400
    naming the field — after the role checks, so a role that may not act learns that first.
    A serializer that fixes the meaning sets `signature_meaning` (an input `meaning` is then
    ignored)."""

    signature_meaning: str | None = None

    password = signature_password_field()
    meaning = serializers.ChoiceField(
        choices=Signature.Meaning.choices,
        required=False,
        help_text=gettext_lazy("What the signature means; fixed by most actions."),
    )
    reason = signature_reason_field()

    def validate(self, attrs):
        attrs = super().validate(attrs)
        if self.signature_meaning:
            attrs["meaning"] = self.signature_meaning
        return attrs


def signature_api_error(error: SignatureError) -> serializers.ValidationError:
    """A refused signature as DRF's 400 naming the field (raise it from an API action)."""
    return serializers.ValidationError(
        {field: list(messages) for field, messages in error.message_dict.items()}
    )


@extend_schema_serializer(description=gettext_lazy("A signature as the API shows it on a record."))
class SignatureSerializer(serializers.ModelSerializer):
    meaning_label = serializers.CharField(source="get_meaning_display", read_only=True)
    verified = serializers.SerializerMethodField()

    class Meta:
        model = Signature
        fields = [
            "id",
            "signer",
            "signer_username",
            "signer_name",
            "meaning",
            "meaning_label",
            "reason",
            "signed_at",
            "record_hash",
            "signature_hash",
            "verified",
        ]
        read_only_fields = fields

    def get_verified(self, signature) -> bool:
        verified = getattr(signature, "verified", None)
        return signature_verify(signature) if verified is None else verified


class SignedListSerializer(serializers.ListSerializer):
    """A list of signed records: their signatures read in one query for the page."""

    def to_representation(self, data):
        items = list(data.all() if isinstance(data, models.manager.BaseManager) else data)
        signatures_attach(items)
        # Related records shown with their own signatures (Meta.signed_related: attribute
        # names, e.g. an inspection record's disposition), also one query each.
        for name in getattr(self.child.Meta, "signed_related", ()):
            signatures_attach([getattr(item, name, None) for item in items])
        return super().to_representation(items)


class SignedSerializerMixin(serializers.Serializer):
    """Adds `signatures` (read-only) to a record's serializer; lists read them in one query.
    A serializer using it lists "signatures" in Meta.fields and sets
    `list_serializer_class = SignedListSerializer` in Meta."""

    signatures = serializers.SerializerMethodField()

    @extend_schema_field(SignatureSerializer(many=True))
    def get_signatures(self, record) -> list[dict]:
        return SignatureSerializer(signatures_of(record), many=True).data
