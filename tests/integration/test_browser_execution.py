"""The operator terminal and the order board, in real headless Chromium: an operator runs the
casting on the terminal (scanner input included) and the board follows without a reload."""

import pytest

from tests.integration.browser import login

pytestmark = [
    pytest.mark.browser,
    pytest.mark.integration,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

ORDER = "MO-2026-00001"  # released by the released_order fixture


def test_operator_runs_the_casting_and_the_board_follows(
    live_server, released_order, browser_page, closes_db, tmp_path
):
    from playwright.sync_api import expect

    from execution.models import Task

    casting = Task.objects.get(order=released_order, operation__sequence=10)
    assert casting.operator.user.username == "wangwu"

    page = browser_page
    login(page, live_server.url, "wangwu")
    page.wait_for_url(live_server.url + "/execution/terminal/")  # the operator's home
    page.goto(live_server.url + "/execution/terminal/")
    card = page.locator(f"#terminal-task-{casting.pk}")
    expect(card).to_contain_text("10 Casting")
    scan = page.locator("#terminal-scan-code")
    expect(scan).to_be_focused()
    # Only wangwu's work is on his terminal.
    assert (
        page.locator(".terminal-task").count()
        == Task.objects.filter(operator=casting.operator, status__in=Task.OPEN).count()
    )

    card.get_by_role("button", name="Start").click()
    expect(card).to_contain_text("Started.")
    expect(card.locator(".terminal-status")).to_have_text("Running")
    expect(scan).to_be_focused()  # the scanner can fire straight away

    # Two more tabs, opened before the work is reported and completed: the order board and
    # the order's drill-down. Each refreshes its partial every 5 s.
    board = page.context.new_page()
    board.goto(live_server.url + "/execution/board/")
    order_row = board.locator(f"#board-order-{released_order.pk}")
    expect(order_row).to_contain_text(ORDER)
    casting_chip = order_row.locator(".board-op").first
    expect(casting_chip).to_have_text("10: 0")
    drill = page.context.new_page()
    drill.goto(f"{live_server.url}/execution/board/{released_order.pk}/")
    casting_row = drill.locator(f"#board-op-{casting.operation_id}")
    expect(casting_row).to_contain_text("Running")
    for tab in (board, drill):
        tab.evaluate("window.__notReloaded = true")
    page.bring_to_front()

    # A refused action shows the service's message in the card (400: no reason given).
    card.get_by_text("Pause…").click()
    card.get_by_role("button", name="Pause now").click()
    expect(card.locator(".terminal-msg--error")).to_contain_text("Say why the work is paused.")

    # The USB scanner "types" the unit's trace code into the focused input and presses Enter.
    expect(scan).to_be_focused()
    page.keyboard.type("EB-BR-0001")
    page.keyboard.press("Enter")
    expect(card).to_contain_text("Reported 1 good (EB-BR-0001).")
    expect(card.locator("[data-count=good]")).to_have_text("1 good")
    expect(scan).to_have_value("")

    card.get_by_role("button", name="Complete").click()
    expect(card).to_contain_text("Completed.")
    expect(card.locator(".terminal-status")).to_have_text("Done")
    page.screenshot(path=str(tmp_path / "terminal.png"), full_page=True)

    # The board tabs show the new state on their own, by their HTMX refresh (no reload).
    expect(casting_chip).to_have_text("10: 1", timeout=10_000)
    expect(casting_row).to_contain_text("Done", timeout=10_000)
    expect(casting_row.locator("td.num").first).to_have_text("1")
    expect(drill.locator(".board-timeline")).to_contain_text("EB-BR-0001")
    for tab in (board, drill):
        assert tab.evaluate("window.__notReloaded") is True
    board.screenshot(path=str(tmp_path / "board.png"), full_page=True)
    drill.screenshot(path=str(tmp_path / "board-drill.png"), full_page=True)

    # Opened afresh, the board shows the same.
    page.goto(live_server.url + "/execution/board/")
    expect(page.locator(f"#board-order-{released_order.pk} .board-op").first).to_have_text("10: 1")


def test_supervisor_and_planner_pages_in_the_browser(
    live_server, released_order, browser_page, closes_db, tmp_path
):
    """Reassigning with the skill check, dispatching, and a planner approving an over-issue."""
    from decimal import Decimal

    from playwright.sync_api import expect

    from execution.models import DispatchDecision, IssueApproval, MaterialRequirement, Task
    from execution.services.material import material_issue
    from resources.models import Equipment, Operator, StockLocation

    steel = MaterialRequirement.objects.get(order=released_order, item__code="STEEL-42")
    raw = StockLocation.objects.get(code="WH-RAW")
    lot = steel.item.lots.get()
    material_issue(
        requirement=steel, quantity=Decimal(100), location=raw, lot=lot, external_id="b1"
    )
    approval = material_issue(
        requirement=steel, quantity=Decimal(6), location=raw, lot=lot, external_id="b2"
    )
    assert isinstance(approval, IssueApproval)
    machining = Task.objects.get(order=released_order, operation__sequence=20)

    page = browser_page
    login(page, live_server.url, "sunqi")
    page.wait_for_url(live_server.url + "/execution/board/")  # the supervisor's home
    page.goto(live_server.url + "/execution/supervisor/")
    lisi = Operator.objects.get(user__username="lisi")  # a CNC trainee; machining needs qualified
    row = page.locator(f"#supervisor-task-{machining.pk}")
    row.locator("select[name=operator]").select_option(str(lisi.pk))
    row.get_by_role("button", name="Reassign").click()
    expect(row.locator("[role=alert]")).to_contain_text("does not hold CNC at qualified level")
    assert Task.objects.get(pk=machining.pk).operator.user.username == "zhangsan"

    cast = Equipment.objects.get(code="CAST-01")
    machine = page.locator(f"#supervisor-machine-{cast.pk}")
    machine.get_by_role("button", name="Dispatch next").click()
    decision = page.locator(f"#supervisor-machine-{cast.pk} .supervisor-decision")
    expect(decision).to_contain_text("Next:")
    expect(decision).to_contain_text(DispatchDecision.objects.get(equipment=cast).reason)
    expect(page.locator(f"#supervisor-approval-{approval.pk}")).to_contain_text("a planner decides")
    page.screenshot(path=str(tmp_path / "supervisor.png"), full_page=True)

    page.context.clear_cookies()
    login(page, live_server.url, "zhouba")
    page.wait_for_url(live_server.url + "/planning/home/")  # the role's home (core/homes.py)
    page.goto(live_server.url + "/execution/supervisor/")
    approval_row = page.locator(f"#supervisor-approval-{approval.pk}")
    approval_row.locator("input[name=reason]").fill("die broke, recast")
    approval_row.locator("input[name=password]").fill("closedloop")  # signed (demo password)
    approval_row.get_by_role("button", name="Approve").click()
    expect(page.locator(f"#supervisor-approval-{approval.pk}")).to_contain_text("Approved")
    approval.refresh_from_db()
    assert approval.status == "approved" and approval.decision_note == "die broke, recast"


def test_exception_countdown_follows_the_server_not_the_browser_clock(
    live_server, demo_plant, browser_page, closes_db
):
    """The browser's clock is set a day and a half away from the server's; the countdown
    between refreshes still counts down to the server's deadline."""
    from datetime import timedelta

    from django.utils import timezone
    from playwright.sync_api import expect

    from execution.models import WorkAlert
    from execution.services.alerts import alert_raise
    from resources.models import Equipment

    alert = alert_raise(
        alert_type="equipment_fault",
        severity="urgent",
        description="Coolant pump",
        equipment=Equipment.objects.get(code="CNC-02"),
    )
    WorkAlert.objects.filter(pk=alert.pk).update(
        ack_deadline=timezone.now() + timedelta(minutes=30, seconds=30)
    )
    page = browser_page
    page.clock.install(time=timezone.now() + timedelta(hours=36))
    login(page, live_server.url, "sunqi")
    page.wait_for_url(live_server.url + "/execution/board/")  # the supervisor's home
    page.goto(live_server.url + "/execution/exceptions/")
    countdown = page.locator(".countdown").first
    expect(countdown).to_have_text("30 min left")
    page.clock.run_for(16_000)  # a tick of the page's countdown (and a refresh) later
    expect(countdown).to_have_text("30 min left")
    assert "overdue" not in page.locator("#alerts-table").inner_text()
