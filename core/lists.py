"""Lists in a sentence as the reader's language writes them: "A, B, C" in English, "A、B、C" in
Chinese. Not in core/formatting.py, which the engines use and which stays free of Django."""

from collections.abc import Iterable

from django.utils.functional import lazy
from django.utils.translation import pgettext


def list_text(items: Iterable) -> str:
    """Items listed in a sentence as the reader's language lists them (the catalogue's
    separator "between the items of a list"), each shown by str(). Text for programs (a CSV
    cell, a log line, an identifier, a value to type back) keeps ", "."""
    return pgettext("between the items of a list", ", ").join(str(item) for item in items)


_list_text_lazy = lazy(list_text, str)


def list_text_lazy(items: Iterable):
    """`list_text` read when shown, in the language of that moment (a model's messages,
    defined at import). The items are taken now: an iterator is read once."""
    return _list_text_lazy(tuple(items))
