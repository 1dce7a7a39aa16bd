"""Releasing a quality hold resolves its linked quality exception through execution's own
alert lifecycle (cause and action from the release), by the quality supervisor who releases
it, in the same transaction; an exception someone already closed is left as it is. While
the hold is active its exception cannot be closed on its own."""

import pytest

from core.exceptions import StateConflict
from core.models import AuditEntry
from execution.models import AlertStep, WorkAlert
from execution.services.alerts import alert_acknowledge, alert_resolve, alert_verify
from quality.models import QualityHold
from quality.services import holds as hold_services
from quality.services.holds import hold_release

from . import PASSWORD, client_as, hsg_released, user
from .test_holds import visual_checks

pytestmark = pytest.mark.django_db
HOLDS = "/api/v1/quality/holds/"
CAUSE = "Defect rate back under control (quality hold {pk} released)"


@pytest.fixture
def on_hold(scenario) -> QualityHold:
    """The housings' visual check on hold: 2 failures in 20 lots, its exception open."""
    scenario("quality.on_hold", lambda: visual_checks(hsg_released(), failures={2, 19}))
    hold = QualityHold.objects.select_related("alert").get()
    assert hold.status == "active" and hold.alert.status == WorkAlert.Status.OPEN
    return hold


def test_releasing_the_hold_resolves_its_exception(on_hold):
    hold = on_hold
    url = f"{HOLDS}{hold.pk}/release/"
    # A refused release leaves the exception open.
    assert client_as("sunqi").post(url, {"reason": "ok"}, format="json").status_code == 403
    assert WorkAlert.objects.get(pk=hold.alert_id).status == WorkAlert.Status.OPEN

    reason = "Mould vent cleaned; 5 shots checked"
    answer = client_as("fengjie").post(url, {"reason": reason, "password": PASSWORD}, format="json")
    assert answer.status_code == 200, answer.json()

    alert = WorkAlert.objects.get(pk=hold.alert_id)
    assert alert.status == WorkAlert.Status.RESOLVED
    assert alert.cause == CAUSE.format(pk=hold.pk)
    assert alert.action_taken == reason
    assert alert.resolved_by.username == "fengjie" and alert.resolved_at is not None
    step = alert.steps.get(kind=AlertStep.Kind.RESOLVED)
    assert step.by.username == "fengjie" and reason in step.text
    assert AuditEntry.objects.filter(action="alert.resolve", object_id=str(alert.pk)).exists()
    audit = AuditEntry.objects.get(action="quality_hold.release", object_id=str(hold.pk))
    assert audit.data == {"reason": reason, "alert": "resolved"}
    # Verifying the fix stays the exception's own next step.
    alert_verify(alert=alert, by=user("fengjie"))
    assert WorkAlert.objects.get(pk=alert.pk).status == WorkAlert.Status.VERIFIED


def test_an_acknowledged_exception_is_resolved_too(on_hold):
    hold = on_hold
    alert_acknowledge(alert=hold.alert, by=user("qianyi"))  # the plant manager handles it
    hold_release(
        hold=hold, reason="Gate re-cut; first 10 shots good", by=user("fengjie"), password=PASSWORD
    )
    alert = WorkAlert.objects.get(pk=hold.alert_id)
    assert alert.status == WorkAlert.Status.RESOLVED
    assert alert.action_taken == "Gate re-cut; first 10 shots good"


@pytest.mark.parametrize("username", ["sunqi", "fengjie", "qianyi"])
def test_the_exception_of_an_active_hold_is_not_closed_alone(on_hold, username):
    """Resolving it would leave the operation held with nobody told: refused (409, naming
    the hold and how to release it), nothing written."""
    hold = on_hold
    steps = hold.alert.steps.count()
    answer = client_as(username).post(
        f"/api/v1/execution/exceptions/{hold.alert_id}/resolve/",
        {"cause": "Worn mould insert", "action": "Insert replaced"},
        format="json",
    )
    assert answer.status_code == 409, answer.json()
    text = str(answer.json())
    assert f"quality hold {hold.pk}" in text and "still active" in text
    assert "releases the hold" in text
    alert = WorkAlert.objects.get(pk=hold.alert_id)
    assert alert.status == WorkAlert.Status.OPEN and alert.resolved_at is None
    assert alert.steps.count() == steps
    assert not AuditEntry.objects.filter(action="alert.resolve").exists()
    assert QualityHold.objects.get(pk=hold.pk).status == "active"


def test_the_quality_supervisor_acknowledges_a_quality_exception(on_hold):
    hold = on_hold
    answer = client_as("fengjie").post(f"/api/v1/execution/exceptions/{hold.alert_id}/acknowledge/")
    assert answer.status_code == 200, answer.json()
    alert = WorkAlert.objects.get(pk=hold.alert_id)
    assert alert.status == WorkAlert.Status.ACKNOWLEDGED
    assert alert.acknowledged_by.username == "fengjie"
    # An operator may not.
    again = client_as("zhangsan").post(f"/api/v1/execution/exceptions/{hold.alert_id}/acknowledge/")
    assert again.status_code == 403


@pytest.mark.parametrize("verified", [False, True])
def test_release_leaves_an_exception_someone_already_closed(on_hold, verified):
    """An exception closed while its hold is active (before holds guarded it, or by the
    admin) stays as it was when the hold is released."""
    hold = on_hold
    QualityHold.objects.filter(pk=hold.pk).update(alert=None)  # not linked while closing
    alert_resolve(
        alert=hold.alert,
        by=user("sunqi"),
        cause="Worn mould insert",
        action="Insert replaced",
    )
    QualityHold.objects.filter(pk=hold.pk).update(alert=hold.alert)
    if verified:
        alert_verify(alert=hold.alert, by=user("qianyi"))
    before = WorkAlert.objects.get(pk=hold.alert_id)

    answer = client_as("fengjie").post(
        f"{HOLDS}{hold.pk}/release/",
        {"reason": "Insert replaced, checked", "password": PASSWORD},
        format="json",
    )
    assert answer.status_code == 200, answer.json()
    assert QualityHold.objects.get(pk=hold.pk).status == "released"

    after = WorkAlert.objects.get(pk=hold.alert_id)
    assert after.status == before.status == ("verified" if verified else "resolved")
    assert (after.cause, after.action_taken) == ("Worn mould insert", "Insert replaced")
    assert after.resolved_by.username == "sunqi" and after.resolved_at == before.resolved_at
    assert after.steps.filter(kind=AlertStep.Kind.RESOLVED).count() == 1
    audit = AuditEntry.objects.get(action="quality_hold.release", object_id=str(hold.pk))
    assert audit.data["alert"] == f"already {after.status}"


def test_a_second_release_does_not_touch_the_exception_again(on_hold):
    hold = on_hold
    hold_release(hold=hold, reason="Vent cleaned", by=user("fengjie"), password=PASSWORD)
    with pytest.raises(StateConflict):
        hold_release(hold=hold, reason="again", by=user("fengjie"), password=PASSWORD)
    alert = WorkAlert.objects.get(pk=hold.alert_id)
    assert alert.action_taken == "Vent cleaned"
    assert alert.steps.filter(kind=AlertStep.Kind.RESOLVED).count() == 1


def test_release_and_resolve_are_one_transaction(on_hold, monkeypatch):
    """If resolving the exception fails, the hold is not released either."""
    hold = on_hold

    def broken(**kwargs):
        raise RuntimeError("alert service down")

    monkeypatch.setattr(hold_services, "alert_resolve", broken)
    with pytest.raises(RuntimeError):
        hold_release(hold=hold, reason="Vent cleaned", by=user("fengjie"), password=PASSWORD)
    assert QualityHold.objects.get(pk=hold.pk).status == "active"
    assert WorkAlert.objects.get(pk=hold.alert_id).status == WorkAlert.Status.OPEN
    assert not AuditEntry.objects.filter(action="quality_hold.release").exists()


def test_a_hold_whose_exception_was_deleted_still_releases(on_hold):
    hold = on_hold
    QualityHold.objects.filter(pk=hold.pk).update(alert=None)
    hold.refresh_from_db()
    released = hold_release(hold=hold, reason="Vent cleaned", by=user("fengjie"), password=PASSWORD)
    assert released.status == "released"
    assert WorkAlert.objects.get().status == WorkAlert.Status.OPEN
