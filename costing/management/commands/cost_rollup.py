"""Roll up the standard costs of a cost version (the current one unless named)."""

from django.core.management.base import BaseCommand, CommandError

from costing.models import CostVersion
from costing.services.rollup import standard_cost_rollup_run


class Command(BaseCommand):
    help = "Roll up every item's standard cost in a cost version and store it; safe to re-run."

    def add_arguments(self, parser):
        parser.add_argument(
            "--cost-version", dest="code", help="Cost version code (default: current)."
        )

    def handle(self, *args, code=None, **options):
        qs = CostVersion.objects.all()
        version = qs.filter(code=code).first() if code else qs.filter(is_current=True).first()
        if version is None:
            raise CommandError(
                f"No cost version {code!r}." if code else "No current cost version; name one."
            )
        run = standard_cost_rollup_run(version=version)
        self.stdout.write(
            f"{version.code}: {run.items_costed} items costed, {run.items_incomplete} incomplete"
        )
        for problem in run.problems_shown:
            self.stdout.write(f"  {problem}")  # in the active language
