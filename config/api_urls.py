"""All API routes under /api/v1/; each app contributes its router."""

from django.urls import include, path

from core.api_views import AuditEntryListView

# The apps under their own prefix first: a request is resolved by trying the patterns in
# order, and the two routers mounted at the root hold about a hundred patterns (with their
# format suffixes) that every production event's POST tried and missed before reaching
# execution/. No root route begins with one of these prefixes, so the order decides nothing
# else (tests/core/test_api_urls.py).
urlpatterns = [
    path("execution/", include("execution.api.urls")),
    path("quality/", include("quality.api.urls")),
    path("costing/", include("costing.api.urls")),
    path("devices/", include("devices.api.urls")),
    path("b2mml/", include("integration.api.urls")),
    path("integration/", include("integration.api.outbound_urls")),
    path("integration/", include("integration.api.legacy_urls")),
    path("audit/", AuditEntryListView.as_view(), name="audit-list"),
    path("", include("resources.api.urls")),
    path("", include("planning.api.urls")),
]
