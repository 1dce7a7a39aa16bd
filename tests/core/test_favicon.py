"""Every page names the product's icon, and the icon is a file the static files serve."""

import pytest
from django.contrib.staticfiles import finders

pytestmark = pytest.mark.django_db


def test_pages_name_the_icon_and_it_exists(client):
    html = client.get("/accounts/login/").content.decode()
    assert '<link rel="icon" type="image/svg+xml" href="/static/favicon.svg">' in html
    path = finders.find("favicon.svg")
    assert path and open(path).read().startswith("<svg")  # noqa: SIM115
