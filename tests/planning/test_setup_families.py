"""Setup families (sequence-dependent changeovers), the planning side: a routing step's
family is imported, copied to the order's operations, shown by the API, the admin and the
pages, and handed to the scheduler with each machine's changeover minutes and pairs; a
schedule groups the work of one family and says how long its changeovers take."""

import re
from datetime import time, timedelta
from decimal import Decimal

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from core.roles import Role
from integration.engines.b2mml import child, children, text
from integration.selectors.b2mml_export import export_bytes
from planning.models import (
    OrderOperation,
    ProductionOrder,
    Routing,
    RoutingStep,
    ScheduleAssignment,
    ScheduleRun,
)
from planning.selectors.schedule import (
    planned_changeovers,
    schedule_problem_build,
    schedule_run_words,
)
from planning.services.imports import masterdata_import
from planning.services.orders import production_order_create
from planning.services.schedule import schedule_run_execute
from resources.models import Equipment, EquipmentChangeover, Item
from tests.factories import EquipmentFactory, ItemFactory, ShiftFactory, UserFactory
from tests.integration_b2mml.helpers import valid
from tests.planning.importing import counts, plant_create

pytestmark = pytest.mark.django_db

HEADER = (
    "item,version,step_no,name,work_center,eligible_equipment,setup_minutes,"
    "run_minutes_per_unit,required_skill,min_skill_level,setup_family"
)


def origin():
    return timezone.now().replace(second=0, microsecond=0)


@pytest.fixture
def plant():
    plant_create()
    Item.objects.create(code="SH-1", name="Short shaft", source=Item.Source.MAKE)


def test_import_reads_the_setup_family_and_an_order_copies_it(plant):
    data = (
        f"{HEADER}\nSH-1,1,10,Turning,CNC,CNC-01|CNC-02,15,2,CNC,2,SHAFT-S\n"
        "SH-1,1,20,Deburring,CNC,CNC-01,0,1,,1,\n"
    )
    report = masterdata_import(file=data.encode(), file_name="routings.csv")
    assert report.ok, report.errors
    assert dict(RoutingStep.objects.values_list("step_no", "setup_family")) == {
        10: "SHAFT-S",
        20: "",
    }
    order = production_order_create(
        item=Item.objects.get(code="SH-1"),
        quantity=Decimal(10),
        due_date=timezone.localdate() + timedelta(days=5),
    )
    assert dict(order.operations.values_list("sequence", "setup_family")) == {
        10: "SHAFT-S",
        20: "",
    }


def test_import_refuses_a_family_too_long_naming_row_and_column(plant):
    before = counts()
    data = (
        f"{HEADER}\nSH-1,1,10,Turning,CNC,CNC-01,15,2,CNC,2,SHAFT-S\n"
        f"SH-1,1,20,Milling,CNC,CNC-01,15,2,CNC,2,{'X' * 40}\n"
    )
    report = masterdata_import(file=data.encode(), file_name="routings.csv")
    assert [(e.row, e.column) for e in report.errors] == [(3, "setup_family")]
    assert counts() == before


def test_problem_carries_families_changeovers_and_pairs(demo_plant):
    problem, lookup = schedule_problem_build(origin=origin())
    families = {
        (lookup[op.id].order.item.code, lookup[op.id].sequence): op.family
        for job in problem.jobs
        for op in job.operations
    }
    # The demo: engine blocks and cylinder heads share the machining centers, on two fixtures.
    assert families[("EB-500", 20)] == "FX-BLOCK"
    assert families[("CH-300", 10)] == "FX-HEAD"
    assert families[("EB-500", 10)] == ""
    machines = {m.id: m for m in problem.machines}
    for code in ("CNC-01", "CNC-02"):
        machine = machines[Equipment.objects.get(code=code).pk]
        assert machine.changeover == 30
        assert sorted(machine.changeovers) == [
            ("FX-BLOCK", "FX-HEAD", 20),
            ("FX-HEAD", "FX-BLOCK", 45),
        ]
    casting = machines[Equipment.objects.get(code="CAST-01").pk]
    assert (casting.changeover, casting.changeovers) == (0, ())


def test_problem_build_costs_the_same_queries_with_more_pairs(demo_plant):
    with CaptureQueriesContext(connection) as before:
        schedule_problem_build(origin=origin())
    for machine in Equipment.objects.all():
        for n in range(3):
            EquipmentChangeover.objects.create(
                equipment=machine, from_family=f"F{n}", to_family=f"G{n}", minutes=n
            )
    with CaptureQueriesContext(connection) as after:
        problem, _ = schedule_problem_build(origin=origin())
    assert len(after) == len(before)
    # The pairs of every machine in one query, however many machines the problem uses.
    pair_reads = [q for q in after.captured_queries if "equipmentchangeover" in q["sql"]]
    assert len(pair_reads) == 1 and len(problem.machines) > 1
    assert all(len(m.changeovers) >= 3 for m in problem.machines)


def test_api_and_admin_show_the_family(demo_plant):
    client = APIClient()
    client.force_authenticate(UserFactory(username="fam-planner", roles=[Role.PLANNER]))
    routing = Item.objects.get(code="EB-500").routings.get()
    body = client.get(f"/api/v1/routings/{routing.pk}/").json()
    assert {s["step_no"]: s["setup_family"] for s in body["steps"]}[20] == "FX-BLOCK"
    order = ProductionOrder.objects.get(number="MO-2026-00001")
    ops = client.get(f"/api/v1/production-orders/{order.pk}/").json()["operations"]
    assert {op["sequence"]: op["setup_family"] for op in ops}[20] == "FX-BLOCK"

    admin = Client()
    admin.force_login(get_user_model().objects.get(username="admin"))
    page = admin.get(reverse("admin:planning_routing_change", args=[routing.pk]))
    assert page.status_code == 200 and 'value="FX-BLOCK"' in page.content.decode()
    page = admin.get(reverse("admin:planning_productionorder_change", args=[order.pk]))
    assert page.status_code == 200
    machining = OrderOperation.objects.get(order=order, sequence=20)
    assert machining.setup_family == "FX-BLOCK" and 'value="FX-BLOCK"' in page.content.decode()


def test_order_page_and_gantt_name_the_family(demo_plant):
    planner = Client()
    planner.force_login(UserFactory(username="fam-pages", roles=[Role.PLANNER]))
    order = ProductionOrder.objects.get(number="MO-2026-00001")
    html = planner.get(f"/planning/orders/{order.pk}/").content.decode()
    machining = re.search(r'<tr id="operation-20"[^>]*>(.*?)</tr>', html, re.S).group(1)
    casting = re.search(r'<tr id="operation-10"[^>]*>(.*?)</tr>', html, re.S).group(1)
    assert "FX-BLOCK" in machining and "FX-" not in casting

    op = order.operations.get(sequence=20)
    start = timezone.now().replace(minute=0, second=0, microsecond=0)
    OrderOperation.objects.filter(pk=op.pk).update(
        equipment=Equipment.objects.get(code="CNC-01"),
        planned_start=start,
        planned_end=start + timedelta(hours=2),
    )
    gantt = planner.get("/planning/gantt/").content.decode()
    title = re.search(rf"<title>{order.number}/20 [^<]*</title>", gantt).group(0)
    assert "setup family FX-BLOCK" in title


@pytest.mark.parametrize(
    ("pair", "last_ran", "first", "minutes"),
    [
        (("SHAFT-S", "SHAFT-L", 15), "", "SHAFT-S", 15),
        (("SHAFT-L", "SHAFT-S", 15), "", "SHAFT-L", 15),
        # The lathe last turned long shafts: it is set up for them, so it starts with them
        # and changes over once (60), rather than twice (60 into short shafts, then 15).
        (("SHAFT-S", "SHAFT-L", 15), "SHAFT-L", "SHAFT-L", 60),
    ],
)
def test_a_schedule_groups_the_families_and_counts_the_changeover(pair, last_ran, first, minutes):
    # One lathe, short and long shafts ordered turn about: grouped, the lathe changes over
    # once, in the direction its pair makes cheap (15 minutes instead of 60), unless what it
    # is set up for now says otherwise.
    lathe = EquipmentFactory(code="LATHE-1", changeover_minutes=60)
    EquipmentChangeover.objects.create(
        equipment=lathe, from_family=pair[0], to_family=pair[1], minutes=pair[2]
    )
    ShiftFactory(work_center=lathe.work_center, weekdays="1,2,3,4,5,6,7", end_time=time(22))
    for code, family in (("SH-S", "SHAFT-S"), ("SH-L", "SHAFT-L")):
        routing = Routing.objects.create(item=ItemFactory(code=code, source=Item.Source.MAKE))
        step = RoutingStep.objects.create(
            routing=routing,
            step_no=10,
            name="Turning",
            work_center=lathe.work_center,
            setup_minutes=Decimal(10),
            run_minutes_per_unit=Decimal(1),
            setup_family=family,
        )
        step.eligible_equipment.add(lathe)
    due = timezone.localdate() + timedelta(days=20)
    for n, code in enumerate(["SH-S", "SH-L"] * 3):
        production_order_create(
            item=Item.objects.get(code=code),
            quantity=Decimal(30),
            due_date=due,
            number=f"MO-T-{n}",
            status=ProductionOrder.Status.PLANNED,
        )
    if last_ran:
        done = production_order_create(
            item=Item.objects.get(code="SH-L" if last_ran == "SHAFT-L" else "SH-S"),
            quantity=Decimal(5),
            due_date=due,
            number="MO-T-DONE",
        )
        ProductionOrder.objects.filter(pk=done.pk).update(status=ProductionOrder.Status.COMPLETED)
        done.operations.update(
            status=OrderOperation.Status.DONE,
            equipment=lathe,
            actual_start=timezone.now() - timedelta(hours=3),
            actual_end=timezone.now() - timedelta(hours=2),
        )
    problem, _ = schedule_problem_build(origin=origin())
    assert [m.initial_family for m in problem.machines] == [last_ran]
    run = ScheduleRun.objects.create(time_limit_seconds=5)
    run = schedule_run_execute(run_id=run.pk, workers=2)
    assert run.status == "done", run.error
    families = [
        a.operation.setup_family
        for a in ScheduleAssignment.objects.filter(run=run)
        .select_related("operation")
        .order_by("start")
    ]
    assert families == [first] * 3 + [f for f in ("SHAFT-S", "SHAFT-L") if f != first] * 3
    assert run.summary["changeover_minutes"] == minutes
    assert f"{minutes / 60:.1f} h of machine time go to changeovers between setup families." in (
        schedule_run_words(run)
    )
    # The same changeovers read back from the plan, operation by operation, and sent in the
    # B2MML schedule as each segment's SetupFamily and ChangeoverMinutes.
    numbers = [f"MO-T-{n}" for n in range(6)]
    ops = list(OrderOperation.objects.filter(order__number__in=numbers))
    assert sum(planned_changeovers(ops).values()) == minutes
    if not (settings.B2MML_SCHEMA_DIR / "B2MML-OperationsSchedule.xsd").is_file():
        return
    root = valid(export_bytes("schedule", numbers=numbers))
    parameters = [
        (text(p, "ID"), text(p, "Value", "ValueString"))
        for r in children(child(root, "DataArea", "OperationsSchedule"), "OperationsRequest")
        for segment in children(r, "SegmentRequirement")
        for p in children(segment, "SegmentParameter")
    ]
    assert sum(int(v) for k, v in parameters if k == "ChangeoverMinutes") == minutes
    assert (
        sorted(v for k, v in parameters if k == "SetupFamily") == ["SHAFT-L"] * 3 + ["SHAFT-S"] * 3
    )
