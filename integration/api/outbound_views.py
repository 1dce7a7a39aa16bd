"""Outbound events in the API, under /api/v1/integration/ (docs/integration.md, "Webhooks"):
subscriptions kept by whoever integrates, their deliveries read, dead letters replayed."""

from django.utils.translation import gettext, gettext_lazy
from drf_spectacular.utils import extend_schema
from rest_framework import status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from core.exceptions import StateConflict

from ..filtersets import DeliveryFilterSet, SubscriptionFilterSet
from ..models import Delivery, Subscription
from ..services.outbound import (
    deliveries_replay,
    subscription_create,
    subscription_delete,
    subscription_update,
)
from .outbound_serializers import DeliverySerializer, ReplaySerializer, SubscriptionSerializer


@extend_schema(
    description=gettext_lazy(
        "Subscribers of the plant's events: a webhook URL, its secret and the event types."
    )
)
class SubscriptionViewSet(viewsets.ModelViewSet):
    policy_resource = "integration.subscription"
    queryset = Subscription.objects.all()
    serializer_class = SubscriptionSerializer
    filterset_class = SubscriptionFilterSet

    def get_serializer(self, *args, **kwargs):
        if self.action in ("update", "partial_update"):
            kwargs["partial"] = True  # the secret stays unless a new one is given
        return super().get_serializer(*args, **kwargs)

    def perform_create(self, serializer):
        serializer.instance = subscription_create(by=self.request.user, **serializer.validated_data)

    def perform_update(self, serializer):
        serializer.instance = subscription_update(
            subscription=serializer.instance, by=self.request.user, **serializer.validated_data
        )

    def perform_destroy(self, instance):
        subscription_delete(subscription=instance, by=self.request.user)


@extend_schema(
    description=gettext_lazy(
        "Each event on its way to each subscriber; `?status=dead` is the dead-letter list."
    )
)
class DeliveryViewSet(viewsets.ReadOnlyModelViewSet):
    policy_resource = "integration.delivery"
    queryset = Delivery.objects.select_related("subscription").order_by("-id")
    serializer_class = DeliverySerializer
    filterset_class = DeliveryFilterSet

    @extend_schema(
        description=gettext_lazy(
            "Send a dead letter again (pending, due now, attempts counted afresh)."
        ),
        request=None,
        responses={200: ReplaySerializer},
    )
    @action(detail=True, methods=["post"])
    def replay(self, request, pk=None):
        delivery = self.get_object()
        if delivery.status != Delivery.Status.DEAD:
            raise StateConflict(
                gettext("Delivery %(event)s is %(status)s; only dead letters are replayed.")
                % {"event": delivery.event_id, "status": delivery.get_status_display().lower()}
            )
        replayed = deliveries_replay(deliveries=[delivery], by=request.user)
        return Response({"replayed": replayed}, status=status.HTTP_200_OK)
