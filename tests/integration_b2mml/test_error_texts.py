"""A refused B2MML document, a failed export and an append-only refusal read in the reader's
language (Accept-Language): the sentence, the ConfirmBOD's descriptions and its notes, with the
paths, element names and codes as they are and the Chinese full-width colon after a path."""

from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.utils import translation
from rest_framework.test import APIClient

from integration.engines.b2mml import child, children, text
from integration.schemas import B2mmlError
from integration.selectors.b2mml_export import export_bytes
from resources.models import Item, StockLocation, StockMove

from .helpers import root_name, valid
from .test_import import masterdata, prop

pytestmark = pytest.mark.django_db

EXAMPLES = Path(__file__).resolve().parent / "examples"
XML = "application/xml"
ZH = {"HTTP_ACCEPT_LANGUAGE": "zh-hans"}
EN = {"HTTP_ACCEPT_LANGUAGE": "en"}
REQUEST_ID = (
    "/SyncOperationsPerformance/DataArea/OperationsPerformance[1]/OperationsResponse[1]"
    "/OperationsRequestID"
)


def client(username: str) -> APIClient:
    api = APIClient()
    api.force_authenticate(get_user_model().objects.get(username=username))
    return api


def refusal(response) -> tuple[list[str], list[str]]:
    """The ConfirmBOD's descriptions (the status's and the BOD's) and its notes."""
    assert response["Content-Type"].startswith(XML)
    confirm = valid(response.content)
    assert root_name(response.content) == "ConfirmBOD"
    status = child(confirm, "DataArea", "Confirm", "ResponseCriteria", "ChangeStatus")
    bod = child(confirm, "DataArea", "BOD")
    descriptions = [text(status, "Description"), text(bod, "Description")]
    return descriptions, [text(n) for n in children(bod, "Note")]


def post_performance(headers: dict):
    data = (EXAMPLES / "performance-example.xml").read_bytes()
    return client("sunqi").post("/api/v1/b2mml/performance/", data, content_type=XML, **headers)


def test_an_unknown_order_in_an_import_reads_in_chinese(demo_plant):
    response = post_performance(ZH)
    assert response.status_code == 400
    descriptions, notes = refusal(response)
    assert descriptions == [f"{REQUEST_ID}：没有生产工单 'PO-2025-000123'。"] * 2
    assert notes == [f"{REQUEST_ID}：没有生产工单 'PO-2025-000123'"]


def test_the_same_import_reads_in_english(demo_plant):
    response = post_performance(EN)
    assert response.status_code == 400
    descriptions, notes = refusal(response)
    assert descriptions == [f"{REQUEST_ID}: no production order 'PO-2025-000123'."] * 2
    assert notes == [f"{REQUEST_ID}: no production order 'PO-2025-000123'"]


def test_a_master_data_refusal_reads_in_chinese(demo_plant):
    person = masterdata(
        "SyncPerson",
        "<ID>OP-078</ID><PersonName>Li Na</PersonName>" + prop("PersonProperty", "Active", "maybe"),
    )
    response = client("sunqi").post("/api/v1/b2mml/personnel/", person, content_type=XML, **ZH)
    assert response.status_code == 400
    descriptions, notes = refusal(response)
    path = "/SyncPerson/DataArea/Person[1]"
    assert descriptions[0] == f"{path}/PersonProperty[Active]：请给出 true 或 false。"
    assert notes == [f"{path}/PersonProperty：Active 必须为 true 或 false"]


def test_a_document_that_is_not_xml_reads_in_chinese(demo_plant):
    response = client("zhouba").post("/api/v1/b2mml/schedule/", b"  ", content_type=XML, **ZH)
    assert response.status_code == 400
    descriptions, notes = refusal(response)
    assert descriptions[0] == "请求中没有 XML 文档。"
    assert notes == ["/：请求体为空"]


def test_an_export_of_unknown_orders_names_them_in_chinese(demo_plant):
    url = "/api/v1/b2mml/schedule/?order=MO-NOPE,MO-NADA"
    response = client("zhouba").get(url, **ZH)
    assert response.status_code == 404
    descriptions, _ = refusal(response)
    assert descriptions == ["没有生产工单 MO-NADA、MO-NOPE。"] * 2
    english = client("zhouba").get(url, **EN)
    assert refusal(english)[0] == ["No production order MO-NADA, MO-NOPE."] * 2
    with translation.override("zh-hans"), pytest.raises(B2mmlError) as missing:
        export_bytes("performance", numbers=["MO-NOPE"])
    assert missing.value.message == "没有生产工单 MO-NOPE。"


def test_a_bad_query_parameter_reads_in_chinese(demo_plant):
    response = client("zhouba").get("/api/v1/b2mml/schedule/?since=yesterday", **ZH)
    assert response.status_code == 400
    descriptions, notes = refusal(response)
    assert descriptions[0] == "'yesterday' 不是带时区偏移的 ISO 8601 时间点。"
    assert notes == ["since：'yesterday' 不是带时区偏移的 ISO 8601 时间点。"]
    alerts = client("zhouba").get("/api/v1/b2mml/alerts/?status=lost", **ZH)
    assert alerts.status_code == 400
    assert refusal(alerts)[0][0].startswith("未知状态 'lost'；请使用：open、")


def test_a_stock_move_is_append_only_in_chinese(demo_plant):
    move = StockMove.objects.create(
        item=Item.objects.first(),
        location=StockLocation.objects.first(),
        quantity=3,
        kind="receipt",
    )
    move.quantity = 4
    for language, expected in (
        ("zh-hans", "库存移动只能追加，不能修改；请改为记录一条冲销。"),
        ("en", "Stock moves are append-only; record a reversal instead."),
    ):
        with translation.override(language):
            with pytest.raises(ValidationError) as refused:
                move.save()
            assert refused.value.messages == [expected]
