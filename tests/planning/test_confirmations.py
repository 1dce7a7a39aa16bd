"""Irreversible page actions ask first: release, cancel and complete of an order, resolve of an
exception (tests/execution/test_alert_pages.py). A POST without confirm=1 shows the
confirmation and writes nothing. Completing an order with 0 of N made needs a reason, which
is kept; its open operations and tasks are cancelled with it."""

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from rest_framework.test import APIClient

from execution.models import Task
from planning.models import OrderOperation, ProductionOrder
from planning.services.orders import production_order_release, production_order_start

pytestmark = pytest.mark.django_db

ORDER = "MO-2026-00001"


def web(username: str) -> Client:
    client = Client()
    client.force_login(get_user_model().objects.get(username=username))
    return client


@pytest.fixture
def api_as():
    def make(username: str) -> APIClient:
        client = APIClient()
        client.force_authenticate(get_user_model().objects.get(username=username))
        return client

    return make


@pytest.fixture
def planned(demo_plant) -> ProductionOrder:
    return ProductionOrder.objects.get(number=ORDER)


@pytest.mark.parametrize("htmx", [True, False])
def test_release_asks_first_and_writes_nothing_without_confirm(planned, htmx):
    headers = {"HTTP_HX_REQUEST": "true"} if htmx else {}
    url = f"/planning/orders/{planned.pk}/release/"
    ask = web("zhouba").post(url, **headers)
    assert ask.status_code == 200
    html = ask.content.decode()
    assert f"Release order {ORDER}?" in html and 'name="confirm" value="1"' in html
    assert ("<html" in html) is (not htmx)  # without JavaScript: a whole confirmation page
    planned.refresh_from_db()
    assert planned.status == "planned" and not Task.objects.filter(order=planned).exists()

    done = web("zhouba").post(url, {"confirm": "1"}, **headers)
    planned.refresh_from_db()
    assert planned.status == "released"
    if htmx:
        assert done.status_code == 200 and "Released" in done.content.decode()
    else:
        assert done.status_code == 302 and done["Location"] == f"/planning/orders/{planned.pk}/"


def test_cancel_asks_first(planned):
    url = f"/planning/orders/{planned.pk}/cancel/"
    ask = web("zhouba").post(url, HTTP_HX_REQUEST="true")
    assert "Cancel order" in ask.content.decode()
    planned.refresh_from_db()
    assert planned.status == "planned"
    web("zhouba").post(url, {"confirm": "1"}, HTTP_HX_REQUEST="true")
    planned.refresh_from_db()
    assert planned.status == "cancelled"


@pytest.fixture
def started(planned) -> ProductionOrder:
    """Released and in progress with nothing made: the operation 10 task is ready."""
    order = production_order_release(order=planned)
    return production_order_start(order=order)


def test_completing_with_0_made_is_refused_without_a_reason(started):
    url = f"/planning/orders/{started.pk}/complete/"
    ask = web("zhouba").post(url, HTTP_HX_REQUEST="true")
    html = ask.content.decode()
    assert ask.status_code == 200 and "0 of 50" in html and "needs a reason" in html
    refused = web("zhouba").post(url, {"confirm": "1", "reason": "  "}, HTTP_HX_REQUEST="true")
    assert refused.status_code == 400
    assert (
        "0 of 50 made" in refused.content.decode() and "give a reason" in refused.content.decode()
    )
    started.refresh_from_db()
    assert started.status == "in_progress" and started.completion_reason == ""
    assert Task.objects.get(order=started, operation__sequence=10).status == "ready"

    done = web("zhouba").post(
        url, {"confirm": "1", "reason": "Customer cancelled the call-off."}, HTTP_HX_REQUEST="true"
    )
    assert done.status_code == 200
    started.refresh_from_db()
    assert started.status == "completed"
    assert started.completion_reason == "Customer cancelled the call-off."
    # No operation stays "Ready" under a completed order; the tasks went with them.
    assert set(OrderOperation.objects.filter(order=started).values_list("status", flat=True)) == {
        "cancelled"
    }
    assert not Task.objects.filter(order=started, status__in=Task.OPEN).exists()


def test_completing_through_the_api_needs_the_reason_too(started, api_as):
    planner = api_as("zhouba")
    url = f"/api/v1/production-orders/{started.pk}/complete/"
    refused = planner.post(url, {}, format="json")
    assert refused.status_code == 400 and refused.json()["errors"][0]["field"] == "reason"
    started.refresh_from_db()
    assert started.status == "in_progress"
    done = planner.post(url, {"reason": "Short-closed by planning."}, format="json")
    assert (
        done.status_code == 200 and done.json()["completion_reason"] == "Short-closed by planning."
    )


def test_completing_while_an_operation_runs_is_refused(started, api_as):
    assert (
        api_as("wangwu")
        .post(
            "/api/v1/execution/events/",
            {"event_id": "run-1", "kind": "start", "order": ORDER, "sequence": 10},
            format="json",
        )
        .status_code
        == 201
    )
    response = api_as("zhouba").post(
        f"/api/v1/production-orders/{started.pk}/complete/", {"reason": "x"}, format="json"
    )
    assert response.status_code == 409 and "is running" in response.json()["detail"]
    started.refresh_from_db()
    assert started.status == "in_progress"
