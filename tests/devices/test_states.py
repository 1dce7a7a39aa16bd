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


@pytest.mark.parametrize("seed", range(6))
def test_a_batch_ends_as_the_same_samples_sent_one_by_one(demo_plant, feed, seed, settings):
    """The ingest applies of a batch only the samples that can change a machine's state
    (devices.services.ingest._state_inputs): CNC-01 fed sample by sample and CNC-02 fed the
    same samples in one batch end with the same intervals and the same link."""
    import random

    from devices.engines.samples import LinkChange

    settings.DEVICES_MICRO_STOP_SECONDS = 30
    rng = random.Random(seed)
    steps = []
    for _ in range(120):
        at = feed.tick(rng.choice([0.5, 1, 1, 3, 20, 60]))
        roll = rng.random()
        if roll < 0.05:
            steps.append(("link", rng.random() < 0.5, at))
        elif roll < 0.25:
            steps.append(("state", rng.choice([0, 1, 1, 2, 3]), at))
        elif roll < 0.35:
            steps.append(("fault", rng.choice([0, 0, 1]), at))
        else:
            steps.append((rng.choice(["temperature", "spindle_speed"]), rng.randint(0, 900), at))

    def inputs(code):
        samples, changes = [], []
        for signal, value, at in steps:
            if signal == "link":
                changes.append(LinkChange("line1-modbus", (code,), value, at))
            else:
                samples.append(feed.sample(code, signal, value, at))
        return samples, changes

    samples, changes = inputs("CNC-01")
    merged = sorted(
        [(s.at, 1, s) for s in samples] + [(c.at, 0 if c.connected else 2, c) for c in changes],
        key=lambda t: t[:2],
    )
    for _, _, item in merged:
        if isinstance(item, LinkChange):
            feed.send(changes=[item])
        else:
            feed.send(item)
    samples, changes = inputs("CNC-02")
    feed.send(*samples, changes=changes)

    def outcome(code):
        link = EquipmentLink.objects.get(equipment__code=code)
        rows = StateInterval.objects.filter(equipment__code=code).order_by("start")
        return (
            [(i.state, i.start, i.end, i.small_stop) for i in rows],
            (link.connected, link.last_seen_at, link.machine_state, link.fault_on),
            Equipment.objects.get(code=code).status,
        )

    one_by_one, batched = outcome("CNC-01"), outcome("CNC-02")
    assert len(one_by_one[0]) > 5
    assert batched == one_by_one
