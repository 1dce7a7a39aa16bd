"""`manage.py makemessages -l zh_Hans`: Django's command, with each app's templates in the
app's own catalogue.

The templates live under templates/<app>/ (ARCHITECTURE.md), outside the app's folder, so
Django's command would put their strings in the project's locale/. Here a template under
templates/<app>/ goes to <app>/locale/ when the app has one: each app's strings (Python and
templates) are translated in one file, and engineers translating different apps never edit
the same file. The project's locale/ keeps the shared templates (layout, sign-in, errors).
The tests, benchmarks, the virtualenv and var/ are not searched."""

from pathlib import Path

from django.conf import settings
from django.core.management.commands import makemessages

SKIPPED = ["tests", "bench", "var", "docs", "static", "node_modules"]


class Command(makemessages.Command):
    def handle(self, *args, **options):
        options["ignore_patterns"] = [*options.get("ignore_patterns", []), *SKIPPED]
        return super().handle(*args, **options)

    def find_files(self, root):
        files = super().find_files(root)
        base = Path(settings.BASE_DIR).resolve()
        for translatable in files:
            path = Path(translatable.dirpath).resolve()
            try:
                parts = path.relative_to(base / "templates").parts
            except ValueError:
                continue
            if parts and (base / parts[0] / "locale").is_dir():
                translatable.locale_dir = str(base / parts[0] / "locale")
        return files
