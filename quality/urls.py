"""Quality's pages, mounted under /quality/ by config/urls.py."""

from django.urls import path

from .views import inspect, reports, trace

app_name = "quality"

urlpatterns = [
    # Inspection entry and holds
    path("inspect/", inspect.inspect, name="inspect"),
    path("inspect/task/<int:pk>/", inspect.inspect_task, name="inspect_task"),
    path("inspect/task/<int:pk>/record/", inspect.inspect_record, name="inspect_record"),
    path(
        "inspect/record/<int:pk>/disposition/",
        inspect.inspect_disposition,
        name="inspect_disposition",
    ),
    path("inspect/record/<int:pk>/", inspect.inspect_correct, name="inspect_correct"),
    path("holds/", inspect.holds, name="holds"),
    path("holds/<int:pk>/release/", inspect.hold_release_view, name="hold_release"),
    # Trace lookup and labels
    path("trace/", trace.trace, name="trace"),
    path("labels-printed/", trace.labels_printed, name="labels_printed"),
    path("labels/<path:code>/", trace.label, name="label"),
    path("orders/<str:number>/labels/", trace.label_sheet, name="label_sheet"),
    path("orders/<str:number>/labels/issue/", trace.label_sheet_issue, name="label_sheet_issue"),
    # Reports (the report slugs last: "orders" is not one)
    path("reports/", reports.reports, name="reports"),
    path("reports/orders/", reports.order_report_find, name="order_report_find"),
    path("reports/orders/<str:number>/", reports.order_report, name="order_report"),
    path("reports/<slug:slug>/", reports.report, name="report"),
]
