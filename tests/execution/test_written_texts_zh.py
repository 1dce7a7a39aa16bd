"""What execution writes into other rows is read in the reader's language (core/texts.py):
the pause reason of a task an exception had blocked, the expected-delay note on sales and
production orders, the cause a quality hold's release writes into its exception, and the
dispatcher's reasons; rows written before they had ids keep their English. Its refusals
(exceptions, events, material, labour, downtime) answer in the request's language."""

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.test import Client
from django.utils import translation

from execution.models import DispatchDecision, EventApproval, Severity, Task, WorkAlert
from execution.services.alerts import alert_move_to_backup, alert_raise, alert_resolve
from execution.services.tasks import dispatch_next, task_assign
from planning.models import ProductionOrder, SalesOrder
from quality.models import QualityHold
from resources.models import Equipment
from tests.execution.test_alerts import machining_on_cnc01  # noqa: F401 — a fixture
from tests.quality import PASSWORD, client_as, hsg_released
from tests.quality.test_holds import visual_checks

pytestmark = [pytest.mark.django_db, pytest.mark.clock("2026-12-09T10:00:00+08:00")]

ZH = {"HTTP_ACCEPT_LANGUAGE": "zh-hans"}
EN = {"HTTP_ACCEPT_LANGUAGE": "en"}


def client_for(username: str) -> Client:
    client = Client()
    client.force_login(get_user_model().objects.get(username=username))
    return client


def user(username: str):
    return get_user_model().objects.get(username=username)


@pytest.fixture
def cnc01_fault(machining_on_cnc01) -> WorkAlert:  # noqa: F811
    """CNC-01 in fault while MO-2026-00001's machining runs on it (sales order SO-2026-0001),
    described by the person who raised it."""
    return alert_raise(
        alert_type="equipment_fault",
        severity=Severity.URGENT,
        description="Spindle overload alarm",
        equipment=Equipment.objects.get(code="CNC-01"),
        order=ProductionOrder.objects.get(number="MO-2026-00001"),
        expected_downtime_minutes=240,
        by=user("zhangsan"),
    )


# --- the delay note on the sales order and the production order ---------------------------


def test_the_delay_note_is_stored_as_a_text_and_read_in_chinese(cnc01_fault, api_as):
    alert = cnc01_fault
    so = SalesOrder.objects.get(number="SO-2026-0001")
    assert so.expected_delay_minutes == 240
    assert so.delay_note == f"{alert.number}: equipment fault — Spindle overload alarm"
    assert so.delay_note_id == "%(number)s: %(type)s — %(description)s"
    assert so.delay_note_params["description"] == "Spindle overload alarm"  # typed: as typed
    mo = ProductionOrder.objects.get(number="MO-2026-00001")
    assert mo.exception_note == so.delay_note and mo.exception_note_id == so.delay_note_id

    zh_note = f"{alert.number}：设备故障 — Spindle overload alarm"
    page = client_for("zhouba").get("/planning/sales-orders/", **ZH).content.decode()
    assert zh_note in page and "equipment fault" not in page
    english = client_for("zhouba").get("/planning/sales-orders/", **EN).content.decode()
    assert so.delay_note in english

    api = api_as("zhouba")
    row = next(
        r
        for r in api.get("/api/v1/sales-orders/", {"limit": 200}, **ZH).json()["results"]
        if r["number"] == "SO-2026-0001"
    )
    assert row["delay_note"] == zh_note
    assert row["delay_note_id"] == so.delay_note_id
    assert row["delay_note_params"]["number"] == alert.number
    english_rows = api.get("/api/v1/sales-orders/", {"limit": 200}, **EN).json()["results"]
    assert so.delay_note in {r["delay_note"] for r in english_rows}

    # The production order's delivery risk quotes its note in the reader's language.
    order = api.get(f"/api/v1/production-orders/{mo.pk}/", **ZH).json()
    reasons = " ".join(order["delivery_risk"]["reasons"])
    assert zh_note in reasons and "equipment fault" not in reasons
    detail = client_for("zhouba").get(f"/planning/orders/{mo.pk}/", **ZH).content.decode()
    assert zh_note in detail


def test_the_admin_shows_the_notes_in_chinese_and_does_not_edit_them(cnc01_fault):
    alert = cnc01_fault
    admin = get_user_model().objects.create_superuser("root", "root@plant.local", "pw-12345-x")
    client = Client()
    client.force_login(admin)
    so = SalesOrder.objects.get(number="SO-2026-0001")
    mo = ProductionOrder.objects.get(number="MO-2026-00001")
    zh_note = f"{alert.number}：设备故障 — Spindle overload alarm"
    for url in (
        f"/admin/planning/salesorder/{so.pk}/change/",
        f"/admin/planning/productionorder/{mo.pk}/change/",
    ):
        page = client.get(url, **ZH)
        html = page.content.decode()
        assert page.status_code == 200 and zh_note in html, url
        assert 'name="delay_note' not in html and 'name="exception_note' not in html


def test_a_delay_note_written_before_ids_shows_its_english(cnc01_fault):
    SalesOrder.objects.filter(number="SO-2026-0001").update(
        delay_note="EX-OLD: equipment fault — written long ago",
        delay_note_id="",
        delay_note_params={},
    )
    page = client_for("zhouba").get("/planning/sales-orders/", **ZH).content.decode()
    assert "EX-OLD: equipment fault — written long ago" in page


# --- the pause reason of a task an exception had blocked ----------------------------------


def test_the_task_comes_back_paused_with_its_reason_in_chinese(cnc01_fault, api_as):
    alert = cnc01_fault
    alert_resolve(alert=alert, by=user("sunqi"), cause="Bearing worn", action="Bearing changed")
    task = Task.objects.get(order__number="MO-2026-00001", operation__sequence=20)
    assert task.status == Task.Status.PAUSED
    assert task.pause_reason == f"Was blocked by {alert.number}"
    assert task.pause_reason_id == "Was blocked by %(number)s"
    zh_reason = f"曾被 {alert.number} 阻塞"

    card = client_for("zhangsan").get(f"/execution/terminal/task/{task.pk}/", **ZH)
    assert card.status_code == 200
    assert zh_reason in card.content.decode() and "Was blocked" not in card.content.decode()

    board = client_for("sunqi").get(f"/execution/board/{task.order_id}/", **ZH).content.decode()
    assert zh_reason in board and "Was blocked" not in board

    supervisor = client_for("sunqi").get("/execution/supervisor/tasks/", **ZH).content.decode()
    assert zh_reason in supervisor

    rows = api_as("sunqi").get("/api/v1/execution/tasks/", {"limit": 500}, **ZH).json()
    row = next(r for r in rows["results"] if r["id"] == task.pk)
    assert row["pause_reason"] == zh_reason
    assert row["pause_reason_id"] == "Was blocked by %(number)s"
    assert row["pause_reason_params"] == {"number": alert.number}
    english = api_as("sunqi").get("/api/v1/execution/tasks/", {"limit": 500}, **EN).json()
    assert next(r for r in english["results"] if r["id"] == task.pk)["pause_reason"] == (
        task.pause_reason
    )

    # The operator resumes and pauses it in their own words: kept as given, no id.
    zhangsan = api_as("zhangsan")
    base = {"order": "MO-2026-00001", "sequence": 20}
    resumed = zhangsan.post(
        "/api/v1/execution/events/", {**base, "event_id": "r1", "kind": "resume"}, format="json"
    )
    assert resumed.status_code == 201, resumed.content
    paused = zhangsan.post(
        "/api/v1/execution/events/",
        {**base, "event_id": "p1", "kind": "pause", "reason": "换刀"},
        format="json",
    )
    assert paused.status_code == 201, paused.content
    task.refresh_from_db()
    assert (task.pause_reason, task.pause_reason_id, task.pause_reason_params) == ("换刀", "", {})


def test_a_pause_reason_written_before_ids_shows_its_english(cnc01_fault):
    task = Task.objects.get(order__number="MO-2026-00001", operation__sequence=20)
    Task.objects.filter(pk=task.pk).update(status="paused", pause_reason="Was blocked by EX-OLD")
    card = client_for("zhangsan").get(f"/execution/terminal/task/{task.pk}/", **ZH)
    assert "Was blocked by EX-OLD" in card.content.decode()
    board = client_for("sunqi").get(f"/execution/board/{task.order_id}/", **ZH).content.decode()
    assert "Was blocked by EX-OLD" in board


# --- the cause a quality hold's release writes ---------------------------------------------


def test_the_cause_a_hold_release_writes_is_read_in_chinese(demo_plant, api_as):
    visual_checks(hsg_released(), failures={2, 19})
    hold = QualityHold.objects.get()
    released = client_as("fengjie").post(
        f"/api/v1/quality/holds/{hold.pk}/release/",
        {"reason": "模具排气孔已清理", "password": PASSWORD},
        format="json",
    )
    assert released.status_code == 200, released.content
    alert = WorkAlert.objects.get(pk=hold.alert_id)
    english = f"Defect rate back under control (quality hold {hold.pk} released)"
    assert alert.cause == english and alert.cause_params == {"hold": hold.pk}
    url = f"/api/v1/execution/exceptions/{alert.pk}/"
    zh = api_as("fengjie").get(url, **ZH).json()
    zh_cause = f"不良率已恢复受控（质量冻结 {hold.pk} 已解除）"
    assert zh["cause"] == zh_cause
    assert zh["cause_id"] == "Defect rate back under control (quality hold %(hold)s released)"
    resolved = next(s for s in zh["steps"] if s["kind"] == "resolved")
    assert resolved["text"].startswith(f"原因：{zh_cause}。措施：模具排气孔已清理。")
    assert api_as("fengjie").get(url, **EN).json()["cause"] == english
    page = client_for("fengjie").get(f"/execution/exceptions/{alert.pk}/", **ZH).content.decode()
    assert zh_cause in page and "Defect rate back" not in page


def test_a_typed_cause_stays_as_typed_and_an_old_one_shows_its_english(cnc01_fault, api_as):
    alert = alert_resolve(
        alert=cnc01_fault, by=user("sunqi"), cause="Bearing worn", action="Bearing changed"
    )
    assert (alert.cause, alert.cause_id, alert.cause_params) == ("Bearing worn", "", {})
    zh = api_as("sunqi").get(f"/api/v1/execution/exceptions/{alert.pk}/", **ZH).json()
    assert zh["cause"] == "Bearing worn"
    assert next(s for s in zh["steps"] if s["kind"] == "resolved")["text"].startswith(
        "原因：Bearing worn。措施：Bearing changed。"
    )


# --- the dispatcher's reasons --------------------------------------------------------------


def test_dispatch_reasons_are_read_in_chinese_and_old_ones_in_english(released, api_as):
    nothing = api_as("sunqi").post(
        "/api/v1/execution/dispatch/", {"equipment": "CMM-01"}, format="json"
    )
    assert nothing.status_code == 204
    decision = DispatchDecision.objects.get(equipment__code="CMM-01")
    assert (decision.reason, decision.reason_id) == ("No ready task.", "No ready task.")
    blocks = Task.objects.get(order=released, operation__sequence=20)
    Task.objects.filter(pk=blocks.pk).update(status="ready", equipment=None)
    blocks.operation.eligible_equipment.set([Equipment.objects.get(code="CNC-02")])
    chosen = dispatch_next(equipment=Equipment.objects.get(code="CNC-02"))
    assert chosen.pk == blocks.pk
    only_here = DispatchDecision.objects.get(task=chosen)
    assert only_here.reason == f"Task {released.number}/20 can only run here"
    DispatchDecision.objects.create(
        equipment=Equipment.objects.get(code="CNC-01"), task=None, reason="Old English reason."
    )

    rows = api_as("sunqi").get("/api/v1/execution/dispatch-decisions/", **ZH).json()["results"]
    by_id = {r["id"]: r for r in rows}
    assert by_id[decision.pk]["reason"] == "没有就绪的任务。"
    assert by_id[only_here.pk]["reason"] == f"任务 {released.number}/20 只能在此设备上运行"
    assert by_id[only_here.pk]["reason_id"] == "Task %(order)s/%(sequence)s can only run here"
    assert {r["reason"] for r in rows} >= {"Old English reason."}

    admin = get_user_model().objects.create_superuser("root", "root@plant.local", "pw-12345-x")
    client = Client()
    client.force_login(admin)
    listing = client.get("/admin/execution/dispatchdecision/", **ZH).content.decode()
    assert "没有就绪的任务。" in listing and "只能在此设备上运行" in listing
    assert "Old English reason." in listing
    change = client.get(f"/admin/execution/dispatchdecision/{decision.pk}/change/", **ZH)
    assert change.status_code == 200 and "没有就绪的任务。" in change.content.decode()


# --- refusals in the request's language ----------------------------------------------------


def test_exception_refusals_answer_in_chinese(cnc01_fault, api_as):
    alert = cnc01_fault
    url = f"/api/v1/execution/exceptions/{alert.pk}/"
    sunqi = api_as("sunqi")
    wrong = sunqi.post(f"{url}move-to-backup/", {"backup": "CMM-01"}, format="json", **ZH)
    assert wrong.status_code == 400
    assert "CMM-01 无法接手这项工作（不适用或不可用）。" in wrong.content.decode()
    assert sunqi.post(f"{url}acknowledge/", **ZH).status_code == 200
    again = sunqi.post(f"{url}acknowledge/", **ZH)
    assert again.status_code == 409
    assert again.json()["detail"] == f"{alert.number} 状态为已确认；只有待处理的异常才能确认。"
    english = sunqi.post(f"{url}acknowledge/", **EN)
    assert english.json()["detail"] == (
        f"{alert.number} is acknowledged; only open ones are acknowledged."
    )
    # The service's own refusal, for a caller past the API's role check (a page, a task).
    with translation.override("zh-hans"), pytest.raises(PermissionDenied) as refused:
        alert_move_to_backup(
            alert=alert, backup=Equipment.objects.get(code="CNC-02"), by=user("zhangsan")
        )
    assert str(refused.value) == "只有班组长或计划员可以把工作转到其他设备。"


def test_event_refusals_answer_in_chinese(released, api_as):
    answer = api_as("wangwu").post(
        "/api/v1/execution/events/",
        {"event_id": "zh-1", "kind": "start", "order": "MO-2026-00001", "sequence": "ten"},
        format="json",
        **ZH,
    )
    assert answer.status_code == 400
    assert "'ten' 不是工序号。" in answer.content.decode()
    missing = api_as("wangwu").post(
        "/api/v1/execution/events/",
        {
            "event_id": "zh-2",
            "kind": "start",
            "order": "MO-2026-00001",
            "sequence": 10,
            "operator": "NOBODY",
        },
        format="json",
        **ZH,
    )
    assert missing.status_code == 400
    assert "没有工号为 'NOBODY' 的操作员。" in missing.content.decode()


# --- why a task has its operator -----------------------------------------------------------


def test_assignment_notes_are_read_in_chinese_and_old_ones_in_english(demo_plant, api_as):
    from tests.execution.test_assignment_note import release_housings

    order = release_housings()
    moulding = Task.objects.get(order=order, operation__sequence=10)
    check = Task.objects.get(order=order, operation__sequence=20)
    assert moulding.assignment_note == "Auto: INJ expert, on shift, 0 open tasks"
    assert moulding.assignment_note_id == "Auto: %(why)s, on shift, %(count)s open tasks"
    rows = api_as("sunqi").get("/api/v1/execution/tasks/", {"limit": 500}, **ZH).json()
    by_id = {r["id"]: r for r in rows["results"]}
    assert by_id[moulding.pk]["assignment_note"] == "自动：INJ 专家，当班，0 个未完成任务"
    assert by_id[check.pk]["assignment_note"] == "自动：所属工作中心 INJ，当班，1 个未完成任务"
    Task.objects.filter(pk=check.pk).update(
        assignment_note="Auto: written long ago", assignment_note_id="", assignment_note_params={}
    )
    rows = api_as("sunqi").get("/api/v1/execution/tasks/", {"limit": 500}, **ZH).json()
    assert {r["id"]: r for r in rows["results"]}[check.pk]["assignment_note"] == (
        "Auto: written long ago"
    )
    # A supervisor's reassignment: their words kept as typed inside the stored sentence.
    task_assign(task=check, operator=moulding.operator, by=user("sunqi"), note="zhangsan on leave")
    rows = api_as("sunqi").get("/api/v1/execution/tasks/", {"limit": 500}, **ZH).json()
    assert {r["id"]: r for r in rows["results"]}[check.pk]["assignment_note"] == (
        "班组长：zhangsan on leave"
    )
    assert Task.objects.get(pk=check.pk).assignment_note == "Supervisor: zhangsan on leave"


def test_an_approvals_reasons_are_listed_as_the_readers_language_lists_them():
    approval = EventApproval(reasons=[EventApproval.Reason.BACKDATED, "over_delivery"])
    with translation.override("zh-hans"):
        assert approval.reason_labels == "补录（时间早于当前班次）、超量报工"
    with translation.override("en"):
        assert approval.reason_labels == "Backdated, Over-delivery"
