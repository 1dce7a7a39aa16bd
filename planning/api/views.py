from rest_framework import viewsets

from ..models import Bom, Routing
from . import serializers as s


class BomViewSet(viewsets.ModelViewSet):
    """BOM headers with their lines (lines are edited in the admin or by import)."""

    queryset = Bom.objects.select_related("item").prefetch_related("lines__component")
    serializer_class = s.BomSerializer
    filterset_fields = ["item__code", "version"]


class RoutingViewSet(viewsets.ModelViewSet):
    """Routing headers with their steps (steps are edited in the admin or by import)."""

    queryset = Routing.objects.select_related("item").prefetch_related(
        "steps__work_center", "steps__eligible_equipment", "steps__required_skill"
    )
    serializer_class = s.RoutingSerializer
    filterset_fields = ["item__code", "version"]
