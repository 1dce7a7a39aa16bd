"""Stored texts (core/texts.py): a sentence the system writes is kept as its message id and
parameters and read in the reader's language; notifications are read, and e-mailed, in each
person's own language."""

from decimal import Decimal

import pytest
from django.core import mail
from django.utils import translation

from core.models import Notification
from core.notifications import people_notify
from core.preferences import preference_language_set
from core.roles import Role
from core.texts import Text, choice, role, text_render, text_shown
from execution.models import Severity, WorkAlert
from tests.factories import UserFactory

# A message of core's catalogue with a placeholder (its zh-Hans: 请选择其中之一：…).
CHOOSE = "Choose one of: %(codes)s."


def test_a_stored_text_renders_in_the_active_or_the_given_language():
    text = Text(CHOOSE, codes="en, zh-hans")
    assert text.english() == "Choose one of: en, zh-hans."
    assert text_render(text.msgid, text.params, "zh-hans") == "请选择其中之一：en, zh-hans。"
    with translation.override("zh-hans"):
        assert str(text) == "请选择其中之一：en, zh-hans。"
    assert str(text) == "Choose one of: en, zh-hans."


def test_a_list_parameter_is_joined_in_the_readers_way():
    text = Text(CHOOSE, codes=["张三", "李四"])
    assert text.english() == "Choose one of: 张三, 李四."
    assert text_render(text.msgid, text.params, "zh-hans") == "请选择其中之一：张三、李四。"


def test_choices_roles_and_nested_texts_are_shown_in_the_readers_language():
    text = Text(
        CHOOSE,
        codes=Text(CHOOSE, codes=choice(WorkAlert, "severity", Severity.SEVERE)),
    )
    assert text.params["codes"] == {
        "text": CHOOSE,
        "params": {"codes": {"choice": "execution.WorkAlert.severity", "value": "severe"}},
    }
    assert text.english() == "Choose one of: Choose one of: Severe.."
    assert text.render("zh-hans") == "请选择其中之一：请选择其中之一：严重。。"
    assert Text(CHOOSE, codes=role(Role.SUPERVISOR)).render("zh-hans") == "请选择其中之一：班组长。"
    assert Text(CHOOSE, codes=Decimal("80.0000")).english() == "Choose one of: 80."


def test_a_message_with_no_translation_falls_back_to_english():
    text = Text("Nothing translates %(this)s yet.", this="sentence")
    assert text.render("zh-hans") == "Nothing translates sentence yet."


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"other": 1},
        None,
        [1, 2],
        {"codes": {"choice": "no.Such.field", "value": "x"}},
        {"codes": {"choice": "nonsense", "value": "x"}},
        {"codes": {"text": 5, "params": "bad"}},
        {"codes": {"unknown": "kind"}},
    ],
)
def test_bad_parameters_never_raise(params):
    for language in ("en", "zh-hans"):
        assert text_render(CHOOSE, params, language).startswith(("Choose one of:", "请选择"))
    assert text_render("%(a)d %", {"a": "x"}, "en") == "%(a)d %"
    assert text_render("", {}, "zh-hans") == ""


def test_a_row_with_no_message_id_shows_as_stored():
    assert text_shown("", {}, "typed by a person") == "typed by a person"
    assert text_shown(CHOOSE, {"codes": "x"}, "old") == "Choose one of: x."


@pytest.mark.django_db
def test_a_notification_reads_in_each_readers_language():
    ann = UserFactory()
    [note] = people_notify([ann], Text(CHOOSE, codes="a, b"), subject="s")
    note = Notification.objects.get(pk=note.pk)
    assert (note.text, note.text_id, note.text_params) == (
        "Choose one of: a, b.",
        CHOOSE,
        {"codes": "a, b"},
    )
    assert note.text_shown == "Choose one of: a, b."
    with translation.override("zh-hans"):
        assert note.text_shown == "请选择其中之一：a, b。"


@pytest.mark.django_db
def test_the_inbox_page_reads_a_notification_in_the_readers_language(client):
    ann = UserFactory(roles=[Role.PLANNER])
    people_notify([ann], Text(CHOOSE, codes="a, b"), subject="s")
    client.force_login(ann)
    assert "Choose one of: a, b." in client.get("/execution/inbox/").content.decode()
    preference_language_set(user=ann, language="zh-hans")
    page = client.get("/execution/inbox/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "请选择其中之一：a, b。" in page


@pytest.mark.django_db
def test_each_recipient_gets_the_email_in_their_own_language(
    settings, django_capture_on_commit_callbacks
):
    settings.LANGUAGE_CODE = "en"
    ann = UserFactory(email="ann@example.com")
    li = UserFactory(email="li@example.com")
    bob = UserFactory(email="bob@example.com")
    preference_language_set(user=li, language="zh-hans")
    preference_language_set(user=bob, language="")  # no choice: the site's language
    with django_capture_on_commit_callbacks(execute=True):
        people_notify(
            [ann, li, bob],
            Text(CHOOSE, codes=choice(WorkAlert, "severity", Severity.URGENT)),
            subject=Text(CHOOSE, codes="subject"),
            url="/x/",
        )
    sent = {m.to[0]: m for m in mail.outbox}
    assert len(mail.outbox) == 3
    assert sent["ann@example.com"].subject == "Choose one of: subject."
    assert sent["ann@example.com"].body == "Choose one of: Urgent.\n/x/"
    assert sent["bob@example.com"].body == "Choose one of: Urgent.\n/x/"
    assert sent["li@example.com"].subject == "请选择其中之一：subject。"
    assert sent["li@example.com"].body == "请选择其中之一：紧急。\n/x/"


@pytest.mark.django_db
def test_the_site_language_is_used_for_people_with_no_choice(
    settings, django_capture_on_commit_callbacks
):
    settings.LANGUAGE_CODE = "zh-hans"
    ann = UserFactory(email="ann@example.com")
    with django_capture_on_commit_callbacks(execute=True):
        people_notify([ann], Text(CHOOSE, codes="x"), subject="plain subject")
    assert (mail.outbox[0].subject, mail.outbox[0].body) == ("plain subject", "请选择其中之一：x。")
