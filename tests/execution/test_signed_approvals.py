"""An over-issue approval is a signed decision: through the API a wrong password answers 400
naming it and moves no stock; the right one signs (meaning "approved" or "rejected", the
note as the reason) and the signature verifies."""

from decimal import Decimal

import pytest

from core.models import Signature
from core.signatures import signature_verify
from execution.models import IssueApproval, MaterialRequirement
from execution.services.material import material_issue
from resources.models import StockBalance, StockLocation
from tests.errors import error_fields

pytestmark = pytest.mark.django_db

APPROVALS = "/api/v1/execution/approvals/"


@pytest.fixture
def pending(released) -> IssueApproval:
    steel = MaterialRequirement.objects.get(order=released, item__code="STEEL-42")
    raw = StockLocation.objects.get(code="WH-RAW")
    lot = steel.item.lots.get()
    material_issue(
        requirement=steel, quantity=Decimal(100), location=raw, lot=lot, external_id="i1"
    )
    approval = material_issue(
        requirement=steel, quantity=Decimal(7), location=raw, lot=lot, external_id="i2"
    )
    assert isinstance(approval, IssueApproval) and approval.status == "pending"
    return approval


def on_hand(approval) -> Decimal:
    return StockBalance.objects.get(
        item=approval.requirement.item, location=approval.location, lot=approval.lot
    ).on_hand


def test_an_approval_through_the_api_is_signed(pending, api_as):
    planner = api_as("zhouba")
    before = on_hand(pending)
    url = f"{APPROVALS}{pending.pk}/approve/"
    for body, field in (
        ({"note": "casting scrap"}, "password"),
        ({"note": "casting scrap", "password": "wrong"}, "password"),
        ({"password": "closedloop"}, "reason"),
    ):
        refused = planner.post(url, body, format="json")
        assert refused.status_code == 400 and error_fields(refused) == {field}, body
        pending.refresh_from_db()
        assert pending.status == "pending" and pending.issue_id is None
        assert on_hand(pending) == before and not Signature.objects.exists()

    approved = planner.post(
        url, {"reason": "casting scrap", "password": "closedloop"}, format="json"
    )
    assert approved.status_code == 200, approved.json()
    assert approved.json()["status"] == "approved" and on_hand(pending) == before - 7
    [signed] = approved.json()["signatures"]
    assert (signed["meaning"], signed["signer_username"]) == ("approved", "zhouba")
    assert signed["reason"] == "casting scrap" and signed["verified"] is True
    assert signature_verify(Signature.objects.get())
    listed = planner.get(APPROVALS).json()["results"]
    assert listed[0]["signatures"][0]["verified"] is True


def test_a_rejection_is_signed_too(pending, api_as):
    rejected = api_as("zhouba").post(
        f"{APPROVALS}{pending.pk}/reject/",
        {"note": "take it from the next lot", "password": "closedloop"},
        format="json",
    )
    assert rejected.status_code == 200, rejected.json()
    [signed] = rejected.json()["signatures"]
    assert signed["meaning"] == "rejected" and signed["verified"] is True
