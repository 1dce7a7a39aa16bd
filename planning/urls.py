"""Planning's pages, mounted under /planning/ by config/urls.py."""

from django.urls import path

from .views import capacity, home, imports, mps, mrp, orders, sales, schedule

app_name = "planning"

urlpatterns = [
    # The planner's landing page: orders at risk and the week's capacity load
    path("home/", home.planner_home, name="home"),
    # Production orders
    path("orders/", orders.order_list, name="order_list"),
    path("orders/<int:pk>/", orders.order_detail, name="order_detail"),
    path("orders/<int:pk>/<str:action>/", orders.order_action, name="order_action"),
    # Customers' orders
    path("sales-orders/", sales.sales_orders, name="sales_orders"),
    # Capacity
    path("capacity/", capacity.capacity, name="capacity"),
    path("capacity/check/", capacity.capacity_check, name="capacity_check"),
    # Finite-capacity schedule and its Gantt
    path("gantt/", schedule.gantt, name="gantt"),
    path("gantt/move/", schedule.gantt_move, name="gantt_move"),
    path("schedule/", schedule.schedule, name="schedule"),
    path("schedule/run/", schedule.schedule_start, name="schedule_start"),
    path("schedule/<int:pk>/progress/", schedule.schedule_progress, name="schedule_progress"),
    # Master production schedule
    path("mps/", mps.mps, name="mps"),
    path("mps/cell/", mps.mps_cell, name="mps_cell"),
    # MRP
    path("mrp/", mrp.mrp, name="mrp"),
    path("mrp/run/", mrp.mrp_start, name="mrp_start"),
    path("mrp/<int:pk>/progress/", mrp.mrp_progress, name="mrp_progress"),
    path("mrp/<int:pk>/demand/<str:demand_id>/", mrp.mrp_demand, name="mrp_demand"),
    path("mrp/planned/<int:pk>/pegs/", mrp.mrp_pegs, name="mrp_pegs"),
    path("mrp/planned/<int:pk>/firm/", mrp.mrp_firm, name="mrp_firm"),
    # Master-data import jobs
    path("imports/", imports.imports, name="imports"),
    path("imports/<int:pk>/", imports.import_job, name="import_job"),
    path("imports/<int:pk>/progress/", imports.import_job_progress, name="import_job_progress"),
]
