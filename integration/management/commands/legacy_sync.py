"""`manage.py legacy_sync [--source NAME]`: run the legacy sources now (docs/integration.md,
"Legacy sync"), each active one, or the one named, whether due or not. Prints one line per
run; exits 1 when a run failed."""

from django.core.management.base import BaseCommand, CommandError

from ...models import LegacySource, LegacySyncRun
from ...services.legacy_sync import legacy_source_run


class Command(BaseCommand):
    help = "Run legacy sync now: every active source, or the one named."

    def add_arguments(self, parser):
        parser.add_argument("--source", help="The source's name (paused ones too)")

    def handle(self, *args, source: str | None = None, **options):
        if source:
            sources = list(LegacySource.objects.filter(name=source))
            if not sources:
                known = ", ".join(LegacySource.objects.values_list("name", flat=True)) or "none"
                raise CommandError(f"No legacy source {source!r} (known: {known}).", returncode=2)
        else:
            sources = list(LegacySource.objects.filter(active=True))
        failed = 0
        for item in sources:
            run = legacy_source_run(source=item, trigger=LegacySyncRun.Trigger.COMMAND)
            line = (
                f"{item.name}: {run.status}; {run.rows_read} read, {run.rows_accepted} taken, "
                f"{run.rows_rejected} rejected"
            )
            if item.kind == LegacySource.Kind.CSV_FOLDER:
                line += f"; {run.files_read} file(s) read, {run.files_skipped} seen before"
            else:
                line += f"; watermark {run.watermark_to or run.watermark_from or '(none)'}"
            self.stdout.write(line)
            for rejected in run.rejected_rows.all():
                where = f" [{rejected.field}]" if rejected.field else ""
                self.stdout.write(f"  {rejected.row_ref}{where}: {rejected.reason}")
            if run.status == LegacySyncRun.Status.FAILED:
                failed += 1
                self.stderr.write(f"  {run.error}")
        if failed:
            raise CommandError(f"{failed} run(s) failed.", returncode=1)
