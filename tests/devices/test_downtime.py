"""Downtime reasons from the floor: who may give them, the page and its partial."""

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.test import Client

from core.exceptions import StateConflict
from devices.models import DowntimeReason, StateInterval
from devices.services.downtime import interval_reason_set

pytestmark = pytest.mark.django_db


def user(name: str):
    return get_user_model().objects.get(username=name)


def web(name: str) -> Client:
    client = Client()
    client.force_login(user(name))
    return client


@pytest.fixture
def stops(demo_plant, feed):
    """CNC-01: a stop of 30 s (small), a run, a stop still going on."""
    feed.read("CNC-01", state=1)
    feed.read("CNC-01", state=0)
    feed.read("CNC-01", state=1, seconds=30)
    feed.read("CNC-01", state=0, seconds=600)
    return list(
        StateInterval.objects.filter(equipment__code="CNC-01", state="stopped").order_by("start")
    )


def test_the_seeded_reasons_name_their_losses(db):
    assert DowntimeReason.objects.get(code="BRK-MECH").loss == "breakdown"
    assert DowntimeReason.objects.get(code="JAM").loss == "small_stop"
    assert DowntimeReason.objects.filter(loss="planned").count() == 2


def test_reasons_by_role(stops):
    jam = DowntimeReason.objects.get(code="JAM")
    small = stops[0]
    assert small.small_stop
    # zhangsan works at CNC (home work center): yes. wangwu (INJ): refused. sunqi supervises.
    done = interval_reason_set(
        interval=small, reason=jam, note="chip in the chuck", by=user("zhangsan")
    )
    assert (done.reason, done.reason_note, done.reason_by.username) == (
        jam,
        "chip in the chuck",
        "zhangsan",
    )
    with pytest.raises(PermissionDenied, match="Only an operator of CNC or its supervisor"):
        interval_reason_set(interval=stops[1], reason=jam, by=user("wangwu"))
    with pytest.raises(PermissionDenied):
        interval_reason_set(interval=stops[1], reason=jam, by=user("zhaoliu"))  # an inspector
    interval_reason_set(interval=stops[1], reason=jam, by=user("sunqi"))
    running = StateInterval.objects.filter(equipment__code="CNC-01", state="running").first()
    with pytest.raises(StateConflict, match="only a stop"):
        interval_reason_set(interval=running, reason=jam, by=user("sunqi"))


def test_the_page_lists_unexplained_stops_and_saves_a_reason(stops):
    client = web("zhangsan")
    page = client.get("/devices/downtime/")
    assert page.status_code == 200 and b"<html" in page.content
    html = page.content.decode()
    assert f'id="downtime-{stops[0].pk}"' in html and f'id="downtime-{stops[1].pk}"' in html
    assert "(small stop)" in html and 'href="/devices/downtime/"' in html  # the top bar links it
    jam = DowntimeReason.objects.get(code="JAM")
    saved = client.post(
        f"/devices/downtime/{stops[0].pk}/reason/",
        {"reason": jam.pk, "note": "jam"},
        HTTP_HX_REQUEST="true",
    )
    assert saved.status_code == 200 and "JAM Part jam or misfeed" in saved.content.decode()
    listed = client.get(
        "/devices/downtime/?equipment=CNC-01", HTTP_HX_REQUEST="true"
    ).content.decode()
    assert "<html" not in listed and f'id="downtime-{stops[0].pk}"' not in listed
    missing = client.post(f"/devices/downtime/{stops[1].pk}/reason/", {"reason": ""})
    assert missing.status_code == 400 and "Pick a downtime reason" in missing.content.decode()


def test_another_work_centers_operator_sees_no_picker_and_is_refused(stops):
    client = web("wangwu")
    html = client.get("/devices/downtime/").content.decode()
    assert f'id="downtime-{stops[0].pk}"' not in html  # INJ's machines only
    jam = DowntimeReason.objects.get(code="JAM")
    refused = client.post(f"/devices/downtime/{stops[0].pk}/reason/", {"reason": jam.pk})
    assert refused.status_code == 403 and "Only an operator of CNC" in refused.content.decode()
    assert StateInterval.objects.get(pk=stops[0].pk).reason is None
    assert web("zhaoliu").get("/devices/downtime/").status_code == 403  # inspectors: no page


def test_the_refusals_read_in_chinese(stops):
    """The same refusals for a Chinese reader: in the request's language, naming the codes."""
    zh = {"HTTP_ACCEPT_LANGUAGE": "zh-hans"}
    missing = web("zhangsan").post(f"/devices/downtime/{stops[1].pk}/reason/", {"reason": ""}, **zh)
    assert missing.status_code == 400 and "请选择停机原因。" in missing.content.decode()
    jam = DowntimeReason.objects.get(code="JAM")
    refused = web("wangwu").post(
        f"/devices/downtime/{stops[0].pk}/reason/", {"reason": jam.pk}, **zh
    )
    assert refused.status_code == 403
    assert "只有 CNC 的操作员或其班组长可以为 CNC-01 的停机填写原因。" in refused.content.decode()
