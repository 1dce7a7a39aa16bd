"""Sessions end after their role's idle time (operators on shared terminals sooner than the
office), and after SESSION_MAX_HOURS however busy."""

from datetime import timedelta

import pytest
import time_machine
from django.contrib.auth.models import Group
from django.test import Client
from django.utils import timezone

from core.auth import idle_seconds_for
from core.roles import Role, roles_ensure
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

PAGE = "/execution/inbox/"  # a page every person opens; "/" sends each role on to its home
API = "/api/v1/items/"
PASSWORD = "secret-pass-1"


@pytest.fixture
def idle(settings):
    settings.SESSION_IDLE_MINUTES = 480
    settings.SESSION_IDLE_MINUTES_BY_ROLE = {Role.OPERATOR: 15, Role.INSPECTOR: 15}
    roles_ensure()
    return settings


def person(username: str, *roles: str):
    user = UserFactory(username=username)
    user.groups.set(Group.objects.filter(name__in=roles))
    return user


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def is_signed_in(client) -> bool:
    return "_auth_user_id" in client.session


def test_an_operator_is_signed_out_after_15_idle_minutes_and_a_planner_is_not(idle):
    operator = signed_in(person("zhangsan", Role.OPERATOR))
    planner = signed_in(person("zhaoliu", Role.PLANNER))
    start = timezone.now()
    with time_machine.travel(start + timedelta(minutes=14, seconds=30)):
        assert operator.get(PAGE).status_code == 200 and is_signed_in(operator)
    # 16 minutes after the last request, not after sign-in: activity keeps a session alive.
    with time_machine.travel(start + timedelta(minutes=28)):
        assert operator.get(PAGE).status_code == 200 and is_signed_in(operator)
    with time_machine.travel(start + timedelta(minutes=43, seconds=30)):
        response = operator.get("/execution/board/?x=1")
        assert response.status_code == 302
        assert response["Location"] == ("/accounts/login/?idle=1&next=/execution/board/%3Fx%3D1")
        assert not is_signed_in(operator)
        assert planner.get(PAGE).status_code == 200 and is_signed_in(planner)
        login = operator.get(response["Location"])
        assert b"signed out because the session was idle" in login.content


def test_office_roles_end_after_8_idle_hours(idle):
    planner = signed_in(person("zhaoliu", Role.PLANNER))
    start = timezone.now()
    with time_machine.travel(start + timedelta(hours=7, minutes=59)):
        planner.get(PAGE)
        assert is_signed_in(planner)
    with time_machine.travel(start + timedelta(hours=16)):
        planner.get(PAGE)
        assert not is_signed_in(planner)


def test_an_htmx_request_redirects_the_whole_page_and_the_api_answers_401(idle):
    operator = signed_in(person("zhangsan", Role.OPERATOR))
    with time_machine.travel(timezone.now() + timedelta(minutes=16)):
        partial = operator.get(
            "/execution/board/",
            HTTP_HX_REQUEST="true",
            HTTP_HX_CURRENT_URL="http://testserver/execution/terminal/",
        )
        assert partial["HX-Redirect"] == "/accounts/login/?idle=1&next=/execution/terminal/"
    other = signed_in(person("lisi", Role.OPERATOR))
    with time_machine.travel(timezone.now() + timedelta(minutes=16)):
        api = other.get(API)
        assert api.status_code == 401 and api["WWW-Authenticate"] == 'Bearer realm="api"'


def test_the_shortest_idle_time_of_a_persons_roles_applies(idle):
    assert idle_seconds_for(person("a", Role.OPERATOR, Role.SUPERVISOR)) == 15 * 60
    assert idle_seconds_for(person("b", Role.SUPERVISOR)) == 480 * 60
    idle.SESSION_IDLE_MINUTES_BY_ROLE = {Role.SUPERVISOR: 60}
    assert idle_seconds_for(person("c", Role.OPERATOR, Role.SUPERVISOR)) == 60 * 60


def test_a_login_through_the_page_gets_its_roles_idle_time(idle):
    person("zhangsan", Role.OPERATOR)
    client = Client()
    response = client.post("/accounts/login/", {"username": "zhangsan", "password": PASSWORD})
    assert response.status_code == 302
    with time_machine.travel(timezone.now() + timedelta(minutes=16)):
        client.get(PAGE)
        assert not is_signed_in(client)


def test_a_session_lasts_at_most_session_max_hours(settings):
    assert settings.SESSION_COOKIE_AGE == 12 * 3600
