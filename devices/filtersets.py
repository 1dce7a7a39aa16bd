"""One FilterSet per listed model of devices, shared by the API and the pages.

`from` and `to` bound a time window (ISO 8601 instants; give the offset, e.g.
2026-12-09T08:00:00+08:00). They are Python keywords, hence added after the class body.
"""

import django_filters
from django.db.models import Q

from core.filtersets import InstantFilter

from .models import DowntimeReason, Endpoint, StateInterval, Telemetry


class EndpointFilterSet(django_filters.FilterSet):
    class Meta:
        model = Endpoint
        fields = ["protocol", "enabled"]


class DowntimeReasonFilterSet(django_filters.FilterSet):
    class Meta:
        model = DowntimeReason
        fields = ["loss", "active"]


def _window(filterset_class, *, start: str, end: str | None = None) -> None:
    """Add `from` and `to`: rows at or after `from` and before `to`; for intervals (with an
    `end`), the ones that overlap the window (an open interval runs until now)."""
    if end is None:
        since = InstantFilter(field_name=start, lookup_expr="gte")
        until = InstantFilter(field_name=start, lookup_expr="lt")
    else:

        def overlap_from(queryset, name, value):
            return queryset.filter(Q(**{f"{end}__isnull": True}) | Q(**{f"{end}__gt": value}))

        def overlap_to(queryset, name, value):
            return queryset.filter(**{f"{start}__lt": value})

        since = InstantFilter(method=overlap_from)
        until = InstantFilter(method=overlap_to)
    since.label = "from (ISO 8601 instant)"
    until.label = "to (ISO 8601 instant, exclusive)"
    filterset_class.base_filters["from"] = since
    filterset_class.base_filters["to"] = until


class StateIntervalFilterSet(django_filters.FilterSet):
    class Meta:
        model = StateInterval
        fields = ["state", "small_stop"]


class TelemetryFilterSet(django_filters.FilterSet):
    class Meta:
        model = Telemetry
        fields = ["signal"]


_window(StateIntervalFilterSet, start="start", end="end")
_window(TelemetryFilterSet, start="at")
