"""The demo plant copied into a test is row for row what `load_demo` wrote (tests/demo_snapshot.py)."""

import pytest
from django.db import transaction
from django.utils import timezone

from tests import demo_snapshot
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def _everything():
    return {t: rows for t, (_c, rows) in demo_snapshot.baseline_read().items()}


def test_a_copy_is_row_for_row_the_load_it_recorded(demo_baseline, pinned_now):
    sid = transaction.savepoint()
    snapshot = demo_snapshot.load_and_record(demo_baseline)
    assert snapshot is not None and snapshot.tables
    loaded = _everything()
    transaction.savepoint_rollback(sid)
    assert _everything() == {t: rows for t, (_c, rows) in demo_baseline.items()}

    assert demo_snapshot.copy(snapshot, demo_baseline)
    assert _everything() == loaded  # JSON, decimals, instants and text come back as they were
    # the keys go on after the copied rows (PostgreSQL's sequences do not follow on their own)
    user = UserFactory()
    from django.contrib.auth import get_user_model

    copied_users = [r for t, r in loaded.items() if t == get_user_model()._meta.db_table][0]
    assert user.pk > max(row[0] for row in copied_users)


def test_no_copy_where_a_table_is_not_as_the_migrations_left_it(demo_baseline, pinned_now):
    sid = transaction.savepoint()
    snapshot = demo_snapshot.load_and_record(demo_baseline)
    transaction.savepoint_rollback(sid)
    UserFactory(username="made-before-the-demo")
    before = _everything()
    assert not demo_snapshot.copy(snapshot, demo_baseline)
    assert _everything() == before  # the refused copy wrote nothing


def test_the_fixture_copies_at_the_same_instant_and_moves_the_clock(
    demo_baseline, pinned_now, request
):
    from tests.conftest import _test_instant

    instant = _test_instant(request)
    sid = transaction.savepoint()
    first = demo_snapshot.demo_load(baseline=demo_baseline, instant=instant, clock=pinned_now)
    assert first in {"recorded", "copied"}  # copied when an earlier test in the worker recorded
    loaded = _everything()
    transaction.savepoint_rollback(sid)

    assert demo_snapshot.demo_load(baseline=demo_baseline, instant=instant, clock=pinned_now) == (
        "copied"
    )
    assert _everything() == loaded
    snapshot = demo_snapshot._snapshots[demo_snapshot.key(instant)]
    assert timezone.now() >= snapshot.clock_after  # as late as a real load would have left it


def test_a_scenario_is_copied_with_the_demo_beneath_it(demo_baseline, pinned_now, request):
    from django.contrib.auth.models import Group

    from tests.conftest import _test_instant

    instant = _test_instant(request)

    def build():
        Group.objects.create(name="scenario-made")

    sid = transaction.savepoint()
    first = demo_snapshot.scenario_load(
        name="test.group", build=build, baseline=demo_baseline, instant=instant, clock=pinned_now
    )
    assert first in {"recorded", "copied"}
    built = _everything()
    transaction.savepoint_rollback(sid)
    again = demo_snapshot.scenario_load(
        name="test.group", build=build, baseline=demo_baseline, instant=instant, clock=pinned_now
    )
    assert again == "copied"
    assert _everything() == built
    assert Group.objects.filter(name="scenario-made").count() == 1
