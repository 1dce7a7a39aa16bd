"""The devices API routes under /api/v1/devices/ (each viewset registered on the router)."""

from rest_framework.routers import DefaultRouter

router = DefaultRouter()

urlpatterns = router.urls

# OEE (devices/api/oee.py): per machine, and the work-center and plant roll-up.
from django.urls import path  # noqa: E402

from . import oee  # noqa: E402

urlpatterns += [
    path("equipment/<str:code>/oee/", oee.EquipmentOeeView.as_view(), name="devices-equipment-oee"),
    path("oee/", oee.PlantOeeView.as_view(), name="devices-oee"),
]
