"""Purchase requisitions are created by one service (planning.services.purchasing), whoever
asks: MRP firming a planned buy, execution's shortage check and its exception loop."""

from datetime import date
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from planning.models import PurchaseRequisition
from planning.services.purchasing import requisition_create
from tests.factories import ItemFactory

pytestmark = pytest.mark.django_db


def test_a_requisition_is_open_and_numbered_in_its_series():
    bolt = ItemFactory(code="BOLT-M8")
    year = timezone.localdate().year
    first = requisition_create(
        item=bolt, quantity=Decimal("20"), need_date=date(2026, 3, 9), reason="MRP run 1 (P1)"
    )
    urgent = requisition_create(
        item=bolt,
        quantity=Decimal("2.5"),
        need_date=date(2026, 3, 5),
        reason="Shortage for MO-2026-00001/40",
        urgent=True,
    )
    assert (first.number, urgent.number) == (f"PR-{year}-00001", f"PR-{year}-00002")
    assert first.status == urgent.status == PurchaseRequisition.Status.OPEN
    assert (first.urgent, urgent.urgent) == (False, True)
    stored = PurchaseRequisition.objects.get(pk=urgent.pk)
    assert (stored.item, stored.quantity, stored.need_date) == (
        bolt,
        Decimal("2.5"),
        date(2026, 3, 5),
    )
    assert stored.reason == "Shortage for MO-2026-00001/40"


def test_a_bad_requisition_is_refused_and_gives_its_number_back():
    bolt = ItemFactory(code="BOLT-M8")
    with pytest.raises(ValidationError):
        requisition_create(item=bolt, quantity=Decimal("0"), need_date=date(2026, 3, 9))
    assert not PurchaseRequisition.objects.exists()
    kept = requisition_create(item=bolt, quantity=Decimal("1"), need_date=date(2026, 3, 9))
    assert kept.number.endswith("-00001")
