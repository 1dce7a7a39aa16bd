"""Retried requests over the API: a repeated material issue answers 200 with what the first
made and moves nothing more; dispatching a machine with nothing ready answers a bare 204
and records why."""

from decimal import Decimal

import pytest

from execution.models import DispatchDecision, IssueApproval, MaterialIssue, MaterialRequirement
from resources.models import StockBalance

pytestmark = pytest.mark.django_db
ISSUES = "/api/v1/execution/issues/"


def issue_body(requirement, quantity, external_id) -> dict:
    return {
        "requirement": requirement.pk,
        "quantity": str(quantity),
        "location": "WH-RAW",
        "lot": requirement.item.lots.get().code,
        "external_id": external_id,
    }


def test_a_repeated_issue_answers_200_with_the_first_and_moves_nothing(released, api_as):
    steel = MaterialRequirement.objects.get(order=released, item__code="STEEL-42")
    api = api_as("sunqi")
    first = api.post(ISSUES, issue_body(steel, 100, "gw-7-1"), format="json")
    assert first.status_code == 201, first.json()
    on_hand = StockBalance.objects.get(item=steel.item).on_hand
    again = api.post(ISSUES, issue_body(steel, 100, "gw-7-1"), format="json")
    assert again.status_code == 200 and again.json() == first.json()
    assert StockBalance.objects.get(item=steel.item).on_hand == on_hand
    assert MaterialIssue.objects.filter(external_id="gw-7-1").count() == 1

    # Beyond the tolerance: 202 with an approval request; its retry 200, one request.
    over = api.post(ISSUES, issue_body(steel, 10, "gw-7-2"), format="json")
    assert over.status_code == 202, over.json()
    over_again = api.post(ISSUES, issue_body(steel, 10, "gw-7-2"), format="json")
    assert over_again.status_code == 200 and over_again.json()["id"] == over.json()["id"]
    assert IssueApproval.objects.filter(external_id="gw-7-2").count() == 1
    steel.refresh_from_db()
    assert steel.quantity_issued == Decimal(100)


def test_dispatch_with_nothing_ready_answers_a_bare_204(released, api_as):
    answer = api_as("sunqi").post(
        "/api/v1/execution/dispatch/", {"equipment": "CMM-01"}, format="json"
    )
    assert answer.status_code == 204 and answer.content == b""
    decision = DispatchDecision.objects.filter(equipment__code="CMM-01").latest("decided_at")
    assert decision.task is None and decision.reason.startswith("No ready task")
