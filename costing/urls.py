"""Costing pages under /costing/ (views/<page>.py mounted here)."""

app_name = "costing"

urlpatterns: list = []
