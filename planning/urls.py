from django.urls import path

from . import views

app_name = "planning"

urlpatterns = [
    path("orders/", views.order_list, name="order_list"),
    path("orders/<int:pk>/", views.order_detail, name="order_detail"),
    path("orders/<int:pk>/<str:action>/", views.order_action, name="order_action"),
    path("capacity/", views.capacity, name="capacity"),
    path("capacity/check/", views.capacity_check, name="capacity_check"),
    path("gantt/", views.gantt, name="gantt"),
]
