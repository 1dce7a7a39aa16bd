import pytest
from django.contrib.auth import get_user_model
from rest_framework.test import APIClient


@pytest.fixture
def api_as():
    def make(username: str) -> APIClient:
        client = APIClient()
        client.force_authenticate(get_user_model().objects.get(username=username))
        return client

    return make


# The worked order of tests/costing/test_actual.py and test_variance.py: casting (operation
# 10) of the demo's first batch MO-2026-00001 (50 EB-500), run on the floor through
# execution's own services and API, then posted by the outbox dispatcher. Its figures are
# worked out by hand in test_actual.py.
WORKED_AT = "2026-12-09T10:00:00+08:00"


@pytest.fixture
def worked_order(demo_plant, api_as):
    from datetime import timedelta
    from decimal import Decimal

    from django.utils import timezone

    from core.events import outbox_dispatch_pending
    from costing.models import CostVersion, LabourRate, LotPrice
    from execution.models import MaterialRequirement
    from execution.services.material import material_issue
    from planning.models import ProductionOrder
    from planning.services.orders import production_order_release
    from resources.models import MaterialLot, OperatorSkill, Skill, SkillLevel, StockLocation

    order = production_order_release(order=ProductionOrder.objects.get(number="MO-2026-00001"))
    outbox_dispatch_pending()  # what the release emitted (no cost in it)
    version = CostVersion.objects.get(code="STD-2026")
    cast = Skill.objects.get(code="CAST")
    # wangwu casts at the expert level, paid 50/h where the operation's standard is 46/h.
    OperatorSkill.objects.filter(operator__badge="OP-003", skill=cast).update(
        level=SkillLevel.EXPERT
    )
    LabourRate.objects.create(
        version=version, skill=cast, skill_level=SkillLevel.EXPERT, rate_per_hour=Decimal("50")
    )
    # The steel lot cost 11/kg where the standard price is 10.
    lot = MaterialLot.objects.get(code="S-2026-1101")
    LotPrice.objects.create(lot=lot, price=Decimal("11"))
    steel = MaterialRequirement.objects.get(order=order, item__code="STEEL-42")
    material_issue(
        requirement=steel,
        quantity=Decimal("12"),
        location=StockLocation.objects.get(code="WH-RAW"),
        lot=lot,
        external_id="cast-steel-1",
    )
    wangwu = api_as("wangwu")
    t0 = timezone.now() - timedelta(hours=3)

    def post(event_id, kind, minute, **extra):
        body = {
            "event_id": event_id,
            "kind": kind,
            "order": "MO-2026-00001",
            "sequence": 10,
            "occurred_at": (t0 + timedelta(minutes=minute)).isoformat(),
            **extra,
        }
        response = wangwu.post("/api/v1/execution/events/", body, format="json")
        assert response.status_code == 201, response.json()

    post("w-start", "start", 0, equipment="CAST-01")
    for n in range(5):  # serial-tracked blocks, one at a time: four good, the fifth scrapped
        good, scrap = (1, 0) if n < 4 else (0, 1)
        post(
            f"w-u{n}",
            "report",
            5 + n,
            quantity_good=good,
            quantity_scrap=scrap,
            trace_code=f"EB-W{n}",
        )
    post("w-pause", "pause", 40, reason="Ladle change")
    post("w-resume", "resume", 50)
    post("w-complete", "complete", 70)
    outbox_dispatch_pending()
    order.refresh_from_db()
    return order
