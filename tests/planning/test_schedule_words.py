"""A finished schedule run in sentences a planner reads (planning.selectors.schedule_run_words)."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth.models import Group
from django.test import Client
from django.utils import translation

from core.roles import Role
from planning.models import ScheduleRun
from planning.selectors.schedule import schedule_run_words
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db
SHANGHAI = ZoneInfo("Asia/Shanghai")


def a_run(**fields) -> ScheduleRun:
    values = {
        "status": ScheduleRun.Status.DONE,
        "time_limit_seconds": 10,
        "solver_status": "FEASIBLE",
        "horizon_start": datetime(2026, 12, 9, 8, 0, tzinfo=SHANGHAI),
        "weighted_tardiness": 3000,
        "heuristic_weighted_tardiness": 12000,
        "makespan_minutes": 6000,
        "bound": 0,
        "operation_count": 42,
        "summary": {"late_orders": ["MO-2026-00002"], "makespan_bound": 4800},
    }
    values.update(fields)
    return ScheduleRun.objects.create(**values)


def test_a_feasible_run_in_words():
    assert schedule_run_words(a_run()) == [
        "The best plan found within 10 s; a better one may exist.",
        "1 order will finish after its due date: MO-2026-00002.",
        "Lateness weighted by priority: 50 h, 75 % less than the dispatching rule alone (200 h).",
        "All scheduled work ends 2026-12-13 12:00.",
        "No plan could end more than 20 % sooner.",
        "42 operations placed on the machines' calendars.",
    ]


def test_an_optimal_run_on_time_and_a_first_plan():
    optimal = schedule_run_words(
        a_run(
            solver_status="OPTIMAL",
            weighted_tardiness=0,
            summary={"late_orders": [], "makespan_bound": 6000},
            operation_count=1,
        )
    )
    assert optimal[:2] == [
        "The best possible plan: no other plan has less lateness.",
        "Every order is planned to finish by its due date.",
    ]
    assert "No plan could end sooner." in optimal
    assert optimal[-1] == "1 operation placed on the machines' calendars."
    first = schedule_run_words(
        a_run(
            solver_status="HEURISTIC",
            heuristic_weighted_tardiness=3000,
            summary={"late_orders": ["A", "B"]},
        )
    )
    assert first[0].startswith("A first plan by the dispatching rule")
    assert "2 orders will finish after their due dates: A, B." in first
    assert "Lateness weighted by priority: 50 h." in first
    assert not any("sooner" in s for s in first)  # no bound: nothing claimed


def test_the_late_orders_are_listed_as_the_readers_language_lists_them():
    run = a_run(summary={"late_orders": ["MO-2026-00002", "MO-BG-1212-CNC-02"]})
    with translation.override("en"):
        assert (
            "2 orders will finish after their due dates: MO-2026-00002, MO-BG-1212-CNC-02."
            in schedule_run_words(run)
        )
    with translation.override("zh-hans"):
        assert "2 个工单将晚于交期完工：MO-2026-00002、MO-BG-1212-CNC-02。" in schedule_run_words(
            run
        )


def test_a_run_not_done_has_no_words_and_the_page_shows_them():
    assert schedule_run_words(a_run(status=ScheduleRun.Status.RUNNING)) == []
    run = a_run()
    user = UserFactory(username="words-planner")
    user.groups.add(Group.objects.get_or_create(name=Role.PLANNER)[0])
    client = Client()
    client.force_login(user)
    for url in ("/planning/schedule/", f"/planning/schedule/{run.pk}/progress/"):
        html = client.get(url).content.decode()
        assert "1 order will finish after its due date: MO-2026-00002." in html
        assert "Solver figures" in html
