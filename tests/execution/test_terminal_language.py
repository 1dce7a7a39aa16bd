"""The operator terminal and the home page read in Simplified Chinese: rendered in zh-Hans,
they show no English word a person reads (codes such as EB-500 or MO-2026-00001 are not
words). The plant's own names (items, operations) are data: the test names them in Chinese,
as a Chinese plant's master data would."""

import re

import pytest
from django.contrib.auth import get_user_model

from execution.models import Task
from planning.models import OrderOperation
from resources.models import Item

pytestmark = pytest.mark.django_db
HX = {"HTTP_HX_REQUEST": "true"}
ZH = {"HTTP_ACCEPT_LANGUAGE": "zh-CN,zh;q=0.9"}
# The product's name and the language switcher's own name for English.
ALLOWED = {"ClosedLoop", "English", "REST", "API", "OpenAPI"}


def english_words(html: str, *also_allowed: str) -> list[str]:
    """The English words a person reads on the page: text and visible attributes, without
    scripts, codes (EB-500, MO-2026-00001, CNC-01, ITEM*LOT*QTY) and <code> samples."""
    html = re.sub(r"<(script|style|code)\b.*?</\1>", " ", html, flags=re.S | re.I)
    shown = re.findall(r'\b(?:placeholder|title|alt|aria-label)="([^"]*)"', html)
    text = " ".join([re.sub(r"<[^>]*>", " ", html), *shown])
    text = re.sub(r"&[#\w]+;", " ", text)
    text = re.sub(r"\b[A-Z0-9]+(?:[-*/.][A-Z0-9]+)*\b", " ", text)
    allowed = ALLOWED | set(also_allowed)
    return [w for w in re.findall(r"[A-Za-z][A-Za-z']+", text) if w not in allowed]


def chinese_master_data():
    names = {10: "铸造", 20: "数控加工", 30: "三坐标检测", 40: "装配"}
    for sequence, name in names.items():
        OrderOperation.objects.filter(sequence=sequence).update(name=name)
    for item in Item.objects.all():
        Item.objects.filter(pk=item.pk).update(name=f"物料{item.pk}", uom="件")


def test_the_terminal_in_zh_hans_shows_no_english(released, client):
    chinese_master_data()
    wangwu = get_user_model().objects.get(username="wangwu")
    client.force_login(wangwu)
    page = client.get("/execution/terminal/", **ZH)
    html = page.content.decode()
    assert page.status_code == 200 and page["Content-Language"] == "zh-hans"
    assert 'lang="zh-hans"' in html
    for expected in ("王五", "开工", "扫码", "刷新", "出了什么问题？", "提报异常", "终端"):
        assert expected in html, expected
    assert english_words(html, "wangwu") == []

    # A card after an action, with its message, is Chinese too.
    casting = Task.objects.get(order__number="MO-2026-00001", operation__sequence=10)
    answer = client.post(
        f"/execution/terminal/task/{casting.pk}/start/", {"event_id": "zh-start"}, **HX, **ZH
    )
    card = answer.content.decode()
    assert answer.status_code == 200 and "已开工。" in card and "生产中" in card
    assert "暂停原因？" in card and "换刀 / 换模" in card and "本工序物料" in card
    assert english_words(card) == []
    refused = client.post(
        f"/execution/terminal/task/{casting.pk}/problem/", {"event_id": "zh-alert"}, **HX, **ZH
    )
    assert "请选择异常类型。" in refused.content.decode()


def test_the_home_page_in_zh_hans_shows_no_english(demo_plant, client):
    anonymous = client.get("/", **ZH).content.decode()
    assert "登录" in anonymous and english_words(anonymous) == []
    # A signed-in person whose roles have no home page of their own gets the landing page.
    client.force_login(
        get_user_model().objects.create_user("visitor", first_name="四", last_name="李")
    )
    home = client.get("/", **ZH).content.decode()
    assert "当前用户：<strong>李四</strong>（visitor）。" in home
    assert english_words(home, "visitor") == []
    # The operator lands on the terminal, in Chinese.
    client.force_login(get_user_model().objects.get(username="zhangsan"))
    terminal = client.get("/", follow=True, **ZH)
    assert terminal.redirect_chain == [("/execution/terminal/", 302)]
    assert "张三" in terminal.content.decode() and "刷新" in terminal.content.decode()


def test_a_refusal_reads_in_the_person_s_language(demo_plant, client):
    client.force_login(get_user_model().objects.get(username="zhangsan"))
    page = client.get("/audit/", **ZH)
    assert page.status_code == 403
    assert "只有厂长可以执行此操作。" in page.content.decode()
    assert english_words(page.content.decode(), "zhangsan") == []
