import os
import uuid
from datetime import datetime

import pytest
import time_machine
from celery._state import _set_task_join_will_block
from django.db import connection

# Every test runs at a pinned instant, never at the wall clock's: the plant works in shifts,
# so "now" decides who is on shift, which day is a working day and what is late. The default
# is an ordinary Wednesday morning in the plant's time zone; CLOSEDLOOP_TEST_NOW (an ISO
# instant with its offset) runs the whole suite at another one, and `make test-instants`
# runs it at the hard ones (Sunday night, Monday before the first shift, a holiday, the last
# minute of a shift, New Year's Eve). The clock ticks from the pinned instant, so waits and
# durations inside a test behave as usual. A test about a particular instant pins its own.
DEFAULT_TEST_NOW = "2026-12-09T10:00:00+08:00"


def pinned_instant() -> datetime:
    raw = os.environ.get("CLOSEDLOOP_TEST_NOW", "").strip() or DEFAULT_TEST_NOW
    try:
        instant = datetime.fromisoformat(raw)
    except ValueError:
        raise pytest.UsageError(f"CLOSEDLOOP_TEST_NOW={raw!r} is not an ISO instant") from None
    if instant.tzinfo is None:
        raise pytest.UsageError(f"CLOSEDLOOP_TEST_NOW={raw!r} needs an offset, e.g. +08:00")
    return instant


def pytest_configure(config):
    """The translation catalogues compiled when a .po is newer than its .mo (`make setup`
    does it too): a run straight after editing a catalogue, or from a clean checkout with
    plain pytest, reads the translations as written. Each .mo is written whole and moved
    into place, so two workers compiling at once do no harm."""
    from pathlib import Path

    from core.catalogues import catalogues, mo_write, stale

    for po in catalogues(Path(__file__).resolve().parent.parent):
        if stale(po):
            mo_write(po)


def pytest_report_header(config):
    return f"clock pinned at {pinned_instant().isoformat()} (CLOSEDLOOP_TEST_NOW)"


@pytest.fixture(autouse=True)
def pinned_now(request):
    """Each test starts at the same pinned instant (see DEFAULT_TEST_NOW), or at the one its
    `clock` mark names: a scenario whose figures are those of an ordinary working week (a
    machine's free minutes over the next seven days) says so with
    `@pytest.mark.clock("2026-12-09T10:00:00+08:00")` and then holds on any day."""
    with time_machine.travel(_test_instant(request), tick=True) as traveller:
        yield traveller


def _test_instant(request) -> datetime:
    marker = request.node.get_closest_marker("clock")
    return datetime.fromisoformat(marker.args[0]) if marker else pinned_instant()


def pytest_collection_modifyitems(config, items):
    """Tests marked `postgres` run only where the database is PostgreSQL (CI).

    A test that commits for real (`transaction=True`) must also restore the migrations' rows
    (`serialized_rollback=True`): one that does not ends with a flush that re-creates content
    types under new ids, and the next restoring test in the same worker then fails on them."""
    from django.conf import settings

    for item in items:
        marker = item.get_closest_marker("django_db")
        if (
            marker
            and marker.kwargs.get("transaction")
            and not marker.kwargs.get("serialized_rollback")
        ):
            raise pytest.UsageError(
                f"{item.nodeid}: django_db(transaction=True) needs serialized_rollback=True"
            )

    engine = settings.DATABASES["default"]["ENGINE"]
    if "postgresql" in engine:
        return
    skip = pytest.mark.skip(reason="needs PostgreSQL (set DATABASE_URL); .ci/run does")
    for item in items:
        if "postgres" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(autouse=True)
def english_to_begin_with():
    """Each test starts in English, whatever language an earlier test's request (a person's
    Chinese, an Accept-Language) left active in the worker's thread; a test that wants
    another language activates it or asks for it."""
    from django.utils import translation

    translation.activate("en")
    yield
    translation.deactivate()


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    """PBKDF2's deliberate slowness is for real logins, not for creating demo users 100 times."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def own_cache(settings):
    """Each test its own cache (the API's throttle counters live there): a fresh key prefix on
    the configured backend — Redis in CI, shared by the parallel workers and the Celery
    broker, so it is never flushed — and an emptied local memory cache otherwise. Throttling
    is off unless a test sets API_THROTTLE_RATES: a test that walks every endpoint is not a
    flood (tests/core/test_credentials_throttling.py tests the throttles)."""
    from django.core.cache import cache

    caches = {name: dict(config) for name, config in settings.CACHES.items()}
    caches["default"]["KEY_PREFIX"] = f"test-{uuid.uuid4().hex}"
    settings.CACHES = caches
    if "LocMemCache" in caches["default"]["BACKEND"]:
        cache.clear()
    settings.API_THROTTLE_RATES = {"anon": None, "user": None, "token": None}


@pytest.fixture(autouse=True)
def celery_eager(settings):
    """Unit tests run tasks in-process; tests/integration start a real worker instead."""
    from config.celery import app

    app.conf.task_always_eager = True
    app.conf.task_eager_propagates = True
    yield
    app.conf.task_always_eager = False
    # Celery marks "inside a task" in one process-wide flag, set and restored around each eager
    # run. Two threads running eager tasks at once (a concurrency test's requests) can restore
    # it in the wrong order and leave it set, so a later test's `result.get()` would be refused
    # as a join inside a task. No test runs inside a task: start each one with the flag clear.
    _set_task_join_will_block(False)


@pytest.fixture
def demo_plant(demo_baseline, db, request, pinned_now):
    """The demo plant as `make run` loads it, its data in English (copied from the worker's
    first load at the same instant where that is provably the same: tests/demo_snapshot.py)."""
    from tests.demo_snapshot import demo_load

    demo_load(baseline=demo_baseline, instant=_test_instant(request), clock=pinned_now)


@pytest.fixture
def demo_plant_zh(demo_baseline, db, request, pinned_now):
    """The demo plant with its data in Chinese, as `make run` loads it by default
    (DEMO_LANGUAGE): item, machine and operation names, notes and reasons. `demo_plant` loads
    the same plant in English, so that most tests read the names as the code writes them."""
    from tests.demo_snapshot import demo_load

    demo_load(
        baseline=demo_baseline, instant=_test_instant(request), clock=pinned_now, language="zh-hans"
    )


@pytest.fixture
def scenario(demo_baseline, db, request, pinned_now):
    """`scenario(name, build)`: the demo plant and what `build()` writes on top of it, copied
    from the worker's first run of the same scenario at the same instant where that is
    provably the same (tests/demo_snapshot.py). The fixture that calls it reads its objects
    back from the database afterwards."""
    from tests.demo_snapshot import scenario_load

    def load(name: str, build) -> str:
        return scenario_load(
            name=name,
            build=build,
            baseline=demo_baseline,
            instant=_test_instant(request),
            clock=pinned_now,
        )

    return load


@pytest.fixture(scope="session")
def demo_baseline(django_db_setup, django_db_blocker):
    """Every table as the migrations left it, read once per worker."""
    from tests.demo_snapshot import baseline_read

    with django_db_blocker.unblock():
        return baseline_read()


@pytest.fixture
def is_postgres():
    return connection.vendor == "postgresql"
