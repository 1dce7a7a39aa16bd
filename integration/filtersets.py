"""One FilterSet per listed model of integration, shared by the API and the admin."""

import django_filters
from django.utils.translation import gettext_lazy

from .models import Delivery, LegacyRejectedRow, LegacySource, LegacySyncRun, Subscription


class SubscriptionFilterSet(django_filters.FilterSet):
    class Meta:
        model = Subscription
        fields = ["kind", "active"]


class DeliveryFilterSet(django_filters.FilterSet):
    class Meta:
        model = Delivery
        fields = ["subscription", "status", "event_type", "event_id"]


class LegacySourceFilterSet(django_filters.FilterSet):
    class Meta:
        model = LegacySource
        fields = ["kind", "target", "active"]


class LegacySyncRunFilterSet(django_filters.FilterSet):
    class Meta:
        model = LegacySyncRun
        fields = ["source", "status", "trigger"]


class LegacyRejectedRowFilterSet(django_filters.FilterSet):
    source = django_filters.ModelChoiceFilter(
        field_name="run__source",
        queryset=LegacySource.objects.all(),
        help_text=gettext_lazy("Source id."),
    )

    class Meta:
        model = LegacyRejectedRow
        fields = ["run", "source", "field", "file_name"]
