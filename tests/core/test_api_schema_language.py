"""The API reference in its reader's language (docs/translation.md): the OpenAPI schema
asked for in zh-Hans (`/api/schema/?lang=zh-hans`, or Accept-Language) reads in Chinese —
every operation's summary and description, every parameter's, answer's, field's and
component's description — and in English it stays English; `/api/docs/` (Swagger UI) loads
the schema in the language of the person reading the page."""

import json
import re

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.utils import translation
from drf_spectacular.generators import SchemaGenerator
from rest_framework.test import APIClient

from core.models import UserPreference

pytestmark = pytest.mark.django_db

SCHEMA = "/api/schema/"
DOCS = "/api/docs/"
# Chinese: ideographs, or Chinese punctuation around codes ("YYYY-MM。", "Webhook：http(s)://…").
CHINESE = re.compile(r"[\u3000-\u303f\u4e00-\u9fff\uff00-\uffef]")
TEXT_KEYS = ("summary", "description", "title")
# The same in every language: a name, not a sentence.
NAMES = {
    "ClosedLoop API",  # the product's name (info.title; also the downloaded file's name)
    "OPC UA",  # protocol names, as labels of the endpoints' protocol choice
    "Modbus TCP",
}
# drf-spectacular lists an enum's choices as "* `code` - label" lines.
CHOICE = re.compile(r"^\* `(?P<code>[^`]*)` - (?P<label>.*)$")


@pytest.fixture
def client_admin():
    client = APIClient()
    client.force_authenticate(get_user_model().objects.create_superuser("api-docs", password="pw"))
    return client


def _texts(node, where="") -> dict[str, str]:
    """Every text a reader reads in the schema, by where it is (a JSON-pointer-like path)."""
    found: dict[str, str] = {}
    if isinstance(node, dict):
        for key, value in node.items():
            here = f"{where}/{key}"
            if key in TEXT_KEYS and isinstance(value, str):
                found[here] = value
            else:
                found.update(_texts(value, here))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            name = value.get("name", i) if isinstance(value, dict) else i
            found.update(_texts(value, f"{where}/{name}"))
    return found


def _only_codes_or_names(text: str) -> bool:
    """A text with no words to translate: a name, or an enum's choices whose labels are their
    codes (`* \\`late\\` - late`) or names."""
    if text in NAMES:
        return True
    choices = [CHOICE.match(line) for line in text.splitlines()]
    return bool(choices) and all(
        c is not None and (c["label"] == c["code"] or c["label"] in NAMES) for c in choices
    )


def _schema(client, **query) -> dict:
    answer = client.get(SCHEMA, {"format": "json", **query.pop("params", {})}, **query)
    assert answer.status_code == 200, answer.content[:500]
    return json.loads(answer.content)


def _not_chinese(spec: dict) -> dict[str, str]:
    return {
        where: text
        for where, text in _texts(spec).items()
        if text.strip() and not CHINESE.search(text) and not _only_codes_or_names(text)
    }


def test_the_schema_in_zh_hans_reads_in_chinese_everywhere(client_admin):
    spec = _schema(client_admin, params={"lang": "zh-hans"})
    left = _not_chinese(spec)
    assert not left, f"{len(left)} texts still English, e.g. " + "; ".join(
        f"{where}: {text!r}" for where, text in list(left.items())[:10]
    )
    # What the texts are, in words a Chinese plant uses.
    orders = spec["paths"]["/api/v1/production-orders/"]
    assert orders["get"]["description"].startswith("生产工单。")
    assert orders["post"]["responses"]["409"]["description"].startswith("请求合法但状态不允许")
    audit = spec["paths"]["/api/v1/audit/"]["get"]
    assert audit["summary"] == "审计追踪"
    assert {p["name"]: p["description"] for p in audit["parameters"]}["actor"] == "修改人。"
    assert spec["info"]["description"] == "工厂的计划（ERP）与执行（MES），形成一个闭环。"
    assert spec["components"]["schemas"]["Error"]["description"].startswith("API 统一的错误正文")
    # Field names, codes and paths are untouched.
    assert "external_ref" in spec["components"]["schemas"]["Item"]["properties"]
    assert "`external_ref`" in orders["post"]["description"]


def test_accept_language_alone_gives_the_chinese_schema_too(client_admin):
    spec = _schema(client_admin, HTTP_ACCEPT_LANGUAGE="zh-Hans")
    assert spec["paths"]["/api/v1/audit/"]["get"]["summary"] == "审计追踪"


def test_the_english_schema_is_english(client_admin):
    spec = _schema(client_admin, params={"lang": "en"})
    chinese = {w: t for w, t in _texts(spec).items() if CHINESE.search(t)}
    assert not chinese, list(chinese.items())[:5]
    orders = spec["paths"]["/api/v1/production-orders/"]["get"]
    assert orders["description"].startswith("Production orders. Created with operations")
    assert spec["paths"]["/api/v1/audit/"]["get"]["summary"] == "The audit trail"
    # With no language asked for, English (LANGUAGE_CODE).
    plain = _schema(client_admin)
    assert plain["paths"]["/api/v1/audit/"]["get"]["summary"] == "The audit trail"


def test_each_text_in_chinese_is_the_translation_of_its_english():
    """Both languages list the same texts at the same places; only the words differ."""
    with translation.override("en"):
        english = _texts(SchemaGenerator().get_schema(request=None, public=True))
    with translation.override("zh-hans"):
        chinese = _texts(SchemaGenerator().get_schema(request=None, public=True))
    # A field's `title` shows only where its name differs from the field's: not comparable.
    english = {w: t for w, t in english.items() if not w.endswith("/title")}
    chinese = {w: t for w, t in chinese.items() if not w.endswith("/title")}
    assert english.keys() == chinese.keys()
    same = {
        where: text
        for where, text in english.items()
        if text.strip() and chinese[where] == text and not _only_codes_or_names(text)
    }
    assert not same, list(same.items())[:10]


def test_developer_notes_are_not_in_the_schema(client_admin):
    """Docstrings are notes for developers; the schema's descriptions are written for it."""
    spec = _schema(client_admin, params={"lang": "en"})
    texts = " ".join(_texts(spec).values())
    for note in ("ModelSerializer", "Meta.fields", "policy_fields", "For the schema"):
        assert note not in texts


def _docs_schema_url(answer) -> str:
    assert answer.status_code == 200
    escaped = re.search(r'url: "([^"]+)"', answer.content.decode()).group(1)
    return json.loads(f'"{escaped}"')  # the template writes it with escapejs


def test_the_docs_page_loads_the_schema_in_its_reader_s_language(client):
    assert _docs_schema_url(client.get(DOCS, HTTP_ACCEPT_LANGUAGE="zh-Hans")) == (
        f"{SCHEMA}?lang=zh-hans"
    )
    assert _docs_schema_url(client.get(DOCS, HTTP_ACCEPT_LANGUAGE="en")) == f"{SCHEMA}?lang=en"
    assert _docs_schema_url(client.get(DOCS)) == f"{SCHEMA}?lang=en"
    # A language named on the docs' own URL wins.
    chosen = client.get(DOCS, {"lang": "zh-hans"}, HTTP_ACCEPT_LANGUAGE="en")
    assert _docs_schema_url(chosen) == f"{SCHEMA}?lang=zh-hans"


def test_a_person_who_chose_chinese_reads_the_docs_and_their_schema_in_chinese(client):
    person = get_user_model().objects.create_user("wangwu", password="pw")
    person.groups.add(Group.objects.get_or_create(name="planner")[0])
    client.force_login(person)
    client.post("/accounts/language/", {"language": "zh-hans"})
    assert UserPreference.objects.get(user=person).language == "zh-hans"
    url = _docs_schema_url(client.get(DOCS, HTTP_ACCEPT_LANGUAGE="en"))
    assert url == f"{SCHEMA}?lang=zh-hans"
    spec = json.loads(client.get(url, {"format": "json"}, HTTP_ACCEPT_LANGUAGE="en").content)
    assert spec["paths"]["/api/v1/audit/"]["get"]["summary"] == "审计追踪"


def test_the_docs_page_stays_offline(client):
    """Swagger UI from the sidecar's files under /static/, in every language (no CDN)."""
    page = client.get(DOCS, HTTP_ACCEPT_LANGUAGE="zh-Hans").content.decode()
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js" in page
    assert "http://" not in page and "https://" not in page
