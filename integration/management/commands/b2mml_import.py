"""`manage.py b2mml_import FILE`: apply one B2MML V0701 document (docs/b2mml.md) and print
its Acknowledge… document. A refused document prints why, with the failing element paths,
and exits 1 (nothing written); an unreadable file exits 2."""

import sys

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from ...schemas import B2mmlError
from ...services.b2mml_import import b2mml_import


class Command(BaseCommand):
    help = "Import a B2MML V0701 document (schedule, performance, equipment, material, person)."

    def add_arguments(self, parser):
        parser.add_argument("file", help="The XML document; - reads standard input")
        parser.add_argument(
            "--user",
            help="Import as this user (their permissions on the floor's tasks apply); "
            "default: the system itself",
        )

    def handle(self, *args, file: str, user: str | None = None, **options):
        by = None
        if user:
            by = get_user_model().objects.filter(username=user).first()
            if by is None:
                raise CommandError(f"No user {user!r}.", returncode=2)
        try:
            if file == "-":
                data = sys.stdin.buffer.read()
            else:
                with open(file, "rb") as handle:
                    data = handle.read()
        except OSError as exc:
            raise CommandError(f"Cannot read {file}: {exc.strerror}.", returncode=2) from None
        try:
            imported = b2mml_import(data=data, by=by)
        except B2mmlError as error:
            for path, reason in error.errors:
                self.stderr.write(f"{path}: {reason}")
            raise CommandError(error.message, returncode=1) from None
        self.stdout.write(imported.acknowledgement.decode())
