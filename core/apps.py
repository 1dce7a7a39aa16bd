from django.apps import AppConfig
from django.utils.translation import gettext_lazy
from django.utils.translation import gettext_noop as _


class CoreConfig(AppConfig):
    name = "core"
    verbose_name = gettext_lazy("Core")

    def ready(self):
        from django.contrib.auth.signals import user_logged_in

        from .admin_numbers import admin_decimals_plain
        from .auth import session_idle_start
        from .history import history_signals_connect, task_origin_connect
        from .navigation import nav_register
        from .preferences import session_language_start
        from .roles import Role

        # Each session's idle limit is the signed-in person's role's (core.middleware).
        user_logged_in.connect(session_idle_start, dispatch_uid="core.session_idle_start")
        # The person's chosen language, applied from sign-in on (core.middleware.LocaleMiddleware).
        user_logged_in.connect(session_language_start, dispatch_uid="core.session_language")
        # Field-level history: the actor's name and origin on each row, one audit entry each.
        history_signals_connect()
        # Decimals in the admin without every stored place (83, not 83.0000000000).
        admin_decimals_plain()
        task_origin_connect()
        # The audit trail's readers: administrators and the plant manager (core.audit).
        nav_register(
            label=_("Audit"), url_name="core:audit", roles=(Role.PLANT_MANAGER,), position=170
        )
        # The plant manager's home: the KPI tiles the apps declare (core.homes).
        from .homes import home_register

        nav_register(label=_("KPIs"), url_name="core:kpis", roles=(Role.PLANT_MANAGER,), position=5)
        home_register(role=Role.PLANT_MANAGER, url_name="core:kpis", priority=25)
