"""Write docs/permissions.md from the permission policy (core/policy.py)."""

from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand

from core.policy import policy_markdown

DOC = Path(settings.BASE_DIR) / "docs" / "permissions.md"


class Command(BaseCommand):
    help = "Write docs/permissions.md, the permission policy as a table."

    def add_arguments(self, parser):
        parser.add_argument("--check", action="store_true", help="Fail if the file is stale.")

    def handle(self, *args, check: bool = False, **options):
        text = policy_markdown()
        if check:
            if not DOC.exists() or DOC.read_text(encoding="utf-8") != text:
                raise SystemExit(f"{DOC} is stale: run `python manage.py policy_doc`.")
            self.stdout.write(f"{DOC} is up to date.")
            return
        DOC.write_text(text, encoding="utf-8")
        self.stdout.write(f"Wrote {DOC}.")
