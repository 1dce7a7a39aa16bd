"""Execution's API routes, mounted under /api/v1/execution/ by config/api_urls.py."""

from django.urls import path
from rest_framework.routers import DefaultRouter

from . import views

router = DefaultRouter()
router.register("tasks", views.TaskViewSet, basename="task")
router.register("events", views.ProductionEventViewSet, basename="event")
router.register("dispatch-decisions", views.DispatchDecisionViewSet)
router.register("requirements", views.RequirementViewSet)
router.register("issues", views.IssueViewSet)
router.register("approvals", views.ApprovalViewSet)
router.register("event-approvals", views.EventApprovalViewSet, basename="event-approval")
router.register("labour-bookings", views.LabourBookingViewSet, basename="labour-booking")
router.register("shortages", views.ShortageViewSet)
router.register("exceptions", views.WorkAlertViewSet, basename="alert")

urlpatterns = [
    path("progress/", views.ProgressView.as_view(), name="execution-progress"),
    path("board/", views.BoardView.as_view(), name="execution-board"),
    path(
        "progress/rollup/",
        views.ProgressRollupView.as_view(),
        name="execution-progress-rollup",
    ),
    path("dispatch/", views.DispatchView.as_view(), name="execution-dispatch"),
    path("receipts/", views.ReceiptView.as_view(), name="execution-receipt"),
    *router.urls,
]
