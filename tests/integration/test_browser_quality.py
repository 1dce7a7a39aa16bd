"""The inspector's journey in zh-Hans, in real headless Chromium: the inspector opens her home,
the inspection page (holds and inspections due), records a failure of EB-0001 at the CMM — first
refused without a defect code, then recorded with it — and the gate then refuses to start
assembly (operation 40) at the operator's terminal, in Chinese. No English label a person
reads is left on those pages. Screenshots are kept (CLOSEDLOOP_SCREENSHOTS, else tmp_path)."""

import os
import re

import pytest

from tests.integration.browser import login

pytestmark = [
    pytest.mark.browser,
    pytest.mark.integration,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


@pytest.fixture
def demo_plant(demo_plant_zh):
    """The demo plant as `make run` loads it, its data in Chinese (DEMO_LANGUAGE): the
    journeys read in Chinese, names included."""


# English words that would betray an untranslated label on the quality pages (data such as
# item, operation and characteristic names and codes are the plant's own and may be English:
# "30 Inspection" is the demo routing's name for the CMM step).
ENGLISH_LABELS = re.compile(
    r"\b(Inspect|Holds?|Order|Operation|Result|Record|Reason|Gauge|Defect code|"
    r"PASS|FAIL|Rework|Scrap|Use as is|Disposition|Inspector|Start|cannot start)\b"
)


def _english_left(page) -> list[str]:
    text = page.inner_text("main")
    return sorted(set(ENGLISH_LABELS.findall(text)))


def test_the_inspector_fails_a_unit_and_the_gate_blocks_assembly(
    live_server, demo_plant, browser_page, closes_db, tmp_path
):
    from django.contrib.auth import get_user_model
    from playwright.sync_api import expect

    from core.homes import home_url
    from core.preferences import preference_language_set
    from execution.models import Task
    from quality.models import InspectionRecord
    from tests.quality import EB_ORDER, client_as, eb_released, unit_through

    shots = os.environ.get("CLOSEDLOOP_SCREENSHOTS") or str(tmp_path)
    eb_released()
    unit_through(client_as("sunqi"), "EB-0001")  # cast, machined, at the CMM
    users = get_user_model().objects
    for username in ("zhaoliu", "lisi"):  # the inspector, the assembly operator
        preference_language_set(user=users.get(username=username), language="zh-hans")
    cmm = Task.objects.get(order__number=EB_ORDER, operation__sequence=30)
    assembly = Task.objects.get(order__number=EB_ORDER, operation__sequence=40)
    assert assembly.operator.user.username == "lisi"

    page = browser_page
    # The inspector's home (core.homes; "/" sends her there once the landing page reads
    # it): open holds, inspections due, failures to decide.
    assert home_url(users.get(username="zhaoliu")) == "/quality/inspect/"
    login(page, live_server.url, "zhaoliu")
    page.wait_for_load_state("load")
    page.goto(live_server.url + "/quality/inspect/")
    assert page.locator("html").get_attribute("lang") == "zh-hans"
    expect(page.locator("h1")).to_have_text("检验")
    expect(page.locator("#quality-home-holds")).to_contain_text("项未解除的质量冻结")
    expect(page.locator("#quality-home-due")).to_contain_text("个工序待检验")
    expect(page.locator(f"#inspect-task-{cmm.pk}")).to_contain_text("质量门")
    assert _english_left(page) == []
    page.screenshot(path=os.path.join(shots, "inspector-home-zh-hans.png"), full_page=True)

    # The CMM task: bore 50.30 mm (limits 49.9–50.1), no defect code → refused, named.
    page.locator(f"#inspect-task-{cmm.pk}").get_by_role("link", name="检验").click()
    page.wait_for_url(re.compile(r"/quality/inspect/task/\d+/$"))
    expect(page.get_by_text("检验不合格时必填")).to_be_visible()
    page.fill("#inspect-code", "EB-0001")
    page.locator("input[name^=value-]").first.fill("50.30")
    page.locator("input[type=radio][value=ok]").first.check()
    page.get_by_role("button", name="记录").click()
    error = page.locator("#inspect-error")
    expect(error).to_contain_text("缺陷代码")  # the field named (core.views_helpers.error_text)
    expect(error).to_contain_text("超出 49.9–50.1 mm：检验不合格须填写缺陷代码。")
    assert not InspectionRecord.objects.exists()

    # With its defect code the failure is recorded; the verdict and the record in Chinese.
    page.select_option("select[name=defect_code]", "BORE-OOT")
    page.get_by_role("button", name="记录").click()
    result = page.locator("#inspect-result")
    expect(result).to_have_attribute("data-result", "fail")
    expect(result).to_contain_text("EB-0001: 不合格")
    expect(result).to_contain_text("请在下方决定处置。")
    expect(page.locator("#inspect-records")).to_contain_text("本工序最近的检验")
    expect(page.get_by_role("button", name="返工")).to_be_visible()
    assert _english_left(page) == []
    page.screenshot(path=os.path.join(shots, "inspector-fail-zh-hans.png"), full_page=True)
    record = InspectionRecord.objects.get()
    assert (record.result, record.defect_code.code) == ("fail", "BORE-OOT")

    # Back home: one failure waits for a disposition, linked to its record.
    page.goto(live_server.url + "/quality/inspect/")
    expect(page.locator("#quality-home-undecided")).to_contain_text("1")
    expect(page.locator("#quality-home-undecided")).to_have_attribute(
        "href", f"/quality/inspect/record/{record.pk}/"
    )

    # The gate: the assembly operator taps 开工 at the terminal; nothing of the order has
    # passed the CMM, so assembly is refused, in Chinese, and nothing starts.
    page.context.clear_cookies()
    login(page, live_server.url, "lisi")
    page.wait_for_load_state("load")
    page.goto(live_server.url + "/execution/terminal/")
    card = page.locator(f"#terminal-task-{assembly.pk}")
    card.get_by_role("button", name="开工").click()
    expect(card).to_contain_text(
        f"任务 {EB_ORDER}/40 不能开工：{EB_ORDER} 尚无单件通过工序 30（IP-EB500-30）的检验；"
        "请先检验一件。"
    )
    page.screenshot(path=os.path.join(shots, "gate-blocks-assembly-zh-hans.png"), full_page=True)
    assert Task.objects.get(pk=assembly.pk).status == Task.Status.READY
