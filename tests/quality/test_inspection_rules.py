"""Two rules of inspection entry: a unit is inspected at a step it has reached (its
production events say how far it got), and a failed inspection names its defect code.
Each is refused with the field named and nothing written: in the service, the API and the
inspection page."""

import pytest
from django.core.exceptions import ValidationError

from planning.models import OrderOperation
from quality.models import InspectionRecord
from quality.services.records import inspection_record
from tests.errors import error_messages

from . import EB_ORDER, bore, client_as, eb_released, post_inspection, unit_through, user
from .test_inspections import _cmm_task, _form

pytestmark = pytest.mark.django_db

NOT_REACHED = (
    "EB-0007 has not been through step 20 (Machining) yet; inspect it at step 20 or before, "
    "or at step 30 after step 20 is reported."
)


@pytest.fixture
def line(demo_plant):
    """EB-0007 cast (reported at operation 10 only); EB-0001 made through operation 30."""
    eb_released()
    supervisor = client_as("sunqi")
    unit_through(supervisor, "EB-0007", last=10)
    unit_through(supervisor, "EB-0001")
    return client_as("zhaoliu")


def _cmm():
    return OrderOperation.objects.get(order__number=EB_ORDER, sequence=30)


def test_service_refuses_a_unit_ahead_of_its_steps_naming_the_missing_step(line):
    with pytest.raises(ValidationError) as refused:
        inspection_record(
            external_id="cmm-early",
            operation=_cmm(),
            trace_code="EB-0007",
            values=bore("50.00"),
            by=user("zhaoliu"),
        )
    assert refused.value.message_dict["sequence"] == [NOT_REACHED]
    assert not InspectionRecord.objects.exists()
    # Once machining is reported for it, the same inspection is taken.
    supervisor = client_as("sunqi")
    unit_through(supervisor, "EB-0007", last=30)
    record, created = inspection_record(
        external_id="cmm-early",
        operation=_cmm(),
        trace_code="EB-0007",
        values=bore("50.00"),
        by=user("zhaoliu"),
    )
    assert created and record.result == "pass"


def test_a_step_counted_by_machine_is_taken_on_trust(line):
    """A machine's count names no unit: a unit is not held back for a step whose path the
    plant cannot record one by one."""
    OrderOperation.objects.filter(order__number=EB_ORDER, sequence=20).update(
        counted_by_machine=True
    )
    record, created = inspection_record(
        external_id="cmm-trust",
        operation=_cmm(),
        trace_code="EB-0007",
        values=bore("50.00"),
        by=user("zhaoliu"),
    )
    assert created and record.unit.serial == "EB-0007"


def test_api_refuses_a_unit_ahead_of_its_steps_400_naming_sequence(line):
    answer = post_inspection(line, "EB-0007", bore("50.00"))
    assert answer.status_code == 400, answer.content
    assert NOT_REACHED in error_messages(answer, "sequence")
    assert not InspectionRecord.objects.exists()


def test_service_refuses_a_failure_without_a_defect_code(line):
    with pytest.raises(ValidationError) as refused:
        inspection_record(
            external_id="cmm-fail",
            operation=_cmm(),
            trace_code="EB-0001",
            values=bore("50.20"),
            by=user("zhaoliu"),
        )
    assert refused.value.message_dict["defect_code"] == [
        "Bore diameter 50.2 mm outside 49.9–50.1 mm: a failed inspection needs a defect code."
    ]
    assert not InspectionRecord.objects.exists()
    record, _ = inspection_record(
        external_id="cmm-fail",
        operation=_cmm(),
        trace_code="EB-0001",
        values=bore("50.20"),
        defect_code="BORE-OOT",
        by=user("zhaoliu"),
    )
    assert record.result == "fail" and record.defect_code.code == "BORE-OOT"


def test_api_refuses_a_failure_without_a_defect_code_400_naming_it(line):
    answer = post_inspection(line, "EB-0001", bore("50.20"), defect_code="")
    assert answer.status_code == 400, answer.content
    assert "a failed inspection needs a defect code" in error_messages(answer, "defect_code")
    assert not InspectionRecord.objects.exists()
    # A pass needs none.
    assert post_inspection(line, "EB-0001", bore("50.00"), defect_code="").status_code == 201


def test_the_page_refuses_both_and_shows_the_defect_code_as_required_on_failure(line, client):
    client.force_login(user("zhaoliu"))
    task = _cmm_task()
    page = client.get(f"/quality/inspect/task/{task.pk}/").content.decode()
    assert "required when the inspection fails" in page
    base, ids = _form(page)
    bore_field, scratch_field = ids[0], ids[-1]
    url = f"/quality/inspect/task/{task.pk}/record/"
    early = client.post(
        url,
        {**base, "code": "EB-0007", bore_field: "50.00", scratch_field: "ok"},
        HTTP_HX_REQUEST="true",
    )
    assert early.status_code == 400
    assert "has not been through step 20 (Machining) yet" in early.content.decode()
    failed = client.post(
        url,
        {**base, "code": "EB-0001", bore_field: "50.20", scratch_field: "ok"},
        HTTP_HX_REQUEST="true",
    )
    html = failed.content.decode()
    assert failed.status_code == 400
    assert "Defect code: Bore diameter 50.2 mm outside" in html
    assert 'value="EB-0001"' in html  # what was typed stays
    assert not InspectionRecord.objects.exists()
    named = client.post(
        url,
        {
            **base,
            "code": "EB-0001",
            bore_field: "50.20",
            scratch_field: "ok",
            "defect_code": "BORE-OOT",
        },
        HTTP_HX_REQUEST="true",
    )
    assert named.status_code == 200 and 'data-result="fail"' in named.content.decode()
