"""Fixtures for tests that drive real processes: a headless browser."""

import os

import pytest

from tests.integration.browser import ARGS, CHROMIUM


@pytest.fixture
def browser_page(tmp_path, monkeypatch, settings):
    # The server's clock is pinned (tests/conftest.py) but Chromium keeps the wall clock:
    # cookies without an expiry date cannot look expired to it, whatever the two clocks say.
    settings.SESSION_EXPIRE_AT_BROWSER_CLOSE = True
    settings.CSRF_COOKIE_AGE = None
    if not os.path.exists(CHROMIUM):
        if os.environ.get("CI"):
            pytest.fail("chromium is missing on CI (make test installs Debian's chromium)")
        pytest.skip("Debian's chromium is not installed")
    # Playwright's sync API runs an event loop in this thread; the test's ORM calls are
    # plain synchronous code all the same.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        page = context.new_page()
        page.set_default_timeout(15000)
        try:
            yield page
        finally:
            page.screenshot(path=str(tmp_path / "last.png"))
            context.close()
            browser.close()
            # ORM calls made while Playwright's loop ran used a connection of their own;
            # close it so PostgreSQL can drop the test database afterwards.
            from django.db import connections

            connections.close_all()


@pytest.fixture
def closes_db(browser_page):
    """Close the database connection the test body opened, before the browser goes.

    Under Playwright's sync API the test body runs in another context than the fixtures set
    up before `browser_page`, so its ORM calls open a second connection that pytest-django's
    teardown does not close; PostgreSQL then refuses to drop the test database."""
    yield
    from django.db import connection

    connection.close()


@pytest.fixture
def released_order(demo_plant):
    """The demo's engine-block order MO-2026-00001, released (tasks and shortage made)."""
    from planning.models import ProductionOrder
    from planning.services.orders import production_order_release

    return production_order_release(order=ProductionOrder.objects.get(number="MO-2026-00001"))
