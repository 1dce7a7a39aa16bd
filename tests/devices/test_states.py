"""State intervals: one open per machine, never overlapping; small stops; disconnection;
equipment status following the live state."""

from datetime import timedelta

import pytest
from rest_framework.test import APIClient

from devices.models import EquipmentLink, StateInterval
from resources.models import Equipment

pytestmark = pytest.mark.django_db


def intervals(code: str) -> list[tuple]:
    return [
        (i.state, i.small_stop, i.end is None)
        for i in StateInterval.objects.filter(equipment__code=code).order_by("start")
    ]


def assert_no_overlap(code: str) -> None:
    rows = list(StateInterval.objects.filter(equipment__code=code).order_by("start"))
    for before, after in zip(rows, rows[1:], strict=False):
        assert before.end is not None and before.end <= after.start
    assert sum(1 for r in rows if r.end is None) <= 1


def test_intervals_follow_the_state_signal_and_mark_small_stops(demo_plant, feed, settings):
    settings.DEVICES_MICRO_STOP_SECONDS = 120
    feed.read("CNC-02", state=1)
    feed.read("CNC-02", state=1, seconds=30)  # unchanged: the same interval
    feed.read("CNC-02", state=0, seconds=30)  # a stop of 60 s: small
    feed.read("CNC-02", state=1, seconds=60)
    feed.read("CNC-02", state=0, seconds=60)  # a stop of 300 s: not small
    feed.read("CNC-02", state=1, seconds=300)
    feed.read("CNC-02", state=3, seconds=10)
    # CNC-02 has queued work in the demo (background batches), so a stop is a stop, not idle.
    assert intervals("CNC-02") == [
        ("running", False, False),
        ("stopped", True, False),
        ("running", False, False),
        ("stopped", False, False),
        ("running", False, False),
        ("maintenance", False, True),
    ]
    assert_no_overlap("CNC-02")
    assert Equipment.objects.get(code="CNC-02").status == "maintenance"


def test_stopped_without_work_is_idle(demo_plant, feed):
    from execution.models import Task

    Task.objects.filter(equipment__code="CNC-02").update(equipment=None)
    from planning.models import OrderOperation

    OrderOperation.objects.filter(equipment__code="CNC-02").update(equipment=None)
    feed.read("CNC-02", state=0)
    assert intervals("CNC-02") == [("idle", False, True)]
    assert Equipment.objects.get(code="CNC-02").status == "idle"


def test_fault_bit_forces_fault_over_the_state_signal(demo_plant, feed):
    feed.read("CNC-02", state=1, fault=0)
    feed.read("CNC-02", state=1, fault=1)
    assert intervals("CNC-02")[-1] == ("fault", False, True)
    feed.read("CNC-02", state=1, fault=1)
    feed.read("CNC-02", state=1, fault=0)
    assert [s for s, _, _ in intervals("CNC-02")] == ["running", "fault", "running"]


def test_disconnected_then_back_with_the_state_of_the_next_sample(demo_plant, feed):
    feed.read("CNC-01", state=1)
    feed.link("CNC-01", False)
    link = EquipmentLink.objects.get(equipment__code="CNC-01")
    assert not link.connected
    assert intervals("CNC-01")[-1] == ("disconnected", False, True)
    assert Equipment.objects.get(code="CNC-01").status == "disconnected"
    api = APIClient()
    from django.contrib.auth import get_user_model

    api.force_authenticate(get_user_model().objects.get(username="sunqi"))
    listed = api.get("/api/v1/equipment/").json()
    rows = listed["results"] if isinstance(listed, dict) else listed
    assert next(r for r in rows if r["code"] == "CNC-01")["status"] == "disconnected"
    feed.link("CNC-01", True)
    assert intervals("CNC-01")[-1] == ("disconnected", False, True)  # until a sample says
    feed.read("CNC-01", temperature=400)  # any sample: back, in the last known state
    assert [s for s, _, _ in intervals("CNC-01")] == ["running", "disconnected", "running"]
    link.refresh_from_db()
    assert link.connected and link.last_seen_at == feed.at
    assert Equipment.objects.get(code="CNC-01").status == "running"
    assert_no_overlap("CNC-01")


def test_an_input_older_than_the_open_interval_is_ignored(demo_plant, feed):
    feed.read("CNC-02", state=1)
    late = feed.at - timedelta(minutes=5)
    feed.send(feed.sample("CNC-02", "state", 0, late))
    assert intervals("CNC-02") == [("running", False, True)]
