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
from .test_import import masterdata, prop, snapshot

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


# --- schema and XML parser reasons -----------------------------------------------------------

SCHEDULE = "/ProcessOperationsSchedule/DataArea/OperationsSchedule"
REQUEST = f"{SCHEDULE}/OperationsRequest"
STATES = "Forecast、Released、Waiting、Cancelled、Ready、Running、Completed、Aborted、Held、Suspended、Closed、Other"


def post_schedule(data: bytes, headers: dict):
    """A schedule posted by the planner; it must be refused (400) and write nothing."""
    before = snapshot()
    response = client("zhouba").post("/api/v1/b2mml/schedule/", data, content_type=XML, **headers)
    assert response.status_code == 400, response.content
    assert snapshot() == before
    return refusal(response)


def schedule_with(old: bytes, new: bytes) -> bytes:
    data = (EXAMPLES / "schedule-example.xml").read_bytes()
    assert old in data
    return data.replace(old, new, 1)


def test_a_schema_invalid_document_is_refused_in_chinese_naming_each_element(demo_plant):
    data = (EXAMPLES / "invalid-schedule-example.xml").read_bytes()
    descriptions, notes = post_schedule(data, ZH)
    assert notes == [
        f"{REQUEST}/RequestState：RequestState 的值 'Started' 不在允许的取值中：{STATES}",
        f"{REQUEST}/SegmentRequirement[1]：Duration 之前缺少必需元素 ProcessSegmentID",
        f"{REQUEST}/SegmentRequirement[2]/EarliestStartTime：EarliestStartTime 的值 "
        "'04.03.2025 06:00' 不是有效的 xs:dateTime（例如 2026-12-09T10:00:00+08:00）",
    ]
    assert descriptions == [f"文档不符合 B2MML V0701 架构：{notes[0]}（另有 2 处错误）"] * 2
    _, english = post_schedule(data, EN)
    assert english == [
        f"{REQUEST}/RequestState: RequestState 'Started' is not one of "
        + STATES.replace("、", ", "),
        f"{REQUEST}/SegmentRequirement[1]: the required element ProcessSegmentID is missing "
        "before Duration",
        f"{REQUEST}/SegmentRequirement[2]/EarliestStartTime: EarliestStartTime "
        "'04.03.2025 06:00' is not a valid xs:dateTime (e.g. 2026-12-09T10:00:00+08:00)",
    ]


def test_a_missing_or_unexpected_element_is_named_in_chinese(demo_plant):
    unexpected = schedule_with(b"<Priority>2</Priority>", b"<Priority>2</Priority><Colour/>")
    assert post_schedule(unexpected, ZH)[1] == [
        f"{REQUEST}：此处不允许出现元素 Colour（第 8 个子元素）；应为 SegmentRequirement"
    ]
    empty = schedule_with(b"<ID>SCHED-2025-W10-PLANT1</ID>", b"")
    assert post_schedule(empty, ZH)[1] == [f"{SCHEDULE}：Description 之前缺少必需元素 ID"]
    bad_number = schedule_with(b"<Priority>2</Priority>", b"<Priority>high</Priority>")
    assert post_schedule(bad_number, ZH)[1] == [
        f"{REQUEST}/Priority：Priority 的值 'high' 不是有效的 xs:decimal（例如 12.5）"
    ]
    no_release = schedule_with(b' releaseID="0701"', b"")
    assert post_schedule(no_release, ZH)[1] == [
        "/ProcessOperationsSchedule：ProcessOperationsSchedule 缺少必需属性 releaseID"
    ]
    # The schema instance's own attributes (xsi:schemaLocation) are not named as unknown.
    located = schedule_with(
        b' releaseID="0701"',
        b' xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"'
        b' xsi:schemaLocation="http://www.mesa.org/xml/B2MML B2MML-OperationsSchedule.xsd"',
    )
    assert post_schedule(located, ZH)[1] == [
        "/ProcessOperationsSchedule：ProcessOperationsSchedule 缺少必需属性 releaseID"
    ]


def test_a_rare_schema_error_keeps_the_librarys_reason_inside_the_readers_sentence(demo_plant):
    data = schedule_with(b"<DataArea>", b"<DataArea>loose text")
    descriptions, notes = post_schedule(data, ZH)
    reason = "character data between child elements not allowed"
    assert notes == [f"/ProcessOperationsSchedule/DataArea：{reason}"]
    assert descriptions[0] == f"文档不符合 B2MML V0701 架构：{notes[0]}"


def test_a_malformed_document_is_refused_in_chinese_with_its_line(demo_plant):
    mismatched = (
        b"<ProcessOperationsSchedule>\n  <DataArea>\n    </Data>\n</ProcessOperationsSchedule>"
    )
    descriptions, notes = post_schedule(mismatched, ZH)
    assert (
        descriptions
        == ["XML 格式错误（第 3 行，第 7 列）：结束标签 </Data> 与开始标签 <DataArea> 不匹配。"] * 2
    )
    assert notes == ["第 3 行，第 7 列：结束标签 </Data> 与开始标签 <DataArea> 不匹配"]
    descriptions, _ = post_schedule(mismatched, EN)
    assert descriptions[0] == (
        "The document is not well-formed XML (line 3, column 7): the end tag </Data> does not "
        "close <DataArea>."
    )
    unclosed = b"<ProcessOperationsSchedule>\n  <DataArea>"
    assert post_schedule(unclosed, ZH)[1] == [
        "第 2 行，第 13 列：文档在 <DataArea> 闭合之前就结束了"
    ]
    assert post_schedule(b"ProcessOperationsSchedule", ZH)[1] == [
        "第 1 行，第 1 列：语法错误：这不是 XML"
    ]


def test_an_encoding_python_does_not_know_is_a_refusal_not_a_server_error(demo_plant):
    data = b"<?xml version='1.0' encoding='klingon'?><ProcessOperationsSchedule/>"
    descriptions, notes = post_schedule(data, ZH)
    assert descriptions[0] == "文档声明的编码 'klingon' 无法识别；请以 UTF-8 发送。"
    assert notes == ["/：未知编码 'klingon'"]
