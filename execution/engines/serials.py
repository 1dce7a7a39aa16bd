"""Serial ranges typed at the terminal: EB-0001…EB-0050 as the 50 codes it stands for.

Plain data in, plain data out (no Django): the terminal validates a range with it, then
records one production event per unit through the event service. A refusal carries the
field it is about and a `reason` with its values; the view words it in the reader's language.
"""

import re
from dataclasses import dataclass

# A code is a prefix and a running number at its end: EB-0001, SN20260001, A7-B-012.
_CODE = re.compile(r"^(?P<prefix>.*?)(?P<number>\d+)$")
# A range typed in one field: EB-0001…EB-0050, EB-0001...EB-0050, EB-0001..EB-0050,
# EB-0001~EB-0050 (spaces around the mark allowed).
_RANGE = re.compile(r"^\s*(?P<first>\S+?)\s*(?:…|\.\.\.?|~|～)\s*(?P<last>\S+)\s*$")

# Refusals (SerialRangeError.reason)
FIRST_MISSING = "first_missing"
LAST_MISSING = "last_missing"
NO_NUMBER = "no_number"
OTHER_PREFIX = "other_prefix"
OTHER_WIDTH = "other_width"
BACKWARDS = "backwards"
TOO_MANY = "too_many"

FIRST, LAST = "trace_code", "trace_code_to"  # the terminal's two fields


class SerialRangeError(ValueError):
    """Why a range stands for no codes: `field` (FIRST or LAST), `reason` and its `values`."""

    def __init__(self, field: str, reason: str, **values):
        super().__init__(f"{field}: {reason} {values}")
        self.field = field
        self.reason = reason
        self.values = values


@dataclass(frozen=True)
class SerialRange:
    first: str
    last: str
    codes: tuple[str, ...]


def serial_range_split(text: str) -> tuple[str, str] | None:
    """("EB-0001", "EB-0050") when `text` is typed as a range, None for a single code."""
    match = _RANGE.match(text or "")
    return (match["first"], match["last"]) if match else None


def serial_range(first: str, last: str, *, limit: int) -> SerialRange:
    """The codes from `first` to `last`, both included. They share the prefix and the width
    of the number (EB-0001…EB-0050, not EB-1…EB-0050), run upwards, and are at most `limit`
    (what is left to make)."""
    first, last = (first or "").strip(), (last or "").strip()
    if not first:
        raise SerialRangeError(FIRST, FIRST_MISSING)
    if not last:
        raise SerialRangeError(LAST, LAST_MISSING)
    a, b = _CODE.match(first), _CODE.match(last)
    if a is None:
        raise SerialRangeError(FIRST, NO_NUMBER, code=first)
    if b is None:
        raise SerialRangeError(LAST, NO_NUMBER, code=last)
    if a["prefix"] != b["prefix"]:
        raise SerialRangeError(LAST, OTHER_PREFIX, first=first, last=last, prefix=a["prefix"])
    if len(a["number"]) != len(b["number"]):
        raise SerialRangeError(LAST, OTHER_WIDTH, first=first, last=last, digits=len(a["number"]))
    start, end = int(a["number"]), int(b["number"])
    if start > end:
        raise SerialRangeError(LAST, BACKWARDS, first=first, last=last)
    count = end - start + 1
    if count > limit:
        raise SerialRangeError(LAST, TOO_MANY, first=first, last=last, count=count, limit=limit)
    width = len(a["number"])
    codes = tuple(f"{a['prefix']}{n:0{width}d}" for n in range(start, end + 1))
    return SerialRange(first, last, codes)
