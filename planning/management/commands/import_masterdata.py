"""manage.py import_masterdata FILE [FILE ...] [--kind items|boms|routings] [--dry-run]"""

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext, ngettext

from planning.services.imports import KINDS, masterdata_import_many


class Command(BaseCommand):
    help = (
        "Import items, BOMs and routings from CSV or XLSX files (items first, then BOMs, then "
        "routings), all in one transaction: nothing is written if any row is bad."
    )

    def add_arguments(self, parser):
        parser.add_argument("files", nargs="+", metavar="FILE", help="CSV or XLSX files.")
        parser.add_argument(
            "--kind", choices=sorted(KINDS), help="Kind of every file (default: from its header)."
        )
        parser.add_argument(
            "--dry-run", action="store_true", help="Check and report, but write nothing."
        )

    def handle(self, *args, files, kind=None, dry_run=False, **options):
        report = masterdata_import_many(files=files, kind=kind, dry_run=dry_run)
        if report.errors:
            for error in report.errors:
                self.stderr.write(str(error))
            count = len(report.errors)
            raise CommandError(
                ngettext(
                    "%(count)d error; nothing was imported.",
                    "%(count)d errors; nothing was imported.",
                    count,
                )
                % {"count": count}
            )
        for part in report.parts:
            self.stdout.write(part.summary())
        if dry_run:
            self.stdout.write(gettext("Dry run: nothing was written."))
        else:
            self.stdout.write(self.style.SUCCESS(gettext("Imported.")))
