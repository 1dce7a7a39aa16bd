"""Restore a backup made by `manage.py backup` into the configured database."""

from django.core.management.base import BaseCommand, CommandError
from django.db import connections

from core.backup import (
    BackupError,
    backup_check_vendor,
    backup_migration_notes,
    backup_read,
    backup_restore,
    mismatches_text,
)


class Command(BaseCommand):
    help = (
        "Restore a backup (the file or its .manifest.json) into the configured database, "
        "replacing what it holds. The checksum is verified first; afterwards every table's "
        "row count is compared with the manifest. Stop web, worker and beat first."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help="The backup file or its manifest.")
        parser.add_argument(
            "--yes",
            "--noinput",
            "--no-input",
            action="store_true",
            dest="yes",
            help="Do not ask for confirmation.",
        )
        parser.add_argument("--database", default="default", help="Database alias.")

    def handle(self, *args, file, yes=False, database="default", **options):
        try:
            dump, manifest = backup_read(file)
            backup_check_vendor(manifest=manifest, alias=database)
        except BackupError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(f"Checksum verified: {dump} ({manifest['size']:,} bytes)")
        for note in backup_migration_notes(manifest):
            self.stdout.write(self.style.WARNING(note))

        target = connections[database].settings_dict
        where = f" on {target['HOST']}" if target.get("HOST") else ""
        rows = sum(manifest["tables"].values())
        if not yes:
            question = (
                f"Restore the backup of {manifest.get('created_at', '?')} "
                f"({len(manifest['tables'])} tables, {rows:,} rows) into the {manifest['vendor']} "
                f"database {target['NAME']}{where}?\nEverything it holds now is replaced. "
                "Web, worker and beat should be stopped. Type 'yes' to continue: "
            )
            try:
                answer = input(question)
            except EOFError:
                answer = ""
            if answer.strip().lower() != "yes":
                raise CommandError("Restore cancelled; nothing was changed.")

        try:
            result = backup_restore(dump=dump, manifest=manifest, alias=database)
        except BackupError as exc:
            raise CommandError(str(exc)) from None
        phases = ", ".join(f"{name} {seconds:.2f} s" for name, seconds in result.phases.items())
        self.stdout.write(
            f"Restored {dump.name} into {target['NAME']} in {result.seconds:.2f} s ({phases})."
        )
        if result.extra_tables:
            self.stdout.write(
                self.style.WARNING(
                    "Tables the backup does not have were left as they are: "
                    + ", ".join(result.extra_tables)
                )
            )
        if result.mismatches:
            raise CommandError(
                "Row counts differ from the manifest after the restore:\n"
                + mismatches_text(result.mismatches)
            )
        self.stdout.write(
            self.style.SUCCESS(
                f"Row counts match the manifest: {len(manifest['tables'])} tables, "
                f"{result.rows:,} rows."
            )
        )
