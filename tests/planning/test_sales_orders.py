"""A sales order's expected delay, at its owner (planning.services.sales_orders)."""

from datetime import date

import pytest
from django.core.exceptions import ValidationError

from planning.models import SalesOrder
from planning.services.sales_orders import sales_order_delay_set
from tests.factories import ItemFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def sales_order():
    return SalesOrder.objects.create(
        number="SO-1", customer="ACME", item=ItemFactory(), quantity=5, due_date=date(2026, 12, 1)
    )


def test_the_delay_and_its_note_are_set_and_cleared(sales_order):
    sales_order_delay_set(sales_order=sales_order, minutes=90, note="EX-1: fault — " + "x" * 400)
    sales_order.refresh_from_db()
    assert sales_order.expected_delay_minutes == 90
    assert len(sales_order.delay_note) == 300 and sales_order.delay_note.startswith("EX-1")
    sales_order_delay_set(sales_order=sales_order.pk, minutes=0)
    sales_order.refresh_from_db()
    assert (sales_order.expected_delay_minutes, sales_order.delay_note) == (0, "")


def test_a_negative_delay_is_refused(sales_order):
    with pytest.raises(ValidationError):
        sales_order_delay_set(sales_order=sales_order, minutes=-1)
    sales_order.refresh_from_db()
    assert sales_order.expected_delay_minutes == 0
