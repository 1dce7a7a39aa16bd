"""Lists in a sentence as the reader's language writes them (core.lists, and the template
filter `list_text`): "A, B" in English, "A、B" in Chinese."""

from django.template import Context, Template
from django.utils import translation

from core.lists import list_text, list_text_lazy


def test_list_text_lists_items_as_the_readers_language_does():
    items = ["MO-2026-00002", "MO-BG-1212-CNC-02", 3]
    with translation.override("en"):
        assert list_text(items) == "MO-2026-00002, MO-BG-1212-CNC-02, 3"
        assert list_text(["one"]) == "one"
        assert list_text([]) == ""
    with translation.override("zh-hans"):
        assert list_text(items) == "MO-2026-00002、MO-BG-1212-CNC-02、3"
        assert list_text(iter(("甲", "乙"))) == "甲、乙"  # any iterable, read once


def test_list_text_lazy_lists_in_the_language_it_is_read_in():
    lazy_text = list_text_lazy(item for item in ("A", "B"))  # a generator: taken at once
    with translation.override("zh-hans"):
        assert str(lazy_text) == "A、B"
    with translation.override("en"):
        assert str(lazy_text) == "A, B"


def test_the_list_text_filter_lists_and_escapes():
    template = Template("{% load lists %}{{ names|list_text }}|{{ none|list_text }}")
    context = Context({"names": ["CNC-01", "<b>"], "none": None})
    with translation.override("zh-hans"):
        assert template.render(context) == "CNC-01、&lt;b&gt;|"
    with translation.override("en"):
        assert template.render(context) == "CNC-01, &lt;b&gt;|"
