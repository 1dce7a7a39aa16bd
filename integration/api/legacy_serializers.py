"""Legacy sources, their runs and rejected rows in the API: shape and input validation only
(the service checks the URL, the query, the folder and the mapping)."""

from django.utils.translation import gettext_lazy
from rest_framework import serializers

from ..models import LegacyRejectedRow, LegacySource, LegacySyncRun
from ..services.legacy_sync import SOURCE_EDITABLE, url_masked

SOURCE_FIELDS = ["id", *SOURCE_EDITABLE, "last_run_at", "created_at", "updated_at"]


class LegacySourceSerializer(serializers.ModelSerializer):
    mapping = serializers.DictField(
        child=serializers.CharField(max_length=64),
        required=False,
        help_text=gettext_lazy(
            'Source column → our field, e.g. {"PART_NO": "item"}; a field not mapped is '
            "read from the column of its own name"
        ),
    )

    # Read-only, and empty before the first row: a plain string (its enum has no blank).
    watermark_type = serializers.CharField(
        read_only=True,
        help_text=gettext_lazy(
            "Type of the watermark: int, decimal, float, datetime, date or text; "
            "empty before the first row"
        ),
    )

    def to_representation(self, instance):
        data = super().to_representation(instance)
        data["url"] = url_masked(instance.url) if instance.url else ""
        return data

    class Meta:
        model = LegacySource
        fields = SOURCE_FIELDS
        read_only_fields = [
            "watermark",
            "watermark_type",
            "last_run_at",
            "created_at",
            "updated_at",
        ]
        extra_kwargs = {"url": {"help_text": gettext_lazy("Shown with its password as ***")}}


class LegacySyncRunSerializer(serializers.ModelSerializer):
    source_name = serializers.CharField(source="source.name", read_only=True)

    class Meta:
        model = LegacySyncRun
        fields = [
            "id",
            "source",
            "source_name",
            "trigger",
            "status",
            "started_at",
            "finished_at",
            "rows_read",
            "rows_accepted",
            "rows_rejected",
            "files_read",
            "files_skipped",
            "watermark_from",
            "watermark_to",
            "error",
        ]
        read_only_fields = fields


class LegacyRejectedRowSerializer(serializers.ModelSerializer):
    source = serializers.IntegerField(source="run.source_id", read_only=True)
    source_name = serializers.CharField(source="run.source.name", read_only=True)
    row = serializers.CharField(source="row_ref", read_only=True)

    class Meta:
        model = LegacyRejectedRow
        fields = [
            "id",
            "run",
            "source",
            "source_name",
            "row",
            "file_name",
            "line",
            "watermark",
            "field",
            "reason",
            "data",
            "created_at",
        ]
        read_only_fields = fields


class LegacyRunQueuedSerializer(serializers.Serializer):
    queued = serializers.BooleanField(read_only=True)
    source = serializers.IntegerField(read_only=True)
