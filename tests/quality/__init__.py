"""Helpers shared by the quality tests: plain functions over the demo plant (each test file
wraps what it needs in fixtures)."""

from datetime import timedelta
from decimal import Decimal
from itertools import count

from django.contrib.auth import get_user_model
from django.utils import timezone
from rest_framework.test import APIClient

from planning.models import ProductionOrder
from planning.services.orders import production_order_create, production_order_release
from resources.models import Item, StockLocation
from resources.services.stock import stock_move_record
from tests.factories import machining_by_hand

EB_ORDER = "MO-2026-00001"
# The demo users' password (resources/demo.py): signed decisions ask for it once more.
PASSWORD = "closedloop"
# What a signed decision adds to a service's arguments (core.signatures).
SIGNED = {"password": PASSWORD, "reason": "Decided at the quality review."}
EVENTS = "/api/v1/execution/events/"
INSPECTIONS = "/api/v1/quality/inspections/"
_ids = count(1)


def client_as(username: str) -> APIClient:
    client = APIClient()
    client.force_authenticate(get_user_model().objects.get(username=username))
    return client


def user(username: str):
    return get_user_model().objects.get(username=username)


def event(kind: str, sequence: int, order: str = EB_ORDER, **extra) -> dict:
    return {
        "event_id": f"ev-{next(_ids)}",
        "kind": kind,
        "order": order,
        "sequence": sequence,
        **extra,
    }


def post_event(client: APIClient, kind: str, sequence: int, order: str = EB_ORDER, **extra):
    return client.post(EVENTS, event(kind, sequence, order, **extra), format="json")


def post_inspection(
    client: APIClient, code: str, values, *, sequence: int = 30, order: str = EB_ORDER, **extra
):
    if "defect_code" not in extra and _fails(values):
        # A failed inspection names its defect code (quality/services/records.py).
        extra["defect_code"] = (
            "SCRATCH"
            if values.get("No scratches") in (False, "nok")
            else ("SHORT-SHOT" if "No short shots" in values else "BORE-OOT")
        )
    body = {
        "external_id": extra.pop("external_id", f"insp-{next(_ids)}"),
        "order": order,
        "sequence": sequence,
        "trace_code": code,
        "values": values,
        **extra,
    }
    return client.post(INSPECTIONS, body, format="json")


def _fails(values) -> bool:
    """Whether the demo plans (IP-EB500-30, IP-HSG100-20) fail these values; unreadable
    values are left to the service to refuse."""
    if not isinstance(values, dict):
        return False
    for name, value in values.items():
        if value in (False, "nok"):
            return True
        if name == "Bore diameter":
            try:
                if not Decimal("49.90") <= Decimal(str(value)) <= Decimal("50.10"):
                    return True
            except ArithmeticError:
                return False
    return False


def bore(value, scratches_ok=True) -> dict:
    return {"Bore diameter": value, "No scratches": scratches_ok}


def eb_released() -> ProductionOrder:
    """The demo's first batch of 50 engine blocks, released, with the 20 bearings it lacks
    received first (so assembly is not blocked by the shortage)."""
    bearing = Item.objects.get(code="BRG-6205")
    stock_move_record(
        item=bearing,
        location=StockLocation.objects.get(code="WH-RAW"),
        lot=bearing.lots.get(),
        quantity=Decimal(20),
        kind="receipt",
    )
    order = production_order_release(order=ProductionOrder.objects.get(number=EB_ORDER))
    machining_by_hand(EB_ORDER)  # units are followed through machining by hand here
    return order


def unit_through(client: APIClient, serial: str, last: int = 30) -> None:
    """Report one engine block good at operations 10, 20 … `last`, starting each task the
    first time it is needed."""
    from execution.models import Task

    for sequence in (10, 20, 30, 40):
        if sequence > last:
            break
        task = Task.objects.get(order__number=EB_ORDER, operation__sequence=sequence)
        if task.status in (Task.Status.READY, Task.Status.QUEUED):
            started = post_event(client, "start", sequence)
            assert started.status_code == 201, started.json()
        reported = post_event(client, "report", sequence, quantity_good=1, trace_code=serial)
        assert reported.status_code == 201, reported.json()


def hsg_released(quantity: int = 1000, lots: int = 20, start: bool = True) -> ProductionOrder:
    """An order of housings on the moulding line, released; moulding started on INJ-01 and
    `lots` lots of 50 reported good (H-001 …), so the visual check is ready to start (with
    `start=False` only released)."""
    order = production_order_create(
        item=Item.objects.get(code="HSG-100"),
        quantity=Decimal(quantity),
        due_date=timezone.localdate() + timedelta(days=5),
        status=ProductionOrder.Status.PLANNED,
    )
    order = production_order_release(order=order)
    if not start:
        return order
    supervisor = client_as("sunqi")
    started = post_event(supervisor, "start", 10, order.number, equipment="INJ-01")
    assert started.status_code == 201, started.json()
    for n in range(1, lots + 1):
        reported = post_event(
            supervisor, "report", 10, order.number, quantity_good=50, trace_code=f"H-{n:03d}"
        )
        assert reported.status_code == 201, reported.json()
    return order
