"""Devices pages under /devices/ (views/<page>.py mounted here)."""

app_name = "devices"

urlpatterns: list = []
