"""The API's views of core: the audit trail, `GET /api/v1/audit/`, and the API docs page."""

from django.utils import translation
from django.utils.translation import gettext_lazy as _
from drf_spectacular.plumbing import set_query_parameters
from drf_spectacular.utils import extend_schema
from drf_spectacular.views import SpectacularSwaggerView
from rest_framework import generics, serializers
from rest_framework.permissions import BasePermission

from .audit import AUDIT_RESOURCE, audit_entries, audit_readable
from .filtersets import AuditEntryFilterSet
from .models import AuditEntry


class AuditReadable(BasePermission):
    message = _("Only administrators and the plant manager may read the audit trail.")

    def has_permission(self, request, view):
        return audit_readable(request.user)


class ChangeSerializer(serializers.Serializer):
    field = serializers.CharField()
    before = serializers.JSONField(allow_null=True)
    after = serializers.JSONField(allow_null=True)


class AuditEntrySerializer(serializers.ModelSerializer):
    actor = serializers.CharField(
        source="actor_username", help_text=_("Username of who did it; empty for the system.")
    )
    model = serializers.CharField(source="object_type")
    object = serializers.CharField(source="object_id")
    changes = ChangeSerializer(many=True, help_text=_("Before and after of each changed field."))

    class Meta:
        model = AuditEntry
        fields = [
            "id",
            "at",
            "actor",
            "origin",
            "action",
            "model",
            "object",
            "object_label",
            "changes",
            "data",
        ]
        read_only_fields = fields


@extend_schema(
    summary=_("The audit trail"),
    description=_(
        "Field-level changes (before and after, actor, time, origin) of master data, "
        "rules, stock and quality and decision records, and the services' actions, newest "
        "first. Administrators and the plant manager only (docs/audit.md)."
    ),
)
class AuditEntryListView(generics.ListAPIView):
    policy_resource = AUDIT_RESOURCE
    permission_classes = [AuditReadable]
    serializer_class = AuditEntrySerializer
    filterset_class = AuditEntryFilterSet

    def get_queryset(self):
        return audit_entries()


class ApiDocsView(SpectacularSwaggerView):
    """/api/docs/: Swagger UI (the sidecar's files, no CDN) on the schema in its reader's
    language — the page's own (core.middleware.LocaleMiddleware: the account's choice, else
    the browser's Accept-Language), named in the schema's URL (`/api/schema/?lang=zh-hans`)
    so that the schema answers in it and a cached copy of one language is never the other's.
    A `?lang=` on the docs' own URL still wins (drf-spectacular passes it on)."""

    def _get_schema_url(self, request):
        url = super()._get_schema_url(request)
        if request.GET.get("lang"):
            return url
        return set_query_parameters(url, lang=translation.get_language())
