from rest_framework.routers import DefaultRouter

from . import views

router = DefaultRouter()
router.register("sites", views.SiteViewSet)
router.register("areas", views.AreaViewSet)
router.register("work-centers", views.WorkCenterViewSet)
router.register("equipment", views.EquipmentViewSet)
router.register("items", views.ItemViewSet)
router.register("stock-locations", views.StockLocationViewSet)
router.register("material-lots", views.MaterialLotViewSet)
router.register("stock-balances", views.StockBalanceViewSet)
router.register("stock-moves", views.StockMoveViewSet)
router.register("purchase-orders", views.PurchaseOrderViewSet)
router.register("skills", views.SkillViewSet)
router.register("operators", views.OperatorViewSet)
router.register("shift-patterns", views.ShiftPatternViewSet)
router.register("shift-assignments", views.ShiftAssignmentViewSet)

urlpatterns = router.urls
