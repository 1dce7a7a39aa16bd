"""One error body for the whole API (docs/api-errors.md)."""

import logging

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import OperationalError
from django.middleware.common import CommonMiddleware
from django.test import Client
from rest_framework import exceptions
from rest_framework.test import APIClient, APIRequestFactory

from core.api import exception_handler
from core.exceptions import StateConflict
from planning.api.views import SalesOrderViewSet
from planning.models import ProductionOrder
from planning.services.orders import production_order_release

pytestmark = pytest.mark.django_db

EVENTS = "/api/v1/execution/events/"


def api(username: str = "admin", *, raise_request_exception: bool = True) -> APIClient:
    client = APIClient(raise_request_exception=raise_request_exception)
    client.force_authenticate(get_user_model().objects.get(username=username))
    return client


def assert_error_body(body: dict) -> None:
    """The one shape: a one-sentence `detail` and a list of entries naming field or row."""
    assert isinstance(body["detail"], str) and body["detail"], body
    assert isinstance(body["errors"], list), body
    for entry in body["errors"]:
        assert {"code", "message"} <= set(entry) <= {"field", "row", "code", "message"}, entry
        assert isinstance(entry["message"], str) and isinstance(entry["code"], str), entry


def fields(body: dict) -> list:
    return [e.get("field") for e in body["errors"]]


# --- the exception handler ------------------------------------------------------------------


def handled(exc):
    request = APIRequestFactory().get("/api/v1/items/")
    return exception_handler(exc, {"request": request, "view": None})


@pytest.mark.parametrize(
    ("exc", "status", "detail"),
    [
        (exceptions.NotAuthenticated(), 401, "Authentication credentials were not provided."),
        (exceptions.PermissionDenied("Only planner may change this."), 403, "Only planner"),
        (exceptions.NotFound(), 404, "Not found."),
        (exceptions.MethodNotAllowed("DELETE"), 405, 'Method "DELETE" not allowed.'),
        (StateConflict("Task 7 is done; it cannot start."), 409, "Task 7 is done"),
        (RequestDataTooBig("big"), 413, "too large"),
        (exceptions.UnsupportedMediaType("text/csv"), 415, 'Unsupported media type "text/csv"'),
        (exceptions.Throttled(wait=30), 429, "Request was throttled."),
    ],
)
def test_every_client_error_has_the_one_body(exc, status, detail):
    response = handled(exc)
    assert response.status_code == status
    assert_error_body(response.data)
    assert detail in response.data["detail"] and response.data["errors"] == []
    if status == 429:
        assert response["Retry-After"] == "30"


def test_field_errors_are_flattened_into_named_entries():
    exc = exceptions.ValidationError(
        {
            "quantity": ["Ensure this value is greater than or equal to 0."],
            "lines": [
                {},
                {"item": [exceptions.ErrorDetail("Unknown item.", code="does_not_exist")]},
            ],
            "values": {"Bore diameter": ["A number is required."]},
            "non_field_errors": ["The start must come before the end."],
        }
    )
    body = handled(exc).data
    assert_error_body(body)
    assert fields(body) == ["quantity", "lines.1.item", "values.Bore diameter"]
    assert body["errors"][1] == {
        "field": "lines.1.item",
        "code": "does_not_exist",
        "message": "Unknown item.",
    }
    assert body["detail"] == (
        "The start must come before the end. Invalid input in quantity, lines.1.item, "
        "values.Bore diameter."
    )


def test_one_field_error_is_the_summary_and_list_errors_name_rows():
    one = handled(exceptions.ValidationError({"due_date": ["Enter a valid date."]})).data
    assert one == {
        "detail": "due_date: Enter a valid date.",
        "errors": [{"field": "due_date", "code": "invalid", "message": "Enter a valid date."}],
    }
    rows = handled(exceptions.ValidationError([{}, {"code": ["This field is required."]}])).data
    assert rows["errors"] == [
        {"row": 1, "field": "code", "code": "invalid", "message": "This field is required."}
    ]
    assert rows["detail"] == "row 1 code: This field is required."


def test_django_validation_errors_keep_their_codes():
    exc = DjangoValidationError({"rated_rate": DjangoValidationError("Negative.", code="min")})
    body = handled(exc).data
    assert body["errors"] == [{"field": "rated_rate", "code": "min", "message": "Negative."}]
    plain = handled(DjangoValidationError("Nothing to release.")).data
    assert plain == {"detail": "Nothing to release.", "errors": []}


def test_a_database_that_does_not_answer_is_503_with_retry_after(caplog):
    with caplog.at_level(logging.ERROR, logger="django.request"):
        response = handled(OperationalError("could not connect to server"))
    assert response.status_code == 503 and response["Retry-After"] == "5"
    assert_error_body(response.data)
    assert "could not connect" not in response.data["detail"]
    assert caplog.records[-1].exc_info[0] is OperationalError


def test_under_debug_a_server_error_shows_django_s_debug_page(settings):
    settings.DEBUG = True
    assert handled(RuntimeError("boom")) is None  # re-raised: Django's technical 500 page


# --- server errors over HTTP ----------------------------------------------------------------


def test_an_unhandled_exception_in_a_view_is_a_json_500_logged_not_leaked(
    demo_plant, monkeypatch, caplog
):
    def broken(self, request, *args, **kwargs):
        raise RuntimeError("secret connection string")

    monkeypatch.setattr(SalesOrderViewSet, "list", broken)
    with caplog.at_level(logging.ERROR, logger="django.request"):
        response = api(raise_request_exception=False).get("/api/v1/sales-orders/")
    assert response.status_code == 500 and response["Content-Type"] == "application/json"
    assert_error_body(response.json())
    assert b"secret" not in response.content
    logged = [r for r in caplog.records if r.exc_info and r.exc_info[0] is RuntimeError]
    assert len(logged) == 1 and logged[0].getMessage().endswith("/api/v1/sales-orders/")
    # As for any unhandled exception, the test client re-raises it: a test names the culprit.
    with pytest.raises(RuntimeError, match="secret"):
        api().get("/api/v1/sales-orders/")


def test_errors_outside_the_api_views_are_json_under_api_and_pages_elsewhere(
    demo_plant, monkeypatch
):
    client = Client(raise_request_exception=False)
    client.force_login(get_user_model().objects.get(username="admin"))
    missing = client.get("/api/v1/no-such-endpoint/")
    assert missing.status_code == 404 and missing["Content-Type"] == "application/json"
    assert_error_body(missing.json())
    page = client.get("/no-such-page/")
    assert page.status_code == 404 and page["Content-Type"].startswith("text/html")

    def broken(self, request):
        raise RuntimeError("middleware failure")

    monkeypatch.setattr(CommonMiddleware, "process_request", broken)
    failed = client.get("/api/v1/items/")
    assert failed.status_code == 500 and failed["Content-Type"] == "application/json"
    assert_error_body(failed.json())
    assert b"middleware failure" not in failed.content
    page = client.get("/planning/orders/")
    assert page.status_code == 500 and page["Content-Type"].startswith("text/html")


# --- the same body from real endpoints -------------------------------------------------------


def test_a_serializer_error_names_each_field(demo_plant):
    response = api().post(
        "/api/v1/items/", {"code": "", "name": "Bolt", "lot_size": "x"}, format="json"
    )
    assert response.status_code == 400
    body = response.json()
    assert_error_body(body)
    assert {"code", "lot_size"} <= set(fields(body))
    assert "code" not in body  # no field-keyed dict beside `errors`


def test_a_single_rejected_event_has_the_body_and_its_own_keys(demo_plant):
    order = ProductionOrder.objects.get(number="MO-2026-00001")
    production_order_release(order=order)
    event = {"event_id": "p1", "kind": "pause", "order": order.number, "sequence": 10}
    response = api("sunqi").post(EVENTS, {**event, "reason": "tea"}, format="json")
    assert response.status_code == 409
    body = response.json()
    assert_error_body(body)
    assert body["errors"] == [] and "cannot take a pause event" in body["detail"]
    assert (body["event_id"], body["status"], body["code"]) == ("p1", "rejected", 409)


def test_a_rejected_row_of_a_batch_names_its_row_and_field(demo_plant):
    order = ProductionOrder.objects.get(number="MO-2026-00001")
    production_order_release(order=order)
    at = {"order": order.number, "sequence": 10}
    batch = [
        {"event_id": "r1", "kind": "start", **at},
        {"event_id": "r2", "kind": "report", "quantity_good": -1, "trace_code": "EB-1", **at},
        {"event_id": "r3", "kind": "start", **at},
    ]
    answers = api("sunqi").post(EVENTS, batch, format="json").json()
    assert "errors" not in answers[0] and "detail" not in answers[0]
    assert [(e["row"], e["field"], e["code"]) for e in answers[1]["errors"]] == [
        (1, "quantity_good", "invalid")
    ]
    assert answers[1]["detail"].startswith("quantity_good: ")
    # A refusal about the row as a whole (a state conflict) still names the row.
    assert [(e["row"], e["code"]) for e in answers[2]["errors"]] == [(2, "conflict")]
    assert "field" not in answers[2]["errors"][0]
    assert answers[2]["detail"] == answers[2]["errors"][0]["message"]
