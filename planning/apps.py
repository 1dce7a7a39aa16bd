from django.apps import AppConfig


class PlanningConfig(AppConfig):
    name = "planning"

    def ready(self) -> None:
        # Predicted delays from the shop floor (execution's domain events) land on the orders.
        from .services import feedback  # noqa: F401
