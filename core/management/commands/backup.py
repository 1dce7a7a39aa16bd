"""Back up the database: a timestamped file plus its manifest (see core/backup.py)."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from core.backup import BackupError, backup_create, backup_dir


class Command(BaseCommand):
    help = (
        "Back up the configured database into BACKUP_DIR (default VAR_DIR/backups): "
        "pg_dump -Fc on PostgreSQL, SQLite's online backup API on SQLite, plus a manifest "
        "with the checksum, migration state and row counts. Safe while the plant is running."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--output-dir", type=Path, help="Directory for the backup (default: BACKUP_DIR)."
        )
        parser.add_argument("--database", default="default", help="Database alias.")

    def handle(self, *args, output_dir=None, database="default", **options):
        try:
            result = backup_create(alias=database, directory=output_dir or backup_dir())
        except BackupError as exc:
            raise CommandError(str(exc)) from None
        if options["verbosity"] < 1:  # cron: silent unless it fails
            return
        manifest = result.manifest
        phases = ", ".join(f"{name} {seconds:.2f} s" for name, seconds in result.phases.items())
        self.stdout.write(
            f"Backup written: {result.path}\n"
            f"  manifest {result.manifest_path.name}\n"
            f"  {manifest['vendor']} database {manifest['database']}, "
            f"{manifest['size']:,} bytes, sha256 {manifest['sha256']}\n"
            f"  {len(manifest['tables'])} tables, {sum(manifest['tables'].values()):,} rows, "
            f"in {result.seconds:.2f} s ({phases})"
        )
