"""The operator terminal in real headless Chromium when a supervisor moves a task away: the
operator's next tap on the card that is still on the screen says who has the task now."""

import pytest

from tests.integration.browser import login

pytestmark = [
    pytest.mark.browser,
    pytest.mark.integration,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def test_tap_on_a_task_reassigned_meanwhile_shows_who_has_it(
    live_server, released_order, browser_page, closes_db, tmp_path
):
    from django.contrib.auth import get_user_model
    from playwright.sync_api import expect

    from core.formatting import person_name
    from execution.models import ProductionEvent, Task
    from execution.services.tasks import task_assign
    from resources.models import Operator

    casting = Task.objects.get(order=released_order, operation__sequence=10)
    assert casting.operator.user.username == "wangwu"

    page = browser_page
    login(page, live_server.url, "wangwu")
    page.wait_for_url(live_server.url + "/execution/terminal/")  # the operator's home
    page.goto(live_server.url + "/execution/terminal/")
    card = page.locator(f"#terminal-task-{casting.pk}")
    expect(card.get_by_role("button", name="Start")).to_be_visible()

    # Meanwhile the supervisor gives the casting to zhangsan (also qualified for CAST).
    sunqi = get_user_model().objects.get(username="sunqi")
    zhangsan = Operator.objects.get(user__username="zhangsan")
    task_assign(task=casting, operator=zhangsan, by=sunqi, note="wangwu to moulding")

    card.get_by_role("button", name="Start").click()
    notice = card.locator(".terminal-reassigned")
    expect(notice).to_contain_text(f"This task is now assigned to {zhangsan.name}")
    expect(notice).to_contain_text(person_name(sunqi))
    expect(card).to_contain_text("Nothing was recorded.")
    expect(card.get_by_role("button")).to_have_count(0)
    expect(card).to_have_attribute("data-status", "reassigned")
    expect(page.locator("#terminal-scan-code")).to_be_focused()
    # The scan bar no longer offers this task.
    expect(page.locator("#terminal-scan-for")).not_to_contain_text("10 Casting")
    page.screenshot(path=str(tmp_path / "terminal-reassigned.png"), full_page=True)
    assert not ProductionEvent.objects.filter(task=casting).exists()
    assert Task.objects.get(pk=casting.pk).status == "ready"

    # Refreshed, the list is the operator's own work only.
    page.get_by_role("button", name="Refresh").click()
    expect(card).to_have_count(0)
