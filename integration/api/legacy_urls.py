"""Legacy sync under /api/v1/integration/ (docs/integration.md, "Legacy sync")."""

from rest_framework.routers import SimpleRouter

from . import legacy_views

router = SimpleRouter()
router.register("legacy-sources", legacy_views.LegacySourceViewSet, basename="legacy-source")
router.register("legacy-runs", legacy_views.LegacySyncRunViewSet, basename="legacy-run")
router.register(
    "legacy-rejected-rows", legacy_views.LegacyRejectedRowViewSet, basename="legacy-rejected-row"
)

urlpatterns = router.urls
