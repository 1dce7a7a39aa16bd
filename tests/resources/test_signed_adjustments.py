"""Stock adjustments (and reversals) are signed by a supply-chain director: their password,
the meaning "adjusted" and a reason. Anyone else is refused; a wrong password answers 400
naming it and leaves the stock as it was; the signature is shown on the move and verifies."""

from decimal import Decimal

import pytest
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied
from rest_framework.test import APIClient

from core.models import Signature
from core.roles import Role, roles_ensure
from core.signatures import signature_verify
from resources.models import StockBalance, StockMove
from resources.services.stock import stock_move_record
from tests.errors import error_fields
from tests.factories import ItemFactory, LocationFactory, UserFactory

pytestmark = pytest.mark.django_db

PASSWORD = "secret-pass-1"  # tests.factories.UserFactory's
MOVES = "/api/v1/stock-moves/"


def person(username: str, role: str):
    roles_ensure()
    user = UserFactory(username=username)
    user.groups.add(Group.objects.get(name=role))
    return user


def api_as(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.fixture
def bearings():
    item = ItemFactory(code="BRG-6205")
    location = LocationFactory(code="WH-RAW")
    stock_move_record(item=item, location=location, quantity=Decimal(30), kind="receipt")
    return item, location


def on_hand(item) -> Decimal:
    return StockBalance.objects.get(item=item).on_hand


def adjustment(**extra) -> dict:
    return {"item": "BRG-6205", "location": "WH-RAW", "quantity": "-2", "kind": "adjustment"} | (
        extra
    )


def test_an_operator_cannot_adjust_stock(bearings):
    item, _location = bearings
    lisi = person("lisi", Role.OPERATOR)
    answer = api_as(lisi).post(
        MOVES, adjustment(quantity="100000", reason="count", password=PASSWORD), format="json"
    )
    assert answer.status_code == 403
    assert on_hand(item) == 30 and StockMove.objects.count() == 1


def test_a_wrong_password_adjusts_nothing(bearings):
    item, _location = bearings
    director = api_as(person("zhengshi", Role.SUPPLY_CHAIN_DIRECTOR))
    for body, field in (
        (adjustment(reason="cycle count"), "password"),
        (adjustment(reason="cycle count", password="guess"), "password"),
        (adjustment(password=PASSWORD), "reason"),
    ):
        refused = director.post(MOVES, body, format="json")
        assert refused.status_code == 400 and error_fields(refused) == {field}, body
        assert on_hand(item) == 30 and StockMove.objects.count() == 1
    assert not Signature.objects.exists()


def test_a_signed_adjustment_is_stored_shown_and_verifies(bearings):
    item, _location = bearings
    director = api_as(person("zhengshi", Role.SUPPLY_CHAIN_DIRECTOR))
    answer = director.post(
        MOVES,
        adjustment(reason="Cycle count: 2 damaged in the rack", password=PASSWORD),
        format="json",
    )
    assert answer.status_code == 201, answer.json()
    assert on_hand(item) == 28
    body = answer.json()
    assert "password" not in body and "reason" not in body
    [signed] = body["signatures"]
    assert (signed["meaning"], signed["signer_username"]) == ("adjusted", "zhengshi")
    assert signed["reason"] == "Cycle count: 2 damaged in the rack"
    assert signed["verified"] is True
    move = StockMove.objects.get(pk=body["id"])
    signature = Signature.objects.get()
    assert signature_verify(signature)
    listed = director.get(MOVES).json()["results"]
    assert [m["signatures"] for m in listed][0] == []  # the receipt is not signed
    assert listed[1]["signatures"][0]["verified"] is True
    # A changed quantity in the ledger no longer matches what was signed.
    StockMove.objects.filter(pk=move.pk).update(quantity=Decimal("-20"))
    assert not signature_verify(signature)


def test_receipts_and_issues_need_no_signature(bearings):
    item, location = bearings
    stock_move_record(item=item, location=location, quantity=Decimal(-1), kind="issue")
    assert on_hand(item) == 29 and not Signature.objects.exists()


def test_the_admin_shows_the_adjustment_s_signature(bearings, client):
    item, location = bearings
    director = person("zhengshi", Role.SUPPLY_CHAIN_DIRECTOR)
    move = stock_move_record(
        item=item,
        location=location,
        quantity=Decimal(-2),
        kind="adjustment",
        by=director,
        password=PASSWORD,
        reason="Cycle count",
    )
    client.force_login(UserFactory(username="root", is_superuser=True, is_staff=True))
    page = client.get(f"/admin/resources/stockmove/{move.pk}/change/").content.decode()
    assert "Adjusted</strong> by zhengshi (zhengshi)" in page and "verified" in page
    listing = client.get("/admin/core/signature/").content.decode()
    assert "Cycle count" in listing and "icon-yes" in listing


def test_wrong_passwords_in_signatures_lock_the_signer_out(bearings, settings):
    """Guessing a password through a signature counts like the login page: after the limit
    even the right password neither signs nor moves stock until the lockout ends."""
    settings.AXES_FAILURE_LIMIT = 3
    item, _location = bearings
    director = api_as(person("zhengshi", Role.SUPPLY_CHAIN_DIRECTOR))
    for _ in range(2):
        wrong = director.post(MOVES, adjustment(reason="count", password="guess"), format="json")
        assert wrong.status_code == 400 and error_fields(wrong) == {"password"}
    third = director.post(MOVES, adjustment(reason="count", password="guess"), format="json")
    locked = director.post(MOVES, adjustment(reason="count", password=PASSWORD), format="json")
    for answer in (third, locked):
        assert answer.status_code == 429 and answer["Retry-After"]
        assert "Too many failed sign-ins" in answer.json()["detail"]
    assert on_hand(item) == 30 and not Signature.objects.exists()


def test_who_adjusts_stock_is_read_from_the_policy(bearings, monkeypatch):
    """The service asks the permission policy (resources.stockmove / adjust), not a list of
    its own: a role the policy lets adjust does, and the supply-chain director no longer."""
    from core.policy import POLICY

    item, location = bearings
    monkeypatch.setitem(POLICY["resources.stockmove"], "adjust", (Role.PLANNER,))
    planner = person("zhouba", Role.PLANNER)
    move = stock_move_record(
        item=item, location=location, quantity=Decimal(-2), kind="adjustment",
        by=planner, password=PASSWORD, reason="Cycle count.",
    )  # fmt: skip
    assert move.pk and on_hand(item) == Decimal(28)
    director = person("zhengshi", Role.SUPPLY_CHAIN_DIRECTOR)
    with pytest.raises(PermissionDenied):
        stock_move_record(
            item=item, location=location, quantity=Decimal(-2), kind="adjustment",
            by=director, password=PASSWORD, reason="Cycle count.",
        )  # fmt: skip
    assert on_hand(item) == Decimal(28)
