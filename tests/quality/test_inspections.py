"""Inspection plans and records: tolerances (limits inclusive), clear 400s, idempotent
entry, append-only records and corrections, plan versions, dispositions, the entry page."""

import re
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from planning.models import OrderOperation
from quality.models import Characteristic, Disposition, InspectionPlan, InspectionRecord
from quality.selectors.inspections import inspection_status
from quality.services.plans import inspection_plan_new_version
from quality.services.records import inspection_correct, inspection_record
from quality.values import judge
from tests.errors import error_fields, error_messages

from . import (
    EB_ORDER,
    INSPECTIONS,
    PASSWORD,
    SIGNED,
    bore,
    client_as,
    eb_released,
    post_inspection,
    unit_through,
    user,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def line(scenario):
    """EB-0001 and EB-0002 made through operation 30 (the CMM)."""

    def build():
        eb_released()
        supervisor = client_as("sunqi")
        unit_through(supervisor, "EB-0001")
        unit_through(supervisor, "EB-0002")

    scenario("quality.inspections.line", build)
    return client_as("zhaoliu")


BORE = Characteristic(
    name="Bore diameter",
    kind="variable",
    nominal=Decimal("50.00"),
    lower_tolerance=Decimal("0.10"),
    upper_tolerance=Decimal("0.10"),
    unit="mm",
)


@pytest.mark.parametrize(
    ("value", "passed"),
    [
        ("50.00", True),
        ("49.90", True),  # exactly at the lower limit
        ("50.10", True),  # exactly at the upper limit
        ("49.9", True),
        (50.1, True),  # a JSON float is read through its decimal text, not its binary value
        ("49.8999", False),
        ("50.1001", False),
        ("-50", False),
    ],
)
def test_tolerance_limits_are_inclusive_and_exact(value, passed):
    assert judge(BORE, value).passed is passed


def test_exactly_at_the_limit_through_the_api(line):
    inspector = line
    low = post_inspection(inspector, "EB-0001", bore("49.90"))
    high = post_inspection(inspector, "EB-0002", bore(50.10))
    assert low.status_code == 201 and low.json()["result"] == "pass"
    assert high.status_code == 201 and high.json()["result"] == "pass"
    under = post_inspection(inspector, "EB-0001", bore("49.8999"))
    assert under.json()["result"] == "fail"
    assert under.json()["reason"] == "Bore diameter 49.8999 mm outside 49.9–50.1 mm"
    measured = {m["characteristic"]: m for m in under.json()["measurements"]}
    assert (
        measured["Bore diameter"]["value"] == "49.8999" and not measured["Bore diameter"]["passed"]
    )
    assert measured["No scratches"]["ok"] is True and measured["No scratches"]["passed"]
    record = InspectionRecord.objects.get(pk=under.json()["id"])
    assert record.inspector.username == "zhaoliu" and record.plan.version == 1
    assert record.work_center.code == "CMM"


def test_attribute_failure_and_defect_code(line):
    answer = post_inspection(
        line, "EB-0001", bore("50.02", scratches_ok="nok"), defect_code="SCRATCH", gauge="CMM-01"
    )
    body = answer.json()
    assert body["result"] == "fail" and body["defect_code"] == "SCRATCH"
    assert body["reason"] == "No scratches: not ok" and body["gauge"] == "CMM-01"


@pytest.mark.parametrize(
    ("values", "field", "text"),
    [
        (
            {"Bore diameter": "50.00", "No scratches": True, "Bore dia": "1"},
            "values",
            "Bore dia: unknown characteristic",
        ),
        ({"No scratches": True}, "values", "Bore diameter: a value is needed."),
        (
            {"Bore diameter": "", "No scratches": True},
            "values",
            "Bore diameter: a value is needed.",
        ),
        (
            {"Bore diameter": "fifty", "No scratches": True},
            "values",
            "Bore diameter: 'fifty' is not a number.",
        ),
        ({"Bore diameter": True, "No scratches": True}, "values", "is not a number"),
        ({"Bore diameter": "NaN", "No scratches": True}, "values", "is not a number"),
        ({"Bore diameter": "50.00001", "No scratches": True}, "values", "at most 4 decimal places"),
        (
            {"Bore diameter": "50", "No scratches": "maybe"},
            "values",
            "No scratches: answer ok or not ok",
        ),
        ("50.00", "values", "{characteristic: value}"),
        ([{"value": 1}], "values", "name the characteristic"),
    ],
)
def test_bad_values_are_400_naming_the_field(line, values, field, text):
    answer = post_inspection(line, "EB-0001", values)
    assert answer.status_code == 400, answer.content
    assert text in error_messages(answer, field), answer.json()
    assert not InspectionRecord.objects.exists()


def test_bad_targets_are_400_naming_the_field(line):
    cases = [
        ({"trace_code": "EB-9999"}, "trace_code", "No unit EB-9999 of EB-500."),
        ({"trace_code": ""}, "trace_code", "Name the unit or lot"),
        ({"order": "MO-NOPE"}, "order", "No order 'MO-NOPE'."),
        ({"sequence": 20}, "sequence", "Operation 20 of MO-2026-00001 has no inspection plan."),
        ({"defect_code": "NOPE"}, "defect_code", "No defect code 'NOPE'."),
        ({"inspected_at": "yesterday"}, "inspected_at", "Datetime has wrong format"),
    ]
    for extra, field, text in cases:
        body = {
            "external_id": f"bad-{field}",
            "order": EB_ORDER,
            "sequence": 30,
            "trace_code": "EB-0001",
            "values": bore("50"),
            **extra,
        }
        answer = line.post(INSPECTIONS, body, format="json")
        assert answer.status_code == 400, (field, answer.content)
        assert text in error_messages(answer, field), answer.json()
    missing = line.post(INSPECTIONS, {"external_id": "x", "order": EB_ORDER}, format="json")
    assert missing.status_code == 400 and {"sequence", "values"} <= error_fields(missing)
    assert not InspectionRecord.objects.exists()


@pytest.mark.parametrize(
    ("inspected_at", "text"),
    [
        ("2026-13-01T10:00:00+08:00", "is not an ISO 8601 date-time"),  # month 13
        ("2026-02-30T10:00:00+08:00", "is not an ISO 8601 date-time"),
        ("yesterday", "is not an ISO 8601 date-time"),
        ("2099-01-01T10:00:00+08:00", "is in the future"),
    ],
)
def test_an_unreadable_or_future_inspection_time_is_refused_naming_it(line, inspected_at, text):
    """The service (as the inspection page calls it) reads the time as execution reads an
    event's: a well-formed text naming no real date is a refusal, never a server error."""
    operation = OrderOperation.objects.get(order__number=EB_ORDER, sequence=30)
    with pytest.raises(ValidationError) as refused:
        inspection_record(
            external_id="cmm-time",
            operation=operation,
            trace_code="EB-0001",
            values=bore("50"),
            inspected_at=inspected_at,
            by=user("zhaoliu"),
        )
    assert text in " ".join(refused.value.message_dict["inspected_at"])
    assert not InspectionRecord.objects.exists()


def test_the_unit_must_come_from_the_order(line, demo_plant):
    from resources.models import Item, SerialUnit

    SerialUnit.objects.create(item=Item.objects.get(code="EB-500"), serial="EB-STRAY")
    answer = post_inspection(line, "EB-STRAY", bore("50"))
    assert answer.status_code == 400
    assert "no production event in MO-2026-00001" in error_messages(answer, "trace_code")


def test_retried_entry_changes_nothing(line):
    first = post_inspection(line, "EB-0001", bore("50.00"), external_id="cmm-42")
    again = post_inspection(line, "EB-0001", bore("50.00"), external_id="cmm-42")
    assert first.status_code == 201 and again.status_code == 200
    assert again.json()["id"] == first.json()["id"]
    # A retry is answered with the first record even if its body differs.
    other = post_inspection(line, "EB-0002", bore("99"), external_id="cmm-42")
    assert other.status_code == 200 and other.json()["unit"] == "EB-0001"
    assert InspectionRecord.objects.count() == 1


def test_records_are_append_only_and_corrections_chain(line):
    first = InspectionRecord.objects.get(
        pk=post_inspection(line, "EB-0001", bore("50.40")).json()["id"]
    )
    assert first.result == "fail"
    first.reason = "edited"
    with pytest.raises(ValidationError, match="append-only"):
        first.save()

    # A correction to a pass: by a quality supervisor other than the inspector, signed.
    fengjie = client_as("fengjie")
    corrected = fengjie.post(
        f"{INSPECTIONS}{first.pk}/correct/",
        {"external_id": "fix-1", "values": bore("50.04"), **SIGNED},
        format="json",
    )
    assert corrected.status_code == 201, corrected.json()
    assert corrected.json()["corrects"] == first.pk and corrected.json()["result"] == "pass"
    again = fengjie.post(
        f"{INSPECTIONS}{first.pk}/correct/",
        {"external_id": "fix-1", "values": bore("50.04")},
        format="json",
    )
    assert again.status_code == 200 and again.json()["id"] == corrected.json()["id"]
    # Only the latest of a chain can be corrected.
    stale = fengjie.post(
        f"{INSPECTIONS}{first.pk}/correct/",
        {"external_id": "fix-2", "values": bore("50.00"), **SIGNED},
        format="json",
    )
    assert stale.status_code == 409 and "correct the latest one" in stale.json()["detail"]
    assert line.get(f"{INSPECTIONS}{first.pk}/").json()["corrected_by"] == corrected.json()["id"]

    second = InspectionRecord.objects.get(pk=corrected.json()["id"])
    assert second.inspected_at == first.inspected_at  # the same inspection, corrected
    # The inspector of the chain may correct it to a fail.
    third, created = inspection_correct(
        record=second,
        external_id="fix-3",
        values=bore("50.50"),
        defect_code="BORE-OOT",
        by=user("zhaoliu"),
        **SIGNED,
    )
    assert created and third.corrects == second and third.result == "fail"
    operation = first.operation
    status, latest = inspection_status(operation=operation, unit=first.unit)
    assert (status, latest) == ("failed", third)
    assert InspectionRecord.objects.filter(unit=first.unit).count() == 3


def test_new_plan_version_becomes_active(line):
    plan = InspectionPlan.objects.get(code="IP-EB500-30")
    old = post_inspection(line, "EB-0001", bore("50.08")).json()
    assert old["result"] == "pass" and old["plan_version"] == 1

    fengjie = client_as("fengjie")
    tighter = [
        {
            "name": "Bore diameter",
            "kind": "variable",
            "nominal": "50.00",
            "lower_tolerance": "0.05",
            "upper_tolerance": "0.05",
            "unit": "mm",
        },
        {"name": "No scratches", "kind": "attribute"},
    ]
    refused = line.post(
        f"/api/v1/quality/plans/{plan.pk}/new-version/", {"characteristics": tighter}, format="json"
    )
    assert refused.status_code == 403
    made = fengjie.post(
        f"/api/v1/quality/plans/{plan.pk}/new-version/", {"characteristics": tighter}, format="json"
    )
    assert made.status_code == 201, made.json()
    assert made.json()["version"] == 2 and made.json()["active"]
    plan.refresh_from_db()
    assert not plan.active
    assert InspectionPlan.objects.get(code="IP-EB500-30", active=True).version == 2

    new = post_inspection(line, "EB-0002", bore("50.08"), defect_code="BORE-OOT").json()
    assert new["result"] == "fail" and new["plan_version"] == 2
    assert InspectionRecord.objects.get(pk=old["id"]).plan.version == 1  # history stays
    # Versions follow on from the latest, whichever version one starts from.
    v3 = inspection_plan_new_version(plan=plan, by=user("fengjie"))
    assert v3.version == 3 and [c.name for c in v3.characteristics.all()] == [
        "Bore diameter",
        "No scratches",
    ]
    assert v3.characteristics.get(name="Bore diameter").upper_tolerance == Decimal("0.1")


def test_dispositions_and_the_use_as_is_approval(line):
    failed = post_inspection(line, "EB-0001", bore("50.2")).json()
    passed = post_inspection(line, "EB-0002", bore("50.0")).json()
    url = f"{INSPECTIONS}{failed['id']}/disposition/"

    for who in ("zhaoliu", "sunqi"):
        refused = client_as(who).post(url, {"decision": "use_as_is"}, format="json")
        assert refused.status_code == 403, who
        assert "Only a quality supervisor may approve use as is." in refused.json()["detail"]
    # Operators do not decide dispositions at all.
    assert client_as("lisi").post(url, {"decision": "rework"}, format="json").status_code == 403
    bad = client_as("fengjie").post(url, {"decision": "keep"}, format="json")
    assert bad.status_code == 400 and "decision" in error_fields(bad)

    approved = client_as("fengjie").post(
        url,
        {"decision": "use_as_is", "note": "deviation D-17", "password": PASSWORD},
        format="json",
    )
    assert approved.status_code == 201
    assert (
        approved.json()["approved_by"] == "fengjie" and approved.json()["decision"] == "use_as_is"
    )
    twice = line.post(url, {"decision": "scrap"}, format="json")
    assert twice.status_code == 409
    assert "already has a disposition: use as is by fengjie" in twice.json()["detail"]
    same = client_as("fengjie").post(url, {"decision": "use_as_is"}, format="json")
    assert same.status_code == 200 and same.json()["id"] == approved.json()["id"]
    on_a_pass = line.post(
        f"{INSPECTIONS}{passed['id']}/disposition/", {"decision": "rework"}, format="json"
    )
    assert on_a_pass.status_code == 409 and "needs no disposition" in on_a_pass.json()["detail"]
    assert Disposition.objects.count() == 1
    record = line.get(f"{INSPECTIONS}{failed['id']}/").json()
    assert record["disposition"]["decision"] == "use_as_is"


def test_list_costs_a_constant_number_of_queries(line, django_assert_max_num_queries):
    for n in range(6):
        post_inspection(line, "EB-0001" if n % 2 else "EB-0002", bore("50.0"))
    with django_assert_max_num_queries(8):
        answer = line.get(INSPECTIONS)
    assert answer.status_code == 200 and answer.json()["count"] == 6


# --- the inspection page --------------------------------------------------------------------


def _cmm_task():
    from execution.models import Task

    return Task.objects.get(order__number=EB_ORDER, operation__sequence=30)


def _form(html: str) -> tuple[dict, list[str]]:
    """The form's id and the names of its value fields, in order (bore first)."""
    names = list(dict.fromkeys(re.findall(r'name="(value-\d+)"', html)))
    external_id = re.search(r'name="external_id" value="([^"]+)"', html).group(1)
    return {"external_id": external_id}, names


def test_the_entry_page(line, client):
    client.force_login(user("zhaoliu"))
    listing = client.get("/quality/inspect/").content.decode()
    task = _cmm_task()
    assert f"/quality/inspect/task/{task.pk}/" in listing and "IP-EB500-30 v1" in listing

    page = client.get(f"/quality/inspect/task/{task.pk}/").content.decode()
    assert "49.9 – 50.1 mm" in page and 'id="inspect-code"' in page
    base, ids = _form(page)
    bore_field, scratch_field = ids[0], ids[-1]
    answer = client.post(
        f"/quality/inspect/task/{task.pk}/record/",
        {**base, "code": "EB-0001", bore_field: "50.10", scratch_field: "ok"},
        HTTP_HX_REQUEST="true",
    )
    html = answer.content.decode()
    assert answer.status_code == 200 and 'data-result="pass"' in html and "EB-0001" in html
    assert "<html" not in html
    # The same form again (a double tap) records nothing new.
    client.post(
        f"/quality/inspect/task/{task.pk}/record/",
        {**base, "code": "EB-0001", bore_field: "50.10", scratch_field: "ok"},
        HTTP_HX_REQUEST="true",
    )
    assert InspectionRecord.objects.count() == 1

    base, _ids = _form(html)
    bad = client.post(
        f"/quality/inspect/task/{task.pk}/record/",
        {**base, "code": "EB-0002", bore_field: "5o.1", scratch_field: "ok"},
        HTTP_HX_REQUEST="true",
    )
    assert bad.status_code == 400
    assert "Values: Bore diameter: &#x27;5o.1&#x27; is not a number." in bad.content.decode()
    assert 'value="EB-0002"' in bad.content.decode()  # what was typed stays

    failed = client.post(
        f"/quality/inspect/task/{task.pk}/record/",
        {
            **base,
            "code": "EB-0002",
            bore_field: "50.2",
            scratch_field: "ok",
            "defect_code": "BORE-OOT",
        },
        HTTP_HX_REQUEST="true",
    )
    assert 'data-result="fail"' in failed.content.decode()
    record = InspectionRecord.objects.get(unit__serial="EB-0002")
    # The inspector sees rework and scrap, not use as is; the quality supervisor sees all three.
    assert 'value="use_as_is"' not in failed.content.decode()
    assert 'value="rework"' in failed.content.decode()
    refused = client.post(
        f"/quality/inspect/record/{record.pk}/disposition/",
        {"decision": "use_as_is"},
        HTTP_HX_REQUEST="true",
    )
    assert refused.status_code == 403
    assert "Only a quality supervisor may approve use as is." in refused.content.decode()
    done = client.post(
        f"/quality/inspect/record/{record.pk}/disposition/",
        {"decision": "rework", "note": "re-bore"},
        HTTP_HX_REQUEST="true",
    )
    assert done.status_code == 200 and "EB-0002: rework." in done.content.decode()
    assert Disposition.objects.get().decision == "rework"


def test_the_entry_page_is_for_inspectors_and_operators(line, client):
    client.force_login(user("zhouba"))  # a planner
    assert client.get("/quality/inspect/").status_code == 403
