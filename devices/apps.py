from django.apps import AppConfig
from django.utils.translation import gettext_lazy
from django.utils.translation import gettext_noop as _


class DevicesConfig(AppConfig):
    name = "devices"
    verbose_name = gettext_lazy("Devices (machine data)")

    def ready(self) -> None:
        # The top bar's entries (the OEE board; the downtime page, where the terminal's
        # operators give a stop its reason: execution may not import devices) and the
        # permission policy's object rule for downtime reasons. Imported here: the role helpers
        # and services load models, which need the app registry.
        from core.navigation import nav_register
        from core.policy import scope_register
        from core.roles import Role

        from .services.downtime import downtime_rule

        nav_register(
            label=_("OEE"),
            url_name="devices:oee",
            roles=(
                Role.SUPERVISOR,
                Role.PLANNER,
                Role.PLANT_MANAGER,
                Role.MAINTENANCE,
                Role.QUALITY_SUPERVISOR,
            ),
            position=155,
        )
        scope_register("devices.downtime", downtime_rule)
        # Maintenance lands on the OEE board; the plant manager's KPI page shows the plant's
        # OEE of the last 7 days (core.homes).
        from core.homes import home_register, kpi_register

        from .selectors.oee import plant_oee_kpi

        home_register(role=Role.MAINTENANCE, url_name="devices:oee", priority=60)
        kpi_register(
            key="oee",
            label=_("OEE (plant, last 7 days)"),
            compute=plant_oee_kpi,
            position=30,
            url_name="devices:oee",
        )
        nav_register(
            label=_("Downtime"),
            url_name="devices:downtime",
            roles=(Role.OPERATOR, Role.SUPERVISOR),
            position=135,
        )
