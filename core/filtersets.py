"""The audit trail's filters, shared by the audit page and `GET /api/v1/audit/`."""

import django_filters

from .models import AuditEntry


class AuditEntryFilterSet(django_filters.FilterSet):
    model = django_filters.CharFilter(
        method="model_filter", help_text="The record's model, e.g. resources.item."
    )
    object = django_filters.CharFilter(
        field_name="object_id", help_text="The record's id (with `model`)."
    )
    actor = django_filters.CharFilter(
        field_name="actor_username", lookup_expr="iexact", help_text="Who made the change."
    )
    action = django_filters.CharFilter(
        help_text="create, update, delete, or a service's action (stock.move)."
    )
    since = django_filters.DateFilter(
        field_name="at",
        lookup_expr="date__gte",
        help_text="From this day on (plant time, YYYY-MM-DD).",
    )
    until = django_filters.DateFilter(
        field_name="at",
        lookup_expr="date__lte",
        help_text="Up to and including this day (plant time, YYYY-MM-DD).",
    )

    class Meta:
        model = AuditEntry
        fields = ["model", "object", "actor", "action", "since", "until"]

    def model_filter(self, queryset, name, value):
        return queryset.filter(object_type=value.strip().lower())
