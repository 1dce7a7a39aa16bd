"""The libraries' apps under names a plant reads, in every language.

django-axes' app has no verbose name, so the admin shows its label ("AXES"). Its own
AppConfig is kept (its `ready()` sets up the lockout signals and checks); only the name is
given here. config/settings.py installs it as "core.library_apps.AxesConfig".
"""

from axes.apps import AppConfig as AxesAppConfig
from django.utils.translation import gettext_lazy as _


class AxesConfig(AxesAppConfig):
    verbose_name = _("Sign-in lockouts")
