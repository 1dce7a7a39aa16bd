from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "core"
    verbose_name = "Core"

    def ready(self):
        from django.contrib.auth.signals import user_logged_in

        from .auth import session_idle_start

        # Each session's idle limit is the signed-in person's role's (core.middleware).
        user_logged_in.connect(session_idle_start, dispatch_uid="core.session_idle_start")
