"""Run the hourly progress roll-up now (beat runs it on the hour; the API has
POST /api/v1/execution/progress/rollup/). Safe to repeat: the hour's snapshots are rewritten,
and delays already announced are not announced again."""

from django.core.management.base import BaseCommand, CommandError

from core.parsing import aware_instant_parse
from execution.services.progress import progress_rollup_run


class Command(BaseCommand):
    help = "Store plan vs actual of every open order now and announce predicted delays."

    def add_arguments(self, parser):
        parser.add_argument(
            "--at", help="Roll up as of this instant (ISO 8601 with its offset); default now."
        )

    def handle(self, *args, at=None, **options):
        now = None
        if at:
            try:
                now = aware_instant_parse(at)
            except ValueError as exc:
                raise CommandError(f"--at: {exc}") from None
        result = progress_rollup_run(now=now)
        self.stdout.write(
            f"progress roll-up {result['taken_at']}: {result['orders']} orders, "
            f"{result['created']} snapshots new, {result['updated']} rewritten, "
            f"{result['delays_announced']} delays announced, "
            f"{result['delays_cleared']} cleared"
        )
