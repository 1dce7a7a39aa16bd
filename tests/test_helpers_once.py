"""Helpers several apps need are written once (ARCHITECTURE.md, "Inside an app"): a search
for the body of each finds one definition. A second copy fails here, naming the file, so it
is called instead of written again."""

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
APPS = (
    "core",
    "resources",
    "planning",
    "execution",
    "quality",
    "costing",
    "devices",
    "integration",
    "config",
)

# (what, the pattern of its body, the one file allowed to hold it)
HELPERS = [
    ("quantity formatting", r"\.normalize\(\)", "core/formatting.py"),
    ("a float with no trailing zeros", r"\.rstrip\(\"0\"\)", "core/formatting.py"),
    ("parsing instants from outside", r"\bparse_datetime\(", "core/parsing.py"),
    ("pausing the garbage collector", r"\bgc\.disable\(\)", "core/gc_pause.py"),
    (
        "merging intervals",
        r"def intervals_merge\b|\[-1\]\[1\] = |\[-1\] = \(",
        "resources/engines/calendar.py",
    ),
    (
        "a shift's start and end",
        r"datetime\.combine\([^)]*\.start(_time)?\b",
        "resources/engines/calendar.py",
    ),
    (
        "the plant's time zone",
        r"settings\.TIME_ZONE\b|get_(default|current)_timezone\(",
        "resources/selectors/calendar.py",
    ),
    ("a site's time zone", r"ZoneInfo\([^)]*time_zone\)", "resources/selectors/calendar.py"),
    (
        "creating a purchase requisition",
        r"(?<!class )PurchaseRequisition(\.objects\.create)?\(",
        "planning/services/purchasing.py",
    ),
    ("a CSV cell safe from formulas", r"\(\"=\", \"\+\", \"-\", \"@\"\)", "core/formatting.py"),
]


def sources():
    for app in APPS:
        for path in sorted((ROOT / app).rglob("*.py")):
            if "migrations" not in path.parts:
                yield path.relative_to(ROOT).as_posix(), path.read_text(encoding="utf-8")


@pytest.mark.parametrize(("what", "pattern", "home"), HELPERS, ids=[h[0] for h in HELPERS])
def test_each_helper_is_written_once(what, pattern, home):
    found = sorted({name for name, text in sources() if re.search(pattern, text)})
    assert found == [home], f"{what} belongs in {home} alone; also written in {found}"
