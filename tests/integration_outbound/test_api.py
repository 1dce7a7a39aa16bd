"""Subscriptions and dead letters through /api/v1/integration/."""

import pytest

from core.events import emit, outbox_dispatch_pending
from integration.models import Delivery, Subscription
from integration.services.outbound import deliveries_send_due

from .conftest import INTEG, OPERATOR, SECRET

pytestmark = pytest.mark.django_db

URL = "/api/v1/integration/subscriptions/"


def body(receiver, **extra) -> dict:
    return {
        "name": "erp",
        "url": receiver.url("/hook"),
        "secret": SECRET,
        "topics": ["order.*", "progress"],
        **extra,
    }


def test_integration_role_keeps_subscriptions(api, receiver):
    client = api(INTEG)
    created = client.post(URL, body(receiver), format="json")
    assert created.status_code == 201, created.content
    assert "secret" not in created.json()
    assert created.json()["topics"] == ["order.*", "progress"]
    pk = created.json()["id"]
    assert Subscription.objects.get(pk=pk).secret == SECRET

    changed = client.patch(f"{URL}{pk}/", {"active": False}, format="json")
    assert changed.status_code == 200, changed.content
    sub = Subscription.objects.get(pk=pk)
    assert (sub.active, sub.secret) == (False, SECRET)
    assert client.get(URL).json()["results"][0]["name"] == "erp"
    assert client.delete(f"{URL}{pk}/").status_code == 204
    assert not Subscription.objects.exists()


@pytest.mark.parametrize(
    ("extra", "field"),
    [
        ({"url": "ftp://127.0.0.1/x"}, "url"),
        ({"url": "not a url"}, "url"),
        ({"topics": ["orders.*"]}, "topics"),
        ({"topics": []}, "topics"),
        ({"topics": "order.*"}, "topics"),
        ({"secret": "short"}, "secret"),
        ({"kind": "carrier-pigeon"}, "kind"),
        ({"name": ""}, "name"),
    ],
)
def test_bad_subscription_is_400_naming_the_field(api, receiver, extra, field):
    response = api(INTEG).post(URL, body(receiver, **extra), format="json")
    assert response.status_code == 400, response.content
    assert field in {e["field"] for e in response.json()["errors"]}
    assert not Subscription.objects.exists()


def test_bad_patch_names_the_field_and_writes_nothing(api, receiver, subscribe):
    sub = subscribe("erp", "/hook", topics=["order.*"])
    response = api(INTEG).patch(f"{URL}{sub.pk}/", {"topics": ["nothing.here"]}, format="json")
    assert response.status_code == 400
    assert [e["field"] for e in response.json()["errors"]] == ["topics"]
    sub.refresh_from_db()
    assert sub.topics == ["order.*"]


def test_operator_is_refused(api, receiver, subscribe):
    sub = subscribe("erp", "/hook")
    client = api(OPERATOR)
    assert client.get(URL).status_code == 403
    assert client.post(URL, body(receiver, name="x"), format="json").status_code == 403
    assert client.delete(f"{URL}{sub.pk}/").status_code == 403
    assert client.get("/api/v1/integration/deliveries/").status_code == 403


def test_dead_letters_listed_and_replayed(api, receiver, subscribe, settings):
    settings.INTEGRATION_MAX_ATTEMPTS = 1
    receiver.answers["/hook"] = 500
    subscribe("erp", "/hook")
    event = emit("planning.schedule_run.done", {"run_id": 1, "late_orders": []})
    outbox_dispatch_pending()
    deliveries_send_due()
    client = api(INTEG)

    dead = client.get("/api/v1/integration/deliveries/?status=dead").json()["results"]
    assert [(d["event_id"], d["event_type"], d["response_code"]) for d in dead] == [
        (f"evt-{event.pk}", "schedule.changed", 500)
    ]
    assert (
        api(OPERATOR).post(f"/api/v1/integration/deliveries/{dead[0]['id']}/replay/").status_code
        == 403
    )

    receiver.answers["/hook"] = 204
    replay = client.post(f"/api/v1/integration/deliveries/{dead[0]['id']}/replay/")
    assert replay.status_code == 200, replay.content
    assert replay.json() == {"replayed": 1}
    deliveries_send_due()
    assert Delivery.objects.get().status == "sent"
    assert receiver.ids("/hook") == [f"evt-{event.pk}"] * 2
    again = client.post(f"/api/v1/integration/deliveries/{dead[0]['id']}/replay/")
    assert again.status_code == 409
    assert "dead" in again.json()["detail"]


def test_a_broker_password_is_not_read_back(api):
    client = api(INTEG)
    created = client.post(
        URL,
        {
            "name": "bus",
            "kind": "amqp",
            "url": "amqp://plant:hunter2-long@127.0.0.1:5672//?exchange=plant",
            "secret": SECRET,
            "topics": ["*"],
        },
        format="json",
    )
    assert created.status_code == 201, created.content
    assert created.json()["url"] == "amqp://plant:***@127.0.0.1:5672//?exchange=plant"
    assert "hunter2" not in client.get(URL).content.decode()
    assert Subscription.objects.get().url.startswith("amqp://plant:hunter2-long@")
