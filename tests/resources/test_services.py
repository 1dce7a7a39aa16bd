from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from core.models import AuditEntry
from resources.models import MaterialLot, StockBalance, StockMove
from resources.selectors.stock import stock_on_hand
from resources.services.stock import stock_move_record
from tests.factories import ItemFactory, LocationFactory

pytestmark = pytest.mark.django_db


def test_moves_update_balance_in_step():
    item, loc = ItemFactory(), LocationFactory()
    stock_move_record(item=item, location=loc, quantity=Decimal("30"), kind="receipt")
    stock_move_record(item=item, location=loc, quantity=Decimal("-12.5"), kind="issue")
    assert stock_on_hand(item=item) == Decimal("17.5")
    assert StockMove.objects.count() == 2
    assert AuditEntry.objects.filter(action="stock.move").count() == 2


def test_retry_with_same_external_id_changes_nothing():
    item, loc = ItemFactory(), LocationFactory()
    first = stock_move_record(
        item=item, location=loc, quantity=5, kind="receipt", external_id="r-1"
    )
    again = stock_move_record(
        item=item, location=loc, quantity=5, kind="receipt", external_id="r-1"
    )
    assert first.pk == again.pk
    assert stock_on_hand(item=item) == 5


def test_cannot_take_more_than_on_hand_and_nothing_is_written():
    item, loc = ItemFactory(code="BRG"), LocationFactory(code="RAW")
    stock_move_record(item=item, location=loc, quantity=30, kind="receipt")
    with pytest.raises(ValidationError) as err:
        stock_move_record(item=item, location=loc, quantity=-50, kind="issue")
    assert "Only 30" in str(err.value) and "BRG" in str(err.value)
    assert StockMove.objects.count() == 1
    assert StockBalance.objects.get().on_hand == 30


def test_tracked_item_needs_its_own_lot():
    item, other, loc = ItemFactory(tracking="lot"), ItemFactory(), LocationFactory()
    with pytest.raises(ValidationError, match="lot"):
        stock_move_record(item=item, location=loc, quantity=1, kind="receipt")
    wrong = MaterialLot.objects.create(item=other, code="L1")
    with pytest.raises(ValidationError, match="belongs to"):
        stock_move_record(item=item, location=loc, quantity=1, kind="receipt", lot=wrong)
    lot = MaterialLot.objects.create(item=item, code="L1")
    stock_move_record(item=item, location=loc, quantity=1, kind="receipt", lot=lot)
    assert StockBalance.objects.get(item=item).lot == lot
