from rest_framework.routers import DefaultRouter

from . import views

router = DefaultRouter()
router.register("boms", views.BomViewSet)
router.register("routings", views.RoutingViewSet)

urlpatterns = router.urls
