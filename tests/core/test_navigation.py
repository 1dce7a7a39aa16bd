"""The top bar lists the pages of each role's work, and every page it lists opens for it."""

import re

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

pytestmark = pytest.mark.django_db

LINK = re.compile(r'<header class="topbar">.*?</header>', re.S)


def bar(username: str) -> tuple[Client, list[tuple[str, str]]]:
    client = Client()
    client.force_login(get_user_model().objects.get(username=username))
    page = client.get("/", follow=True)  # `/` sends most roles on to their home page
    assert page.status_code == 200
    header = LINK.search(page.content.decode()).group(0)
    return client, re.findall(r'<a href="([^"]+)"[^>]*>([^<]+)', header)


@pytest.mark.parametrize(
    ("username", "expected", "absent"),
    [
        (
            "zhangsan",
            ["Terminal", "Downtime", "Exceptions", "Trace", "Inbox"],
            ["Orders", "Admin", "API", "OEE", "Costs"],
        ),
        ("zhaoliu", ["Inspect", "Holds", "Trace", "Quality", "Board", "Exceptions"], ["MRP"]),
        ("sunqi", ["Orders", "Supervisor", "Board", "Exceptions", "Admin"], ["Terminal", "MRP"]),
        (
            "zhouba",
            ["Orders", "MPS", "MRP", "Schedule", "Supervisor", "Costs", "API"],
            ["Terminal"],
        ),
        ("fengjie", ["Inspect", "Holds", "Quality", "Exceptions", "Board"], ["Terminal", "Orders"]),
        (
            "qianyi",
            ["KPIs", "Orders", "MRP", "Exceptions", "Quality", "Board", "OEE", "Costs"],
            ["Terminal", "Admin"],
        ),
        (
            "wujiu",
            ["Orders", "Exceptions", "Costs", "API"],
            ["Terminal", "Supervisor", "Inspect", "OEE"],
        ),
        ("chenmo", ["Exceptions", "Admin", "API"], ["Orders", "Terminal", "MRP", "Board", "Costs"]),
        ("admin", ["Orders", "Terminal", "Supervisor", "Inspect", "MRP", "Admin", "API"], []),
    ],
)
def test_each_role_sees_its_pages_and_each_listed_page_opens(
    demo_plant, username, expected, absent
):
    client, links = bar(username)
    labels = [label.strip() for _href, label in links]
    for label in expected:
        assert label in labels, (username, labels)
    for label in absent:
        assert label not in labels, (username, labels)
    for href, label in links:
        if href.startswith("/") and label.strip() not in ("ClosedLoop", "Admin", "API"):
            assert client.get(href).status_code == 200, (username, href)


def test_signed_out_bar_has_only_log_in(demo_plant):
    page = Client().get("/accounts/login/")
    header = LINK.search(page.content.decode()).group(0)
    assert "Log in" in header and "Orders" not in header and "Admin" not in header


def test_the_bar_is_built_from_what_each_app_declares():
    from pathlib import Path

    from django.conf import settings

    import core.navigation
    from core.navigation import nav_declared

    declared = nav_declared()
    assert [e.label for e in declared] == [
        "KPIs",
        "Orders",
        "Sales",
        "Capacity",
        "Gantt",
        "Schedule",
        "MPS",
        "MRP",
        "Exceptions",
        "Inspect",
        "Trace",
        "Holds",
        "Quality",
        "Terminal",
        "Downtime",
        "Supervisor",
        "Board",
        "OEE",
        "Costs",
        "Import",
        "Audit",
    ]
    # Each entry is declared by the app whose page it is; core names no app's page.
    for entry in declared:
        app = entry.url_name.split(":")[0]
        assert entry.url_name in (Path(settings.BASE_DIR) / app / "apps.py").read_text(), entry
    assert not re.search(r'"\w+:\w+"', Path(core.navigation.__file__).read_text())
