"""Outbound events under /api/v1/integration/ (docs/integration.md, "Webhooks")."""

from rest_framework.routers import DefaultRouter

from . import outbound_views

router = DefaultRouter()
router.register("subscriptions", outbound_views.SubscriptionViewSet, basename="subscription")
router.register("deliveries", outbound_views.DeliveryViewSet, basename="delivery")

urlpatterns = router.urls
