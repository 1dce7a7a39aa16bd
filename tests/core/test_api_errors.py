"""One error body for the whole API (docs/api-errors.md), and bad input answered 4xx, not 500:
NUL characters, absurd pages, unknown query parameters."""

import logging

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import OperationalError
from django.middleware.common import CommonMiddleware
from django.test import Client
from rest_framework import exceptions
from rest_framework.request import Request
from rest_framework.test import APIClient, APIRequestFactory

from core.api import Pagination, exception_handler
from core.exceptions import StateConflict
from execution.models import ProductionEvent
from planning.api.views import SalesOrderViewSet
from planning.models import ProductionOrder, RoutingStep, SalesOrder
from planning.services.orders import production_order_release
from quality.models import QualityHold
from resources.models import Site

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


def test_a_form_body_over_the_limit_is_413(demo_plant, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 100
    response = api().post(
        "/api/v1/items/",
        data="name=" + "x" * 500,
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 413
    assert_error_body(response.json())


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


# --- NUL characters ---------------------------------------------------------------------------


def test_a_nul_in_one_event_rejects_that_row_not_the_batch(demo_plant):
    order = ProductionOrder.objects.get(number="MO-2026-00001")
    production_order_release(order=order)
    at = {"order": order.number, "sequence": 10}
    batch = [
        {"event_id": "n1", "kind": "start", **at},
        {"event_id": "n2\x00", "kind": "report", "quantity_good": 1, "trace_code": "EB-1", **at},
        {"event_id": "n3", "kind": "report", "quantity_good": 1, "trace_code": "EB-2", **at},
        {"event_id": "n4", "kind": "report", "quantity_good": 1, "trace_code": "EB-\x003", **at},
    ]
    response = api("sunqi").post(EVENTS, batch, format="json")
    assert response.status_code == 200
    answers = response.json()
    assert [(a["status"], a["code"]) for a in answers] == [
        ("accepted", 201),
        ("rejected", 400),
        ("accepted", 201),
        ("rejected", 400),
    ]
    assert answers[1]["errors"] == [
        {
            "row": 1,
            "field": "event_id",
            "code": "null_characters_not_allowed",
            "message": "Null characters are not allowed.",
        }
    ]
    assert answers[3]["errors"][0]["field"] == "trace_code" and answers[3]["event_id"] == "n4"
    assert_error_body(answers[1])
    assert sorted(ProductionEvent.objects.values_list("event_id", flat=True)) == ["n1", "n3"]


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


def test_a_nul_in_a_single_event_or_a_json_body_is_400_naming_the_field(demo_plant):
    single = api("sunqi").post(EVENTS, {"event_id": "a\x00", "kind": "start"}, format="json")
    assert single.status_code == 400 and fields(single.json()) == ["event_id"]
    assert_error_body(single.json())
    body = {"name": "Bolt\x00", "code": "BOLT-1", "nested": [{"x": "\x00"}]}
    item = api().post("/api/v1/items/", body, format="json")
    assert item.status_code == 400
    assert fields(item.json()) == ["name", "nested.0.x"]
    assert {e["code"] for e in item.json()["errors"]} == {"null_characters_not_allowed"}


def test_a_nul_in_a_json_field_read_without_a_serializer_is_refused(demo_plant):
    """A hold's release reason is read straight from the body, not through a serializer."""
    step = RoutingStep.objects.select_related("work_center").first()
    hold = QualityHold.objects.create(
        routing_step=step, work_center=step.work_center, reason="Defect rate 7%"
    )
    url = f"/api/v1/quality/holds/{hold.pk}/release/"
    response = api().post(url, {"reason": "ok\x00"}, format="json")
    assert response.status_code == 400 and fields(response.json()) == ["reason"]
    hold.refresh_from_db()
    assert hold.status == QualityHold.Status.ACTIVE and hold.release_reason == ""


def test_a_nul_in_the_path_or_the_query_is_400(demo_plant):
    client = api()
    trace = client.get("/api/v1/quality/trace/%00/")
    assert trace.status_code == 400 and trace["Content-Type"] == "application/json"
    assert_error_body(trace.json())
    progress = client.get("/api/v1/execution/progress/", {"order": "MO-2026-00001\x00"})
    assert progress.status_code == 400 and fields(progress.json()) == ["order"]
    listing = client.get("/api/v1/sales-orders/", {"customer": "\x00"})
    assert listing.status_code == 400 and fields(listing.json()) == ["customer"]


def test_a_nul_in_a_form_is_400_for_api_and_pages(demo_plant):
    client = api()
    site = Site.objects.first()
    put = client.put(
        f"/api/v1/sites/{site.pk}/",
        data="code=A%00",
        content_type="application/x-www-form-urlencoded",
    )
    assert put.status_code == 400 and fields(put.json()) == ["code"]
    # The form read for the check is still there for the view.
    renamed = client.patch(
        f"/api/v1/sites/{site.pk}/",
        data="name=North+plant",
        content_type="application/x-www-form-urlencoded",
    )
    assert renamed.status_code == 200 and renamed.json()["name"] == "North plant"
    page = Client()
    page.force_login(get_user_model().objects.get(username="admin"))
    posted = page.post("/execution/terminal/", {"event_id": "x\x00"})
    assert posted.status_code == 400 and posted["Content-Type"].startswith("text/plain")
    assert b"event_id" in posted.content
    searched = page.get("/planning/orders/", {"number": "MO\x00"})
    assert searched.status_code == 400


# --- pages of a list --------------------------------------------------------------------------


def test_an_absurd_limit_is_cut_to_the_maximum(demo_plant):
    response = api().get("/api/v1/items/", {"limit": "99999999999999999999"})
    assert response.status_code == 200
    assert response.json()["count"] == len(response.json()["results"])
    request = Request(APIRequestFactory().get("/", {"limit": "5000"}))
    assert Pagination().get_limit(request) == 1000


@pytest.mark.parametrize(
    ("query", "named"),
    [
        ({"limit": "x"}, "limit"),
        ({"limit": "0"}, "limit"),
        ({"limit": "1e3"}, "limit"),
        ({"offset": "-5"}, "offset"),
        ({"offset": "abc"}, "offset"),
    ],
)
def test_a_limit_or_offset_that_is_not_a_whole_number_is_400(demo_plant, query, named):
    response = api().get("/api/v1/items/", query)
    assert response.status_code == 400 and fields(response.json()) == [named]
    assert_error_body(response.json())


def test_an_offset_past_the_end_is_an_empty_page(demo_plant):
    response = api().get("/api/v1/items/", {"offset": "99999999999999999999"})
    assert response.status_code == 200 and response.json()["results"] == []


# --- query parameters -------------------------------------------------------------------------


def test_sales_orders_filter_by_number_and_customer(demo_plant):
    client = api()
    assert SalesOrder.objects.count() > 1
    one = client.get("/api/v1/sales-orders/", {"number": "SO-2026-0001"}).json()
    assert [o["number"] for o in one["results"]] == ["SO-2026-0001"]
    customer = SalesOrder.objects.get(number="SO-2026-0001").customer
    theirs = client.get("/api/v1/sales-orders/", {"customer": customer[:5].lower()}).json()
    assert "SO-2026-0001" in [o["number"] for o in theirs["results"]]
    made_for = client.get("/api/v1/production-orders/", {"sales_order": "SO-2026-0001"}).json()
    assert sorted(o["number"] for o in made_for["results"]) == ["MO-2026-00001", "MO-2026-00002"]


def test_an_unknown_query_parameter_is_400_naming_it(demo_plant):
    client = api()
    response = client.get("/api/v1/sales-orders/", {"numbr": "SO-2026-0001", "status": "open"})
    assert response.status_code == 400
    body = response.json()
    assert_error_body(body)
    assert [(e["field"], e["code"]) for e in body["errors"]] == [("numbr", "unknown_parameter")]
    assert "number" in body["errors"][0]["message"]  # it says what the endpoint takes
    # A list without a filter set knows only its pages; a detail the same.
    assert client.get("/api/v1/sites/", {"code": "X"}).status_code == 400
    assert client.get(f"/api/v1/sites/{Site.objects.first().pk}/", {"code": "X"}).status_code == 400
    for known in ({"limit": "5", "offset": "1"}, {"format": "json"}, {"status": "open"}):
        assert client.get("/api/v1/sales-orders/", known).status_code == 200, known
