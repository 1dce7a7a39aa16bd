"""The B2MML routes under /api/v1/b2mml/ (docs/b2mml.md)."""

from django.urls import path

from . import views

urlpatterns = [
    path("schedule/", views.ScheduleView.as_view(), name="b2mml-schedule"),
    path("performance/", views.PerformanceView.as_view(), name="b2mml-performance"),
    path("alerts/", views.AlertsView.as_view(), name="b2mml-alerts"),
    path("equipment/", views.EquipmentView.as_view(), name="b2mml-equipment"),
    path("materials/", views.MaterialView.as_view(), name="b2mml-materials"),
    path("personnel/", views.PersonnelView.as_view(), name="b2mml-personnel"),
]
