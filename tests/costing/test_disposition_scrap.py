"""Scrap moved by quality's dispositions after the fact is costed (docs/costing.md, "Actual
cost"): a scrap disposition posts a scrap (memo) entry of its own, once however often its
domain event is replayed or the rebuild runs; a correction of the scrapped record takes it
back. The figure is worked by hand from the demo's roll-up (docs/costing.md, "The demo")."""

from decimal import Decimal

import pytest

from core.events import outbox_dispatch_pending
from core.models import OutboxEvent
from costing.models import OrderCostEntry
from costing.selectors.actual import order_cost_summary
from costing.selectors.variance import VarianceFilter, variances_list
from costing.services.actual import disposition_scrap_post, order_cost_post_missing
from planning.models import ProductionOrder
from quality.models import InspectionRecord
from quality.services.records import disposition_record, inspection_correct
from tests.quality import (
    EB_ORDER,
    SIGNED,
    bore,
    client_as,
    eb_released,
    post_inspection,
    unit_through,
    user,
)

pytestmark = pytest.mark.django_db

# EB-500's standard up to and including operation 30 (the CMM): steel 20.00 (issued at
# casting; the housing and bearing come at assembly), labour 5.52 + 6.78 + 2.80, machine
# 3.60 + 3.39 + 2.45, no overhead: 44.54 a unit.
UP_TO_CMM = Decimal("44.5400")


def _drain():
    while outbox_dispatch_pending():
        pass


@pytest.fixture
def scrapped(demo_plant):
    """EB-0001 and EB-0002 made through the CMM; EB-0001 then fails its bore and is scrapped."""
    eb_released()
    supervisor = client_as("sunqi")
    unit_through(supervisor, "EB-0001")
    unit_through(supervisor, "EB-0002")
    _drain()
    answer = post_inspection(client_as("zhaoliu"), "EB-0001", bore("50.20"))
    assert answer.json()["result"] == "fail"
    record = InspectionRecord.objects.get(pk=answer.json()["id"])
    disposition_record(record=record, decision="scrap", by=user("zhaoliu"), **SIGNED)
    return record


def test_a_scrap_disposition_posts_its_scrap_once(scrapped):
    record = scrapped
    order = ProductionOrder.objects.get(number=EB_ORDER)
    before = OrderCostEntry.objects.filter(order=order).count()
    _drain()

    entry = OrderCostEntry.objects.get(source_key=f"disposition:{record.pk}")
    assert entry.element == OrderCostEntry.Element.SCRAP
    assert (entry.order, entry.step_no, entry.quantity) == (order, 30, 1)
    assert (entry.rate, entry.amount) == (UP_TO_CMM, UP_TO_CMM)
    assert entry.item.code == "EB-500" and entry.work_center.code == "CMM"
    assert f"inspection record {record.pk}" in entry.basis
    assert OrderCostEntry.objects.filter(order=order).count() == before + 1
    # A memo: shown beside the elements, not added to the order's actual total.
    summary = order_cost_summary(order)
    scrap = next(e for e in summary.elements if e.element == "scrap")
    assert scrap.actual == UP_TO_CMM
    assert summary.actual_total == sum(
        (e.actual for e in summary.elements if e.element != "scrap"), Decimal(0)
    )
    # The scrap variance of operation 30 counts it.
    [cmm] = variances_list(VarianceFilter(order=EB_ORDER, kind="scrap"))
    assert (cmm.step_no, cmm.amount) == (30, UP_TO_CMM)

    # Replayed: the handler again, the same event again, the rebuild: nothing more.
    decided = OutboxEvent.objects.get(topic="quality.disposition.decided")
    assert disposition_scrap_post(events=[decided, decided]).posted == 0
    OutboxEvent.objects.filter(pk=decided.pk).update(dispatched_at=None)
    _drain()
    assert order_cost_post_missing(orders=[order]).posted == 0
    assert OrderCostEntry.objects.filter(order=order).count() == before + 1


def test_the_rebuild_posts_a_disposition_the_handler_missed(scrapped):
    record = scrapped
    # The outbox ran before costing had a current version (or the handler was down): the
    # event is dispatched with nothing posted; the rebuild finds it.
    OutboxEvent.objects.filter(topic="quality.disposition.decided").update(
        dispatched_at="2026-12-09T02:00:00Z"
    )
    _drain()
    assert not OrderCostEntry.objects.filter(source_key=f"disposition:{record.pk}").exists()
    result = order_cost_post_missing()
    assert result.problems == []
    assert OrderCostEntry.objects.get(source_key=f"disposition:{record.pk}").amount == UP_TO_CMM


def test_a_correction_takes_the_scrap_back_once(scrapped):
    record = scrapped
    _drain()
    inspection_correct(
        record=record, external_id="fix-1", values=bore("50.02"), by=user("fengjie"), **SIGNED
    )
    _drain()
    back = OrderCostEntry.objects.get(source_key__startswith=f"disposition:{record.pk}:reversed:")
    assert (back.element, back.quantity, back.amount) == ("scrap", -1, -UP_TO_CMM)
    order = ProductionOrder.objects.get(number=EB_ORDER)
    assert sum(
        OrderCostEntry.objects.filter(
            order=order, source_key__startswith="disposition:"
        ).values_list("amount", flat=True)
    ) == Decimal(0)
    reversed_event = OutboxEvent.objects.get(topic="quality.scrap.reversed")
    assert disposition_scrap_post(events=[reversed_event]).posted == 0
    assert order_cost_post_missing(orders=[order]).posted == 0


def test_rework_and_use_as_is_post_no_scrap(demo_plant):
    eb_released()
    unit_through(client_as("sunqi"), "EB-0001")
    answer = post_inspection(client_as("zhaoliu"), "EB-0001", bore("50.20"))
    record = InspectionRecord.objects.get(pk=answer.json()["id"])
    disposition_record(record=record, decision="rework", by=user("zhaoliu"), **SIGNED)
    _drain()
    assert not OrderCostEntry.objects.filter(source_key__startswith="disposition:").exists()
