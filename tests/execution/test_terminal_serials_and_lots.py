"""The terminal's serial and lot work: a range of serials reported at once through the event
service (validated, all or none), the label sheet linked from a serial task, the lots on hand
listed FEFO/FIFO where material is issued, and an over-issue shown as a warning."""

from datetime import date
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model

from execution.models import MaterialRequirement, ProductionEvent, Task
from resources.models import MaterialLot, StockBalance, StockLocation

pytestmark = pytest.mark.django_db

HX = {"HTTP_HX_REQUEST": "true"}
ORDER = "MO-2026-00001"


@pytest.fixture
def wangwu(client, released):
    client.force_login(get_user_model().objects.get(username="wangwu"))
    casting = Task.objects.get(order__number=ORDER, operation__sequence=10)
    started = client.post(
        f"/execution/terminal/task/{casting.pk}/start/", {"event_id": "s-1"}, **HX
    )
    assert started.status_code == 200
    return client, casting


def report(client, task, **data):
    return client.post(f"/execution/terminal/task/{task.pk}/report/", data, **HX)


def test_a_range_of_serials_is_fifty_good_units_recorded_once(wangwu):
    client, casting = wangwu
    done = report(
        client, casting, event_id="r-1", trace_code="EB-0001", trace_code_to="EB-0050",
        verdict="good",
    )  # fmt: skip
    assert done.status_code == 200, done.content
    assert "Reported 50 good units: EB-0001…EB-0050." in done.content.decode()
    events = ProductionEvent.objects.filter(task=casting, kind="report")
    assert events.count() == 50
    assert sorted(events.values_list("trace_code", flat=True))[::49] == ["EB-0001", "EB-0050"]
    casting.refresh_from_db()
    assert casting.quantity_good == 50
    # The same tap again (a retry): nothing twice.
    again = report(
        client, casting, event_id="r-1", trace_code="EB-0001", trace_code_to="EB-0050",
        verdict="good",
    )  # fmt: skip
    assert again.status_code == 200 and "nothing changed" in again.content.decode()
    assert ProductionEvent.objects.filter(task=casting, kind="report").count() == 50


def test_a_range_typed_in_one_field_works_too(wangwu):
    client, casting = wangwu
    done = report(client, casting, event_id="r-2", trace_code="EB-0101…EB-0103", verdict="good")
    assert done.status_code == 200 and "EB-0101…EB-0103" in done.content.decode()
    assert ProductionEvent.objects.filter(task=casting, kind="report").count() == 3


@pytest.mark.parametrize(
    ("first", "last", "words"),
    [
        ("EB-0050", "EB-0001", "Last serial: EB-0001 comes before EB-0050."),
        ("EB-0001", "HS-0050", "Last serial: HS-0050 does not start like EB-0001"),
        ("EB-0001", "EB-050", "Last serial: EB-050 and EB-0001 differ in width"),
        ("EB-0001", "EB-0051", "Last serial: EB-0001…EB-0051 is 51 units; only 50 are left"),
        ("EB-X", "EB-0050", "Trace code: EB-X does not end in a number."),
    ],
)
def test_a_bad_range_names_the_field_and_writes_nothing(wangwu, first, last, words):
    client, casting = wangwu
    refused = report(
        client, casting, event_id="r-3", trace_code=first, trace_code_to=last, verdict="good"
    )
    assert refused.status_code == 400
    assert words in refused.content.decode()
    assert not ProductionEvent.objects.filter(task=casting, kind="report").exists()


def test_one_refused_unit_leaves_the_whole_range_unrecorded(wangwu, monkeypatch):
    from execution.services.events import EventResult, event_record
    from execution.views import terminal

    def refuse_the_third(*, data, by=None, source="api"):
        if data["trace_code"] == "EB-0003":
            return EventResult(data["event_id"], "rejected", 409, {"detail": "Unit on hold."})
        return event_record(data=data, by=by, source=source)

    monkeypatch.setattr(terminal, "event_record", refuse_the_third)
    client, casting = wangwu
    refused = report(
        client, casting, event_id="r-5", trace_code="EB-0001", trace_code_to="EB-0005",
        verdict="good",
    )  # fmt: skip
    assert refused.status_code == 409
    html = refused.content.decode()
    assert "EB-0003: Unit on hold. Nothing of the range was recorded." in html
    assert not ProductionEvent.objects.filter(task=casting, kind="report").exists()
    casting.refresh_from_db()
    assert casting.quantity_good == 0


def test_the_serial_task_links_its_label_sheet(wangwu):
    client, casting = wangwu
    html = client.get("/execution/terminal/").content.decode()
    assert f'href="/quality/orders/{ORDER}/labels/"' in html


def test_the_lots_on_hand_are_listed_first_expiring_first(wangwu):
    client, casting = wangwu
    steel = MaterialRequirement.objects.get(order__number=ORDER, item__code="STEEL-42")
    raw = StockLocation.objects.get(code="WH-RAW")
    old = steel.item.lots.get()  # the demo's lot, no expiry date
    soon = MaterialLot.objects.create(item=steel.item, code="S-SOON", expires_on=date(2027, 1, 5))
    later = MaterialLot.objects.create(item=steel.item, code="S-LATER", expires_on=date(2027, 3, 1))
    empty = MaterialLot.objects.create(
        item=steel.item, code="S-EMPTY", expires_on=date(2026, 12, 31)
    )
    for lot, qty in ((soon, 40), (later, 25), (empty, 0)):
        StockBalance.objects.create(item=steel.item, location=raw, lot=lot, on_hand=Decimal(qty))
    html = client.get("/execution/terminal/").content.decode()
    lots = html[html.index("terminal-lots") :]
    order = [lots.index(f'data-lot="{code}"') for code in ("S-SOON", "S-LATER", old.code)]
    assert order == sorted(order)
    assert 'data-lot="S-EMPTY"' not in lots
    assert "S-SOON</code> 40 kg" in lots


def test_an_over_issue_waiting_for_approval_is_a_warning_not_a_success(wangwu):
    client, casting = wangwu
    url = f"/execution/terminal/task/{casting.pk}/material/"
    assert client.post(url, {"event_id": "i-1", "code": "S-2026-1101"}, **HX).status_code == 200
    over = client.post(url, {"event_id": "i-2", "code": "STEEL-42*S-2026-1101*5"}, **HX)
    assert over.status_code == 202
    html = over.content.decode()
    warning = html[html.index("terminal-msg--warn") :]
    assert "waiting for planner approval" in warning[:300]
    assert "terminal-msg--ok" not in html
