"""The audit trail's filters, shared by the audit page and `GET /api/v1/audit/`; and the
instant filter every filter set uses for ISO 8601 instants."""

from datetime import UTC

import django_filters
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django_filters.fields import IsoDateTimeField

from .models import AuditEntry


class InstantField(IsoDateTimeField):
    """An ISO 8601 instant, turned to UTC before it reaches a query: Python takes offsets up
    to ±23:59, PostgreSQL only to ±15:59, so `…+23:51` would be a database error; an instant
    that has no UTC time within the calendar (year 1 at +23:59) is a 400."""

    def to_python(self, value):
        value = super().to_python(value)
        if value is None:
            return None
        try:
            return value.astimezone(UTC)
        except OverflowError:
            raise ValidationError(_("The instant is out of range."), code="invalid") from None


class InstantFilter(django_filters.IsoDateTimeFilter):
    field_class = InstantField


class AuditEntryFilterSet(django_filters.FilterSet):
    model = django_filters.CharFilter(
        method="model_filter", help_text=gettext_lazy("The record's model, e.g. resources.item.")
    )
    object = django_filters.CharFilter(
        field_name="object_id", help_text=gettext_lazy("The record's id (with `model`).")
    )
    actor = django_filters.CharFilter(
        field_name="actor_username",
        lookup_expr="iexact",
        help_text=gettext_lazy("Who made the change."),
    )
    action = django_filters.CharFilter(
        help_text=gettext_lazy("create, update, delete, or a service's action (stock.move).")
    )
    since = django_filters.DateFilter(
        field_name="at",
        lookup_expr="date__gte",
        help_text=gettext_lazy("From this day on (plant time, YYYY-MM-DD)."),
    )
    until = django_filters.DateFilter(
        field_name="at",
        lookup_expr="date__lte",
        help_text=gettext_lazy("Up to and including this day (plant time, YYYY-MM-DD)."),
    )

    class Meta:
        model = AuditEntry
        fields = ["model", "object", "actor", "action", "since", "until"]

    def model_filter(self, queryset, name, value):
        return queryset.filter(object_type=value.strip().lower())
