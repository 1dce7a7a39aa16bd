from django.urls import path
from rest_framework.routers import DefaultRouter

from .. import api_progress
from ..api_alerts import WorkAlertViewSet
from . import views

router = DefaultRouter()
router.register("tasks", views.TaskViewSet, basename="task")
router.register("events", views.ProductionEventViewSet, basename="event")
router.register("dispatch-decisions", views.DispatchDecisionViewSet)
router.register("requirements", views.RequirementViewSet)
router.register("issues", views.IssueViewSet)
router.register("approvals", views.ApprovalViewSet)
router.register("shortages", views.ShortageViewSet)
router.register("exceptions", WorkAlertViewSet, basename="exception")

urlpatterns = [
    path("progress/", api_progress.ProgressView.as_view(), name="execution-progress"),
    path(
        "progress/rollup/",
        api_progress.ProgressRollupView.as_view(),
        name="execution-progress-rollup",
    ),
    path("dispatch/", views.DispatchView.as_view(), name="execution-dispatch"),
    path("receipts/", views.ReceiptView.as_view(), name="execution-receipt"),
    *router.urls,
]
