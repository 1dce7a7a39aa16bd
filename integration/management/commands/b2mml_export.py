"""`manage.py b2mml_export KIND [--order N ...] [--since ISO] [-o FILE]`: a B2MML V0701
document (docs/b2mml.md), checked against the schemas: `schedule` (released orders as
ProcessOperationsSchedule), `performance` (progress and actuals as SyncOperationsPerformance),
`alerts` (exceptions as SyncWorkAlert). Exits 1 when there is nothing to export or an
option is wrong."""

from django.core.management.base import BaseCommand, CommandError

from core.parsing import aware_instant_parse

from ...schemas import B2mmlError
from ...selectors.b2mml_export import EXPORTS, export_bytes


class Command(BaseCommand):
    help = "Export a B2MML V0701 document: schedule, performance or alerts."

    def add_arguments(self, parser):
        parser.add_argument("kind", choices=sorted(EXPORTS))
        parser.add_argument(
            "--order", action="append", default=[], help="Order number (repeatable)"
        )
        parser.add_argument("--since", help="ISO 8601 instant with its offset")
        parser.add_argument("--status", help="alerts only: open, acknowledged, resolved, verified")
        parser.add_argument("-o", "--output", help="Write to this file instead of standard output")

    def handle(self, *args, kind: str, order, since, status, output, **options):
        params: dict = {}
        if order:
            params["numbers"] = [n.strip() for raw in order for n in raw.split(",") if n.strip()]
        if since:
            try:
                params["since"] = aware_instant_parse(since)
            except ValueError as exc:
                raise CommandError(f"--since: {exc}", returncode=1) from None
        if status:
            if kind != "alerts":
                raise CommandError("--status applies to alerts only.", returncode=1)
            params["status"] = status
        try:
            data = export_bytes(kind, **params)
        except B2mmlError as error:
            raise CommandError(error.message, returncode=1) from None
        if output:
            with open(output, "wb") as handle:
                handle.write(data)
            self.stderr.write(f"Wrote {output} ({len(data)} bytes).")
        else:
            self.stdout.write(data.decode())
