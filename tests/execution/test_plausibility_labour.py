"""Labour bookings flagged past the shift's end, signed manual corrections keeping the original
minutes, and the supervisor page that shows held events and flagged bookings."""

import csv
import io
from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from core.models import Signature
from core.signatures import signature_verify, signatures_for
from execution.models import EventApproval, LabourBooking, ProductionEvent
from resources.demo import DEMO_PASSWORD

pytestmark = [pytest.mark.django_db, pytest.mark.clock("2026-12-09T10:00:00+08:00")]

SHANGHAI = ZoneInfo("Asia/Shanghai")
EVENTS = "/api/v1/execution/events/"


def local(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 12, day, hour, minute, tzinfo=SHANGHAI)


def ev(event_id, kind, **extra):
    return {"event_id": event_id, "kind": kind, "order": "MO-2026-00001", "sequence": 10, **extra}


def web(username: str) -> Client:
    client = Client()
    client.force_login(get_user_model().objects.get(username=username))
    return client


@pytest.fixture
def flagged(released, api_as, pinned_now) -> LabourBooking:
    """wangwu started casting at 13:00 and paused at 16:30: booked to 14:00, 150 min excess."""
    wangwu = api_as("wangwu")
    pinned_now.move_to(local(9, 13))
    assert wangwu.post(EVENTS, ev("l-s", "start"), format="json").status_code == 201
    pinned_now.move_to(local(9, 16, 30))
    assert wangwu.post(EVENTS, ev("l-p", "pause", reason="end"), format="json").status_code == 201
    return LabourBooking.objects.get()


def test_flagged_bookings_in_the_api(flagged, api_as):
    listed = api_as("sunqi").get("/api/v1/execution/labour-bookings/?flagged=true").json()
    assert [b["id"] for b in listed["results"]] == [flagged.pk]
    assert listed["results"][0]["excess_minutes"] == "150.0" and listed["results"][0]["flagged"]
    clean = api_as("sunqi").get("/api/v1/execution/labour-bookings/?flagged=false").json()
    assert clean["results"] == []


def test_the_labour_export_shows_the_excess(flagged):
    response = web("sunqi").get("/execution/labour.csv?start=2026-12-09&end=2026-12-09&detail=1")
    (row,) = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert row["minutes"] == "60.0" and row["excess_minutes"] == "150.0"
    assert row["original_minutes"] == ""
    summary = web("sunqi").get("/execution/labour.csv?start=2026-12-09&end=2026-12-09")
    (day,) = list(csv.DictReader(io.StringIO(summary.content.decode())))
    assert day["minutes"] == "60.0" and day["excess_minutes"] == "150.0"


def test_a_signed_correction_keeps_the_original_minutes(flagged, api_as):
    sunqi = api_as("sunqi")
    url = f"/api/v1/execution/labour-bookings/{flagged.pk}/correct/"
    wrong = sunqi.post(url, {"minutes": "120", "password": "nope", "reason": "Overtime agreed."}, format="json")  # fmt: skip
    assert wrong.status_code == 400 and "password" in str(wrong.json())
    flagged.refresh_from_db()
    assert flagged.minutes == 60 and flagged.original_minutes is None
    assert not Signature.objects.exists()

    no_reason = sunqi.post(url, {"minutes": "120", "password": DEMO_PASSWORD, "reason": ""}, format="json")  # fmt: skip
    assert no_reason.status_code == 400
    operator = api_as("wangwu").post(url, {"minutes": "300", "password": DEMO_PASSWORD, "reason": "x"}, format="json")  # fmt: skip
    assert operator.status_code == 403

    done = sunqi.post(url, {"minutes": "120", "password": DEMO_PASSWORD, "reason": "Overtime agreed with the shift lead."}, format="json")  # fmt: skip
    assert done.status_code == 200, done.json()
    assert done.json()["minutes"] == "120.0" and done.json()["original_minutes"] == "60.0"
    flagged.refresh_from_db()
    assert flagged.ended_at == local(9, 15) and flagged.corrected_by.username == "sunqi"
    (signature,) = signatures_for(flagged)
    assert signature.meaning == "corrected" and signature_verify(signature)

    # A second correction keeps the first original.
    again = sunqi.post(url, {"minutes": "90", "password": DEMO_PASSWORD, "reason": "Recounted."}, format="json")  # fmt: skip
    assert again.json()["original_minutes"] == "60.0" and again.json()["minutes"] == "90.0"

    detail = web("sunqi").get("/execution/labour.csv?start=2026-12-09&end=2026-12-09&detail=1")
    (row,) = list(csv.DictReader(io.StringIO(detail.content.decode())))
    assert row["minutes"] == "90.0" and row["original_minutes"] == "60.0"


def test_bad_minutes_are_refused_naming_the_field(flagged, api_as):
    url = f"/api/v1/execution/labour-bookings/{flagged.pk}/correct/"
    response = api_as("sunqi").post(url, {"minutes": "-5", "password": DEMO_PASSWORD, "reason": "x"}, format="json")  # fmt: skip
    assert response.status_code == 400 and "minutes" in str(response.json())
    huge = api_as("sunqi").post(url, {"minutes": "5000", "password": DEMO_PASSWORD, "reason": "x"}, format="json")  # fmt: skip
    assert huge.status_code == 400 and "minutes" in str(huge.json())
    flagged.refresh_from_db()
    assert flagged.original_minutes is None


def test_the_supervisor_page_shows_flagged_labour_and_corrects_it_signed(flagged):
    page = web("sunqi").get("/execution/supervisor/")
    html = page.content.decode()
    assert "Labour clocked past the shift" in html and "150 min past shift end" in html
    url = f"/execution/supervisor/labour/{flagged.pk}/correct/"
    wrong = web("sunqi").post(url, {"minutes": "100", "password": "bad", "reason": "ok"}, HTTP_HX_REQUEST="true")  # fmt: skip
    assert wrong.status_code == 400 and "The password is not correct." in wrong.content.decode()
    flagged.refresh_from_db()
    assert flagged.original_minutes is None
    done = web("sunqi").post(url, {"minutes": "100", "password": DEMO_PASSWORD, "reason": "Overtime agreed."}, HTTP_HX_REQUEST="true")  # fmt: skip
    assert done.status_code == 200
    assert "Corrected from 60 min" in done.content.decode()
    assert "verified" in done.content.decode()


def test_the_supervisor_page_lists_held_events_and_decides_them_signed(released, api_as):
    wangwu = api_as("wangwu")
    body = wangwu.post(EVENTS, ev("bd-page", "start", occurred_at=local(8, 9).isoformat()), format="json").json()  # fmt: skip
    pk = body["approval"]
    html = web("sunqi").get("/execution/supervisor/").content.decode()
    assert "Production events waiting for approval" in html and "Backdated" in html
    assert f"/execution/supervisor/held-events/{pk}/approve/" in html

    url = f"/execution/supervisor/held-events/{pk}/approve/"
    wrong = web("sunqi").post(url, {"password": "bad", "reason": "ok"}, HTTP_HX_REQUEST="true")
    assert wrong.status_code == 400 and not ProductionEvent.objects.exists()
    done = web("sunqi").post(url, {"password": DEMO_PASSWORD, "reason": "Paper log."}, HTTP_HX_REQUEST="true")  # fmt: skip
    assert done.status_code == 200 and "Approved" in done.content.decode()
    assert ProductionEvent.objects.filter(event_id="bd-page").count() == 1
    twice = web("sunqi").post(url, {"password": DEMO_PASSWORD, "reason": "Paper log."}, HTTP_HX_REQUEST="true")  # fmt: skip
    assert twice.status_code == 409
    assert ProductionEvent.objects.filter(event_id="bd-page").count() == 1
    assert EventApproval.objects.get(pk=pk).status == "approved"


def test_the_terminal_says_waiting_for_supervisor_approval(demo_plant, api_as):
    from datetime import timedelta

    from django.utils import timezone

    from execution.models import Task
    from planning.models import ProductionOrder
    from planning.services.orders import production_order_create, production_order_release
    from resources.models import Item, Operator

    order = production_order_release(
        order=production_order_create(
            item=Item.objects.get(code="HSG-100"),
            quantity=Decimal(88),
            due_date=timezone.localdate() + timedelta(days=3),
            number="MO-T-TERM",
            status=ProductionOrder.Status.PLANNED,
        )
    )
    task = Task.objects.get(order=order, operation__sequence=10)
    Task.objects.filter(pk=task.pk).update(operator=Operator.objects.get(badge="OP-003"))
    api_as("wangwu").post(EVENTS, {"event_id": "tt-s", "kind": "start", "task": task.pk}, format="json")  # fmt: skip
    response = web("wangwu").post(
        f"/execution/terminal/task/{task.pk}/report/",
        {"quantity_good": "1058", "trace_code": "H-TT", "event_id": "tt-r"},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 202, response.content.decode()[:500]
    assert "Waiting for supervisor approval" in response.content.decode()
    task.refresh_from_db()
    assert task.quantity_good == 0
