from django.urls import include, path

app_name = "execution"

urlpatterns = [
    path("", include("execution.views_board")),
    path("", include("execution.views_terminal")),
    path("", include("execution.views_alerts")),
    path("", include("execution.views_inbox")),
]
