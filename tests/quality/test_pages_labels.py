"""Quality pages read as words, not codes (issue #17): an operation's status, a result and
an event source by their labels, quantities with their unit and without trailing zeros —
in English and in zh-Hans."""

import re

import pytest

from . import EB_ORDER, bore, client_as, eb_released, post_inspection, unit_through, user

pytestmark = pytest.mark.django_db
RAW_CODES = ("in_progress", "on_hold", "use_as_is", "every_unit", "own events")


@pytest.fixture
def failed_unit(demo_plant):
    eb_released()
    unit_through(client_as("sunqi"), "EB-0001")
    answer = post_inspection(client_as("zhaoliu"), "EB-0001", bore("50.30"))
    assert answer.status_code == 201 and answer.json()["result"] == "fail"


def _visible(html: str) -> str:
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S)
    return re.sub(r"<[^>]+>", lambda m: ">" if m.group(0).startswith("</") else "<", html)


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_the_order_quality_trace_and_the_unit_trace_show_labels(failed_unit, client, language):
    client.force_login(user("fengjie"))
    report = client.get(
        f"/quality/reports/orders/{EB_ORDER}/", HTTP_ACCEPT_LANGUAGE=language
    ).content.decode()
    trace = client.get("/quality/trace/?code=EB-0001", HTTP_ACCEPT_LANGUAGE=language)
    assert trace.status_code == 200
    trace = trace.content.decode()
    for page in (report, trace):
        shown = _visible(page)
        assert not [code for code in RAW_CODES if code in shown], shown
    assert "× 50 pcs" in report  # the order's quantity with its unit, no trailing zeros
    if language == "zh-hans":
        assert "不合格" in report and "EB-0001" in report and "该单件的报工" in trace
        assert ">fail<" not in _visible(report) and ">FAIL" not in _visible(trace)
        assert "No scratches: 合格" in report  # an attribute's answer, not "ok"
        assert "质量追溯" in report
    else:
        assert "the unit's events" in trace
