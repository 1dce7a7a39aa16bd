"""The devices API routes under /api/v1/devices/ (each viewset registered on the router)."""

from django.urls import path
from rest_framework.routers import DefaultRouter

from . import oee, views

router = DefaultRouter()
router.register("endpoints", views.EndpointViewSet, basename="device-endpoint")
router.register("downtime-reasons", views.DowntimeReasonViewSet, basename="downtime-reason")
# Per equipment, by code: each read its own viewset (and policy resource) on one prefix.
router.register("equipment", views.EquipmentIntervalsViewSet, basename="device-intervals")
router.register("equipment", views.EquipmentTelemetryViewSet, basename="device-telemetry")
router.register("equipment", views.EquipmentCountsViewSet, basename="device-counts")

urlpatterns = [
    path("map/", views.DeviceMapView.as_view(), name="device-map"),
    # OEE (devices/api/oee.py): per machine, and the work-center and plant roll-up.
    path("equipment/<str:code>/oee/", oee.EquipmentOeeView.as_view(), name="devices-equipment-oee"),
    path("oee/", oee.PlantOeeView.as_view(), name="devices-oee"),
    *router.urls,
]
