"""Devices pages under /devices/ (views/<page>.py mounted here)."""

from django.urls import path

from .views import downtime, oee

app_name = "devices"

urlpatterns: list = [
    # The OEE board and its drill-down per machine
    path("oee/", oee.oee_board, name="oee"),
    path("oee/<str:code>/", oee.oee_machine, name="oee_machine"),
    path("downtime/", downtime.downtime, name="downtime"),
    path("downtime/<int:pk>/reason/", downtime.downtime_reason, name="downtime_reason"),
]
