from django.urls import include, path

app_name = "quality"

urlpatterns = [
    path("", include("quality.views_inspect")),
    path("", include("quality.views_trace")),
    path("", include("quality.views_reports")),
]
