"""Instants in query parameters (`from`, `to`, `created_after`): any offset Python accepts
reaches the database as UTC, and one without a UTC time in the calendar is a 400."""

import pytest
from django.contrib.auth import get_user_model
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_api(demo_plant):
    client = APIClient()
    client.force_login(get_user_model().objects.get(username="admin"))
    return client


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/devices/equipment/CAST-01/telemetry/",
        "/api/v1/devices/equipment/CAST-01/intervals/",
        "/api/v1/stock-moves/",
    ],
)
def test_an_offset_beyond_the_databases_range_is_read_as_utc(admin_api, url):
    # +23:51 is a valid Python offset; PostgreSQL refuses any beyond ±15:59.
    name = "created_after" if "stock" in url else "from"
    response = admin_api.get(url, {name: "9818-01-15T05:21:44+23:51"})
    assert response.status_code == 200, response.content
    assert response.json()["results"] == []
    # Year 1 at +23:59 has no UTC time in the calendar: a 400 naming the parameter.
    refused = admin_api.get(url, {name: "0001-01-01T00:00:00+23:59"})
    assert refused.status_code == 400 and name in refused.content.decode()
    assert "The instant is out of range." in refused.content.decode()
    chinese = admin_api.get(
        url, {name: "0001-01-01T00:00:00+23:59"}, HTTP_ACCEPT_LANGUAGE="zh-hans"
    )
    assert chinese.status_code == 400 and "该时间点超出范围。" in chinese.content.decode()
