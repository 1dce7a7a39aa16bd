"""The supervisor page costs the same number of queries however many flagged labour bookings
(corrected and signed) and held production events it shows; one rule says who supervises."""

from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from execution.models import EventApproval, LabourBooking, Task
from execution.services.approvals import labour_booking_correct
from resources.demo import DEMO_PASSWORD
from resources.models import Operator

pytestmark = [pytest.mark.django_db, pytest.mark.clock("2026-12-09T10:00:00+08:00")]

SHANGHAI = ZoneInfo("Asia/Shanghai")
PAGE = "/execution/supervisor/"


def _rows(count: int, start: int) -> None:
    """`count` flagged bookings, each corrected (signed) by sunqi, and `count` held events."""
    task = Task.objects.select_related("operation").order_by("pk").first()
    operator = Operator.objects.get(badge__isnull=False, user__username="wangwu")
    sunqi = get_user_model().objects.get(username="sunqi")
    wangwu = get_user_model().objects.get(username="wangwu")
    for n in range(start, start + count):
        began = datetime(2026, 12, 1, 13, tzinfo=SHANGHAI) + timedelta(days=n)
        booking = LabourBooking.objects.create(
            operator=operator,
            task=task,
            started_at=began,
            ended_at=began + timedelta(hours=1),
            excess_minutes=Decimal("30"),
        )
        labour_booking_correct(
            booking=booking,
            minutes=Decimal("45"),
            by=sunqi,
            password=DEMO_PASSWORD,
            reason="Agreed.",
        )
        EventApproval.objects.create(
            event_id=f"held-{n}",
            kind="start",
            task=task,
            payload={"occurred_at": began.isoformat()},
            source="api",
            reasons=["backdated"],
            message="Backdated.",
            requested_by=wangwu,
        )


def _page_queries(client: Client) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(PAGE)
    assert response.status_code == 200
    return len(queries)


def test_the_supervisor_page_costs_the_same_queries_for_more_rows(
    released, django_assert_num_queries
):
    client = Client()
    client.force_login(get_user_model().objects.get(username="sunqi"))
    _rows(2, 0)
    few = _page_queries(client)
    _rows(5, 2)
    html = client.get(PAGE).content.decode()
    assert html.count("supervisor-booking-row") == 7 and html.count("supervisor-held-row") == 7
    assert html.count("Corrected from 60 min") == 7
    with django_assert_num_queries(few):
        client.get(PAGE)


def test_one_supervisor_rule_for_the_floor_and_held_events(released):
    """`supervises` decides both who records at a work center and who decides its held
    events; an administrator holds every role there as everywhere (core.roles)."""
    from execution.selectors.ownership import supervises
    from execution.services.approvals import event_approval_may_decide

    users = get_user_model().objects
    task = Task.objects.select_related("operation__work_center").order_by("pk").first()
    work_center = task.operation.work_center
    held = EventApproval.objects.create(
        event_id="held-rule", kind="start", task=task, payload={}, source="api",
        reasons=["backdated"], message="Backdated.", requested_by=users.get(username="wangwu"),
    )  # fmt: skip
    cases = {"sunqi": True, "admin": False, "wangwu": False, "zhouba": False}
    for username, expected in cases.items():
        user = users.get(username=username)
        assert supervises(user, work_center) is expected, username
        assert event_approval_may_decide(approval=held, user=user) is expected, username
    # Where the work center names no supervisor, any supervisor decides — and an administrator.
    work_center.supervisor = None
    work_center.save(update_fields=["supervisor"])
    for username, expected in {"sunqi": True, "admin": True, "wangwu": False}.items():
        user = users.get(username=username)
        assert supervises(user, work_center) is expected, username
        assert event_approval_may_decide(approval=held, user=user) is expected, username


def test_the_open_tasks_refresh_themselves_unless_the_supervisor_is_typing(released):
    client = Client()
    client.force_login(get_user_model().objects.get(username="sunqi"))
    html = client.get(PAGE).content.decode()
    tasks = html[html.index('id="supervisor-tasks"') :].split(">", 1)[0]
    assert "supervisor-tasks-changed from:body" in tasks
    assert "every 15s [!this.contains(document.activeElement)]" in tasks
    partial = client.get(tasks.split('hx-get="', 1)[1].split('"', 1)[0], HTTP_HX_REQUEST="true")
    assert partial.status_code == 200 and "<html" not in partial.content.decode()
