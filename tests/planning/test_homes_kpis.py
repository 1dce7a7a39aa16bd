"""The planner's and supply-chain director's home (orders at risk, the week's capacity load,
open requisitions), the cost accountant's landing page, and the plant manager's planning and
costing KPI tiles worked by hand."""

from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth.models import Group
from django.test import Client
from django.utils import translation

from core.homes import home_url, kpis_declared
from core.roles import Role
from core.units import minutes_text, quantity_unit
from planning.models import ProductionOrder, PurchaseRequisition
from planning.selectors.kpi import on_time_delivery, work_in_progress
from tests.factories import ItemFactory, UserFactory

pytestmark = [pytest.mark.django_db, pytest.mark.clock("2026-12-09T10:00:00+08:00")]
TZ = ZoneInfo("Asia/Shanghai")
TODAY = date(2026, 12, 9)


@pytest.fixture(autouse=True)
def english():
    """English unless a test asks for Chinese (another test may leave a language active)."""
    with translation.override("en"):
        yield


def user_for(role):
    user = UserFactory(username=f"h-{role}")
    user.groups.add(Group.objects.get_or_create(name=role)[0])
    return user


def client_for(role):
    client = Client()
    client.force_login(user_for(role))
    return client


def make(number, **fields):
    item = fields.pop("item", None) or ItemFactory(code=f"I-{number}")
    values = {"quantity": Decimal("10"), "due_date": TODAY, "status": "planned"}
    values.update(fields)
    return ProductionOrder.objects.create(number=number, item=item, **values)


def at(day: date, hour: int = 12) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=TZ)


def test_quantities_and_minutes_as_people_read_them():
    assert quantity_unit(Decimal("50.0000"), "pcs") == "50 pcs"
    assert quantity_unit(Decimal("1234.5000"), "kg") == "1,234.5 kg"
    assert [minutes_text(Decimal(v)) for v in ("0.2500", "2.5000", "12.3456", "45")] == [
        "0.25",
        "2.5",
        "12",
        "45",
    ]
    with translation.override("zh-hans"):
        assert quantity_unit(Decimal("50.0000"), "pcs") == "50 件"


def test_on_time_delivery_worked_example():
    """Four orders completed in the 30 days up to 12-09 (11-10 … 12-09): three by the end of
    their due day (one at 23:00 on it), one a day late → 3 of 4 = 75.0 %, below 80: bad.
    Left out: one completed 31 days ago, a cancelled one, one still in progress."""
    make("K1", status="completed", due_date=date(2026, 12, 5), completed_at=at(date(2026, 12, 4)))
    make("K2", status="closed", due_date=date(2026, 11, 20), completed_at=at(date(2026, 11, 10), 9))
    make(
        "K3", status="completed", due_date=date(2026, 12, 8), completed_at=at(date(2026, 12, 8), 23)
    )
    make("K4", status="completed", due_date=date(2026, 12, 1), completed_at=at(date(2026, 12, 2)))
    make("K5", status="completed", due_date=date(2026, 11, 1), completed_at=at(date(2026, 11, 9)))
    make("K6", status="cancelled", due_date=date(2026, 12, 1), completed_at=at(date(2026, 12, 3)))
    make("K7", status="in_progress", due_date=date(2026, 12, 1))
    kpi = on_time_delivery(TODAY)
    assert (kpi.value, kpi.text, kpi.status) == (Decimal("75.0"), "75 %", "bad")
    assert kpi.detail == "3 of 4 orders completed on time in the last 30 days"
    with translation.override("zh-hans"):
        assert "准时" in on_time_delivery(TODAY).detail


def test_on_time_delivery_with_nothing_completed_is_empty():
    kpi = on_time_delivery(TODAY)
    assert kpi.value is None and "30" in kpi.empty


def test_work_in_progress_counts_orders_and_what_they_still_make():
    """In progress: 100 ordered with 40 made, 50 with none → 2 orders, 110 pcs still to make;
    12.5 kg of steel; a released order is not yet in progress."""
    make("W1", status="in_progress", quantity=Decimal("100"), quantity_done=Decimal("40"))
    make("W2", status="in_progress", quantity=Decimal("50"))
    make(
        "W3", status="in_progress", quantity=Decimal("12.5"), item=ItemFactory(code="ST", uom="kg")
    )
    make("W4", status="released", quantity=Decimal("500"))
    kpi = work_in_progress(TODAY)
    assert (kpi.value, kpi.text) == (3, "3 orders")
    assert kpi.detail == "12.5 kg, 110 pcs still to make"
    with translation.override("zh-hans"):
        kpi = work_in_progress(TODAY)
        assert kpi.text == "3 个工单" and "110 件" in kpi.detail


def test_the_tiles_are_declared_in_order():
    keys = [k.key for k in kpis_declared()]
    assert keys.index("on_time_delivery") < keys.index("wip") < keys.index("cost_variance")


def test_each_office_role_lands_on_its_own_page():
    assert home_url(user_for(Role.PLANNER)) == "/planning/home/"
    assert home_url(user_for(Role.SUPPLY_CHAIN_DIRECTOR)) == "/planning/home/"
    assert home_url(user_for(Role.COST_ACCOUNTANT)) == "/costing/variances/"


def test_the_planner_home_shows_the_late_order_and_the_week_load():
    late = make("MO-LATE", due_date=date(2026, 12, 13), planned_end=at(date(2026, 12, 17), 18))
    make("MO-OK", due_date=date(2026, 12, 20), planned_end=at(date(2026, 12, 15)))
    page = client_for(Role.PLANNER).get("/planning/home/")
    assert page.status_code == 200
    html = page.content.decode()
    assert f'id="home-order-{late.pk}"' in html and "MO-OK" not in html
    assert "10 pcs" in html and 'data-risk="late"' in html
    assert 'id="home-capacity"' in html and "/planning/capacity/" in html
    # Requisitions are for whoever answers for buying: the planner may read them too.
    assert 'id="home-requisitions"' in html


def test_the_supply_chain_director_sees_urgent_requisitions_first_in_chinese():
    item = ItemFactory(code="BRG-6204")
    PurchaseRequisition.objects.create(
        number="PR-1", item=item, quantity=Decimal("20.0000"), need_date=TODAY + timedelta(days=3)
    )
    PurchaseRequisition.objects.create(
        number="PR-2",
        item=item,
        quantity=Decimal("20"),
        need_date=TODAY + timedelta(days=6),
        urgent=True,
        reason="shortage",
    )
    client = client_for(Role.SUPPLY_CHAIN_DIRECTOR)
    html = client.get("/planning/home/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert html.index("PR-2") < html.index("PR-1")
    assert "20 件" in html and "请购" in html and "紧急" in html


def test_roles_without_planning_get_no_planner_home():
    assert client_for(Role.OPERATOR).get("/planning/home/").status_code == 403
