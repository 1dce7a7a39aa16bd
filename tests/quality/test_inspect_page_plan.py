"""The inspection page finds an operation's plan as the inspection service (and so the API)
does: the routing step's active plan, or, for an order made without a routing, the active
plan its operation's inspection_plan_ref names."""

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from execution.models import Task
from planning.models import OrderOperation, ProductionOrder
from planning.services.orders import production_order_release
from quality.models import InspectionRecord

from . import EB_ORDER, bore, client_as, post_event, post_inspection, user

pytestmark = pytest.mark.django_db

NO_ROUTING = "MO-NR-0001"


@pytest.fixture
def order_without_routing(demo_plant) -> ProductionOrder:
    """Ten engine blocks ordered without a routing (nor a BOM): the operations are written
    as they came (copied from the demo order's), the CMM check naming its plan by code only;
    released through the order service, which makes the tasks. EB-NR-1 made through the
    CMM operation."""
    template = ProductionOrder.objects.get(number=EB_ORDER)
    order = ProductionOrder.objects.create(
        number=NO_ROUTING,
        item=template.item,
        quantity=Decimal(10),
        due_date=timezone.localdate() + timedelta(days=3),
        status=ProductionOrder.Status.PLANNED,
    )
    OrderOperation.objects.bulk_create(
        [
            OrderOperation(
                order=order,
                sequence=op.sequence,
                name=op.name,
                work_center_id=op.work_center_id,
                setup_minutes=op.setup_minutes,
                run_minutes_per_unit=op.run_minutes_per_unit,
                inspection_plan_ref="IP-EB500-30" if op.sequence == 30 else "",
            )
            for op in template.operations.order_by("sequence")
        ]
    )
    order = production_order_release(order=order)
    assert order.routing_id is None
    supervisor = client_as("sunqi")
    for sequence in (10, 20, 30):
        started = post_event(supervisor, "start", sequence, NO_ROUTING)
        assert started.status_code == 201, started.json()
        reported = post_event(
            supervisor, "report", sequence, NO_ROUTING, quantity_good=1, trace_code="EB-NR-1"
        )
        assert reported.status_code == 201, reported.json()
    return order


def _form(html: str) -> tuple[dict, list[str]]:
    names = list(dict.fromkeys(re.findall(r'name="(value-\d+)"', html)))
    external_id = re.search(r'name="external_id" value="([^"]+)"', html).group(1)
    return {"external_id": external_id}, names


def _record_bore_out_of_tolerance(client, task, html: str, **headers):
    """EB-NR-1 recorded on the page's form: bore 50.2 mm (out of tolerance), no scratches."""
    base, (bore_field, scratch_field) = _form(html)
    return client.post(
        f"/quality/inspect/task/{task.pk}/record/",
        {
            **base,
            "code": "EB-NR-1",
            bore_field: "50.2",
            scratch_field: "ok",
            "defect_code": "BORE-OOT",
        },
        HTTP_HX_REQUEST="true",
        **headers,
    )


def test_an_order_without_a_routing_is_inspected_on_the_page(order_without_routing, client):
    task = Task.objects.get(order=order_without_routing, operation__sequence=30)
    client.force_login(user("zhaoliu"))

    page = client.get(f"/quality/inspect/task/{task.pk}/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "IP-EB500-30 v1" in html and "49.9 – 50.1 mm" in html
    answer = _record_bore_out_of_tolerance(client, task, html)
    assert answer.status_code == 200 and 'data-result="fail"' in answer.content.decode()
    record = InspectionRecord.objects.get(unit__serial="EB-NR-1")
    assert (record.order, record.plan.code, record.result) == (
        order_without_routing,
        "IP-EB500-30",
        "fail",
    )

    # The list of what to inspect offers it too.
    listing = client.get("/quality/inspect/").content.decode()
    assert f"/quality/inspect/task/{task.pk}/" in listing and "IP-EB500-30 v1" in listing

    # The API takes the same plan for the same operation.
    by_api = post_inspection(client_as("zhaoliu"), "EB-NR-1", bore("50.0"), order=NO_ROUTING)
    assert by_api.status_code == 201 and by_api.json()["result"] == "pass"


def test_an_operation_without_a_plan_is_404_on_the_page(order_without_routing, client):
    task = Task.objects.get(order=order_without_routing, operation__sequence=20)
    client.force_login(user("zhaoliu"))
    assert client.get(f"/quality/inspect/task/{task.pk}/").status_code == 404
    listing = client.get("/quality/inspect/").content.decode()
    assert f"/quality/inspect/task/{task.pk}/" not in listing


def test_the_inspection_page_punctuates_as_chinese_does(order_without_routing, client):
    """The plan line and a failure's reason in Chinese: full-width comma, colon and stop."""
    task = Task.objects.get(order=order_without_routing, operation__sequence=30)
    client.force_login(user("zhaoliu"))
    zh = {"HTTP_ACCEPT_LANGUAGE": "zh-hans"}
    html = client.get(f"/quality/inspect/task/{task.pk}/", **zh).content.decode()
    assert "<strong>IP-EB500-30 v1</strong>，逐件检验，" in html
    answer = _record_bore_out_of_tolerance(client, task, html, **zh).content.decode()
    assert "BORE-OOT：" in answer and "。请在下方决定处置。" in answer
    assert "Bore diameter：50.2" in answer  # the English plant's name, the Chinese colon
    english = client.get(f"/quality/inspect/task/{task.pk}/", HTTP_ACCEPT_LANGUAGE="en")
    assert "<strong>IP-EB500-30 v1</strong>, " in english.content.decode()
