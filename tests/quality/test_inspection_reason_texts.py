"""A failed inspection's reason when the inspector gives none is written by the system: it is
kept as a stored text (core/texts.py) and read in the reader's language; a reason the
inspector typed is shown as typed."""

import pytest
from django.test import Client
from django.utils import translation

from quality.models import InspectionRecord

from . import bore, client_as, eb_released, post_inspection, unit_through, user

pytestmark = pytest.mark.django_db
ZH = {"HTTP_ACCEPT_LANGUAGE": "zh-hans"}
EN = {"HTTP_ACCEPT_LANGUAGE": "en"}


@pytest.fixture
def line(demo_plant):
    eb_released()
    supervisor = client_as("sunqi")
    unit_through(supervisor, "EB-0001")
    unit_through(supervisor, "EB-0002")
    return client_as("zhaoliu")


def test_a_generated_fail_reason_reads_in_chinese(line):
    answer = post_inspection(
        line, "EB-0001", bore("50.3", scratches_ok="nok"), defect_code="SCRATCH"
    )
    assert answer.status_code == 201, answer.json()
    record = InspectionRecord.objects.get(pk=answer.json()["id"])
    english = "Bore diameter 50.3 mm outside 49.9–50.1 mm; No scratches: not ok"
    assert record.reason == english and record.reason_id == "%(first)s; %(rest)s"
    chinese = "Bore diameter 50.3 mm 超出 49.9–50.1 mm；No scratches：不合格"
    with translation.override("zh-hans"):
        assert record.reason_shown == chinese
    url = f"/api/v1/quality/inspections/{record.pk}/"
    assert line.get(url, **ZH).json()["reason"] == chinese
    assert line.get(url, **EN).json()["reason"] == english
    page = Client()
    page.force_login(user("zhaoliu"))
    html = page.get(f"/quality/inspect/record/{record.pk}/", **ZH).content.decode()
    assert chinese in html and english not in html


def test_a_typed_reason_stays_as_typed(line):
    answer = post_inspection(
        line, "EB-0002", bore("50.3"), defect_code="SCRATCH", reason="Bore too wide"
    )
    record = InspectionRecord.objects.get(pk=answer.json()["id"])
    assert (record.reason, record.reason_id) == ("Bore too wide", "")
    with translation.override("zh-hans"):
        assert record.reason_shown == "Bore too wide"


def test_a_record_written_before_reasons_had_ids_shows_its_stored_english(line):
    answer = post_inspection(line, "EB-0001", bore("50.3"), defect_code="SCRATCH")
    record = InspectionRecord.objects.get(pk=answer.json()["id"])
    InspectionRecord.objects.filter(pk=record.pk).update(reason_id="", reason_params={})
    record.refresh_from_db()
    with translation.override("zh-hans"):
        assert record.reason_shown == "Bore diameter 50.3 mm outside 49.9–50.1 mm"
