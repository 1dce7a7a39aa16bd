"""The domain events an outside system subscribes to are recorded by the service that makes
the change, once per change, and reach a subscriber: an exception acknowledged, an
operation started and completed (docs/integration.md, "Event types")."""

import pytest
from django.contrib.auth import get_user_model
from rest_framework.test import APIClient

from core.events import outbox_dispatch_pending
from core.models import OutboxEvent
from integration.services.outbound import deliveries_send_due
from planning.models import OrderOperation, ProductionOrder
from planning.services.orders import production_order_release

pytestmark = pytest.mark.django_db


def as_user(username: str) -> APIClient:
    client = APIClient()
    client.force_authenticate(get_user_model().objects.get(username=username))
    return client


def deliver() -> dict:
    outbox_dispatch_pending()
    return deliveries_send_due()


def recorded(topic: str, **payload) -> list[dict]:
    """The payloads of `topic` recorded so far (those whose payload has these values)."""
    rows = OutboxEvent.objects.filter(topic=topic).order_by("pk").values_list("payload", flat=True)
    return [p for p in rows if all(p.get(k) == v for k, v in payload.items())]


@pytest.fixture
def released(demo_plant):
    order = ProductionOrder.objects.get(number="MO-2026-00001")
    return production_order_release(order=order)


def event(event_id: str, kind: str, **extra) -> dict:
    return {"event_id": event_id, "kind": kind, "order": "MO-2026-00001", "sequence": 10, **extra}


def test_acknowledging_an_exception_is_announced_once(released, subscribe, receiver):
    subscribe("erp", "/erp", topics=["exception.*"])
    raised = as_user("zhangsan").post(
        "/api/v1/execution/exceptions/",
        {
            "alert_type": "equipment_fault",
            "severity": "urgent",
            "equipment": "CNC-01",
            "order": "MO-2026-00001",
            "sequence": 20,
            "external_id": "fault-ack-1",
            "description": "Spindle overload alarm",
        },
        format="json",
    )
    assert raised.status_code == 201, raised.content
    alert = raised.json()
    url = f"/api/v1/execution/exceptions/{alert['id']}/acknowledge/"
    sunqi = as_user("sunqi")

    assert sunqi.post(url).status_code == 200
    again = sunqi.post(url)  # a retry of the same acknowledgement
    assert again.status_code == 409

    [payload] = recorded("execution.alert.acknowledged")
    assert payload["alert_id"] == alert["id"]
    assert payload["by"] == "sunqi"
    assert payload["late"] is False
    assert payload["acknowledged_at"].endswith("+00:00")

    deliver()
    got = receiver.at("/erp")
    types = [r.json["type"] for r in got]
    assert types.index("exception.raised") < types.index("exception.acknowledged")
    [acknowledged] = [r.json for r in got if r.json["type"] == "exception.acknowledged"]
    assert acknowledged["data"]["alert"] == alert["number"]
    assert acknowledged["data"]["by"] == "sunqi"
    # Nothing more on the next round.
    deliver()
    assert len(receiver.at("/erp")) == len(got)


def test_an_acknowledgement_refused_records_no_event(released):
    raised = as_user("zhangsan").post(
        "/api/v1/execution/exceptions/",
        {
            "alert_type": "equipment_fault",
            "severity": "urgent",
            "equipment": "CNC-01",
            "order": "MO-2026-00001",
            "sequence": 20,
            "external_id": "fault-ack-2",
            "description": "Spindle overload alarm",
        },
        format="json",
    )
    url = f"/api/v1/execution/exceptions/{raised.json()['id']}/acknowledge/"
    assert as_user("lisi").post(url).status_code == 403  # not theirs to answer
    assert recorded("execution.alert.acknowledged") == []


def test_an_operation_start_and_completion_are_announced_once(released, subscribe, receiver):
    subscribe("mes", "/mes", topics=["operation.*"])
    wangwu = as_user("wangwu")  # assigned to casting, operation 10
    post = lambda body: wangwu.post("/api/v1/execution/events/", body, format="json")  # noqa: E731
    operation = OrderOperation.objects.get(order__number="MO-2026-00001", sequence=10)

    assert post(event("op-1", "start")).status_code == 201
    assert post(event("op-1", "start")).status_code == 200  # the same event again: a duplicate
    assert post(event("op-2", "pause", reason="Die change")).status_code == 201
    assert post(event("op-3", "resume")).status_code == 201  # running again, not a new start
    assert post(event("op-4", "report", quantity_good=1, trace_code="EB-0001")).status_code == 201
    assert post(event("op-5", "complete")).status_code == 201
    assert post(event("op-5", "complete")).status_code == 200
    assert post(event("op-6", "complete")).status_code == 409  # done already

    operation.refresh_from_db()
    # (The demo's costed history recorded its own operations' starts and completions.)
    [started] = recorded("planning.operation.started", operation_id=operation.pk)
    [completed] = recorded("planning.operation.completed", operation_id=operation.pk)
    common = {
        "operation_id": operation.pk,
        "order_id": operation.order_id,
        "sequence": 10,
        "name": operation.name,
        "work_center": operation.work_center.code,
    }
    assert started == {
        **common,
        "equipment": started["equipment"],
        "event_id": "op-1",
        "started_at": operation.actual_start.isoformat(),
    }
    assert completed == {
        **common,
        "equipment": completed["equipment"],
        "event_id": "op-5",
        "ended_at": operation.actual_end.isoformat(),
    }
    assert started["equipment"] == (operation.equipment.code if operation.equipment else None)

    deliver()
    got = receiver.at("/mes")
    assert [r.json["type"] for r in got] == ["operation.started", "operation.completed"]
    assert got[0].json["data"]["order"] == "MO-2026-00001"
    assert len(set(receiver.ids("/mes"))) == 2
    deliver()
    assert len(receiver.at("/mes")) == 2
