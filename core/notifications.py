"""Notifications: telling people something, in the app's inbox and by e-mail.

Any app notifies people through `people_notify`: execution about its exceptions (who is told
is execution's rule), the progress roll-up tells planners about late orders, and so on. Each
notification may link to a page (`url`) with its own words (`link_text`, e.g. an exception's
number). The inbox page reads and clears them with the functions below.
"""

from collections.abc import Iterable

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from .models import Notification

INBOX_SIZE = 200  # the newest notifications an inbox shows


def people_notify(
    users: Iterable, text: str, *, subject: str, url: str = "", link_text: str = ""
) -> list[Notification]:
    """An in-app notification for each of `users` (linking `url`, when given) and one e-mail
    to those with an address, sent after commit: a rolled-back change sends nothing."""
    users = list(users)
    made = Notification.objects.bulk_create(
        [Notification(user=u, text=text[:300], url=url, link_text=link_text[:64]) for u in users]
    )
    emails = [u.email for u in users if u.email]
    if emails:
        body = f"{text}\n{url}" if url else text
        transaction.on_commit(
            lambda: send_mail(
                subject, body, settings.DEFAULT_FROM_EMAIL, emails, fail_silently=True
            )
        )
    return made


def notifications_for(*, user) -> QuerySet[Notification]:
    """A person's newest notifications, newest first (what the inbox shows)."""
    return Notification.objects.filter(user=user)[:INBOX_SIZE]


def notifications_unread_count(*, user) -> int:
    """How many notifications a person has not read (the top bar's badge)."""
    return Notification.objects.filter(user=user, read_at__isnull=True).count()


def notifications_mark_read(*, user) -> int:
    """Mark every unread notification of a person read; returns how many."""
    return Notification.objects.filter(user=user, read_at__isnull=True).update(
        read_at=timezone.now()
    )
