from django.urls import path
from rest_framework.routers import DefaultRouter

from . import views

router = DefaultRouter()
router.register("boms", views.BomViewSet)
router.register("routings", views.RoutingViewSet)
router.register("sales-orders", views.SalesOrderViewSet)
router.register("forecasts", views.ForecastViewSet)
router.register("mps", views.MpsEntryViewSet)
router.register("mrp-runs", views.MrpRunViewSet)
router.register("planned-orders", views.PlannedOrderViewSet)
router.register("purchase-requisitions", views.PurchaseRequisitionViewSet)
router.register("schedule-runs", views.ScheduleRunViewSet)
router.register("import-jobs", views.ImportJobViewSet)
router.register("production-orders", views.ProductionOrderViewSet, basename="production-order")

urlpatterns = [
    path("capacity/load/", views.CapacityLoadView.as_view(), name="capacity-load"),
    path("capacity/check/", views.CapacityCheckView.as_view(), name="capacity-check"),
    *router.urls,
]
