"""Variance causes and training needs read in the reader's language: the same variance and
the same stored need in English and in 简体中文 (core/texts.py)."""

from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.test import Client
from django.utils import translation

from core.models import Notification
from core.preferences import preference_language_set
from core.texts import text_render
from costing.engines.texts import english as english_of
from costing.engines.variance import LABOUR_EFFICIENCY, Variance, variance_cause_text
from costing.services.training import training_need_raise

pytestmark = pytest.mark.django_db
API = "/api/v1/costing"
ZH = {"HTTP_ACCEPT_LANGUAGE": "zh-hans"}
EN = {"HTTP_ACCEPT_LANGUAGE": "en"}
CAUSE_EN = "labour efficiency +66.7 % on operation 10 — operators wangwu"
CAUSE_ZH = "人工效率 +66.7 %，工序 10 — 操作工 wangwu"


def test_a_variance_cause_reads_in_the_readers_language(worked_order, api_as):
    url = f"{API}/variances/?order=MO-2026-00001&kind=labour_efficiency&flagged=true"
    zh = api_as("zhouba").get(url, **ZH).json()["results"]
    en = api_as("zhouba").get(url, **EN).json()["results"]
    mine = [r for r in zh if r["step_no"] == 10]
    assert [r["cause"] for r in mine] == [CAUSE_ZH]
    assert [r["cause"] for r in en if r["step_no"] == 10] == [CAUSE_EN]
    assert mine[0]["cause_id"] == "%(kind)s%(what)s %(size)s%(where)s%(who)s"
    page = Client()
    page.force_login(get_user_model().objects.get(username="zhouba"))
    html = page.get("/costing/variances/?order=MO-2026-00001", **ZH).content.decode()
    assert CAUSE_ZH in html and CAUSE_EN not in html
    scrap = api_as("zhouba").get(f"{API}/variances/?kind=scrap&flagged=true", **ZH).json()
    assert scrap["results"][0]["cause"].startswith("报废 ")


def test_a_training_need_and_its_email_read_in_each_readers_language(
    worked_order, api_as, django_capture_on_commit_callbacks
):
    users = get_user_model().objects
    manager = users.get(username="qianyi")
    manager.email = "qianyi@example.com"
    manager.save(update_fields=["email"])
    preference_language_set(user=manager, language="zh-hans")
    with django_capture_on_commit_callbacks(execute=True):
        need, _ = training_need_raise(
            order=worked_order,
            step_no=10,
            cause="labour_efficiency",
            by=users.get(username="wujiu"),
        )
    assert need.text == f"Training need — MO-2026-00001: {CAUSE_EN}"
    with translation.override("zh-hans"):
        assert need.text_shown == f"培训需求 — MO-2026-00001：{CAUSE_ZH}"
    [sent] = [m for m in mail.outbox if m.to == ["qianyi@example.com"]]
    assert (sent.subject, sent.body) == (
        "[ClosedLoop] 培训需求",
        f"培训需求 — MO-2026-00001：{CAUSE_ZH}",
    )
    assert Notification.objects.get(user=manager).text == need.text
    zh = api_as("qianyi").get(f"{API}/training-needs/", **ZH).json()
    rows = zh["results"] if isinstance(zh, dict) else zh
    assert [r["text"] for r in rows] == [f"培训需求 — MO-2026-00001：{CAUSE_ZH}"]
    en = api_as("qianyi").get(f"{API}/training-needs/", **EN).json()
    rows = en["results"] if isinstance(en, dict) else en
    assert [r["text"] for r in rows] == [need.text]


def test_a_cause_lists_its_operators_as_the_readers_language_lists_them():
    variance = Variance(
        order="MO-2026-00001",
        product="GEAR-01",
        period="2026-12",
        kind=LABOUR_EFFICIENCY,
        element="labour",
        step_no=10,
        work_center="WC-CNC",
        component=None,
        standard_quantity=Decimal("3"),
        actual_quantity=Decimal("5"),
        standard_rate=Decimal("60"),
        actual_rate=Decimal("60"),
        standard_amount=Decimal("180"),
        actual_amount=Decimal("300"),
        amount=Decimal("120"),
        operators=("wangwu", "zhaoliu"),
    )
    msgid, params = variance_cause_text(variance)
    english = "labour efficiency +66.7 % on operation 10 — operators wangwu, zhaoliu"
    assert text_render(msgid, params, "en") == english
    assert (
        text_render(msgid, params, "zh-hans")
        == "人工效率 +66.7 %，工序 10 — 操作工 wangwu、zhaoliu"
    )
    assert english_of(msgid, params) == english  # the stored English column
