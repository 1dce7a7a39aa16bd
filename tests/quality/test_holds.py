"""The defect-rate alarm on the moulding line (the demo scenario): housings' visual checks
on INJ — 2 failures in 20 (10 % ≥ 5 %) put the visual check on hold, and the moulding on
INJ-01 that made the housings with it, and raise a severe quality exception linked to the
hold; 0 in 20 do nothing; only a quality supervisor releases the hold, with a reason."""

from decimal import Decimal

import pytest

from core.models import Signature
from core.signatures import signature_verify, signatures_for
from execution.models import ProductionEvent, Task, WorkAlert
from execution.services.events import event_record
from planning.models import ProductionOrder, RoutingStep
from quality.models import DefectRateRule, QualityHold
from quality.selectors.holds import defect_rate, hold_message
from quality.services.holds import hold_place
from resources.models import Equipment, WorkCenter
from tests.errors import error_fields

from . import (
    PASSWORD,
    client_as,
    eb_released,
    event,
    hsg_released,
    post_event,
    post_inspection,
    user,
)

HELD_TOO = "Operation 10 made what operation 20 inspects, so it is held too."

pytestmark = pytest.mark.django_db
HOLDS = "/api/v1/quality/holds/"


@pytest.fixture
def housings(scenario):
    """An order of 1000 housings: 20 lots moulded on INJ-01, the visual check ready."""
    scenario("quality.holds.housings", hsg_released)
    return ProductionOrder.objects.filter(item__code="HSG-100").latest("pk")


def visual_checks(order, failures: set[int], lots=range(1, 21), who="zhaoliu"):
    inspector = client_as(who)
    answers = []
    for n in lots:
        ok = n not in failures
        answer = post_inspection(
            inspector,
            f"H-{n:03d}",
            {"No short shots": ok},
            order=order.number,
            sequence=20,
            **({} if ok else {"defect_code": "SHORT-SHOT"}),
        )
        assert answer.status_code == 201, answer.json()
        answers.append(answer)
    return answers


def visual_check_task(order) -> Task:
    return Task.objects.get(order=order, operation__sequence=20)


def test_two_failures_in_twenty_put_the_operation_on_hold(housings):
    order = housings
    visual_checks(order, failures={3, 11}, lots=range(1, 20))
    assert not QualityHold.objects.exists()  # 19 < the minimum sample of 20
    visual_checks(order, failures=set(), lots=[20])

    hold = QualityHold.objects.get()
    step = RoutingStep.objects.get(routing__item__code="HSG-100", step_no=20)
    assert hold.status == "active" and hold.routing_step == step
    assert hold.work_center.code == "INJ" and hold.equipment.code == "INJ-01"
    assert hold.defect_rate_pct == Decimal("10.00") and hold.sample_size == 20
    assert hold.reason == "defect rate 10 % over 20 units (threshold 5 %)"

    alert = WorkAlert.objects.get(alert_type="quality")
    assert hold.alert == alert
    assert alert.severity == "severe" and alert.raised_via == "rule"
    assert alert.rule_name == "defect-rate alarm"
    assert alert.link == {"hold_id": hold.pk} and alert.external_id == f"hold:{hold.pk}"
    assert alert.equipment.code == "INJ-01"
    assert "defect rate 10 % over 20 units (threshold 5 %)" in alert.description
    api_hold = client_as("fengjie").get(f"{HOLDS}{hold.pk}/").json()
    assert api_hold["alert"] == alert.pk and api_hold["alert_number"] == alert.number

    # More failures while on hold raise nothing more.
    visual_checks(order, failures={1}, lots=[1])
    assert QualityHold.objects.count() == 1 and WorkAlert.objects.count() == 1


def test_no_failures_in_twenty_do_nothing(housings):
    visual_checks(housings, failures=set())
    assert not QualityHold.objects.exists()
    assert not WorkAlert.objects.filter(alert_type="quality").exists()
    assert post_event(client_as("sunqi"), "start", 20, housings.number).status_code == 201


def test_no_new_starts_while_on_hold_through_api_and_terminal(housings):
    order = housings
    visual_checks(order, failures={5, 6})
    hold = QualityHold.objects.get()
    expected = hold_message(hold)
    assert expected.startswith("On quality hold since ")
    assert ": defect rate 10 % over 20 units (threshold 5 %)." in expected

    refused = post_event(client_as("sunqi"), "start", 20, order.number)
    assert refused.status_code == 409
    assert refused.json()["detail"] == expected

    task = visual_check_task(order)
    operator = task.operator.user
    terminal = event_record(
        data=event("start", 20, order.number), by=operator, source=ProductionEvent.Source.TERMINAL
    )
    assert terminal.code == 409 and terminal.errors["detail"] == expected
    assert visual_check_task(order).status == Task.Status.READY
    # Work already running elsewhere is not stopped: moulding still reports.
    assert (
        post_event(
            client_as("sunqi"), "report", 10, order.number, quantity_good=5, trace_code="H-001"
        ).status_code
        == 201
    )


def test_only_a_quality_supervisor_releases_with_a_reason(housings):
    order = housings
    visual_checks(order, failures={2, 19})
    hold = QualityHold.objects.get()
    url = f"{HOLDS}{hold.pk}/release/"
    for who in ("sunqi", "zhaoliu", "wangwu", "qianyi"):
        answer = client_as(who).post(url, {"reason": "looks fine"}, format="json")
        assert answer.status_code == 403, who
        assert answer.json()["detail"] == "Only a quality supervisor may release a quality hold."
    fengjie = client_as("fengjie")
    no_reason = fengjie.post(url, {"reason": "  "}, format="json")
    assert no_reason.status_code == 400 and "reason" in error_fields(no_reason)
    assert QualityHold.objects.get().status == "active"

    reason = "Mould vent cleaned; 5 shots checked"
    # A wrong password or none: 400 naming the password; the hold stays, nothing is signed.
    for password in ("not-it", ""):
        refused = fengjie.post(url, {"reason": reason, "password": password}, format="json")
        assert refused.status_code == 400 and error_fields(refused) == {"password"}
    assert QualityHold.objects.get().status == "active"
    assert not Signature.objects.exists()

    released = fengjie.post(url, {"reason": reason, "password": PASSWORD}, format="json")
    assert released.status_code == 200, released.json()
    body = released.json()
    assert body["status"] == "released" and body["released_by"] == "fengjie"
    assert body["release_reason"] == "Mould vent cleaned; 5 shots checked"
    # The release is signed: who, meaning, reason, and the signature verifies.
    [signed] = body["signatures"]
    assert signed["signer_username"] == "fengjie" and signed["meaning"] == "released"
    assert signed["reason"] == reason and signed["verified"] is True
    assert "password" not in signed
    signature = Signature.objects.get()
    assert signature_verify(signature) and signatures_for(hold).get() == signature
    listed = fengjie.get(HOLDS).json()["results"][0]["signatures"]
    assert [s["signature_hash"] for s in listed] == [signature.signature_hash]
    twice = fengjie.post(url, {"reason": "again", "password": PASSWORD}, format="json")
    assert twice.status_code == 409

    assert post_event(client_as("sunqi"), "start", 20, order.number).status_code == 201
    # The released hold's failures do not count again: one more failure is 1 in 1.
    visual_checks(order, failures={7}, lots=[7])
    assert QualityHold.objects.filter(status="active").count() == 0


def test_the_window_counts_each_unit_once_at_its_first_result(housings):
    order = housings
    step = RoutingStep.objects.get(routing__item__code="HSG-100", step_no=20)
    inj = WorkCenter.objects.get(code="INJ")
    visual_checks(order, failures={4}, lots=range(1, 11))
    visual_checks(order, failures=set(), lots=[4])  # lot 4 re-inspected after rework
    assert defect_rate(routing_step=step, work_center=inj, window=50) == (1, 10)
    # The last 5 units are lots 4 (inspected last), 10, 9, 8 and 7; lot 4 counts once, with
    # its first result.
    assert defect_rate(routing_step=step, work_center=inj, window=5) == (1, 5)
    assert defect_rate(routing_step=step, work_center=inj, window=4) == (1, 4)
    rule = DefectRateRule.objects.get(work_center=inj)
    assert (rule.threshold_pct, rule.min_sample, rule.window) == (Decimal("5"), 20, 50)


def test_hold_message_wording(demo_plant):
    step = RoutingStep.objects.get(routing__item__code="HSG-100", step_no=20)
    hold = hold_place(
        routing_step=step,
        work_center=step.work_center,
        equipment=Equipment.objects.get(code="INJ-01"),
        rate=Decimal("7.50"),
        sample=40,
        threshold=Decimal("5.00"),
    )
    assert hold.reason == "defect rate 7.5 % over 40 units (threshold 5 %)"
    assert "On quality hold since " in hold_message(hold)
    assert hold.alert.link == {"hold_id": hold.pk}


def test_the_holds_page(housings, client):
    visual_checks(housings, failures={1, 2})
    hold = QualityHold.objects.get()
    client.force_login(user("sunqi"))
    page = client.get("/quality/holds/").content.decode()
    assert "defect rate 10 % over 20 units" in page and "Release</button>" not in page
    refused = client.post(
        f"/quality/holds/{hold.pk}/release/",
        {"reason": "ok", "password": PASSWORD},
        HTTP_HX_REQUEST="true",
    )
    assert refused.status_code == 403
    assert "Only a quality supervisor may release" in refused.content.decode()

    client.force_login(user("fengjie"))
    page = client.get("/quality/holds/").content.decode()
    assert "Release</button>" in page and hold.alert.number in page
    empty = client.post(
        f"/quality/holds/{hold.pk}/release/", {"reason": ""}, HTTP_HX_REQUEST="true"
    )
    assert empty.status_code == 400 and "Say why the hold is released." in empty.content.decode()
    assert 'autocomplete="current-password"' in page
    wrong = client.post(
        f"/quality/holds/{hold.pk}/release/",
        {"reason": "Gate re-cut; first 10 shots good", "password": "guess"},
        HTTP_HX_REQUEST="true",
    )
    assert wrong.status_code == 400 and "The password is not correct." in wrong.content.decode()
    hold.refresh_from_db()
    assert hold.status == "active" and not Signature.objects.exists()
    done = client.post(
        f"/quality/holds/{hold.pk}/release/",
        {"reason": "Gate re-cut; first 10 shots good", "password": PASSWORD},
        HTTP_HX_REQUEST="true",
    )
    assert done.status_code == 200 and "released: Gate re-cut" in done.content.decode()
    hold.refresh_from_db()
    assert hold.status == "released" and hold.released_by.username == "fengjie"
    # The signature is shown on the hold, verified.
    signature = Signature.objects.get()
    page = client.get("/quality/holds/").content.decode()
    row = page[page.index(f'id="hold-{hold.pk}"') :]
    row = row[: row.index("</tr>")]
    assert "Released</strong> by 冯杰 (fengjie)" in row
    assert signature.short_hash in row and "verified" in row and "does not verify" not in row
    # The inspection page shows an active hold; none is left.
    assert "On quality hold" not in client.get("/quality/inspect/").content.decode()


def test_the_hold_stops_the_moulding_that_made_the_housings(housings):
    """Moulding (10) runs on INJ-01 at the same work center before the visual check (20):
    while the hold is active no moulding of housings starts or resumes on INJ-01, the
    running one may still report what it made, and the exception says to stop it."""
    order = housings
    moulding = Task.objects.get(order=order, operation__sequence=10)
    assert moulding.status == Task.Status.RUNNING and moulding.equipment.code == "INJ-01"
    visual_checks(order, failures={5, 6})
    hold = QualityHold.objects.select_related("alert").get()
    text = hold.alert.description
    assert "So are the operations before it at INJ (10 Injection moulding) on INJ-01." in text
    assert f"Running now, to be stopped: {order.number} operation 10 on INJ-01" in text
    assert moulding.operator.name in text

    supervisor = client_as("sunqi")
    report = post_event(supervisor, "report", 10, order.number, quantity_good=5, trace_code="H-021")
    assert report.status_code == 201, report.json()
    assert post_event(supervisor, "pause", 10, order.number, reason="Hold").status_code == 201
    resumed = post_event(supervisor, "resume", 10, order.number)
    assert resumed.status_code == 409
    assert resumed.json()["detail"] == f"{hold_message(hold)} {HELD_TOO}"
    assert Task.objects.get(pk=moulding.pk).status == Task.Status.PAUSED

    # Another order of housings may not start moulding on INJ-01 either …
    second = hsg_released(quantity=100, lots=0, start=False)
    refused = post_event(supervisor, "start", 10, second.number, equipment="INJ-01")
    assert refused.status_code == 409 and HELD_TOO in refused.json()["detail"]
    # … but may on another machine of the work center the hold does not name.
    inj = WorkCenter.objects.get(code="INJ")
    other = Equipment.objects.create(work_center=inj, code="INJ-02", name="Second press")
    Task.objects.filter(order=second, operation__sequence=10).update(equipment=other)
    started = post_event(supervisor, "start", 10, second.number, equipment="INJ-02")
    assert started.status_code == 201, started.json()

    # Released: moulding resumes on INJ-01.
    client_as("fengjie").post(
        f"{HOLDS}{hold.pk}/release/",
        {"reason": "Vent cleaned", "password": PASSWORD},
        format="json",
    )
    assert post_event(supervisor, "resume", 10, order.number).status_code == 201


def test_a_hold_stops_nothing_of_other_routings_or_work_centers(housings):
    """Engine blocks (another routing, other work centers) run on while housings are held."""
    engine_blocks = eb_released()
    visual_checks(housings, failures={5, 6})
    assert QualityHold.objects.filter(status="active").exists()
    started = post_event(client_as("sunqi"), "start", 10, engine_blocks.number, equipment="CAST-01")
    assert started.status_code == 201, started.json()


def test_the_terminal_shows_the_operator_which_tasks_a_hold_stops(housings, client):
    """Before anyone taps Start: the moulding operator's card says the hold stops it (and to
    stop the running work); engine-block tasks carry no such notice."""
    order = housings
    moulding = Task.objects.select_related("operator__user").get(
        order=order, operation__sequence=10
    )
    client.force_login(moulding.operator.user)
    assert "terminal-notice" not in client.get("/execution/terminal/").content.decode()

    visual_checks(order, failures={5, 6})
    hold = QualityHold.objects.get()
    page = client.get("/execution/terminal/").content.decode()
    card = page[page.index(f'id="terminal-task-{moulding.pk}"') :]
    card = card[: card.index("</section>")]
    assert hold_message(hold) in card and HELD_TOO in card
    assert "Stop the work" in card
    # Released: the notice goes.
    client_as("fengjie").post(
        f"{HOLDS}{hold.pk}/release/",
        {"reason": "Vent cleaned", "password": PASSWORD},
        format="json",
    )
    assert "terminal-notice" not in client.get("/execution/terminal/").content.decode()


def test_the_supervisor_page_flags_the_held_tasks(housings, client):
    order = housings
    visual_checks(order, failures={5, 6})
    hold = QualityHold.objects.get()
    client.force_login(user("sunqi"))
    page = client.get("/execution/supervisor/").content.decode()
    moulding = Task.objects.get(order=order, operation__sequence=10)
    row = page[page.index(f'id="supervisor-task-{moulding.pk}"') :]
    row = row[: row.index("</tr>")]
    assert 'class="supervisor-notice"' in row and hold_message(hold) in row
