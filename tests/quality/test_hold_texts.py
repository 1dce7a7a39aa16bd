"""A hold the defect-rate alarm places, and its exception, read in the reader's language: the
same stored rows in English and in 简体中文 (core/texts.py)."""

import pytest
from django.test import Client
from django.utils import translation

from execution.models import WorkAlert
from quality.models import QualityHold
from quality.selectors.holds import hold_message

from . import client_as, user
from .test_holds import housings, visual_checks  # noqa: F401 — a fixture

pytestmark = pytest.mark.django_db
ZH = {"HTTP_ACCEPT_LANGUAGE": "zh-hans"}
EN = {"HTTP_ACCEPT_LANGUAGE": "en"}


@pytest.fixture
def hold(housings):  # noqa: F811
    visual_checks(housings, failures={3, 11})
    return QualityHold.objects.get()


def test_the_holds_reason_reads_in_the_readers_language(hold):
    assert hold.reason == "defect rate 10 % over 20 units (threshold 5 %)"
    assert hold.reason_params == {"rate": "10", "sample": 20, "threshold": "5"}
    with translation.override("zh-hans"):
        assert hold.reason_shown == "最近 20 件不良率 10 %（阈值 5 %）"
        assert "最近 20 件不良率 10 %（阈值 5 %）" in hold_message(hold)
    url = f"/api/v1/quality/holds/{hold.pk}/"
    zh = client_as("fengjie").get(url, **ZH).json()
    assert zh["reason"] == "最近 20 件不良率 10 %（阈值 5 %）"
    assert (
        zh["reason_id"]
        == "defect rate %(rate)s %% over %(sample)s units (threshold %(threshold)s %%)"
    )
    assert client_as("fengjie").get(url, **EN).json()["reason"] == hold.reason
    page = Client()
    page.force_login(user("fengjie"))
    html = page.get("/quality/holds/", **ZH).content.decode()
    assert "最近 20 件不良率 10 %（阈值 5 %）" in html and "defect rate 10 %" not in html


def test_the_alarms_exception_reads_in_the_readers_language(hold):
    alert = WorkAlert.objects.get(alert_type="quality")
    assert alert.description.startswith("Defect-rate alarm, HSG-100 operation 20 ")
    url = f"/api/v1/execution/exceptions/{alert.pk}/"
    zh = client_as("qianyi").get(url, **ZH).json()
    assert zh["description"].startswith("不良率报警，HSG-100 工序 20 ")
    assert "INJ（INJ-01）：最近 20 件不良率 10 %（阈值 5 %）。该工序已质量冻结" in zh["description"]
    assert "INJ 上其之前的工序（10 " in zh["description"]
    assert zh["steps"][0]["text"].endswith("（由不良率报警提出）")
    en = client_as("qianyi").get(url, **EN).json()
    assert en["description"] == alert.description
    assert en["steps"][0]["text"].endswith("(raised by defect-rate alarm)")
