from django.apps import AppConfig
from django.utils.translation import gettext_lazy
from django.utils.translation import gettext_noop as _


class PlanningConfig(AppConfig):
    name = "planning"
    verbose_name = gettext_lazy("Planning")

    def ready(self) -> None:
        # Imported here: the role helpers load auth's models, which need the app registry.
        from core.navigation import nav_register
        from core.roles import MANAGING_ROLES, OFFICE_ROLES, Role

        nav_register(
            label=_("Orders"), url_name="planning:order_list", roles=OFFICE_ROLES, position=10
        )
        nav_register(
            label=_("Sales"),
            url_name="planning:sales_orders",
            roles=(Role.PLANNER, Role.PLANT_MANAGER, Role.SUPPLY_CHAIN_DIRECTOR),
            position=20,
        )
        for label, url_name, position in (
            (_("Capacity"), "planning:capacity", 30),
            (_("Gantt"), "planning:gantt", 40),
            (_("Schedule"), "planning:schedule", 50),
        ):
            nav_register(label=label, url_name=url_name, roles=MANAGING_ROLES, position=position)
        for label, url_name, position in (
            (_("MPS"), "planning:mps", 60),
            (_("MRP"), "planning:mrp", 70),
        ):
            nav_register(
                label=label,
                url_name=url_name,
                roles=(Role.PLANNER, Role.PLANT_MANAGER, Role.SUPPLY_CHAIN_DIRECTOR),
                position=position,
            )
        # Master-data files (items, BOMs, routings): the administrators, as in the admin site.
        nav_register(
            label=_("Import"), url_name="planning:imports", roles=(Role.ADMIN,), position=160
        )
        # Where the planner and the supply-chain director land (core/homes.py), and the plant
        # manager's planning figures.
        from core.homes import home_register, kpi_register

        from .selectors.kpi import on_time_delivery, work_in_progress

        home_register(role=Role.PLANNER, url_name="planning:home", priority=30)
        home_register(role=Role.SUPPLY_CHAIN_DIRECTOR, url_name="planning:home", priority=35)
        kpi_register(
            key="on_time_delivery",
            label=_("On-time delivery"),
            compute=on_time_delivery,
            position=10,
            url_name="planning:order_list",
        )
        kpi_register(
            key="wip",
            label=_("Work in progress"),
            compute=work_in_progress,
            position=20,
            url_name="planning:order_list",
        )
        # Predicted delays from the shop floor (execution's domain events) land on the orders.
        from .services import feedback  # noqa: F401
