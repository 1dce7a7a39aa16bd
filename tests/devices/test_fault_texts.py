"""A fault the machine reports raises an exception whose description reads in the reader's
language (core/texts.py): the same stored row in English and in 简体中文."""

import pytest
from django.utils import translation

from execution.models import WorkAlert

pytestmark = pytest.mark.django_db


def test_a_machine_faults_description_reads_in_the_readers_language(demo_plant, feed):
    feed.read("CNC-02", state=2)
    alert = WorkAlert.objects.get()
    assert alert.description == "CNC-02 reports a fault (state code 2)."
    assert alert.description_params == {
        "equipment": "CNC-02",
        "fault": {"text": "state code %(code)s", "params": {"code": "2"}},
    }
    with translation.override("zh-hans"):
        assert alert.description_shown == "CNC-02 报告故障（状态码 2）。"
        assert alert.steps.first().text_shown == "CNC-02 报告故障（状态码 2）。（由设备提出）"
    assert alert.description_shown == alert.description
