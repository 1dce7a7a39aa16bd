"""The admin's dead-letter list and its replay action; subscriptions kept through the
services (bad input is a form error naming the field)."""

import pytest
from django.test import Client

from core.events import emit, outbox_dispatch_pending
from integration.models import Delivery, Subscription
from integration.services.outbound import deliveries_send_due
from tests.factories import UserFactory

from .conftest import INTEG, OPERATOR, SECRET

pytestmark = pytest.mark.django_db

CHANGELIST = "/admin/integration/delivery/"


def login(*roles) -> Client:
    client = Client()
    client.force_login(UserFactory(roles=list(roles)))
    return client


def test_dead_letters_replayed_from_the_admin(subscribe, receiver, settings):
    settings.INTEGRATION_MAX_ATTEMPTS = 1
    receiver.answers["/hook"] = 500
    subscribe("erp", "/hook")
    event = emit("quality.hold.released", {"hold_id": 1, "reason": "ok"})
    outbox_dispatch_pending()
    deliveries_send_due()
    dead = Delivery.objects.get()
    assert dead.status == "dead"
    client = login(INTEG)

    listing = client.get(CHANGELIST, {"status__exact": "dead"})
    assert listing.status_code == 200
    assert f"evt-{event.pk}" in listing.content.decode()
    assert "Replay the selected dead letters" in listing.content.decode()

    receiver.answers["/hook"] = 200
    answer = client.post(
        CHANGELIST, {"action": "replay", "_selected_action": [dead.pk]}, follow=True
    )
    assert answer.status_code == 200
    assert "1 dead letter queued" in answer.content.decode()
    deliveries_send_due()
    dead.refresh_from_db()
    assert dead.status == "sent"
    assert receiver.ids("/hook") == [f"evt-{event.pk}"] * 2


def test_operator_has_no_admin_for_deliveries():
    response = login(OPERATOR).get(CHANGELIST)
    assert response.status_code in (302, 403)


def test_subscription_form_names_the_bad_field(receiver):
    client = login(INTEG)
    answer = client.post(
        "/admin/integration/subscription/add/",
        {
            "name": "erp",
            "kind": "webhook",
            "url": receiver.url("/hook"),
            "secret": SECRET,
            "topics": '["nothing.*"]',
            "active": "on",
        },
    )
    assert answer.status_code == 200
    assert "No event type matches nothing.*" in answer.content.decode()
    assert not Subscription.objects.exists()

    answer = client.post(
        "/admin/integration/subscription/add/",
        {
            "name": "erp",
            "kind": "webhook",
            "url": receiver.url("/hook"),
            "secret": SECRET,
            "topics": '["order.*"]',
            "active": "on",
        },
    )
    assert answer.status_code == 302
    saved = Subscription.objects.get()
    assert (saved.secret, saved.topics) == (SECRET, ["order.*"])
