"""Run a command with the system clock starting at an instant: `at_instant.py AT cmd ...`.

Used by `make test-at`: the tests pin their own clock with time-machine (CLOSEDLOOP_TEST_NOW),
and libfaketime moves the clock of every process the suite starts — the Celery worker,
gunicorn, Chromium's driver — to the same instant, so nothing in the run sees the wall clock.
Without Debian's faketime the command runs as is (the tests' own clock is still pinned).
"""

import os
import shutil
import sys
from datetime import UTC, datetime


def main(argv: list[str]) -> None:
    if len(argv) < 3:
        sys.exit("usage: at_instant.py <ISO instant with offset> <command> [args...]")
    raw, command = argv[1], argv[2:]
    try:
        instant = datetime.fromisoformat(raw)
    except ValueError:
        sys.exit(f"at_instant.py: {raw!r} is not an ISO instant")
    if instant.tzinfo is None:
        sys.exit(f"at_instant.py: {raw!r} needs an offset, e.g. +08:00")
    faketime = shutil.which("faketime")
    if faketime is None:
        print("faketime is not installed: only the tests' own clock is pinned", file=sys.stderr)
        os.execvp(command[0], command)
    utc = instant.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")
    # '@' starts the clock at the instant and lets it run; TZ=UTC makes faketime read it as UTC
    # (Django sets the process's zone from TIME_ZONE itself).
    os.environ["TZ"] = "UTC"
    os.execv(faketime, [faketime, "-f", f"@{utc}", *command])


if __name__ == "__main__":
    main(sys.argv)
