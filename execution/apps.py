from django.apps import AppConfig


class ExecutionConfig(AppConfig):
    name = "execution"
    verbose_name = "Execution (shop floor)"

    def ready(self) -> None:
        # Registers the release hook (tasks, operators, material) with planning.
        from . import tasks as celery_tasks  # noqa: F401  (the worker learns the tasks)
        from .services import tasks as task_services  # noqa: F401
        from .services.alerts import alert_lag_reasons
        from .services.progress import lag_reason_register

        lag_reason_register(alert_lag_reasons)
