"""The costing API routes under /api/v1/costing/ (each viewset registered on the router)."""

from rest_framework.routers import DefaultRouter

from . import views

router = DefaultRouter()
router.register("versions", views.CostVersionViewSet)
router.register("labour-rates", views.LabourRateViewSet)
router.register("machine-rates", views.MachineRateViewSet)
router.register("overhead-rates", views.OverheadRateViewSet)
router.register("purchase-prices", views.PurchasePriceViewSet)
router.register("rollups", views.CostRollupViewSet)
router.register("item-costs", views.ItemCostViewSet, basename="item-cost")
router.register("lot-prices", views.LotPriceViewSet)
router.register("cost-entries", views.OrderCostEntryViewSet, basename="cost-entry")
router.register("order-costs", views.OrderCostViewSet, basename="order-cost")
router.register("variances", views.VarianceViewSet, basename="variance")
router.register("training-needs", views.TrainingNeedViewSet)

urlpatterns = router.urls
