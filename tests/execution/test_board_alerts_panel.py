"""The supervisor's home: the board with its open exceptions, refreshed on a timer like the
board's table; the exceptions list refreshes itself too."""

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from execution.models import Severity, WorkAlert

pytestmark = pytest.mark.django_db


def sunqi() -> Client:
    client = Client()
    client.force_login(get_user_model().objects.get(username="sunqi"))
    return client


def alert(number, severity, status=WorkAlert.Status.OPEN):
    return WorkAlert.objects.create(
        number=number, alert_type="other", severity=severity, status=status,
        description=f"{number} description", handler_role="supervisor",
    )  # fmt: skip


def test_the_board_shows_the_open_exceptions_severe_first_and_refreshes_them(demo_plant):
    alert("EX-T-1", Severity.URGENT)
    alert("EX-T-2", Severity.SEVERE)
    alert("EX-T-3", Severity.GENERAL, WorkAlert.Status.RESOLVED)
    page = sunqi().get("/execution/board/").content.decode()
    panel = page[page.index('id="board-alerts"') :]
    panel = panel[: panel.index("</section>")]
    assert 'hx-get="/execution/board/exceptions/"' in panel and 'hx-trigger="every 10s"' in panel
    assert panel.index("EX-T-2") < panel.index("EX-T-1") and "EX-T-3" not in panel
    assert "Severe" in panel and "Urgent" in panel and "production supervisor" in panel
    refreshed = sunqi().get("/execution/board/exceptions/", HTTP_HX_REQUEST="true")
    assert refreshed.status_code == 200 and "EX-T-2" in refreshed.content.decode()
    zh = sunqi().get("/execution/board/exceptions/", HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert "严重" in zh.content.decode() and "Severe" not in zh.content.decode()


def test_the_board_says_when_nothing_is_open(demo_plant):
    page = sunqi().get("/execution/board/").content.decode()
    assert "No open exceptions." in page


def test_the_exceptions_list_refreshes_itself_like_the_board(demo_plant):
    page = sunqi().get("/execution/exceptions/").content.decode()
    assert 'id="alerts-table"' in page and 'hx-trigger="every 10s"' in page


def test_an_operator_sees_no_board_panel_they_may_not_open(demo_plant):
    client = Client()
    client.force_login(get_user_model().objects.get(username="qianyi"))
    assert client.get("/execution/board/exceptions/").status_code == 200
    client.force_login(get_user_model().objects.get(username="chenmo"))  # maintenance
    assert client.get("/execution/board/exceptions/").status_code == 403
