"""`manage.py compilemessages`: every catalogue of the project (locale/ and each app's
locale/) compiled to its .mo in plain Python (core.catalogues), so `make setup` needs no GNU
gettext. Replaces Django's command of the same name, which needs msgfmt."""

from django.conf import settings
from django.core.management.base import BaseCommand

from core.catalogues import catalogues, mo_write, stale


class Command(BaseCommand):
    help = "Compile the project's translation catalogues (.po) to .mo, without msgfmt."

    def add_arguments(self, parser):
        parser.add_argument(
            "--changed", action="store_true", help="Only catalogues newer than their .mo."
        )

    def handle(self, *args, changed=False, **options):
        found = catalogues(settings.BASE_DIR)
        done = [mo_write(po) for po in found if not changed or stale(po)]
        if options["verbosity"]:
            self.stdout.write(f"{len(done)} of {len(found)} catalogues compiled.")
