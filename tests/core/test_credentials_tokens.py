"""Service accounts and API tokens: issued in the admin (the key shown once), used through the
API as the account (so the permission policy applies), revocable, expiring, last use kept;
bad or missing credentials answer 401 with a challenge."""

import re
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from core.models import ApiToken, AuditEntry, ServiceAccount
from core.roles import Role, roles_ensure
from core.tokens import api_token_issue, api_token_revoke, service_account_create
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

LIST = "/api/v1/items/"
PLANNER_ONLY_WRITE = "/api/v1/mrp-runs/"  # planning's MRP runs: planners write, others read


@pytest.fixture
def admin_user():
    roles_ensure()
    return UserFactory(username="root", is_staff=True, is_superuser=True)


@pytest.fixture
def account(admin_user):
    return service_account_create(username="erp-sync", created_by=admin_user)


def issue(account, *, issued_by, days: float = 30, name: str = "ERP sync") -> tuple[ApiToken, str]:
    token = ApiToken(user=account, name=name, expiry_date=timezone.now() + timedelta(days=days))
    key = api_token_issue(token=token, issued_by=issued_by)
    return token, key


def bearer(key: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    return client


def assert_challenge(response, detail: str | None = None) -> None:
    assert response.status_code == 401, response.content
    assert response["WWW-Authenticate"] == 'Bearer realm="api"'
    body = response.json()
    assert set(body) == {"detail", "errors"} and body["errors"] == []
    if detail is not None:
        assert body["detail"] == detail


def test_a_service_account_has_no_password_and_the_integration_role(account):
    assert not account.has_usable_password() and account.is_active
    assert set(account.groups.values_list("name", flat=True)) == {Role.INTEGRATION}
    assert list(ServiceAccount.objects.all()) == [account]  # people are not listed as such


def test_a_token_signs_in_as_its_service_account(account, admin_user):
    _, key = issue(account, issued_by=admin_user)
    response = bearer(key).get(LIST)
    assert response.status_code == 200, response.content
    assert response.wsgi_request.user == account


def test_the_permission_policy_applies_to_a_token_as_to_its_account(account, admin_user):
    _, key = issue(account, issued_by=admin_user)
    body = {"planning_date": "not a date"}  # judged only once the role may write
    refused = bearer(key).post(PLANNER_ONLY_WRITE, body, format="json")
    assert refused.status_code == 403, refused.content
    account.groups.add(Group.objects.get(name=Role.PLANNER))
    allowed = bearer(key).post(PLANNER_ONLY_WRITE, body, format="json")
    assert allowed.status_code == 400, allowed.content


def test_the_key_is_stored_only_as_a_hash(account, admin_user):
    token, key = issue(account, issued_by=admin_user)
    stored = ApiToken.objects.get(pk=token.pk)
    prefix, _, secret = key.partition(".")
    assert stored.prefix == prefix and len(secret) == 32
    assert secret not in stored.hashed_key and key not in stored.pk
    assert stored.hashed_key.startswith("sha512$$")


def test_missing_and_wrong_credentials_answer_401_with_a_challenge(account, admin_user):
    _, key = issue(account, issued_by=admin_user)
    assert_challenge(APIClient().get(LIST), "Authentication credentials were not provided.")
    assert_challenge(
        bearer(key[:-1] + ("x" if key[-1] != "x" else "y")).get(LIST), "Invalid token."
    )
    assert_challenge(bearer("no-such-token").get(LIST), "Invalid token.")
    split = APIClient()
    split.credentials(HTTP_AUTHORIZATION=f"Bearer {key} extra")
    assert_challenge(split.get(LIST))
    # Basic is off unless API_BASIC_AUTH: a person's password there signs nobody in.
    UserFactory(username="lisi")
    basic = APIClient()
    basic.credentials(HTTP_AUTHORIZATION="Basic bGlzaTpzZWNyZXQtcGFzcy0x")  # lisi:secret-pass-1
    assert_challenge(basic.get(LIST))


def test_a_signed_in_session_still_reaches_the_api_and_a_stale_one_gets_401(account):
    person = UserFactory(username="planner1", roles=[Role.PLANNER])
    client = Client()
    client.force_login(person)
    assert client.get(LIST).status_code == 200
    client.logout()
    assert_challenge(client.get(LIST))


def test_a_revoked_token_answers_401_and_stays_on_record(account, admin_user):
    token, key = issue(account, issued_by=admin_user)
    assert bearer(key).get(LIST).status_code == 200
    api_token_revoke(token=token, revoked_by=admin_user)
    assert_challenge(bearer(key).get(LIST), "This token was revoked.")
    token.refresh_from_db()
    assert token.revoked and token.revoked_by == admin_user and token.revoked_at is not None
    assert token.status == "revoked"


def test_a_token_expires(account, admin_user, pinned_now):
    token, key = issue(account, issued_by=admin_user, days=1)
    assert bearer(key).get(LIST).status_code == 200
    pinned_now.shift(timedelta(days=1, seconds=1))
    assert_challenge(bearer(key).get(LIST), "This token has expired.")
    assert ApiToken.objects.get(pk=token.pk).status == "expired"


def test_deactivating_the_account_stops_its_tokens(account, admin_user):
    _, key = issue(account, issued_by=admin_user)
    account.is_active = False
    account.save()
    assert_challenge(bearer(key).get(LIST), "This token's service account is deactivated.")


def test_expiry_is_required_in_the_future_and_within_the_maximum(account, admin_user, settings):
    from django.core.exceptions import ValidationError

    for days in (-1, settings.API_TOKEN_MAX_DAYS + 1):
        with pytest.raises(ValidationError):
            issue(account, issued_by=admin_user, days=days)
    with pytest.raises(ValidationError):
        api_token_issue(token=ApiToken(user=account, name="x"), issued_by=admin_user)
    person = UserFactory(username="wangwu")
    with pytest.raises(ValidationError):  # people sign in with their password, not tokens
        issue(person, issued_by=admin_user)
    assert not ApiToken.objects.exists()


def test_last_use_is_written_at_most_once_a_minute(account, admin_user, pinned_now):
    token, key = issue(account, issued_by=admin_user)
    assert token.last_used_at is None
    client = bearer(key)
    client.get(LIST)
    first = ApiToken.objects.get(pk=token.pk).last_used_at
    assert first is not None and abs(first - timezone.now()) < timedelta(seconds=5)
    pinned_now.shift(timedelta(seconds=30))
    client.get(LIST)
    assert ApiToken.objects.get(pk=token.pk).last_used_at == first
    pinned_now.shift(timedelta(seconds=31))
    client.get(LIST)
    assert ApiToken.objects.get(pk=token.pk).last_used_at > first


def test_issuing_and_revoking_are_audited(account, admin_user):
    token, _ = issue(account, issued_by=admin_user)
    api_token_revoke(token=token, revoked_by=admin_user)
    actions = set(AuditEntry.objects.filter(actor=admin_user).values_list("action", flat=True))
    assert {"service_account.create", "api_token.issue", "api_token.revoke"} <= actions


# --- the admin --------------------------------------------------------------------------


@pytest.fixture
def admin_client(admin_user):
    client = Client()
    client.force_login(admin_user)
    return client


def messages_of(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


def test_the_admin_creates_a_service_account_and_issues_a_token_shown_once(admin_client):
    created = admin_client.post(
        "/admin/core/serviceaccount/add/",
        {
            "username": "gateway-cnc",
            "is_active": "on",
            "roles": [],
            "api_tokens-TOTAL_FORMS": "0",
            "api_tokens-INITIAL_FORMS": "0",
        },
        follow=True,
    )
    assert created.status_code == 200, created.content
    account = ServiceAccount.objects.get(username="gateway-cnc")
    assert not account.has_usable_password()
    assert list(account.groups.values_list("name", flat=True)) == [Role.INTEGRATION]
    assert any("issue an API token" in m for m in messages_of(created))

    add_page = admin_client.get(f"/admin/core/apitoken/add/?user={account.pk}")
    assert add_page.status_code == 200
    expires = (timezone.localtime() + timedelta(days=30)).replace(microsecond=0)
    issued = admin_client.post(
        "/admin/core/apitoken/add/",
        {
            "user": account.pk,
            "name": "CNC gateway",
            "expiry_date_0": expires.date().isoformat(),
            "expiry_date_1": expires.time().isoformat(),
        },
        follow=True,
    )
    assert issued.status_code == 200, issued.content
    shown = [m for m in messages_of(issued) if "shown only this once" in m]
    assert len(shown) == 1
    key = re.search(r"<code>([^<]+)</code>", shown[0]).group(1)
    token = ApiToken.objects.get()
    assert token.user == account and token.issued_by.username == "root"
    assert bearer(key).get(LIST).status_code == 200
    # Never again: not on the token's page, not in the list.
    for page in (f"/admin/core/apitoken/{token.pk}/change/", "/admin/core/apitoken/"):
        response = admin_client.get(page)
        assert response.status_code == 200 and key.encode() not in response.content
        assert token.prefix.encode() in response.content


def test_the_admin_revokes_tokens_and_never_deletes_them(admin_client, account, admin_user):
    token, key = issue(account, issued_by=admin_user)
    other, other_key = issue(account, issued_by=admin_user, name="spare")
    revoked = admin_client.post(
        "/admin/core/apitoken/",
        {"action": "revoke", "_selected_action": [token.pk]},
        follow=True,
    )
    assert revoked.status_code == 200
    assert_challenge(bearer(key).get(LIST), "This token was revoked.")
    assert bearer(other_key).get(LIST).status_code == 200
    # Revoking on the token's own page too; a revoked token cannot be brought back.
    change = f"/admin/core/apitoken/{other.pk}/change/"
    assert admin_client.post(change, {"revoked": "on"}).status_code == 302
    assert ApiToken.objects.get(pk=other.pk).revoked
    page = admin_client.get(change).content.decode()
    assert 'name="revoked"' not in page
    delete = admin_client.get(f"/admin/core/apitoken/{token.pk}/delete/")
    assert delete.status_code == 403
    assert ApiToken.objects.count() == 2


def test_the_admin_lists_last_use_and_the_library_key_table_is_hidden(admin_client, account):
    listing = admin_client.get("/admin/core/serviceaccount/")
    assert listing.status_code == 200 and b"erp-sync" in listing.content
    index = admin_client.get("/admin/").content.decode()
    assert "API tokens" in index and "Service accounts" in index
    assert "/admin/rest_framework_api_key/" not in index
    assert get_user_model().objects.filter(username="erp-sync").exists()
