"""One truth about lateness: the issue's scenario on the demo plant. After scheduling,
MO-2026-00002 ends after its due date and a severe machine fault blocks its machining; the
order list (and its "At risk only" filter), the order page, the sales orders, the board and
the API all say it is late, from the one delivery-risk figure (planning/selectors/risk.py)."""

import re

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from rest_framework.test import APIClient

from execution.models import Severity, WorkAlert
from execution.services.alerts import alert_raise, alert_resolve
from planning.models import ProductionOrder, ScheduleRun
from planning.services.orders import production_order_release
from planning.services.schedule import schedule_run_execute

# The figures (MO-2026-00002 scheduled past its due date) are those of an ordinary
# working week: pinned to one, they hold whatever instant the suite runs at.
pytestmark = [pytest.mark.django_db, pytest.mark.clock("2026-12-09T10:00:00+08:00")]


def _client(username: str) -> Client:
    client = Client()
    client.force_login(get_user_model().objects.get(username=username))
    return client


def _row(html: str, row_id: str) -> str:
    match = re.search(rf'<tr [^>]*id="{row_id}".*?</tr>', html, re.S)
    assert match, f"no row {row_id}"
    return match.group(0)


@pytest.fixture
def late_and_faulted(demo_plant):
    """The scenario of the issue: schedule (MO-2026-00002 comes out late), release it, and a
    severe fault on the machine its machining is planned on."""
    run = schedule_run_execute(
        run_id=ScheduleRun.objects.create(time_limit_seconds=2).pk, workers=2
    )
    assert "MO-2026-00002" in run.summary["late_orders"]
    order = ProductionOrder.objects.get(number="MO-2026-00002")
    production_order_release(order=order)
    machine = order.operations.get(sequence=20).equipment
    alert = alert_raise(
        alert_type="equipment_fault",
        severity=Severity.SEVERE,
        description=f"{machine.code} spindle fault",
        equipment=machine,
        order=order,
        expected_downtime_minutes=480,
    )
    order.refresh_from_db()
    return order, alert


def test_the_late_order_shows_as_at_risk_on_every_page_and_in_the_api(late_and_faulted):
    order, alert = late_and_faulted
    assert alert.blocked_tasks.exists()
    assert order.exception_delay_minutes == 480 and alert.number in order.exception_note
    planner, supervisor = _client("zhouba"), _client("sunqi")

    # The order list, and its "At risk only" filter.
    listed = planner.get("/planning/orders/").content.decode()
    row = _row(listed, f"order-{order.pk}")
    assert 'data-risk="late"' in row and "order-at-risk" in row and "blocked" in row
    at_risk = planner.get("/planning/orders/", {"risk": "1"}).content.decode()
    assert order.number in at_risk
    on_time = ProductionOrder.objects.get(number="MO-2026-00001")
    assert f'id="order-{on_time.pk}"' not in at_risk

    # The order page.
    page = planner.get(f"/planning/orders/{order.pk}/").content.decode()
    box = page[page.index('id="order-risk"') :][:2000]
    assert 'data-risk="late"' in box and "after its due date" in box and alert.number in box

    # The sales orders page (and its filter).
    sales = planner.get("/planning/sales-orders/", {"risk": "1"}).content.decode()
    so_row = _row(sales, f"sales-order-{order.sales_order_id}")
    assert "sales-at-risk" in so_row and "late +" in so_row and "no delay reported" not in sales

    # The board: the colour is the attainment rule's; the row carries the late and blocked flags.
    board = supervisor.get("/execution/board/", HTTP_HX_REQUEST="true").content.decode()
    board_row = _row(board, f"board-order-{order.pk}")
    assert "board-flag-late" in board_row and "board-flag-blocked" in board_row
    # Nothing of it was planned by now (the schedule starts it later): green by the attainment
    # rule, and the row says "not started", not "100 %".
    assert "board-row-green" in board_row and "not started" in board_row
    assert "100 %" not in board_row
    drill = supervisor.get(f"/execution/board/{order.pk}/").content.decode()
    assert 'data-risk="late"' in drill and "not started" in drill
    flagged = supervisor.get(
        "/execution/board/", {"flag": "at_risk"}, HTTP_HX_REQUEST="true"
    ).content.decode()
    assert f"board-order-{order.pk}" in flagged

    # The API: the order endpoint and the board rows give the same figure.
    api = APIClient()
    api.force_authenticate(get_user_model().objects.get(username="zhouba"))
    risk = api.get(f"/api/v1/production-orders/{order.pk}/").json()["delivery_risk"]
    assert risk["level"] == "late" and risk["at_risk"] and risk["blocked"]
    assert risk["schedule_late"] and risk["exception_delay_minutes"] == 480
    listed_api = api.get("/api/v1/production-orders/", {"number": order.number}).json()["results"]
    assert listed_api[0]["delivery_risk"] == risk
    # The API's "at risk only" is the order list's filter (one FilterSet).
    risky = api.get("/api/v1/production-orders/", {"risk": "true"}).json()["results"]
    assert order.number in {r["number"] for r in risky}
    assert on_time.number not in {r["number"] for r in risky}
    assert all(r["delivery_risk"]["at_risk"] for r in risky)
    everything = api.get("/api/v1/production-orders/", {"risk": "false"}).json()["count"]
    assert everything == ProductionOrder.objects.count() > len(risky)
    api.force_authenticate(get_user_model().objects.get(username="sunqi"))
    rows = api.get("/api/v1/execution/board/", {"flag": "at_risk"}).json()["results"]
    board_row = next(r for r in rows if r["number"] == order.number)
    assert board_row["delivery_risk"] == risk
    assert board_row["not_started"] and board_row["colour"] == "green"


def test_resolving_the_fault_clears_its_delay_but_the_late_schedule_stays(late_and_faulted):
    order, alert = late_and_faulted
    alert_resolve(
        alert=WorkAlert.objects.get(pk=alert.pk),
        by=get_user_model().objects.get(username="qianyi"),
        cause="spindle bearing",
        action="replaced",
    )
    order.refresh_from_db()
    assert order.exception_delay_minutes == 0 and order.exception_note == ""
    api = APIClient()
    api.force_authenticate(get_user_model().objects.get(username="zhouba"))
    risk = api.get(f"/api/v1/production-orders/{order.pk}/").json()["delivery_risk"]
    assert risk["exception_delay_minutes"] == 0 and risk["level"] == "late"
    assert risk["schedule_late"] and not any(alert.number in r for r in risk["reasons"])
