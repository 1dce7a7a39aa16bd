"""Each role lands on its own page (core.homes, declared by the apps), the plant manager's
KPI page shows the tiles the apps declare and is refused to other roles, and the tiles'
selectors give the figures of worked examples."""

from datetime import date, timedelta

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from core.homes import kpis_declared
from execution.models import Severity, WorkAlert
from execution.selectors.alerts import open_alerts_by_severity, open_alerts_kpi
from tests.devices.test_oee_selectors import TUE, day_of, machine

pytestmark = pytest.mark.django_db


def signed_in(username: str) -> Client:
    client = Client()
    client.force_login(get_user_model().objects.get(username=username))
    return client


@pytest.mark.parametrize(
    ("username", "home"),
    [
        ("zhangsan", "/execution/terminal/"),  # operator
        ("sunqi", "/execution/board/"),  # supervisor: the board with open exceptions
        ("chenmo", "/devices/oee/"),  # maintenance
        ("qianyi", "/kpis/"),  # plant manager
    ],
)
def test_each_role_lands_on_its_page_at_home_and_after_login(demo_plant, username, home):
    answer = signed_in(username).get("/")
    assert answer.status_code == 302 and answer["Location"] == home
    # Signing in without ?next lands there too (LOGIN_REDIRECT_URL is the home).
    client = Client()
    landed = client.post(
        "/accounts/login/", {"username": username, "password": "closedloop"}, follow=True
    )
    assert landed.redirect_chain[-1][0] == home and landed.status_code == 200


def test_the_signed_out_get_the_short_landing_page(demo_plant):
    page = Client().get("/")
    assert page.status_code == 200
    assert 'class="cards"' not in page.content.decode()


def test_the_kpi_page_shows_the_declared_tiles_in_the_readers_language(demo_plant):
    keys = [k.key for k in kpis_declared()]
    assert {"open_exceptions", "oee"} <= set(keys)
    page = signed_in("qianyi").get("/kpis/").content.decode()
    for key in keys:
        assert f'id="kpi-{key}"' in page
    assert 'href="/execution/exceptions/"' in page and 'href="/devices/oee/"' in page
    assert "Open exceptions" in page
    zh = signed_in("qianyi").get("/kpis/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "关键指标" in zh and "未结异常" in zh


@pytest.mark.parametrize("username", ["zhangsan", "sunqi", "zhouba", "chenmo", "fengjie"])
def test_other_roles_are_refused_the_kpi_page_and_have_no_entry(demo_plant, username):
    client = signed_in(username)
    assert client.get("/kpis/").status_code == 403
    page = client.get("/", follow=True).content.decode()
    assert 'href="/kpis/"' not in page


def test_the_plant_manager_has_a_kpi_entry_and_admins_open_the_page(demo_plant):
    assert 'href="/kpis/"' in signed_in("qianyi").get("/kpis/").content.decode()
    assert signed_in("admin").get("/kpis/").status_code == 200


def _alert(number, severity, status=WorkAlert.Status.OPEN):
    return WorkAlert.objects.create(
        number=number, alert_type="other", severity=severity, status=status, description="x"
    )


def test_open_exceptions_by_severity_counts_open_and_acknowledged_only():
    _alert("EX-1", Severity.SEVERE)
    _alert("EX-2", Severity.URGENT, WorkAlert.Status.ACKNOWLEDGED)
    _alert("EX-3", Severity.URGENT)
    _alert("EX-4", Severity.GENERAL, WorkAlert.Status.RESOLVED)
    _alert("EX-5", Severity.SEVERE, WorkAlert.Status.VERIFIED)
    assert open_alerts_by_severity() == {"general": 0, "urgent": 2, "severe": 1}
    tile = open_alerts_kpi(date(2026, 12, 8))
    assert (tile.value, tile.text, tile.status) == (3, "3", "bad")
    assert tile.detail == "1 severe · 2 urgent · 0 general"
    WorkAlert.objects.filter(severity=Severity.SEVERE).delete()
    assert open_alerts_kpi(date(2026, 12, 8)).status == "warn"
    WorkAlert.objects.all().delete()
    empty = open_alerts_kpi(date(2026, 12, 8))
    assert (empty.value, empty.status) == (0, "good")


@pytest.mark.clock("2026-12-09T10:00:00+08:00")
def test_plant_oee_of_the_last_seven_days_worked_example():
    from devices.selectors.oee import plant_oee, plant_oee_kpi

    eq = machine()
    # Wed 12-02 … Tue 12-08: five working days alike (Sat and Sun have no shift). Each day:
    # planned 930 min (06–22 less a 30 min break), 624 good parts at 1 min each → 624/930.
    for back in range(7):
        day = TUE - timedelta(days=back)
        if day.weekday() < 5:
            day_of(eq, day)
    figures = plant_oee(last_day=TUE)
    assert figures.planned_busy_minutes == pytest.approx(5 * 930)
    assert figures.good == 5 * 624
    assert figures.oee == pytest.approx(624 / 930)
    tile = plant_oee_kpi(TUE)
    assert tile.text == "67.1 %" and tile.status == "bad"  # under the 80 % line
    assert tile.detail.startswith("Last 7 days")
    # A day outside the window changes nothing.
    day_of(eq, TUE - timedelta(days=7))
    assert plant_oee(last_day=TUE).good == 5 * 624


def test_no_planned_time_gives_an_empty_oee_tile():
    from devices.selectors.oee import plant_oee_kpi

    tile = plant_oee_kpi(TUE)
    assert tile.value is None and tile.empty
