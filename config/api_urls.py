"""All API routes under /api/v1/; each app contributes its router."""

from django.urls import include, path

from core.api_views import AuditEntryListView

urlpatterns = [
    path("", include("resources.api.urls")),
    path("", include("planning.api.urls")),
    path("execution/", include("execution.api.urls")),
    path("quality/", include("quality.api.urls")),
    path("costing/", include("costing.api.urls")),
    path("devices/", include("devices.api.urls")),
    path("audit/", AuditEntryListView.as_view(), name="audit-list"),
]
