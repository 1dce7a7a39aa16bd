"""Quality's API routes, mounted under /api/v1/quality/ by config/api_urls.py."""

from django.urls import path
from rest_framework.routers import DefaultRouter

from . import views

router = DefaultRouter()
router.register("plans", views.InspectionPlanViewSet, basename="inspection-plan")
router.register("defect-codes", views.DefectCodeViewSet)
router.register("defect-rules", views.DefectRateRuleViewSet)
router.register("inspections", views.InspectionRecordViewSet, basename="inspection")
router.register("holds", views.QualityHoldViewSet)

urlpatterns = [
    *router.urls,
    path("trace/<path:code>/", views.TraceView.as_view(), name="quality-trace"),
    path("where-used/<path:lot_code>/", views.WhereUsedView.as_view(), name="quality-where-used"),
    path("trace-codes/", views.TraceCodeView.as_view(), name="quality-trace-codes"),
    path("reports/pareto/", views.ParetoView.as_view(), name="quality-report-pareto"),
    path("reports/fpy/", views.YieldView.as_view(), name="quality-report-fpy"),
    path("reports/trend/", views.TrendView.as_view(), name="quality-report-trend"),
    path(
        "reports/orders/<str:number>/",
        views.OrderQualityView.as_view(),
        name="quality-report-order",
    ),
]
