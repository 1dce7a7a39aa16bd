"""Reads of legacy sync for the API and the admin: runs and rejected rows with their source."""

from django.db.models import QuerySet

from ..models import LegacyRejectedRow, LegacySyncRun


def legacy_runs() -> QuerySet[LegacySyncRun]:
    return LegacySyncRun.objects.select_related("source").order_by("-started_at", "-id")


def legacy_rejected_rows() -> QuerySet[LegacyRejectedRow]:
    return LegacyRejectedRow.objects.select_related("run__source").order_by("-run_id", "id")
