"""Notifications at their owner (core.notifications): any app tells people, in the inbox
and by e-mail after commit; the inbox reads and clears them."""

import pytest
from django.core import mail

from core.models import Notification
from core.notifications import (
    notifications_for,
    notifications_mark_read,
    notifications_unread_count,
    people_notify,
)
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_people_are_told_in_the_inbox_and_by_mail_after_commit(django_capture_on_commit_callbacks):
    ann, bob = UserFactory(email="ann@example.com"), UserFactory(email="")
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        made = people_notify(
            [ann, bob], "x" * 400, subject="Late", url="/planning/schedule/", link_text="MO-1"
        )
        assert not mail.outbox  # nothing leaves before the commit
    assert len(callbacks) == 1 and [m.to for m in mail.outbox] == [["ann@example.com"]]
    assert mail.outbox[0].body.endswith("/planning/schedule/")
    assert [n.user for n in made] == [ann, bob]
    note = Notification.objects.get(user=bob)
    assert (len(note.text), note.url, note.link_text) == (300, "/planning/schedule/", "MO-1")


def test_the_inbox_counts_and_clears_only_its_own():
    ann, bob = UserFactory(), UserFactory()
    people_notify([ann], "one", subject="s")
    people_notify([ann, bob], "two", subject="s")
    assert sorted(n.text for n in notifications_for(user=ann)) == ["one", "two"]
    assert notifications_unread_count(user=ann) == 2
    assert notifications_mark_read(user=ann) == 2
    assert notifications_unread_count(user=ann) == 0
    assert notifications_unread_count(user=bob) == 1
