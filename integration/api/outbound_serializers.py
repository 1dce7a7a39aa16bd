"""Subscriptions and deliveries in the API: shape and input validation only (the service
checks the URL, the event types and the secret)."""

from urllib.parse import urlsplit, urlunsplit

from django.utils.functional import lazy
from django.utils.translation import gettext, gettext_lazy
from rest_framework import serializers

from ..engines.outbound import EVENT_TYPES
from ..models import Delivery, Subscription


def url_masked(url: str) -> str:
    """A broker URL's password is a credential: shown as ***, never read back."""
    try:
        parts = urlsplit(url)
        if parts.password is None:
            return url
    except ValueError:
        return url
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    return urlunsplit(parts._replace(netloc=f"{parts.username or ''}:***@{host}"))


def _topics_help() -> str:
    return gettext("Event types, wildcards allowed: %(types)s") % {"types": ", ".join(EVENT_TYPES)}


class SubscriptionSerializer(serializers.ModelSerializer):
    secret = serializers.CharField(
        write_only=True,
        min_length=16,
        max_length=200,
        help_text=gettext_lazy("Signs every delivery (HMAC-SHA256); write-only, never shown again"),
    )
    topics = serializers.ListField(
        child=serializers.CharField(max_length=60),
        allow_empty=False,
        help_text=lazy(_topics_help, str)(),
    )

    def to_representation(self, instance):
        data = super().to_representation(instance)
        data["url"] = url_masked(instance.url)
        return data

    class Meta:
        model = Subscription
        fields = [
            "id",
            "name",
            "kind",
            "url",
            "secret",
            "topics",
            "active",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["created_at", "updated_at"]


class DeliverySerializer(serializers.ModelSerializer):
    subscription_name = serializers.CharField(source="subscription.name", read_only=True)

    class Meta:
        model = Delivery
        fields = [
            "id",
            "subscription",
            "subscription_name",
            "event_id",
            "event_type",
            "status",
            "attempts",
            "next_attempt_at",
            "response_code",
            "last_error",
            "created_at",
            "sent_at",
            "dead_at",
        ]
        read_only_fields = fields


class ReplaySerializer(serializers.Serializer):
    replayed = serializers.IntegerField(read_only=True)
