from django.apps import AppConfig
from django.utils.translation import gettext_noop as _


class CostingConfig(AppConfig):
    name = "costing"

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
        # Imported for its domain-event handlers: actual cost is posted from execution's
        # events by the outbox dispatcher, never inside the floor's request.
        from .services import actual  # noqa: F401
