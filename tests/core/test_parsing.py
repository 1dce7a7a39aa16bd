"""Values from outside (core.parsing): execution's events and quality's inspections read
instants with instant_parse; the system's own messages and options (delay feedback, the
roll-up's `at`) with aware_instant_parse; the terminal and receipts read receiving labels
with barcode_parse."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError

from core.parsing import (
    FUTURE_TOLERANCE,
    QUANTITY_LIMIT,
    aware_instant_parse,
    barcode_parse,
    instant_parse,
)

NOW = datetime(2026, 3, 4, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai


def refusal(raw) -> str:
    with pytest.raises(ValidationError) as refused:
        instant_parse(raw, now=NOW, field="occurred_at")
    assert list(refused.value.message_dict) == ["occurred_at"]
    return " ".join(refused.value.message_dict["occurred_at"])


@pytest.mark.parametrize("raw", [None, ""])
def test_nothing_given_is_now(raw):
    assert instant_parse(raw, now=NOW, field="occurred_at") == NOW


def test_iso_text_with_an_offset_is_that_instant():
    parsed = instant_parse("2026-03-04T09:30:00+08:00", now=NOW, field="occurred_at")
    assert parsed == datetime(2026, 3, 4, 1, 30, tzinfo=UTC)


def test_naive_text_is_in_the_plant_zone():
    parsed = instant_parse("2026-03-04T09:30", now=NOW, field="occurred_at")
    assert parsed.tzinfo is not None
    assert parsed == datetime(2026, 3, 4, 9, 30, tzinfo=ZoneInfo("Asia/Shanghai"))


def test_a_datetime_is_taken_as_it_is():
    at = NOW - timedelta(hours=1)
    assert instant_parse(at, now=NOW, field="occurred_at") is at


def test_up_to_the_tolerance_ahead_is_accepted_beyond_it_refused():
    ahead = NOW + FUTURE_TOLERANCE
    assert instant_parse(ahead.isoformat(), now=NOW, field="occurred_at") == ahead
    later = NOW + FUTURE_TOLERANCE + timedelta(seconds=1)
    assert "is in the future" in refusal(later.isoformat())


@pytest.mark.parametrize(
    "raw",
    [
        "2026-13-01T10:00:00",  # month 13: the right shape, no such date
        "2026-02-30T10:00:00+08:00",
        "2026-03-04T25:61:00",
        "yesterday",
        "12",
    ],
)
def test_text_naming_no_real_instant_is_refused_naming_the_field(raw):
    assert f"{raw!r} is not an ISO 8601 date-time." in refusal(raw)


def test_the_message_names_the_callers_field():
    with pytest.raises(ValidationError) as refused:
        instant_parse("2026-13-01T10:00", now=NOW, field="inspected_at")
    assert list(refused.value.message_dict) == ["inspected_at"]


def test_an_aware_instant_is_read_with_its_offset():
    assert aware_instant_parse("2026-03-04T09:30:00+08:00") == datetime(
        2026, 3, 4, 1, 30, tzinfo=UTC
    )


@pytest.mark.parametrize(
    "raw", ["2026-03-04T09:30:00", "2026-13-01T00:00:00+08:00", "10:20", "", None, 12]
)
def test_anything_but_an_aware_instant_is_a_value_error(raw):
    """No zone is assumed (a message without its offset is a bug to report, not to guess)."""
    with pytest.raises(ValueError, match="is not an ISO 8601 instant with its offset"):
        aware_instant_parse(raw)


@pytest.mark.parametrize(
    ("label", "read"),
    [
        ("STEEL-42*L1*25", ("STEEL-42", "L1", Decimal(25))),
        (" STEEL-42 * L1 * 2.5 ", ("STEEL-42", "L1", Decimal("2.5"))),
        ("BRG-6205*12", ("BRG-6205", None, Decimal(12))),
        ("BRG-6205**12", ("BRG-6205", None, Decimal(12))),  # an empty lot is no lot
    ],
)
def test_a_receiving_label_is_item_lot_and_quantity(label, read):
    assert barcode_parse(label) == read


@pytest.mark.parametrize(
    "label",
    ["STEEL-42", "STEEL-42*L1*x", "STEEL-42*L1*NaN", "STEEL-42*L1*-5", "STEEL-42*L1*0",
     f"STEEL-42*L1*{QUANTITY_LIMIT}", "A*B*C*1", "", None],
)  # fmt: skip
def test_an_unreadable_label_is_refused_naming_the_barcode(label):
    with pytest.raises(ValidationError, match="Unreadable label") as refused:
        barcode_parse(label)
    assert list(refused.value.message_dict) == ["barcode"]
