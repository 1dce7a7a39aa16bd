"""Load the device map from a file: `manage.py devices_load FILE` (JSON, or YAML by its
extension .yaml/.yml). Every bad entry is printed as `<path>: <message>` and the command exits
non-zero with nothing written; loading the same file again changes nothing (docs/devices.md)."""

import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from devices.engines.devicemap import DeviceMapError
from devices.services.devicemap import device_map_export, device_map_load

try:  # PyYAML comes with the API schema generator (drf-spectacular); YAML is optional.
    import yaml
except ImportError:  # pragma: no cover - the venv has it
    yaml = None


def map_file_read(path: Path):
    """The decoded file: JSON, or YAML for .yaml/.yml. Raises CommandError naming the file."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise CommandError(f"{path}: cannot read the file ({exc})") from None
    if path.suffix.lower() in (".yaml", ".yml"):
        if yaml is None:
            raise CommandError(f"{path}: YAML needs PyYAML; give the map as JSON")
        try:
            return yaml.safe_load(text)
        except yaml.YAMLError as exc:
            raise CommandError(f"{path}: not valid YAML ({exc})") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise CommandError(
            f"{path}: not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})"
        ) from None


class Command(BaseCommand):
    help = "Load the device map (endpoints, machines, signals) from a JSON or YAML file."

    def add_arguments(self, parser):
        parser.add_argument("file", nargs="?", help="The device map file (.json, .yaml, .yml).")
        parser.add_argument(
            "--export",
            action="store_true",
            help="Print the map in the database as JSON instead of loading a file.",
        )

    def handle(self, *args, file=None, export=False, **options):
        if export:
            self.stdout.write(json.dumps(device_map_export(), indent=2, ensure_ascii=False))
            return
        if not file:
            raise CommandError("Name the device map file (or give --export).")
        data = map_file_read(Path(file))
        try:
            summary = device_map_load(data=data)
        except DeviceMapError as exc:
            for path, message in exc.errors:
                self.stderr.write(f"{path}: {message}")
            raise CommandError(
                f"{file}: {len(exc.errors)} bad entr{'y' if len(exc.errors) == 1 else 'ies'}; "
                "nothing was loaded"
            ) from None
        for line in summary.lines():
            self.stdout.write(line)
