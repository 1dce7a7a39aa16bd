"""The costing API routes under /api/v1/costing/ (each viewset registered on the router)."""

from rest_framework.routers import DefaultRouter

router = DefaultRouter()

urlpatterns = router.urls
