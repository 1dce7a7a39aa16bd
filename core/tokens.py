"""Service accounts and their API tokens: issue, revoke, check a presented key.

Why djangorestframework-api-key under our own model: it generates keys as a public prefix
and a secret, stores only a SHA-512 hash, keeps revoked keys (revoking cannot be undone)
and has expiry; its keys are no users, so ApiToken adds the service account a key signs in
as, which makes the permission policy apply to integrations exactly as to people. django-rest-
knox was the other candidate: its tokens belong to users and expire, but it is built for
people's logins (a token per device, deleted on logout or expiry, so revoked and expired keys
leave no record) and has neither a name per integration nor a revoke that keeps the row.
Neither records the last use; `api_token_check` does, at most once a minute.
"""

from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext, gettext_noop

from .audit import audit_record
from .models import ApiToken, ServiceAccount
from .roles import Role

# Prefix and secret: 8 + 32 random letters and digits (the library's generator).
PREFIX_LENGTH = 8


class TokenRefused(Exception):
    """A presented key that does not sign in; `reason` may be shown to its holder."""

    def __init__(self, reason: str, prefix: str = ""):
        super().__init__(reason)
        self.reason = reason
        self.prefix = prefix


def token_prefix(key: str) -> str:
    """The public part of a key, which names the token in logs, lockouts and the admin."""
    return key.partition(".")[0][:PREFIX_LENGTH]


def service_account_create(
    *, username: str, roles=(), created_by, is_active: bool = True
) -> ServiceAccount:
    """A new service account: no usable password, in the integration role and in any further
    `roles` the plant gives it."""
    with transaction.atomic():
        account = ServiceAccount(username=username, is_active=is_active)
        account.set_unusable_password()
        account.full_clean()
        account.save()
        service_account_roles_set(account=account, roles=roles, changed_by=created_by)
        audit_record(actor=created_by, action="service_account.create", obj=account)
    return account


def service_account_roles_set(*, account, roles, changed_by) -> list[str]:
    """Give a service account exactly these roles besides integration; groups that are no
    role are left alone."""
    names = sorted({Role.INTEGRATION, *roles})
    with transaction.atomic():
        keep = list(account.groups.exclude(name__in=Role.ALL))
        account.groups.set([*keep, *(Group.objects.get_or_create(name=n)[0] for n in names)])
        audit_record(
            actor=changed_by, action="service_account.roles", obj=account, data={"roles": names}
        )
    return names


def token_expiry_check(expires_at: datetime | None) -> None:
    now = timezone.now()
    if expires_at is None:
        raise ValidationError({"expiry_date": gettext("Give the time the token stops working.")})
    if expires_at <= now:
        raise ValidationError({"expiry_date": gettext("Give a time in the future.")})
    if expires_at > now + timedelta(days=settings.API_TOKEN_MAX_DAYS):
        raise ValidationError(
            {
                "expiry_date": gettext("A token is valid for at most %(days)d days.")
                % {"days": settings.API_TOKEN_MAX_DAYS}
            }
        )


def token_default_expiry() -> datetime:
    return timezone.now() + timedelta(days=settings.API_TOKEN_DEFAULT_DAYS)


def api_token_issue(*, token: ApiToken, issued_by) -> str:
    """Save a new token (its account, name and expiry set) and return its key: the only time
    the key exists in clear, so the caller shows it once and forgets it."""
    if token.pk:
        raise ValidationError(gettext("This token is issued already; issue a new one instead."))
    token_expiry_check(token.expiry_date)
    if not ServiceAccount.objects.filter(pk=token.user_id, is_active=True).exists():
        raise ValidationError(
            {"user": gettext("Tokens are issued to active service accounts only.")}
        )
    with transaction.atomic():
        key = ApiToken.objects.assign_key(token)
        token.issued_by = issued_by
        token.full_clean(exclude=["id", "prefix", "hashed_key"])
        token.save(force_insert=True)
        audit_record(
            actor=issued_by,
            action="api_token.issue",
            obj=token,
            data={"account": token.user.username, "expires": token.expiry_date.isoformat()},
        )
    return key


def api_token_revoke(*, token: ApiToken, revoked_by) -> ApiToken:
    """Revoke a token for good: requests with it answer 401 from now on; the row stays."""
    with transaction.atomic():
        token = ApiToken.objects.select_for_update().get(pk=token.pk)
        if token.revoked:
            return token
        token.revoked = True
        token.revoked_at = timezone.now()
        token.revoked_by = revoked_by
        token.save(update_fields=["revoked", "revoked_at", "revoked_by"])
        audit_record(actor=revoked_by, action="api_token.revoke", obj=token)
    return token


def api_token_check(key: str) -> ApiToken:
    """The token a presented key belongs to, with its account; TokenRefused when the key is
    unknown, revoked, expired or its account deactivated. Marks the token used."""
    prefix = token_prefix(key)
    token = (
        ApiToken.objects.select_related("user").filter(prefix=prefix).first()
        if prefix and "." in key
        else None
    )
    if token is None or not token.is_valid(key):
        raise TokenRefused(gettext_noop("Invalid token."), prefix)
    # Only a holder of the real key learns why it no longer works.
    if token.revoked:
        raise TokenRefused(gettext_noop("This token was revoked."), prefix)
    if token.has_expired:
        raise TokenRefused(gettext_noop("This token has expired."), prefix)
    if not token.user.is_active:
        raise TokenRefused(gettext_noop("This token's service account is deactivated."), prefix)
    api_token_touch(token)
    return token


def api_token_touch(token: ApiToken) -> None:
    """Record the last use, at most once per API_TOKEN_TOUCH_SECONDS: one conditional UPDATE,
    so concurrent requests of a busy integration write it once between them."""
    now = timezone.now()
    since = now - timedelta(seconds=settings.API_TOKEN_TOUCH_SECONDS)
    if token.last_used_at is not None and token.last_used_at > since:
        return
    ApiToken.objects.filter(
        Q(last_used_at__isnull=True) | Q(last_used_at__lte=since), pk=token.pk
    ).update(last_used_at=now)
    token.last_used_at = now
