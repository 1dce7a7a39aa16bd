"""Fault → one exception per fault interval, with the backup proposal; cleared by machine."""

import pytest
from django.contrib.auth import get_user_model

from devices.models import StateInterval
from execution.models import AlertStep, Task, WorkAlert
from execution.services.alerts import alert_acknowledge

pytestmark = pytest.mark.django_db


@pytest.mark.clock("2026-12-09T10:00:00+08:00")  # the backup's free minutes: a working week
def test_a_fault_raises_exactly_one_exception_with_the_backup_proposal(machining_on_cnc01, feed):
    feed.read("CNC-01", state=1, fault=0, batch_id="f-1")
    fault = feed.read("CNC-01", state=1, fault=1, batch_id="f-2")
    assert fault.alerts == 1
    feed.read("CNC-01", state=2, fault=1)  # the fault repeats (and the state says fault too)
    feed.read("CNC-01", state=2, fault=1)
    at = feed.at
    again = feed.send(feed.sample("CNC-01", "fault", 1, at), batch_id="f-2")  # a replay
    assert again.duplicate
    alert = WorkAlert.objects.get()
    assert alert.alert_type == "equipment_fault" and alert.raised_via == "device"
    assert alert.severity == "urgent" and alert.handler.username == "sunqi"
    assert "CNC-01" in alert.description and "fault signal on" in alert.description
    assert alert.impact["backups"][0]["equipment"] == "CNC-02"
    assert alert.impact["orders"][0]["order"] == "MO-2026-00001"
    interval = StateInterval.objects.get(equipment__code="CNC-01", state="fault")
    assert interval.alert_id == alert.pk and alert.external_id.startswith("device-fault:CNC-01:")
    machining = Task.objects.get(order=machining_on_cnc01, operation__sequence=20)
    assert machining.status == "blocked"


def test_a_new_fault_interval_raises_a_new_exception(demo_plant, feed):
    feed.read("CNC-02", state=2)
    feed.read("CNC-02", state=1)
    feed.read("CNC-02", state=2)
    assert WorkAlert.objects.count() == 2
    assert "state code 2" in WorkAlert.objects.first().description


def test_a_fault_that_clears_before_acknowledgement_stays_marked_cleared_by_machine(
    demo_plant, feed
):
    feed.read("CNC-02", state=2)
    feed.read("CNC-02", state=1, seconds=45)
    alert = WorkAlert.objects.get()
    assert alert.status == "open" and alert.link.get("cleared_by_machine")
    assert AlertStep.objects.filter(alert=alert, text__startswith="Cleared by machine").count() == 1
    interval = StateInterval.objects.get(equipment__code="CNC-02", state="fault")
    assert interval.cleared_by_machine and interval.end is not None


def test_an_acknowledged_fault_that_clears_is_not_marked(demo_plant, feed):
    feed.read("CNC-02", state=2)
    alert = WorkAlert.objects.get()
    alert_acknowledge(
        alert=alert,
        by=get_user_model().objects.get(username=alert.handler.username)
        if alert.handler
        else get_user_model().objects.filter(is_superuser=True).first(),
    )
    feed.read("CNC-02", state=1)
    alert.refresh_from_db()
    assert not alert.link.get("cleared_by_machine")
    assert not StateInterval.objects.get(equipment__code="CNC-02", state="fault").cleared_by_machine
