"""Core's pages besides the home page: the audit trail and the plant manager's KPIs."""

from django.urls import path

from . import views

app_name = "core"

urlpatterns = [
    path("audit/", views.audit, name="audit"),
    path("kpis/", views.kpis, name="kpis"),
]
