"""Operator terminal pages (HTMX)."""

urlpatterns: list = []
