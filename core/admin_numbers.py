"""The admin shows a decimal as people write it (83, 2.5), not with every stored place.

Django's admin formats a DecimalField with all its decimal places (`display_for_field`:
83.0000000000 for a rate kept to ten places) and has no setting or per-site hook for it; the
list columns (templatetags.admin_list) and read-only fields (helpers) each import the
function by name. So both names are pointed at one wrapper that formats decimals without
trailing zeros, in the reader's locale, and hands every other field to Django's own.
tests/core/test_admin_texts.py::test_the_admin_shows_decimals_without_trailing_zeros
fails if a Django upgrade moves these names.
"""

from decimal import Decimal

from django.contrib.admin import helpers, utils
from django.contrib.admin.templatetags import admin_list
from django.db import models
from django.utils import formats

from .formatting import quantity_format

_django_display_for_field = utils.display_for_field


def display_for_field(value, field, empty_value_display, *args, **kwargs):
    if (
        isinstance(field, models.DecimalField)
        and not getattr(field, "flatchoices", None)
        and isinstance(value, Decimal)
    ):
        return formats.number_format(Decimal(quantity_format(value)), use_l10n=True)
    return _django_display_for_field(value, field, empty_value_display, *args, **kwargs)


def admin_decimals_plain() -> None:
    admin_list.display_for_field = display_for_field
    helpers.display_for_field = display_for_field
