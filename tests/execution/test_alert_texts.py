"""What the exception loop writes (descriptions, timeline steps, notifications and their
e-mails) is read in the reader's language: the same stored rows in English and in 简体中文;
a person's words stay as typed (core/texts.py)."""

from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.test import Client
from django.utils import timezone, translation

from core.models import Notification
from core.preferences import preference_language_set
from execution.models import AlertStep, WorkAlert
from execution.services.alerts import (
    FAULT_EFFECT,
    alert_machine_cleared,
    alert_raise,
    alerts_escalate,
)
from resources.models import Equipment
from tests.execution.test_alert_routing import _release_with_assembly_in
from tests.execution.test_alerts import machining_on_cnc01  # noqa: F401 — a fixture

pytestmark = pytest.mark.django_db

ZH = {"HTTP_ACCEPT_LANGUAGE": "zh-hans"}
EN = {"HTTP_ACCEPT_LANGUAGE": "en"}


def client_for(username: str) -> Client:
    client = Client()
    client.force_login(get_user_model().objects.get(username=username))
    return client


@pytest.fixture
def fault_handled(machining_on_cnc01, api_as, django_capture_on_commit_callbacks):  # noqa: F811
    """The reference fault on CNC-01, raised by zhangsan in his words, acknowledged, moved to
    CNC-02 and resolved by sunqi: every kind of step on its timeline."""
    with django_capture_on_commit_callbacks(execute=True):
        raised = api_as("zhangsan").post(
            "/api/v1/execution/exceptions/",
            {
                "alert_type": "equipment_fault",
                "severity": "urgent",
                "equipment": "CNC-01",
                "order": "MO-2026-00001",
                "sequence": 20,
                "description": "Spindle overload alarm",
                "expected_downtime_minutes": 240,
            },
            format="json",
        )
    assert raised.status_code == 201, raised.content
    pk = raised.json()["id"]
    sunqi = api_as("sunqi")
    assert sunqi.post(f"/api/v1/execution/exceptions/{pk}/acknowledge/").status_code == 200
    moved = sunqi.post(
        f"/api/v1/execution/exceptions/{pk}/move-to-backup/", {"backup": "CNC-02"}, format="json"
    )
    assert moved.status_code == 200, moved.content
    resolved = sunqi.post(
        f"/api/v1/execution/exceptions/{pk}/resolve/",
        {"cause": "主轴轴承损坏", "action": "更换轴承"},
        format="json",
    )
    assert resolved.status_code == 200, resolved.content
    return WorkAlert.objects.get(pk=pk)


@pytest.mark.clock("2026-12-09T10:00:00+08:00")
def test_the_supervisors_exception_page_reads_its_timeline_in_chinese(fault_handled):
    page = client_for("sunqi").get(f"/execution/exceptions/{fault_handled.pk}/", **ZH)
    html = page.content.decode()
    assert page.status_code == 200
    assert "Spindle overload alarm（由人员提出）" in html  # typed words stay as typed
    assert "CNC-01 故障；" in html and "个任务被阻塞" in html
    assert "按时" in html  # acknowledged in time
    assert "个任务已转到 CNC-02；现预计延误：MO-2026-00001 60 分钟" in html
    assert "原因：主轴轴承损坏。措施：更换轴承。" in html
    for english in ("raised by", "task(s)", "in fault", "in time", "Cause:", "expected delay"):
        assert english not in html
    # The same rows for an English reader, and in the English column.
    english = client_for("sunqi").get(f"/execution/exceptions/{fault_handled.pk}/", **EN)
    text = english.content.decode()
    assert "Spindle overload alarm (raised by a person)" in text
    assert "CNC-01 in fault; 1 task(s) blocked" in text and "in time" in text
    assert "1 task(s) moved to CNC-02; expected delay now MO-2026-00001 60 min." in text
    effect = fault_handled.steps.filter(kind=AlertStep.Kind.EFFECT).first()
    assert effect.text.startswith("CNC-01 in fault;") and effect.text_id.startswith(
        "%(equipment)s in fault"
    )


@pytest.mark.clock("2026-12-09T10:00:00+08:00")
def test_the_api_gives_the_texts_in_the_requests_language_with_their_ids(fault_handled, api_as):
    url = f"/api/v1/execution/exceptions/{fault_handled.pk}/"
    zh = api_as("sunqi").get(url, **ZH).json()
    en = api_as("sunqi").get(url, **EN).json()
    assert zh["description"] == en["description"] == "Spindle overload alarm"
    assert zh["description_id"] == "" and zh["description_params"] == {}
    raised_zh, raised_en = zh["steps"][0], en["steps"][0]
    assert raised_zh["text"] == "Spindle overload alarm（由人员提出）"
    assert raised_en["text"] == "Spindle overload alarm (raised by a person)"
    assert raised_zh["text_id"] == "%(description)s (raised by a person)"
    assert raised_zh["text_params"] == {"description": "Spindle overload alarm"}
    told = zh["steps"][1]
    assert told["kind"] == "notified" and told["text"].startswith(
        f"{fault_handled.number}：设备故障，请于 "
    )
    assert told["text"].endswith("— Spindle overload alarm → sunqi")


def test_a_shortage_the_system_raises_is_described_in_the_readers_language(demo_plant, api_as):
    _release_with_assembly_in(0.5)
    alert = WorkAlert.objects.get(alert_type="material_shortage")
    assert alert.description.startswith("BRG-6205: 50 needed for MO-2026-00001/40 from ")
    assert "; proposed: urgent purchase requisition " in alert.description
    url = f"/api/v1/execution/exceptions/{alert.pk}/"
    zh = api_as("zhengshi").get(url, **ZH).json()
    assert zh["description"].startswith("BRG-6205：MO-2026-00001/40 自 ")
    assert "短缺 20；建议：紧急请购单 " in zh["description"]
    assert zh["description_params"]["item"] == "BRG-6205"
    assert zh["steps"][0]["text"].endswith("（由缺料检测提出）")
    assert api_as("zhengshi").get(url, **EN).json()["description"] == alert.description
    board = client_for("zhengshi").get("/execution/exceptions/", **ZH).content.decode()
    assert "BRG-6205：MO-2026-00001/40 自 " in board


def test_each_person_told_gets_the_email_in_their_own_language(
    demo_plant, django_capture_on_commit_callbacks
):
    users = get_user_model().objects
    sunqi = users.get(username="sunqi")
    sunqi.email = "sunqi@example.com"
    sunqi.save(update_fields=["email"])
    preference_language_set(user=sunqi, language="zh-hans")
    zhangsan = users.get(username="zhangsan")
    with django_capture_on_commit_callbacks(execute=True):
        alert = alert_raise(
            alert_type="equipment_fault",
            severity="severe",
            description="Spindle alarm",
            equipment=Equipment.objects.get(code="CNC-01"),
            by=zhangsan,
        )
    sent = {m.to[0]: m for m in mail.outbox}
    assert sent["sunqi@example.com"].subject == f"[ClosedLoop] {alert.number} 严重：设备故障"
    assert "设备故障" in sent["sunqi@example.com"].body
    english = [m for m in mail.outbox if m.to[0] != "sunqi@example.com"]
    assert english, "the plant manager (no choice) reads English"
    assert all(m.subject == f"[ClosedLoop] {alert.number} Severe: Equipment fault" for m in english)
    inbox = client_for("sunqi").get("/execution/inbox/", **ZH).content.decode()
    assert f"{alert.number}：设备故障" in inbox
    note = Notification.objects.filter(user=sunqi).first()
    assert note.text.startswith(f"{alert.number}: Equipment fault")


def test_escalation_names_the_roles_in_the_readers_language(demo_plant):
    alert = alert_raise(
        alert_type="equipment_fault",
        severity="urgent",
        description="Coolant pump",
        equipment=Equipment.objects.get(code="CNC-02"),
    )
    assert alerts_escalate(now=alert.ack_deadline + timedelta(minutes=1)) == 1
    step = alert.steps.get(kind=AlertStep.Kind.ESCALATED)
    assert (
        step.text == "Not acknowledged in time by the production supervisor; now the plant manager."
    )
    page = client_for("qianyi").get(f"/execution/exceptions/{alert.pk}/", **ZH).content.decode()
    assert "班组长未按时确认；现转交厂长。" in page


def test_a_fault_the_machine_cleared_says_so_in_the_readers_language(demo_plant):
    alert = alert_raise(
        alert_type="equipment_fault",
        severity="urgent",
        description="Coolant pump",
        equipment=Equipment.objects.get(code="CNC-02"),
    )
    alert_machine_cleared(alert=alert, at=timezone.now())
    step = alert.steps.filter(kind=AlertStep.Kind.EFFECT).last()
    assert step.text.startswith("Cleared by machine at ")
    with translation.override("zh-hans"):
        assert (
            step.text_shown.startswith("设备于 ")
            and "CNC-02 在异常确认前已退出故障" in step.text_shown
        )


def test_old_rows_show_as_stored_and_bad_parameters_never_break_the_page(demo_plant):
    alert = alert_raise(alert_type="other", severity="general", description="Aisle blocked")
    AlertStep.objects.create(alert=alert, kind=AlertStep.Kind.EFFECT, text="written long ago")
    AlertStep.objects.create(
        alert=alert,
        kind=AlertStep.Kind.EFFECT,
        text="stored English",
        text_id=FAULT_EFFECT,
        text_params={"equipment": {"choice": "no.Such.model", "value": 1}, "tasks": [None]},
    )
    AlertStep.objects.create(
        alert=alert, kind=AlertStep.Kind.EFFECT, text="x", text_id="No translation %(here)s"
    )
    WorkAlert.objects.filter(pk=alert.pk).update(
        description_id="%(item)s: broken", description_params=["not", "a", "dict"]
    )
    for headers, effect in ((ZH, "1 故障；"), (EN, "1 in fault;")):
        page = client_for("sunqi").get(f"/execution/exceptions/{alert.pk}/", **headers)
        assert page.status_code == 200
        html = page.content.decode()
        assert "written long ago" in html and "No translation " in html and effect in html
        assert "%(item)s: broken" not in html and ": broken" in html
