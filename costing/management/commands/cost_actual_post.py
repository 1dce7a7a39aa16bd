"""Post the actual cost of production orders that is not posted yet (all orders, or those
named); what is posted already stays as it is, so it is safe to run again."""

from django.core.management.base import BaseCommand, CommandError

from costing.services.actual import order_cost_post_missing
from planning.models import ProductionOrder


class Command(BaseCommand):
    help = "Post every material issue, labour booking and production event not yet costed."

    def add_arguments(self, parser):
        parser.add_argument(
            "--order", action="append", dest="orders", help="Order number (repeatable)."
        )

    def handle(self, *args, orders=None, **options):
        selected = None
        if orders:
            selected = list(ProductionOrder.objects.filter(number__in=orders))
            missing = sorted(set(orders) - {o.number for o in selected})
            if missing:
                raise CommandError(f"No production order {', '.join(missing)}.")
        result = order_cost_post_missing(orders=selected)
        self.stdout.write(f"{result.posted} entries posted for {len(result.orders)} orders")
        for problem in result.problems:
            self.stdout.write(f"  {problem}")  # Text: in the active language
