"""Planning pages: full page vs HTMX partial, actions by role, capacity check, Gantt."""

import re
from datetime import date, datetime, time, timedelta
from decimal import Decimal

import pytest
from django.contrib.auth.models import Group
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from core.roles import Role
from planning.models import ProductionOrder
from planning.services.orders import production_order_create
from tests.factories import UserFactory
from tests.planning.test_api import block  # noqa: F401  (fixture)

pytestmark = pytest.mark.django_db


def client_for(role):
    user = UserFactory(username=f"v-{role}")
    user.groups.add(Group.objects.get_or_create(name=role)[0])
    client = Client()
    client.force_login(user)
    return client


def test_login_required():
    response = Client().get("/planning/orders/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_order_list_full_and_partial_with_constant_queries(block):  # noqa: F811
    client = client_for(Role.PLANNER)
    production_order_create(item=block, quantity=10, due_date=date(2026, 12, 1))
    full = client.get("/planning/orders/")
    assert full.status_code == 200 and b"<html" in full.content and b"MO-" in full.content
    partial = client.get("/planning/orders/", HTTP_HX_REQUEST="true")
    assert b"<html" not in partial.content and b"<table" in partial.content

    def queries(**params):
        with CaptureQueriesContext(connection) as ctx:
            client.get("/planning/orders/", params, HTTP_HX_REQUEST="true")
        return len(ctx.captured_queries)

    def late_order(quantity: int) -> None:
        late = production_order_create(item=block, quantity=quantity, due_date=date(2026, 12, 2))
        # Scheduled past its due date: late by the delivery risk, kept by "At risk only".
        ProductionOrder.objects.filter(pk=late.pk).update(
            planned_end=datetime(2026, 12, 5, 8, tzinfo=timezone.get_current_timezone())
        )

    late_order(1)
    few, few_at_risk = queries(), queries(risk="1")
    for i in range(20):
        late_order(i + 2)
    assert queries() == few and queries(risk="1") == few_at_risk
    assert client.get("/planning/orders/", {"risk": "1"}).content.count(b'data-risk="late"') == 21


def test_the_status_filter_is_a_row_of_tick_boxes(block):  # noqa: F811
    client = client_for(Role.PLANNER)
    draft = production_order_create(item=block, quantity=10, due_date=date(2026, 12, 1))
    planned = production_order_create(item=block, quantity=5, due_date=date(2026, 12, 1))
    client.post(f"/planning/orders/{planned.pk}/plan/", HTTP_HX_REQUEST="true")
    html = client.get("/planning/orders/", {"status": ["planned"]}).content.decode()
    boxes = re.findall(r'<input type="checkbox" name="status" value="(\w+)"([^>]*)>', html)
    assert [v for v, _ in boxes] == [v for v, _ in ProductionOrder.Status.choices]
    assert [v for v, attrs in boxes if "checked" in attrs] == ["planned"]
    assert "<select" not in html.split('class="status-chips"', 1)[1].split("</fieldset>", 1)[0]
    assert planned.number in html and draft.number not in html
    both = client.get("/planning/orders/", {"status": ["planned", "draft"]}).content.decode()
    assert planned.number in both and draft.number in both


def test_order_actions_by_role(block):  # noqa: F811
    order = production_order_create(item=block, quantity=10, due_date=date(2026, 12, 1))
    planner = client_for(Role.PLANNER)
    page = planner.get(f"/planning/orders/{order.pk}/")
    assert b"Milling" in page.content and b">Plan<" in page.content
    ok = planner.post(f"/planning/orders/{order.pk}/plan/", HTTP_HX_REQUEST="true")
    assert ok.status_code == 200 and b"Planned" in ok.content
    illegal = planner.post(f"/planning/orders/{order.pk}/complete/", HTTP_HX_REQUEST="true")
    assert illegal.status_code == 409 and b"cannot become completed" in illegal.content
    operator = client_for(Role.OPERATOR)
    assert operator.post(f"/planning/orders/{order.pk}/release/").status_code == 403
    order.refresh_from_db()
    assert order.status == "planned"


def test_capacity_page_and_plan_check(block):  # noqa: F811
    planner = client_for(Role.PLANNER)
    page = planner.get("/planning/capacity/")
    assert (
        page.status_code == 200
        and block.routings.get().steps.get().work_center.code.encode() in page.content
    )
    monday = timezone.localdate() + timedelta(days=(7 - timezone.localdate().weekday()) % 7 or 7)
    result = planner.post(
        "/planning/capacity/check/",
        {"item": "BLOCK", "quantity": "500", "requested_per_day": "100", "start_day": monday},
        HTTP_HX_REQUEST="true",
    )
    assert result.status_code == 200
    assert b"Capped to" in result.content and b"95/day" in result.content
    bad = planner.post("/planning/capacity/check/", {"item": "BLOCK", "quantity": "x"})
    assert (
        bad.status_code == 400 and b"Quantity: Enter a number." in bad.content
    )  # named by its label


def test_gantt_shows_scheduled_operations(block):  # noqa: F811
    order = production_order_create(item=block, quantity=Decimal(10), due_date=timezone.localdate())
    op = order.operations.get()
    machine = op.eligible_equipment.get()
    start = timezone.make_aware(datetime.combine(timezone.localdate(), time(8)))
    op.equipment = machine
    op.planned_start, op.planned_end = start, start + timedelta(days=1, hours=2)
    op.save()
    page = client_for(Role.PLANNER).get("/planning/gantt/")
    assert page.status_code == 200
    assert f"{order.number}/10".encode() in page.content
    assert b'class="bar late' in page.content  # ends after the due date
