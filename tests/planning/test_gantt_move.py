"""The Gantt: zoom, a colour per order with its legend, labels that fit, a click to the order,
and drag-to-move — the operation pinned where it is dropped after the scheduler's checks, the
rest rescheduled around it, or a 400 that says why and writes nothing."""

import re
from datetime import datetime, timedelta
from types import SimpleNamespace

import pytest
from django.contrib.auth.models import Group
from django.test import Client
from django.utils import timezone

from core.models import AuditEntry
from core.roles import Role
from planning.models import OrderOperation, ScheduleAssignment, ScheduleRun
from planning.services.schedule_moves import MoveRefused, operation_move
from planning.views.schedule import LABEL_CHAR_PX, _bar_label
from resources.models import Equipment, MaintenanceWindow
from resources.selectors.calendar import work_center_working_intervals
from tests.factories import UserFactory
from tests.planning.test_schedule_service import run_now

pytestmark = pytest.mark.django_db


def client_for(role):
    user = UserFactory(username=f"g-{role}")
    user.groups.add(Group.objects.get_or_create(name=role)[0])
    client = Client()
    client.force_login(user)
    return client, user


def _candidate(run):
    """A pending operation of the run in one part whose work center has another machine."""
    for a in ScheduleAssignment.objects.filter(run=run, operation__status="pending").order_by(
        "start"
    ):
        op = a.operation
        if ScheduleAssignment.objects.filter(run=run, operation=op).count() != 1:
            continue
        others = [
            m
            for m in (
                list(op.eligible_equipment.all())
                or list(Equipment.objects.filter(work_center=op.work_center))
            )
            if m.pk != a.equipment_id
        ]
        if others:
            return op, a, others[0]
    pytest.skip("the demo schedule has no movable single-part operation")


def _free_slot(run, op, machine, length, after):
    """A start inside one working interval of `machine`, clear of running work there."""
    held = [
        (a.start, a.end)
        for a in ScheduleAssignment.objects.filter(
            run=run, equipment=machine, operation__status__in=["in_progress", "paused"]
        )
    ]
    intervals = work_center_working_intervals(
        machine.work_center, after, after + timedelta(days=20)
    )
    for s, e in intervals:
        s = max(s, after).replace(second=0, microsecond=0) + timedelta(minutes=1)
        if e - s >= length and not any(hs < s + length and s < he for hs, he in held):
            return s
    pytest.skip("no free working interval found")


@pytest.fixture
def scheduled(scenario):
    def build():
        run = run_now()
        assert run.status == "done", run.error

    scenario("planning.scheduled", build)
    return ScheduleRun.objects.latest("pk")


def test_a_move_pins_the_operation_and_the_next_run_keeps_it(
    scheduled, django_capture_on_commit_callbacks
):
    op, part, machine = _candidate(scheduled)
    length = part.end - part.start
    at = _free_slot(scheduled, op, machine, length, timezone.now() + timedelta(days=2))
    _, planner = client_for(Role.PLANNER)
    with django_capture_on_commit_callbacks(execute=True):
        moved, run = operation_move(operation=op, machine=machine, start=at, by=planner)
    assert moved.frozen and moved.equipment_id == machine.pk and moved.planned_start == at
    assert moved.planned_end == at + length
    run.refresh_from_db()
    assert run.status == ScheduleRun.Status.DONE, run.error  # the rest, rescheduled around it
    kept = ScheduleAssignment.objects.get(run=run, operation=op)
    assert (kept.equipment_id, kept.start, kept.end) == (machine.pk, at, at + length)
    entry = AuditEntry.objects.get(action="operation.move")
    assert entry.data["after"]["machine"] == machine.code
    assert datetime.fromisoformat(entry.data["after"]["start"]) == at


@pytest.mark.parametrize("case", ["machine", "past", "break", "maintenance", "pinned", "started"])
def test_a_refused_move_names_the_reason_and_writes_nothing(scheduled, case):
    op, part, machine = _candidate(scheduled)
    length = part.end - part.start
    at = _free_slot(scheduled, op, machine, length, timezone.now() + timedelta(days=2))
    field = "start"
    if case == "machine":
        machine = (
            Equipment.objects.exclude(work_center=op.work_center)
            .exclude(pk__in=op.eligible_equipment.values("pk"))
            .first()
        )
        field = "machine"
    elif case == "past":
        at = timezone.now() - timedelta(hours=3)
    elif case == "break":
        intervals = work_center_working_intervals(machine.work_center, at, at + timedelta(days=3))
        at = max(e for s, e in intervals[:1]) - length / 2  # runs over the shift's end
        if length < timedelta(minutes=2):
            pytest.skip("too short to cross a break")
    elif case == "maintenance":
        MaintenanceWindow.objects.create(
            equipment=machine, start=at - timedelta(minutes=30), end=at + timedelta(minutes=30),
            reason="Spindle bearing",
        )  # fmt: skip
    elif case == "pinned":
        other = ScheduleAssignment.objects.filter(run=scheduled).exclude(operation=op).first()
        ScheduleAssignment.objects.filter(pk=other.pk).update(
            equipment=machine, start=at, end=at + length
        )
        OrderOperation.objects.filter(pk=other.operation_id).update(frozen=True)
    elif case == "started":
        OrderOperation.objects.filter(pk=op.pk).update(status="in_progress")
        field = "operation"
    before_parts = list(ScheduleAssignment.objects.filter(operation=op).values_list())
    before_op = OrderOperation.objects.filter(pk=op.pk).values_list(
        "equipment_id", "planned_start", "planned_end", "frozen"
    )[0]
    runs = ScheduleRun.objects.count()
    with pytest.raises(MoveRefused) as refused:
        operation_move(operation=op, machine=machine, start=at)
    assert refused.value.field == field, refused.value.message
    assert list(ScheduleAssignment.objects.filter(operation=op).values_list()) == before_parts
    assert (
        OrderOperation.objects.filter(pk=op.pk).values_list(
            "equipment_id", "planned_start", "planned_end", "frozen"
        )[0]
        == before_op
    )
    assert ScheduleRun.objects.count() == runs


def test_the_page_zooms_colours_orders_and_labels_that_fit(scheduled):
    client, _ = client_for(Role.PLANNER)
    ticks = {}
    for view in ("day", "week", "two-weeks", "month"):
        page = client.get(f"/planning/gantt/?view={view}")
        assert page.status_code == 200
        html = page.content.decode()
        ticks[view] = html.count('class="tick"')
        assert 'aria-current="true"' in html
    assert ticks == {"day": 25, "week": 8, "two-weeks": 15, "month": 32}
    html = client.get("/planning/gantt/?view=two-weeks").content.decode()
    bars = re.findall(
        r'<a href="/planning/orders/(\d+)/" class="(bar[^"]*)"[^>]*>\s*<rect x="[\d.]+" y="\d+" '
        r'width="([\d.]+)"[^>]*style="fill: (#[0-9a-f]{6})"[^>]*>.*?</rect>\s*'
        r'(?:<text[^>]*class="bar-label">([^<]*)</text>)?',
        html,
        re.S,
    )
    assert bars, "no bars on the two-week Gantt"
    colour_of: dict[str, str] = {}
    for order_id, _cls, width, colour, label in bars:
        assert colour_of.setdefault(order_id, colour) == colour  # one colour per order
        if label:
            assert len(label) * LABEL_CHAR_PX + 6 <= float(width) + 0.5, (label, width)
    legend = re.findall(r'<li><span class="swatch" style="background: (#[0-9a-f]{6})"></span>'
                        r'<a href="/planning/orders/(\d+)/">', html)  # fmt: skip
    assert {o: c for c, o in legend} == colour_of
    # late work: outlined and marked "!" on its bar, flagged in the legend
    late = set(re.findall(r'<a href="/planning/orders/(\d+)/" class="bar late', html))
    flagged = set(
        re.findall(
            r'<a href="/planning/orders/(\d+)/">[^<]*</a>[^<]*<strong class="late-flag">', html
        )
    )
    assert late == flagged
    for _order_id, cls, _w, _c, label in bars:
        if label:
            assert label.startswith("! ") == ("late" in cls.split()), (cls, label)


def test_a_late_bars_label_fits_with_its_mark():
    """The "! " of a late bar counts in the fit: a bar that holds "01/10" holds "! 10" when late."""
    op = SimpleNamespace(sequence=10, order=SimpleNamespace(number="MO-2026-01"))
    width = len("01/10") * LABEL_CHAR_PX + 6  # exactly "01/10"
    assert _bar_label(op, width, late=False) == "01/10"
    assert _bar_label(op, width, late=True) == "! 10"
    for w in range(0, 120):
        for late in (False, True):
            label = _bar_label(op, w, late=late)
            assert not label or len(label) * LABEL_CHAR_PX + 6 <= w, (label, w)
            assert label.startswith("! ") == (late and bool(label))


def test_only_those_who_may_move_get_the_drag_and_the_endpoint(scheduled):
    op, part, machine = _candidate(scheduled)
    at = _free_slot(
        scheduled, op, machine, part.end - part.start, timezone.now() + timedelta(days=2)
    )
    manager, _ = client_for(Role.PLANT_MANAGER)
    page = manager.get("/planning/gantt/").content.decode()
    assert "gantt-movable" not in page and " movable" not in page
    data = {"operation": op.pk, "machine": machine.pk, "start": at.isoformat()}
    assert manager.post("/planning/gantt/move/", data).status_code == 403
    planner, _ = client_for(Role.PLANNER)
    assert "gantt-movable" in planner.get("/planning/gantt/").content.decode()
    bad = planner.post("/planning/gantt/move/", {**data, "start": "next tuesday"})
    assert bad.status_code == 400 and "start:" in bad.content.decode()
    past = planner.post(
        "/planning/gantt/move/", {**data, "start": (timezone.now() - timedelta(days=1)).isoformat()}
    )
    assert past.status_code == 400 and "in the past" in past.content.decode()
    good = planner.post("/planning/gantt/move/", data, HTTP_HX_REQUEST="true")
    assert good.status_code == 200, good.content[:400]
    assert f"{op.order.number}/{op.sequence} pinned on {machine.code}" in good.content.decode()
    assert OrderOperation.objects.get(pk=op.pk).frozen


def test_capacity_per_machine_adds_up_to_the_work_center(scheduled):
    from planning.selectors.capacity import capacity_load, capacity_load_machines

    today = timezone.localdate()
    last = today + timedelta(days=13)
    per_machine = capacity_load_machines(first_day=today, last_day=last)
    per_center = capacity_load(first_day=today, last_day=last)
    machines = {m.code: m.work_center.code for m in Equipment.objects.select_related("work_center")}
    summed: dict = {}
    for cell in per_machine:
        key = (machines[cell.work_center], cell.day)
        summed[key] = summed.get(key, 0.0) + cell.load
    loaded = [c for c in per_center if c.load > 0]
    assert loaded, "the demo schedule puts no load in the next two weeks"
    for cell in loaded:
        assert summed[(cell.work_center, cell.day)] == pytest.approx(cell.load, abs=0.5)
    # a machine in maintenance has fewer minutes that day than its work center's shifts
    machine = Equipment.objects.first()
    day, before = next(
        (c.day, c.available)
        for c in per_machine
        if c.work_center == machine.code and c.available > 0 and c.day > today
    )
    start = timezone.make_aware(timezone.datetime.combine(day, timezone.datetime.min.time()))
    MaintenanceWindow.objects.create(
        equipment=machine, start=start, end=start + timedelta(days=1), reason="Overhaul"
    )
    after = capacity_load_machines(first_day=day, last_day=day)
    assert {c.work_center: c.available for c in after}[machine.code] == 0
    client, _ = client_for(Role.PLANNER)
    page = client.get("/planning/capacity/?by=machine").content.decode()
    assert machine.code in page and 'aria-current="true">By machine' in page


def test_pages_load_htmx_without_the_debug_helper_that_replaces_the_page(scheduled, settings):
    """Under DEBUG (make run), django-htmx's helper would replace the whole page with any 400
    answer of an HTMX action; ours are fragments to swap where they were asked for."""
    settings.DEBUG = True
    client, _ = client_for(Role.PLANNER)
    html = client.get("/planning/gantt/").content.decode()
    assert "django_htmx/htmx-2.min.js" in html
    assert "django-htmx.js" not in html
