"""One FilterSet per listed model of integration, shared by the API and the admin."""

import django_filters

from .models import Delivery, Subscription


class SubscriptionFilterSet(django_filters.FilterSet):
    class Meta:
        model = Subscription
        fields = ["kind", "active"]


class DeliveryFilterSet(django_filters.FilterSet):
    class Meta:
        model = Delivery
        fields = ["subscription", "status", "event_type", "event_id"]
