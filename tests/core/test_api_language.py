"""The API answers in the language the client asks for (Accept-Language, docs/translation.md):
the project's own error sentences, the serializers' and views' messages and DRF's built-in
ones, each still naming the field; English when the client asks for nothing."""

import pytest
from django.contrib.auth import get_user_model
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db

ITEMS = "/api/v1/items/"


@pytest.fixture
def client_admin():
    user = get_user_model().objects.create_superuser("api-admin", password="pw")
    client = APIClient()
    client.force_authenticate(user)
    return client


def _entries(body: dict) -> dict[str, str]:
    return {e.get("field", ""): e["message"] for e in body["errors"]}


def test_a_bad_page_size_is_refused_in_chinese_naming_the_field(client_admin):
    answer = client_admin.get(ITEMS, {"limit": "0"}, HTTP_ACCEPT_LANGUAGE="zh-Hans")
    assert answer.status_code == 400 and answer["Content-Language"] == "zh-hans"
    assert _entries(answer.json()) == {"limit": "请填写 1 到 1000 之间的整数。"}
    assert answer.json()["detail"] == "limit：请填写 1 到 1000 之间的整数。"


def test_the_same_refusal_is_english_by_default(client_admin):
    answer = client_admin.get(ITEMS, {"limit": "0"})
    assert answer.status_code == 400
    assert _entries(answer.json()) == {"limit": "Give a whole number from 1 to 1000."}


def test_an_unknown_query_parameter_and_several_fields_in_chinese(client_admin):
    answer = client_admin.get(ITEMS, {"colour": "red", "size": "9"}, HTTP_ACCEPT_LANGUAGE="zh-CN")
    body = answer.json()
    assert answer.status_code == 400 and set(_entries(body)) == {"colour", "size"}
    assert _entries(body)["colour"].startswith("未知的查询参数；此接口接受：")
    assert body["detail"] == "colour、size 输入无效。"  # names listed with 、


def test_drf_s_own_messages_are_chinese_too(client_admin):
    answer = client_admin.post(ITEMS, {}, format="json", HTTP_ACCEPT_LANGUAGE="zh-Hans")
    assert answer.status_code == 400
    assert _entries(answer.json())["code"] == "该字段是必填项。"
    english = client_admin.post(ITEMS, {}, format="json")
    assert _entries(english.json())["code"] == "This field is required."


def test_a_view_s_own_message_in_chinese_and_english(client_admin):
    url = "/api/v1/quality/trace-codes/"
    answer = client_admin.get(url, HTTP_ACCEPT_LANGUAGE="zh-Hans")
    assert answer.status_code == 400
    assert _entries(answer.json()) == {"order": "请指明工单：?order=工单号。"}
    missing = client_admin.get(url, {"order": "PO-404"}, HTTP_ACCEPT_LANGUAGE="zh-Hans")
    assert missing.status_code == 404 and missing.json()["detail"] == "没有工单 PO-404。"
    english = client_admin.get(url, {"order": "PO-404"})
    assert english.json()["detail"] == "No order PO-404."


def test_no_endpoint_and_a_refused_role_answer_in_chinese(client_admin):
    answer = client_admin.get("/api/v1/no-such-thing/", HTTP_ACCEPT_LANGUAGE="zh-Hans")
    assert answer.status_code == 404
    assert answer.json()["detail"] == "/api/v1/no-such-thing/ 没有 API 接口。"
    reader = get_user_model().objects.create_user("no-role", password="pw")
    client = APIClient()
    client.force_authenticate(reader)
    refused = client.get("/api/v1/audit/", HTTP_ACCEPT_LANGUAGE="zh-Hans")
    assert refused.status_code == 403
    assert refused.json()["detail"] == "只有管理员和厂长可以查看审计记录。"


def test_a_refused_token_is_told_in_chinese_and_english(db):
    """The same words as DRF's own catalogue, which holds this msgid too."""
    client = APIClient()
    zh = client.get(ITEMS, HTTP_AUTHORIZATION="Bearer abc.def", HTTP_ACCEPT_LANGUAGE="zh-Hans")
    assert zh.status_code == 401 and zh.json()["detail"] == "认证令牌无效。"
    assert client.get(ITEMS, HTTP_AUTHORIZATION="Bearer abc.def").json()["detail"] == (
        "Invalid token."
    )
