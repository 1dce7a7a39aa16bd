"""Compare the configured database's row counts with a backup's manifest (restore drills)."""

from django.core.management.base import BaseCommand, CommandError
from django.db import connections

from core.backup import (
    BackupError,
    counts_compare,
    database_counts,
    manifest_read,
    mismatches_text,
)


class Command(BaseCommand):
    help = (
        "Compare every table's row count in the configured database with a backup's manifest, "
        "e.g. after a point-in-time recovery to the manifest's created_at. Changes nothing; "
        "exits with an error when a count differs."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help="The manifest (or the backup file beside it).")
        parser.add_argument("--database", default="default", help="Database alias.")

    def handle(self, *args, file, database="default", **options):
        try:
            manifest_path, manifest = manifest_read(file)
        except BackupError as exc:
            raise CommandError(str(exc)) from None
        vendor = connections[database].vendor
        if manifest["vendor"] != vendor:
            raise CommandError(
                f"{manifest_path.name} describes a {manifest['vendor']} database; "
                f"the configured one is {vendor}."
            )
        mismatches, extra = counts_compare(
            manifest=manifest, counts=database_counts(alias=database)
        )
        name = connections[database].settings_dict["NAME"]
        if extra:
            self.stdout.write(
                self.style.WARNING("Tables the manifest does not name: " + ", ".join(extra))
            )
        if mismatches:
            raise CommandError(
                f"Row counts of {name} differ from {manifest_path.name} "
                f"({manifest.get('created_at', '?')}):\n" + mismatches_text(mismatches)
            )
        self.stdout.write(
            self.style.SUCCESS(
                f"Row counts of {name} match {manifest_path.name}: "
                f"{len(manifest['tables'])} tables, {sum(manifest['tables'].values()):,} rows."
            )
        )
