"""Signed quality decisions: an inspection correction and the scrap and use-as-is
dispositions need the decider's password and a reason; a wrong password writes nothing; the
signature is stored with the record, shown on it and verifies. Corrections separate duties:
an operator cannot overturn an inspector's FAIL, nor the inspector her own; a quality
supervisor can, signing it, and the FAIL stays on record, linked from the correction."""

import re

import pytest

from core.models import Signature
from core.signatures import signature_verify
from quality.models import Disposition, InspectionRecord, Measurement
from tests.errors import error_fields

from . import (
    EB_ORDER,
    INSPECTIONS,
    PASSWORD,
    bore,
    client_as,
    eb_released,
    post_inspection,
    unit_through,
    user,
)

pytestmark = pytest.mark.django_db

REASON = "CMM probe misread the bore; re-measured 50.02 mm on the same gauge"


@pytest.fixture
def failed(scenario) -> InspectionRecord:
    """Inspector zhaoliu's FAIL of EB-0001 at the CMM: bore 999 mm."""

    def build():
        eb_released()
        unit_through(client_as("sunqi"), "EB-0001")
        answer = post_inspection(client_as("zhaoliu"), "EB-0001", bore("999"))
        assert answer.status_code == 201 and answer.json()["result"] == "fail", answer.json()

    scenario("quality.signed.failed", build)
    return InspectionRecord.objects.latest("pk")


def _page_values(client, record: InspectionRecord) -> dict:
    """The correction form's fields as the page renders them, with the bore set to 50.02."""
    html = client.get(f"/quality/inspect/record/{record.pk}/").content.decode()
    names = list(dict.fromkeys(re.findall(r'name="(value-\d+)"', html)))
    external_id = re.search(r'name="external_id" value="([^"]+)"', html).group(1)
    bore_field, scratch_field = names[0], names[-1]
    return {"external_id": external_id, bore_field: "50.02", scratch_field: "ok"}


def _nothing_written(record: InspectionRecord) -> None:
    assert InspectionRecord.objects.count() == 1
    assert not InspectionRecord.objects.filter(corrects=record).exists()
    assert not Signature.objects.exists()


def test_finding_3_an_operator_or_the_inspector_cannot_overturn_a_fail(failed, client):
    """The exact reproduction: operator zhangsan turns zhaoliu's FAIL (bore 999 mm) into a
    PASS through the API and the page; then zhaoliu herself tries."""
    url = f"{INSPECTIONS}{failed.pk}/correct/"
    body = {"external_id": "fix-1", "values": bore("50.02"), "reason": REASON}

    for who in ("zhangsan", "zhaoliu"):
        answer = client_as(who).post(url, {**body, "password": PASSWORD}, format="json")
        assert answer.status_code == 403, (who, answer.json())
        _nothing_written(failed)
    assert (
        "Only the inspector who recorded this inspection or a quality supervisor"
        in (
            client_as("zhangsan")
            .post(url, {**body, "password": PASSWORD}, format="json")
            .json()["detail"]
        )
    )
    assert (
        "You recorded this inspection"
        in (
            client_as("zhaoliu")
            .post(url, {**body, "password": PASSWORD}, format="json")
            .json()["detail"]
        )
    )

    # Through the page: the operator may not even open it; posting is refused.
    client.force_login(user("zhangsan"))
    assert client.get(f"/quality/inspect/record/{failed.pk}/").status_code == 403
    client.force_login(user("zhaoliu"))
    form = _page_values(client, failed)  # she sees the form (she may correct to a fail)
    for who in ("zhangsan", "zhaoliu"):
        client.force_login(user(who))
        refused = client.post(
            f"/quality/inspect/record/{failed.pk}/",
            {**form, "reason": REASON, "password": PASSWORD},
        )
        assert refused.status_code == 403, who
        _nothing_written(failed)
    assert "You recorded this inspection" in refused.content.decode()


def test_the_inspector_may_correct_her_own_fail_to_another_fail(failed):
    answer = client_as("zhaoliu").post(
        f"{INSPECTIONS}{failed.pk}/correct/",
        {
            "external_id": "fix-1",
            "values": bore("50.30"),
            "defect_code": "BORE-OOT",
            "reason": "typo",
            "password": PASSWORD,
        },
        format="json",
    )
    assert answer.status_code == 201 and answer.json()["result"] == "fail", answer.json()
    # Still no pass from her: not on the correction either.
    again = client_as("zhaoliu").post(
        f"{INSPECTIONS}{answer.json()['id']}/correct/",
        {"external_id": "fix-2", "values": bore("50.02"), "reason": "x", "password": PASSWORD},
        format="json",
    )
    assert again.status_code == 403


def test_a_quality_supervisor_corrects_the_fail_signed_through_the_api(failed):
    url = f"{INSPECTIONS}{failed.pk}/correct/"
    fengjie = client_as("fengjie")
    body = {"external_id": "fix-1", "values": bore("50.02")}
    for extra, field in (
        ({"reason": REASON}, "password"),
        ({"reason": REASON, "password": "wrong"}, "password"),
        ({"password": PASSWORD}, "reason"),
        ({"reason": "  ", "password": PASSWORD}, "reason"),
    ):
        refused = fengjie.post(url, {**body, **extra}, format="json")
        assert refused.status_code == 400 and error_fields(refused) == {field}, extra
        _nothing_written(failed)

    answer = fengjie.post(url, {**body, "reason": REASON, "password": PASSWORD}, format="json")
    assert answer.status_code == 201, answer.json()
    correction = answer.json()
    assert correction["result"] == "pass" and correction["corrects"] == failed.pk
    assert correction["inspector"] == "fengjie"
    [signed] = correction["signatures"]
    assert (signed["signer_username"], signed["meaning"]) == ("fengjie", "corrected")
    assert signed["reason"] == REASON and signed["verified"] is True

    # The FAIL stays, linked to its correction; the signature verifies against the record.
    original = client_as("zhaoliu").get(f"{INSPECTIONS}{failed.pk}/").json()
    assert original["result"] == "fail" and original["corrected_by"] == correction["id"]
    assert [m["value"] for m in original["measurements"] if m["kind"] == "variable"] == ["999.0000"]
    signature = Signature.objects.get()
    assert signature.signer == user("fengjie") and signature_verify(signature)
    listed = {r["id"]: r for r in fengjie.get(INSPECTIONS).json()["results"]}
    assert listed[correction["id"]]["signatures"][0]["verified"] is True

    # Changing the signed values afterwards breaks the signature.
    Measurement.objects.filter(record_id=correction["id"], value__isnull=False).update(
        value="50.05"
    )
    assert not signature_verify(signature)
    assert (
        fengjie.get(f"{INSPECTIONS}{correction['id']}/").json()["signatures"][0]["verified"]
        is False
    )


def test_a_quality_supervisor_corrects_the_fail_on_the_page(failed, client):
    client.force_login(user("fengjie"))
    page = client.get(f"/quality/inspect/record/{failed.pk}/").content.decode()
    assert 'id="correct-form"' in page and 'autocomplete="current-password"' in page
    form = _page_values(client, failed)
    wrong = client.post(
        f"/quality/inspect/record/{failed.pk}/", {**form, "reason": REASON, "password": "guess"}
    )
    assert wrong.status_code == 400 and "The password is not correct." in wrong.content.decode()
    _nothing_written(failed)

    done = client.post(
        f"/quality/inspect/record/{failed.pk}/", {**form, "reason": REASON, "password": PASSWORD}
    )
    html = done.content.decode()
    assert done.status_code == 200, html
    correction = InspectionRecord.objects.get(corrects=failed)
    assert correction.result == "pass"
    assert f"Record {failed.pk} corrected by record {correction.pk}, signed." in html
    assert "Corrected</strong> by 冯杰 (fengjie)" in html and REASON in html
    assert "verified" in html and "does not verify" not in html
    assert f'href="/quality/inspect/record/{failed.pk}/"' in html  # what it corrects

    # The original's page still shows the FAIL, and which record corrected it.
    original = client.get(f"/quality/inspect/record/{failed.pk}/").content.decode()
    assert "FAIL" in original and "999" in original
    assert f'href="/quality/inspect/record/{correction.pk}/"' in original
    assert 'id="correct-form"' not in original  # only the latest is corrected


def test_scrap_and_use_as_is_are_signed_through_the_api(failed):
    url = f"{INSPECTIONS}{failed.pk}/disposition/"
    zhaoliu = client_as("zhaoliu")
    for extra, field in (
        ({"note": "bore destroyed"}, "password"),
        ({"note": "bore destroyed", "password": "wrong"}, "password"),
        ({"password": PASSWORD}, "reason"),
    ):
        refused = zhaoliu.post(url, {"decision": "scrap", **extra}, format="json")
        assert refused.status_code == 400 and error_fields(refused) == {field}, extra
    assert not Disposition.objects.exists() and not Signature.objects.exists()

    scrapped = zhaoliu.post(
        url,
        {"decision": "scrap", "reason": "Bore far out of tolerance", "password": PASSWORD},
        format="json",
    )
    assert scrapped.status_code == 201, scrapped.json()
    [signed] = scrapped.json()["signatures"]
    assert (signed["meaning"], signed["signer_username"]) == ("dispositioned", "zhaoliu")
    assert signed["verified"] is True
    assert scrapped.json()["note"] == "Bore far out of tolerance"
    # A later correction moves the scrap back: the signed decision still verifies.
    client_as("fengjie").post(
        f"{INSPECTIONS}{failed.pk}/correct/",
        {"external_id": "fix-1", "values": bore("50.02"), "reason": REASON, "password": PASSWORD},
        format="json",
    )
    disposition = Disposition.objects.get()
    assert disposition.moved_back_at is not None
    assert signature_verify(Signature.objects.get(object_id=str(disposition.pk)))


def test_use_as_is_is_signed_with_the_meaning_approved(failed):
    answer = client_as("fengjie").post(
        f"{INSPECTIONS}{failed.pk}/disposition/",
        {"decision": "use_as_is", "note": "Customer deviation D-17", "password": PASSWORD},
        format="json",
    )
    assert answer.status_code == 201, answer.json()
    [signed] = answer.json()["signatures"]
    assert signed["meaning"] == "approved" and signed["reason"] == "Customer deviation D-17"
    record = client_as("zhaoliu").get(f"{INSPECTIONS}{failed.pk}/").json()
    assert record["disposition"]["signatures"][0]["verified"] is True


def test_rework_is_not_signed(failed):
    answer = client_as("zhaoliu").post(
        f"{INSPECTIONS}{failed.pk}/disposition/", {"decision": "rework"}, format="json"
    )
    assert answer.status_code == 201 and answer.json()["signatures"] == []


def test_scrap_on_the_page_asks_for_the_password_and_shows_the_signature(failed, client):
    client.force_login(user("zhaoliu"))
    from execution.models import Task

    task = Task.objects.get(order__number=EB_ORDER, operation__sequence=30)
    page = client.get(f"/quality/inspect/task/{task.pk}/").content.decode()
    assert 'name="password"' in page and 'autocomplete="current-password"' in page
    url = f"/quality/inspect/record/{failed.pk}/disposition/"
    wrong = client.post(
        url,
        {"decision": "scrap", "reason": "Bore destroyed", "password": "guess"},
        HTTP_HX_REQUEST="true",
    )
    assert wrong.status_code == 400 and "The password is not correct." in wrong.content.decode()
    assert not Disposition.objects.exists()
    done = client.post(
        url,
        {"decision": "scrap", "reason": "Bore destroyed", "password": PASSWORD},
        HTTP_HX_REQUEST="true",
    )
    html = done.content.decode()
    assert done.status_code == 200 and "EB-0001: scrap." in html
    assert "Dispositioned</strong> by 赵六 (zhaoliu)" in html and "verified" in html


def test_who_corrects_any_record_is_read_from_the_policy(failed, monkeypatch):
    """may_correct asks the policy (quality.inspectionrecord / correct_any) for who corrects
    any record: not a role list of its own."""
    from core.policy import POLICY
    from quality.services.records import may_correct

    fengjie, sunqi = user("fengjie"), user("sunqi")
    assert may_correct(record=failed, by=fengjie) and not may_correct(record=failed, by=sunqi)
    monkeypatch.setitem(POLICY["quality.inspectionrecord"], "correct_any", ("supervisor",))
    assert may_correct(record=failed, by=sunqi) and not may_correct(record=failed, by=fengjie)
