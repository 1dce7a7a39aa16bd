from django.apps import AppConfig
from django.utils.translation import gettext_lazy
from django.utils.translation import gettext_noop as _


class CostingConfig(AppConfig):
    name = "costing"
    verbose_name = gettext_lazy("Costing")

    def ready(self) -> None:
        # The top bar's entry: the costing pages (versions, cost sheets, comparisons; their
        # own tabs lead from one to the other), for whoever answers for cost. The pages ask
        # the policy's costing.* entries, so no one else is shown a link that answers 403.
        from core.navigation import nav_register
        from core.roles import Role

        nav_register(
            label=_("Costs"),
            url_name="costing:versions",
            roles=(Role.COST_ACCOUNTANT, Role.PLANNER, Role.PLANT_MANAGER),
            position=157,
        )
        # The cost accountant lands on the variances; the plant manager's cost figure.
        from core.homes import home_register, kpi_register

        from .selectors.kpi import cost_variance_of_month

        home_register(role=Role.COST_ACCOUNTANT, url_name="costing:variances", priority=40)
        kpi_register(
            key="cost_variance",
            label=_("Cost variance this month"),
            compute=cost_variance_of_month,
            position=60,
            url_name="costing:variances",
        )
        # Imported for its domain-event handlers: actual cost is posted from execution's
        # events by the outbox dispatcher, never inside the floor's request.
        from .services import actual  # noqa: F401
