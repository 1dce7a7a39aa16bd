"""Login lockout (django-axes): N failed sign-ins for one username from one address lock that
pair out, on the login page and in the API (tokens, Basic); the right password is refused
until the cool-off ends or an administrator unlocks; attempts show in the admin."""

from datetime import timedelta

import pytest
from axes.models import AccessAttempt, AccessFailureLog
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from core.auth import LockoutBackend
from core.models import ApiToken
from core.roles import Role, roles_ensure
from core.tokens import api_token_issue, service_account_create
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

LOGIN = "/accounts/login/"
PASSWORD = "secret-pass-1"  # tests.factories.UserFactory's
LIST = "/api/v1/items/"


@pytest.fixture
def limits(settings):
    settings.AXES_FAILURE_LIMIT = 5
    settings.AXES_COOLOFF_TIME = timedelta(minutes=15)
    return settings


def login(client, username, password, address="10.0.0.7"):
    return client.post(LOGIN, {"username": username, "password": password}, REMOTE_ADDR=address)


def assert_locked_page(response):
    assert response.status_code == 429
    assert response["Retry-After"] == str(15 * 60)
    page = response.content.decode()
    assert "Sign-in locked" in page and "Try again in 15 minutes" in page
    assert 'class="topbar"' in page  # inside the layout, not a bare message


def test_failed_logins_lock_out_and_the_right_password_waits_for_the_cool_off(limits, pinned_now):
    UserFactory(username="lisi", roles=[Role.OPERATOR])
    client = Client()
    for _ in range(4):
        refused = login(client, "lisi", "wrong")
        assert refused.status_code == 200 and b"did not match" in refused.content
    assert_locked_page(login(client, "lisi", "wrong"))  # the fifth
    right = login(client, "lisi", PASSWORD)
    assert_locked_page(right)
    assert "_auth_user_id" not in client.session
    # Another address, or another account from this one, is not locked.
    assert login(Client(), "lisi", PASSWORD, address="10.0.0.8").status_code == 302
    UserFactory(username="wangwu", roles=[Role.OPERATOR])
    assert login(Client(), "wangwu", PASSWORD).status_code == 302
    # After the cool-off the right password works at once, and resets the count.
    pinned_now.shift(timedelta(minutes=14))
    assert_locked_page(login(client, "lisi", PASSWORD))
    pinned_now.shift(timedelta(minutes=2))
    assert login(client, "lisi", PASSWORD).status_code == 302
    assert not AccessAttempt.objects.filter(username="lisi", ip_address="10.0.0.7").exists()


def test_an_administrator_unlocks_at_once_and_sees_attempts_and_lockouts(limits):
    UserFactory(username="lisi", roles=[Role.OPERATOR])
    for _ in range(5):
        login(Client(), "lisi", "wrong")
    assert_locked_page(login(Client(), "lisi", PASSWORD))
    roles_ensure()
    admin = Client()
    admin.force_login(UserFactory(username="root", is_staff=True, is_superuser=True))
    attempts = admin.get("/admin/axes/accessattempt/?locked_out=yes")
    assert attempts.status_code == 200 and b"lisi" in attempts.content
    failures = admin.get("/admin/axes/accessfailurelog/")
    assert failures.status_code == 200 and failures.content.count(b"10.0.0.7") >= 5
    assert AccessFailureLog.objects.filter(username="lisi", locked_out=True).exists()
    attempt = AccessAttempt.objects.get(username="lisi")
    deleted = admin.post(
        f"/admin/axes/accessattempt/{attempt.pk}/delete/", {"post": "yes"}, follow=True
    )
    assert deleted.status_code == 200
    assert login(Client(), "lisi", PASSWORD).status_code == 302


def test_an_api_token_is_locked_out_after_wrong_secrets_and_others_are_not(limits, pinned_now):
    roles_ensure()
    root = UserFactory(username="root", is_superuser=True)
    account = service_account_create(username="erp-sync", created_by=root)
    keys = []
    for name in ("ERP", "MES"):
        token = ApiToken(user=account, name=name, expiry_date=timezone.now() + timedelta(days=9))
        keys.append(api_token_issue(token=token, issued_by=root))
    key, other_key = keys
    prefix = key.partition(".")[0]
    guessed = f"{prefix}.{'x' * 32}"
    client = APIClient(REMOTE_ADDR="10.0.0.9")
    for _ in range(4):
        refused = client.get(LIST, HTTP_AUTHORIZATION=f"Bearer {guessed}")
        assert refused.status_code == 401 and refused.json()["detail"] == "Invalid token."
    locked = client.get(LIST, HTTP_AUTHORIZATION=f"Bearer {guessed}")
    assert_api_locked(locked)
    # The real key from that address waits for the cool-off too; another token does not.
    assert_api_locked(client.get(LIST, HTTP_AUTHORIZATION=f"Bearer {key}"))
    assert client.get(LIST, HTTP_AUTHORIZATION=f"Bearer {other_key}").status_code == 200
    pinned_now.shift(timedelta(minutes=16))
    assert client.get(LIST, HTTP_AUTHORIZATION=f"Bearer {key}").status_code == 200
    assert AccessAttempt.objects.filter(username=f"API token {prefix}").exists()


def assert_api_locked(response):
    assert response.status_code == 429, response.content
    assert response["Retry-After"] == str(15 * 60)
    assert response["Content-Type"] == "application/json"
    assert response.json() == {
        "detail": "Too many failed sign-ins for this account from this address; "
        "try again in 15 minutes.",
        "errors": [],
    }


def test_basic_auth_in_development_is_locked_out_like_the_login_page(limits, pinned_now):
    limits.API_BASIC_AUTH = True
    UserFactory(username="lisi", roles=[Role.OPERATOR])
    client = APIClient(REMOTE_ADDR="10.0.0.5")
    for _ in range(4):
        client.credentials(HTTP_AUTHORIZATION="Basic bGlzaTp3cm9uZw==")  # lisi:wrong
        refused = client.get(LIST)
        assert refused.status_code == 401
        assert refused["WWW-Authenticate"] == 'Bearer realm="api"'
    assert_api_locked(client.get(LIST))
    client.credentials(HTTP_AUTHORIZATION="Basic bGlzaTpzZWNyZXQtcGFzcy0x")  # the right one
    assert_api_locked(client.get(LIST))
    # The login page shares the count: the pair is locked there as well.
    assert_locked_page(login(Client(), "lisi", PASSWORD, address="10.0.0.5"))
    pinned_now.shift(timedelta(minutes=16))
    assert client.get(LIST).status_code == 200


def test_a_password_check_without_a_request_is_not_refused_by_the_lockout():
    """A shell or a signed decision's password check has no address to lock: the lockout
    backend steps aside instead of failing (django-axes' own backend raises there)."""
    assert LockoutBackend().authenticate(None, username="lisi", password="x") is None
