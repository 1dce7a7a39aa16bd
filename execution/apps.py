from django.apps import AppConfig
from django.utils.translation import gettext_lazy
from django.utils.translation import gettext_noop as _


class ExecutionConfig(AppConfig):
    name = "execution"
    verbose_name = gettext_lazy("Execution (shop floor)")

    def ready(self) -> None:
        # Registers the release hook (tasks, operators, material) with planning. Imported
        # here, not at the top: the services import models, which need the app registry.
        from . import tasks as celery_tasks  # noqa: F401  (the worker learns the tasks)
        from .selectors.alerts import alert_lag_reasons
        from .selectors.progress import lag_reason_register
        from .services import tasks as task_services  # noqa: F401

        lag_reason_register(alert_lag_reasons)

        # The operator and machine of each operation, for planning's order page.
        from planning.selectors.floor import operation_floor_register

        from .selectors.order_floor import operations_on_floor

        operation_floor_register(operations_on_floor)

        # The permission policy's object rules for the shop floor's work.
        from core.policy import scope_register

        from .selectors.ownership import alert_rule, requirement_rule, task_rule

        scope_register("execution.task", task_rule)
        scope_register("execution.materialrequirement", requirement_rule)
        scope_register("execution.workalert", alert_rule)

        # The top bar's shop-floor entries. Imported here: the role helpers load auth's
        # models, which need the app registry.
        from core.navigation import nav_register
        from core.roles import MANAGING_ROLES, OFFICE_ROLES, QUALITY_ROLES, Role

        nav_register(
            label=_("Exceptions"),
            url_name="execution:alerts",
            roles=(*OFFICE_ROLES, *QUALITY_ROLES, Role.OPERATOR, Role.MAINTENANCE),
            position=80,
        )
        nav_register(
            label=_("Terminal"), url_name="execution:terminal", roles=(Role.OPERATOR,), position=130
        )
        nav_register(
            label=_("Supervisor"),
            url_name="execution:supervisor",
            roles=(Role.SUPERVISOR, Role.PLANNER),
            position=140,
        )
        # Where the floor's roles land (core.homes): the operator at the terminal, the
        # supervisor on the board with its open-exceptions panel; and the plant manager's
        # tile of open exceptions by severity.
        from core.homes import home_register, kpi_register

        from .selectors.alerts import open_alerts_kpi

        home_register(role=Role.OPERATOR, url_name="execution:terminal", priority=10)
        home_register(role=Role.SUPERVISOR, url_name="execution:board", priority=20)
        kpi_register(
            key="open_exceptions",
            label=_("Open exceptions"),
            compute=open_alerts_kpi,
            position=50,
            url_name="execution:alerts",
        )
        nav_register(
            label=_("Board"),
            url_name="execution:board",
            roles=(*MANAGING_ROLES, Role.QUALITY_SUPERVISOR, Role.INSPECTOR),
            position=150,
        )
