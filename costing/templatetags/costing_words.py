"""`{% load costing_words %}`: costing's codes as labels (costing/words.py)."""

from django import template

from .. import words

register = template.Library()


@register.filter
def variance_kind(code) -> str:
    return words.label(words.KIND_LABELS, code)


@register.filter
def element(code) -> str:
    return words.label(words.ELEMENT_LABELS, code)


@register.filter
def source(code) -> str:
    return words.label(words.SOURCE_LABELS, code)


@register.filter
def grouping(code) -> str:
    return words.label(words.GROUPING_LABELS, code)


@register.filter
def variance_cause(v) -> str:
    return words.variance_cause(v)
