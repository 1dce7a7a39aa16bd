"""Load the demo plant: every installed app's `demo.load()`, in dependency order.

Apps are found by module name (like admin autodiscovery), so core imports no domain app.
Idempotent: running it twice creates nothing twice.

The plant's data (names of items, machines and operations, notes and reasons) is written in
one language, `--language` or settings.DEMO_LANGUAGE: each app's demo marks its texts with the
context "demo plant" and they are read from the catalogues while the load runs in that
language. Codes (EB-500, CNC-01, MO-2026-00001) are the same in every language.
"""

from importlib import import_module
from importlib.util import find_spec

from django.apps import apps
from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import translation


class Command(BaseCommand):
    help = "Load (or refresh) the demo plant and the demo users; safe to run again."

    def add_arguments(self, parser):
        parser.add_argument("--quiet-logins", action="store_true", help="Do not print logins.")
        parser.add_argument(
            "--history",
            action="store_true",
            help="Also play the floor's recent shifts (each app's demo `history_load`, e.g. "
            "costed housing orders), as `make run` does; the plain plant has no history.",
        )
        parser.add_argument(
            "--language",
            choices=[code for code, _ in settings.LANGUAGES],
            default=settings.DEMO_LANGUAGE,
            help="The language of the plant's names and notes (default: DEMO_LANGUAGE, "
            f"now {settings.DEMO_LANGUAGE}). Loading again in another renames what the "
            "demo keys on a code (items, machines, work centers, operations, defect codes).",
        )

    def handle(self, *args, quiet_logins=False, history=False, language=None, **options):
        logins: list[tuple[str, str, str]] = []
        language = language or settings.DEMO_LANGUAGE
        with transaction.atomic(), translation.override(language):
            for config in apps.get_app_configs():
                module_name = f"{config.name}.demo"
                if find_spec(module_name) is None:
                    continue
                module = import_module(module_name)
                summary = module.load(logins=logins)
                self.stdout.write(f"{config.name}: {summary}")
            for config in apps.get_app_configs() if history else ():
                module_name = f"{config.name}.demo"
                if find_spec(module_name) is None:
                    continue
                module = import_module(module_name)
                if hasattr(module, "history_load"):
                    self.stdout.write(f"{config.name}: {module.history_load()}")
        if logins and not quiet_logins:
            self.stdout.write("\nDemo logins (user / password — role):")
            for username, password, role in logins:
                self.stdout.write(f"  {username:<12} / {password:<12} — {role}")
