"""Receipts by scan must match an open purchase order line: the invented lot of 5,000 bearings
is refused and writes nothing; a receipt within the open quantity books the stock and the
line's received quantity once."""

from decimal import Decimal

import pytest

from resources.models import MaterialLot, PurchaseOrder, PurchaseOrderLine, StockBalance, StockMove

pytestmark = pytest.mark.django_db

RECEIPTS = "/api/v1/execution/receipts/"


def _state():
    return (
        StockMove.objects.count(),
        MaterialLot.objects.count(),
        list(PurchaseOrderLine.objects.values_list("received_quantity", flat=True)),
    )


def test_5000_bearings_into_an_invented_lot_are_refused_and_nothing_is_written(demo_plant, api_as):
    """The reproduction: an operator "received" 5,000 bearings into an invented lot just by
    scanning. The demo's only open purchase line for bearings is 200 on PO-2026-0001."""
    before = _state()
    response = api_as("lisi").post(
        RECEIPTS,
        {"barcode": "BRG-6205*INVENTED-1*5000", "location": "WH-RAW", "external_id": "scan-1"},
        format="json",
    )
    assert response.status_code == 400
    message = response.json()["errors"][0]["message"]
    assert "5000" in message and "BRG-6205" in message and "INVENTED-1" in message
    assert "more than is open" in message and "200" in message
    assert _state() == before
    assert not MaterialLot.objects.filter(code="INVENTED-1").exists()


def test_an_item_without_an_open_purchase_line_is_refused(demo_plant, api_as):
    before = _state()
    response = api_as("zhengshi").post(
        RECEIPTS,
        {"barcode": "STEEL-42*S-NEW*10", "location": "WH-RAW", "external_id": "scan-2"},
        format="json",
    )
    assert response.status_code == 400
    assert "has no open line for STEEL-42" in response.json()["errors"][0]["message"]
    assert _state() == before


def test_a_receipt_within_the_open_quantity_books_once_and_moves_the_line(demo_plant, api_as):
    client = api_as("zhengshi")
    body = {"barcode": "BRG-6205*B-SUP-77*150", "location": "WH-RAW", "external_id": "scan-3"}
    first = client.post(RECEIPTS, body, format="json")
    again = client.post(RECEIPTS, body, format="json")
    assert first.status_code == 201, first.json()
    assert again.json()["id"] == first.json()["id"]
    line = PurchaseOrderLine.objects.get(order__number="PO-2026-0001", line_no=1)
    assert line.received_quantity == 150 and line.order.status == PurchaseOrder.Status.OPEN
    lot = MaterialLot.objects.get(code="B-SUP-77")
    assert StockBalance.objects.get(lot=lot).on_hand == 150
    # 60 more than the 50 still open: refused; the last 50 close the order.
    over = client.post(RECEIPTS, {**body, "barcode": "BRG-6205*B-SUP-77*60", "external_id": "scan-4"}, format="json")  # fmt: skip
    assert over.status_code == 400 and "at most 50" in over.json()["errors"][0]["message"]
    rest = client.post(RECEIPTS, {**body, "barcode": "BRG-6205*B-SUP-77*50", "external_id": "scan-5"}, format="json")  # fmt: skip
    assert rest.status_code == 201
    line.refresh_from_db()
    assert line.received_quantity == 200
    assert line.order.status == PurchaseOrder.Status.RECEIVED
    closed = client.post(RECEIPTS, {**body, "barcode": "BRG-6205*B-SUP-77*1", "external_id": "scan-6"}, format="json")  # fmt: skip
    assert closed.status_code == 400


def test_a_line_that_names_its_lot_takes_only_that_lot(demo_plant, api_as, settings):
    PurchaseOrderLine.objects.filter(order__number="PO-2026-0001").update(lot_code="B-SUP-1")
    client = api_as("zhengshi")
    wrong = client.post(RECEIPTS, {"barcode": "BRG-6205*B-OTHER*10", "location": "WH-RAW", "external_id": "s-7"}, format="json")  # fmt: skip
    assert wrong.status_code == 400 and "expect lot B-SUP-1" in wrong.json()["errors"][0]["message"]
    assert not MaterialLot.objects.filter(code="B-OTHER").exists()
    right = client.post(RECEIPTS, {"barcode": "BRG-6205*B-SUP-1*10", "location": "WH-RAW", "external_id": "s-8"}, format="json")  # fmt: skip
    assert right.status_code == 201


def test_the_tolerance_and_the_named_purchase_order(demo_plant, api_as, settings):
    settings.EXECUTION_RECEIPT_TOLERANCE_PCT = 5
    client = api_as("zhengshi")
    unknown = client.post(RECEIPTS, {"barcode": "BRG-6205*B-9*10", "location": "WH-RAW", "external_id": "s-9", "purchase_order": "PO-NOPE"}, format="json")  # fmt: skip
    assert unknown.status_code == 400
    assert unknown.json()["errors"][0]["field"] == "purchase_order"
    within = client.post(RECEIPTS, {"barcode": "BRG-6205*B-9*210", "location": "WH-RAW", "external_id": "s-10", "purchase_order": "PO-2026-0001"}, format="json")  # fmt: skip
    assert within.status_code == 201
    assert PurchaseOrderLine.objects.get(order__number="PO-2026-0001").received_quantity == Decimal(210)  # fmt: skip
