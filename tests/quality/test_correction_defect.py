"""An inspection correction and the defect code: a correction to a pass needs none (and
carries none: a pass has no defect), a correction to a fail names its defect like any
failure — refused with the field named and nothing written otherwise. Service, API, page."""

import pytest
from django.core.exceptions import ValidationError

from core.models import Signature
from quality.models import InspectionRecord
from quality.services.records import inspection_correct
from tests.errors import error_messages

from . import INSPECTIONS, PASSWORD, SIGNED, bore, client_as, user
from .test_signed_decisions import _page_values, failed  # noqa: F401 (fixture)

pytestmark = pytest.mark.django_db

NEEDS = "Bore diameter 50.3 mm outside 49.9–50.1 mm: a failed inspection needs a defect code."


def _nothing_written(record):
    assert not InspectionRecord.objects.filter(corrects=record).exists()
    assert not Signature.objects.exists()


def test_a_correction_to_a_pass_needs_no_defect_code_and_keeps_none(failed):  # noqa: F811
    assert failed.defect_code.code == "BORE-OOT"
    fixed, created = inspection_correct(
        record=failed, external_id="fix-pass", values=bore("50.02"), by=user("fengjie"), **SIGNED
    )
    assert created and fixed.result == "pass" and fixed.defect_code is None


def test_a_correction_to_a_pass_drops_the_code_the_form_still_offers(failed):  # noqa: F811
    fixed, _ = inspection_correct(
        record=failed,
        external_id="fix-pass",
        values=bore("50.01"),
        defect_code="BORE-OOT",
        by=user("fengjie"),
        **SIGNED,
    )
    assert fixed.result == "pass" and fixed.defect_code is None


def test_a_correction_to_a_fail_still_needs_a_defect_code(failed):  # noqa: F811
    with pytest.raises(ValidationError) as refused:
        inspection_correct(
            record=failed,
            external_id="fix-fail",
            values=bore("50.30"),
            by=user("zhaoliu"),
            **SIGNED,
        )
    assert refused.value.message_dict["defect_code"] == [NEEDS]
    _nothing_written(failed)
    fixed, created = inspection_correct(
        record=failed,
        external_id="fix-fail",
        values=bore("50.30"),
        defect_code="BORE-OOT",
        by=user("zhaoliu"),
        **SIGNED,
    )
    assert created and fixed.result == "fail" and fixed.defect_code.code == "BORE-OOT"


def test_the_api_answers_400_naming_the_defect_code_for_a_failed_correction(failed):  # noqa: F811
    url = f"{INSPECTIONS}{failed.pk}/correct/"
    body = {"external_id": "fix-api", "values": bore("50.30"), "reason": "re-measured"}
    answer = client_as("zhaoliu").post(url, {**body, "password": PASSWORD}, format="json")
    assert answer.status_code == 400, answer.content
    assert NEEDS in error_messages(answer, "defect_code")
    _nothing_written(failed)
    passed = client_as("fengjie").post(
        url, {**body, "values": bore("50.02"), "password": PASSWORD}, format="json"
    )
    assert passed.status_code == 201 and passed.json()["defect_code"] is None, passed.json()


def test_the_page_offers_the_code_and_a_pass_needs_none(failed, client):  # noqa: F811
    client.force_login(user("fengjie"))
    page = client.get(f"/quality/inspect/record/{failed.pk}/").content.decode()
    assert '<option value="BORE-OOT" selected>' in page
    form = _page_values(client, failed)  # bore 50.02: a pass
    done = client.post(
        f"/quality/inspect/record/{failed.pk}/",
        {**form, "defect_code": "", "reason": "re-measured", "password": PASSWORD},
    )
    assert done.status_code == 200, done.content.decode()
    assert InspectionRecord.objects.get(corrects=failed).result == "pass"
