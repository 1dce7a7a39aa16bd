"""Serial ranges typed at the terminal (execution/engines/serials.py): worked examples."""

import pytest

from execution.engines.serials import (
    BACKWARDS,
    NO_NUMBER,
    OTHER_PREFIX,
    OTHER_WIDTH,
    TOO_MANY,
    SerialRangeError,
    serial_range,
    serial_range_split,
)


def test_a_range_is_every_code_from_first_to_last_with_the_same_width():
    r = serial_range("EB-0001", "EB-0050", limit=500)
    assert len(r.codes) == 50
    assert r.codes[:3] == ("EB-0001", "EB-0002", "EB-0003") and r.codes[-1] == "EB-0050"
    assert serial_range("EB-0099", "EB-0101", limit=3).codes == ("EB-0099", "EB-0100", "EB-0101")
    assert serial_range("EB-0007", "EB-0007", limit=1).codes == ("EB-0007",)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("EB-0001…EB-0050", ("EB-0001", "EB-0050")),
        ("EB-0001...EB-0050", ("EB-0001", "EB-0050")),
        ("EB-0001..EB-0050", ("EB-0001", "EB-0050")),
        (" EB-0001 ~ EB-0050 ", ("EB-0001", "EB-0050")),
        ("EB-0001", None),
    ],
)
def test_a_range_is_typed_in_one_field(text, expected):
    assert serial_range_split(text) == expected


@pytest.mark.parametrize(
    ("first", "last", "limit", "field", "reason"),
    [
        ("EB-0001", "HS-0050", 500, "trace_code_to", OTHER_PREFIX),
        ("EB-0001", "EB-50", 500, "trace_code_to", OTHER_WIDTH),
        ("EB-0050", "EB-0001", 500, "trace_code_to", BACKWARDS),
        ("EB-0001", "EB-0050", 49, "trace_code_to", TOO_MANY),
        ("EB-A", "EB-0050", 500, "trace_code", NO_NUMBER),
    ],
)
def test_a_bad_range_names_its_field_and_why(first, last, limit, field, reason):
    with pytest.raises(SerialRangeError) as refused:
        serial_range(first, last, limit=limit)
    assert (refused.value.field, refused.value.reason) == (field, reason)
