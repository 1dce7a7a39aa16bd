"""Translation (docs/translation.md): every zh-Hans catalogue complete, every template that is
translated free of unmarked text, the language chosen per person and the Accept-Language
honoured, names in Chinese order, dates in the Chinese formats.

To translate another app's templates: mark their text, run `make messages`, write the
msgstr, and take the templates out of TEMPLATES_TO_DO below — the one list of what is left.
"""

import re
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.template import engines
from django.template.base import TextNode
from django.utils import formats, translation

from core.catalogues import catalogues, mo_bytes, placeholders, po_read
from core.formatting import full_name, person_name
from core.models import UserPreference
from core.preferences import SESSION_LANGUAGE, preference_language_set

ROOT = Path(settings.BASE_DIR)
TEMPLATES = ROOT / "templates"

# Templates whose text is not marked for translation yet, by app. Whoever translates an
# app's pages removes its entries here (a template listed here that has no unmarked text
# left fails the test too, so the list only shrinks).
TEMPLATES_TO_DO: dict[str, list[str]] = {}  # every app's pages are translated

# Words that are the same in every language: the product's name, standard abbreviations.
ALLOWED_WORDS = {"ClosedLoop", "REST", "API", "OpenAPI", "MRP", "MPS", "OEE", "BOM", "CSV"}
# Attributes a person reads (the rest, like class or hx-target, are not shown).
VISIBLE_ATTRIBUTES = ("placeholder", "title", "alt", "aria-label", "label")
MARK = "\x00"  # where a tag or variable stood


def _to_do() -> set[str]:
    names = set()
    for patterns in TEMPLATES_TO_DO.values():
        for pattern in patterns:
            names.update(p.relative_to(TEMPLATES).as_posix() for p in TEMPLATES.glob(pattern))
            if "*" not in pattern:
                names.add(pattern)
    return names


def _all_templates() -> list[str]:
    return sorted(p.relative_to(TEMPLATES).as_posix() for p in TEMPLATES.rglob("*.html"))


def _walk(nodelist) -> str:
    """The template's literal text in order, each tag or variable as MARK."""
    out = []
    for node in nodelist:
        if isinstance(node, TextNode):
            out.append(node.s)
            continue
        out.append(MARK)
        for attr in getattr(node, "child_nodelists", ()):
            child = getattr(node, attr, None)
            if child:
                out.append(_walk(child))
                out.append(MARK)
    return "".join(out)


def unmarked_text(source: str) -> list[str]:
    """The text a person would read that no {% translate %} or {% blocktranslate %} holds."""
    template = engines["django"].from_string(source).template
    text = _walk(template.nodelist)
    text = re.sub(r"<(script|style)\b.*?</\1>", MARK, text, flags=re.S | re.I)
    text = re.sub(r"<!--.*?-->", MARK, text, flags=re.S)
    found = []
    attrs = "|".join(VISIBLE_ATTRIBUTES)
    for match in re.finditer(rf'\b(?:{attrs})\s*=\s*"([^"]*)"', text):
        found.append(match.group(1))
    text = re.sub(r"<[^>]*>", MARK, text)
    text = re.sub(r"&[#\w]+;", " ", text)
    found.extend(text.split(MARK))
    shown = []
    for chunk in found:
        words = [w for w in re.findall(r"[A-Za-z][A-Za-z'’]+", chunk) if w not in ALLOWED_WORDS]
        if words:
            shown.append(" ".join(chunk.split()))
    return shown


# --- (a) the catalogues -----------------------------------------------------------------------


def test_there_is_a_zh_hans_catalogue_for_the_shared_templates_and_every_app():
    found = {p.relative_to(ROOT).parts[0] for p in catalogues(ROOT) if "zh_Hans" in p.parts}
    apps = {"locale", "core", "resources", "planning", "execution", "quality", "costing"}
    assert apps | {"devices", "integration"} <= found


@pytest.mark.parametrize(
    "po", catalogues(ROOT), ids=lambda p: p.relative_to(ROOT).parts[0] + "/" + p.parent.parent.name
)
def test_every_message_is_translated_and_none_fuzzy(po):
    entries = po_read(po)
    assert entries and entries[0].msgid == "", f"{po}: no header"
    assert "charset=UTF-8" in entries[0].msgstr[0]
    wrong = []
    for e in entries[1:]:
        where = f"{po.relative_to(ROOT)}:{e.line} {e.msgid!r}"
        if e.fuzzy:
            wrong.append(f"{where}: fuzzy (check the translation, then remove the flag)")
        elif not e.translated:
            wrong.append(f"{where}: not translated")
        else:
            for text in e.msgstr.values():
                if placeholders(text) != placeholders(e.msgid_plural or e.msgid):
                    wrong.append(f"{where}: the placeholders differ in {text!r}")
    assert not wrong, "\n".join(wrong)


@pytest.mark.parametrize("po", catalogues(ROOT), ids=lambda p: p.relative_to(ROOT).as_posix())
def test_each_compiled_catalogue_is_its_po(po):
    """conftest and `make setup` compile stale catalogues; the .mo read is the .po as written."""
    assert po.with_suffix(".mo").read_bytes() == mo_bytes(po_read(po))


def test_the_compiled_catalogue_is_read_by_gettext(tmp_path):
    import gettext

    po = tmp_path / "django.po"
    po.write_text(
        'msgid ""\nmsgstr ""\n"Content-Type: text/plain; charset=UTF-8\\n"\n\n'
        '#, python-format\nmsgid "Reported %(what)s."\nmsgstr "已报工：%(what)s。"\n\n'
        'msgctxt "verb"\nmsgid "Issue"\nmsgstr "发料"\n\n'
        '#, fuzzy\nmsgid "Start"\nmsgstr "开始"\n\n'
        'msgid "Untranslated"\nmsgstr ""\n\n'
        'msgid "line"\n"s \\"two\\""\nmsgstr "两"\n"行"\n',
        encoding="utf-8",
    )
    (tmp_path / "django.mo").write_bytes(mo_bytes(po_read(po)))
    with open(tmp_path / "django.mo", "rb") as mo:
        catalogue = gettext.GNUTranslations(mo)
    assert catalogue.gettext("Reported %(what)s.") == "已报工：%(what)s。"
    assert catalogue.pgettext("verb", "Issue") == "发料"
    assert catalogue.gettext("Start") == "Start"  # fuzzy: left out, as msgfmt does
    assert catalogue.gettext("Untranslated") == "Untranslated"
    assert catalogue.gettext('lines "two"') == "两行"


def test_a_broken_catalogue_is_refused_with_its_line(tmp_path):
    po = tmp_path / "django.po"
    po.write_text('msgid ""\nmsgstr ""\n\nmsgid "a"\nmsgstr unquoted\n', encoding="utf-8")
    with pytest.raises(ValueError, match=r"django.po:5"):
        po_read(po)


# --- (b) the templates -----------------------------------------------------------------------


def test_the_checker_finds_unmarked_text_and_lets_marked_text_and_markup_pass():
    source = (
        '{% load i18n %}<h1>{% translate "Start" %}</h1><p class="muted" hx-get="/x/">'
        "{% blocktranslate %}Hello {{ name }}{% endblocktranslate %} · {{ code }} 42%</p>"
        "<script>var hidden = 'not shown';</script><!-- a comment -->"
        '<input placeholder="Scan here"><button title="{% translate "Go" %}">Go now</button>'
        "{% if x %}Left over{% endif %}<h2>REST API</h2>"
    )
    assert unmarked_text(source) == ["Scan here", "Go now", "Left over"]


def test_the_to_do_list_names_only_templates_that_exist():
    missing = [p for ps in TEMPLATES_TO_DO.values() for p in ps if not list(TEMPLATES.glob(p))]
    assert not missing, f"no such templates (translated and renamed?): {missing}"


@pytest.mark.parametrize("name", [n for n in _all_templates() if n not in _to_do()] or ["(none)"])
def test_translated_templates_have_no_unmarked_text(name):
    source = (TEMPLATES / name).read_text(encoding="utf-8")
    left = unmarked_text(source)
    assert not left, f"templates/{name}: text not marked for translation: {left}"


@pytest.mark.parametrize(
    "name", sorted(p for ps in TEMPLATES_TO_DO.values() for p in ps if "*" not in p)
)
def test_a_template_still_to_do_has_text_to_translate(name):
    """A template translated in full leaves TEMPLATES_TO_DO (then its test above guards it);
    a whole app's folder (a pattern) stays until the app is done."""
    source = (TEMPLATES / name).read_text(encoding="utf-8")
    assert unmarked_text(source), (
        f"templates/{name} has no unmarked text left: take it out of TEMPLATES_TO_DO"
    )


# --- (c) the models: field names, help texts, choices -------------------------------------

CLOSEDLOOP_APPS = ("core", "resources", "planning", "execution", "quality", "costing", "devices")
CLOSEDLOOP_APPS += ("integration",)


def model_labels_not_translated() -> list[str]:
    """Every model name, and every field's verbose name, help text or choice label, that a
    person reads in the admin (titles, columns, forms, filters) or an export heading but that
    is not a lazy translation. History tables copy their model's fields and are checked
    through it."""
    from django.apps import apps
    from django.utils.functional import Promise
    from simple_history.models import HistoricalChanges

    wrong = []
    for model in apps.get_models():
        if model._meta.app_label not in CLOSEDLOOP_APPS or issubclass(model, HistoricalChanges):
            continue
        for option in ("verbose_name", "verbose_name_plural"):
            if not isinstance(getattr(model._meta, option), Promise):
                wrong.append(f"{model._meta.label}: Meta.{option} {getattr(model._meta, option)!r}")
        for field in model._meta.get_fields():
            if field.auto_created or not (field.concrete or field.many_to_many):
                continue
            where = f"{model._meta.label}.{field.name}"
            if not isinstance(field.verbose_name, Promise):
                wrong.append(f"{where}: verbose_name {field.verbose_name!r}")
            if field.help_text and not isinstance(field.help_text, Promise):
                wrong.append(f"{where}: help_text {field.help_text!r}")
            if field.choices and list(field.choices) == list(settings.LANGUAGES):
                continue  # each language named in itself, as the switcher shows it
            for value, label in field.flatchoices:
                if not isinstance(label, Promise):
                    wrong.append(f"{where}: the label of choice {value!r} is {label!r}")
    return wrong


def test_every_model_field_help_text_and_choice_is_named_by_a_translation(db):
    wrong = model_labels_not_translated()
    assert not wrong, "not marked with gettext_lazy:\n" + "\n".join(wrong)


def test_the_model_check_finds_a_field_named_in_plain_english(db):
    from django.db import models

    from resources.models import Item

    field = models.CharField(max_length=8, choices=[("x", "Plain")], help_text="Plain text.")
    field.set_attributes_from_name("colour")
    field.model = Item
    Item._meta.local_fields.append(field)
    Item._meta._expire_cache()
    try:
        wrong = model_labels_not_translated()
    finally:
        Item._meta.local_fields.remove(field)
        Item._meta._expire_cache()
    assert wrong == [
        "resources.Item.colour: verbose_name 'colour'",
        "resources.Item.colour: help_text 'Plain text.'",
        "resources.Item.colour: the label of choice 'x' is 'Plain'",
    ]


def test_the_admin_names_columns_and_choices_in_chinese(admin_client):
    from resources.models import Equipment, SkillLevel
    from tests.factories import WorkCenterFactory

    WorkCenterFactory()  # the list shows its column headings only with a row
    with translation.override("zh-hans"):
        assert str(Equipment._meta.get_field("rated_rate").verbose_name) == "额定产能"
        assert str(SkillLevel.EXPERT.label) == "专家"
        assert str(Equipment._meta.verbose_name_plural) == "设备"
    page = admin_client.get("/admin/resources/workcenter/", HTTP_ACCEPT_LANGUAGE="zh-Hans")
    assert page.status_code == 200 and "每小时人工费率" in page.content.decode()
    assert "选择 工作中心 来修改" in page.content.decode()
    english = admin_client.get("/admin/resources/workcenter/", HTTP_ACCEPT_LANGUAGE="en")
    assert "Labour rate per hour" in english.content.decode()


def test_a_msgid_without_context_reads_the_same_in_every_catalogue():
    """Django merges the catalogues into one: the same msgid translated two ways in two apps
    would show one app's word on the other's pages. Different meanings take a context."""
    seen: dict[tuple[str | None, str], tuple[str, str]] = {}
    clashes = []
    for po in catalogues(ROOT):
        if "zh_Hans" not in po.parts:
            continue
        for e in po_read(po)[1:]:
            key = (e.msgctxt, e.msgid)
            text = e.msgstr.get(0, "")
            where = po.relative_to(ROOT).parts[0]
            if key in seen and seen[key][1] != text:
                clashes.append(f"{e.msgid!r}: {seen[key][0]} {seen[key][1]!r}, {where} {text!r}")
            seen.setdefault(key, (where, text))
    assert not clashes, "\n".join(clashes)


# --- the language of the pages -------------------------------------------------------------


@pytest.fixture
def person(db):
    from django.contrib.auth.models import Group

    user = get_user_model().objects.create_user(
        "zhangsan", password="pw", first_name="三", last_name="张"
    )
    user.groups.add(Group.objects.get_or_create(name="operator")[0])
    return user


def _lang(response) -> str:
    return response.headers.get("Content-Language", "")


def test_accept_language_decides_before_sign_in_and_for_a_person_with_no_choice(client, person):
    page = client.get("/accounts/login/", HTTP_ACCEPT_LANGUAGE="zh-CN,zh;q=0.9,en;q=0.5")
    assert _lang(page) == "zh-hans" and "用户名" in page.content.decode()
    assert 'lang="zh-hans"' in page.content.decode()
    english = client.get("/accounts/login/", HTTP_ACCEPT_LANGUAGE="en-GB,en;q=0.8")
    assert _lang(english) == "en" and "Username" in english.content.decode()
    client.force_login(person)
    assert _lang(client.get("/", HTTP_ACCEPT_LANGUAGE="zh-Hans")) == "zh-hans"
    assert _lang(client.get("/", HTTP_ACCEPT_LANGUAGE="en")) == "en"


def test_the_switcher_keeps_the_choice_on_the_account_and_sign_in_applies_it(client, person):
    client.force_login(person)
    answer = client.post("/accounts/language/", {"language": "zh-hans", "next": "/?x=1"})
    assert answer.status_code == 302 and answer["Location"] == "/?x=1"
    assert UserPreference.objects.get(user=person).language == "zh-hans"
    # `/` sends the operator on to the terminal (core.homes), which reads in Chinese too.
    home = client.get("/", HTTP_ACCEPT_LANGUAGE="en", follow=True)
    assert _lang(home) == "zh-hans" and "张三" in home.content.decode()
    # Signed out, the browser decides again; signed in on another device, the choice holds.
    client.post("/accounts/logout/")
    assert _lang(client.get("/accounts/login/", HTTP_ACCEPT_LANGUAGE="en")) == "en"
    other = type(client)()
    other.login(username="zhangsan", password="pw")
    assert _lang(other.get("/", HTTP_ACCEPT_LANGUAGE="en")) == "zh-hans"
    # Back to the browser's language.
    other.post("/accounts/language/", {"language": ""})
    assert UserPreference.objects.get(user=person).language == ""
    assert _lang(other.get("/", HTTP_ACCEPT_LANGUAGE="en")) == "en"


def test_the_switcher_refuses_an_unknown_language_naming_the_field_and_writes_nothing(
    client, person
):
    client.force_login(person)
    answer = client.post("/accounts/language/", {"language": "tlh"})
    assert answer.status_code == 400
    assert "language: Choose one of: en, zh-hans." in answer.content.decode()
    assert not UserPreference.objects.exists()
    assert SESSION_LANGUAGE not in client.session


def test_before_sign_in_the_switch_holds_for_the_session_only(client, person):
    answer = client.post(
        "/accounts/language/", {"language": "zh-hans", "next": "https://elsewhere.example/"}
    )
    assert answer["Location"] == "/"  # never off the site
    assert _lang(client.get("/accounts/login/", HTTP_ACCEPT_LANGUAGE="en")) == "zh-hans"
    assert not UserPreference.objects.exists()


def test_every_role_may_set_its_own_language(db):
    from core import policy
    from core.roles import Role

    for role in Role.ALL:
        assert role in policy.roles_for("core.userpreference", "change") or role == Role.ADMIN


def test_preference_service_validates(person):
    with pytest.raises(Exception, match="language"):
        preference_language_set(user=person, language="fr")
    assert preference_language_set(user=person, language="ZH-HANS ").language == "zh-hans"


# --- names, dates, numbers -----------------------------------------------------------------


def test_chinese_names_family_name_first_without_a_space():
    assert full_name("三", "张") == "张三"
    assert full_name("Plant", "Administrator") == "Plant Administrator"
    assert full_name("", "") == ""
    assert full_name("太郎", "山田") == "山田太郎"
    user = get_user_model()(username="lisi", first_name="四", last_name="李")
    assert person_name(user) == "李四"
    assert person_name(get_user_model()(username="cnc-gateway")) == "cnc-gateway"
    assert person_name(None) == ""


def test_the_demo_people_have_their_chinese_names():
    from resources.demo import USERS

    names = {u[0]: full_name(u[1], u[2]) for u in USERS}
    assert names == {
        "zhangsan": "张三",
        "lisi": "李四",
        "wangwu": "王五",
        "zhaoliu": "赵六",
        "sunqi": "孙七",
        "zhouba": "周八",
        "wujiu": "吴九",
        "zhengshi": "郑十",
        "qianyi": "钱一",
        "fengjie": "冯杰",
        "chenmo": "陈默",
        "admin": "Plant Administrator",
    }


def test_dates_times_and_numbers_in_the_chinese_formats():
    at = datetime(2026, 12, 7, 14, 5, tzinfo=ZoneInfo(settings.TIME_ZONE))
    with translation.override("zh-hans"):
        assert formats.date_format(date(2026, 12, 7)) == "2026年12月7日"
        assert formats.date_format(date(2026, 12, 7), "SHORT_DATE_FORMAT") == "2026-12-07"
        assert formats.date_format(at, "SHORT_DATETIME_FORMAT") == "2026-12-07 14:05"
        assert formats.date_format(at, "DATETIME_FORMAT") == "2026年12月7日 14:05"
        assert formats.number_format(1234567.5, 1, force_grouping=True) == "1,234,567.5"
        assert formats.get_format("DATE_INPUT_FORMATS")[:3] == [
            "%Y-%m-%d",
            "%Y/%m/%d",
            "%Y年%m月%d日",
        ]
    from django import forms

    field = forms.DateField()
    with translation.override("zh-hans"):
        assert field.clean("2026年12月7日") == date(2026, 12, 7)
        assert field.clean("2026/12/07") == date(2026, 12, 7)
    with translation.override("en"):
        assert formats.date_format(date(2026, 12, 7)) == "Dec. 7, 2026"
        # Tables read the same figures in both languages.
        assert formats.date_format(at, "SHORT_DATETIME_FORMAT") == "2026-12-07 14:05"
        assert formats.get_format("DATE_INPUT_FORMATS")[0] == "%Y-%m-%d"
