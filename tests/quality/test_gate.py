"""The inspection gate: operation 40 of the engine blocks may not take a unit whose
operation-30 inspection (IP-EB500-30, gated) is missing or failed — through the API, the
event service as the terminal calls it, the terminal page, and a batch."""

import pytest

from execution.models import ProductionEvent, Task
from execution.services.events import event_record, events_record
from quality.models import InspectionPlan, InspectionRecord
from quality.services.plans import inspection_plan_new_version
from quality.services.records import disposition_record

from . import (
    EB_ORDER,
    PASSWORD,
    SIGNED,
    bore,
    client_as,
    eb_released,
    event,
    post_event,
    post_inspection,
    unit_through,
    user,
)

pytestmark = pytest.mark.django_db
TERMINAL = ProductionEvent.Source.TERMINAL


@pytest.fixture
def line(demo_plant):
    """EB-0001 and EB-0007 made through operation 30 (the CMM), nothing inspected yet."""
    eb_released()
    supervisor = client_as("sunqi")
    unit_through(supervisor, "EB-0001")
    unit_through(supervisor, "EB-0007")
    return supervisor


def assembly() -> Task:
    return Task.objects.get(order__number=EB_ORDER, operation__sequence=40)


def refusal(response) -> str:
    assert response.status_code == 409, response.json()
    return response.json()["detail"]


def test_start_without_a_unit_waits_for_a_first_passing_unit(line):
    supervisor = line
    message = refusal(post_event(supervisor, "start", 40))
    assert message == (
        f"Task {EB_ORDER}/40 cannot start: no unit of {EB_ORDER} has passed the inspection "
        "at operation 30 (IP-EB500-30) yet; inspect one first."
    )
    assert assembly().status == Task.Status.READY
    # A failed unit does not open the operation either.
    inspector = client_as("zhaoliu")
    assert post_inspection(inspector, "EB-0007", bore("50.20")).status_code == 201
    refusal(post_event(supervisor, "start", 40))
    assert post_inspection(inspector, "EB-0001", bore("50.00")).status_code == 201
    assert post_event(supervisor, "start", 40).status_code == 201
    assert assembly().status == Task.Status.RUNNING


def test_unit_report_through_the_api_needs_its_own_passing_inspection(line):
    supervisor, inspector = line, client_as("zhaoliu")
    assert post_inspection(inspector, "EB-0001", bore("49.95")).status_code == 201
    assert post_event(supervisor, "start", 40).status_code == 201

    message = refusal(post_event(supervisor, "report", 40, quantity_good=1, trace_code="EB-0007"))
    assert message == (
        "EB-0007 has no passing inspection at operation 30 (IP-EB500-30); inspect it first."
    )
    failed = post_inspection(inspector, "EB-0007", bore("50.15"), defect_code="BORE-OOT")
    assert failed.status_code == 201 and failed.json()["result"] == "fail"
    message = refusal(post_event(supervisor, "report", 40, quantity_good=1, trace_code="EB-0007"))
    assert "EB-0007 failed the inspection at operation 30 (IP-EB500-30)" in message

    # Rework, then a passing re-inspection: the latest record counts.
    record = InspectionRecord.objects.get(pk=failed.json()["id"])
    answer = inspector.post(
        f"/api/v1/quality/inspections/{record.pk}/disposition/",
        {"decision": "rework", "note": "re-bore"},
        format="json",
    )
    assert answer.status_code == 201
    message = refusal(post_event(supervisor, "report", 40, quantity_good=1, trace_code="EB-0007"))
    assert "EB-0007 is in rework" in message and "re-inspect it first" in message
    assert post_inspection(inspector, "EB-0007", bore("50.05")).status_code == 201
    ok = post_event(supervisor, "report", 40, quantity_good=1, trace_code="EB-0001")
    assert ok.status_code == 201
    assert (
        post_event(supervisor, "report", 40, quantity_good=1, trace_code="EB-0007").status_code
        == 201
    )
    assert Task.objects.get(pk=assembly().pk).quantity_good == 2


def test_terminal_path_uses_as_is_passes_and_scrap_never_does(line):
    """The event service as the terminal calls it (source="terminal", the operator's user)."""
    inspector = client_as("zhaoliu")
    lisi = user("lisi")  # the assembly operator
    assert assembly().operator.user == lisi

    start = event_record(
        data={**event("start", 40), "task": assembly().pk}, by=lisi, source=TERMINAL
    )
    assert start.code == 409
    assert "no unit of MO-2026-00001 has passed" in start.errors["detail"]

    post_inspection(inspector, "EB-0001", bore("50.30"))  # fails
    post_inspection(inspector, "EB-0007", bore("50.00", scratches_ok=False))  # fails
    first, seventh = InspectionRecord.objects.order_by("pk")
    disposition_record(
        record=first,
        decision="use_as_is",
        note="bore within customer deviation",
        by=user("fengjie"),
        password=PASSWORD,
    )
    disposition_record(record=seventh, decision="scrap", by=user("zhaoliu"), **SIGNED)

    start = event_record(data=event("start", 40), by=lisi, source=TERMINAL)
    assert start.code == 201, start.errors
    report = event_record(
        data=event("report", 40, quantity_good=1, trace_code="EB-0001"), by=lisi, source=TERMINAL
    )
    assert report.code == 201, report.errors
    assert report.event.source == TERMINAL
    refused = event_record(
        data=event("report", 40, quantity_good=1, trace_code="EB-0007"), by=lisi, source=TERMINAL
    )
    assert refused.code == 409
    assert refused.errors["detail"] == (
        "EB-0007 was scrapped at the inspection at operation 30 (IP-EB500-30); it cannot go on."
    )
    # Even a later passing record does not bring a scrapped unit back.
    post_inspection(inspector, "EB-0007", bore("50.00"))
    again = event_record(
        data=event("report", 40, quantity_good=1, trace_code="EB-0007"), by=lisi, source=TERMINAL
    )
    assert again.code == 409 and "scrapped" in again.errors["detail"]


def test_terminal_page_shows_the_gate_message(line, client):
    client.force_login(user("lisi"))
    response = client.post(
        f"/execution/terminal/task/{assembly().pk}/start/",
        {"event_id": "page-start-1"},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 409
    assert (
        "has passed the inspection at operation 30 (IP-EB500-30) yet" in response.content.decode()
    )
    assert assembly().status == Task.Status.READY


def test_a_batch_answers_per_unit(line):
    supervisor, inspector = line, client_as("zhaoliu")
    post_inspection(inspector, "EB-0001", bore("49.90"))
    assert post_event(supervisor, "start", 40).status_code == 201
    results = events_record(
        items=[
            event("report", 40, quantity_good=1, trace_code="EB-0001"),
            event("report", 40, quantity_good=1, trace_code="EB-0007"),
        ],
        by=user("sunqi"),
    )
    assert [r.code for r in results] == [201, 409]
    assert "EB-0007 has no passing inspection" in results[1].errors["detail"]


def test_the_gate_follows_the_plan(line):
    supervisor, inspector = line, client_as("zhaoliu")
    post_inspection(inspector, "EB-0001", bore("50.00"))
    assert post_event(supervisor, "start", 40).status_code == 201
    plan = InspectionPlan.objects.get(code="IP-EB500-30", active=True)

    # Every 2nd unit: EB-0001 (the 1st) is sampled, EB-0007 (the 2nd) is not.
    inspection_plan_new_version(plan=plan, sampling="every_nth", sample_every=2, by=user("fengjie"))
    ok = post_event(supervisor, "report", 40, quantity_good=1, trace_code="EB-0007")
    assert ok.status_code == 201, ok.json()

    # No gate at all: nothing is asked.
    unit_through(supervisor, "EB-0009")
    inspection_plan_new_version(
        plan=InspectionPlan.objects.get(code="IP-EB500-30", active=True),
        gate=False,
        by=user("fengjie"),
    )
    assert (
        post_event(supervisor, "report", 40, quantity_good=1, trace_code="EB-0009").status_code
        == 201
    )


def test_first_article_per_shift(line):
    supervisor, inspector = line, client_as("zhaoliu")
    plan = InspectionPlan.objects.get(code="IP-EB500-30", active=True)
    inspection_plan_new_version(plan=plan, sampling="first_article", by=user("fengjie"))
    post_inspection(inspector, "EB-0001", bore("50.01"))  # the first article of this shift
    assert post_event(supervisor, "start", 40).status_code == 201
    # EB-0007 was not inspected itself: the shift's first article passed, so it goes on.
    assert (
        post_event(supervisor, "report", 40, quantity_good=1, trace_code="EB-0007").status_code
        == 201
    )
