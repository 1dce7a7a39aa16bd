"""Run a morning of casting on the demo's first order and post its cost (costing/demo.py)."""

from django.core.management.base import BaseCommand
from django.db import transaction

from costing.demo import floor_run


class Command(BaseCommand):
    help = "Cast the first blocks of MO-2026-00001 on the demo floor and post their cost."

    def handle(self, *args, **options):
        with transaction.atomic():
            self.stdout.write(floor_run())
