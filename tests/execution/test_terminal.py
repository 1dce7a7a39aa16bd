"""Operator terminal and supervisor pages: HTMX views over the execution services."""

import re
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test.utils import CaptureQueriesContext

from core.models import Signature
from core.signatures import signature_verify
from execution.models import (
    DispatchDecision,
    IssueApproval,
    LabourBooking,
    MaterialIssue,
    MaterialRequirement,
    ProductionEvent,
    Task,
)
from planning.models import OrderOperation
from resources.models import Operator, StockBalance

pytestmark = pytest.mark.django_db

HX = {"HTTP_HX_REQUEST": "true"}
ORDER = "MO-2026-00001"


@pytest.fixture
def as_user(client):
    def login(username: str):
        client.force_login(get_user_model().objects.get(username=username))
        return client

    return login


def task_of(sequence: int) -> Task:
    return Task.objects.get(order__number=ORDER, operation__sequence=sequence)


def card_ids(html: str) -> set[int]:
    return {int(pk) for pk in re.findall(r'id="terminal-task-(\d+)"', html)}


def form_event_id(html: str, action: str) -> str:
    """The event id the rendered card carries for one of its actions."""
    match = re.search(
        rf'/{action}/"[^>]*>\s*<input type="hidden" name="event_id" value="([0-9a-f-]+)"', html
    )
    assert match, f"no {action} form in the card"
    return match.group(1)


def words(html: str) -> str:
    """The page's text with every run of white space as one space."""
    return " ".join(html.split())


def act(client, task: Task, action: str, **data):
    data.setdefault("event_id", f"t-{action}-{ProductionEvent.objects.count()}")
    return client.post(f"/execution/terminal/task/{task.pk}/{action}/", data, **HX)


def test_terminal_shows_only_my_tasks(released, as_user):
    client = as_user("wangwu")
    page = client.get("/execution/terminal/")
    assert page.status_code == 200
    html = page.content.decode()
    wangwu = Operator.objects.get(user__username="wangwu")
    mine = set(
        Task.objects.filter(operator=wangwu, status__in=Task.OPEN).values_list("pk", flat=True)
    )
    assert task_of(10).pk in mine
    assert card_ids(html) == mine
    assert 'id="terminal-scan-code"' in html and "autofocus" in html
    assert "10 Casting" in html

    # lisi sees the assembly, not the casting; with HX-Request the list partial only.
    partial = as_user("lisi").get("/execution/terminal/", **HX).content.decode()
    assert "<html" not in partial
    assert task_of(40).pk in card_ids(partial) and task_of(10).pk not in card_ids(partial)


def test_user_without_operator_gets_a_clear_message(released, as_user):
    html = as_user("sunqi").get("/execution/terminal/").content.decode()
    assert "not linked to an operator" in html
    assert card_ids(html) == set()


def test_start_report_pause_resume_complete_through_the_terminal(released, as_user):
    client = as_user("wangwu")
    casting = task_of(10)
    card = client.get(f"/execution/terminal/task/{casting.pk}/", **HX).content.decode()

    started = act(client, casting, "start", event_id=form_event_id(card, "start"))
    assert started.status_code == 200, started.content
    html = started.content.decode()
    assert "Started." in html and 'data-status="running"' in html
    assert "/pause/" in html and "/complete/" in html and "Good unit" in html

    # Serial-tracked engine blocks: one unit per report, named by its trace code.
    report = act(client, casting, "report", trace_code="EB-T-0001", verdict="good")
    assert report.status_code == 200 and "Reported 1 good (EB-T-0001)." in report.content.decode()
    scrap = act(client, casting, "report", trace_code="EB-T-0002", verdict="scrap")
    assert "Reported 1 scrap (EB-T-0002)." in scrap.content.decode()

    paused = act(client, casting, "pause", reason="Tool or die change", note="die 3 worn")
    assert paused.status_code == 200
    assert "Paused: Tool or die change — die 3 worn" in paused.content.decode()
    casting.refresh_from_db()
    assert casting.status == "paused" and casting.pause_reason == "Tool or die change — die 3 worn"

    resumed = act(client, casting, "resume")
    assert resumed.status_code == 200 and "Resumed." in resumed.content.decode()
    done = act(client, casting, "complete")
    assert done.status_code == 200 and "Completed." in done.content.decode()
    assert 'data-status="done"' in done.content.decode()

    casting.refresh_from_db()
    assert casting.status == "done"
    assert (casting.quantity_good, casting.quantity_scrap) == (1, 1)
    op = OrderOperation.objects.get(order__number=ORDER, sequence=10)
    assert op.status == "done" and op.quantity_done == 1
    events = list(ProductionEvent.objects.filter(task=casting).order_by("id"))
    assert [e.kind for e in events] == ["start", "report", "report", "pause", "resume", "complete"]
    assert {e.source for e in events} == {"terminal"}
    assert events[1].unit.serial == "EB-T-0001" and events[1].operator.badge == "OP-003"
    assert LabourBooking.objects.filter(task=casting).count() == 2
    assert task_of(20).status == "ready"


def test_double_post_with_the_same_event_id_counts_once(released, as_user):
    client = as_user("wangwu")
    casting = task_of(10)
    assert act(client, casting, "start", event_id="dbl-start").status_code == 200
    again = act(client, casting, "start", event_id="dbl-start")
    assert again.status_code == 200 and "Already recorded" in again.content.decode()

    body = {"event_id": "dbl-report", "trace_code": "EB-D-1", "verdict": "good"}
    first = client.post(f"/execution/terminal/task/{casting.pk}/report/", body, **HX)
    second = client.post(f"/execution/terminal/task/{casting.pk}/report/", body, **HX)
    assert first.status_code == 200 and second.status_code == 200
    assert "Already recorded" in second.content.decode()
    casting.refresh_from_db()
    assert casting.quantity_good == 1
    assert ProductionEvent.objects.filter(task=casting).count() == 2

    # Every rendering of a card gives its forms new ids, so the next tap is a new event.
    ids = {form_event_id(r.content.decode(), "report") for r in (first, second)}
    assert len(ids) == 2 and "dbl-report" not in ids


def test_illegal_action_shows_the_409_message_in_the_card(released, as_user):
    client = as_user("wangwu")
    casting = task_of(10)
    refused = act(client, casting, "pause", reason="Break")
    assert refused.status_code == 409
    html = refused.content.decode()
    assert f'id="terminal-task-{casting.pk}"' in html and 'role="alert"' in html
    assert "is ready; it cannot take a pause event (start it first)" in html

    act(client, casting, "start")
    no_unit = act(client, casting, "report", verdict="good")  # serial-tracked: needs the code
    assert no_unit.status_code == 400
    assert "Trace code: EB-500 is serial-tracked" in no_unit.content.decode()
    no_reason = act(client, casting, "pause")
    assert (
        no_reason.status_code == 400 and "Say why the work is paused." in no_reason.content.decode()
    )
    assert act(client, casting, "resume").status_code == 409
    assert act(client, casting, "fly").status_code == 404
    assert ProductionEvent.objects.filter(task=casting).count() == 1


def test_bad_quantity_is_a_400_in_the_card(released, as_user):
    from resources.models import Item

    Item.objects.filter(code="EB-500").update(tracking=Item.Tracking.NONE)  # counted, not named
    client = as_user("wangwu")
    casting = task_of(10)
    act(client, casting, "start")
    for bad in ("-2", "abc", "NaN"):
        refused = act(client, casting, "report", quantity_good=bad)
        assert refused.status_code == 400
        assert "Good quantity:" in refused.content.decode()
    counted = act(client, casting, "report", quantity_good="12", quantity_scrap="1")
    assert (
        counted.status_code == 200 and "Reported 12 good and 1 scrap." in counted.content.decode()
    )
    casting.refresh_from_db()
    assert (casting.quantity_good, casting.quantity_scrap) == (12, 1)


def test_another_operators_task_is_out_of_reach(released, as_user):
    lisi = as_user("lisi")  # assembly; the casting belongs to wangwu
    casting = task_of(10)
    assert lisi.get(f"/execution/terminal/task/{casting.pk}/", **HX).status_code == 404
    assert act(lisi, casting, "start").status_code == 404
    assert act(lisi, casting, "complete").status_code == 404
    material = lisi.post(
        f"/execution/terminal/task/{casting.pk}/material/",
        {"event_id": "m-x", "code": "S-2026-1101"},
        **HX,
    )
    assert material.status_code == 404
    scan = lisi.post(
        "/execution/terminal/scan/",
        {"event_id": "s-x", "code": "EB-X-1", "task": casting.pk},
        **HX,
    )
    assert scan.status_code == 404
    assert not ProductionEvent.objects.exists() and not MaterialIssue.objects.exists()
    assert task_of(10).status == "ready"


def reassign_casting_to_zhangsan(api_as) -> Task:
    """The supervisor gives wangwu's casting to zhangsan (also qualified for CAST) by the API."""
    casting = task_of(10)
    assert casting.operator.user.username == "wangwu"
    moved = api_as("sunqi").post(
        f"/api/v1/execution/tasks/{casting.pk}/assign/",
        {"operator": "OP-001", "note": "wangwu to moulding"},
        format="json",
    )
    assert moved.status_code == 200, moved.content
    casting.refresh_from_db()
    assert casting.operator.user.username == "zhangsan"
    return casting


def test_tap_on_a_task_reassigned_away_says_who_has_it_and_records_nothing(
    released, as_user, api_as
):
    from execution.models import WorkAlert

    wangwu = as_user("wangwu")
    stale = wangwu.get(f"/execution/terminal/task/{task_of(10).pk}/", **HX).content.decode()
    casting = reassign_casting_to_zhangsan(api_as)

    refused = act(wangwu, casting, "start", event_id=form_event_id(stale, "start"))
    assert refused.status_code == 403  # as event_record answers for someone else's task
    html = refused.content.decode()
    assert f'id="terminal-task-{casting.pk}"' in html and 'data-status="reassigned"' in html
    assert "This task is now assigned to 张三 (by 孙七, " in words(html)
    assert "it is no longer yours." in html and "Nothing was recorded." in html
    # No actions, and nothing of the new operator's progress or material.
    assert "<form" not in html and "<button" not in html
    assert "terminal-count" not in html and "STEEL-42" not in html
    assert refused["HX-Retarget"] == f"#terminal-task-{casting.pk}"

    for action in ("report", "complete", "pause"):
        assert act(wangwu, casting, action, reason="Break").status_code == 403
    material = wangwu.post(
        f"/execution/terminal/task/{casting.pk}/material/",
        {"event_id": "m-r", "code": "S-2026-1101"},
        **HX,
    )
    problem = wangwu.post(
        f"/execution/terminal/task/{casting.pk}/problem/",
        {"event_id": "p-r", "kind": "other"},
        **HX,
    )
    scan = wangwu.post(
        "/execution/terminal/scan/",
        {"event_id": "s-r", "code": "EB-R-1", "task": casting.pk},
        **HX,
    )
    for answer in (material, problem, scan):
        assert answer.status_code == 403
        assert "now assigned to" in answer.content.decode()
    # The scan bar's answer replaces the card, not the scan message.
    assert scan["HX-Retarget"] == f"#terminal-task-{casting.pk}"
    assert scan["HX-Reswap"] == "outerHTML"
    # Opening the card only shows the notice.
    card = wangwu.get(f"/execution/terminal/task/{casting.pk}/", **HX)
    assert card.status_code == 200 and "now assigned to" in card.content.decode()
    assert "Nothing was recorded." not in card.content.decode()

    assert not ProductionEvent.objects.filter(task=casting).exists()
    assert not MaterialIssue.objects.exists() and not IssueApproval.objects.exists()
    assert not WorkAlert.objects.filter(external_id__startswith="terminal-").exists()
    casting.refresh_from_db()
    assert casting.status == "ready" and casting.operator.user.username == "zhangsan"
    # zhangsan, who has it now, starts it as usual.
    assert act(as_user("zhangsan"), casting, "start").status_code == 200


def test_a_task_never_mine_stays_out_of_reach_after_reassignments(released, as_user, api_as):
    casting = reassign_casting_to_zhangsan(api_as)
    lisi = as_user("lisi")  # never had the casting
    assert lisi.get(f"/execution/terminal/task/{casting.pk}/", **HX).status_code == 404
    assert act(lisi, casting, "start").status_code == 404
    scan = lisi.post(
        "/execution/terminal/scan/",
        {"event_id": "s-l", "code": "EB-L-1", "task": casting.pk},
        **HX,
    )
    assert scan.status_code == 404
    assert as_user("wangwu").get("/execution/terminal/task/999999/", **HX).status_code == 404
    # Given back to wangwu, the casting is his again, with its actions.
    api_as("sunqi").post(
        f"/api/v1/execution/tasks/{casting.pk}/assign/", {"operator": "OP-003"}, format="json"
    )
    back = act(as_user("wangwu"), casting, "start")
    assert back.status_code == 200 and "Started." in back.content.decode()
    assert not ProductionEvent.objects.exclude(task=casting).exists()


def test_reassignment_landing_during_the_tap_shows_the_notice(released, as_user, monkeypatch):
    from execution.services.tasks import task_assign
    from execution.views import terminal as terminal_views

    casting = task_of(10)
    zhangsan = Operator.objects.get(badge="OP-001")
    sunqi = get_user_model().objects.get(username="sunqi")
    record = terminal_views.event_record

    def reassigned_first(**kwargs):
        task_assign(task=casting, operator=zhangsan, by=sunqi)
        return record(**kwargs)

    monkeypatch.setattr(terminal_views, "event_record", reassigned_first)
    refused = act(as_user("wangwu"), casting, "start")
    assert refused.status_code == 403
    html = refused.content.decode()
    assert "is not assigned to you" in html and "now assigned to 张三" in words(html)
    assert "<form" not in html
    assert not ProductionEvent.objects.exists()


def test_lot_scan_issues_material_and_an_over_issue_waits_for_approval(released, as_user):
    client = as_user("wangwu")
    casting = task_of(10)
    steel = MaterialRequirement.objects.get(order__number=ORDER, item__code="STEEL-42")
    assert steel.operation_id == casting.operation_id and steel.quantity_required == 100
    stock = lambda: StockBalance.objects.get(item=steel.item, location__code="WH-RAW").on_hand  # noqa: E731
    before = stock()

    url = f"/execution/terminal/task/{casting.pk}/material/"
    issued = client.post(url, {"event_id": "lot-1", "code": "S-2026-1101"}, **HX)
    assert issued.status_code == 200, issued.content
    assert "Issued 100 kg STEEL-42 lot S-2026-1101 from WH-RAW." in issued.content.decode()
    assert stock() == before - 100
    again = client.post(url, {"event_id": "lot-1", "code": "S-2026-1101"}, **HX)
    assert again.status_code == 200 and "Issued 100 kg" in again.content.decode()
    assert MaterialIssue.objects.count() == 1 and stock() == before - 100

    # Scanning the plain lot again: nothing is open any more.
    full = client.post(url, {"event_id": "lot-2", "code": "S-2026-1101"}, **HX)
    assert full.status_code == 400 and "fully issued" in full.content.decode()

    # ITEM*LOT*QTY beyond requirement + 2 %: nothing moves, a planner must approve.
    over = client.post(url, {"event_id": "lot-3", "code": "STEEL-42*S-2026-1101*5"}, **HX)
    assert over.status_code == 202
    html = over.content.decode()
    assert "waiting for planner approval" in html and "+5 waiting for planner approval" in html
    approval = IssueApproval.objects.get()
    assert approval.status == "pending" and approval.quantity == 5
    assert approval.location.code == "WH-RAW" and approval.lot.code == "S-2026-1101"
    assert stock() == before - 100
    client.post(url, {"event_id": "lot-3", "code": "STEEL-42*S-2026-1101*5"}, **HX)
    assert IssueApproval.objects.count() == 1

    # A lot this operation does not need, and an unknown code.
    bearings = client.post(url, {"event_id": "lot-4", "code": "B-2026-1015"}, **HX)
    assert bearings.status_code == 400
    assert (
        "Lot B-2026-1015 is BRG-6205; operation 10 does not need it." in bearings.content.decode()
    )
    for n, bad in enumerate(("STEEL-42*S-2026-1101*NaN", "STEEL-42*S-2026-1101*x")):
        refused = client.post(url, {"event_id": f"bad-{n}", "code": bad}, **HX)
        assert refused.status_code == 400
    nan = client.post(url, {"event_id": "bad-9", "code": "S-2026-1101", "quantity": "NaN"}, **HX)
    assert nan.status_code == 400 and "is not a quantity" in nan.content.decode()
    unknown = client.post(url, {"event_id": "lot-5", "code": "NOPE"}, **HX)
    assert unknown.status_code == 400 and "Unknown lot NOPE." in unknown.content.decode()
    # A mistyped scan is a message on the card, not an exception form opened for the operator.
    assert 'class="terminal-exception" open' not in unknown.content.decode()


def test_scan_bar_issues_lots_and_reports_units(released, as_user):
    client = as_user("wangwu")
    casting = task_of(10)
    act(client, casting, "start")
    lot = client.post(
        "/execution/terminal/scan/",
        {"event_id": "scan-1", "code": "STEEL-42*S-2026-1101*40", "task": casting.pk},
        **HX,
    )
    assert lot.status_code == 200
    assert lot["HX-Retarget"] == f"#terminal-task-{casting.pk}"
    html = lot.content.decode()
    assert "Issued 40 kg STEEL-42" in html
    assert 'id="terminal-scan-event-id"' in html and 'hx-swap-oob="true"' in html

    unit = client.post(
        "/execution/terminal/scan/",
        {"event_id": "scan-2", "code": "EB-S-0001", "task": casting.pk},
        **HX,
    )
    assert unit.status_code == 200 and "Reported 1 good (EB-S-0001)." in unit.content.decode()
    # The same scan arriving twice (a retry) is recorded once.
    client.post(
        "/execution/terminal/scan/",
        {"event_id": "scan-2", "code": "EB-S-0001", "task": casting.pk},
        **HX,
    )
    casting.refresh_from_db()
    assert casting.quantity_good == 1
    event = ProductionEvent.objects.get(event_id="scan-2")
    assert event.source == "terminal" and event.trace_code == "EB-S-0001"


def test_terminal_page_costs_a_constant_number_of_queries(released, as_user):
    client = as_user("wangwu")
    client.get("/execution/terminal/")
    with CaptureQueriesContext(connection) as few:
        client.get("/execution/terminal/", **HX)
    wangwu = Operator.objects.get(user__username="wangwu")
    Task.objects.filter(order__number=ORDER).update(operator=wangwu)
    with CaptureQueriesContext(connection) as more:
        html = client.get("/execution/terminal/", **HX).content.decode()
    assert len(card_ids(html)) >= 4
    assert len(more) == len(few)


# --- Supervisor ---------------------------------------------------------------------------


def test_supervisor_page_is_for_supervisors_and_planners(released, as_user):
    assert as_user("wangwu").get("/execution/supervisor/").status_code == 403
    assert as_user("zhaoliu").get("/execution/supervisor/").status_code == 403
    assert as_user("zhouba").get("/execution/supervisor/").status_code == 200
    page = as_user("sunqi").get("/execution/supervisor/")
    assert page.status_code == 200
    html = page.content.decode()
    casting = task_of(10)
    assert f'id="supervisor-task-{casting.pk}"' in html
    assert casting.assignment_note in html and "王五" in html
    # The demo's bearing shortage, with its urgent requisition.
    assert "BRG-6205" in html and "urgent purchase requisition" in html
    assert "Dispatch next" in html
    operator = as_user("lisi")
    assert operator.post(f"/execution/supervisor/tasks/{casting.pk}/assign/").status_code == 403


def test_supervisor_reassigns_with_the_skill_check(released, as_user):
    client = as_user("sunqi")
    machining = task_of(20)
    lisi = Operator.objects.get(badge="OP-002")  # CNC trainee; machining needs qualified
    url = f"/execution/supervisor/tasks/{machining.pk}/assign/"
    refused = client.post(url, {"operator": lisi.pk, "note": "zhangsan on leave"}, **HX)
    assert refused.status_code == 400
    assert "does not hold CNC at qualified level or above" in refused.content.decode()
    assert task_of(20).operator.badge == "OP-001"
    assert client.post(url, {"operator": ""}, **HX).status_code == 400

    wangwu = Operator.objects.get(badge="OP-003")
    from resources.models import OperatorSkill, Skill

    OperatorSkill.objects.create(operator=wangwu, skill=Skill.objects.get(code="CNC"), level=2)
    moved = client.post(url, {"operator": wangwu.pk, "note": "zhangsan on leave"}, **HX)
    assert moved.status_code == 200
    html = moved.content.decode()
    assert "Assigned to 王五." in html and "Supervisor: zhangsan on leave" in html
    machining.refresh_from_db()
    assert machining.operator == wangwu and machining.assigned_by.username == "sunqi"
    # ... and it shows on wangwu's terminal.
    assert machining.pk in card_ids(as_user("wangwu").get("/execution/terminal/").content.decode())


def test_supervisor_dispatches_the_next_task_with_its_reason(released, as_user):
    from resources.models import Equipment

    client = as_user("sunqi")
    cast = Equipment.objects.get(code="CAST-01")
    response = client.post(f"/execution/supervisor/machines/{cast.pk}/dispatch/", **HX)
    assert response.status_code == 200
    assert response["HX-Trigger"] == "supervisor-tasks-changed"
    decision = DispatchDecision.objects.get(equipment=cast)
    html = response.content.decode()
    assert decision.reason in html and "Next:" in html
    assert decision.task is not None and decision.task.status == "ready"
    # The page shows the latest decision per machine.
    assert decision.reason in client.get("/execution/supervisor/").content.decode()
    assert client.get("/execution/supervisor/tasks/", **HX).status_code == 200


def test_planner_approves_an_over_issue_and_supervisor_may_not(released, as_user):
    wangwu = as_user("wangwu")
    casting = task_of(10)
    url = f"/execution/terminal/task/{casting.pk}/material/"
    wangwu.post(url, {"event_id": "ap-1", "code": "S-2026-1101"}, **HX)
    wangwu.post(url, {"event_id": "ap-2", "code": "S-2026-1101", "quantity": "7"}, **HX)
    approval = IssueApproval.objects.get()
    steel = approval.requirement
    stock = lambda: StockBalance.objects.get(item=steel.item, location__code="WH-RAW").on_hand  # noqa: E731
    before = stock()

    supervisor = as_user("sunqi")
    page = supervisor.get("/execution/supervisor/").content.decode()
    assert f'id="supervisor-approval-{approval.pk}"' in page and "a planner decides" in page
    assert (
        supervisor.post(f"/execution/supervisor/approvals/{approval.pk}/approve/").status_code
        == 403
    )

    planner = as_user("zhouba")
    page = planner.get("/execution/supervisor/").content.decode()
    assert f"/execution/supervisor/approvals/{approval.pk}/approve/" in page
    assert 'autocomplete="current-password"' in page
    url = f"/execution/supervisor/approvals/{approval.pk}/approve/"
    # Signed: a wrong password approves nothing and moves no stock.
    wrong = planner.post(url, {"reason": "scrap casting", "password": "guess"}, **HX)
    assert wrong.status_code == 400 and "The password is not correct." in wrong.content.decode()
    approval.refresh_from_db()
    assert approval.status == "pending" and stock() == before
    assert not Signature.objects.exists()
    decided = planner.post(url, {"reason": "scrap casting", "password": "closedloop"}, **HX)
    assert decided.status_code == 200 and "Approved" in decided.content.decode()
    assert "Approved</strong> by 周八 (zhouba)" in decided.content.decode()
    approval.refresh_from_db()
    assert approval.status == "approved" and approval.decision_note == "scrap casting"
    signature = Signature.objects.get()
    assert signature.reason == "scrap casting" and signature_verify(signature)
    assert stock() == before - 7
    steel.refresh_from_db()
    assert steel.quantity_issued == Decimal(107)
    twice = planner.post(
        f"/execution/supervisor/approvals/{approval.pk}/reject/",
        {"reason": "no", "password": "closedloop"},
        **HX,
    )
    assert twice.status_code == 409 and "already approved" in twice.content.decode()


def test_supervisor_page_costs_a_constant_number_of_queries(released, as_user):
    from planning.models import ProductionOrder
    from planning.services.orders import production_order_release

    client = as_user("sunqi")
    client.get("/execution/supervisor/")
    with CaptureQueriesContext(connection) as few:
        client.get("/execution/supervisor/")
    second = ProductionOrder.objects.get(number="MO-2026-00002")
    production_order_release(order=second)  # four more tasks, another bearing shortage
    with CaptureQueriesContext(connection) as more:
        html = client.get("/execution/supervisor/").content.decode()
    assert "MO-2026-00002" in html
    assert len(more) == len(few)


def test_operator_raises_a_machine_fault_from_the_card_once(released, as_user):
    from execution.models import AlertType, Severity, WorkAlert

    wangwu = as_user("wangwu")  # casting, on CAST-01
    casting = task_of(10)
    assert act(wangwu, casting, "start").status_code == 200  # CAST: one machine, CAST-01
    page = wangwu.get("/execution/terminal/", **HX).content.decode()
    assert "Exception…" in page and "Problem…" not in page  # the users' word for it
    form_id = form_event_id(page, "problem")
    url = f"/execution/terminal/task/{casting.pk}/problem/"
    # A stop of a shift or more is severe (the rules' thresholds; 4 h would be urgent).
    data = {
        "event_id": form_id,
        "kind": "machine",
        "stopped": "on",
        "stop_hours": "10",
        "note": "Hydraulics leak",
    }
    answer = wangwu.post(url, data, **HX)
    html = answer.content.decode()
    assert answer.status_code == 200, html
    raised = WorkAlert.objects.filter(external_id__startswith="terminal-")
    alert = raised.get()
    assert alert.number in html and "severe equipment fault" in html
    assert (alert.alert_type, alert.severity) == (AlertType.EQUIPMENT_FAULT, Severity.SEVERE)
    assert alert.equipment.code == "CAST-01" and alert.operation_id == casting.operation_id
    assert "Hydraulics leak" in alert.description and "王五" in alert.description
    # The same form tapped twice: nothing new.
    assert wangwu.post(url, data, **HX).status_code == 200
    assert raised.count() == 1
    # The machine fault's effects run as for any raised fault: the machine is down.
    alert.equipment.refresh_from_db()
    assert alert.equipment.status == "fault"


def test_terminal_exception_refusals_name_what_is_missing(released, as_user):
    from execution.models import WorkAlert

    wangwu = as_user("wangwu")
    casting = task_of(10)
    url = f"/execution/terminal/task/{casting.pk}/problem/"
    raised = WorkAlert.objects.filter(external_id__startswith="terminal-")
    no_kind = wangwu.post(url, {"event_id": "p1", "note": "?"}, **HX)
    refused = no_kind.content.decode()
    assert no_kind.status_code == 400 and "Choose the kind of exception." in refused
    assert 'class="terminal-exception" open' in refused  # the form stays open to choose
    assert not raised.exists()
    material = wangwu.post(url, {"event_id": "p3", "kind": "material"}, **HX)
    assert material.status_code == 200
    assert raised.get().severity == "urgent"
    # Someone else's task: out of reach, as every terminal action.
    lisi = as_user("lisi")
    assert lisi.post(url, {"event_id": "p4", "kind": "other"}, **HX).status_code == 404
