"""Legacy sync in the API, under /api/v1/integration/ (docs/integration.md, "Legacy sync"):
sources kept by whoever integrates, a run asked for at once, runs and rejected rows read."""

from django.db import transaction
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import extend_schema
from rest_framework import status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from ..filtersets import LegacyRejectedRowFilterSet, LegacySourceFilterSet, LegacySyncRunFilterSet
from ..models import LegacySource, LegacySyncRun
from ..selectors.legacy import legacy_rejected_rows, legacy_runs
from ..services.legacy_sync import (
    engine_url,
    legacy_source_create,
    legacy_source_delete,
    legacy_source_update,
)
from .legacy_serializers import (
    LegacyRejectedRowSerializer,
    LegacyRunQueuedSerializer,
    LegacySourceSerializer,
    LegacySyncRunSerializer,
)


def _url_kept(given: str, stored: str) -> str:
    """A URL sent back as it was shown (password ***) keeps the stored password."""
    try:
        shown, kept = engine_url(given), engine_url(stored)
    except Exception:  # noqa: BLE001 (the service names a bad URL)
        return given
    if shown.password == "***" and kept.password:
        return shown.set(password=kept.password).render_as_string(hide_password=False)
    return given


@extend_schema(
    description=gettext_lazy(
        "Plant systems without an API, read on a schedule: a table past a watermark or "
        "a CSV drop folder, mapped to production orders or stock."
    )
)
class LegacySourceViewSet(viewsets.ModelViewSet):
    policy_resource = "integration.legacysource"
    queryset = LegacySource.objects.all()
    serializer_class = LegacySourceSerializer
    filterset_class = LegacySourceFilterSet

    def perform_create(self, serializer):
        serializer.instance = legacy_source_create(
            by=self.request.user, **serializer.validated_data
        )

    def perform_update(self, serializer):
        fields = dict(serializer.validated_data)
        if "url" in fields:
            fields["url"] = _url_kept(fields["url"], serializer.instance.url)
        serializer.instance = legacy_source_update(
            source=serializer.instance, by=self.request.user, **fields
        )

    def perform_destroy(self, instance):
        legacy_source_delete(source=instance, by=self.request.user)

    @extend_schema(
        description=gettext_lazy(
            "Run the source now (queued to a worker); its run appears under legacy-runs/."
        ),
        request=None,
        responses={202: LegacyRunQueuedSerializer},
    )
    @action(detail=True, methods=["post"])
    def run(self, request, pk=None):
        from ..tasks import legacy_sync_source

        source = self.get_object()
        user_id = request.user.pk
        transaction.on_commit(
            lambda: legacy_sync_source.delay(source.pk, LegacySyncRun.Trigger.API, user_id)
        )
        return Response({"queued": True, "source": source.pk}, status=status.HTTP_202_ACCEPTED)


@extend_schema(
    description=gettext_lazy(
        "Each run of a legacy source: rows read, taken and rejected, how it ended."
    )
)
class LegacySyncRunViewSet(viewsets.ReadOnlyModelViewSet):
    policy_resource = "integration.legacysyncrun"
    queryset = legacy_runs()
    serializer_class = LegacySyncRunSerializer
    filterset_class = LegacySyncRunFilterSet


@extend_schema(
    description=gettext_lazy("Rows a legacy source could not take, with where they were and why.")
)
class LegacyRejectedRowViewSet(viewsets.ReadOnlyModelViewSet):
    policy_resource = "integration.legacysyncrun"
    queryset = legacy_rejected_rows()
    serializer_class = LegacyRejectedRowSerializer
    filterset_class = LegacyRejectedRowFilterSet
