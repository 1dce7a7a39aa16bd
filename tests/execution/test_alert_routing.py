"""Exception routing by expected impact: the severity follows the expected stop of a machine
and the time until a material shortage bites, by thresholds on the exception rules (the
admin); urgent goes to the work center's supervisor within the hour, severe to the plant
manager or the supply-chain director (with urgent purchasing) and to the supervisor's inbox."""

from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.utils import timezone

from core.models import Notification
from execution.models import AlertRule, AlertType, Severity, Task, WorkAlert
from execution.services.alerts import alert_raise, severity_for_impact
from planning.models import OrderOperation, ProductionOrder
from planning.services.orders import production_order_release
from resources.models import Equipment

# The demo's crews (who is on the casting task) are those of an ordinary working week.
pytestmark = [pytest.mark.django_db, pytest.mark.clock("2026-12-09T10:00:00+08:00")]

HX = {"HTTP_HX_REQUEST": "true"}
FAULT, SHORTAGE = AlertType.EQUIPMENT_FAULT, AlertType.MATERIAL_SHORTAGE


def user(username):
    return get_user_model().objects.get(username=username)


def told(username: str, alert: WorkAlert) -> bool:
    return Notification.objects.filter(
        user__username=username, text__contains=alert.number
    ).exists()


@pytest.mark.parametrize(
    ("minutes", "expected"),
    [(10, "general"), (30, "urgent"), (240, "urgent"), (479, "urgent"), (480, "severe")],
)
def test_a_fault_is_as_severe_as_its_expected_stop(db, minutes, expected):
    assert severity_for_impact(alert_type=FAULT, stop_minutes=minutes) == expected


@pytest.mark.parametrize(
    ("hours", "expected"),
    [
        (0, "severe"),
        (24, "severe"),
        (25, "urgent"),
        (72, "urgent"),
        (73, "general"),
        (144, "general"),
    ],
)
def test_a_shortage_is_as_severe_as_it_is_close(db, hours, expected):
    assert severity_for_impact(alert_type=SHORTAGE, bites_in_minutes=hours * 60) == expected


def test_the_thresholds_are_the_rules_and_the_admin_changes_them(db, admin_client):
    assert severity_for_impact(alert_type=FAULT, stop_minutes=240, at_least="severe") == "severe"
    rule = AlertRule.objects.get(alert_type=FAULT, severity=Severity.SEVERE)
    form = admin_client.get(f"/admin/execution/alertrule/{rule.pk}/change/").content.decode()
    assert 'name="stop_minutes_from"' in form and 'name="shortage_within_hours"' in form
    AlertRule.objects.filter(pk=rule.pk).update(stop_minutes_from=180)
    assert severity_for_impact(alert_type=FAULT, stop_minutes=240) == "severe"
    AlertRule.objects.filter(alert_type=FAULT, stop_minutes_from__isnull=False).update(
        stop_minutes_from=None
    )
    assert severity_for_impact(alert_type=FAULT, stop_minutes=10_000) == "general"


def _release_with_assembly_in(days: float) -> ProductionOrder:
    """The demo's first batch of 50 (assembly needs 50 bearings, 30 in stock), its assembly
    planned `days` from now, released."""
    order = ProductionOrder.objects.get(number="MO-2026-00001")
    start = timezone.now() + timedelta(days=days)
    order.operations.filter(sequence=40).update(
        planned_start=start, planned_end=start + timedelta(hours=5)
    )
    ProductionOrder.objects.filter(pk=order.pk).update(planned_start=timezone.now())
    return production_order_release(order=ProductionOrder.objects.get(pk=order.pk))


def test_a_bearing_shortage_six_days_away_is_not_severe(demo_plant):
    _release_with_assembly_in(6)
    alert = WorkAlert.objects.get(alert_type=SHORTAGE)
    assert alert.severity == Severity.GENERAL
    assert alert.ack_deadline is None and alert.handler_role == "planner"
    assert not alert.requisition.urgent  # ordinary purchasing: there are days to buy
    assert alert.requisition.need_date == (timezone.localdate() + timedelta(days=6))
    assert "BRG-6205" in alert.description


def test_a_bearing_shortage_for_tomorrow_is_severe_and_starts_urgent_purchasing(demo_plant):
    _release_with_assembly_in(0.5)
    alert = WorkAlert.objects.get(alert_type=SHORTAGE)
    assert alert.severity == Severity.SEVERE and alert.handler_role == "supply_chain_director"
    assert alert.requisition.urgent
    assert told("zhengshi", alert)


def test_a_shortage_that_turns_severe_expedites_its_requisition(demo_plant):
    order = _release_with_assembly_in(6)
    quiet = WorkAlert.objects.get(alert_type=SHORTAGE)
    assert not quiet.requisition.urgent
    # The operator at assembly finds the bearings missing and the work stopped: severe.
    assembly = OrderOperation.objects.get(order=order, sequence=40)
    alert = alert_raise(
        alert_type=SHORTAGE,
        severity=Severity.SEVERE,
        description="Bearings missing at assembly",
        operation=assembly,
        by=user("lisi"),
    )
    quiet.requisition.refresh_from_db()
    assert alert.requisition == quiet.requisition and quiet.requisition.urgent
    assert quiet.requisition.need_date == timezone.localdate()


def test_a_four_hour_machine_stop_from_the_terminal_is_urgent_for_the_supervisor(demo_plant):
    order = production_order_release(order=ProductionOrder.objects.get(number="MO-2026-00001"))
    casting = Task.objects.get(order=order, operation__sequence=10)
    wangwu = Client()
    wangwu.force_login(user("wangwu"))
    url = f"/execution/terminal/task/{casting.pk}/problem/"
    assert (
        wangwu.post(url, {"event_id": "s1", "kind": "machine", "stopped": "on"}, **HX).status_code
        == 200
    )
    alert = WorkAlert.objects.get(external_id="terminal-s1")
    assert alert.severity == Severity.URGENT and alert.expected_downtime_minutes == 240
    assert alert.handler == user("sunqi")  # the work center's production supervisor
    assert alert.ack_deadline == pytest.approx(
        alert.raised_at + timedelta(hours=1), abs=timedelta(seconds=5)
    )
    assert told("sunqi", alert)
    bad = wangwu.post(
        url, {"event_id": "s2", "kind": "machine", "stopped": "on", "stop_hours": "lots"}, **HX
    )
    assert bad.status_code == 400 and "Expected stop" in bad.content.decode()
    assert not WorkAlert.objects.filter(external_id="terminal-s2").exists()


def test_a_severe_cnc_fault_reaches_the_supervisors_inbox_too(demo_plant):
    alert = alert_raise(
        alert_type=FAULT,
        severity=Severity.SEVERE,
        description="CNC-02 spindle seized",
        equipment=Equipment.objects.get(code="CNC-02"),
        expected_downtime_minutes=600,
    )
    assert alert.handler_role == "plant_manager"
    for username in ("qianyi", "sunqi"):
        assert told(username, alert)
    inbox = Client()
    inbox.force_login(user("sunqi"))
    assert alert.number in inbox.get("/execution/inbox/").content.decode()
