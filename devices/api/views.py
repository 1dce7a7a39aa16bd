"""The devices API: the device map (endpoints and the whole map), downtime reasons, and per
equipment (named by its code) its state intervals, telemetry and counted totals.

Writes of the map go through devices.services.devicemap, the same service as `devices_load`:
a bad entry answers 400 naming its path (`equipment.CNC-02.part_count.address` for one
endpoint, `endpoints[1].equipment.CNC-02.part_count.address` for a whole map) and nothing is
written.
"""

from django.http import QueryDict
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext, gettext_lazy, gettext_noop
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api import error_body, summarize
from resources.models import Equipment

from ..engines.devicemap import DeviceMapError
from ..filtersets import (
    DowntimeReasonFilterSet,
    EndpointFilterSet,
    StateIntervalFilterSet,
    TelemetryFilterSet,
)
from ..models import DowntimeReason, Endpoint
from ..selectors.machine_data import equipment_counts, equipment_intervals, equipment_telemetry
from ..services.devicemap import (
    device_map_export,
    device_map_load,
    endpoint_delete,
    endpoint_export,
    endpoint_save,
)
from . import serializers

NOT_AN_OBJECT = gettext_noop(
    "The body is %(what)s in the device map file's format (a JSON object)."
)


def map_errors_response(exc: DeviceMapError) -> Response:
    """400 with one entry per bad entry of the map: `field` (the project's error body) and
    `path` (the device map's own word for it) both name it."""
    entries = [
        {"field": path, "path": path, "code": "invalid", "message": message}
        for path, message in exc.errors
    ]
    return Response(error_body(summarize([], entries), entries), status=status.HTTP_400_BAD_REQUEST)


def _body(request, what: str):
    data = request.data
    if isinstance(data, QueryDict):
        data = data.dict()
    if not isinstance(data, dict):
        raise ValidationError(gettext(NOT_AN_OBJECT) % {"what": what})
    return data


@extend_schema(
    description=gettext_lazy(
        "Endpoints of the device map, each with its machines and signals (read and "
        "written in the file's format). PATCH replaces the keys it gives (a given "
        "`equipment` replaces them all)."
    )
)
class EndpointViewSet(viewsets.ModelViewSet):
    policy_resource = "devices.endpoint"
    queryset = Endpoint.objects.prefetch_related("links__equipment", "links__signals")
    serializer_class = serializers.EndpointSerializer
    filterset_class = EndpointFilterSet

    def _save(self, request, endpoint: Endpoint | None, *, partial: bool = False):
        try:
            data = _body(request, gettext("an endpoint"))
            if partial and endpoint is not None:
                data = {**endpoint_export(endpoint), **data}
            saved = endpoint_save(data=data, endpoint=endpoint, by=request.user)
        except DeviceMapError as exc:
            return map_errors_response(exc)
        saved = self.get_queryset().get(pk=saved.pk)
        return Response(
            self.get_serializer(saved).data,
            status=status.HTTP_200_OK if endpoint else status.HTTP_201_CREATED,
        )

    @extend_schema(request=serializers.EndpointInputSerializer)
    def create(self, request, *args, **kwargs):
        return self._save(request, None)

    @extend_schema(request=serializers.EndpointInputSerializer)
    def update(self, request, *args, **kwargs):
        return self._save(request, self.get_object(), partial=kwargs.get("partial", False))

    @extend_schema(request=serializers.EndpointInputSerializer)
    def partial_update(self, request, *args, **kwargs):
        return self._save(request, self.get_object(), partial=True)

    def destroy(self, request, *args, **kwargs):
        endpoint_delete(endpoint=self.get_object(), by=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


@extend_schema(
    description=gettext_lazy(
        "The whole device map: GET exports it in the file's format, POST loads one (as "
        "`devices_load` does: atomic, idempotent, only what differs is written)."
    )
)
class DeviceMapView(APIView):
    policy_resource = "devices.endpoint"
    policy_actions = {"POST": "load"}

    @extend_schema(responses=serializers.DeviceMapSerializer)
    def get(self, request):
        return Response(device_map_export())

    @extend_schema(
        request=serializers.DeviceMapSerializer, responses=serializers.LoadSummarySerializer
    )
    def post(self, request):
        try:
            summary = device_map_load(data=_body(request, gettext("a device map")), by=request.user)
        except DeviceMapError as exc:
            return map_errors_response(exc)
        return Response(summary.as_dict())


class DowntimeReasonViewSet(viewsets.ModelViewSet):
    policy_resource = "devices.downtimereason"
    queryset = DowntimeReason.objects.all()
    serializer_class = serializers.DowntimeReasonSerializer
    filterset_class = DowntimeReasonFilterSet


# The window of a machine's rows (devices/filtersets.py): those overlapping it.
WINDOW = [
    OpenApiParameter(
        "from", OpenApiTypes.DATETIME, description=gettext_lazy("ISO 8601 with offset")
    ),
    OpenApiParameter("to", OpenApiTypes.DATETIME, description=gettext_lazy("ISO 8601 with offset")),
]


class EquipmentByCodeMixin:
    """A machine named by its code in the path (/api/v1/devices/equipment/{code}/...). Each
    read of a machine's data is its own viewset on the `equipment` prefix, with its own
    resource in the policy: intervals, telemetry, counts here; OEE in devices/api/oee.py."""

    queryset = Equipment.objects.all()
    lookup_field = "code"
    lookup_value_regex = "[^/]+"

    def get_object(self) -> Equipment:
        # Not through filter_queryset: the query parameters filter the rows an action lists
        # (intervals, telemetry), not the machine.
        equipment = get_object_or_404(Equipment, code=self.kwargs[self.lookup_field])
        self.check_object_permissions(self.request, equipment)
        return equipment

    def rows_page(self, queryset):
        """One page of `queryset` filtered by the action's FilterSet (`filterset_class`)."""
        rows = self.filter_queryset(queryset)
        page = self.paginate_queryset(rows)
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    def filter_queryset(self, queryset):
        if queryset.model is Equipment:
            return queryset
        return super().filter_queryset(queryset)


class EquipmentIntervalsViewSet(EquipmentByCodeMixin, viewsets.GenericViewSet):
    policy_resource = "devices.stateinterval"
    serializer_class = serializers.StateIntervalSerializer
    filterset_class = StateIntervalFilterSet

    # A page of the machine's rows, not the machine: documented as the list it answers.
    @extend_schema(
        description=gettext_lazy(
            "State intervals (running, idle, stopped, fault, maintenance, disconnected) "
            "with their reasons; `from`/`to` keep those overlapping the window, oldest "
            "first."
        ),
        responses=serializers.StateIntervalSerializer(many=True),
        filters=False,
        parameters=[
            OpenApiParameter("state", str),
            OpenApiParameter("small_stop", bool),
            *WINDOW,
        ],
    )
    @action(detail=True, methods=["get"])
    def intervals(self, request, code=None):
        return self.rows_page(equipment_intervals(equipment=self.get_object()))


class EquipmentTelemetryViewSet(EquipmentByCodeMixin, viewsets.GenericViewSet):
    policy_resource = "devices.telemetry"
    serializer_class = serializers.TelemetrySerializer
    filterset_class = TelemetryFilterSet

    @extend_schema(
        description=gettext_lazy(
            "Telemetry rows (signal name from the map, value, ISO timestamp with its "
            "offset), newest first; filter by `signal`, `from`, `to`."
        ),
        responses=serializers.TelemetrySerializer(many=True),
        filters=False,
        parameters=[OpenApiParameter("signal", str), *WINDOW],
    )
    @action(detail=True, methods=["get"])
    def telemetry(self, request, code=None):
        return self.rows_page(equipment_telemetry(equipment=self.get_object()))


class EquipmentCountsViewSet(EquipmentByCodeMixin, viewsets.GenericViewSet):
    policy_resource = "devices.counter"
    serializer_class = serializers.CountsSerializer

    @extend_schema(
        description=gettext_lazy(
            "Counted totals since the map linked the machine: `total_count`, `good_count`."
        )
    )
    @action(detail=True, methods=["get"])
    def counts(self, request, code=None):
        return Response(self.get_serializer(equipment_counts(equipment=self.get_object())).data)
