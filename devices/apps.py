from django.apps import AppConfig


class DevicesConfig(AppConfig):
    name = "devices"

    def ready(self) -> None:
        # The top bar's OEE board entry. Imported here: the role helpers load auth's models,
        # which need the app registry.
        from core.navigation import nav_register
        from core.roles import Role

        nav_register(
            label="OEE",
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
