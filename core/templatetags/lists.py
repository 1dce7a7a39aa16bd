"""`{{ names|list_text }}`: items listed as the reader's language lists them, "A, B" or
"A、B" (core.lists.list_text); a template's `|join:", "` is for machine text only."""

from django import template

from core.lists import list_text as _list_text

register = template.Library()


@register.filter
def list_text(items) -> str:
    return _list_text(items or ())
