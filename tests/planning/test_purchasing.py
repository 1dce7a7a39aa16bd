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


def test_a_reason_the_system_writes_is_read_in_the_readers_language():
    from django.utils import translation
    from rest_framework.test import APIClient

    from core.roles import Role
    from core.texts import Text
    from execution.services.alerts import EXCEPTION_STOPS
    from execution.services.material import SHORTAGE_FOR
    from planning.services.purchasing import requisition_expedite
    from tests.factories import UserFactory

    requisition = requisition_create(
        item=ItemFactory(code="BRG-9"),
        quantity=Decimal(4),
        need_date=date(2026, 12, 20),
        reason=Text(SHORTAGE_FOR, order="MO-2026-00001", step=40),
    )
    requisition = requisition_expedite(
        requisition=requisition,
        need_date=date(2026, 12, 10),
        reason=Text(EXCEPTION_STOPS, number="EX-2026-00003"),
    )
    stored = PurchaseRequisition.objects.get(pk=requisition.pk)
    english = "Shortage for MO-2026-00001/40; EX-2026-00003: production stops without it"
    assert stored.reason == stored.reason_shown == english
    with translation.override("zh-hans"):
        assert stored.reason_shown == "MO-2026-00001/40 缺料；EX-2026-00003：缺了它就要停产"
    client = APIClient()
    client.force_authenticate(UserFactory(username="req-reader", roles=[Role.PLANNER]))
    body = client.get(
        f"/api/v1/purchase-requisitions/{stored.pk}/", HTTP_ACCEPT_LANGUAGE="zh-hans"
    ).json()
    assert body["reason"] == "MO-2026-00001/40 缺料；EX-2026-00003：缺了它就要停产"
    assert body["reason_id"] == "%(first)s; %(then)s"
    # A reason a person typed (or one written before) is shown as stored.
    PurchaseRequisition.objects.filter(pk=stored.pk).update(
        reason="Buy ahead of the holiday", reason_id="", reason_params={}
    )
    with translation.override("zh-hans"):
        assert PurchaseRequisition.objects.get(pk=stored.pk).reason_shown == (
            "Buy ahead of the holiday"
        )
