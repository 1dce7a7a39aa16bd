from django.urls import path

from . import import_views, views

app_name = "planning"

urlpatterns = [
    path("orders/", views.order_list, name="order_list"),
    path("sales-orders/", views.sales_orders, name="sales_orders"),
    path("orders/<int:pk>/", views.order_detail, name="order_detail"),
    path("orders/<int:pk>/<str:action>/", views.order_action, name="order_action"),
    path("capacity/", views.capacity, name="capacity"),
    path("capacity/check/", views.capacity_check, name="capacity_check"),
    path("gantt/", views.gantt, name="gantt"),
    path("schedule/", views.schedule, name="schedule"),
    path("schedule/run/", views.schedule_start, name="schedule_start"),
    path("schedule/<int:pk>/progress/", views.schedule_progress, name="schedule_progress"),
    path("mps/", views.mps, name="mps"),
    path("mps/cell/", views.mps_cell, name="mps_cell"),
    path("mrp/", views.mrp, name="mrp"),
    path("mrp/run/", views.mrp_start, name="mrp_start"),
    path("mrp/<int:pk>/progress/", views.mrp_progress, name="mrp_progress"),
    path("mrp/<int:pk>/demand/<str:demand_id>/", views.mrp_demand, name="mrp_demand"),
    path("mrp/planned/<int:pk>/pegs/", views.mrp_pegs, name="mrp_pegs"),
    path("mrp/planned/<int:pk>/firm/", views.mrp_firm, name="mrp_firm"),
    path("imports/", import_views.imports, name="imports"),
    path("imports/<int:pk>/", import_views.import_job, name="import_job"),
    path(
        "imports/<int:pk>/progress/",
        import_views.import_job_progress,
        name="import_job_progress",
    ),
]
