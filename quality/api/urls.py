from django.urls import include, path
from rest_framework.routers import DefaultRouter

from . import views

router = DefaultRouter()
router.register("plans", views.InspectionPlanViewSet, basename="inspection-plan")
router.register("defect-codes", views.DefectCodeViewSet)
router.register("defect-rules", views.DefectRateRuleViewSet)
router.register("inspections", views.InspectionRecordViewSet, basename="inspection")
router.register("holds", views.QualityHoldViewSet)

urlpatterns = [*router.urls, path("", include("quality.api_trace"))]
