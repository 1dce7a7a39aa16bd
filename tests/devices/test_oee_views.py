"""The OEE board and its drill-down: who sees them, what they show, no link that answers 403."""

import re
from datetime import timedelta

import pytest
from django.urls import Resolver404, resolve

from core.navigation import page_allowed
from core.roles import Role
from devices.models import DowntimeReason, ProductionCount, StateInterval
from devices.services.count_hours import count_rows_write
from tests.devices.test_oee_selectors import TUE, at, day_of, machine
from tests.factories import UserFactory

pytestmark = [pytest.mark.django_db, pytest.mark.clock("2026-12-09T10:00:00+08:00")]
WED = TUE + timedelta(days=1)
VIEWERS = [
    Role.PLANT_MANAGER,
    Role.SUPERVISOR,
    Role.PLANNER,
    Role.MAINTENANCE,
    Role.QUALITY_SUPERVISOR,
]
OTHERS = [Role.OPERATOR, Role.INSPECTOR, Role.COST_ACCOUNTANT, Role.SUPPLY_CHAIN_DIRECTOR]


@pytest.fixture
def plant():
    """CNC-OEE ran well on Tuesday; this morning it ran 06–08 and is idle since (open)."""
    eq = machine(code="CNC-OEE")
    day_of(eq, TUE)
    StateInterval.objects.filter(equipment=eq, start__gte=at(TUE, 22)).delete()
    StateInterval.objects.create(equipment=eq, state="stopped", start=at(TUE, 22), end=at(WED, 6))
    StateInterval.objects.create(equipment=eq, state="running", start=at(WED, 6), end=at(WED, 8))
    reason = DowntimeReason.objects.create(code="NOMAT", name="No material", loss="other")
    StateInterval.objects.create(equipment=eq, state="idle", start=at(WED, 8), reason=reason)
    for h in (7, 8):
        count_rows_write([ProductionCount(equipment=eq, at=at(WED, h), total=55, good=55)])
    other = machine(code="INJ-OEE")
    return eq, other


def signed_in(client, role):
    client.force_login(UserFactory(roles=[role]))
    return client


def links(html: str) -> list[str]:
    return re.findall(r'href="(/[^"#?]*)', html)


@pytest.mark.parametrize("role", VIEWERS)
def test_viewers_see_the_board_and_every_link_opens(client, plant, role):
    user_client = signed_in(client, role)
    response = user_client.get("/devices/oee/")
    assert response.status_code == 200
    html = response.content.decode()
    assert 'href="/devices/oee/"' in html  # the top bar's entry
    user = response.wsgi_request.user
    for href in links(html):
        try:
            resolve(href)
        except Resolver404:
            continue  # static files
        assert page_allowed(user, href), f"{role} sees a link to {href} that answers 403"
    assert user_client.get("/devices/oee/CNC-OEE/").status_code == 200


@pytest.mark.parametrize("role", OTHERS)
def test_others_get_403_and_no_menu_entry(client, plant, role):
    user_client = signed_in(client, role)
    assert user_client.get("/devices/oee/").status_code == 403
    assert user_client.get("/devices/oee/CNC-OEE/").status_code == 403
    home = user_client.get("/").content.decode()
    assert "/devices/oee/" not in home


def test_anonymous_is_sent_to_log_in(client):
    assert client.get("/devices/oee/").status_code == 302


def test_board_shows_tiles_roll_ups_trend_and_pareto(client, plant):
    html = signed_in(client, Role.PLANT_MANAGER).get("/devices/oee/").content.decode()
    assert 'data-equipment="CNC-OEE"' in html and 'data-equipment="INJ-OEE"' in html
    assert 'data-rollup="plant"' in html
    assert '<svg class="oee-trend"' in html and '<svg class="oee-pareto"' in html
    # Today: run 120 of 240 planned minutes, idle since 08:00 (no material).
    tile = html[html.index('data-equipment="CNC-OEE"') :]
    tile = tile[: tile.index("</a>")]
    assert ">Idle<" in tile  # the state as a person reads it, not its code
    assert "long idle time" in tile and "No material" in tile
    assert "110 good of 110" in tile
    # Two days in the trend with bars (Tuesday and today); the 80 % line.
    trend = html[html.index('<svg class="oee-trend"') :]
    trend = trend[: trend.index("</svg>")]
    assert trend.count("<rect") == 2 and "80 %" in trend


def test_tiles_refresh_as_a_partial(client, plant):
    response = signed_in(client, Role.SUPERVISOR).get("/devices/oee/", HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert 'data-equipment="CNC-OEE"' in html
    assert "<html" not in html and "oee-trend" not in html


def test_drill_down_shows_timeline_and_downtime_reasons(client, plant):
    c = signed_in(client, Role.MAINTENANCE)
    html = c.get("/devices/oee/CNC-OEE/").content.decode()
    assert '<svg class="oee-timeline"' in html
    assert html.count('class="band band-running"') == 1
    assert html.count('class="band band-idle"') == 1
    assert "No material" in html and "<em>now</em>" in html
    # Tuesday: the fault, and shift figures for early and late.
    tue = c.get("/devices/oee/CNC-OEE/", {"day": "2026-12-08"}).content.decode()
    assert 'data-shift="early"' in tue and 'data-shift="late"' in tue
    assert tue.count('class="band band-fault"') == 1
    assert c.get("/devices/oee/NOPE/").status_code == 404
    # A bad day falls back to today, never a 500.
    assert c.get("/devices/oee/CNC-OEE/", {"day": "x"}).status_code == 200


def test_board_filters_by_work_center(client, plant):
    eq, other = plant
    html = (
        signed_in(client, Role.PLANT_MANAGER)
        .get("/devices/oee/", {"work_center": other.work_center.code, "days": "x"})
        .content.decode()
    )
    assert 'data-equipment="INJ-OEE"' in html and 'data-equipment="CNC-OEE"' not in html
