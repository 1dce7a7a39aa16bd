"""API throttling per client: a flood answers 429 with Retry-After and the API's error body;
people are counted by account, service accounts by token, anonymous callers by address."""

import json
from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from core.models import ApiToken
from core.roles import Role, roles_ensure
from core.throttling import ClientRateThrottle
from core.tokens import api_token_issue, service_account_create
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

LIST = "/api/v1/items/"
SCHEMA = "/api/schema/?format=json"  # answers anonymous callers: the anonymous rate shows


@pytest.fixture
def rates(settings):
    settings.API_THROTTLE_RATES = {"anon": "3/min", "user": "5/min", "token": "8/min"}
    return settings.API_THROTTLE_RATES


def flood(client, url, count):
    return [client.get(url) for _ in range(count)]


def assert_throttled(response, within: int):
    assert response.status_code == 429, response.content
    assert 0 < int(response["Retry-After"]) <= within
    body = json.loads(response.content)  # the schema's own JSON type for /api/schema/
    assert body["errors"] == [] and body["detail"].startswith("Request was throttled.")


def test_a_flood_by_a_person_answers_429_with_retry_after(rates, pinned_now):
    person = UserFactory(username="lisi", roles=[Role.OPERATOR])
    client = APIClient()
    client.force_authenticate(person)
    answers = flood(client, LIST, 7)
    assert [r.status_code for r in answers[:5]] == [200] * 5
    assert_throttled(answers[5], within=60)
    assert_throttled(answers[6], within=60)
    # Another person has a budget of their own; after the minute the first one has again.
    other = APIClient()
    other.force_authenticate(UserFactory(username="wangwu", roles=[Role.OPERATOR]))
    assert other.get(LIST).status_code == 200
    pinned_now.shift(timedelta(seconds=61))
    assert client.get(LIST).status_code == 200


def test_each_token_has_its_own_budget_at_the_token_rate(rates):
    roles_ensure()
    root = UserFactory(username="root", is_superuser=True)
    account = service_account_create(username="erp-sync", created_by=root)
    clients = []
    for name in ("ERP", "MES"):
        token = ApiToken(user=account, name=name, expiry_date=timezone.now() + timedelta(days=9))
        client = APIClient()
        client.credentials(
            HTTP_AUTHORIZATION=f"Bearer {api_token_issue(token=token, issued_by=root)}"
        )
        clients.append(client)
    first, second = clients
    answers = flood(first, LIST, 9)
    assert [r.status_code for r in answers[:8]] == [200] * 8
    assert_throttled(answers[8], within=60)
    assert second.get(LIST).status_code == 200  # same account, another token


def test_anonymous_callers_are_counted_by_address(rates):
    client = APIClient(REMOTE_ADDR="10.0.0.3")
    answers = flood(client, SCHEMA, 4)
    assert [r.status_code for r in answers[:3]] == [200] * 3
    assert_throttled(answers[3], within=60)
    assert APIClient(REMOTE_ADDR="10.0.0.4").get(SCHEMA).status_code == 200


def test_a_forwarded_address_counts_only_behind_a_trusted_proxy(rates, settings):
    def spoofed(address):
        return APIClient(REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR=address).get(SCHEMA)

    # No trusted proxy: the header is ignored, so changing it does not buy a new budget.
    answers = [spoofed(f"192.0.2.{n}") for n in range(4)]
    assert answers[3].status_code == 429
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": 1}
    assert spoofed("192.0.2.50").status_code == 200


def test_rates_are_off_when_not_set_and_an_unreachable_cache_lets_requests_in(
    settings, monkeypatch
):
    client = APIClient()
    client.force_authenticate(UserFactory(username="lisi", roles=[Role.OPERATOR]))
    assert {r.status_code for r in flood(client, LIST, 10)} == {200}  # the suite's default
    settings.API_THROTTLE_RATES = {"anon": None, "user": "1/min", "token": None}

    class Unreachable:
        def get(self, *args, **kwargs):
            raise ConnectionError("cache down")

    monkeypatch.setattr(ClientRateThrottle, "cache", Unreachable())
    assert {r.status_code for r in flood(client, LIST, 3)} == {200}
