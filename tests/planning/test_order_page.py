"""The order page as an ERP work order: components against stock, per-step progress with the
floor's operator and machine, the late flag, and only the links the viewer may open."""

import re

import pytest
from django.contrib.auth.models import Group
from django.test import Client
from django.utils import translation

from core.roles import Role
from planning.models import ProductionOrder
from tests.factories import UserFactory

pytestmark = [pytest.mark.django_db, pytest.mark.clock("2026-12-09T10:00:00+08:00")]


@pytest.fixture(autouse=True)
def english():
    with translation.override("en"):
        yield


def client_for(role):
    user = UserFactory(username=f"o-{role}")
    user.groups.add(Group.objects.get_or_create(name=role)[0])
    client = Client()
    client.force_login(user)
    return client


def order_page(client, order) -> str:
    response = client.get(f"/planning/orders/{order.pk}/")
    assert response.status_code == 200
    return response.content.decode()


def row(html: str, row_id: str) -> str:
    return re.search(rf'<tr id="{row_id}"[^>]*>(.*?)</tr>', html, re.S).group(1)


def test_components_against_stock(demo_plant):
    """EB-500 × 50: 2 kg of steel a block (100 kg, 2,000 in stock), one housing and one
    bearing each; 30 bearings in stock → short by 20 (the seed's shortage)."""
    order = ProductionOrder.objects.get(number="MO-2026-00001")
    html = order_page(client_for(Role.PLANNER), order)
    steel = row(html, "component-STEEL-42")
    assert "100 kg" in steel and "2,000 kg" in steel and "available" in steel
    bearings = row(html, "component-BRG-6205")
    assert "50 pcs" in bearings and "30 pcs" in bearings and "short by 20 pcs" in bearings
    # Minutes per unit rounded, not 6.0000; the quantity with its unit.
    assert ">6<" in row(html, "operation-10") and "50.0000" not in html
    assert "50 pcs × <strong>EB-500</strong>" in html


def test_each_step_shows_the_floors_operator_machine_and_progress(demo_plant):
    from execution.models import Task
    from planning.services.orders import production_order_release
    from resources.models import Equipment, Operator

    order = ProductionOrder.objects.get(number="MO-2026-00001")
    production_order_release(order=order)
    casting = order.operations.get(sequence=10)
    operator = Operator.objects.get(user__username="zhangsan")
    Task.objects.filter(operation=casting).update(
        operator=operator, equipment=Equipment.objects.get(code="CAST-01")
    )
    type(casting).objects.filter(pk=casting.pk).update(
        status="in_progress", quantity_done=20, quantity_scrap=1
    )
    html = order_page(client_for(Role.PLANNER), order)
    step = row(html, "operation-10")
    assert operator.name in step and "CAST-01" in step
    assert "20 of 50 pcs" in step and "1 scrapped" in step and 'value="40"' in step
    assert "In progress" in step and "in_progress" not in step.replace("status-in_progress", "")


def test_the_late_flag_shows_on_the_work_order(demo_plant):
    from datetime import datetime
    from zoneinfo import ZoneInfo

    order = ProductionOrder.objects.get(number="MO-2026-00001")
    ProductionOrder.objects.filter(pk=order.pk).update(
        planned_end=datetime(2026, 12, 18, 12, tzinfo=ZoneInfo("Asia/Shanghai"))
    )
    html = order_page(client_for(Role.PLANNER), order)
    assert 'data-risk="late"' in html and "late +" in html


@pytest.mark.parametrize(
    ("role", "shown", "hidden"),
    [
        (Role.PLANNER, {"Capacity", "Gantt", "Exceptions", "Cost"}, set()),
        (Role.COST_ACCOUNTANT, {"Cost"}, {"Capacity", "Gantt"}),
        (Role.SUPERVISOR, {"Capacity", "Gantt", "Shop floor", "Exceptions"}, {"Cost"}),
    ],
)
def test_only_the_links_the_viewer_may_open(demo_plant, role, shown, hidden):
    order = ProductionOrder.objects.get(number="MO-2026-00001")
    client = client_for(role)
    html = order_page(client, order)
    nav = re.search(r'<nav class="order-links"[^>]*>(.*?)</nav>', html, re.S)
    links = dict(
        (label, url) for url, label in re.findall(r'<a href="([^"]+)">([^<]+)</a>', nav.group(1))
    )
    assert shown <= set(links) and not hidden & set(links)
    for label, url in links.items():
        assert client.get(url.replace("&amp;", "&")).status_code == 200, label


def test_the_work_order_in_chinese(demo_plant):
    order = ProductionOrder.objects.get(number="MO-2026-00001")
    client = client_for(Role.PLANNER)
    html = client.get(f"/planning/orders/{order.pk}/", HTTP_ACCEPT_LANGUAGE="zh-hans")
    text = html.content.decode()
    assert "缺 20 件" in text and "组件" in text and "工序" in text and "齐套" in text
    assert "not scheduled" not in text and "Pending" not in text


def test_the_plan_check_reads_a_chinese_date(demo_plant):
    client = client_for(Role.PLANNER)
    answer = client.post(
        "/planning/capacity/check/",
        {
            "item": "EB-500",
            "quantity": "50",
            "requested_per_day": "10",
            "start_day": "2026年12月10日",
        },
        HTTP_ACCEPT_LANGUAGE="zh-hans",
    )
    assert answer.status_code == 200, answer.content.decode()
    assert "2026-12-10" in answer.content.decode() or "完工" in answer.content.decode()
    bad = client.post(
        "/planning/capacity/check/",
        {"item": "EB-500", "quantity": "50", "requested_per_day": "10", "start_day": "12/10/2026x"},
        HTTP_ACCEPT_LANGUAGE="zh-hans",
    )
    assert bad.status_code == 400 and "开始日期" in bad.content.decode()


def test_the_admin_site_names_planning_and_costing_in_chinese(db):
    admin = UserFactory(username="o-admin", is_staff=True, is_superuser=True)
    client = Client()
    client.force_login(admin)
    text = client.get("/admin/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "生产工单" in text and "请购单" in text and "成本版本" in text and "培训需求" in text
