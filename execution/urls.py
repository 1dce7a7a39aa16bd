"""Execution's pages, mounted under /execution/ by config/urls.py."""

from django.urls import path

from .views import alerts, board, inbox, supervisor, terminal

app_name = "execution"

urlpatterns = [
    # Progress board, order drill-down and labour
    path("board/", board.board, name="board"),
    path("board/exceptions/", board.board_alerts, name="board_alerts"),
    path("board/<int:order_id>/", board.order_drill, name="order_drill"),
    path("labour/", board.labour, name="labour"),
    path("labour.csv", board.labour_csv, name="labour_csv"),
    # Operator terminal
    path("terminal/", terminal.terminal, name="terminal"),
    path("terminal/scan/", terminal.terminal_scan, name="terminal_scan"),
    path("terminal/task/<int:pk>/", terminal.terminal_task, name="terminal_task"),
    path("terminal/task/<int:pk>/material/", terminal.terminal_material, name="terminal_material"),
    # The path keeps its first name ("problem"): pages and terminals already post to it.
    path(
        "terminal/task/<int:pk>/problem/",
        terminal.terminal_alert_raise,
        name="terminal_alert_raise",
    ),
    path("terminal/task/<int:pk>/<str:action>/", terminal.terminal_action, name="terminal_action"),
    # Supervisor
    path("supervisor/", supervisor.supervisor, name="supervisor"),
    path("supervisor/tasks/", supervisor.supervisor_tasks, name="supervisor_tasks"),
    path(
        "supervisor/tasks/<int:pk>/assign/",
        supervisor.supervisor_assign,
        name="supervisor_assign",
    ),
    path(
        "supervisor/machines/<int:pk>/dispatch/",
        supervisor.supervisor_dispatch,
        name="supervisor_dispatch",
    ),
    path(
        "supervisor/approvals/<int:pk>/<str:decision>/",
        supervisor.supervisor_approval,
        name="supervisor_approval",
    ),
    path(
        "supervisor/held-events/<int:pk>/<str:decision>/",
        supervisor.supervisor_event_approval,
        name="supervisor_event_approval",
    ),
    path(
        "supervisor/labour/<int:pk>/correct/",
        supervisor.supervisor_labour_correct,
        name="supervisor_labour_correct",
    ),
    # Exceptions (WorkAlert)
    path("exceptions/raise/", alerts.alert_raise_view, name="alert_raise"),
    path("exceptions/", alerts.alert_board, name="alerts"),
    path("exceptions/<int:pk>/", alerts.alert_detail, name="alert_detail"),
    path("exceptions/<int:pk>/<str:act>/", alerts.alert_act, name="alert_act"),
    # Notifications
    path("inbox/", inbox.inbox, name="inbox"),
    path("inbox/read/", inbox.inbox_read, name="inbox_read"),
]
