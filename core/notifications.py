"""Notifications: telling people something, in the app's inbox and by e-mail.

Any app notifies people through `people_notify`: execution about its exceptions (who is told
is execution's rule), the progress roll-up tells planners about late orders, and so on. Each
notification may link to a page (`url`) with its own words (`link_text`, e.g. an exception's
number). The inbox page reads and clears them with the functions below.
"""

from collections.abc import Iterable

from django.conf import settings
from django.core.mail import send_mass_mail
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from .models import Notification, UserPreference
from .texts import Text

INBOX_SIZE = 200  # the newest notifications an inbox shows


def _language_of(users: list) -> dict[int, str]:
    """Each person's language for what is sent to them: their saved choice, else the site's."""
    chosen = dict(
        UserPreference.objects.filter(user__in=[u.pk for u in users])
        .exclude(language="")
        .values_list("user_id", "language")
    )
    return {u.pk: chosen.get(u.pk) or settings.LANGUAGE_CODE for u in users}


def _in(text: Text | str, language: str) -> str:
    return text.render(language) if isinstance(text, Text) else str(text)


def people_notify(
    users: Iterable,
    text: Text | str,
    *,
    subject: Text | str,
    url: str = "",
    link_text: str = "",
) -> list[Notification]:
    """An in-app notification for each of `users` (linking `url`, when given) and an e-mail to
    each of those with an address, sent after commit: a rolled-back change sends nothing.

    A `Text` (core/texts.py) is stored with its message id and read in each reader's language
    (the inbox); each e-mail, subject and body, is written in its recipient's language (their
    saved preference, else settings.LANGUAGE_CODE). A plain string is sent as it is."""
    users = list(users)
    stored = text.english() if isinstance(text, Text) else str(text)
    text_id = text.msgid if isinstance(text, Text) else ""
    params = text.params if isinstance(text, Text) else {}
    made = Notification.objects.bulk_create(
        [
            Notification(
                user=u,
                text=stored[:300],
                text_id=text_id,
                text_params=params,
                url=url,
                link_text=link_text[:64],
            )
            for u in users
        ]
    )
    with_address = [u for u in users if u.email]
    if with_address:
        languages = _language_of(with_address)
        rendered: dict[str, tuple[str, str]] = {}
        for language in set(languages.values()):
            body = _in(text, language)
            rendered[language] = (_in(subject, language), f"{body}\n{url}" if url else body)
        messages = [
            (*rendered[languages[u.pk]], settings.DEFAULT_FROM_EMAIL, [u.email])
            for u in with_address
        ]
        transaction.on_commit(lambda: send_mass_mail(messages, fail_silently=True))
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
