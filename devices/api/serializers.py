"""Shapes of the devices API. Endpoints and the map are written in the device map file's
format and checked by the map's service (devices.services.devicemap), which names bad entries
by their path; these serializers only shape the answers."""

from django.utils.translation import gettext_lazy
from drf_spectacular.utils import extend_schema_serializer
from rest_framework import serializers

from core.api import CleanModelSerializer

from ..models import DowntimeReason, EquipmentLink, StateInterval, Telemetry
from ..services.devicemap import endpoint_export


class LinkSerializer(serializers.ModelSerializer):
    equipment = serializers.CharField(source="equipment.code", read_only=True)

    class Meta:
        model = EquipmentLink
        fields = ["equipment", "unit", "connected", "last_seen_at", "since"]
        read_only_fields = fields


class EndpointSerializer(serializers.Serializer):
    """An endpoint as the device map file writes it (`equipment` with its signals), plus what
    the database adds: id, when the map last set it, and each machine's connection."""

    def to_representation(self, instance):
        return {
            "id": instance.pk,
            **endpoint_export(instance),
            "loaded_at": serializers.DateTimeField().to_representation(instance.loaded_at)
            if instance.loaded_at
            else None,
            "links": LinkSerializer(
                sorted(instance.links.all(), key=lambda lk: lk.equipment.code), many=True
            ).data,
        }


@extend_schema_serializer(
    description=gettext_lazy("An endpoint entry of the device map file (docs/devices.md).")
)
class EndpointInputSerializer(serializers.Serializer):
    name = serializers.CharField()
    protocol = serializers.ChoiceField(choices=["opcua", "modbus"])
    url = serializers.CharField(required=False)
    host = serializers.CharField(required=False)
    port = serializers.IntegerField(required=False)
    security = serializers.DictField(required=False)
    publishing_ms = serializers.IntegerField(required=False)
    poll_ms = serializers.IntegerField(required=False)
    timeout_ms = serializers.IntegerField(required=False)
    enabled = serializers.BooleanField(required=False)
    equipment = serializers.DictField(
        help_text=gettext_lazy("Equipment code → its signals (the file format).")
    )


@extend_schema_serializer(description=gettext_lazy("A whole device map file (docs/devices.md)."))
class DeviceMapSerializer(serializers.Serializer):
    endpoints = EndpointInputSerializer(many=True)


class LoadSummarySerializer(serializers.Serializer):
    endpoints = serializers.IntegerField()
    links = serializers.IntegerField()
    signals = serializers.IntegerField()
    unchanged = serializers.BooleanField()
    added = serializers.DictField(child=serializers.ListField(child=serializers.CharField()))
    changed = serializers.DictField(child=serializers.ListField(child=serializers.CharField()))
    removed = serializers.DictField(child=serializers.ListField(child=serializers.CharField()))


class DowntimeReasonSerializer(CleanModelSerializer):
    class Meta:
        model = DowntimeReason
        fields = ["id", "code", "name", "loss", "active"]


class StateIntervalSerializer(serializers.ModelSerializer):
    reason = serializers.SlugRelatedField(slug_field="code", read_only=True, allow_null=True)
    reason_name = serializers.CharField(
        source="reason.name", read_only=True, default=None, allow_null=True
    )
    reason_by = serializers.CharField(
        source="reason_by.username", read_only=True, default=None, allow_null=True
    )
    seconds = serializers.SerializerMethodField(
        help_text=gettext_lazy(
            "Length of a closed interval (a decimal string, as every number of the API); "
            "null while it is open."
        )
    )

    class Meta:
        model = StateInterval
        fields = [
            "id",
            "state",
            "start",
            "end",
            "seconds",
            "small_stop",
            "reason",
            "reason_name",
            "reason_note",
            "reason_by",
            "reason_at",
            "alert_id",
            "cleared_by_machine",
        ]
        read_only_fields = fields

    def get_seconds(self, interval) -> str | None:
        if interval.end is None:
            return None
        return f"{(interval.end - interval.start).total_seconds():.3f}"


class TelemetrySerializer(serializers.ModelSerializer):
    class Meta:
        model = Telemetry
        fields = ["signal", "value", "at"]
        read_only_fields = fields


class CountsSerializer(serializers.Serializer):
    equipment = serializers.CharField()
    endpoint = serializers.CharField(allow_null=True)
    since = serializers.DateTimeField(allow_null=True)
    total_count = serializers.IntegerField(allow_null=True)
    good_count = serializers.IntegerField(allow_null=True)
    last_read_at = serializers.DateTimeField(allow_null=True)
